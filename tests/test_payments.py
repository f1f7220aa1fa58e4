"""Stripe events through the real signature check and the handlers, against the Firestore emulator."""

from __future__ import annotations

import dataclasses
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.cloud.firestore_v1.base_query import FieldFilter
from ledger_helpers import request, stored_entries

from credits.core import ledger
from credits.core.errors import InvalidArgument
from credits.core.firestore_client import db
from credits.core.ledger import CreditType, Direction, LedgerRequest, Source
from credits.flows import payments
from credits.flows import stripe_events as se
from credits.flows.payments import Outcome
from credits.operations import verify

pytestmark = pytest.mark.usefixtures("firestore")


@pytest.fixture(autouse=True)
def users(accounts) -> None:
    """The buyers are users of the project (Firebase Auth); "mallory" is not."""
    accounts("alice", "bob")


SECRET = "whsec_unit_test"


def deliver(event: dict[str, Any], *, secret: str = SECRET, timestamp: int | None = None) -> payments.Handled:
    payload = se.encode(event)
    header = se.signature_header(payload, secret, timestamp=timestamp)
    return payments.handle_event(payments.verify_event(payload.encode(), header, SECRET))


def checkout(n: int = 1, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "event_id": f"evt_checkout_{n}",
        "uid": "alice",
        "pack": "price_pack_image_100",
        "payment_intent": f"pi_{n}",
        "session_id": f"cs_{n}",
        "amount_total": 1000,
    }
    return se.checkout_completed(**(fields | overrides))


def anomalies(kind: str) -> list[dict[str, Any]]:
    return [s.to_dict() for s in db().collection("anomalies").where(filter=FieldFilter("kind", "==", kind)).stream()]


def test_checkout_credits_the_pack_and_records_the_invoice():
    handled = deliver(checkout(invoice="in_77"))

    assert handled.outcome is Outcome.PROCESSED
    entry = handled.entries[0]
    assert (entry.uid, entry.source, entry.type, entry.amount) == (
        "alice",
        Source.PURCHASE,
        CreditType.IMAGE,
        100,
    )
    assert (entry.payment_id, entry.invoice_id, entry.created_by) == ("pi_1", "in_77", "stripe")
    assert entry.idempotency_key == "credit:purchase:pi_1"
    assert entry.meta["stripeEventId"] == "evt_checkout_1"
    invoice = payments.invoice_ref("in_77").get().to_dict()
    assert (invoice["uid"], invoice["paymentId"], invoice["amount"], invoice["entryIds"]) == (
        "alice",
        "pi_1",
        1000,
        [entry.id],
    )
    assert ledger.read_balances("alice").of(CreditType.IMAGE) == 100


def test_checkout_without_invoice_files_the_receipt_under_the_session():
    entry = deliver(checkout()).entries[0]
    assert entry.invoice_id == "cs_1"
    assert payments.invoice_ref("cs_1").get().exists


def test_duplicate_delivery_writes_nothing_and_is_recorded():
    first = deliver(checkout())
    again = deliver(checkout())

    assert again.outcome is Outcome.DUPLICATE
    assert again.entries[0].id == first.entries[0].id
    assert len(stored_entries("alice")) == 1
    assert ledger.read_balances("alice").of(CreditType.IMAGE) == 100
    [anomaly] = anomalies("duplicate_webhook")
    assert (anomaly["eventId"], anomaly["entryId"]) == ("evt_checkout_1", first.entries[0].id)


def test_concurrent_deliveries_of_one_event_credit_once():
    event = checkout()
    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda _: deliver(event), range(10)))

    assert sorted(r.outcome for r in results).count(Outcome.PROCESSED) == 1
    assert len({r.entries[0].id for r in results}) == 1
    assert len(stored_entries("alice")) == 1
    assert ledger.read_balances("alice").of(CreditType.IMAGE) == 100


