"""The Activity projection: ``users/{uid}/activity/{itemId}``, one document per feed item.

The epic's Phase 2 ``activity_log``: a read model of the Activity feed, written from the two
sources of truth and never one itself. It lives under the user, so that the rules say
"owner reads" by the path and a page of the feed is one query on one collection.

**Ids.** An item's id is the feed's: ``job:<jobId>`` (one item per generation job, showing
its current status and credits) and ``entry:<entryId>`` (one per ledger entry). That is the
epic's stable key ``source_type + source_id + type``: the source type is the prefix; a job's
item type (``generation_started``, ``_completed``, ``_failed``) moves with its status on the
one item, which is updated, so the type is not part of the id.

**A document** holds ``uid``; ``kind`` (``generation`` | ``credits``); ``time`` (the job's or
the entry's ``createdAt``, the feed's order with the id); ``influencerId`` (the job's, or the
entry's ``meta.influencerId``; null when there is none); ``inAll`` (false for an entry with a
``jobId``, which the All view shows on its job's item, see
:func:`credits.reads.activity.source_specs`); ``item``, exactly the feed's
``Item.to_api()``; and ``sourceVersion``, the update time of the source document the item
was built from.

**Writers**, each reading its source as it is now (trigger payloads are not trusted:
deliveries are at-least-once and unordered):

* :func:`project_entry` writes an entry's item with ``set``; entries are immutable, so
  writing it again changes nothing.
* :func:`project_job` writes a job's item only when the stored item's ``sourceVersion`` is not
  newer than the job snapshot's update time, with a precondition on the item (its update time,
  or ``create`` when absent) and a retry on conflict: a late or replayed delivery never moves
  an item back in status. A deleted job removes nothing (its item stays, as its entries do);
  a job without a usable ``uid`` has no item, as the feed never lists it; a job whose ``uid``
  changed leaves its item under the old user.
* :func:`record_export` writes an export's item when its download link is made (or its
  stream starts, for the bearer-token route), with a random id and the filters;
  :func:`record_export_rows` sets the rows once the file was streamed to its end (each
  download of a link sets the count it streamed). An export has no other record, so its item
  is its source; the backfill and the checks leave ``export:`` items alone.
* :func:`backfill` projects every job and every entry, page by page, writing only what is
  missing or differs; idempotent.
"""

from __future__ import annotations

import calendar
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeGuard

from google.api_core import exceptions as gexc
from google.cloud.firestore import CollectionReference, DocumentReference, DocumentSnapshot, WriteBatch

from credits.core import generation_jobs, ledger
from credits.core.firestore_client import db
from credits.core.ledger import LedgerEntry
from credits.reads import activity
from credits.reads.activity import Kind

MAX_ATTEMPTS = 12
PAGE_SIZE = 200
"""Source documents per page of the backfill (one read of their items, one batch of writes)."""
_CONFLICTS = (gexc.FailedPrecondition, gexc.AlreadyExists, gexc.Conflict, gexc.Aborted)

Built = tuple[DocumentReference, dict[str, Any]]
"""An item document and the data it should hold."""


class ProjectionBusy(Exception):
    """A job's item kept changing under :func:`project_job` for every attempt."""


def items_of(uid: str) -> CollectionReference:
    """The projection of one user's Activity."""
    collection: CollectionReference = db().collection(activity.items_path(uid))
    return collection


def item_ref(uid: str, item_id: str) -> DocumentReference:
    return items_of(uid).document(item_id)


def entry_document(snap: DocumentSnapshot[Any]) -> Built:
    """The item document of a stored ledger entry."""
    data = snap.to_dict() or {}
    entry = LedgerEntry.from_document(snap.id, data)
    item = activity.entry_item(entry)
    influencer = entry.meta.get("influencerId")
    return item_ref(entry.uid, item.id), {
        "uid": entry.uid,
        "kind": str(Kind.CREDITS),
        "time": item.time,
        "influencerId": influencer if isinstance(influencer, str) else None,
        # The All view's query is ``jobId == null``, which matches a stored null only.
        "inAll": "jobId" in data and data["jobId"] is None,
        "item": item.to_api(),
        "sourceVersion": snap.update_time,
    }


