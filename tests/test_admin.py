"""Admin adjustments through the handler, against the Firestore emulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from credits.core import ledger
from credits.core.accounts import Caller
from credits.core.errors import IdempotencyConflict, InsufficientCredits
from credits.core.ledger import CreditType, Direction, Source
from credits.flows import admin

pytestmark = pytest.mark.usefixtures("firestore")

ADMIN = Caller(uid="admin-1", admin=True, email="ops@example.com")


def body(**overrides: Any) -> admin.AdjustRequest:
    fields = {
        "uid": "alice",
        "type": "image",
        "direction": "credit",
        "amount": 25,
        "reason": "goodwill",
        "idempotencyKey": "click-1",
    }
    return admin.AdjustRequest.model_validate_json(json.dumps(fields | overrides))


def test_credit_and_debit_are_written_with_the_admin_as_author():
    credit = admin.adjust(ADMIN, body()).entry
    debit = admin.adjust(ADMIN, body(direction="debit", amount=5, idempotencyKey="click-2")).entry

    assert (credit.source, credit.created_by, credit.reason) == (
        Source.ADMIN_ADJUSTMENT,
        "admin:admin-1",
        "goodwill",
    )
    assert credit.idempotency_key == "admin:admin-1:click-1"
    assert (debit.direction, debit.balance_after) == (Direction.DEBIT, 20)
    assert ledger.read_balances("alice").of(CreditType.IMAGE) == 20


def test_double_click_grants_once():
    first = admin.adjust(ADMIN, body())
    second = admin.adjust(ADMIN, body())
    assert second.replayed and second.entry == first.entry
    assert ledger.read_balances("alice").of(CreditType.IMAGE) == 25


def test_same_key_other_amount_is_a_conflict():
    admin.adjust(ADMIN, body())
    with pytest.raises(IdempotencyConflict):
        admin.adjust(ADMIN, body(amount=26))


def test_keys_are_namespaced_per_admin_and_apart_from_system_keys():
    other = Caller(uid="admin-2", admin=True)
    admin.adjust(ADMIN, body())
    admin.adjust(other, body())
    admin.adjust(ADMIN, body(idempotencyKey="credit:purchase:pi_1"))
    assert ledger.read_balances("alice").of(CreditType.IMAGE) == 75
    assert ledger.find_entry_by_key("credit:purchase:pi_1") is None


def test_overdraft_names_amount_and_balance():
    admin.adjust(ADMIN, body(amount=4))
    with pytest.raises(InsufficientCredits) as caught:
        admin.adjust(ADMIN, body(direction="debit", amount=9, idempotencyKey="k"))
    assert (caught.value.details["attempted"], caught.value.details["balance"]) == (9, 4)


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount": -5},
        {"amount": 0},
        {"amount": 1.5},
        {"amount": "10"},
        {"amount": True},
        {"amount": ledger.MAX_AMOUNT + 1},
        {"reason": ""},
        {"reason": "   "},
        {"reason": None},
        {"uid": ""},
        {"uid": "a/b"},
        {"type": "coins"},
        {"direction": "sideways"},
        {"idempotencyKey": ""},
        {"idempotencyKey": "a/b"},
        {"idempotencyKey": "k" * 129},
        {"extra": 1},
    ],
)
def test_malformed_bodies_are_refused(overrides):
    with pytest.raises(ValidationError):
        body(**overrides)


def test_a_grant_may_expire_and_only_a_grant_in_the_future():
    later = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    write = admin.adjust(ADMIN, body(expiresAt=later.astimezone(timezone(timedelta(hours=2))).isoformat()))
    assert write.entry.expires_at == later
    assert ledger.read_balances("alice").to_api()["expiring"]["image"] == {"amount": 25, "expiresAt": later.isoformat()}
    for refused in (
        {"expiresAt": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()},
        {"expiresAt": later.replace(tzinfo=None).isoformat()},
        {"expiresAt": later.isoformat(), "direction": "debit"},
        {"expiresAt": "next week"},
    ):
        with pytest.raises(ValidationError):
            body(**refused)
    # A tool writing history checks the expiry against the time it writes at.
    then = datetime.now(UTC) - timedelta(days=9)
    fields = {
        "uid": "bob",
        "type": "image",
        "direction": "credit",
        "amount": 5,
        "reason": "trial",
        "idempotencyKey": "t",
    }
    past = admin.AdjustRequest.model_validate_json(
        json.dumps(fields | {"expiresAt": (then + timedelta(days=3)).isoformat()}), context={"now": then}
    )
    assert past.expiresAt == then + timedelta(days=3)


def test_video_credits_can_be_granted():
    entry = admin.adjust(ADMIN, body(type="video")).entry
    assert entry.type is CreditType.VIDEO
