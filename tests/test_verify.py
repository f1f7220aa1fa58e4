"""The verifier: the pure check, and catching tampering in the database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from ledger_helpers import request

from credits.core import ledger
from credits.core.firestore_client import db
from credits.core.ledger import Balances, CreditType, Direction, LedgerEntry, Source
from credits.operations import verify

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def entry(seq: int, delta: int, after: int, type: CreditType = CreditType.IMAGE) -> LedgerEntry:
    return LedgerEntry(
        id=f"e{seq}",
        uid="u",
        type=type,
        direction=Direction.CREDIT if delta > 0 else Direction.DEBIT,
        amount=abs(delta),
        balance_after=after,
        seq=seq,
        source=Source.ADMIN_ADJUSTMENT,
        reason="",
        job_id=None,
        payment_id=None,
        invoice_id=None,
        meta={},
        created_at=NOW,
        created_by="system",
        idempotency_key=f"k{seq}",
    )


def test_clean_chain_has_no_mismatch():
    entries = [entry(1, 10, 10), entry(2, 5, 5, CreditType.VIDEO), entry(3, -4, 6)]
    assert verify.check("u", entries, Balances(amounts={CreditType.IMAGE: 6, CreditType.VIDEO: 5}, seq=3)) == []


def test_chain_break_names_the_entry_once():
    entries = [entry(1, 10, 10), entry(2, -4, 7), entry(3, 1, 8)]
    found = verify.check("u", entries, Balances(amounts={CreditType.IMAGE: 8}, seq=3))
    assert [(m.kind, m.entry_id, m.expected, m.found) for m in found] == [("chain_break", "e2", 6, 7)]


def test_seq_gap_and_count_mismatch():
    entries = [entry(1, 10, 10), entry(3, 1, 11)]
    kinds = {(m.kind, m.entry_id) for m in verify.check("u", entries, Balances(amounts={CreditType.IMAGE: 11}, seq=3))}
    assert kinds == {("seq_gap", "e3"), ("seq_mismatch", None)}


def test_balance_mismatch_points_at_last_entry_of_the_type():
    entries = [entry(1, 10, 10), entry(2, 3, 3, CreditType.VIDEO)]
    found = verify.check("u", entries, Balances(amounts={CreditType.IMAGE: 10, CreditType.VIDEO: 4}, seq=2))
    assert [(m.kind, m.type, m.entry_id, m.expected, m.found) for m in found] == [
        ("balance_mismatch", "video", "e2", 3, 4)
    ]


def test_bad_amount_is_reported():
    bad = entry(1, 10, 10)
    object.__setattr__(bad, "amount", 0)
    assert "bad_amount" in {m.kind for m in verify.check("u", [bad], Balances(amounts={CreditType.IMAGE: 10}, seq=1))}


@pytest.mark.tampers
@pytest.mark.usefixtures("firestore")
def test_tampered_balance_is_caught_with_the_entry():
    ledger.write_ledger_entry(request(uid="t", amount=20))
    last = ledger.write_ledger_entry(request(uid="t", direction=Direction.DEBIT, amount=5)).entry
    ledger.write_ledger_entry(request(uid="other", amount=3))
    assert verify.verify_users(ledger.uids_with_balances()).ok

    ledger.balance_ref("t").update({ledger.balance_field(CreditType.IMAGE): 1000})

    report = verify.verify_users(sorted(ledger.uids_with_balances()))
    assert report.users == 2 and report.entries == 3
    assert [(m.uid, m.kind, m.entry_id, m.expected, m.found) for m in report.mismatches] == [
        ("t", "balance_mismatch", last.id, 15, 1000),
        ("t", "blocks_sum_mismatch", None, 1000, 15),
    ]


@pytest.mark.tampers
@pytest.mark.usefixtures("firestore")
def test_tampered_entry_is_caught():
    ledger.write_ledger_entry(request(uid="t", amount=20))
    second = ledger.write_ledger_entry(request(uid="t", amount=5)).entry
    db().collection(ledger.LEDGER).document(second.id).update({"balance_after": 24})

    _, mismatches = verify.verify_user("t")
    kinds = [(m.kind, m.entry_id) for m in mismatches]
    assert ("chain_break", second.id) in kinds


def job_entry(seq: int, job_id: str, direction: Direction, source: Source) -> LedgerEntry:
    delta = -10 if direction is Direction.DEBIT else 10
    return replace(entry(seq, delta, 0), job_id=job_id, direction=direction, source=source)


@pytest.mark.parametrize(
    ("status", "billing_error", "entries", "kinds"),
    [
        ("completed", None, [Direction.DEBIT], []),
        ("completed", None, [], ["job_unbilled"]),
        ("completed", "insufficient_credits", [], []),
        ("completed", None, [Direction.DEBIT, Direction.DEBIT], ["job_double_debit"]),
        ("completed", None, [Direction.DEBIT, Direction.CREDIT], []),
        ("failed", None, [], []),
        ("failed", None, [Direction.DEBIT], ["job_not_refunded"]),
        ("failed", None, [Direction.DEBIT, Direction.CREDIT], []),
        ("failed", None, [Direction.DEBIT, Direction.CREDIT, Direction.CREDIT], ["job_double_refund"]),
        ("failed", None, [Direction.CREDIT], ["refund_without_debit"]),
        ("queued", None, [], []),
        (None, None, [Direction.DEBIT, Direction.DEBIT], ["job_double_debit"]),
    ],
)
def test_a_job_nets_out_or_its_fault_is_named(status, billing_error, entries, kinds):
    job_entries = [
        job_entry(n, "j", d, Source.TEXT2IMAGE if d is Direction.DEBIT else Source.REFUND)
        for n, d in enumerate(entries, start=1)
    ]
    jobs = {} if status is None else {"j": {"status": status, "billingError": billing_error}}
    mismatches = verify.check_jobs("u", job_entries, jobs)
    assert [m.kind for m in mismatches] == kinds
    assert all(m.job_id == "j" and m.uid == "u" and "job j" in m.message for m in mismatches)


def test_entries_without_a_job_and_other_credits_are_not_job_faults():
    entries = [entry(1, 10, 10), job_entry(2, "j", Direction.CREDIT, Source.ADMIN_ADJUSTMENT)]
    assert verify.check_jobs("u", entries, {}) == []
