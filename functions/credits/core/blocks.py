"""Credit blocks: what remains of each grant, when it expires, and which grants paid a debit.

Every credit entry opens a block of its type: its ``amount``, the ``remaining`` part of it
and an optional ``expires_at``. A user's open blocks (those with a remainder) live in the
balance document beside the amounts (:func:`encode`), and the remainders of a type always sum to the
balance of that type. This module is the arithmetic on blocks, pure and without Firestore;
the ledger core (:mod:`credits.core.ledger`) applies it in the same commit as the entry and the
balance:

* **Spending order** (:func:`take`): a debit takes from the block that expires soonest, then
  from the oldest; blocks without expiry come last. An expired block is not spent: its
  remainder belongs to its expiration. The debit records what it took from each block, its
  "paid by" (:class:`Part`), so that a refund can give it back.
* **Refund rule** (:func:`give_back`): a job's refund returns each part to the block it came
  from, reopening a block that the debit had emptied. Parts whose block has expired since
  go to one new block, opened by the refund, that expires when the oldest of those blocks
  did: a refund never turns expiring credits into lasting ones, and the next expiry run
  expires that block as its own.
* **Expiry** (:func:`due` and :func:`expire`): every block past its ``expires_at`` with a
  remainder owes one ``expiration`` debit of exactly that remainder. What a debit took
  earlier is gone from the remainder, so an expiry never takes it twice and never drives a
  balance below zero.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

Blocks = Mapping[str, "Block"]
"""A user's open blocks by id (the id of the entry that opened the block)."""


@dataclass(frozen=True, kw_only=True)
class Block:
    id: str
    """The id of the credit entry that opened the block (``opening-<type>`` for a migrated balance)."""
    type: str
    """The credit type, as stored."""
    amount: int
    """What the block held when it was opened (a reopened block keeps it)."""
    remaining: int
    """What is left of it: never below zero, never above ``amount``."""
    expires_at: datetime | None
    """When the remainder expires; None for credits that never do."""
    created_at: datetime
    """When the block was opened: the oldest of blocks that expire together is spent first."""

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def document(self) -> dict[str, Any]:
        """The block as :func:`encode` stores it (times as ISO 8601 text)."""
        return {
            "type": self.type,
            "amount": self.amount,
            "remaining": self.remaining,
            "expiresAt": self.expires_at.isoformat() if self.expires_at else None,
            "createdAt": self.created_at.isoformat(),
        }

    @classmethod
    def from_document(cls, block_id: str, d: Mapping[str, Any]) -> Block:
        return cls(
            id=block_id,
            type=d["type"],
            amount=int(d["amount"]),
            remaining=int(d["remaining"]),
            expires_at=datetime.fromisoformat(d["expiresAt"]) if d.get("expiresAt") else None,
            created_at=datetime.fromisoformat(d["createdAt"]),
        )


def encode(blocks: Blocks) -> str:
    """The open blocks as the balance document stores them: one JSON text, ``{id: block}``.

    One text rather than a Firestore map: a write that must read the balance decodes a map's
    every value (two timestamps a block) in the client, which made a write on a user with 50
    open blocks cost 1.8 times one with a single block; the text costs about 1.2 times
    (docs/ledger.md, "Speed"). The text is never queried and is exempt from indexing.
    """
    return json.dumps({block_id: block.document() for block_id, block in blocks.items()}, separators=(",", ":"))


def decode(text: str) -> dict[str, Block]:
    """The open blocks from their stored text (:func:`encode`)."""
    return {block_id: Block.from_document(block_id, d) for block_id, d in json.loads(text).items()}


@dataclass(frozen=True, kw_only=True)
class Part:
    """What one debit took from one block (its "paid by"), or what a refund gave back to one.

    It keeps the block's expiry, amount and opening time, so that a refund can reopen the
    block as it was."""

    block: str
    amount: int
    expires_at: datetime | None
    block_amount: int
    block_created_at: datetime

    def document(self) -> dict[str, Any]:
        """The part as an entry stores it in ``paidBy`` or ``returnedTo``."""
        return {
            "block": self.block,
            "amount": self.amount,
            "expiresAt": self.expires_at,
            "blockAmount": self.block_amount,
            "blockCreatedAt": self.block_created_at,
        }

    @classmethod
    def from_document(cls, d: Mapping[str, Any]) -> Part:
        return cls(
            block=d["block"],
            amount=int(d["amount"]),
            expires_at=d.get("expiresAt"),
            block_amount=int(d["blockAmount"]),
            block_created_at=d["blockCreatedAt"],
        )

    @classmethod
    def of(cls, block: Block, amount: int) -> Part:
        return cls(
            block=block.id,
            amount=amount,
            expires_at=block.expires_at,
            block_amount=block.amount,
            block_created_at=block.created_at,
        )


