"""The job billing sweeper: bills every job whose billing a lost trigger delivery left undone.

Job billing runs in the Firestore trigger on ``generation_jobs``, and a Python Firestore
trigger cannot ask to be retried (its manifest says ``retry: false``), so one failed
delivery (a deploy in flight, a timeout, a transient error) is never delivered again. This
sweeper, scheduled every few minutes, reads the jobs the pipeline changed recently and, for
each whose billing does not match its status, runs the trigger's own code
(:func:`credits.flows.jobs.bill_job`, idempotent by its ledger keys):

* queued, processing or completed with no ``debitEntryId`` and no ``billingError``: the debit,
  or the insufficient-credits outcome when the balance cannot cover it;
* failed with a ``debitEntryId`` and no ``refundEntryId``: the refund.

**Which jobs.** Those whose ``updatedAt`` (the pipeline's field, bumped on every status
change) lies in ``[start, now - grace)``. The grace period (5 minutes) leaves a delivery in
flight to its trigger. ``start`` is where the previous run stopped, less an overlap for the
pipeline's clock skew, but never more than the window (24 hours) back: ``sweeps/job_billing``
keeps ``sweptThrough``, written after a run in which every repair succeeded. Each job is thus
read about twice after it settles, and a run reads the jobs changed since the previous
run, not every job of the window. A range and order on ``updatedAt`` alone is served by
Firestore's automatic single-field index; no composite index is needed.

**Every repair is visible**: an ``anomalies`` record of kind ``job_billing_repaired`` (one per
job and missing piece), a WARNING log line ``job_billing_repaired``, and the run's summary
line ``job_billing_sweep_finished`` with its counts. A job the trigger billed in the
meantime is found already in line by ``bill_job`` and counts as nothing.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from google.cloud.firestore import DocumentReference

from credits.core import anomalies, generation_jobs, logs
from credits.core.firestore_client import db
from credits.core.generation_jobs import Status
from credits.core.query_spec import QuerySpec
from credits.flows import jobs
from credits.flows.jobs import Action

GRACE = timedelta(minutes=5)
"""A job changed more recently than this is left to its trigger."""
WINDOW = timedelta(hours=24)
"""The furthest back a run looks, however long ago the previous run stopped."""
OVERLAP = timedelta(minutes=5)
"""How far before the previous run's end a run starts again (the pipeline's clock may lag)."""
SWEEPS = "sweeps"
CHECKPOINT = "job_billing"
BILLING_FIELDS = ("uid", "status", "debitEntryId", "refundEntryId", "billingError", "updatedAt")


class Missing(enum.StrEnum):
    DEBIT = "debit"
    REFUND = "refund"


def missing_billing(job: Mapping[str, Any]) -> Missing | None:
    """What a job's billing lacks for its status, judged from the job's own fields."""
    status = job.get("status")
    if status in (Status.QUEUED, Status.PROCESSING, Status.COMPLETED):
        return None if job.get("debitEntryId") or job.get("billingError") else Missing.DEBIT
    if status == Status.FAILED and job.get("debitEntryId") and not job.get("refundEntryId"):
        return Missing.REFUND
    return None


@dataclass(frozen=True, kw_only=True)
class Repair:
    """One job whose billing the sweeper wrote."""

    job_id: str
    job: Mapping[str, Any]
    """The job's billing fields as the sweeper found them."""
    missing: Missing
    billing: jobs.Billing
    """What :func:`credits.flows.jobs.bill_job` wrote: ``charged`` or ``refunded`` with the entry,
    ``rejected`` (insufficient credits) or ``invalid`` with the job's new billing fields only."""

    def fields(self) -> dict[str, Any]:
        entry = self.billing.entry
        return {
            "jobId": self.job_id,
            "status": self.job.get("status"),
            "missing": str(self.missing),
            "action": str(self.billing.action),
            "entryId": entry.id if entry else None,
            "amount": entry.amount if entry else None,
            "type": str(entry.type) if entry else None,
        }


