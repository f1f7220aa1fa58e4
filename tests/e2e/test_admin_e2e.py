"""Admin adjustments over HTTP through Hosting, with ID tokens from the Auth emulator."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from e2e import helpers
from e2e.helpers import User

CLICKS = 5


def body(uid: str, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "uid": uid,
        "type": "image",
        "direction": "credit",
        "amount": 25,
        "reason": "goodwill for a failed render",
        "idempotencyKey": helpers.unique("click"),
    }
    return fields | overrides


def test_adjustment_is_written_once_and_a_replay_returns_it(admin: User, member: User) -> None:
    request = body(member.uid)

    created = helpers.adjust(request, admin.auth_header)
    assert created.status_code == 201, created.text
    entry = created.json()["entry"]
    assert created.json()["replayed"] is False
    assert entry["uid"] == member.uid
    assert entry["source"] == "admin_adjustment"
    assert entry["createdBy"] == f"admin:{admin.uid}"
    assert entry["direction"] == "credit"
    assert entry["amount"] == 25
    assert entry["balance_after"] == 25
    assert entry["reason"] == request["reason"]

    replayed = helpers.adjust(request, admin.auth_header)
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["replayed"] is True
    assert replayed.json()["entry"]["id"] == entry["id"]

    conflict = helpers.adjust({**request, "amount": 26}, admin.auth_header)
    assert conflict.status_code == 409, conflict.text
    assert helpers.error_of(conflict)["code"] == "idempotency_conflict"

    [stored] = helpers.ledger_entries(member.uid)
    assert stored.id == entry["id"]
    assert stored.data["createdBy"] == f"admin:{admin.uid}"
    assert stored.data["source"] == "admin_adjustment"
    assert stored.data["amount"] == 25
    assert helpers.image_balance(member.uid) == 25


def test_a_burst_of_double_clicks_grants_once(admin: User, member: User) -> None:
    request = body(member.uid)

    with ThreadPoolExecutor(max_workers=CLICKS) as pool:
        responses = list(pool.map(lambda _: helpers.adjust(request, admin.auth_header), range(CLICKS)))

    assert sorted(r.status_code for r in responses) == [200] * (CLICKS - 1) + [201], [r.text for r in responses]
    assert len({r.json()["entry"]["id"] for r in responses}) == 1
    assert len(helpers.ledger_entries(member.uid)) == 1
    assert helpers.image_balance(member.uid) == request["amount"]


def test_two_admins_may_use_the_same_client_key(admin: User, member: User) -> None:
    other = helpers.make_admin(helpers.sign_up(helpers.unique("admin2") + "@example.com"))
    request = body(member.uid, idempotencyKey="same-click")

    first = helpers.adjust(request, admin.auth_header)
    second = helpers.adjust(request, other.auth_header)

    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    assert first.json()["entry"]["id"] != second.json()["entry"]["id"]
    assert helpers.image_balance(member.uid) == 50


def test_debit_beyond_the_balance_is_refused_with_the_amounts(admin: User, member: User) -> None:
    assert helpers.adjust(body(member.uid, amount=5), admin.auth_header).status_code == 201

    refused = helpers.adjust(body(member.uid, direction="debit", amount=8), admin.auth_header)

    assert refused.status_code == 409, refused.text
    error = helpers.error_of(refused)
    assert error["code"] == "insufficient_credits"
    assert error["details"]["attempted"] == 8
    assert error["details"]["balance"] == 5
    assert "8" in error["message"]
    assert "5" in error["message"]
    assert len(helpers.ledger_entries(member.uid)) == 1
    assert helpers.image_balance(member.uid) == 5
    [anomaly] = [a.data for a in helpers.anomalies("insufficient_credits") if a.data["uid"] == member.uid]
    assert (anomaly["amount"], anomaly["balance"]) == (8, 5)

    exact = body(member.uid, direction="debit", amount=5)
    assert helpers.adjust(exact, admin.auth_header).status_code == 201
    assert helpers.image_balance(member.uid) == 0
    replayed = helpers.adjust(exact, admin.auth_header)
    assert replayed.status_code == 200, replayed.text
    assert helpers.image_balance(member.uid) == 0
    helpers.assert_chain(member.uid)


@pytest.mark.parametrize(
    ("caller", "status", "code"),
    [
        ("member", 403, "permission_denied"),
        ("none", 401, "unauthenticated"),
        ("garbage", 401, "unauthenticated"),
        ("basic", 401, "unauthenticated"),
    ],
)
def test_callers_without_an_admin_token_are_refused(
    caller: str, status: int, code: str, admin: User, member: User
) -> None:
    headers = {
        "member": member.auth_header,
        "none": {},
        "garbage": {"Authorization": "Bearer not.a.token"},
        "basic": {"Authorization": f"Basic {admin.id_token}"},
    }[caller]

    response = helpers.adjust(body(member.uid), headers)

    assert response.status_code == status, response.text
    assert helpers.error_of(response)["code"] == code
    assert helpers.query("credits_ledger") == []
    assert helpers.balance(member.uid) is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": -5}, "amount"),
        ({"amount": "10"}, "amount"),
        ({"amount": 10.0}, "amount"),
        ({"reason": None}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"note": "unknown field"}, "note"),
        ({"direction": "sideways"}, "direction"),
        ({"idempotencyKey": "a/b"}, "idempotencyKey"),
    ],
    ids=[
        "negative-amount",
        "string-amount",
        "float-amount",
        "missing-reason",
        "blank-reason",
        "unknown-field",
        "bad-direction",
        "slash-in-key",
    ],
)
def test_bad_bodies_are_invalid_arguments(change: dict[str, Any], field: str, admin: User) -> None:
    request = {k: v for k, v in (body("someone") | change).items() if v is not None}

    response = helpers.adjust(request, admin.auth_header)

    assert response.status_code == 400, response.text
    error = helpers.error_of(response)
    assert error["code"] == "invalid_argument"
    assert field in {e["field"] for e in error["details"]["errors"]}
    assert helpers.query("credits_ledger") == []
    assert helpers.balance("someone") is None


def test_a_body_that_is_not_json_is_an_invalid_argument(admin: User) -> None:
    response = helpers.adjust(b"uid=someone&amount=10", admin.auth_header)

    assert response.status_code == 400, response.text
    assert helpers.error_of(response)["code"] == "invalid_argument"
