"""Credit blocks: the spending order, the refund rule and expiry, against a model of plain counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from credits import blocks
from credits.blocks import Block
from credits.ledger import CreditType

T0 = datetime(2026, 3, 1, tzinfo=UTC)
IMAGE = CreditType.IMAGE


def block(id: str, remaining: int, *, expires: int | None = None, created: int = 0, amount: int | None = None) -> Block:
    return Block(
        id=id,
        type=IMAGE,
        amount=remaining if amount is None else amount,
        remaining=remaining,
        expires_at=None if expires is None else T0 + timedelta(days=expires),
        created_at=T0 + timedelta(days=created),
    )


def remaining(after: list[Block]) -> dict[str, int]:
    return {b.id: b.remaining for b in after}


def test_a_debit_takes_the_soonest_expiry_first_then_the_oldest_and_lasting_blocks_last():
    held = [
        block("pack-old", 30, created=0),
        block("pack-new", 30, created=5),
        block("plan", 20, expires=30, created=10),
        block("grant", 10, expires=20, created=12),
    ]
    result = blocks.take(held, IMAGE, 45, T0 + timedelta(days=15))
    assert result is not None
    parts, after = result
    assert [(p.block_id, p.amount) for p in parts] == [("grant", 10), ("plan", 20), ("pack-old", 15)]
    assert remaining(after) == {"pack-old": 15, "pack-new": 30}


def test_an_expired_block_pays_nothing_and_cannot_cover_a_debit():
    held = [block("plan", 20, expires=10), block("pack", 5)]
    at = T0 + timedelta(days=10)
    assert blocks.spendable(held, IMAGE, at) == 5
    assert blocks.take(held, IMAGE, 6, at) is None
    parts, after = blocks.take(held, IMAGE, 5, at) or ([], [])
    assert [(p.block_id, p.amount) for p in parts] == [("pack", 5)]
    assert remaining(after) == {"plan": 20}
    assert [b.id for b in blocks.expired(after, at)] == ["plan"]


def test_a_refund_reopens_the_blocks_it_took_from():
    held = [block("plan", 20, expires=30), block("pack", 10)]
    parts, after = blocks.take(held, IMAGE, 25, T0) or ([], [])
    assert remaining(after) == {"pack": 5}
    back = blocks.give_back(after, parts, credit_type=IMAGE, refund_id="r1", now=T0 + timedelta(days=1))
    assert sorted((b.id, b.amount, b.remaining, b.expires_at) for b in back) == sorted(
        (b.id, b.amount, b.remaining, b.expires_at) for b in held
    )


def test_a_refund_after_the_expiry_goes_to_a_new_block_expiring_as_the_oldest_did():
    held = [block("early", 5, expires=3), block("late", 5, expires=4), block("pack", 5)]
    parts, after = blocks.take(held, IMAGE, 12, T0) or ([], [])
    later = T0 + timedelta(days=10)
    back = blocks.give_back(after, parts, credit_type=IMAGE, refund_id="r1", now=later)
    assert remaining(back) == {"pack": 5, "r1": 10}
    (new,) = (b for b in back if b.id == "r1")
    assert new.expires_at == T0 + timedelta(days=3) and new.amount == 10
    assert [b.id for b in blocks.expired(back, later)] == ["r1"]


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("grant"), st.integers(1, 50), st.one_of(st.none(), st.integers(1, 20))),
        st.tuples(st.just("debit"), st.integers(1, 60), st.none()),
        st.tuples(st.just("refund"), st.integers(0, 10), st.none()),
        st.tuples(st.just("advance"), st.integers(1, 10), st.none()),
        st.tuples(st.just("expire"), st.just(0), st.none()),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(OPS)
def test_blocks_always_sum_to_the_balance_and_never_go_negative(ops):
    """Model: a balance of plain counts. Blocks, parts and expirations must agree with it."""
    now, balance, held = T0, 0, []
    debits: list[list[blocks.Take]] = []
    for n, (op, value, extra) in enumerate(ops):
        if op == "grant":
            expires = None if extra is None else now + timedelta(days=extra)
            grant = Block(id=f"g{n}", type=IMAGE, amount=value, remaining=value, expires_at=expires, created_at=now)
            held.append(grant)
            balance += value
        elif op == "debit":
            result = blocks.take(held, IMAGE, value, now)
            if result is None:
                assert blocks.spendable(held, IMAGE, now) < value
                continue
            parts, held = result
            assert sum(p.amount for p in parts) == value
            balance -= value
            debits.append(parts)
        elif op == "refund" and debits:
            parts = debits.pop(value % len(debits))
            held = blocks.give_back(held, parts, credit_type=IMAGE, refund_id=f"r{n}", now=now)
            balance += sum(p.amount for p in parts)
        elif op == "advance":
            now += timedelta(days=value)
        elif op == "expire":
            due = blocks.expired(held, now)
            balance -= sum(b.remaining for b in due)
            held = [b for b in held if b not in due]
        assert sum(b.remaining for b in held) == balance
        assert all(0 < b.remaining <= b.amount for b in held)
        assert balance >= 0
