"""Reading the ledger: filtered, newest-first pages of entries, for users and admins.

Pages are ordered by ``createdAt`` descending, then by entry id descending, so entries with
equal timestamps are never skipped or repeated across pages. A page's ``nextCursor``
(:mod:`credits.reads.cursors`) is signed together with the query it belongs to: the caller's
scope (:class:`Scope`) and the filters. The same selection, without paging, feeds the CSV
export (:func:`iter_entries`). The admin overview reports are in :mod:`credits.reads.reports`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from google.cloud.firestore_v1.base_query import FieldFilter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from credits.core import accounts, generation_jobs, ledger
from credits.core.errors import InvalidArgument
from credits.core.ledger import CreditType, Direction, LedgerEntry, Source
from credits.core.query_spec import Position, QuerySpec
from credits.reads.cursors import EVERYONE, Cursor, decode_time_cursor, page_of, query_binding

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
EXPORT_BATCH = 500
"""Entries the CSV export reads per query."""


AdminQuery = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
"""An admin's ``q``: a uid, an email, a job id or a payment id (:func:`resolve_admin_query`)."""


class LedgerSelection(BaseModel):
    """Which entries: the filters shared by the ledger pages, the CSV export and its download links."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    type: CreditType | None = None
    direction: Direction | None = None
    source: Source | None = None
    from_: date | datetime | None = Field(default=None, alias="from")
    to: date | datetime | None = None

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """``from`` inclusive; ``to`` a whole day inclusive when a date, exclusive when a time."""
        start = _as_utc(self.from_, end_of_day=False)
        end = _as_utc(self.to, end_of_day=True)
        if start and end and start >= end:
            raise InvalidArgument("from must be before to", field="from")
        return start, end

    def fingerprint(self) -> dict[str, Any]:
        start, end = self.bounds()
        return {
            "type": self.type,
            "direction": self.direction,
            "source": self.source,
            "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None,
        }

    def selection(self) -> dict[str, str]:
        """The filters as the query string that would select them again (``from``/``to`` as given)."""
        dumped = self.model_dump(mode="json", by_alias=True, exclude_none=True, include=_SELECTION_FIELDS)
        return {name: str(value) for name, value in dumped.items()}


_SELECTION_FIELDS = set(LedgerSelection.model_fields)


class LedgerFilters(LedgerSelection):
    """The query string of the ledger routes and their CSV exports: a selection, paged."""

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: Cursor | None = None


class AdminLedgerFilters(LedgerFilters):
    """The admin routes also take ``q``: a uid, an email, a job id or a payment id."""

    q: AdminQuery | None = None


@dataclass(frozen=True, kw_only=True)
class LedgerPage:
    entries: list[LedgerEntry]
    next_cursor: str | None


@dataclass(frozen=True, kw_only=True)
class Scope:
    """Whose entries a query may return: one user, entries of a job or payment, or all."""

    field: str | None
    """``uid``, ``jobId`` or ``paymentId``; None for every entry (admins only)."""
    value: str | None = None

    def key(self) -> str:
        """The scope as a cursor is bound to it."""
        return f"{self.field}={self.value}" if self.field else EVERYONE


def _as_utc(value: date | datetime | None, *, end_of_day: bool) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    day = value + timedelta(days=1) if end_of_day else value
    return datetime.combine(day, time.min, tzinfo=UTC)


def ledger_spec(scope: Scope, filters: LedgerSelection, *, after: Position | None, limit: int | None) -> QuerySpec:
    start, end = filters.bounds()
    equals: list[tuple[str, Any]] = []
    if scope.field:
        equals.append((scope.field, scope.value))
    for name in ("type", "direction", "source"):
        value = getattr(filters, name)
        if value is not None:
            equals.append((name, str(value)))
    return QuerySpec(collection=ledger.LEDGER, equals=equals, at_or_after=start, before=end, after=after, limit=limit)


def ledger_page(scope: Scope, filters: LedgerFilters) -> LedgerPage:
    """One page of entries, newest first, and the cursor of the next page (None at the end)."""
    binding = query_binding(scope.key(), filters.fingerprint())
    after = decode_time_cursor(filters.cursor, binding) if filters.cursor else None
    if scope.field in ("jobId", "paymentId"):
        # A job or payment has a handful of entries: read them all, no composite index needed.
        return LedgerPage(entries=_small_scope(scope, filters), next_cursor=None)
    spec = ledger_spec(scope, filters, after=after, limit=filters.limit + 1)
    found = [LedgerEntry.from_snapshot(s) for s in spec.build().stream()]
    entries, next_cursor = page_of(found, filters.limit, binding, lambda e: Position(value=e.created_at, doc_id=e.id))
    return LedgerPage(entries=entries, next_cursor=next_cursor)


def iter_entries(scope: Scope, filters: LedgerSelection) -> Iterator[LedgerEntry]:
    """Every matching entry, newest first, read in batches so memory stays flat (the export)."""
    if scope.field in ("jobId", "paymentId"):
        yield from _small_scope(scope, filters)
        return
    after: Position | None = None
    while True:
        spec = ledger_spec(scope, filters, after=after, limit=EXPORT_BATCH)
        batch = [LedgerEntry.from_snapshot(s) for s in spec.build().stream()]
        yield from batch
        if len(batch) < EXPORT_BATCH:
            return
        after = Position(value=batch[-1].created_at, doc_id=batch[-1].id)


def resolve_admin_query(q: str | None) -> Scope:
    """What an admin's ``q`` names.

    ``uid:``, ``email:``, ``job:`` and ``payment:`` prefixes say it outright; otherwise an
    ``@`` means an email, ``pi_`` a Stripe payment intent, an existing generation job's id a
    job, and anything else a uid.
    """
    if not q:
        return Scope(field=None)
    prefix, _, rest = q.partition(":")
    if rest and prefix in ("uid", "email", "job", "payment"):
        kind, value = prefix, rest.strip()
    elif "@" in q:
        kind, value = "email", q
    elif q.startswith("pi_"):
        kind, value = "payment", q
    elif "/" not in q and generation_jobs.job_ref(q).get().exists:
        kind, value = "job", q
    else:
        kind, value = "uid", q
    if kind == "email":
        uid = accounts.find_uid_by_email(value)
        # An unknown email matches nothing rather than everything.
        return Scope(field="uid", value=uid or f"no user with email {value}")
    return Scope(field={"uid": "uid", "job": "jobId", "payment": "paymentId"}[kind], value=value)


def _small_scope(scope: Scope, filters: LedgerSelection) -> list[LedgerEntry]:
    """The entries of one job or payment that match the filters, newest first."""
    start, end = filters.bounds()
    snaps = ledger.ledger_collection().where(filter=FieldFilter(str(scope.field), "==", scope.value)).stream()
    entries = [
        entry
        for entry in map(LedgerEntry.from_snapshot, snaps)
        if (filters.type is None or entry.type is filters.type)
        and (filters.direction is None or entry.direction is filters.direction)
        and (filters.source is None or entry.source is filters.source)
        and (start is None or entry.created_at >= start)
        and (end is None or entry.created_at < end)
    ]
    return sorted(entries, key=lambda e: (e.created_at, e.id), reverse=True)