@dataclass(kw_only=True)
class SweepReport:
    start: datetime
    end: datetime
    jobs: int = 0
    """Jobs read in ``[start, end)``."""
    out_of_line: int = 0
    """Jobs whose fields said their billing was missing."""
    repairs: list[Repair] = field(default_factory=list)
    failures: int = 0
    """Jobs whose repair raised; the checkpoint stays, so the next run tries them again."""


def candidates(start: datetime, end: datetime) -> QuerySpec:
    """The jobs the pipeline changed in ``[start, end)``, projected to their billing fields."""
    return QuerySpec(
        collection=generation_jobs.JOBS, order_field="updatedAt", at_or_after=start, before=end, select=BILLING_FIELDS
    )


def sweep_job_billing(
    now: datetime | None = None,
    *,
    since: datetime | None = None,
    grace: timedelta = GRACE,
    window: timedelta = WINDOW,
    run: str = "scheduled",
) -> SweepReport:
    """Repair the billing of every job changed in the window; safe to run any number of times at once.

    ``since`` replaces the start the checkpoint gives (an operator's backfill); ``run``
    (``scheduled`` or ``manual``) only labels the log lines.
    """
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    end = now - grace
    start = since or window_start(now, window)
    report = SweepReport(start=start, end=end)
    # Read the window first, then repair: a stream held open across slow repairs could time out.
    out_of_line: list[tuple[str, dict[str, Any], Missing]] = []
    for snap in candidates(start, end).build().stream():
        report.jobs += 1
        job = snap.to_dict() or {}
        missing = missing_billing(job)
        if missing is not None:
            out_of_line.append((snap.id, job, missing))
    report.out_of_line = len(out_of_line)
    for job_id, job, missing in out_of_line:
        try:
            billing = jobs.bill_job(job_id)
        except Exception as exc:  # one job's failure must not stop the others
            report.failures += 1
            logs.error("job billing repair failed", event="job_billing_repair_failed", jobId=job_id, error=repr(exc))
            continue
        if billing.action is Action.NOTHING or billing.replayed:
            continue  # the trigger got there first
        repair = Repair(job_id=job_id, job=job, missing=missing, billing=billing)
        report.repairs.append(repair)
        _record(repair, run)
    if not report.failures:
        checkpoint(CHECKPOINT).set({"sweptThrough": end, "updatedAt": now}, merge=True)
    (logs.warning if report.repairs or report.failures else logs.info)(
        "job billing sweep finished",
        event="job_billing_sweep_finished",
        run=run,
        start=start.isoformat(),
        end=end.isoformat(),
        jobs=report.jobs,
        outOfLine=report.out_of_line,
        repaired=len(report.repairs),
        failures=report.failures,
        seconds=round(time.perf_counter() - started, 3),
    )
    return report


def _record(repair: Repair, run: str) -> None:
    uid, fields = repair.job.get("uid"), repair.fields()
    anomalies.record(
        anomalies.Kind.JOB_BILLING_REPAIRED, dedupe_key=f"{repair.job_id}:{repair.missing}", uid=uid, **fields
    )
    logs.warning("job billing repaired", event="job_billing_repaired", run=run, uid=uid, **fields)


def window_start(now: datetime, window: timedelta, name: str = CHECKPOINT) -> datetime:
    """Where a run starts: the end of the previous run (checkpoint ``sweeps/<name>``) less the
    overlap, never more than ``window`` back."""
    value = (checkpoint(name).get().to_dict() or {}).get("sweptThrough")
    return max(now - window, value - OVERLAP) if isinstance(value, datetime) else now - window


def checkpoint(name: str) -> DocumentReference:
    """A sweep's checkpoint, ``sweeps/<name>``: ``sweptThrough``, the end of its last clean run."""
    ref: DocumentReference = db().collection(SWEEPS).document(name)
    return ref
