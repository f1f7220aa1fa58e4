"""Admin adjustments: grant or claw back credits by hand, with a reason, exactly once.

The request's idempotency key comes from outside, so it is namespaced with the admin's uid
(:func:`credits.core.keys.admin_adjustment`): it can never collide with a system key nor with
another admin's key, and a double click grants once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, model_validator

from credits.core import keys, ledger
from credits.core.accounts import Caller
from credits.core.ledger import CreditType, Direction, LedgerRequest, LedgerWrite, Source

MAX_CLIENT_KEY_LENGTH = 128


class AdjustRequest(BaseModel):
    """The body of ``POST /api/admin/credits/adjust``."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    uid: Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^/\s]+$")]
    type: CreditType
    direction: Direction
    amount: Annotated[int, Field(gt=0, le=ledger.MAX_AMOUNT)]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    idempotencyKey: Annotated[
        str, StringConstraints(min_length=1, max_length=MAX_CLIENT_KEY_LENGTH, pattern=r"^[^/]+$")
    ]
    expiresAt: AwareDatetime | None = None
    """A grant's expiry (ISO 8601 with an offset), in the future; none: the credits never expire."""

    @model_validator(mode="after")
    def _expiry_fits(self, info: ValidationInfo) -> AdjustRequest:
        """A grant's expiry must be later than now: the clock's, or for a tool writing history
        the time it writes at (``model_validate(..., context={"now": at})``)."""
        if self.expiresAt is not None:
            if self.direction is not Direction.CREDIT:
                raise ValueError("expiresAt is for grants (direction credit) only")
            now = (info.context or {}).get("now") or datetime.now(UTC)
            if self.expiresAt <= now:
                raise ValueError("expiresAt must be in the future")
        return self


def adjust(caller: Caller, body: AdjustRequest) -> LedgerWrite:
    """Write the adjustment, or return the entry an earlier identical request wrote."""
    return ledger.write_ledger_entry(
        LedgerRequest(
            uid=body.uid,
            type=body.type,
            direction=body.direction,
            amount=body.amount,
            source=Source.ADMIN_ADJUSTMENT,
            idempotency_key=keys.admin_adjustment(caller.uid, body.idempotencyKey),
            created_by=f"admin:{caller.uid}",
            reason=body.reason,
            meta={"adminEmail": caller.email},
            expires_at=body.expiresAt.astimezone(UTC) if body.expiresAt else None,
        )
    )
