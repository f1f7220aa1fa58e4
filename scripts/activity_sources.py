"""The Activity feed built from its two sources of truth: the definition the projection is held to.

The API reads the projection (:func:`credits.reads.activity.feed`, one query per page). This
module computes the same pages from ``generation_jobs`` (one item per job, at the time it was
created, showing its current status) and ``credits_ledger`` (one item per entry), the way the
feed was read before the projection existed. The tests hold the two equal over random
histories, and ``scripts/bench_read.py`` times them side by side. It is an offline tool, not
deployed: nothing in the functions calls it, and ``firestore.indexes.json`` declares no
index for its queries (the emulator needs none).

Each page takes at most ``limit + 1`` documents from each source after the cursor and merges
them by (time, item id), so "load more" never skips or repeats an item, even across equal
timestamps: for its own source the next page starts after the cursor's item, for the other
source at its time, inclusive or not by how the two ids compare. With ``type=all`` the ledger
source asks only for entries with ``jobId == null``: a job's debit and refund are shown on
its generation item.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from credits.core import generation_jobs, ledger
from credits.core.ledger import LedgerEntry
from credits.core.query_spec import Position, QuerySpec
from credits.reads.activity import ActivityFilters, ActivityPage, Item, Kind, entry_item, job_item, since
from credits.reads.cursors import decode_time_cursor, page_of, query_binding
from credits.reads.queries import Scope


def feed(uid: str, filters: ActivityFilters, now: datetime | None = None) -> ActivityPage:
    binding = query_binding(Scope(field="uid", value=uid).key(), filters.echo())
    cursor = decode_time_cursor(filters.cursor, binding) if filters.cursor else None
    fetched: list[Item] = []
    for prefix, spec in source_specs(uid, filters, since(filters, now), cursor):
        for doc in spec.build().stream():
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
