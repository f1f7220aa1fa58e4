"""Credit blocks: what remains of each grant, when it expires, and which grants pay a debit.

Every credit entry opens a block of its type: its ``amount``, the ``remaining`` part of it
and an optional ``expires_at``. The blocks of a user's type always sum to the balance of
that type. This module is the arithmetic on blocks, pure and without Firestore, for the
ledger core to apply in the same commit as the entry and the balance:

* **Spending order** (:func:`take`): a debit takes from the block that expires soonest, then
  from the oldest; blocks without expiry come last. An expired block is not spent: its
  remainder belongs to its expiration. The debit records what it took from each block
  (its "paid by", :class:`Take`), so that a refund can give it back.
* **Refund rule** (:func:`give_back`): a refund returns each part to the block it came
  from, reopening a block that the debit had emptied. Parts whose block has expired since
  go to one new block, opened by the refund, that expires when the oldest of those blocks
  did: a refund never turns expiring credits into lasting ones, and the next expiry run
  expires that block as its own.
* **Expiry** (:func:`expired`): every block past its ``expires_at`` with a remainder owes
  one ``expiration`` debit of exactly that remainder; what a debit already took is gone
  from the remainder, so an expiry never takes it twice and never drives a balance below
  zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from credits.ledger import CreditType


@dataclass(frozen=True, kw_only=True)
class Block:
    id: str
    """The id of the credit entry that opened the block."""
    type: CreditType
    amount: int
    remaining: int
    expires_at: datetime | None
    created_at: datetime

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


@dataclass(frozen=True, kw_only=True)
class Take:
    """One part of a debit: what it took from one block ("paid by")."""

    block_id: str
    amount: int
    expires_at: datetime | None
    """The block's expiry, amount and time, kept so that a refund can reopen the block as it was."""
    block_amount: int
    created_at: datetime


def spending_order(blocks: Iterable[Block]) -> list[Block]:
    """Soonest expiry first, then oldest; blocks without expiry last (the id breaks ties)."""
    return sorted(
        blocks,
        key=lambda b: (b.expires_at is None, b.expires_at or b.created_at, b.created_at, b.id),
    )


def spendable(blocks: Iterable[Block], credit_type: CreditType, now: datetime) -> int:
    """What a debit of the type may take now: the remainders of its unexpired blocks."""
    return sum(b.remaining for b in blocks if b.type == credit_type and not b.is_expired(now))


def take(
    blocks: Sequence[Block], credit_type: CreditType, amount: int, now: datetime
) -> tuple[list[Take], list[Block]] | None:
    """The parts a debit of ``amount`` takes, and the blocks after it; None when they cannot cover it."""
    if amount <= 0:
        raise ValueError("a debit takes a positive amount")
    if spendable(blocks, credit_type, now) < amount:
        return None
    left = amount
    taken: dict[str, int] = {}
    parts: list[Take] = []
    for block in spending_order(b for b in blocks if b.type == credit_type and not b.is_expired(now)):
        if left == 0:
            break
        part = min(block.remaining, left)
        if part == 0:
            continue
        left -= part
        taken[block.id] = part
        parts.append(
            Take(
                block_id=block.id,
                amount=part,
                expires_at=block.expires_at,
                block_amount=block.amount,
                created_at=block.created_at,
            )
        )
    after = [replace(b, remaining=b.remaining - taken.get(b.id, 0)) for b in blocks]
    return parts, [b for b in after if b.remaining > 0]


def give_back(
    blocks: Sequence[Block],
    parts: Sequence[Take],
    *,
    credit_type: CreditType,
    refund_id: str,
    now: datetime,
) -> list[Block]:
    """The blocks after a refund of the debit that took ``parts`` (the refund rule above)."""
    by_id = {b.id: b for b in blocks}
    late: list[Take] = []
    for part in parts:
        if part.expires_at is not None and part.expires_at <= now:
            late.append(part)
            continue
        block = by_id.get(part.block_id)
        if block is None:
            block = Block(
                id=part.block_id,
                type=credit_type,
                amount=part.block_amount,
                remaining=0,
                expires_at=part.expires_at,
                created_at=part.created_at,
            )
        by_id[part.block_id] = replace(block, remaining=block.remaining + part.amount)
    if late:
        oldest = min(p.expires_at for p in late if p.expires_at is not None)
        amount = sum(p.amount for p in late)
        by_id[refund_id] = Block(
            id=refund_id, type=credit_type, amount=amount, remaining=amount, expires_at=oldest, created_at=now
        )
    return list(by_id.values())


def expired(blocks: Iterable[Block], now: datetime) -> list[Block]:
    """The blocks whose expiration is due: past ``expires_at`` with a remainder, oldest expiry first."""
    return spending_order(b for b in blocks if b.is_expired(now) and b.remaining > 0)
