"""The read side over HTTP through Hosting with Auth-emulator tokens, checked against the OpenAPI document.

Bulk ledger data is written straight into the suite's Firestore as the owner: these tests
are about reading (paging, filters, CSV, privacy), and 1,000 entries through the write path
would only make them slow. The write path has its own tests.
"""

from __future__ import annotations

import base64
import csv
import io
import itertools
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from ledger_helpers import job_document
from openapi_check import assert_conforms

from e2e import helpers

T0 = helpers.SEED_T0
ENTRIES = 1_050
seed_ledger = helpers.seed_ledger
expected_ids = helpers.expected_ids


def get(path: str, user: helpers.User | None, **params: Any) -> requests.Response:
    headers = user.auth_header if user else {}
    return requests.get(f"{helpers.HOSTING}{path}", params=params, headers=headers, timeout=helpers.HTTP_TIMEOUT_S)


@pytest.fixture
def reader() -> helpers.User:
    return helpers.sign_up(helpers.unique("reader") + "@example.com")


def test_paging_returns_every_entry_once_in_order_under_each_filter(reader):
    entries = seed_ledger(reader.uid, ENTRIES)
    seed_ledger("someone-else", 30)
    for match in ({}, {"type": "video"}, {"direction": "debit"}, {"source": "purchase", "type": "image"}):
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 200, **match}
            if cursor:
                params["cursor"] = cursor
            response = get("/api/credits/ledger", reader, **params)
            assert response.status_code == 200, response.text
            body = response.json()
            assert_conforms("get", "/api/credits/ledger", 200, body)
            assert body["balances"]["image"] == 5
            seen.extend(e["id"] for e in body["entries"])
            cursor = body["nextCursor"]
            if not cursor:
                break
        assert seen == expected_ids(entries, **match), match


def page_all(user: helpers.User, **match: Any) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 200, **match, **({"cursor": cursor} if cursor else {})}
        body = get("/api/credits/ledger", user, **params).json()
        seen.extend(e["id"] for e in body["entries"])
        cursor = body["nextCursor"]
        if not cursor:
            return seen


def test_paging_under_every_type_direction_source_and_date_filter(reader):
    entries = seed_ledger(reader.uid, ENTRIES)
    for credit_type, direction in itertools.product([None, "image", "video"], [None, "credit", "debit"]):
        match = {k: v for k, v in (("type", credit_type), ("direction", direction)) if v}
        assert page_all(reader, **match) == expected_ids(entries, **match), match
    for source in ("purchase", "text2image", "admin_adjustment", "refund"):
        assert page_all(reader, source=source) == expected_ids(entries, source=source), source
    start, end = T0 - timedelta(seconds=60), T0 - timedelta(seconds=20)
    dated = [e for e in entries if start <= e["createdAt"] < end]
    want = [e["id"] for e in sorted(dated, key=lambda e: (e["createdAt"], e["id"]), reverse=True)]
    assert want and page_all(reader, **{"from": start.isoformat(), "to": end.isoformat()}) == want


def test_edited_or_foreign_cursor_is_refused(reader):
    seed_ledger(reader.uid, 30)
    cursor = get("/api/credits/ledger", reader, limit=5).json()["nextCursor"]
    edited = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    for params in ({"cursor": edited}, {"cursor": cursor, "type": "video"}, {"cursor": "garbage"}):
        response = get("/api/credits/ledger", reader, limit=5, **params)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_argument"
        assert_conforms("get", "/api/credits/ledger", 400, response.json())


def test_csv_export_streams_every_entry_and_neutralises_formulas(reader):
    entries = seed_ledger(reader.uid, ENTRIES)
    response = get("/api/credits/export.csv", reader)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="credits-ledger-my-' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["entry_id"] for r in rows] == expected_ids(entries)
    assert next(r for r in rows if r["entry_id"].endswith("e00007"))["reason"] == '\'=HYPERLINK("x")'
    filtered = list(csv.DictReader(io.StringIO(get("/api/credits/export.csv", reader, type="video").text)))
    assert [r["entry_id"] for r in filtered] == expected_ids(entries, type="video")


def test_user_routes_never_show_another_users_data(reader, member):
    seed_ledger("victim", 10)
    for params in ({"uid": "victim"}, {"q": "victim"}):
        response = get("/api/credits/ledger", reader, **params)
        assert response.status_code == 400
    assert get("/api/credits/ledger", reader).json()["entries"] == []
    assert get("/api/activity/entry:victim-e00001", reader).status_code == 404
    assert get("/api/activity/entry:does-not-exist", reader).status_code == 404
    assert_conforms("get", "/api/activity/{itemId}", 404, get("/api/activity/job:nope", reader).json())


def refused_job(job_id: str, uid: str, *, minutes_ago: int, **fields: Any) -> None:
    """A job the billing refused: failed, nothing to bill (the trigger leaves it alone)."""
    document = job_document(
        uid=uid,
        status="failed",
        failureReason="insufficient_credits",
        numImages=1,
        quality="standard",
        billingError="test",
        createdAt=datetime.now(UTC) - timedelta(minutes=minutes_ago),
        **fields,
    )
    helpers.create_document("generation_jobs", job_id, document)


