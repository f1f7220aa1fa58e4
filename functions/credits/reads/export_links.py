"""Signed download links for the CSV export, so that a browser saves the stream to disk itself.

A browser downloads a file straight to disk only when it navigates to a URL (a link, a
``location`` change); a ``fetch`` with an ``Authorization`` header has to hold the whole
file in page memory first. So the signed-in page asks for a link (``POST
/api/credits/export-link``, or the admin route), and the browser then opens
``GET /api/exports/<token>``, which needs no header: the token is the permission.

A token is ``<payload>.<signature>``, both URL-safe base64 without padding. The payload is
compact JSON binding everything the download will do:

* ``s``: the scope, ``[field, value]`` (``["uid", <caller>]`` for a user; what the admin's
  ``q`` resolved to when the link was made, so a bad ``q`` is refused then, not mid-stream);
* ``f``: the filters, as the query string of the export route would carry them;
* ``k``: who asked, ``my`` or ``admin``, which names the file as the bearer-token export does;
* ``exp``: the expiry, Unix seconds, :data:`LINK_TTL` after the link was made;
* ``x``: for a user's own export, the id of its Activity item (:mod:`credits.reads.activity_log`),
  written when the link is made; each download that streams to its end sets the item's row
  count. An admin's export is not one of the admin's own credit changes and has none.

The signature is HMAC-SHA256 over the payload's bytes with the secret ``EXPORT_LINK_SECRET``
(``credits.core.environment``), compared in constant time before the payload is even parsed
(:mod:`credits.reads.signing`, the format of every token the system hands out). Nothing
is stored: a link is valid for anyone who holds it, as often as they like, until it expires.
The short lifetime is what keeps a link that leaks (a history entry, a proxy log) harmless;
the link is meant to be opened at once, by the page that asked for it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from credits.core import environment
from credits.core.errors import Unauthenticated
from credits.reads import activity_log, queries, signing

LINK_TTL = timedelta(seconds=60)
DOWNLOAD_PATH = "/api/exports/"
VERSION = 1
MAX_TOKEN_CHARS = 4096
"""Longer than any token this module makes (the scope value and filters are bounded)."""


class UserLinkRequest(queries.LedgerSelection):
    """The body of ``POST /api/credits/export-link``: the ledger filters, without ``limit`` or ``cursor``."""


class AdminLinkRequest(queries.LedgerSelection):
    """The body of ``POST /api/admin/credits/export-link``: the filters and the admin's ``q``."""

    q: queries.AdminQuery | None = None


@dataclass(frozen=True, kw_only=True)
class ExportGrant:
    """What one link lets its holder download."""

    scope: queries.Scope
    """Whose entries: one user, a job's or a payment's, or every entry (admins only)."""
    selection: queries.LedgerSelection
    """The filters, checked when the link was made and again when it is used."""
    requested_by: str
    """``my`` (a user's own export) or ``admin``; names the downloaded file."""
    expires_at: datetime
    """After this instant the link is refused."""
    export_id: str | None = None
    """The export's Activity item (``export:<id>`` of the scope's user); None for an admin's export."""

    @property
    def label(self) -> str:
        """The file name's middle part, as the bearer-token export routes name their files."""
        if self.requested_by == "my":
            return "my"
        return self.scope.value or "all"


@dataclass(frozen=True, kw_only=True)
class ExportLink:
    url: str
    expires_at: datetime

    def to_api(self) -> dict[str, Any]:
        return {"url": self.url, "expiresAt": self.expires_at.isoformat()}


def signing_key() -> bytes:
    """The configured key; an error, never a fallback, when the secret is not set."""
    secret = environment.require(environment.EXPORT_LINK_SECRET)
    return secret.encode()


def user_link(uid: str, request: UserLinkRequest, key: bytes, now: datetime | None = None) -> ExportLink:
    """A link to the caller's own entries that match ``request``; the export appears in their Activity."""
    request.bounds()  # refuse from >= to before the export is recorded
    export_id = activity_log.record_export(uid, request.selection(), now)
    return _link(queries.Scope(field="uid", value=uid), request, "my", key, now, export_id)


def admin_link(request: AdminLinkRequest, key: bytes, now: datetime | None = None) -> ExportLink:
    """A link to the admin selection; ``q`` is resolved now, as the admin export would resolve it."""
    scope = queries.resolve_admin_query(request.q)
    return _link(scope, request, "admin", key, now)


def _link(
    scope: queries.Scope,
    selection: queries.LedgerSelection,
    requested_by: str,
    key: bytes,
    now: datetime | None,
    export_id: str | None = None,
) -> ExportLink:
    selection.bounds()  # refuse from >= to now, not when the link is used
    filters = queries.LedgerSelection.model_validate(selection.selection())
    grant = ExportGrant(
        scope=scope,
        selection=filters,
        requested_by=requested_by,
        expires_at=_whole_seconds(now or datetime.now(UTC)) + LINK_TTL,
        export_id=export_id,
    )
    return ExportLink(url=DOWNLOAD_PATH + sign(grant, key), expires_at=grant.expires_at)


def sign(grant: ExportGrant, key: bytes) -> str:
    """The token for ``grant``."""
    payload = json.dumps(
        {
            "v": VERSION,
            "s": [grant.scope.field, grant.scope.value],
            "f": grant.selection.selection(),
            "k": grant.requested_by,
            "exp": int(grant.expires_at.timestamp()),
            **({"x": grant.export_id} if grant.export_id else {}),
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    return signing.seal(payload, key)


def verify(token: str, key: bytes, now: datetime | None = None) -> ExportGrant:
    """The grant ``token`` carries; :class:`Unauthenticated` when it is malformed, altered or expired."""
    invalid = Unauthenticated("this download link is invalid: export again to get a new one")
    payload = signing.unseal(token, key) if len(token) <= MAX_TOKEN_CHARS else None
    if payload is None:
        raise invalid
    # Signed by us from here on: a payload that does not parse is a bug or an old format.
    try:
        data = json.loads(payload)
        if data["v"] != VERSION or data["k"] not in ("my", "admin"):
            raise invalid
        field, value = data["s"]
        expires_at = datetime.fromtimestamp(int(data["exp"]), UTC)
        selection = queries.LedgerSelection.model_validate(data["f"])
        export_id = data.get("x")
        if not (export_id is None or (isinstance(export_id, str) and data["k"] == "my")):
            raise invalid
    except (ValueError, KeyError, TypeError, OverflowError, OSError, ValidationError):
        raise invalid from None
    if (now or datetime.now(UTC)) >= expires_at:
        raise Unauthenticated(
            f"this download link expired at {expires_at.isoformat()}: links last "
            f"{int(LINK_TTL.total_seconds())} seconds, export again to get a new one",
            expiredAt=expires_at.isoformat(),
        )
    return ExportGrant(
        scope=queries.Scope(field=field, value=value),
        selection=selection,
        requested_by=data["k"],
        expires_at=expires_at,
        export_id=export_id,
    )


def _whole_seconds(moment: datetime) -> datetime:
    # The token carries whole seconds; so does expiresAt, so that both name the same instant.
    return moment.astimezone(UTC).replace(microsecond=0)