def job_document(snap: DocumentSnapshot[Any]) -> Built | None:
    """The item document of a stored job; None for a job the feed never lists (no usable uid)."""
    job = snap.to_dict() or {}
    uid = job.get("uid")
    if not _usable_uid(uid):
        return None
    item = activity.job_item(snap.id, job)
    influencer = job.get("influencerId")
    return item_ref(uid, item.id), {
        "uid": uid,
        "kind": str(Kind.GENERATION),
        "time": item.time,
        "influencerId": influencer if isinstance(influencer, str) else None,
        "inAll": True,
        "item": item.to_api(),
        "sourceVersion": snap.update_time,
    }


def project_entry(entry_id: str) -> bool:
    """Write the item of one ledger entry; False when there is no such entry."""
    snap = ledger.ledger_collection().document(entry_id).get()
    if not snap.exists:
        return False
    ref, data = entry_document(snap)
    ref.set(data)
    return True


def project_job(job_id: str) -> bool:
    """Bring one job's item in line with the job as it is now; True when it wrote the item.

    Safe to call any number of times, in any order, concurrently: an item built from a newer
    version of the job is never replaced by one built from an older version.
    """
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return write_job_item(generation_jobs.job_ref(job_id).get())
        except _CONFLICTS:
            time.sleep(ledger.backoff_s(attempt))
    raise ProjectionBusy(f"the item of job {job_id} kept changing: gave up after {MAX_ATTEMPTS} attempts")


def write_job_item(snap: DocumentSnapshot[Any]) -> bool:
    """One attempt of :func:`project_job` with a snapshot of the job read before; True when it wrote.

    Raises ``FailedPrecondition`` or ``AlreadyExists`` when the item changed after it was read here.
    """
    if not snap.exists:
        return False  # a deleted job removes nothing
    built = job_document(snap)
    if built is None:
        return False
    ref, data = built
    current = ref.get()
    if not should_write(current, data):
        return False
    if current.exists:
        ref.update(data, option=db().write_option(last_update_time=current.update_time))
    else:
        ref.create(data)
    return True


def should_write(current: DocumentSnapshot[Any], data: dict[str, Any]) -> bool:
    """Whether ``data`` may and should replace the stored item: not when the stored one was built
    from a newer version of the source, nor when it holds exactly ``data`` already."""
    if not current.exists:
        return True
    stored = current.to_dict() or {}
    version = stored.get("sourceVersion")
    if isinstance(version, datetime) and _nanos(version) > _nanos(data["sourceVersion"]):
        return False
    return stored != data


def record_export(uid: str, filters: dict[str, str], now: datetime | None = None) -> str:
    """Write the item of an export asked for now; its id, which its download carries."""
    export_id = secrets.token_hex(10)
    item = activity.export_item(export_id, at=now or datetime.now(UTC), filters=filters, rows=None)
    item_ref(uid, item.id).create(
        {
            "uid": uid,
            "kind": str(Kind.EXPORT),
            "time": item.time,
            "influencerId": None,
            "inAll": True,
            "item": item.to_api(),
            "sourceVersion": None,
        }
    )
    return export_id


def record_export_rows(uid: str, export_id: str, rows: int) -> bool:
    """Set the rows an export's file held; False when the export has no item (nothing is written)."""
    ref = item_ref(uid, f"export:{export_id}")
    snap = ref.get()
    if not snap.exists:
        return False
    data = snap.to_dict() or {}
    filters = (data.get("item") or {}).get("filters") or {}
    item = activity.export_item(export_id, at=data["time"], filters=filters, rows=rows)
    # Two downloads of one link may finish together: each count is true, the last one stays.
    ref.update({"item": item.to_api()})
    return True


