"""Random sequences of ledger operations against a simple model of what they should do."""

from __future__ import annotations

import pytest
from conftest import reset_database
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_helpers import request

from credits.core import ledger
from credits.core.errors import IdempotencyConflict, InsufficientCredits
from credits.core.ledger import CreditType, Direction
from credits.operations import verify

operation = st.tuples(
    st.sampled_from(["alice", "bob"]),
    st.sampled_from(list(CreditType)),
    st.sampled_from(list(Direction)),
    st.integers(min_value=1, max_value=30),
    st.integers(min_value=0, max_value=12),  # the key: small range, so keys repeat
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=1, max_size=25))
def test_ledger_matches_model(firestore, operations):
    reset_database(firestore)
    balances: dict[tuple[str, CreditType], int] = {}
    used: dict[str, tuple] = {}  # key -> parameters of the entry it made
    entries = 0
    for uid, credit_type, direction, amount, key_no in operations:
        key = f"k{key_no}"
        params = (uid, credit_type, direction, amount)
        current = balances.get((uid, credit_type), 0)
        delta = amount if direction is Direction.CREDIT else -amount
        req = request(uid=uid, type=credit_type, direction=direction, amount=amount, key=key)
        if key in used:
            if used[key] == params:
                assert ledger.write_ledger_entry(req).replayed
            else:
                with pytest.raises(IdempotencyConflict):
                    ledger.write_ledger_entry(req)
            continue
        if current + delta < 0:
            with pytest.raises(InsufficientCredits):
                ledger.write_ledger_entry(req)
            continue
        write = ledger.write_ledger_entry(req)
        used[key] = params
        entries += 1
        balances[(uid, credit_type)] = current + delta
        assert write.entry.balance_after == current + delta

    report = verify.verify_users(["alice", "bob"])
    assert report.ok, report.mismatches
    assert report.entries == entries
    for uid in ("alice", "bob"):
        stored = ledger.read_balances(uid)
        assert stored.of(CreditType.IMAGE) == balances.get((uid, CreditType.IMAGE), 0)
        assert stored.of(CreditType.VIDEO) == balances.get((uid, CreditType.VIDEO), 0)