def spending_order(blocks: Iterable[Block]) -> list[Block]:
    """Soonest expiry first, then oldest; blocks without expiry last (the id breaks ties)."""
    return sorted(blocks, key=lambda b: (b.expires_at is None, b.expires_at or b.created_at, b.created_at, b.id))


def spendable(blocks: Blocks, credit_type: str, now: datetime) -> int:
    """What a debit of the type may take now: the remainders of its unexpired blocks."""
    return sum(b.remaining for b in blocks.values() if b.type == credit_type and not b.is_expired(now))


def take(
    blocks: Blocks, credit_type: str, amount: int, now: datetime, *, first: str | None = None
) -> tuple[list[Part], dict[str, Block]] | None:
    """The parts a debit of ``amount`` takes and the open blocks after it; None when they cannot cover it.

    ``first`` names a block to take from before the spending order (a clawback takes back the
    purchase it reverses first), if it is open and unexpired.
    """
    if amount <= 0:
        raise ValueError("a debit takes a positive amount")
    if spendable(blocks, credit_type, now) < amount:
        return None
    after = dict(blocks)
    parts: list[Part] = []
    left = amount
    order = spending_order(b for b in blocks.values() if b.type == credit_type and not b.is_expired(now))
    order.sort(key=lambda b: b.id != first)  # stable: the named block first, the rest in order
    for block in order:
        if left == 0:
            break
        part = min(block.remaining, left)
        left -= part
        parts.append(Part.of(block, part))
        _set(after, replace(block, remaining=block.remaining - part))
    return parts, after


def give_back(
    blocks: Blocks, parts: Iterable[Part], *, credit_type: str, refund_id: str, now: datetime
) -> tuple[list[Part], dict[str, Block]]:
    """What a refund of the debit that took ``parts`` returns where, and the open blocks after it.

    A part goes back to its block unless the block has expired by ``now``; those parts go to
    one new block ``refund_id`` that expires when the oldest of their blocks did.
    """
    after = dict(blocks)
    returned: list[Part] = []
    late: list[Part] = []
    for part in parts:
        if part.expires_at is not None and part.expires_at <= now:
            late.append(part)
            continue
        block = after.get(part.block) or Block(
            id=part.block,
            type=credit_type,
            amount=part.block_amount,
            remaining=0,
            expires_at=part.expires_at,
            created_at=part.block_created_at,
        )
        _set(after, replace(block, remaining=block.remaining + part.amount))
        returned.append(part)
    if late:
        amount = sum(p.amount for p in late)
        expires_at = min(p.expires_at for p in late if p.expires_at)
        opened = Block(
            id=refund_id, type=credit_type, amount=amount, remaining=amount, expires_at=expires_at, created_at=now
        )
        _set(after, opened)
        returned.append(Part.of(opened, amount))
    return returned, after


def due(blocks: Blocks, now: datetime) -> list[Block]:
    """The blocks whose expiration is due: past ``expires_at`` with a remainder, soonest expiry first."""
    return spending_order(b for b in blocks.values() if b.is_expired(now) and b.remaining > 0)


def expire(blocks: Blocks, block_id: str) -> tuple[Part, dict[str, Block]]:
    """The part an expiration takes, the block's whole remainder, and the open blocks after it."""
    block = blocks[block_id]
    after = dict(blocks)
    _set(after, replace(block, remaining=0))
    return Part.of(block, block.remaining), after


def next_expiry(blocks: Blocks) -> datetime | None:
    """The soonest ``expires_at`` among the open blocks, or None when none of them expires."""
    return min((b.expires_at for b in blocks.values() if b.expires_at is not None), default=None)


def expiring_next(blocks: Blocks, credit_type: str, now: datetime) -> tuple[int, datetime] | None:
    """The credits of a type that expire next, and when: the remainders of the unexpired blocks
    with the soonest ``expires_at`` ("120 expire on 1 Dec"); None when none of them expires."""
    soonest = next_expiry({k: b for k, b in blocks.items() if b.type == credit_type and not b.is_expired(now)})
    if soonest is None:
        return None
    return sum(b.remaining for b in blocks.values() if b.type == credit_type and b.expires_at == soonest), soonest


def _set(blocks: dict[str, Block], block: Block) -> None:
    """Keep a block with a remainder; a block emptied to zero is closed and dropped."""
    if block.remaining > 0:
        blocks[block.id] = block
    else:
        blocks.pop(block.id, None)
