"""Reading the ledger: filtered, newest-first pages with opaque cursors, for users and admins.

Pages are ordered by ``createdAt`` descending, then by entry id descending, so entries with
equal timestamps are never skipped or repeated across pages. A cursor names the last entry
of a page; it is signed together with the query it belongs to (the caller's scope and the
filters), so an edited cursor, or a cursor replayed with other filters or by another user,
is refused with ``invalid_argument``. Access does not rest on the cursor: the scope (the
caller's uid) and the filters always come from the request.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, TypeVar

from google.cloud.firestore_v1.base_query import FieldFilter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from credits import anomalies, auth, jobs, ledger
from credits.errors import InvalidArgument
from credits.ledger import CreditType, Direction, LedgerEntry, Source
from credits.query_spec import Position, QuerySpec

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
EXPORT_BATCH = 500
CURSOR_KEY_ENV = "CURSOR_SECRET"
T = TypeVar("T")


Cursor = Annotated[str, StringConstraints(max_length=512, pattern=r"^[A-Za-z0-9_.-]+$")]
"""What a nextCursor looks like: URL-safe base64, a dot, URL-safe base64."""


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
        return f"{self.field}={self.value}" if self.field else "*"


def _as_utc(value: date | datetime | None, *, end_of_day: bool) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    day = value + timedelta(days=1) if end_of_day else value
    return datetime.combine(day, time.min, tzinfo=UTC)


def _cursor_key() -> bytes:
    # The cursor is integrity-checked, not secret; access is decided by the request's scope.
    return os.environ.get(CURSOR_KEY_ENV, "credits-ledger-cursor").encode()


def encode_cursor(position: Position, bound_to: str) -> str:
    payload = json.dumps(
        {"v": _encode_value(position.value), "id": position.doc_id, "q": bound_to},
        separators=(",", ":"),
    ).encode()
    signature = hmac.new(_cursor_key(), payload, hashlib.sha256).digest()[:16]
    return f"{_b64(payload)}.{_b64(signature)}"


def decode_cursor(cursor: str, bound_to: str) -> Position:
    """The position in ``cursor``; InvalidArgument when it was edited or belongs to another query."""
    invalid = InvalidArgument("invalid cursor: use nextCursor as returned, with the same filters", field="cursor")
    try:
        encoded_payload, encoded_signature = cursor.split(".")
        payload = _unb64(encoded_payload)
        signature = _unb64(encoded_signature)
    except (ValueError, binascii.Error):
        raise invalid from None
    expected = hmac.new(_cursor_key(), payload, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(signature, expected):
        raise invalid
    try:
        data = json.loads(payload)
        raw = data["v"]
        value = raw if isinstance(raw, int) and not isinstance(raw, bool) else datetime.fromisoformat(raw)
        position = Position(value=value, doc_id=str(data["id"]))
    except (ValueError, KeyError, TypeError):
        raise invalid from None
    if data.get("q") != bound_to:
        raise invalid
    return position


def page_of(found: list[T], limit: int, bound_to: str, position: Callable[[T], Position]) -> tuple[list[T], str | None]:
    """The first ``limit`` of up to ``limit + 1`` results, and the cursor after them when there are more."""
    page = found[:limit]
    if len(found) <= limit:
        return page, None
    return page, encode_cursor(position(page[-1]), bound_to)


def decode_time_cursor(cursor: str, bound_to: str) -> Position:
    """A cursor of a page ordered by time."""
    position = decode_cursor(cursor, bound_to)
    if not isinstance(position.value, datetime):
        raise InvalidArgument("invalid cursor", field="cursor")
    return position


def _encode_value(value: datetime | int) -> str | int:
    return value if isinstance(value, int) else value.astimezone(UTC).isoformat()


def query_binding(scope: Scope, filters: dict[str, Any]) -> str:
    """What a cursor is bound to: a hash of the scope and the filters."""
    text = json.dumps({"scope": scope.key(), "filters": filters}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


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
    binding = query_binding(scope, filters.fingerprint())
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
    elif "/" not in q and jobs.job_ref(q).get().exists:
        kind, value = "job", q
    else:
        kind, value = "uid", q
    if kind == "email":
        uid = auth.find_uid_by_email(value)
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


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LowBalanceFilters(BaseModel):
    """The query string of ``GET /api/admin/credits/users``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: CreditType = ledger.DEFAULT_CREDIT_TYPE
    below: int = Field(default=20, ge=1, le=ledger.MAX_AMOUNT)
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: Cursor | None = None


def low_balance_users(filters: LowBalanceFilters) -> dict[str, Any]:
    """Users whose balance of one type is below a threshold, lowest first, with their emails."""
    binding = query_binding(Scope(field=None), {"users": str(filters.type), "below": filters.below})
    after = None
    if filters.cursor:
        position = decode_cursor(filters.cursor, binding)
        if not isinstance(position.value, int):
            raise InvalidArgument("invalid cursor", field="cursor")
        after = (position.value, position.doc_id)
    found = ledger.low_balances(filters.type, filters.below, after=after, limit=filters.limit + 1)
    page, next_cursor = page_of(
        found, filters.limit, binding, lambda user: Position(value=user[1].of(filters.type), doc_id=user[0])
    )
    emails = auth.emails_of([uid for uid, _ in page])
    return {
        "users": [
            {"uid": uid, "email": emails.get(uid), **shown, "lastActivity": shown["updatedAt"]}
            for uid, shown in ((uid, balances.to_api()) for uid, balances in page)
        ],
        "nextCursor": next_cursor,
        "filters": {"type": str(filters.type), "below": filters.below},
    }


class AnomalyFilters(BaseModel):
    """The query string of ``GET /api/admin/credits/anomalies``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: anomalies.Kind | None = None
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: Cursor | None = None


def anomalies_page(filters: AnomalyFilters) -> dict[str, Any]:
    """Anomalies newest first, of one kind or all, paged."""
    binding = query_binding(Scope(field=None), {"anomalies": filters.kind})
    after = decode_time_cursor(filters.cursor, binding) if filters.cursor else None
    snaps = list(anomalies.list_spec(filters.kind, after=after, limit=filters.limit + 1).build().stream())
    page, next_cursor = page_of(
        snaps, filters.limit, binding, lambda snap: Position(value=snap.get("createdAt"), doc_id=snap.id)
    )
    return {
        "anomalies": [anomalies.to_api(snap.id, snap.to_dict() or {}) for snap in page],
        "nextCursor": next_cursor,
        "filters": {"kind": filters.kind},
    }
