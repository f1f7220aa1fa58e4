"""The Activity repair: projects again the jobs and entries whose trigger delivery was lost.

The Activity projection (:mod:`credits.reads.activity_log`) is kept by two Firestore
triggers, ``bill_generation_job`` (a job's item, after its billing) and
``project_ledger_entry`` (an entry's item). A Python Firestore trigger cannot ask to be
retried, so one failed delivery (a deploy in flight, a timeout, a transient error) leaves an
entry's item missing for good (an entry is never written again), or a job's item missing or
at an older status until the job is written again. This
repair, scheduled every 15 minutes, reads the sources that changed recently and writes the
items that are not in line with them, with the backfill's own page writers
(:func:`~credits.reads.activity_log.project_jobs`, :func:`~credits.reads.activity_log.project_entries`):
one read of a page's items, one batch for what is missing or differs, and the triggers'
rule that an item built from a newer version of its job is never replaced. An item in line
is not written, so a run after a quiet period writes nothing, and a run beside the triggers
never moves an item back.

**Which sources.** The jobs whose ``updatedAt`` (the pipeline's field, bumped on every status
change) lies in ``[start, now - grace)``, as whole documents (the job billing sweeper's
window, :func:`credits.flows.job_sweep.candidates`), and the ledger entries whose
``createdAt`` lies in the same window. The grace period (15 minutes) leaves a delivery in
flight to its trigger, and is longer than the job billing sweeper takes to bill a job whose
delivery was lost (5 minutes' grace, every 5 minutes): the billing does not touch
``updatedAt``, so the job is read once its item should carry the billing. ``start`` is where
the previous run stopped, less an overlap for the pipeline's clock skew, but never more than
the window (24 hours) back: ``sweeps/activity`` keeps ``sweptThrough``, written after a run in
which every page was projected. Each query is a range and order on one field, served by
Firestore's automatic single-field index; no composite index is needed. The sources are read
a page at a time (by the field, then the document id) and each page is written before the
next is read, so no stream stays open across the writes.

**Every repair is visible**: a WARNING log line ``activity_item_repaired`` (``uid``,
``itemId``) for each item written, and the run's summary line ``activity_repair_finished``
with its counts. A source older than the window (the repair was down for a day) is left to
``scripts/backfill_activity.py``, which projects everything under the same rule.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from google.cloud.firestore import DocumentSnapshot

from credits.core import ledger, logs
from credits.core.query_spec import Position, QuerySpec
from credits.flows import job_sweep
from credits.reads import activity_log
from credits.reads.activity_log import BackfillReport

GRACE = timedelta(minutes=15)
"""A source changed more recently than this is left to its trigger (and a job to the billing sweeper)."""
WINDOW = timedelta(hours=24)
"""The furthest back a run looks, however long ago the previous run stopped."""
CHECKPOINT = "activity"
"""The checkpoint ``sweeps/activity``, beside the job billing sweeper's (with its overlap)."""

Page = list[DocumentSnapshot[Any]]


@dataclass(kw_only=True)
class RepairReport:
    start: datetime
    end: datetime
    projection: BackfillReport = field(default_factory=lambda: BackfillReport(items=[]))
    """What the page writers read and wrote; ``items`` lists every ``(uid, item id)`` written."""
    failures: int = 0
    """Pages whose projection raised; the checkpoint stays, so the next run reads them again."""


def jobs_changed(start: datetime, end: datetime) -> QuerySpec:
    """The jobs the pipeline changed in ``[start, end)``, whole: the billing sweeper's window."""
    return replace(job_sweep.candidates(start, end), select=None)


def entries_created(start: datetime, end: datetime) -> QuerySpec:
    """The ledger entries created in ``[start, end)``."""
    return QuerySpec(collection=ledger.LEDGER, order_field="createdAt", at_or_after=start, before=end)


def repair_activity(
    now: datetime | None = None,
    *,
    grace: timedelta = GRACE,
    window: timedelta = WINDOW,
    page_size: int = activity_log.PAGE_SIZE,
    run: str = "scheduled",
) -> RepairReport:
    """Write every item the window's sources lack or hold out of date; safe to run any number of
    times, at once and beside the triggers. ``run`` (``scheduled`` or ``manual``) labels the log lines."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    end = now - grace
    start = job_sweep.window_start(now, window, CHECKPOINT)
    report = RepairReport(start=start, end=end)
    sources: list[tuple[QuerySpec, Callable[[Page, BackfillReport], None]]] = [
        (jobs_changed(start, end), activity_log.project_jobs),
        (entries_created(start, end), activity_log.project_entries),
    ]
    for spec, project in sources:
        for page in _pages(spec, page_size):
            try:
                project(page, report.projection)
            except Exception as exc:  # one page's failure must not stop the others
                report.failures += 1
                logs.error(
                    "activity repair failed",
                    event="activity_repair_failed",
                    collection=spec.collection,
                    first=page[0].id,
                    error=repr(exc),
                )
    for uid, item_id in report.projection.items or []:
        logs.warning("activity item repaired", event="activity_item_repaired", run=run, uid=uid, itemId=item_id)
    if not report.failures:
        job_sweep.checkpoint(CHECKPOINT).set({"sweptThrough": end, "updatedAt": now}, merge=True)
    projection = report.projection
    (logs.warning if projection.written or report.failures else logs.info)(
        "activity repair finished",
        event="activity_repair_finished",
        run=run,
        start=start.isoformat(),
        end=end.isoformat(),
        jobs=projection.jobs,
        entries=projection.entries,
        repaired=projection.written,
        unchanged=projection.unchanged,
        skipped=projection.skipped,
        failures=report.failures,
        seconds=round(time.perf_counter() - started, 3),
    )
    return report


def _pages(spec: QuerySpec, size: int) -> Iterator[Page]:
    """The query's results a page at a time, each read to its end before it is handed out."""
    after: Position | None = None
    while True:
        page = list(replace(spec, after=after, limit=size).build().stream())
        if page:
            yield page
        if len(page) < size:
            return
        last = page[-1]
        after = Position(value=last.get(spec.order_field), doc_id=last.id)
