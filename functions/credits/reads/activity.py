"""The Activity feed: a user's generations and credit changes, merged newest first.

The feed is read from the two sources of truth,
``generation_jobs`` (one item per job, at the time it was created, showing its current
status) and ``credits_ledger`` (one item per entry). Each page takes at most ``limit + 1``
documents from each source after the cursor and merges them by (time, item id), so
"load more" never skips or repeats an item, even across equal timestamps:

* item ids are ``job:<jobId>`` and ``entry:<entryId>``, and the feed is ordered by
  (time, item id) descending;
* the cursor is the last item shown; for its own source the next page starts after it, for
  the other source at its time, inclusive or not by how the two ids compare.

Every credit item is a ledger entry (promise 6) and links to its job or payment; every
generation item shows what it cost and links to its debit and refund entries.

**A generation carries its own credits in the All view.** With ``type=all`` the ledger
source asks only for entries with ``jobId == null`` (the ledger stores ``jobId`` on every
entry, null when there is no job), so a job's debit and refund are not repeated beside
the job item that already shows them (``credits``: charged, refunded, net and both entry
ids). The filter is in the query, not applied after it, so each source still returns
``limit + 1`` candidates and the (time, id) merge stays exact. ``type=credits`` lists every
entry, and the detail of a job item lists its entries, so each entry stays reachable.

The projection ``users/{uid}/activity`` (:mod:`.activity_log`) holds the same items, kept by
triggers; the feed does not read it yet.

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
from credits.core.ledger import Direction, LedgerEntry, Source
from credits.core.query_spec import Position, QuerySpec
from credits.reads.cursors import Cursor, decode_time_cursor, page_of, query_binding
from credits.reads.queries import Scope

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


def feed(uid: str, filters: ActivityFilters, now: datetime | None = None) -> ActivityPage:
    since = None
    span = RANGES[str(filters.range)]
    if span is not None:
        since = (now or datetime.now(UTC)) - span
    binding = query_binding(Scope(field="uid", value=uid).key(), filters.echo())
    cursor = decode_time_cursor(filters.cursor, binding) if filters.cursor else None
    fetched: list[Item] = []
    for prefix, spec in source_specs(uid, filters, since, cursor):
        docs = list(spec.build().stream())
        for doc in docs:
            data = doc.to_dict() or {}
            fetched.append(
                job_item(doc.id, data) if prefix == "job" else entry_item(LedgerEntry.from_document(doc.id, data))
            )
    fetched.sort(key=lambda item: (item.time, item.id), reverse=True)
    items, next_cursor = page_of(
        fetched, filters.limit, binding, lambda item: Position(value=item.time, doc_id=item.id)
    )
    return ActivityPage(items=items, next_cursor=next_cursor, filters=filters.echo())


def source_specs(
    uid: str, filters: ActivityFilters, since: datetime | None, cursor: Position | None
) -> list[tuple[str, QuerySpec]]:
    """The query of each source the filters include, positioned after the cursor."""
    sources: list[tuple[str, QuerySpec]] = []
    wanted = [
        ("job", generation_jobs.JOBS, "influencerId", Kind.GENERATION),
        ("entry", ledger.LEDGER, "meta.influencerId", Kind.CREDITS),
    ]
    for prefix, collection, influencer_field, kind in wanted:
        if filters.type not in (Kind.ALL, kind):
            continue
        equals: list[tuple[str, Any]] = [("uid", uid)]
        if filters.influencerId:
            equals.append((influencer_field, filters.influencerId))
        if prefix == "entry" and filters.type is Kind.ALL:
            # A job's entries are shown on its generation item; Firestore's "== null" matches
            # the explicit null that every entry without a job stores.
            equals.append(("jobId", None))
        after = None
        before = at_or_before = None
        if cursor is not None and isinstance(cursor.value, datetime):
            cursor_prefix, _, cursor_doc = cursor.doc_id.partition(":")
            if cursor_prefix == prefix:
                after = Position(value=cursor.value, doc_id=cursor_doc)
            elif f"{prefix}:" < cursor.doc_id:
                at_or_before = cursor.value
            else:
                before = cursor.value
        spec = QuerySpec(
            collection=collection,
            equals=equals,
            at_or_after=since,
            before=before,
            at_or_before=at_or_before,
            after=after,
            limit=filters.limit + 1,
        )
        sources.append((prefix, spec))
    return sources


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
    if not doc_id or prefix not in ("job", "entry"):
        raise missing
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