def test_subscription_invoice_grants_the_plan():
    event = se.invoice_paid(
        event_id="evt_inv_1",
        uid="alice",
        plan="price_plan_pro_monthly",
        invoice_id="in_sub_1",
        subscription_id="sub_1",
    )
    entry = deliver(event).entries[0]

    assert (entry.source, entry.amount, entry.invoice_id) == (Source.SUBSCRIPTION_GRANT, 300, "in_sub_1")
    assert entry.idempotency_key == "credit:subscription_grant:in_sub_1"
    assert entry.reason == "Credits refreshed (Pro plan)"
    invoice = payments.invoice_ref("in_sub_1").get().to_dict()
    assert (invoice["kind"], invoice["subscriptionId"], invoice["hostedUrl"]) == (
        "subscription",
        "sub_1",
        "https://invoice.stripe.com/i/in_sub_1",
    )
    assert deliver(event).outcome is Outcome.DUPLICATE
    assert ledger.read_balances("alice").of(CreditType.IMAGE) == 300


def test_plan_credits_expire_as_the_catalog_says_and_packs_last(monkeypatch):
    """The Pro plan rolls over one extra period; the Video plan expires at its period's end."""
    period_end = int(time.time()) + 20 * 86400
    grants = []
    for n, plan in enumerate(("price_plan_pro_monthly", "price_plan_video_monthly")):
        event = se.invoice_paid(
            event_id=f"evt_p{n}", uid="alice", plan=plan, invoice_id=f"in_p{n}", subscription_id="s"
        )
        # A renewal invoice's own period is the one before: the line's period is what the grant pays for.
        event["data"]["object"]["period_end"] = period_end - 30 * 86400
        event["data"]["object"]["lines"]["data"][0]["period"]["end"] = period_end
        grants.append(deliver(event).entries[0])
    pack = deliver(checkout()).entries[0]

    assert grants[0].expires_at == datetime.fromtimestamp(period_end, UTC) + timedelta(days=30)
    assert grants[1].expires_at == datetime.fromtimestamp(period_end, UTC)
    assert pack.expires_at is None
    assert ledger.read_balances("alice").blocks[grants[1].id].expires_at == grants[1].expires_at

    monkeypatch.setitem(
        payments.CATALOG,
        "price_pack_image_100",
        dataclasses.replace(payments.CATALOG["price_pack_image_100"], lasts=timedelta(days=365)),
    )
    event = checkout(2)
    bought = datetime.fromtimestamp(event["data"]["object"]["created"], UTC)
    assert deliver(event).entries[0].expires_at == bought + timedelta(days=365)
    assert deliver(event).outcome is Outcome.DUPLICATE  # the same expiry on every delivery


def test_a_plan_line_without_a_period_grants_lasting_credits_and_a_redelivery_of_an_old_grant_is_a_duplicate():
    event = se.invoice_paid(
        event_id="evt_np", uid="alice", plan="price_plan_video_monthly", invoice_id="in_np", subscription_id="s"
    )
    del event["data"]["object"]["lines"]["data"][0]["period"]
    assert deliver(event).entries[0].expires_at is None

    # A grant written before credits could expire: its request had no expiry. The same event
    # delivered again now asks for one, and is still the same credit.
    old = se.invoice_paid(
        event_id="evt_old", uid="bob", plan="price_plan_video_monthly", invoice_id="in_old", subscription_id="s"
    )
    ledger.write_ledger_entry(
        LedgerRequest(
            uid="bob",
            type=CreditType.VIDEO,
            direction=Direction.CREDIT,
            amount=120,
            source=Source.SUBSCRIPTION_GRANT,
            idempotency_key="credit:subscription_grant:in_old",
            created_by="stripe",
            reason="Credits refreshed (Video plan)",
            invoice_id="in_old",
        )
    )
    assert deliver(old).outcome is Outcome.DUPLICATE
    assert ledger.read_balances("bob").of(CreditType.VIDEO) == 120


