"""Page cursors: where a page ended, signed together with the query it belongs to.

Every paged read (ledger pages, the Activity feed, the admin reports) returns a
``nextCursor`` that names the last item of the page (:class:`~credits.core.query_spec.Position`:
the order field's value and the document id) and the query it belongs to (a hash of the
caller's scope and the filters, :func:`query_binding`). The two are signed together
(:mod:`credits.reads.signing`), so an edited cursor, or a cursor replayed with other filters or by
another user, is refused with ``invalid_argument``. Access does not rest on the cursor: the
scope and the filters always come from the request; the cursor is integrity-checked, not
secret.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import StringConstraints

from credits.core.errors import InvalidArgument
from credits.core.query_spec import Position
from credits.reads import signing

CURSOR_KEY_ENV = "CURSOR_SECRET"
EVERYONE = "*"
"""The scope of a read over every user's items (admins only)."""
SIGNATURE_BYTES = 16
T = TypeVar("T")

Cursor = Annotated[str, StringConstraints(max_length=512, pattern=r"^[A-Za-z0-9_.-]+$")]
"""What a nextCursor looks like: URL-safe base64, a dot, URL-safe base64."""


def query_binding(scope: str, filters: dict[str, Any]) -> str:
    """What a cursor is bound to: a hash of the scope (whose items) and the filters."""
    text = json.dumps({"scope": scope, "filters": filters}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def encode_cursor(position: Position, bound_to: str) -> str:
    value = position.value if isinstance(position.value, int) else position.value.astimezone(UTC).isoformat()
    payload = json.dumps({"v": value, "id": position.doc_id, "q": bound_to}, separators=(",", ":")).encode()
    return signing.seal(payload, _key(), signature_bytes=SIGNATURE_BYTES)


def decode_cursor(cursor: str, bound_to: str) -> Position:
    """The position in ``cursor``; InvalidArgument when it was edited or belongs to another query."""
    invalid = InvalidArgument("invalid cursor: use nextCursor as returned, with the same filters", field="cursor")
    payload = signing.unseal(cursor, _key(), signature_bytes=SIGNATURE_BYTES)
    if payload is None:
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


def decode_time_cursor(cursor: str, bound_to: str) -> Position:
    """A cursor of a page ordered by time."""
    position = decode_cursor(cursor, bound_to)
    if not isinstance(position.value, datetime):
        raise InvalidArgument("invalid cursor", field="cursor")
    return position


def decode_count_cursor(cursor: str, bound_to: str) -> tuple[int, str]:
    """A cursor of a page ordered by a whole number (a balance): (the number, the document id)."""
    position = decode_cursor(cursor, bound_to)
    if not isinstance(position.value, int):
        raise InvalidArgument("invalid cursor", field="cursor")
    return position.value, position.doc_id


def page_of(found: list[T], limit: int, bound_to: str, position: Callable[[T], Position]) -> tuple[list[T], str | None]:
    """The first ``limit`` of up to ``limit + 1`` results, and the cursor after them when there are more."""
    page = found[:limit]
    if len(found) <= limit:
        return page, None
    return page, encode_cursor(position(page[-1]), bound_to)


def _key() -> bytes:
    return os.environ.get(CURSOR_KEY_ENV, "credits-ledger-cursor").encode()
