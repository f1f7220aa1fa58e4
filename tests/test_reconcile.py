"""Nightly reconciliation: users touched in a day are verified, mismatches become anomalies once.

As in test_summaries.py, entries are written through the ledger and then (test-only) moved
to chosen instants with the admin client, because the ledger stamps ``createdAt`` with the
server's clock.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from google.cloud.firestore_v1.base_query import FieldFilter
from ledger_helpers import put_job, request

from credits.core import anomalies, generation_jobs, ledger
from credits.core.firestore_client import db
from credits.core.ledger import CreditType, Direction
from credits.flows import jobs
from credits.operations import reconcile
from credits.operations.verify import Mismatch

DAY = date(2026, 3, 14)
NOON = datetime(2026, 3, 14, 12, tzinfo=UTC)


def write_at(at: datetime, **fields: Any) -> ledger.LedgerEntry:
    entry = ledger.write_ledger_entry(request(**fields)).entry
    db().collection(ledger.LEDGER).document(entry.id).update({"createdAt": at})
    return entry


def seed() -> dict[str, ledger.LedgerEntry]:
    """a: an old grant and a debit on DAY; b: a credit on DAY; c: only the day before."""
    return {
        "a-old": write_at(NOON - timedelta(days=3), uid="a", amount=50),
        "a": write_at(NOON, uid="a", direction=Direction.DEBIT, amount=8),
        "b": write_at(NOON.replace(hour=23, minute=59), uid="b", amount=5, type=CreditType.VIDEO),
        "c": write_at(NOON - timedelta(days=1), uid="c", amount=9),
    }


def reconciliation_anomalies() -> list[dict[str, Any]]:
    query = (
        db()
        .collection(anomalies.ANOMALIES)
        .where(filter=FieldFilter("kind", "==", str(anomalies.Kind.RECONCILIATION_MISMATCH)))
    )
    return [snap.to_dict() or {} for snap in query.stream()]


def test_dedupe_key_tells_apart_day_user_kind_entry_and_type():
    image = Mismatch(uid="u", kind="balance_mismatch", message="", type="image")
    video = Mismatch(uid="u", kind="balance_mismatch", message="", type="video")
    keys = {
        reconcile.dedupe_key(DAY, image),
        reconcile.dedupe_key(DAY, video),
        reconcile.dedupe_key(DAY + timedelta(days=1), image),
        reconcile.dedupe_key(DAY, Mismatch(uid="v", kind="balance_mismatch", message="", type="image")),
        reconcile.dedupe_key(DAY, Mismatch(uid="u", kind="chain_break", message="", entry_id="e1", type="image")),
    }
    assert len(keys) == 5
    assert reconcile.dedupe_key(DAY, image) == reconcile.dedupe_key(DAY, image)


@pytest.mark.usefixtures("firestore")
def test_clean_ledger_records_nothing(capsys: pytest.CaptureFixture[str]):
    seed()
    capsys.readouterr()
    report = reconcile.reconcile_day(DAY)
    assert report.ok
    # a and b moved that day; a's whole ledger (two entries) is verified, c is not looked at.
    assert (report.users, report.entries) == (2, 3)
    assert reconciliation_anomalies() == []
    [finished] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert finished["event"] == "reconciliation_finished" and finished["severity"] == "INFO"
    assert (finished["day"], finished["users"], finished["mismatches"]) == ("2026-03-14", 2, 0)


@pytest.mark.tampers
@pytest.mark.usefixtures("firestore")
def test_tampered_balance_is_reported_and_recorded_once(capsys: pytest.CaptureFixture[str]):
    entries = seed()
    ledger.balance_ref("a").update({ledger.balance_field(CreditType.IMAGE): 999})
    capsys.readouterr()

    report = reconcile.reconcile_day(DAY)

    # The balance no longer matches the entries, nor the remainders of its blocks.
    assert [(m.uid, m.kind, m.type, m.entry_id, m.expected, m.found) for m in report.mismatches] == [
        ("a", "balance_mismatch", "image", entries["a"].id, 42, 999),
        ("a", "blocks_sum_mismatch", "image", None, 999, 42),
    ]
    anomaly = next(a for a in reconciliation_anomalies() if a["mismatchKind"] == "balance_mismatch")
    assert {k: anomaly[k] for k in ("kind", "uid", "mismatchKind", "entryId", "type", "expected", "found", "day")} == {
        "kind": "reconciliation_mismatch",
        "uid": "a",
        "mismatchKind": "balance_mismatch",
        "entryId": entries["a"].id,
        "type": "image",
        "expected": 42,
        "found": 999,
        "day": "2026-03-14",
    }
    assert "999" in anomaly["message"]
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(x["event"], x["severity"]) for x in lines] == [
        ("reconciliation_mismatch", "WARNING"),
        ("reconciliation_mismatch", "WARNING"),
        ("reconciliation_finished", "WARNING"),
    ]
    assert (lines[0]["uid"], lines[0]["mismatchKind"], lines[2]["mismatches"]) == ("a", "balance_mismatch", 2)

    # A rerun (a retried schedule, an operator by hand) reports again but records nothing new.
    again = reconcile.reconcile_day(DAY, run="manual")
    assert [(m.uid, m.kind) for m in again.mismatches] == [("a", "balance_mismatch"), ("a", "blocks_sum_mismatch")]
    assert len(reconciliation_anomalies()) == 2


@pytest.mark.tampers
@pytest.mark.usefixtures("firestore")
def test_only_users_touched_that_day_are_checked():
    seed()
    ledger.balance_ref("c").update({ledger.balance_field(CreditType.IMAGE): 1})

    assert reconcile.reconcile_day(DAY).ok
    assert reconciliation_anomalies() == []

    previous = reconcile.reconcile_day(DAY - timedelta(days=1))
    assert [(m.uid, m.kind, m.expected, m.found) for m in previous.mismatches] == [
        ("c", "balance_mismatch", 9, 1),
        ("c", "blocks_sum_mismatch", 1, 9),
    ]
    assert [a["uid"] for a in reconciliation_anomalies()] == ["c", "c"]


@pytest.mark.tampers
@pytest.mark.usefixtures("firestore")
def test_jobs_that_do_not_net_out_are_listed_by_the_nightly_run():
    """Tampering: each job's inconsistency is written directly, around the trigger and the sweeper."""
    write_at(NOON - timedelta(days=3), uid="d", amount=100)
    # A completed job that was never charged (its delivery lost, the sweeper not run): no
    # entry of d's moves that day, the job's updatedAt is what brings d into the run.
    put_job("unbilled", uid="d", status="completed", updatedAt=NOON)
    # A failed job charged and not refunded.
    put_job("unrefunded", uid="d", updatedAt=NOON)
    jobs.bill_job("unrefunded")
    generation_jobs.job_ref("unrefunded").update({"status": "failed"})
    # A job charged twice, under two keys.
    put_job("twice", uid="d", updatedAt=NOON)
    jobs.bill_job("twice")
    ledger.write_ledger_entry(request(uid="d", direction=Direction.DEBIT, amount=10, job_id="twice"))
    # In line: charged once, and failed with its refund.
    put_job("fine", uid="d", updatedAt=NOON)
    jobs.bill_job("fine")
    generation_jobs.job_ref("fine").update({"status": "failed"})
    jobs.bill_job("fine")

    report = reconcile.reconcile_day(DAY)

    assert sorted((m.uid, m.job_id, m.kind, m.expected, m.found) for m in report.mismatches) == [
        ("d", "twice", "job_double_debit", 1, 2),
        ("d", "unbilled", "job_unbilled", 1, 0),
        ("d", "unrefunded", "job_not_refunded", 1, 0),
    ]
    assert (report.users, report.jobs) == (1, 4)
    recorded = sorted((a["jobId"], a["mismatchKind"]) for a in reconciliation_anomalies())
    assert recorded == [("twice", "job_double_debit"), ("unbilled", "job_unbilled"), ("unrefunded", "job_not_refunded")]
    assert reconcile.reconcile_day(DAY).mismatches == report.mismatches
    assert len(reconciliation_anomalies()) == 3