def test_full_refund_claws_back_the_pack():
    plan = se.invoice_paid(
        event_id="evt_p", uid="alice", plan="price_plan_pro_monthly", invoice_id="in_p", subscription_id="s"
    )
    deliver(plan)  # plan credits expire first, but the refund takes back the pack's own credits
    bought = deliver(checkout()).entries[0]
    event = se.charge_refunded(
        event_id="evt_r1", charge_id="ch_1", payment_intent="pi_1", amount=1000, amount_refunded=1000
    )

    handled = deliver(event)

    entry = handled.entries[0]
    assert [(p.block, p.amount) for p in entry.paid_by] == [(bought.id, 100)]
    assert (entry.source, entry.direction, entry.amount, entry.payment_id) == (
        Source.PURCHASE_REVERSAL,
        Direction.DEBIT,
        100,
        "pi_1",
    )
    assert ledger.read_balances("alice").of(CreditType.IMAGE) == 300
    assert deliver(event).outcome is Outcome.DUPLICATE


def test_partial_refunds_claw_back_in_proportion():
    deliver(checkout())
    first = se.charge_refunded(
        event_id="evt_r1", charge_id="ch_1", payment_intent="pi_1", amount=1000, amount_refunded=250
    )
    second = se.charge_refunded(
        event_id="evt_r2",
        charge_id="ch_1",
        payment_intent="pi_1",
        amount=1000,
        amount_refunded=1000,
        previously_refunded=250,
    )
    assert deliver(first).entries[0].amount == 25
    assert deliver(second).entries[0].amount == 75
    assert ledger.read_balances("alice").of(CreditType.IMAGE) == 0


def test_refund_takes_at_most_the_balance_and_records_the_shortfall():
    deliver(checkout())
    ledger.write_ledger_entry(request(uid="alice", direction=Direction.DEBIT, amount=70))
    event = se.charge_refunded(
        event_id="evt_r1", charge_id="ch_1", payment_intent="pi_1", amount=1000, amount_refunded=1000
    )

    entry = deliver(event).entries[0]

    assert entry.amount == 30 and entry.meta["requestedAmount"] == 100
    assert ledger.read_balances("alice").of(CreditType.IMAGE) == 0
    [shortfall] = anomalies("partial_reversal")
    assert (shortfall["amount"], shortfall["taken"], shortfall["shortfall"]) == (100, 30, 70)
    assert verify.verify_users(["alice"]).ok


def test_refund_with_empty_balance_writes_no_entry_and_records_it():
    deliver(checkout())
    ledger.write_ledger_entry(request(uid="alice", direction=Direction.DEBIT, amount=100))
    event = se.charge_refunded(
        event_id="evt_r1", charge_id="ch_1", payment_intent="pi_1", amount=1000, amount_refunded=1000
    )

    assert deliver(event).entries == []
    assert len(stored_entries("alice")) == 2
    assert anomalies("partial_reversal")[0]["shortfall"] == 100


def test_a_refund_before_its_purchase_waits_and_is_applied_when_the_purchase_lands():
    event = se.charge_refunded(
        event_id="evt_r9", charge_id="ch_9", payment_intent="pi_9", amount=999, amount_refunded=999
    )
    assert deliver(event).outcome is Outcome.PENDING
    assert list(db().collection(ledger.LEDGER).stream()) == []

    landed = deliver(checkout(9))

    assert [(e.source, e.amount) for e in landed.entries] == [(Source.PURCHASE, 100), (Source.PURCHASE_REVERSAL, 100)]
    assert ledger.read_balances("alice").of(CreditType.IMAGE) == 0
    assert deliver(event).outcome is Outcome.DUPLICATE


def test_unknown_event_types_are_ignored():
    event = se.envelope("evt_other", "customer.created", {"id": "cus_1", "object": "customer"})
    assert deliver(event).outcome is Outcome.IGNORED
    assert list(db().collection("anomalies").stream()) == []


