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

**The Activity projection** (:mod:`credits.reads.activity_log`) is checked on request
(``verify_users(..., activity=True)``: the script and the nightly reconciliation ask, the
test fixture's closing check does not, since most tests write entries with no trigger to
project them). It is a read model, so its faults are not the ledger's but are reported the
same way: ``activity_item_missing`` (an entry, or a job with a usable ``uid``, has no item),
``activity_item_stale`` (the stored item differs from the one its source builds now and was
not built from a newer version of it: :func:`~credits.reads.activity_log.should_write`) and
``activity_item_orphan`` (an ``entry:`` item whose entry does not exist or is another user's,
so that every credit item shown stands for a persisted ledger entry of its user; a ``job:``
item whose job does not exist or is another user's). A source written less than
:data:`ACTIVITY_GRACE` ago is not judged: its trigger, or the repair, may still be on its
way. Items of other kinds (``export:``, which has no other source) are not checked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from google.cloud.firestore import DocumentSnapshot
from google.cloud.firestore_v1.base_query import FieldFilter

from credits.core import generation_jobs, ledger
from credits.core.firestore_client import db
from credits.core.generation_jobs import Status
from credits.core.ledger import CreditType, Direction, LedgerEntry, Source
from credits.reads import activity_log


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
    ``block_not_expired``; for the Activity projection ``activity_item_missing``,
    ``activity_item_stale`` or ``activity_item_orphan`` (with the entry's or the job's id)."""
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
    items: int = 0
    """Activity items read (when the projection is checked)."""
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def user_entries(uid: str) -> list[LedgerEntry]:
    """Every entry of one user, in ledger order."""
    return _in_order(_entry_snapshots(uid))


def _entry_snapshots(uid: str) -> list[DocumentSnapshot[Any]]:
    return list(ledger.ledger_collection().where(filter=FieldFilter("uid", "==", uid)).stream())


def _in_order(snaps: Iterable[DocumentSnapshot[Any]]) -> list[LedgerEntry]:
    return sorted((LedgerEntry.from_snapshot(s) for s in snaps), key=lambda e: e.seq)


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


JOB_FIELDS = ("status", "billingError")
"""What the job checks read of a job (the Activity check reads whole jobs)."""


def _job_snapshots(uid: str, fields: Iterable[str] | None) -> list[DocumentSnapshot[Any]]:
    """A user's jobs: only ``fields`` of each, or whole when None."""
    query = db().collection(generation_jobs.JOBS).where(filter=FieldFilter("uid", "==", uid))
    return list((query if fields is None else query.select(list(fields))).stream())


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


ACTIVITY_GRACE = timedelta(hours=1)
"""How long after its source was written an Activity item may still be missing or out of date:
the trigger's delivery may be in flight, and when it is lost the repair
(:mod:`credits.operations.activity_repair`, 15 minutes behind, every 15 minutes) writes the
item within about half an hour. A source written more recently is not judged."""
_SOURCE_KINDS = ("entry", "job")
"""The item id prefixes the check knows the sources of; others (``export:``) are left alone."""


def check_activity(
    uid: str,
    entries: Iterable[DocumentSnapshot[Any]],
    jobs: Iterable[DocumentSnapshot[Any]],
    items: Iterable[DocumentSnapshot[Any]],
    now: datetime,
) -> list[Mismatch]:
    """The mismatches between one user's Activity items and their entries and jobs (whole
    documents, read before the items).

    Reads only to look up the source of an item that none of the user's sources built: a
    source written after they were read is no orphan.
    """
    stored = {snap.id: snap for snap in items if snap.id.partition(":")[0] in _SOURCE_KINDS}
    found: list[Mismatch] = []
    built_ids: set[str] = set()
    sources: list[tuple[DocumentSnapshot[Any], activity_log.Built | None, str]]
    sources = [(snap, activity_log.entry_document(snap), "entry") for snap in entries]
    sources += [(snap, activity_log.job_document(snap), "job") for snap in jobs]
    for snap, built, source in sources:
        if built is None:
            continue  # a job without a usable uid, which the feed never lists
        ref, data = built
        built_ids.add(ref.id)
        if snap.update_time is None or snap.update_time > now - ACTIVITY_GRACE:
            continue  # its trigger, or the repair, may still be on its way
        current = stored.get(ref.id)
        if current is None:
            kind, message = "activity_item_missing", f"{source} {snap.id} has no Activity item {ref.id}"
        elif activity_log.should_write(current, data):
            kind, message = "activity_item_stale", f"Activity item {ref.id} differs from what its {source} builds now"
        else:
            continue
        found.append(_item_mismatch(uid, kind, message, source, snap.id))
    return found + _orphans(uid, [item_id for item_id in stored if item_id not in built_ids])


def _orphans(uid: str, item_ids: list[str]) -> list[Mismatch]:
    """The items among these whose source does not exist or is another user's."""
    if not item_ids:
        return []
    collections = {"entry": ledger.ledger_collection(), "job": db().collection(generation_jobs.JOBS)}
    named = [(item_id, *item_id.split(":", 1)) for item_id in item_ids]
    refs = [collections[source].document(source_id) for _, source, source_id in named]
    found = {snap.reference.path: snap for snap in db().get_all(refs)}
    orphans: list[Mismatch] = []
    for (item_id, source, source_id), ref in zip(named, refs, strict=True):
        snap = found[ref.path]
        owner = (snap.to_dict() or {}).get("uid") if snap.exists else None
        if owner == uid:
            continue  # written after the user's sources were read
        whose = f"is {owner!r}'s" if snap.exists else "does not exist"
        message = f"Activity item {item_id} shows {source} {source_id}, which {whose}"
        orphans.append(_item_mismatch(uid, "activity_item_orphan", message, source, source_id))
    return orphans


def _item_mismatch(uid: str, kind: str, message: str, source: str, source_id: str) -> Mismatch:
    if source == "entry":
        return Mismatch(uid=uid, kind=kind, message=message, entry_id=source_id)
    return Mismatch(uid=uid, kind=kind, message=message, job_id=source_id)


def verify_user(uid: str) -> tuple[int, list[Mismatch]]:
    """Check one user against the database; returns (entries checked, mismatches)."""
    report = verify_users([uid])
    return report.entries, report.mismatches


def verify_users(
    uids: Iterable[str],
    progress: Callable[[int, Report], None] | None = None,
    *,
    now: datetime | None = None,
    activity: bool = False,
) -> Report:
    """Check users against the database, and their Activity projection when ``activity``; ``now``
    (default: the clock) decides which blocks are overdue and which sources are too recent to judge."""
    report = Report()
    at = now or datetime.now(UTC)
    for uid in uids:
        # The Activity check builds items from whole jobs; the job checks need two fields.
        entry_snaps, job_snaps = _entry_snapshots(uid), _job_snapshots(uid, None if activity else JOB_FIELDS)
        entries, balances = _in_order(entry_snaps), ledger.read_balances(uid)
        owned = {snap.id: snap.to_dict() or {} for snap in job_snaps}
        report.users += 1
        report.entries += len(entries)
        report.jobs += len(owned)
        report.mismatches += check(uid, entries, balances) + check_blocks(uid, entries, balances, at)
        report.mismatches += check_jobs(uid, entries, owned)
        if activity:
            items = list(activity_log.items_of(uid).stream())
            report.items += len(items)
            report.mismatches += check_activity(uid, entry_snaps, job_snaps, items, at)
        if progress:
            progress(report.users, report)
    return report
