"""Small builders shared by the ledger tests."""

from __future__ import annotations

import itertools
from typing import Any

from credits.ledger import CreditType, Direction, LedgerRequest, Source

_keys = itertools.count()


def request(
    *,
    uid: str = "u1",
    direction: Direction = Direction.CREDIT,
    amount: int = 10,
    type: CreditType = CreditType.IMAGE,
    key: str | None = None,
    **overrides: Any,
) -> LedgerRequest:
    source = Source.ADMIN_ADJUSTMENT
    fields: dict[str, Any] = {
        "uid": uid,
        "type": type,
        "direction": direction,
        "amount": amount,
        "source": source,
        "idempotency_key": f"test:{next(_keys)}" if key is None else key,
        "created_by": "admin:tester",
        "reason": "test",
    }
    fields.update(overrides)
    return LedgerRequest(**fields)
