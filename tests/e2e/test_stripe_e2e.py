"""The Stripe webhook through Hosting's ``/api/**`` rewrite, with real signatures.

Events are built by :mod:`credits.flows.stripe_events` and signed with the secret the Functions
emulator reads from ``functions/.secret.local``, so the webhook's own signature check runs.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from credits.flows import stripe_events
from e2e import helpers

PACK = "price_pack_image_100"
PACK_CREDITS = 100
PLAN = "price_plan_pro_monthly"
PLAN_CREDITS = 300
CONCURRENT_DELIVERIES = 10


def checkout(uid: str, tag: str) -> dict[str, Any]:
    return stripe_events.checkout_completed(
        event_id=f"evt_{tag}", uid=uid, pack=PACK, payment_intent=f"pi_{tag}", session_id=f"cs_{tag}"
    )


def outcome(response: requests.Response) -> str:
    assert response.status_code == 200, response.text
    value: str = response.json()["outcome"]
    return value


def duplicate_anomalies(event_id: str) -> list[dict[str, Any]]:
    return [a.data for a in helpers.anomalies("duplicate_webhook") if a.data.get("eventId") == event_id]


def assert_one_purchase(uid: str, tag: str, entry_id: str) -> None:
    entries = helpers.ledger_entries(uid)
    assert [e.id for e in entries] == [entry_id]
    purchase = entries[0].data
    assert purchase["source"] == "purchase"
    assert purchase["direction"] == "credit"
    assert purchase["type"] == "image"
    assert purchase["amount"] == PACK_CREDITS
    assert purchase["balance_after"] == PACK_CREDITS
    assert purchase["paymentId"] == f"pi_{tag}"
    assert purchase["createdBy"] == "stripe"
    assert purchase["idempotencyKey"] == f"credit:purchase:pi_{tag}"
    assert helpers.image_balance(uid) == PACK_CREDITS
    invoice = helpers.get_document(f"invoices/{purchase['invoiceId']}")
    assert invoice is not None
    assert invoice.data["uid"] == uid
    assert invoice.data["entryIds"] == [entry_id]


def test_checkout_credits_the_buyer_once_however_often_it_is_delivered() -> None:
    buyer, bystander = helpers.new_account("buyer"), helpers.unique("bystander")
    tag = helpers.unique("once")
    event = checkout(buyer, tag)

    first = helpers.deliver(event)
    assert outcome(first) == "processed"
    [entry_id] = first.json()["entryIds"]
    assert duplicate_anomalies(event["id"]) == []

    replays = [helpers.deliver(event) for _ in range(3)]
    assert [outcome(r) for r in replays] == ["duplicate"] * 3
    assert all(r.json()["entryIds"] == [entry_id] for r in replays)

    assert_one_purchase(buyer, tag, entry_id)
    [anomaly] = duplicate_anomalies(event["id"])
    assert anomaly["uid"] == buyer
    assert anomaly["entryId"] == entry_id
    assert helpers.ledger_entries(bystander) == []
    assert helpers.balance(bystander) is None


def test_concurrent_deliveries_of_one_event_credit_once() -> None:
    buyer = helpers.new_account("buyer")
    tag = helpers.unique("race")
    event = checkout(buyer, tag)

    with ThreadPoolExecutor(max_workers=CONCURRENT_DELIVERIES) as pool:
        responses = list(pool.map(lambda _: helpers.deliver(event), range(CONCURRENT_DELIVERIES)))

    outcomes = sorted(outcome(r) for r in responses)
    assert outcomes == ["duplicate"] * (CONCURRENT_DELIVERIES - 1) + ["processed"]
    entry_ids = {entry_id for r in responses for entry_id in r.json()["entryIds"]}
    assert len(entry_ids) == 1
    assert_one_purchase(buyer, tag, entry_ids.pop())
    [anomaly] = duplicate_anomalies(event["id"])
    assert anomaly["uid"] == buyer
    helpers.assert_chain(buyer)


def test_invoice_paid_grants_subscription_credits_once() -> None:
    subscriber = helpers.new_account("subscriber")
    invoice_id = helpers.unique("in")
    event = stripe_events.invoice_paid(
        event_id=f"evt_{invoice_id}",
        uid=subscriber,
        plan=PLAN,
        invoice_id=invoice_id,
        subscription_id=helpers.unique("sub"),
    )

    first = helpers.deliver(event)
    assert outcome(first) == "processed"
    assert outcome(helpers.deliver(event)) == "duplicate"
    resent = {**event, "id": f"evt_{invoice_id}_resent"}
    assert outcome(helpers.deliver(resent)) == "duplicate"

    entries = helpers.ledger_entries(subscriber)
    assert [e.id for e in entries] == first.json()["entryIds"]
    grant = entries[0].data
    assert grant["source"] == "subscription_grant"
    assert grant["direction"] == "credit"
    assert grant["amount"] == PLAN_CREDITS
    assert grant["invoiceId"] == invoice_id
    assert grant["idempotencyKey"] == f"credit:subscription_grant:{invoice_id}"
    assert helpers.image_balance(subscriber) == PLAN_CREDITS
    invoice = helpers.get_document(f"invoices/{invoice_id}")
    assert invoice is not None
    assert invoice.data["uid"] == subscriber
    assert invoice.data["kind"] == "subscription"
    assert invoice.data["entryIds"] == [entries[0].id]


def test_a_checkout_for_a_uid_that_is_no_user_credits_nothing_and_is_listed(admin: helpers.User) -> None:
    ghost = helpers.unique("ghost")  # no account of that uid in Firebase Auth
    event = checkout(ghost, helpers.unique("ghost"))

    response = helpers.deliver(event)

    assert outcome(response) == "unattributed"
    assert helpers.ledger_entries(ghost) == []
    assert helpers.balance(ghost) is None
    listed = requests.get(
        f"{helpers.HOSTING}/api/admin/credits/anomalies",
        params={"kind": "unattributable_webhook"},
        headers=admin.auth_header,
        timeout=helpers.HTTP_TIMEOUT_S,
    )
    assert listed.status_code == 200
    [anomaly] = [a for a in listed.json()["anomalies"] if a["eventId"] == event["id"]]
    assert (anomaly["uid"], anomaly["why"]) == (ghost, f"{ghost} is no user of this project")


def test_unknown_event_types_are_acknowledged_and_ignored() -> None:
    event = stripe_events.envelope(helpers.unique("evt"), "customer.created", {"id": "cus_1"})
    response = helpers.deliver(event)
    assert outcome(response) == "ignored"
    assert helpers.query("credits_ledger") == []


def signed_badly(case: str, payload: str, secret: str) -> tuple[str, str | None]:
    """The body and Stripe-Signature header of one way to fail verification."""
    match case:
        case "tampered":
            signature = stripe_events.signature_header(payload, secret)
            tampered = payload.replace(PACK, PACK.replace("100", "500"), 1)
            assert len(tampered) == len(payload)
            assert sum(a != b for a, b in zip(tampered, payload, strict=True)) == 1
            return tampered, signature
        case "wrong-secret":
            return payload, stripe_events.signature_header(payload, secret + "x")
        case "expired":
            stamp = int(time.time()) - 6 * 60
            return payload, stripe_events.signature_header(payload, secret, timestamp=stamp)
        case "unsigned":
            return payload, None
    raise ValueError(case)


@pytest.mark.parametrize("case", ["tampered", "wrong-secret", "expired", "unsigned"])
def test_unverified_events_are_rejected_and_change_nothing(case: str) -> None:
    buyer = helpers.new_account("buyer")
    event = checkout(buyer, helpers.unique(case))
    payload = stripe_events.encode(event)
    body, signature = signed_badly(case, payload, helpers.webhook_secret())

    response = helpers.post_webhook(body, signature)

    assert response.status_code == 400, response.text
    assert helpers.error_of(response)["code"] == "invalid_argument"
    for collection in ("credits_ledger", "invoices", "anomalies", "idempotency"):
        assert helpers.query(collection) == [], collection
    assert helpers.balance(buyer) is None

    assert outcome(helpers.deliver(event)) == "processed"
    assert helpers.image_balance(buyer) == PACK_CREDITS
