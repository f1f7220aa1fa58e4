"""The ledger verifier: proves the sum rule and the ``balance_after`` chain, or lists what breaks them.

For one user it reads every entry and the balance document and checks that

* entries are numbered ``seq = 1..n`` with no gap or repeat,
* each entry's amount is a positive integer and its ``balance_after`` continues the previous
  entry of the same type (``previous + delta``),
* each balance equals credits minus debits over the ledger, and the balance's ``seq``
  equals the number of entries,
* every job nets out (promise 5): at most one debit and one refund per job, no refund
  without a debit, a completed job charged once (unless the job carries a ``billingError``:
  billing refused it and an anomaly said so), a failed job with a debit refunded,
* the credit blocks (:mod:`credits.core.blocks`) agree with the entries: replaying what each entry
  recorded (a credit opens its block, a debit's ``paidBy`` takes from its blocks, a refund's
  ``returnedTo`` gives back) gives exactly the open blocks stored; no remainder is negative or
  above its block's amount; the remainders of a type sum to its balance; every debit's
  ``paidBy`` adds up to its amount; and no block that expired more than
  :data:`EXPIRY_GRACE` ago still holds credits (the expiry schedule would have taken them).

It is what an operator runs after an incident (``scripts/verify_ledger.py``); the nightly
reconciliation runs the same check.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from google.cloud.firestore_v1.base_query import FieldFilter

from credits.core import generation_jobs, ledger
from credits.core.firestore_client import db
from credits.core.generation_jobs import Status
from credits.core.ledger import CreditType, Direction, LedgerEntry, Source


@dataclass(frozen=True, kw_only=True)
class Mismatch:
    """One place where the ledger and the balances disagree."""

    uid: str
    """The user whose ledger is off."""
    kind: str
    """``seq_gap``, ``bad_amount``, ``chain_break``, ``balance_mismatch``, ``seq_mismatch``; for
    a job that does not net out ``job_unbilled``, ``job_not_refunded``, ``job_double_debit``,
    ``job_double_refund`` or ``refund_without_debit``; for the blocks ``paid_by_mismatch``,
    ``block_overdrawn``, ``block_mismatch``, ``block_out_of_range``, ``blocks_sum_mismatch`` or
    ``block_not_expired``."""
    message: str
    """What is wrong, in words."""
    entry_id: str | None = None
    """The entry where it shows, when there is one."""
    type: str | None = None
    """The credit type concerned, when there is one."""
    expected: int | None = None
    """The value the ledger implies."""
    found: int | None = None
    """The value stored."""
    job_id: str | None = None
    """The generation job concerned, for the job kinds."""
    block: str | None = None
    """The credit block concerned, for the block kinds."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "kind": self.kind,
            "message": self.message,
            "entryId": self.entry_id,
            "type": self.type,
            "expected": self.expected,
            "found": self.found,
            "jobId": self.job_id,
            "block": self.block,
        }


@dataclass(kw_only=True)
class Report:
    """The result of verifying one or more users."""

    users: int = 0
    entries: int = 0
    jobs: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def user_entries(uid: str) -> list[LedgerEntry]:
    """Every entry of one user, in ledger order."""
    query = ledger.ledger_collection().where(filter=FieldFilter("uid", "==", uid))
    return sorted((LedgerEntry.from_snapshot(s) for s in query.stream()), key=lambda e: e.seq)


