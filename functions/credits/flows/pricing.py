"""What a generation job costs.

Image jobs cost ``numImages × unit price`` image credits and video jobs cost
``durationSec × unit price`` video credits, the unit price depending on the quality
(shipped: standard 1, hq 2, so five HQ images cost 10). The ``prices`` of the configuration
file (:mod:`credits.core.settings`) are the default; a ``config/pricing`` document in
Firestore replaces them at run time, without a deploy, for example::

    {"version": "2026-03", "image": {"standard": 1, "hq": 3}, "video": {"standard": 2, "hq": 4}}

Every debit records the price version and the inputs in its ``meta``, so an entry always
says how its amount was reached. Missing or unknown inputs are an error, never a zero or a
guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from credits.core.errors import InvalidArgument
from credits.core.firestore_client import db
from credits.core.generation_jobs import JOB_KINDS, job_source
from credits.core.ledger import CreditType, Source
from credits.core.settings import SETTINGS

CONFIG_PATH = ("config", "pricing")


@dataclass(frozen=True, kw_only=True)
class PriceTable:
    """Unit prices per credit type and quality."""

    version: str
    """Recorded on every debit as ``meta.priceVersion``."""
    units: Mapping[CreditType, Mapping[str, int]]
    """Per credit type, the credits one unit costs (an image, a second of video), by quality."""


DEFAULT_PRICES = PriceTable(
    version=SETTINGS.prices.version,
    units={CreditType(credit_type): dict(units) for credit_type, units in SETTINGS.prices.units.items()},
)
"""The configuration file's prices."""


@dataclass(frozen=True, kw_only=True)
class Price:
    """What one job costs, and the inputs that decided it."""

    source: Source
    credit_type: CreditType
    amount: int
    meta: Mapping[str, Any]


def table_from_config(data: Mapping[str, Any]) -> PriceTable:
    """Parse a ``config/pricing`` document; a malformed one is an error, not a silent default."""
    version = data.get("version")
    if not isinstance(version, str) or not version:
        raise InvalidArgument("config/pricing needs a version", field="version")
    units: dict[CreditType, dict[str, int]] = {}
    for credit_type in sorted({kind.credit_type for kind in JOB_KINDS.values()}):
        prices = data.get(str(credit_type))
        if not isinstance(prices, Mapping) or not prices:
            raise InvalidArgument(f"config/pricing needs {credit_type} prices", field=str(credit_type))
        for quality, unit in prices.items():
            if isinstance(unit, bool) or not isinstance(unit, int) or unit <= 0:
                raise InvalidArgument(
                    f"config/pricing {credit_type}.{quality} must be a positive integer",
                    field=f"{credit_type}.{quality}",
                )
        units[credit_type] = dict(prices)
    return PriceTable(version=version, units=units)


def current_table() -> PriceTable:
    snap = db().collection(CONFIG_PATH[0]).document(CONFIG_PATH[1]).get()
    return table_from_config(snap.to_dict() or {}) if snap.exists else DEFAULT_PRICES


def price_job(job: Mapping[str, Any], table: PriceTable) -> Price:
    """The price of a ``generation_jobs`` document under ``table``."""
    source = job_source(job.get("source"))
    if source is None:
        raise InvalidArgument(
            f"unknown job source {job.get('source')!r}", field="source", allowed=[str(s) for s in JOB_KINDS]
        )
    kind = JOB_KINDS[source]
    units = job.get(kind.unit_field)
    if isinstance(units, bool) or not isinstance(units, int) or not 0 < units <= kind.max_units:
        raise InvalidArgument(
            f"{kind.unit_field} must be an integer from 1 to {kind.max_units}", field=str(kind.unit_field)
        )
    quality = job.get("quality")
    unit_prices = table.units[kind.credit_type]
    if not isinstance(quality, str) or quality not in unit_prices:
        raise InvalidArgument(f"unknown quality {quality!r}", field="quality", allowed=sorted(unit_prices))
    unit_price = unit_prices[quality]
    meta = {
        "priceVersion": table.version,
        "unitPrice": unit_price,
        "quality": quality,
        str(kind.unit_field): units,
        "model": job.get("model"),
        "resolution": job.get("resolution"),
    }
    return Price(source=source, credit_type=kind.credit_type, amount=units * unit_price, meta=meta)
