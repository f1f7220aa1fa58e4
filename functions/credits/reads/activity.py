"""The Activity feed: a user's generations, credit changes and exports, newest first.

A page is one indexed query on the user's projection ``users/{uid}/activity``
(:mod:`.activity_log` writes it from the sources of truth): the filters are equalities on
the item documents (``inAll`` for the All view, ``kind`` for a type, ``influencerId``), the
range bounds ``time``, and the order is (``time``, item id) descending, the item id being the
document id. So "load more" never skips or repeats an item, even across equal timestamps: the
cursor is the last item shown and the next page starts after it.

* item ids are ``job:<jobId>`` (one per generation job, at the time it was created, showing
  its current status and credits), ``entry:<entryId>`` (one per ledger entry) and
  ``export:<exportId>`` (one per CSV export the user asked for, :func:`export_item`);
* **a generation carries its own credits in the All view**: a job's debit and refund are
  ``inAll: false``, so they are not repeated beside the job item that already shows them
  (``credits``: charged, refunded, net and both entry ids). ``type=credits`` lists every
  entry, and the detail of a job item lists its entries, so each entry stays reachable;
* **exports** are listed by the All view and by ``type=export``, never under an influencer
  (an export has none); the range applies to the time the export was asked for.

Every credit item is a ledger entry (promise 6) and links to its job or payment; every
generation item shows what it cost and links to its debit and refund entries. The detail of
an item (:func:`item_detail`) reads the authoritative job and entries, not the projection.
``scripts/activity_sources.py`` computes the same pages from the sources; the tests hold the two equal.

``influencers`` lists the distinct influencers of the user's generations for the filter's
menu, read with a projection from the :data:`INFLUENCER_SCAN` most recent jobs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from credits.core import generation_jobs, ledger
from credits.core.errors import NotFound
from credits.core.firestore_client import db
from credits.core.ledger import Direction, LedgerEntry, Source
from credits.core.query_spec import Position, QuerySpec
from credits.reads.cursors import Cursor, decode_time_cursor, page_of, query_binding
from credits.reads.queries import Scope

USERS = "users"
ITEMS = "activity"
PAGE_SIZE = 50
INFLUENCER_SCAN = 1_000
"""How many of a user's most recent jobs ``influencers`` reads: an influencer seen only in
older jobs is not offered in the menu (filtering by its id still works)."""
MAX_INFLUENCER_ID = 128
RANGES = {"7d": timedelta(days=7), "30d": timedelta(days=30), "all": None}


class Range(enum.StrEnum):
    LAST_7_DAYS = "7d"
    LAST_30_DAYS = "30d"
    ALL = "all"


class Kind(enum.StrEnum):
    ALL = "all"
    GENERATION = "generation"
    CREDITS = "credits"
    EXPORT = "export"


class ActivityFilters(BaseModel):
    """The query string of ``GET /api/activity``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    range: Range = Range.LAST_30_DAYS
    type: Kind = Kind.ALL
    influencerId: Annotated[str, StringConstraints(min_length=1, max_length=MAX_INFLUENCER_ID)] | None = None
    cursor: Cursor | None = None
    limit: int = Field(default=PAGE_SIZE, ge=1, le=PAGE_SIZE)

    def echo(self) -> dict[str, Any]:
        return {"range": str(self.range), "type": str(self.type), "influencerId": self.influencerId}


@dataclass(frozen=True, kw_only=True)
class Item:
    id: str
    kind: Kind
    type: str
    time: datetime
    summary: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": str(self.kind),
            "type": self.type,
            "time": self.time.astimezone(UTC).isoformat(),
            "summary": self.summary,
            **self.detail,
        }


@dataclass(frozen=True, kw_only=True)
class ActivityPage:
    items: list[Item]
    next_cursor: str | None
    filters: dict[str, Any]

    def to_api(self) -> dict[str, Any]:
        return {
            "items": [item.to_api() for item in self.items],
            "nextCursor": self.next_cursor,
            "filters": self.filters,
        }


_ENTRY_ITEM_TYPES = {
    Source.REFUND: ("credits_refunded", "refund"),
    Source.PURCHASE: ("credits_purchased", "purchase"),
    Source.SUBSCRIPTION_GRANT: ("credits_refreshed", "refresh"),
    Source.ADMIN_ADJUSTMENT: ("credits_adjusted", "adjust"),
    Source.PURCHASE_REVERSAL: ("credits_reversed", "reversal"),
    Source.CHARGEBACK: ("credits_charged_back", "chargeback"),
    Source.CHARGEBACK_REVERSAL: ("credits_returned", "chargeback_reversal"),
    Source.EXPIRATION: ("credits_expired", "expiration"),
}


def items_path(uid: str) -> str:
    """The collection of one user's items: the projection :mod:`.activity_log` writes."""
    return f"{USERS}/{uid}/{ITEMS}"