def test_activity_over_http(reader):
    for n in range(60):
        refused_job(f"{reader.uid}-job{n:02d}", reader.uid, minutes_ago=n)
    # Activity reads the projection, which the jobs' trigger writes: behind the ledger trigger's
    # runs for the bulk entries of the tests before, which the Functions emulator makes one by one.
    helpers.wait_for(
        lambda: len(helpers.activity_items(reader.uid)), lambda n: n == 60, what="60 projected jobs", timeout=300
    )
    response = get("/api/activity", reader)
    assert response.status_code == 200
    body = response.json()
    assert_conforms("get", "/api/activity", 200, body)
    assert len(body["items"]) == 50 and body["nextCursor"]
    assert body["items"][0]["id"] == f"job:{reader.uid}-job00"
    empty = get("/api/activity", reader, type="credits").json()
    assert empty == {
        "items": [],
        "nextCursor": None,
        "filters": {"range": "30d", "type": "credits", "influencerId": None},
    }
    detail = get(f"/api/activity/job:{reader.uid}-job03", reader)
    assert detail.status_code == 200
    assert_conforms("get", "/api/activity/{itemId}", 200, detail.json())
    assert get("/api/activity", reader, range="1y").status_code == 400


def test_influencers_of_the_callers_generations(reader, member):
    for n, (influencer_id, name) in enumerate([("inf-nova", "Nova"), ("inf-luna", "Luna"), ("inf-nova", "Nova")]):
        refused_job(f"{reader.uid}-inf{n}", reader.uid, minutes_ago=n, influencerId=influencer_id, influencerName=name)
    # A fixed path beside /api/activity/{itemId}: it is not taken for an item id.
    response = get("/api/activity/influencers", reader)
    assert response.status_code == 200, response.text
    assert_conforms("get", "/api/activity/influencers", 200, response.json())
    assert response.json() == {"influencers": [{"id": "inf-luna", "name": "Luna"}, {"id": "inf-nova", "name": "Nova"}]}
    assert get("/api/activity/influencers", member).json() == {"influencers": []}
    assert get("/api/activity/influencers", reader, limit=5).status_code == 400
    assert get("/api/activity/influencers", None).status_code == 401


def test_admin_search_by_uid_email_job_and_payment(reader, admin, member):
    entries = seed_ledger(reader.uid, 40)
    by_email = get("/api/admin/credits/ledger", admin, q=reader.email, limit=200).json()
    assert_conforms("get", "/api/admin/credits/ledger", 200, by_email)
    assert [e["id"] for e in by_email["entries"]] == expected_ids(entries)
    assert by_email["query"] == {"field": "uid", "value": reader.uid}
    by_job = get("/api/admin/credits/ledger", admin, q="job:job-4").json()
    assert [e["id"] for e in by_job["entries"]] == [f"{reader.uid}-e00004"]
    by_payment = get("/api/admin/credits/ledger", admin, q=f"pi_{reader.uid}_3").json()
    assert [e["id"] for e in by_payment["entries"]] == [f"{reader.uid}-e00003"]
    export = get("/api/admin/credits/export.csv", admin, q=reader.uid, direction="debit")
    assert [r["entry_id"] for r in csv.DictReader(io.StringIO(export.text))] == expected_ids(entries, direction="debit")
    denied = get("/api/admin/credits/ledger", member)
    assert denied.status_code == 403
    assert_conforms("get", "/api/admin/credits/ledger", 403, denied.json())
    assert get("/api/admin/credits/export.csv", member).status_code == 403


def expired(user: helpers.User) -> str:
    """The user's own emulator ID token, re-dated to have expired an hour ago."""
    header, _, signature = user.id_token.split(".")
    claims = helpers.token_claims(user.id_token)
    past = int(time.time()) - 7200
    claims |= {"iat": past, "auth_time": past, "exp": past + 3600}
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


def test_an_expired_token_is_refused_everywhere(reader, admin):
    for user, path in [
        (reader, "/api/credits/ledger"),
        (reader, "/api/activity"),
        (admin, "/api/admin/credits/ledger"),
    ]:
        assert get(path, user).status_code == 200
        response = requests.get(
            f"{helpers.HOSTING}{path}", headers={"Authorization": f"Bearer {expired(user)}"}, timeout=60
        )
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize(
    "path",
    [
        "/api/credits/ledger",
        "/api/credits/export.csv",
        "/api/activity",
        "/api/activity/influencers",
        "/api/activity/job:x",
        "/api/admin/credits/ledger",
        "/api/admin/credits/export.csv",
    ],
)
def test_every_user_route_needs_a_valid_token(path):
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
        response = requests.get(f"{helpers.HOSTING}{path}", headers=headers, timeout=helpers.HTTP_TIMEOUT_S)
        assert response.status_code == 401, (path, headers)
        assert response.json()["error"]["code"] == "unauthenticated"