def check(uid: str, entries: Iterable[LedgerEntry], balances: ledger.Balances) -> list[Mismatch]:
    """The pure check: the mismatches between one user's entries (in order) and balances."""
    found: list[Mismatch] = []

    def mismatch(kind: str, message: str, **where: Any) -> None:
        found.append(Mismatch(uid=uid, kind=kind, message=message, **where))

    running = dict.fromkeys(CreditType, 0)
    last_entry: dict[CreditType, str | None] = dict.fromkeys(CreditType)
    count = 0
    for count, entry in enumerate(entries, start=1):
        at = {"entry_id": entry.id, "type": str(entry.type)}
        if entry.seq != count:
            mismatch(
                "seq_gap",
                f"entry {entry.id} has seq {entry.seq}, expected {count}",
                expected=count,
                found=entry.seq,
                entry_id=entry.id,
            )
        if isinstance(entry.amount, bool) or not isinstance(entry.amount, int) or entry.amount <= 0:
            mismatch("bad_amount", f"entry {entry.id} has amount {entry.amount!r}", **at)
        expected = running[entry.type] + entry.delta
        if entry.balance_after != expected:
            message = f"entry {entry.id} has balance_after {entry.balance_after}, expected {expected}"
            mismatch("chain_break", message, expected=expected, found=entry.balance_after, **at)
        # Continue from the stored value so one bad entry is reported once, not on every later one.
        running[entry.type] = entry.balance_after
        last_entry[entry.type] = entry.id
    for credit_type in CreditType:
        total, stored = running[credit_type], balances.of(credit_type)
        if stored != total:
            message = f"{credit_type} balance is {stored}, the ledger sums to {total}"
            mismatch(
                "balance_mismatch",
                message,
                type=str(credit_type),
                entry_id=last_entry[credit_type],
                expected=total,
                found=stored,
            )
    if balances.seq != count:
        message = f"balance seq is {balances.seq}, the ledger has {count} entries"
        mismatch("seq_mismatch", message, expected=count, found=balances.seq)
    return found


def user_jobs(uid: str) -> dict[str, Mapping[str, Any]]:
    """Every generation job of one user, by id, projected to what the job checks read."""
    jobs = db().collection(generation_jobs.JOBS)
    query = jobs.where(filter=FieldFilter("uid", "==", uid)).select(["status", "billingError"])
    return {snap.id: snap.to_dict() or {} for snap in query.stream()}


EXPIRY_GRACE = timedelta(hours=1)
"""How long after its ``expiresAt`` a block may still hold credits: the expiry schedule runs
every 15 minutes, so a remainder older than this means it did not run or failed."""


def check_blocks(uid: str, entries: Iterable[LedgerEntry], balances: ledger.Balances, now: datetime) -> list[Mismatch]:
    """The pure check of the blocks: the mismatches between one user's entries and stored blocks."""
    found: list[Mismatch] = []
    if balances.unmigrated:
        return found  # no blocks stored yet: its opening blocks are its amounts, which check() checks

    def mismatch(kind: str, message: str, **where: Any) -> None:
        found.append(Mismatch(uid=uid, kind=kind, message=message, **where))

    entries = list(entries)
    opening: dict[CreditType, int] = defaultdict(int)
    for entry in entries:
        if entry.seq <= balances.blocks_since:
            opening[entry.type] += entry.delta
    opening_blocks = ledger.opening_blocks(opening, at=now)
    replayed = {block_id: block.remaining for block_id, block in opening_blocks.items()}
    # What each block is (its type and expiry), as the entry that opened it says.
    opened = {block_id: (block.type, block.expires_at) for block_id, block in opening_blocks.items()}
    for entry in (e for e in entries if e.seq > balances.blocks_since):
        at = {"entry_id": entry.id, "type": str(entry.type)}
        if entry.direction is Direction.DEBIT:
            paid = sum(part.amount for part in entry.paid_by)
            if paid != entry.amount:
                message = f"debit {entry.id} of {entry.amount} is paid by blocks adding up to {paid}"
                mismatch("paid_by_mismatch", message, expected=entry.amount, found=paid, **at)
            for part in entry.paid_by:
                left = replayed.get(part.block, 0) - part.amount
                if left < 0:
                    message = (
                        f"debit {entry.id} takes {part.amount} from block {part.block}, which held {left + part.amount}"
                    )
                    mismatch("block_overdrawn", message, block=part.block, expected=0, found=left, **at)
                replayed[part.block] = left
        elif entry.returned_to:
            for part in entry.returned_to:
                replayed[part.block] = replayed.get(part.block, 0) + part.amount
                if part.block == entry.id:
                    opened[entry.id] = (str(entry.type), part.expires_at)
        else:
            replayed[entry.id] = entry.amount
            opened[entry.id] = (str(entry.type), entry.expires_at)
    open_blocks = {block_id: left for block_id, left in replayed.items() if left > 0}
    for block_id in sorted(open_blocks.keys() | balances.blocks.keys()):
        block = balances.blocks.get(block_id)
        stored = block.remaining if block else 0
        if stored != open_blocks.get(block_id, 0):
            message = f"block {block_id} holds {stored}, the entries leave {open_blocks.get(block_id, 0)}"
            mismatch("block_mismatch", message, block=block_id, expected=open_blocks.get(block_id, 0), found=stored)
        if block is None:
            continue
        if block_id in opened and (block.type, block.expires_at) != opened[block_id]:
            kind, expires = opened[block_id]
            stored_as = f"{block.type} expiring {block.expires_at}"
            message = f"block {block_id} is stored as {stored_as}, its entry opened {kind} expiring {expires}"
            mismatch("block_mismatch", message, block=block_id, type=block.type)
        if not 0 < block.remaining <= block.amount:
            message = f"block {block_id} holds {block.remaining} of {block.amount}"
            mismatch("block_out_of_range", message, block=block_id, type=block.type, found=block.remaining)
        if block.expires_at is not None and block.expires_at < now - EXPIRY_GRACE:
            message = f"block {block_id} expired at {block.expires_at.isoformat()} and still holds {block.remaining}"
            mismatch("block_not_expired", message, block=block_id, type=block.type, expected=0, found=block.remaining)
    for credit_type in CreditType:
        held = sum(b.remaining for b in balances.blocks.values() if b.type == credit_type)
        if held != balances.of(credit_type):
            message = f"{credit_type} blocks hold {held}, the balance is {balances.of(credit_type)}"
            mismatch(
                "blocks_sum_mismatch", message, type=str(credit_type), expected=balances.of(credit_type), found=held
            )
    return found