def feed(uid: str, filters: ActivityFilters, now: datetime | None = None) -> ActivityPage:
    """One page of the feed: one indexed query on the user's projection."""
    binding = query_binding(Scope(field="uid", value=uid).key(), filters.echo())
    cursor = decode_time_cursor(filters.cursor, binding) if filters.cursor else None
    spec = page_spec(uid, filters, since(filters, now), cursor)
    found = [item_from_projection(snap.to_dict() or {}) for snap in spec.build().stream()]
    items, next_cursor = page_of(found, filters.limit, binding, lambda item: Position(value=item.time, doc_id=item.id))
    return ActivityPage(items=items, next_cursor=next_cursor, filters=filters.echo())


def since(filters: ActivityFilters, now: datetime | None = None) -> datetime | None:
    """The start of the filters' range; None for all time."""
    span = RANGES[str(filters.range)]
    return None if span is None else (now or datetime.now(UTC)) - span


def page_spec(uid: str, filters: ActivityFilters, since: datetime | None, cursor: Position | None) -> QuerySpec:
    """The projection's query for the filters, after the cursor (the previous page's last item).

    The All view asks for ``inAll`` items, so a job's entries stay on its generation item; a
    type asks for its ``kind``. An item's document id is its item id, the order's tie-breaker.
    """
    equals: list[tuple[str, Any]] = [("inAll", True)] if filters.type is Kind.ALL else [("kind", str(filters.type))]
    if filters.influencerId:
        equals.append(("influencerId", filters.influencerId))
    return QuerySpec(
        collection=items_path(uid),
        equals=equals,
        order_field="time",
        at_or_after=since,
        after=cursor,
        limit=filters.limit + 1,
    )


def item_from_projection(data: dict[str, Any]) -> Item:
    """An item as the projection stores it (``Item.to_api()`` under ``item``, its time under ``time``)."""
    stored = dict(data.get("item") or {})
    fields = {name: stored.pop(name, None) for name in ("id", "kind", "type", "time", "summary")}
    return Item(
        id=str(fields["id"]),
        kind=Kind(fields["kind"]),
        type=str(fields["type"]),
        time=data["time"],
        summary=str(fields["summary"]),
        detail=stored,
    )


def influencers_spec(uid: str) -> QuerySpec:
    """The user's most recent jobs, only their influencer fields."""
    return QuerySpec(
        collection=generation_jobs.JOBS,
        equals=[("uid", uid)],
        select=["influencerId", "influencerName"],
        limit=INFLUENCER_SCAN,
    )


def influencers(uid: str) -> list[dict[str, str]]:
    """The distinct influencers of the user's recent generations, sorted by name.

    Jobs come newest first, so an influencer renamed since shows its latest name; one without
    a name is listed under its id. Ids that the feed's ``influencerId`` filter would refuse
    (longer than 128 characters) are left out, since choosing them could only fail.
    """
    names: dict[str, str] = {}
    for snap in influencers_spec(uid).build().stream():
        data = snap.to_dict() or {}
        influencer_id = data.get("influencerId")
        if not isinstance(influencer_id, str) or not 1 <= len(influencer_id) <= MAX_INFLUENCER_ID:
            continue
        name = data.get("influencerName")
        names.setdefault(influencer_id, name if isinstance(name, str) and name else influencer_id)
    listed = [{"id": influencer_id, "name": name} for influencer_id, name in names.items()]
    return sorted(listed, key=lambda influencer: (influencer["name"].casefold(), influencer["id"]))


def item_detail(uid: str, item_id: str) -> dict[str, Any]:
    """The detail drawer: the item with its linked job, entries and invoice."""
    prefix, _, doc_id = item_id.partition(":")
    missing = NotFound(f"no activity item {item_id}")
    if not doc_id or prefix not in ("job", "entry", "export"):
        raise missing
    if prefix == "export":
        # An export has no other record: its item is the source.
        snap = db().collection(items_path(uid)).document(item_id).get()
        if not snap.exists:
            raise missing
        return {"item": item_from_projection(snap.to_dict() or {}).to_api(), "job": None, "entries": []}
    if prefix == "job":
        snap = generation_jobs.job_ref(doc_id).get()
        job = snap.to_dict() or {}
        if not snap.exists or job.get("uid") != uid:
            raise missing
        item = job_item(doc_id, job)
        linked = [
            e.to_api()
            for e in (ledger.get_entry(str(job[name])) for name in ("debitEntryId", "refundEntryId") if job.get(name))
            if e is not None and e.uid == uid
        ]
        return {"item": item.to_api(), "job": _job_api(doc_id, job), "entries": linked}
    entry = ledger.get_entry(doc_id)
    if entry is None or entry.uid != uid:
        raise missing
    linked_job = None
    if entry.job_id:
        snap = generation_jobs.job_ref(entry.job_id).get()
        job = snap.to_dict() or {}
        if snap.exists and job.get("uid") == uid:
            linked_job = _job_api(entry.job_id, job)
    return {
        "item": entry_item(entry).to_api(),
        "job": linked_job,
        "entries": [entry.to_api()],
    }