@dataclass(kw_only=True)
class BackfillReport:
    jobs: int = 0
    """Jobs read."""
    entries: int = 0
    """Entries read."""
    written: int = 0
    """Items created or changed."""
    unchanged: int = 0
    """Items that held their source's current state already (or a newer one)."""
    skipped: int = 0
    """Jobs without a usable ``uid``, which the feed never lists."""
    items: list[tuple[str, str]] | None = None
    """``(uid, item id)`` of each item written, kept only when the caller sets a list (the repair
    logs each one); None by default, so that a backfill of every user holds no list of every item."""


def backfill(page_size: int = PAGE_SIZE) -> BackfillReport:
    """Project every job and every entry of every user. Idempotent; safe beside the triggers."""
    report = BackfillReport()
    for page in _pages(db().collection(generation_jobs.JOBS), page_size):
        project_jobs(page, report)
    for page in _pages(ledger.ledger_collection(), page_size):
        project_entries(page, report)
    return report


def project_jobs(page: list[DocumentSnapshot[Any]], report: BackfillReport) -> None:
    """Bring the items of these job snapshots in line: one read of the items, one batch of writes."""
    report.jobs += len(page)
    _project_page(page, job_document, project_job, report)


def project_entries(page: list[DocumentSnapshot[Any]], report: BackfillReport) -> None:
    """Write the items these entry snapshots lack or hold differently: one read, one batch."""
    report.entries += len(page)
    _project_page(page, entry_document, project_entry, report)


def _project_page(
    page: list[DocumentSnapshot[Any]],
    build: Callable[[DocumentSnapshot[Any]], Built | None],
    one_by_one: Callable[[str], bool],
    report: BackfillReport,
) -> None:
    """One batch for the page; if a trigger wrote one of its items meanwhile, item by item."""
    built: list[tuple[str, DocumentReference, dict[str, Any]]] = []
    for snap in page:
        made = build(snap)
        if made is None:
            report.skipped += 1
            continue
        built.append((snap.id, *made))
    if not built:
        return
    current = {snap.reference.path: snap for snap in db().get_all([ref for _, ref, _ in built])}
    batch: WriteBatch = db().batch()
    pending: list[tuple[str, str, str]] = []  # (source id, uid, item id)
    for source_id, ref, data in built:
        stored = current[ref.path]
        if not should_write(stored, data):
            report.unchanged += 1
            continue
        if stored.exists:
            batch.update(ref, data, option=db().write_option(last_update_time=stored.update_time))
        else:
            batch.create(ref, data)
        pending.append((source_id, data["uid"], ref.id))
    if not pending:
        return
    try:
        batch.commit()
        written = pending
    except _CONFLICTS:
        written = [item for item in pending if one_by_one(item[0])]
    report.written += len(written)
    report.unchanged += len(pending) - len(written)
    if report.items is not None:
        report.items += [(uid, item_id) for _, uid, item_id in written]


def _pages(collection: CollectionReference, size: int) -> Iterator[list[DocumentSnapshot[Any]]]:
    """A whole collection in pages by document id; no stream stays open across the writes."""
    last: DocumentSnapshot[Any] | None = None
    while True:
        query = collection.order_by("__name__").limit(size)
        if last is not None:
            query = query.start_after(last)
        page = list(query.stream())
        if not page:
            return
        yield page
        if len(page) < size:
            return
        last = page[-1]


def _usable_uid(uid: object) -> TypeGuard[str]:
    """A uid that names a user's document (as the feed's ``uid ==`` filter could match)."""
    return (
        isinstance(uid, str)
        and 0 < len(uid.encode()) <= 1500
        and "/" not in uid
        and uid not in (".", "..")
        and not (uid.startswith("__") and uid.endswith("__"))
    )


def _nanos(at: datetime) -> int:
    """A timestamp in nanoseconds: update times may differ below the microsecond a datetime compares.

    A ``DatetimeWithNanoseconds`` read back from a field may report ``nanosecond`` 0 beside its
    microseconds; only a ``nanosecond`` that agrees with the microseconds is used.
    """
    nanos = getattr(at, "nanosecond", 0)
    below = nanos if isinstance(nanos, int) and nanos // 1000 == at.microsecond else at.microsecond * 1000
    return calendar.timegm(at.utctimetuple()) * 1_000_000_000 + below