def check_jobs(uid: str, entries: Iterable[LedgerEntry], owned: Mapping[str, Mapping[str, Any]]) -> list[Mismatch]:
    """The pure check of promise 5: the mismatches between one user's jobs and their entries."""
    debits: dict[str, list[LedgerEntry]] = defaultdict(list)
    refunds: dict[str, list[LedgerEntry]] = defaultdict(list)
    for entry in entries:
        if entry.job_id is None:
            continue
        if entry.direction is Direction.DEBIT:
            debits[entry.job_id].append(entry)
        elif entry.source is Source.REFUND:
            refunds[entry.job_id].append(entry)
    found: list[Mismatch] = []
    for job_id in sorted(set(owned) | set(debits) | set(refunds)):
        charged, refunded = debits[job_id], refunds[job_id]
        first = next(iter(charged + refunded), None)
        for kind, message, expected, count in _job_faults(owned.get(job_id, {}), len(charged), len(refunded)):
            found.append(
                Mismatch(
                    uid=uid,
                    kind=kind,
                    message=f"job {job_id} {message}",
                    job_id=job_id,
                    entry_id=first.id if first else None,
                    type=str(first.type) if first else None,
                    expected=expected,
                    found=count,
                )
            )
    return found


def _job_faults(job: Mapping[str, Any], debits: int, refunds: int) -> list[tuple[str, str, int, int]]:
    """(kind, message, expected, found) for each way one job fails to net out."""
    faults = []
    if debits > 1:
        faults.append(("job_double_debit", f"has {debits} debits", 1, debits))
    if refunds > 1:
        faults.append(("job_double_refund", f"has {refunds} refunds", 1, refunds))
    if refunds and not debits:
        faults.append(("refund_without_debit", "has a refund and no debit", 0, refunds))
    if job.get("status") == Status.COMPLETED and not debits and not job.get("billingError"):
        faults.append(("job_unbilled", "is completed and has no debit", 1, 0))
    if job.get("status") == Status.FAILED and debits and not refunds:
        faults.append(("job_not_refunded", "failed and its debit has no refund", 1, 0))
    return faults


def verify_user(uid: str) -> tuple[int, list[Mismatch]]:
    """Check one user against the database; returns (entries checked, mismatches)."""
    report = verify_users([uid])
    return report.entries, report.mismatches


def verify_users(
    uids: Iterable[str], progress: Callable[[int, Report], None] | None = None, *, now: datetime | None = None
) -> Report:
    """Check users against the database; ``now`` (default: the clock) decides which blocks are overdue."""
    report = Report()
    for uid in uids:
        entries, owned, balances = user_entries(uid), user_jobs(uid), ledger.read_balances(uid)
        report.users += 1
        report.entries += len(entries)
        report.jobs += len(owned)
        report.mismatches += (
            check(uid, entries, balances)
            + check_blocks(uid, entries, balances, now or datetime.now(UTC))
            + check_jobs(uid, entries, owned)
        )
        if progress:
            progress(report.users, report)
    return report
