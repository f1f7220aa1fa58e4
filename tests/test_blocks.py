"""Credit blocks, pure: the spending order, the refund rule and which expirations are due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from credits.core import blocks
from credits.core.blocks import Block

T0 = datetime(2026, 3, 1, tzinfo=UTC)
IMAGE = "image"


def block(id: str, remaining: int, *, expires: int | None = None, created: int = 0, type: str = IMAGE) -> Block:
    return Block(
        id=id,
        type=type,
        amount=remaining,
        remaining=remaining,
        expires_at=None if expires is None else T0 + timedelta(days=expires),
        created_at=T0 + timedelta(days=created),
    )


def held(*blocks_: Block) -> dict[str, Block]:
    return {b.id: b for b in blocks_}


def remaining(open_blocks: dict[str, Block]) -> dict[str, int]:
    return {b.id: b.remaining for b in open_blocks.values()}


def test_a_debit_takes_the_soonest_expiry_first_then_the_oldest_and_lasting_blocks_last():
    start = held(
        block("pack-old", 30, created=0),
        block("pack-new", 30, created=5),
        block("plan", 20, expires=30, created=10),
        block("grant", 10, expires=20, created=12),
        block("video", 50, expires=16, type="video"),
    )
    parts, after = blocks.take(start, IMAGE, 45, T0 + timedelta(days=15)) or ([], {})
    assert [(p.block, p.amount) for p in parts] == [("grant", 10), ("plan", 20), ("pack-old", 15)]
    assert remaining(after) == {"pack-old": 15, "pack-new": 30, "video": 50}


def test_an_expired_block_pays_nothing_and_cannot_cover_a_debit():
    start = held(block("plan", 20, expires=10), block("pack", 5))
    at = T0 + timedelta(days=10)
    assert blocks.spendable(start, IMAGE, at) == 5
    assert blocks.take(start, IMAGE, 6, at) is None
    parts, after = blocks.take(start, IMAGE, 5, at) or ([], {})
    assert [(p.block, p.amount) for p in parts] == [("pack", 5)]
    assert remaining(after) == {"plan": 20}
    assert [b.id for b in blocks.due(after, at)] == ["plan"]
    part, left = blocks.expire(after, "plan")
    assert (part.block, part.amount, left) == ("plan", 20, {})


def test_a_refund_reopens_the_blocks_it_took_from_as_they_were():
    start = held(block("plan", 20, expires=30), block("pack", 10))
    parts, after = blocks.take(start, IMAGE, 25, T0) or ([], {})
    assert remaining(after) == {"pack": 5}
    returned, back = blocks.give_back(after, parts, credit_type=IMAGE, refund_id="r1", now=T0 + timedelta(days=1))
    assert [(p.block, p.amount) for p in returned] == [("plan", 20), ("pack", 5)]
    assert back == start


def test_a_refund_after_the_expiry_goes_to_a_new_block_expiring_as_the_oldest_did():
    start = held(block("early", 5, expires=3), block("late", 5, expires=4), block("pack", 5))
    parts, after = blocks.take(start, IMAGE, 12, T0) or ([], {})
    later = T0 + timedelta(days=10)
    returned, back = blocks.give_back(after, parts, credit_type=IMAGE, refund_id="r1", now=later)
    assert remaining(back) == {"pack": 5, "r1": 10}
    assert [(p.block, p.amount) for p in returned] == [("pack", 2), ("r1", 10)]
    assert back["r1"].expires_at == T0 + timedelta(days=3) and back["r1"].amount == 10
    assert [b.id for b in blocks.due(back, later)] == ["r1"]


def test_the_credits_that_expire_next_are_the_unexpired_blocks_with_the_soonest_expiry():
    start = held(
        block("gone", 7, expires=1),
        block("a", 20, expires=5),
        block("b", 100, expires=5, created=1),
        block("c", 9, expires=9),
    )
    assert blocks.expiring_next(start, IMAGE, T0 + timedelta(days=2)) == (120, T0 + timedelta(days=5))
    assert blocks.expiring_next(start, "video", T0) is None
    assert blocks.next_expiry(start) == T0 + timedelta(days=1)