@pytest.mark.parametrize(
    "overrides",
    [{"uid": None}, {"pack": None}, {"pack": "price_unknown"}, {"pack": "price_plan_pro_monthly"}],
)
def test_unattributable_checkout_is_acknowledged_and_recorded(overrides):
    assert deliver(checkout(**overrides)).outcome is Outcome.UNATTRIBUTED
    assert list(db().collection(ledger.LEDGER).stream()) == []
    [anomaly] = anomalies("unattributable_webhook")
    assert anomaly["eventId"] == "evt_checkout_1"
    assert anomaly["why"] in ("the session has no metadata.uid", "metadata.pack is not a credit pack of the catalog")


def test_a_checkout_for_a_uid_that_is_no_user_credits_nobody():
    """A ghost balance: credits for a uid without an account could never be spent or seen."""
    handled = deliver(checkout(uid="mallory"))

    assert handled.outcome is Outcome.UNATTRIBUTED
    assert list(db().collection(ledger.LEDGER).stream()) == []
    assert not ledger.balance_ref("mallory").get().exists
    assert not payments.invoice_ref("cs_1").get().exists
    [anomaly] = anomalies("unattributable_webhook")
    assert (anomaly["uid"], anomaly["eventId"], anomaly["why"]) == (
        "mallory",
        "evt_checkout_1",
        "mallory is no user of this project",
    )
    assert anomaly["context"]["paymentId"] == "pi_1"


def test_a_plan_invoice_for_a_uid_that_is_no_user_credits_nobody():
    event = se.invoice_paid(
        event_id="evt_inv_9", uid="mallory", plan="price_plan_pro_monthly", invoice_id="in_9", subscription_id="s"
    )
    assert deliver(event).outcome is Outcome.UNATTRIBUTED
    assert list(db().collection(ledger.LEDGER).stream()) == []
    [anomaly] = anomalies("unattributable_webhook")
    assert anomaly["why"] == "mallory is no user of this project"


def test_invoice_without_subscription_uid_is_recorded():
    event = se.invoice_paid(
        event_id="evt_inv_2", uid=None, plan="price_plan_pro_monthly", invoice_id="in_2", subscription_id="s"
    )
    assert deliver(event).outcome is Outcome.UNATTRIBUTED


def test_unpaid_or_subscription_checkout_is_ignored():
    unpaid = checkout()
    unpaid["data"]["object"]["payment_status"] = "unpaid"
    subscription = checkout(2)
    subscription["data"]["object"]["mode"] = "subscription"
    assert deliver(unpaid).outcome is Outcome.IGNORED
    assert deliver(subscription).outcome is Outcome.IGNORED
    assert list(db().collection(ledger.LEDGER).stream()) == []


def signed(event: dict[str, Any], secret: str = SECRET, timestamp: int | None = None) -> tuple[bytes, str]:
    payload = se.encode(event)
    return payload.encode(), se.signature_header(payload, secret, timestamp=timestamp)


@pytest.mark.parametrize(
    "tamper",
    [
        "wrong_secret",
        "old_timestamp",
        "future_timestamp",
        "changed_body",
        "missing_header",
        "malformed_header",
        "not_json",
    ],
)
def test_bad_signatures_are_refused(tamper):
    body, header = signed(checkout())
    if tamper == "wrong_secret":
        body, header = signed(checkout(), secret="whsec_other")
    elif tamper == "old_timestamp":
        body, header = signed(checkout(), timestamp=int(time.time()) - 301)
    elif tamper == "future_timestamp":
        body, header = signed(checkout(), timestamp=int(time.time()) + 3600)
    elif tamper == "changed_body":
        body = body.replace(b"price_pack_image_100", b"price_pack_image_500")
    elif tamper == "missing_header":
        header = ""
    elif tamper == "malformed_header":
        header = "garbage"
    elif tamper == "not_json":
        body = b"not json"
        header = se.signature_header("not json", SECRET)

    with pytest.raises(InvalidArgument):
        payments.verify_event(body, header, SECRET)


def test_payload_types_match_the_pinned_stripe_api_version():
    event = json.loads(se.encode(checkout()))
    import stripe

    assert event["api_version"] == stripe.api_version
