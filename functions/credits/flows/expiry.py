"""Credit expiry: one ``expiration`` debit for every expired block that still holds credits.

A block past its ``expiresAt`` is no longer spent (:mod:`credits.core.blocks`), but its
remainder still counts in the balance until this schedule writes its ``expiration`` entry:
a debit of exactly the remainder, key ``debit:expiration:<blockId>``, that takes the block
and nothing else. So the entry is written exactly once, also when two runs overlap or a run
comes late (the second finds the key used: a replay), and an expiry never takes credits a
debit already spent, nor drives a balance below zero. The entry takes the block's whole
remainder when it commits, so a refund that gave credits back to the block just before it
expired is expired with it.

**Which users.** Each balance document keeps ``nextExpiry``, the soonest ``expiresAt`` of its
open blocks, updated in the same commit as the blocks. A run asks every ``balances``
subcollection for ``nextExpiry <= now`` (a collection-group single-field index, declared in
``firestore.indexes.json``), so it reads the users with something to expire, not every user.

**Every expiration is visible**: the entry itself (shown to the user as "Credits expired"),
an INFO log line ``credits_expired`` per entry, and the run's summary line
``credit_expiry_finished`` with its counts. A failure of one user's expiration is logged
(``credit_expiry_failed``) and left to the next run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from credits.core import blocks, keys, ledger, logs
from credits.core.blocks import Block
from credits.core.errors import CreditsError
from credits.core.ledger import CreditType, Direction, LedgerRequest, LedgerWrite, Source


@dataclass(kw_only=True)
class ExpiryReport:
    users: int = 0
    """Users whose balance document had a due expiry."""
    expired: int = 0
    """Expiration entries written by this run."""
    credits: int = 0
    """Credits those entries took."""
    skipped: int = 0
    """Blocks whose expiration another run had written already (a replay of its key)."""
    failed: int = 0
    """Blocks whose expiration failed; the next run tries again."""


def expire_credits(
    now: datetime | None = None, *, around: Callable[[int], AbstractContextManager[Any]] = lambda n: nullcontext()
) -> ExpiryReport:
    """Write the expiration of every block that expired by ``now`` and still holds credits.

    ``around(n)`` wraps the write of a user's ``n``-th expiration: a tool writing history
    gives each write its own time (one later than the last), since a user's entries may not share one.
    """
    now = now or datetime.now(UTC)
    started = time.monotonic()
    report = ExpiryReport()
    for uid, balances in ledger.balances_expiring_by(now):
        report.users += 1
        for n, block in enumerate(blocks.due(balances.blocks, now)):
            try:
                with around(n):
                    write = expire_block(uid, block)
            except CreditsError as exc:  # a concurrent run's expiration comes back as a replay, not as this
                report.failed += 1
                logs.error(
                    "credit expiry failed", event="credit_expiry_failed", uid=uid, block=block.id, error=repr(exc)
                )
                continue
            if write.replayed:
                report.skipped += 1
            else:
                report.expired += 1
                report.credits += write.entry.amount
    logs.info(
        "credit expiry finished",
        event="credit_expiry_finished",
        users=report.users,
        expired=report.expired,
        credits=report.credits,
        skipped=report.skipped,
        failed=report.failed,
        durationMs=round((time.monotonic() - started) * 1000),
    )
    return report


def expire_block(uid: str, block: Block) -> LedgerWrite:
    """The expiration entry of one expired block: its remainder, once."""
    expires_at = block.expires_at.isoformat() if block.expires_at else None
    write = ledger.write_ledger_entry(
        LedgerRequest(
            uid=uid,
            type=CreditType(block.type),
            direction=Direction.DEBIT,
            amount=block.remaining,
            source=Source.EXPIRATION,
            idempotency_key=keys.expiration(block.id),
            created_by="system",
            reason="Unused credits reached their expiry date",
            block=block.id,
            meta={"expiresAt": expires_at, "blockAmount": block.amount},
        )
    )
    if not write.replayed:
        logs.info("credits expired", event="credits_expired", **write.entry.log_fields(), block=block.id)
    return write
