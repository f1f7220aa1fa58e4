"""The ledger verifier: proves the sum rule and the ``balance_after`` chain, or lists what breaks them.

For one user it reads every entry and the balance document and checks that

* entries are numbered ``seq = 1..n`` with no gap or repeat,
* each entry's amount is a positive integer and its ``balance_after`` continues the previous
  entry of the same type (``previous + delta``),
* each balance equals credits minus debits over the ledger, and the balance's ``seq``
  equals the number of entries.

It is what an operator runs after an incident (``scripts/verify_ledger.py``); the nightly
reconciliation runs the same check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from google.cloud.firestore_v1.base_query import FieldFilter

from credits import ledger
from credits.ledger import CreditType, LedgerEntry


@dataclass(frozen=True, kw_only=True)
class Mismatch:
    """One place where the ledger and the balances disagree."""

    uid: str
    """The user whose ledger is off."""
    kind: str
    """``seq_gap``, ``bad_amount``, ``chain_break``, ``balance_mismatch`` or ``seq_mismatch``."""
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "kind": self.kind,
            "message": self.message,
            "entryId": self.entry_id,
            "type": self.type,
            "expected": self.expected,
            "found": self.found,
        }


@dataclass(kw_only=True)
class Report:
    """The result of verifying one or more users."""

    users: int = 0
    entries: int = 0
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


def verify_user(uid: str) -> tuple[int, list[Mismatch]]:
    """Check one user against the database; returns (entries checked, mismatches)."""
    entries = user_entries(uid)
    return len(entries), check(uid, entries, ledger.read_balances(uid))


def verify_users(uids: Iterable[str], progress: Callable[[int, Report], None] | None = None) -> Report:
    report = Report()
    for uid in uids:
        entries, mismatches = verify_user(uid)
        report.users += 1
        report.entries += entries
        report.mismatches.extend(mismatches)
        if progress:
            progress(report.users, report)
    return report
