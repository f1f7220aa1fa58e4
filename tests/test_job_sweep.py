"""The job billing sweeper against the Firestore emulator, which runs no triggers here.

A job written here and never passed to ``jobs.bill_job`` is a job whose trigger delivery was
lost: the sweeper must find it by its ``updatedAt`` and bill it as the trigger would have.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.cloud.firestore_v1.base_query import FieldFilter
from ledger_helpers import put_job, request, run_together, stored_entries

from credits.core import anomalies, generation_jobs, ledger
from credits.core.firestore_client import db
from credits.flows import job_sweep, jobs
from credits.flows.job_sweep import Missing, missing_billing

pytestmark = pytest.mark.usefixtures("firestore")

NOW = datetime(2026, 3, 14, 12, tzinfo=UTC)
SETTLED = NOW - timedelta(minutes=10)
"""Older than the grace period: the trigger had its chance."""


def fund(uid: str, amount: int = 50) -> None:
    ledger.write_ledger_entry(request(uid=uid, amount=amount))


def job(job_id: str) -> dict[str, Any]:
    return generation_jobs.job_ref(job_id).get().to_dict() or {}


def repairs() -> list[dict[str, Any]]:
    kind = str(anomalies.Kind.JOB_BILLING_REPAIRED)
    found = [snap.to_dict() or {} for snap in db().collection(anomalies.ANOMALIES).stream()]
    return sorted((a for a in found if a["kind"] == kind), key=lambda a: a["jobId"])


def kinds_of(job_id: str) -> list[tuple[str, str]]:
    return [(e["direction"], e["source"]) for e in stored_entries(job_id=job_id)]


def debit_id(job_id: str) -> str:
    entries = ledger.ledger_collection().where(filter=FieldFilter("jobId", "==", job_id)).stream()
    (debit,) = (entry for entry in entries if entry.get("direction") == "debit")
    return str(debit.id)


@pytest.mark.parametrize(
    ("fields", "missing"),
    [
        ({"status": "queued"}, Missing.DEBIT),
        ({"status": "processing"}, Missing.DEBIT),
        ({"status": "completed"}, Missing.DEBIT),
        ({"status": "completed", "debitEntryId": "e1"}, None),
        ({"status": "completed", "billingError": "insufficient_credits"}, None),
        ({"status": "queued", "billingError": "invalid_job: bad"}, None),
        ({"status": "failed"}, None),
        ({"status": "failed", "debitEntryId": "e1"}, Missing.REFUND),
        ({"status": "failed", "debitEntryId": "e1", "refundEntryId": "e2"}, None),
        ({"status": "completed", "debitEntryId": "e1", "refundEntryId": "e2"}, None),
        ({"status": "archived"}, None),
        ({}, None),
    ],
)
def test_what_a_job_lacks_is_judged_from_its_fields(fields, missing):
    assert missing_billing(fields) == missing


def test_lost_deliveries_are_billed_once_and_each_repair_is_an_anomaly():
    for uid in ("ann", "bo", "cy"):
        fund(uid)
    # ann's job was reserved (its trigger ran), then failed with the delivery lost.
    put_job("reserved-then-failed", uid="ann", updatedAt=SETTLED)
    assert jobs.bill_job("reserved-then-failed").action is jobs.Action.CHARGED
    generation_jobs.job_ref("reserved-then-failed").update({"status": "failed", "updatedAt": SETTLED})
    # bo's job arrived already completed, cy's queued; neither delivery arrived.
    put_job("written-completed", uid="bo", status="completed", updatedAt=SETTLED)
    put_job("written-queued", uid="cy", updatedAt=SETTLED)
    # dee has no credits: the sweeper writes the trigger's insufficient-credits outcome.
    put_job("unpaid", uid="dee", updatedAt=SETTLED)

    report = job_sweep.sweep_job_billing(NOW)

    assert kinds_of("reserved-then-failed") == [("debit", "text2image"), ("credit", "refund")]
    assert kinds_of("written-completed") == [("debit", "text2image")]
    assert kinds_of("written-queued") == [("debit", "text2image")]
    assert kinds_of("unpaid") == []
    assert job("unpaid")["status"] == "failed" and job("unpaid")["failureReason"] == "insufficient_credits"
    assert job("written-completed")["debitEntryId"] == debit_id("written-completed")
    assert (report.jobs, report.out_of_line, report.failures) == (4, 4, 0)
    assert sorted(r.job_id for r in report.repairs) == [
        "reserved-then-failed",
        "unpaid",
        "written-completed",
        "written-queued",
    ]
    shown = {a["jobId"]: {k: a[k] for k in ("uid", "status", "missing", "action", "amount", "type")} for a in repairs()}
    assert shown == {
        "reserved-then-failed": {
            "uid": "ann",
            "status": "failed",
            "missing": "refund",
            "action": "refunded",
            "amount": 10,
            "type": "image",
        },
        "unpaid": {
            "uid": "dee",
            "status": "queued",
            "missing": "debit",
            "action": "rejected",
            "amount": None,
            "type": None,
        },
        "written-completed": {
            "uid": "bo",
            "status": "completed",
            "missing": "debit",
            "action": "charged",
            "amount": 10,
            "type": "image",
        },
        "written-queued": {
            "uid": "cy",
            "status": "queued",
            "missing": "debit",
            "action": "charged",
            "amount": 10,
            "type": "image",
        },
    }
    refund_anomaly = next(a for a in repairs() if a["jobId"] == "reserved-then-failed")
    assert refund_anomaly["entryId"] == job("reserved-then-failed")["refundEntryId"]

    again = job_sweep.sweep_job_billing(NOW + timedelta(minutes=5))

    assert again.repairs == [] and again.out_of_line == 0
    assert len(stored_entries()) == 3 + 4  # three fundings, one refund, three debits
    assert len(repairs()) == 4


def test_a_job_within_the_grace_period_or_beyond_the_window_is_left_alone():
    fund("ann")
    put_job("in-flight", uid="ann", updatedAt=NOW - timedelta(minutes=4))
    put_job("long-ago", uid="ann", updatedAt=NOW - timedelta(hours=25))

    report = job_sweep.sweep_job_billing(NOW)

    assert report.jobs == 0
    assert kinds_of("in-flight") == [] and kinds_of("long-ago") == []
    assert (report.start, report.end) == (NOW - job_sweep.WINDOW, NOW - job_sweep.GRACE)


def test_an_operator_backfill_reaches_beyond_the_window():
    fund("ann")
    put_job("long-ago", uid="ann", status="completed", updatedAt=NOW - timedelta(days=3))

    report = job_sweep.sweep_job_billing(NOW, since=NOW - timedelta(days=4), run="manual")

    assert [r.job_id for r in report.repairs] == ["long-ago"]
    assert kinds_of("long-ago") == [("debit", "text2image")]


def test_a_run_starts_where_the_previous_one_stopped_less_the_overlap():
    fund("ann")
    job_sweep.sweep_job_billing(NOW)
    later = NOW + timedelta(minutes=5)
    # Changed after the first run's end: the second run must still see it.
    put_job("between", uid="ann", updatedAt=NOW - timedelta(minutes=2))
    # Older than the second run's start: already swept (or left to the window).
    put_job("before", uid="ann", updatedAt=NOW - timedelta(minutes=11))

    report = job_sweep.sweep_job_billing(later)

    assert report.start == NOW - job_sweep.GRACE - job_sweep.OVERLAP
    assert [r.job_id for r in report.repairs] == ["between"]
    assert kinds_of("before") == []


def test_concurrent_sweeps_and_trigger_deliveries_bill_each_job_once():
    fund("ann", 200)
    ids = [f"job-{n}" for n in range(6)]
    for n, job_id in enumerate(ids):
        put_job(job_id, uid="ann", status="completed" if n % 2 else "queued", updatedAt=SETTLED)

    def sweep() -> None:
        job_sweep.sweep_job_billing(NOW)

    def deliveries() -> None:
        for job_id in ids:
            jobs.bill_job(job_id)

    assert run_together(sweep, sweep, sweep, deliveries, deliveries) == []
    for job_id in ids:
        assert kinds_of(job_id) == [("debit", "text2image")]
        assert job(job_id)["debitEntryId"] == debit_id(job_id)
    assert {a["jobId"] for a in repairs()} <= set(ids)
    assert len(repairs()) == len({a["jobId"] for a in repairs()})
    assert ledger.read_balances("ann").of(ledger.CreditType.IMAGE) == 200 - 6 * 10
