"""What a generation job costs.

Image jobs cost ``numImages × unit price`` image credits and video jobs cost
``durationSec × unit price`` video credits, the unit price depending on the quality
(default: standard 1, hq 2, so five HQ images cost 10). The table in code is the default;
a ``config/pricing`` document replaces it, for example::

    {"version": "2026-03", "image": {"standard": 1, "hq": 3}, "video": {"standard": 2, "hq": 4}}

Every debit records the price version and the inputs in its ``meta``, so an entry always
says how its amount was reached. Missing or unknown inputs are an error, never a zero or a
guess.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from credits.errors import InvalidArgument
from credits.firestore_client import db
from credits.ledger import CreditType, Source

CONFIG_PATH = ("config", "pricing")
MAX_IMAGES = 16
MAX_DURATION_SEC = 600


class Unit(enum.StrEnum):
    """What a job's price counts; the value is the job field that holds the count."""

    IMAGES = "numImages"
    SECONDS = "durationSec"

    def describe(self, count: object, credit_type: CreditType) -> str:
        """``5 images``, ``8s video``: how many units, in words."""
        if self is Unit.SECONDS:
            return f"{count}s {credit_type}"
        return f"{count} image{'' if count == 1 else 's'}"


@dataclass(frozen=True, kw_only=True)
class JobKind:
    """How one job source is priced: the one place that says which balance a job spends."""

    credit_type: CreditType
    """Which balance the job spends."""
    unit_field: Unit
    """What the price counts, and the job field that holds the count."""
    max_units: int
    """The most units one job may have."""


JOB_KINDS: Mapping[Source, JobKind] = {
    Source.TEXT2IMAGE: JobKind(credit_type=CreditType.IMAGE, unit_field=Unit.IMAGES, max_units=MAX_IMAGES),
    Source.IMAGE2IMAGE: JobKind(credit_type=CreditType.IMAGE, unit_field=Unit.IMAGES, max_units=MAX_IMAGES),
    Source.TEXT2VIDEO: JobKind(credit_type=CreditType.VIDEO, unit_field=Unit.SECONDS, max_units=MAX_DURATION_SEC),
    Source.IMAGE2VIDEO: JobKind(credit_type=CreditType.VIDEO, unit_field=Unit.SECONDS, max_units=MAX_DURATION_SEC),
}
"""Every job source the pipeline may write, and how it is priced. A job whose source is not
here cannot be priced, and is never charged."""


def job_source(value: object) -> Source | None:
    """A job's ``source`` field as a :class:`Source` of :data:`JOB_KINDS`; None when it is not one."""
    try:
        source = Source(str(value))
    except ValueError:
        return None
    return source if source in JOB_KINDS else None


def job_kind(value: object) -> JobKind | None:
    """The kind of a job's ``source`` field, or None when it is not a job source."""
    source = job_source(value)
    return None if source is None else JOB_KINDS[source]


@dataclass(frozen=True, kw_only=True)
class PriceTable:
    """Unit prices per credit type and quality."""

    version: str
    """Recorded on every debit as ``meta.priceVersion``."""
    units: Mapping[CreditType, Mapping[str, int]]
    """Per credit type, the credits one unit costs (an image, a second of video), by quality."""


DEFAULT_PRICES = PriceTable(
    version="default-1",
    units={
        CreditType.IMAGE: {"standard": 1, "hq": 2},
        CreditType.VIDEO: {"standard": 1, "hq": 2},
    },
)


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
    for credit_type in CreditType:
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
