"""Buying credit packs on the emulators, through Hosting: the packs, checkout in test mode, test checkout.

On the Functions emulator there is no Stripe key, so checkout runs in test mode: the
checkout URL is the app's test page, and completing it sends a signed
``checkout.session.completed`` through the webhook's own code. The whole loop is checked
here: packs → checkout → test checkout → ledger entry, invoice, balance, Activity item.
"""

from __future__ import annotations

import json
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from openapi_check import assert_conforms

from e2e import helpers

PACK = "price_pack_image_100"


def post(path: str, user: helpers.User | None, body: Any) -> requests.Response:
    return requests.post(
        f"{helpers.HOSTING}{path}",
        data=json.dumps(body),
        headers={"Content-Type": "application/json", **(user.auth_header if user else {})},
        timeout=helpers.HTTP_TIMEOUT_S,
    )


def start(user: helpers.User, pack: str = PACK) -> dict[str, str]:
    """``POST /api/credits/checkout``; the session and pack of the test page it points at."""
    response = post("/api/credits/checkout", user, {"pack": pack})
    assert response.status_code == 200, response.text
    body = response.json()
    assert_conforms("post", "/api/credits/checkout", 200, body)
    assert body["testMode"] is True
    path, _, query = body["url"].partition("?")
    assert path == "/top-up/test-checkout"
    params = dict(urllib.parse.parse_qsl(query, strict_parsing=True))
    assert set(params) == {"session", "pack"} and params["session"].startswith("cs_test_")
    return params


def test_packs_are_listed_in_test_mode(member):
    response = requests.get(f"{helpers.HOSTING}/api/credits/packs", headers=member.auth_header, timeout=60)
    assert response.status_code == 200
    body = response.json()
    assert_conforms("get", "/api/credits/packs", 200, body)
    assert body["testMode"] is True
    assert [(p["id"], p["creditType"], p["credits"]) for p in body["packs"]] == [
        ("price_pack_image_100", "image", 100),
        ("price_pack_image_500", "image", 500),
        ("price_pack_video_60", "video", 60),
    ]
    assert all(isinstance(p["unitAmount"], int) and p["currency"] == "usd" for p in body["packs"])
    assert requests.get(f"{helpers.HOSTING}/api/credits/packs", timeout=60).status_code == 401


def test_test_checkout_raises_the_balance_once(member):
    session = start(member)
    assert start(member)["session"] != session["session"]  # each checkout is a new session

    paid = post("/api/credits/test-checkout", member, session)

    assert paid.status_code == 200, paid.text
    body = paid.json()
    assert_conforms("post", "/api/credits/test-checkout", 200, body)
    assert (body["outcome"], body["credits"], body["creditType"]) == ("processed", 100, "image")
    [entry] = helpers.ledger_entries(member.uid)
    assert body["entryIds"] == [entry.id]
    suffix = session["session"].removeprefix("cs_test_")
    assert (entry.data["source"], entry.data["amount"], entry.data["createdBy"]) == ("purchase", 100, "stripe")
    assert entry.data["paymentId"] == f"pi_test_{suffix}"
    assert entry.data["meta"]["stripeEventId"] == f"evt_test_{suffix}"
    invoice = helpers.get_document(f"invoices/{session['session']}")
    assert invoice is not None and invoice.data["uid"] == member.uid and invoice.data["amount"] == 999
    assert helpers.image_balance(member.uid) == 100

    # Completing the same session again (a double click, a retry) is a duplicate: credited once.
    again = post("/api/credits/test-checkout", member, session)
    assert again.status_code == 200 and again.json() == {**body, "outcome": "duplicate"}
    helpers.stays(lambda: helpers.image_balance(member.uid), 100, what="balance after a duplicate")
    assert len(helpers.ledger_entries(member.uid)) == 1
    helpers.assert_chain(member.uid)

    # The purchase is an Activity item, linked to its payment.
    feed = requests.get(f"{helpers.HOSTING}/api/activity", headers=member.auth_header, timeout=60).json()
    [item] = feed["items"]
    assert (item["type"], item["delta"], item["paymentId"]) == ("credits_purchased", 100, f"pi_test_{suffix}")


def test_concurrent_completions_of_one_session_credit_once(member):
    session = start(member, "price_pack_video_60")
    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(lambda _: post("/api/credits/test-checkout", member, session), range(5)))
    outcomes = sorted(r.json()["outcome"] for r in responses)
    assert outcomes == ["duplicate"] * 4 + ["processed"]
    assert len({tuple(r.json()["entryIds"]) for r in responses}) == 1
    assert helpers.balance(member.uid)["video"] == 60  # type: ignore[index]


def test_two_sessions_are_two_purchases(member):
    for _ in range(2):
        assert post("/api/credits/test-checkout", member, start(member)).json()["outcome"] == "processed"
    assert helpers.image_balance(member.uid) == 200
    helpers.assert_chain(member.uid)


def test_unknown_packs_and_bad_sessions_are_refused_and_change_nothing(member):
    for pack in ("price_unknown", "price_plan_pro_monthly", ""):
        response = post("/api/credits/checkout", member, {"pack": pack})
        assert response.status_code == 400, (pack, response.text)
        error = helpers.error_of(response)
        assert error["code"] == "invalid_argument"
        assert "pack" in json.dumps(error["details"])
        assert_conforms("post", "/api/credits/checkout", 400, response.json())
    for body in ({}, {"pack": PACK, "extra": 1}, {"pack": 7}, []):
        assert post("/api/credits/checkout", member, body).status_code == 400

    session = start(member)["session"]
    for body in (
        {"session": session, "pack": "price_unknown"},
        {"session": session, "pack": "price_plan_pro_monthly"},
        {"session": "cs_live_0123456789", "pack": PACK},
        {"session": "not-a-session", "pack": PACK},
        {"session": session},
        {"session": session, "pack": PACK, "uid": "someone-else"},
    ):
        response = post("/api/credits/test-checkout", member, body)
        assert response.status_code == 400, (body, response.text)
        assert_conforms("post", "/api/credits/test-checkout", 400, response.json())
    assert helpers.ledger_entries(member.uid) == [] and helpers.balance(member.uid) is None

    for path, body in (("/api/credits/checkout", {"pack": PACK}), ("/api/credits/test-checkout", {})):
        response = post(path, None, body)
        assert response.status_code == 401 and helpers.error_of(response)["code"] == "unauthenticated"