def job_item(job_id: str, job: dict[str, Any]) -> Item:
    """A job's item: its current status and credits (also the projection's, :mod:`.activity_log`)."""
    status = str(job.get("status", ""))
    what = generation_jobs.describe(job)
    who = f" for {job['influencerName']}" if job.get("influencerName") else ""
    if status == generation_jobs.Status.COMPLETED:
        kind_type, summary = "generation_completed", f"Generated {what}{who}"
    elif status == generation_jobs.Status.FAILED:
        kind_type, summary = "generation_failed", f"Generation failed: {what}{who}"
    else:
        kind_type, summary = "generation_started", f"Generation started: {what}{who}"
    charged = job.get("chargedCredits")
    refunded = bool(job.get("refundEntryId"))
    credits = None
    if isinstance(charged, int):
        credits = {
            "type": str(generation_jobs.credit_type(job)),
            "charged": charged,
            "refunded": charged if refunded else 0,
            "net": 0 if refunded else -charged,
            "debitEntryId": job.get("debitEntryId"),
            "refundEntryId": job.get("refundEntryId"),
        }
    detail = {
        "status": status,
        "jobId": job_id,
        "influencer": {"id": job.get("influencerId"), "name": job.get("influencerName")},
        "settings": {
            "source": job.get("source"),
            "quality": job.get("quality"),
            "aspectRatio": job.get("aspectRatio"),
            "model": job.get("model"),
            "resolution": job.get("resolution"),
            "numImages": job.get("numImages"),
            "durationSec": job.get("durationSec"),
        },
        "credits": credits,
        "failureReason": job.get("failureReason") or job.get("error"),
        "link": f"/generations/{job_id}",
    }
    return Item(
        id=f"job:{job_id}",
        kind=Kind.GENERATION,
        type=kind_type,
        time=_time(job),
        summary=summary,
        detail=detail,
    )


def entry_item(entry: LedgerEntry) -> Item:
    """An entry's item (also the projection's, :mod:`.activity_log`)."""
    if entry.source in _ENTRY_ITEM_TYPES:
        kind_type, action = _ENTRY_ITEM_TYPES[entry.source]
    elif entry.direction is Direction.DEBIT:
        kind_type, action = "credits_consumed", "consume"
    else:
        kind_type, action = "credits_adjusted", "adjust"
    sign = "+" if entry.direction is Direction.CREDIT else "-"
    summary = f"{sign}{entry.amount} {entry.type} credits: {entry.reason or action}"
    detail = {
        "action": action,
        "delta": entry.delta,
        "creditType": str(entry.type),
        "balanceAfter": entry.balance_after,
        "source": str(entry.source),
        "reason": entry.reason,
        "entryId": entry.id,
        "jobId": entry.job_id,
        "generationItemId": f"job:{entry.job_id}" if entry.job_id else None,
        "paymentId": entry.payment_id,
        "invoiceId": entry.invoice_id,
        "link": f"/activity/entry:{entry.id}",
    }
    return Item(
        id=f"entry:{entry.id}",
        kind=Kind.CREDITS,
        type=kind_type,
        time=entry.created_at,
        summary=summary,
        detail=detail,
    )


def export_item(export_id: str, *, at: datetime, filters: dict[str, str], rows: int | None) -> Item:
    """An export's item: asked for at ``at`` with ``filters``; ``rows`` once its file was streamed."""
    if rows is None:
        kind_type, summary = "export_requested", "Exporting entries as CSV"
    else:
        kind_type, summary = "export_completed", f"Exported {rows} {'entry' if rows == 1 else 'entries'} as CSV"
    detail = {
        "status": "requested" if rows is None else "completed",
        "exportId": export_id,
        "format": "csv",
        "filters": filters,
        "rows": rows,
        "link": f"/activity/export:{export_id}",
    }
    return Item(id=f"export:{export_id}", kind=Kind.EXPORT, type=kind_type, time=at, summary=summary, detail=detail)


def _job_api(job_id: str, job: dict[str, Any]) -> dict[str, Any]:
    fields = (
        "status",
        "source",
        "model",
        "resolution",
        "quality",
        "numImages",
        "durationSec",
        "aspectRatio",
        "influencerId",
        "influencerName",
        "error",
        "failureReason",
        "outputs",
        "debitEntryId",
        "refundEntryId",
        "chargedCredits",
    )
    result: dict[str, Any] = {"id": job_id, **{name: job.get(name) for name in fields}}
    for name in ("createdAt", "updatedAt", "completedAt", "failedAt"):
        value = job.get(name)
        result[name] = value.astimezone(UTC).isoformat() if isinstance(value, datetime) else None
    return result


def _time(job: dict[str, Any]) -> datetime:
    value = job.get("createdAt")
    return value if isinstance(value, datetime) else datetime.min.replace(tzinfo=UTC)
