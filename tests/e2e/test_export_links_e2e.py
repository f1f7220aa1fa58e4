"""Signed CSV download links through Hosting: made with a bearer token, opened without one.

The ledger is seeded straight into the suite's Firestore (as in ``test_read_api_e2e``); the
links are made and opened over HTTP, and what they stream is compared byte for byte with
the bearer-token export of the same filters.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from openapi_check import assert_conforms

from credits.reads import export_links, queries
from e2e import helpers

FILENAME = re.compile(r'attachment; filename="credits-ledger-(?P<label>[A-Za-z0-9_-]+)-\d{8}-\d{6}\.csv"')


@pytest.fixture
def reader() -> helpers.User:
    return helpers.sign_up(helpers.unique("reader") + "@example.com")


def make_link(path: str, user: helpers.User | None, body: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{helpers.HOSTING}{path}",
        data=json.dumps(body),
        headers={"Content-Type": "application/json", **(user.auth_header if user else {})},
        timeout=helpers.HTTP_TIMEOUT_S,
    )


def open_link(url: str) -> requests.Response:
    """Open a link as a browser navigation would: no Authorization header."""
    return requests.get(f"{helpers.HOSTING}{url}", timeout=helpers.HTTP_TIMEOUT_S)


def bearer_export(path: str, user: helpers.User, params: dict[str, Any]) -> requests.Response:
    return requests.get(f"{helpers.HOSTING}{path}", params=params, headers=user.auth_header, timeout=60)


def assert_same_download(download: requests.Response, bearer: requests.Response) -> None:
    assert download.status_code == bearer.status_code == 200, download.text[:300]
    assert download.headers["Content-Type"] == bearer.headers["Content-Type"]
    assert download.headers["Content-Type"].startswith("text/csv")
    assert download.headers["Cache-Control"] == bearer.headers["Cache-Control"] == "no-store"
    # The same name, stamped with the time of each download.
    named = FILENAME.fullmatch(download.headers["Content-Disposition"])
    expected = FILENAME.fullmatch(bearer.headers["Content-Disposition"])
    assert named and expected and named["label"] == expected["label"]
    assert download.content == bearer.content


def test_a_link_streams_exactly_the_bearer_export_of_its_filters(reader):
    entries = helpers.seed_ledger(reader.uid, 1_050)
    helpers.seed_ledger("someone-else", 30)
    start, end = helpers.SEED_T0 - timedelta(seconds=60), helpers.SEED_T0 - timedelta(seconds=20)
    for filters in (
        {},
        {"type": "video"},
        {"direction": "debit", "source": "text2image"},
        {"from": start.isoformat(), "to": end.isoformat()},
        {"from": "2026-06-01", "to": "2026-06-01", "type": "image"},
    ):
        before = datetime.now(UTC)
        made = make_link("/api/credits/export-link", reader, filters)
        assert made.status_code == 200, made.text
        assert_conforms("post", "/api/credits/export-link", 200, made.json())
        expires_at = datetime.fromisoformat(made.json()["expiresAt"])
        assert before + timedelta(seconds=58) <= expires_at <= datetime.now(UTC) + timedelta(seconds=60)

        download = open_link(made.json()["url"])

        assert_same_download(download, bearer_export("/api/credits/export.csv", reader, filters))
        assert FILENAME.fullmatch(download.headers["Content-Disposition"])["label"] == "my"  # type: ignore[index]
    rows = open_link(make_link("/api/credits/export-link", reader, {}).json()["url"]).text.splitlines()
    assert [row.split(",")[1] for row in rows[1:]] == helpers.expected_ids(entries)


def test_an_admin_link_resolves_q_when_made_and_streams_the_admin_export(reader, admin, member):
    helpers.seed_ledger(reader.uid, 40)
    for body in ({"q": reader.email, "direction": "debit"}, {"q": f"pi_{reader.uid}_3"}, {}):
        made = make_link("/api/admin/credits/export-link", admin, body)
        assert made.status_code == 200, made.text
        assert_conforms("post", "/api/admin/credits/export-link", 200, made.json())
        download = open_link(made.json()["url"])
        assert_same_download(download, bearer_export("/api/admin/credits/export.csv", admin, body))
    by_email = open_link(make_link("/api/admin/credits/export-link", admin, {"q": reader.email}).json()["url"])
    assert FILENAME.fullmatch(by_email.headers["Content-Disposition"])["label"] == reader.uid  # type: ignore[index]

    denied = make_link("/api/admin/credits/export-link", member, {})
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "permission_denied"
    assert_conforms("post", "/api/admin/credits/export-link", 403, denied.json())


def test_link_routes_need_a_token_and_good_filters(reader):
    for path in ("/api/credits/export-link", "/api/admin/credits/export-link"):
        response = make_link(path, None, {})
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"
    for body in (
        {"limit": 5},
        {"cursor": "abc"},
        {"q": "someone"},
        {"uid": "someone"},
        {"type": "gold"},
        {"from": "2026-02-30"},
        {"from": "2026-06-02", "to": "2026-06-01"},
        [],
    ):
        response = make_link("/api/credits/export-link", reader, body)  # type: ignore[arg-type]
        assert response.status_code == 400, (body, response.text[:200])
        assert_conforms("post", "/api/credits/export-link", 400, response.json())


def refused(url: str) -> None:
    response = open_link(url)
    assert response.status_code == 401, (url[:80], response.status_code)
    assert response.headers["Content-Type"].startswith("application/json")
    assert "Content-Disposition" not in response.headers
    error = helpers.error_of(response)
    assert error["code"] == "unauthenticated"
    assert_conforms("get", "/api/exports/{token}", 401, response.json())


def test_a_tampered_malformed_or_expired_link_is_refused_and_streams_nothing(reader):
    helpers.seed_ledger(reader.uid, 20)
    helpers.seed_ledger("victim", 20)
    url = make_link("/api/credits/export-link", reader, {}).json()["url"]
    token = url.removeprefix(export_links.DOWNLOAD_PATH)
    payload, signature = token.split(".")
    as_victim = export_links.sign(
        export_links.ExportGrant(
            scope=queries.Scope(field="uid", value="victim"),
            selection=queries.LedgerSelection(),
            requested_by="my",
            expires_at=datetime.now(UTC) + timedelta(seconds=60),
        ),
        b"a key that is not the deployment's",
    )
    for bad in (
        as_victim,
        as_victim.split(".")[0] + "." + signature,  # another scope under this link's signature
        payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + signature,
        payload + "." + signature[::-1],
        "garbage",
        "a.b",
        "a/b.c",
    ):
        refused(export_links.DOWNLOAD_PATH + bad)

    key = helpers.local_secret("EXPORT_LINK_SECRET").encode()
    expired = export_links.sign(
        export_links.ExportGrant(
            scope=queries.Scope(field="uid", value=reader.uid),
            selection=queries.LedgerSelection(),
            requested_by="my",
            expires_at=datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1),
        ),
        key,
    )
    response = open_link(export_links.DOWNLOAD_PATH + expired)
    assert "expired" in helpers.error_of(response)["message"]
    refused(export_links.DOWNLOAD_PATH + expired)
    # The same grant, still valid, is honoured: the expiry alone made the difference.
    fresh = export_links.sign(
        export_links.ExportGrant(
            scope=queries.Scope(field="uid", value=reader.uid),
            selection=queries.LedgerSelection(),
            requested_by="my",
            expires_at=datetime.now(UTC) + timedelta(seconds=30),
        ),
        key,
    )
    assert open_link(export_links.DOWNLOAD_PATH + fresh).status_code == 200
    assert open_link(url).status_code == 200  # the untouched link still works
