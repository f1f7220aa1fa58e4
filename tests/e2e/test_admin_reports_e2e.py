"""The admin reports over HTTP: low-balance users (paged, with emails), daily summaries, anomalies."""

from __future__ import annotations

from typing import Any

import requests
from openapi_check import assert_conforms

from e2e import helpers


def get(path: str, user: helpers.User, **params: Any) -> requests.Response:
    return requests.get(f"{helpers.HOSTING}{path}", params=params, headers=user.auth_header, timeout=60)


def grant(admin: helpers.User, uid: str, amount: int) -> None:
    body = {"uid": uid, "type": "image", "direction": "credit", "amount": amount, "reason": "r", "idempotencyKey": uid}
    helpers.adjust(body, admin.auth_header).raise_for_status()


def test_low_balance_users_lowest_first_paged_with_emails(admin, member):
    for n, amount in enumerate([3, 1, 50, 7, 2]):
        grant(admin, f"low-{n}", amount)
    grant(admin, member.uid, 4)

    seen: list[tuple[str, int]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"type": "image", "below": 10, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = get("/api/admin/credits/users", admin, **params)
        assert response.status_code == 200
        body = response.json()
        assert_conforms("get", "/api/admin/credits/users", 200, body)
        seen.extend((u["uid"], u["image"]) for u in body["users"])
        cursor = body["nextCursor"]
        if not cursor:
            break
    assert seen == [("low-1", 1), ("low-4", 2), ("low-0", 3), (member.uid, 4), ("low-3", 7)]
    first = get("/api/admin/credits/users", admin, below=5, limit=10).json()["users"]
    assert next(u for u in first if u["uid"] == member.uid)["email"] == member.email
    assert get("/api/admin/credits/users", member).status_code == 403


def test_summaries_and_anomalies_routes(admin):
    summaries = get("/api/admin/credits/summaries", admin, **{"from": "2026-01-01", "to": "2026-01-31"})
    assert summaries.status_code == 200
    assert summaries.json() == {"summaries": [], "from": "2026-01-01", "to": "2026-01-31"}
    assert get("/api/admin/credits/summaries", admin, **{"from": "2026-02-01", "to": "2026-01-01"}).status_code == 400

    body = {"uid": "poor", "type": "image", "direction": "debit", "amount": 5, "reason": "r", "idempotencyKey": "d"}
    assert helpers.adjust(body, admin.auth_header).status_code == 409
    anomalies = get("/api/admin/credits/anomalies", admin, kind="insufficient_credits").json()
    assert_conforms("get", "/api/admin/credits/anomalies", 200, anomalies)
    [anomaly] = anomalies["anomalies"]
    assert (anomaly["uid"], anomaly["amount"], anomaly["balance"]) == ("poor", 5, 0)
    assert get("/api/admin/credits/anomalies", admin, kind="duplicate_webhook").json()["anomalies"] == []
