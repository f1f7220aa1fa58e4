"""Price quotes: what a job would cost the caller, and which credits would pay, before it starts.

A host app shows "This costs 10 credits" beside its Generate button. The quote is the bill
the job would get, worked out without writing anything:

* **The price** is :func:`credits.flows.pricing.price_job` under
  :func:`~credits.flows.pricing.current_table` (the ``config/pricing`` document when there is
  one), applied to a job document made of the request's parameters, named as
  ``generation_jobs`` names them. It is what :func:`credits.flows.jobs.bill_job` charges for
  that job: the same function, the same table, the same ``meta`` (the quote's breakdown).
* **Who pays** is :func:`credits.core.blocks.take` on the caller's open blocks at the time of
  the quote: the pure function the ledger core applies to a debit, so ``paidBy`` lists the
  blocks in the spending order with what each would give. As in the ledger core, a debit may
  take only the spendable credits (the unexpired blocks), never more than the balance.

The quote reads two documents (the price table and the caller's balance) and writes none. It
holds for the moment it is made: a job billed later pays with the blocks and prices of then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

from credits.core import blocks, ledger
from credits.core.blocks import Part
from credits.core.errors import InvalidArgument
from credits.core.ledger import CreditType, Source
from credits.flows import pricing

COUNT_FIELDS = ("numImages", "durationSec")
"""The job fields a price may count, as ``generation_jobs`` names them; a source counts one of them."""

MAX_LABEL = 128
"""Longest ``model`` or ``resolution`` a quote echoes."""

Label = Annotated[str, StringConstraints(min_length=1, max_length=MAX_LABEL)]


class QuoteRequest(BaseModel):
    """The query string of ``GET /api/credits/quote``: a job's parameters, by their job field names.

    Only the shape is checked here; whether the source, the count and the quality make a
    price is :func:`~credits.flows.pricing.price_job`'s to say, as for a real job."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    """The job's kind: ``text2image``, ``image2image``, ``text2video`` or ``image2video``."""
    numImages: int | None = None
    """How many images, for a source that counts images."""
    durationSec: int | None = None
    """How many seconds of video, for a source that counts seconds."""
    quality: str
    """``standard`` or ``hq`` (the qualities of the price table)."""
    model: Label | None = None
    """Echoed in the breakdown, as a debit's ``meta`` records it; it does not change the price."""
    resolution: Label | None = None
    """Echoed in the breakdown, as a debit's ``meta`` records it; it does not change the price."""

    def job(self) -> dict[str, Any]:
        """The ``generation_jobs`` document these parameters describe, as far as pricing reads it."""
        counts = {name: getattr(self, name) for name in COUNT_FIELDS if getattr(self, name) is not None}
        return {
            "source": self.source,
            "quality": self.quality,
            "model": self.model,
            "resolution": self.resolution,
            **counts,
        }


@dataclass(frozen=True, kw_only=True)
class Quote:
    """What a job would cost the caller now, and how it would be paid."""

    source: Source
    """The job's source."""
    credit_type: CreditType
    """The balance the job would spend."""
    amount: int
    """The price, in credits of :attr:`credit_type`."""
    price_version: str
    """The version of the price table that made the price (``meta.priceVersion`` of the debit)."""
    breakdown: Mapping[str, Any]
    """How the price was reached: the ``meta`` the job's debit would record."""
    balance: int
    """What a debit of the type could take now: the caller's spendable (unexpired) credits."""
    paid_by: tuple[Part, ...]
    """The blocks that would pay, in the spending order; empty when the balance does not cover it."""

    @property
    def affordable(self) -> bool:
        return self.amount <= self.balance

    @property
    def shortfall(self) -> int:
        """How many more credits the job needs; 0 when it is affordable."""
        return max(0, self.amount - self.balance)

    def to_api(self) -> dict[str, Any]:
        """The quote as ``GET /api/credits/quote`` answers it; parts as an entry's ``paidBy`` shows them."""
        return {
            "source": str(self.source),
            "amount": self.amount,
            "type": str(self.credit_type),
            "priceVersion": self.price_version,
            "breakdown": dict(self.breakdown),
            "balance": self.balance,
            "affordable": self.affordable,
            "shortfall": self.shortfall,
            "paidBy": [_part_api(part) for part in self.paid_by],
        }


def quote(uid: str, request: QuoteRequest, *, now: datetime | None = None) -> Quote:
    """What the job ``request`` describes would cost ``uid`` at ``now``, and which blocks would pay it.

    Raises :class:`InvalidArgument` naming the field (``details.field``) that makes no price:
    an unknown source or quality, a missing or out-of-range count, or the count of the other
    kind (``numImages`` for a video source, ``durationSec`` for an image source).
    """
    price = pricing.price_job(request.job(), pricing.current_table())
    for name in COUNT_FIELDS:
        if getattr(request, name) is not None and name not in price.meta:
            counted = next(field for field in COUNT_FIELDS if field in price.meta)
            raise InvalidArgument(f"{price.source} counts {counted}, not {name}", field=name)
    balances = ledger.read_balances(uid)
    now = now or datetime.now(UTC)
    credit_type = str(price.credit_type)
    # As the ledger core decides a debit: the unexpired blocks, and never more than the balance.
    spendable = balances.spendable(price.credit_type, now)
    taken = blocks.take(balances.blocks, credit_type, price.amount, now) if price.amount <= spendable else None
    return Quote(
        source=price.source,
        credit_type=price.credit_type,
        amount=price.amount,
        price_version=str(price.meta["priceVersion"]),
        breakdown=price.meta,
        balance=spendable,
        paid_by=tuple(taken[0]) if taken else (),
    )


def _part_api(part: Part) -> dict[str, Any]:
    return {
        "block": part.block,
        "amount": part.amount,
        "expiresAt": part.expires_at.isoformat() if part.expires_at else None,
        "grantedAt": part.block_created_at.isoformat(),
    }
