"""Nightly reconciliation: prove the sum rule, and that jobs net out, for everyone touched yesterday.

:func:`reconcile_day` finds the users with an entry in one UTC day (the distinct ``uid`` of
the day's entries, the same pass the daily summary makes) or a generation job the pipeline
changed that day (``updatedAt`` in the day: a job whose billing was lost has no entry to be
found by), and runs the ledger verifier (:func:`credits.operations.verify.verify_users`) on each of them:
the whole ledger and every job of a touched user, not just the day's, because a balance is
only right if every entry before it is. It checks their Activity projection too
(``activity=True``): an item missing, stale or orphaned is a mismatch like the others.

Each mismatch becomes an ``anomalies`` record of kind ``reconciliation_mismatch`` whose id is
derived from the day, the user, the mismatch kind, the entry and the credit type, so a rerun
of the same day records nothing new, while a mismatch still there the next night (if the user
moved again) is recorded for that night too. Each mismatch is also logged as a WARNING
(``event: reconciliation_mismatch``) and the run ends with one ``reconciliation_finished``
line, for log-based metrics and alerts.

A user whose ledger did not move that day is not checked; the full verifier
(``scripts/verify_ledger.py``) covers everyone. The run also reports the Stripe refunds and
disputes that waited too long for their purchase
(:func:`credits.flows.reversals.report_unmatched`).
"""

from __future__ import annotations

import time
from datetime import date, datetime

from credits.core import anomalies, logs
from credits.flows import job_sweep, reversals
from credits.operations import days, summaries, verify


def dedupe_key(day: date, mismatch: verify.Mismatch) -> str:
    """One anomaly per day, user, kind, entry and type: a rerun of the day adds nothing."""
    # The type is part of it: a user with no entries of either type has two balance
    # mismatches with no entry to tell them apart.
    parts = (days.day_id(day), mismatch.uid, mismatch.kind, mismatch.entry_id or "-", mismatch.type or "-")
    job = (mismatch.job_id,) if mismatch.job_id else ()
    block = (mismatch.block,) if mismatch.block else ()
    return "reconcile:" + ":".join(parts + job + block)


def job_owners_touched(day: date) -> tuple[set[str], int]:
    """The owners of the jobs the pipeline changed in the day, and the documents read to find them."""
    start, end = days.day_bounds(day)
    uids: set[str] = set()
    read = 0
    for snap in job_sweep.candidates(start, end).build().stream():
        read += 1
        uid = (snap.to_dict() or {}).get("uid")
        if isinstance(uid, str):
            uids.add(uid)
    return uids, read


def reconcile_day(day: date, *, run: str = "scheduled", now: datetime | None = None) -> verify.Report:
    """Verify every user with an entry in ``day`` and record each mismatch as an anomaly.

    ``run`` (``scheduled`` or ``manual``) only labels the log lines; ``now`` (default: the clock)
    is the verifier's (which blocks are overdue, which sources too recent to judge).
    """
    started = time.perf_counter()
    uids, documents = summaries.uids_touched(day)
    job_uids, job_documents = job_owners_touched(day)
    uids |= job_uids
    documents += job_documents
    report = verify.verify_users(sorted(uids), now=now, activity=True)
    unmatched = reversals.report_unmatched(days.day_bounds(day)[1])
    day_id = days.day_id(day)
    for mismatch in report.mismatches:
        fields = {
            "mismatchKind": mismatch.kind,
            "entryId": mismatch.entry_id,
            "type": mismatch.type,
            "expected": mismatch.expected,
            "found": mismatch.found,
            "day": day_id,
            **({"jobId": mismatch.job_id} if mismatch.job_id else {}),
            **({"block": mismatch.block} if mismatch.block else {}),
        }
        anomalies.record(
            anomalies.Kind.RECONCILIATION_MISMATCH,
            dedupe_key=dedupe_key(day, mismatch),
            uid=mismatch.uid,
            message=mismatch.message,
            **fields,
        )
        # The log line's own message is the mismatch's.
        logs.warning(mismatch.message, event="reconciliation_mismatch", run=run, uid=mismatch.uid, **fields)
    (logs.info if report.ok else logs.warning)(
        "reconciliation finished",
        event="reconciliation_finished",
        day=day_id,
        run=run,
        users=report.users,
        entries=report.entries,
        jobs=report.jobs,
        mismatches=len(report.mismatches),
        reversalsWithoutPurchase=len(unmatched),
        usersWithMismatches=len({m.uid for m in report.mismatches}),
        # The day's entries and jobs (to find the users), then each user's entries, jobs, balance and items.
        documentsRead=documents + report.entries + report.jobs + report.users + report.items,
        seconds=round(time.perf_counter() - started, 3),
    )
    return report
