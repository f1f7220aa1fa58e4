"""``scripts/reconcile_stripe.py``: the real ``stripe`` package lists a local stand-in of Stripe's
API, which answers the list endpoints in Stripe's own object shapes, and the ledger is compared."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import reconcile_stripe
from google.cloud.firestore_v1.base_query import FieldFilter
from ledger_helpers import request
from local_stripe import Answer, Request, serve

from credits.core import ledger
from credits.core.firestore_client import db
from credits.core.ledger import Direction
from credits.flows import auto_top_up, checkout, credit_settings, payments
from credits.flows import stripe_events as se
from credits.flows.credit_settings import SettingsPatch

SECRET = "whsec_reconcile"


def deliver(event: dict[str, Any]) -> payments.Handled:
    payload = se.encode(event)
    return payments.receive(payload.encode(), se.signature_header(payload, SECRET), SECRET)


def session(n: int, uid: str) -> dict[str, Any]:
    return se.checkout_completed(
        event_id=f"evt_{n}", uid=uid, pack="price_pack_image_100", payment_intent=f"pi_{n}", session_id=f"cs_{n}"
    )["data"]["object"]


def listing(url: str, data: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "list", "url": url, "has_more": False, "data": data}


class Stand:
    """The account as the stand-in shows it: its objects by list endpoint, and the queries asked."""

    def __init__(self) -> None:
        self.objects: dict[str, list[dict[str, Any]]] = {
            "/v1/checkout/sessions": [],
            "/v1/payment_intents": [],
            "/v1/invoices": [],
            "/v1/refunds": [],
            "/v1/disputes": [],
        }
        self.queries: list[dict[str, list[str]]] = []
        self.base = ""


@pytest.fixture
def stripe_account(monkeypatch) -> Iterator[Stand]:
    stand = Stand()

    def answer(request: Request) -> Answer:
        path, _, query = request.path.partition("?")
        stand.queries.append(urllib.parse.parse_qs(query))
        found = stand.objects.get(path)
        if found is None:
            return Answer(404, {"error": {"message": "no"}})
        return Answer(200, listing(path, found))

    monkeypatch.setenv("STRIPE_SECRET_KEY", "rk_test_reconcile")
    with serve(answer) as base:
        stand.base = base
        yield stand


def run(stand: Stand, capsys) -> tuple[int, list[str]]:
    today = datetime.now(UTC).date().isoformat()
    capsys.readouterr()  # what the deliveries before logged
    code = reconcile_stripe.main(["--since", today, "--api-base", stand.base])
    return code, capsys.readouterr().out.strip().splitlines()


def mismatches() -> list[dict[str, Any]]:
    query = db().collection("anomalies").where(filter=FieldFilter("kind", "==", "stripe_mismatch"))
    return sorted((snap.to_dict() or {} for snap in query.stream()), key=lambda a: a["mismatchKind"])


def test_it_finds_a_lost_purchase_an_unreversed_refund_and_a_purchase_without_payment(
    firestore, accounts, stripe_account, capsys
):
    accounts("alice", "bob")
    deliver(se.checkout_completed(**{**dict(event_id="evt_1", uid="alice"), **_pack(1)}))
    deliver(se.checkout_completed(**{**dict(event_id="evt_3", uid="bob"), **_pack(3)}))  # not in the account
    refund = {"id": "re_1", "object": "refund", "amount": 999, "charge": "ch_1", "payment_intent": "pi_1"}
    stripe_account.objects["/v1/checkout/sessions"] = [session(1, "alice"), session(2, "alice")]
    stripe_account.objects["/v1/refunds"] = [{**refund, "status": "succeeded", "currency": "usd", "created": 1}]

    code, lines = run(stripe_account, capsys)

    assert code == 1
    assert lines[:-1] == [
        "purchase_missing cs_2: Checkout Session cs_2 paid 100 image credits for alice, and the ledger has no purchase",
        "refund_not_reversed ch_1: 999 refunded of charge ch_1: 100 credits to take back, the ledger took 0",
        lines[2],
    ]
    assert (
        lines[2].startswith("purchase_without_payment ")
        and "of bob (pi_3) has no paid Checkout Session or automatic top-up" in lines[2]
    )
    assert lines[-1] == "3 difference(s), each an anomaly of kind stripe_mismatch"
    found = mismatches()
    assert [(a["mismatchKind"], a["paymentId"], a["uid"]) for a in found] == [
        ("purchase_missing", "pi_2", "alice"),
        ("purchase_without_payment", "pi_3", "bob"),
        ("refund_not_reversed", "pi_1", "alice"),
    ]
    created = stripe_account.queries[0]["created[gte]"]
    assert created == [str(int(datetime.combine(datetime.now(UTC).date(), datetime.min.time(), UTC).timestamp()))]

    again, _ = run(stripe_account, capsys)
    assert again == 1 and len(mismatches()) == 3  # a rerun records nothing twice

    deliver(
        se.charge_refunded(event_id="evt_r", charge_id="ch_1", payment_intent="pi_1", amount=999, amount_refunded=999)
    )
    stripe_account.objects["/v1/checkout/sessions"].append(session(3, "bob"))
    _, lines = run(stripe_account, capsys)
    assert [line.split()[0] for line in lines[:-1]] == ["purchase_missing"]


def test_a_withdrawn_dispute_without_its_chargeback_is_found(firestore, accounts, stripe_account, capsys):
    accounts("alice")
    deliver(se.checkout_completed(**{**dict(event_id="evt_1", uid="alice"), **_pack(1)}))
    stripe_account.objects["/v1/checkout/sessions"] = [session(1, "alice")]
    dispute = se.dispute(
        event_id="evt_d", event_type="created", dispute_id="dp_1", charge_id="ch_1", payment_intent="pi_1", amount=999
    )["data"]["object"]
    stripe_account.objects["/v1/disputes"] = [{**dispute, "status": "won", "created": 1}]

    code, lines = run(stripe_account, capsys)
    assert (code, lines[0].split()[:2]) == (1, ["dispute_not_reversed", "dp_1:"])

    deliver(
        se.dispute(
            event_id="evt_w",
            event_type="closed",
            dispute_id="dp_1",
            charge_id="ch_1",
            payment_intent="pi_1",
            amount=999,
            status="won",
        )
    )
    code, lines = run(stripe_account, capsys)
    assert (code, lines) == (0, ["0 difference(s): clean"])


def _pack(n: int) -> dict[str, Any]:
    return {"pack": "price_pack_image_100", "payment_intent": f"pi_{n}", "session_id": f"cs_{n}"}


def test_automatic_top_ups_are_reconciled_by_their_payment_intents(firestore, accounts, stripe_account, capsys):
    accounts("alice")
    bought = checkout.CompleteTestCheckout(session="cs_test_reconcile01", pack="price_pack_image_100")
    checkout.complete_test_checkout("alice", bought, webhook_secret=SECRET)  # saves the card
    choice = {"enabled": True, "pack": "price_pack_image_100", "threshold": 50, "monthlyCap": 5000}
    credit_settings.update("alice", SettingsPatch.model_validate({"autoTopUp": choice}))
    crossing = ledger.write_ledger_entry(request(uid="alice", direction=Direction.DEBIT, amount=60)).entry
    auto_top_up.on_ledger_entry(crossing.id, access=auto_top_up.StripeAccess(test_mode=True, webhook_secret=SECRET))
    paid = se.payment_intent(
        event_id="evt_x",
        payment_intent_id=f"pi_test_auto_{crossing.id}",
        amount=999,
        customer="cus_x",
        payment_method="pm_card_visa",
        metadata={"uid": "alice", "pack": "price_pack_image_100", "autoTopUpAttempt": crossing.id},
    )["data"]["object"]
    lost = {**paid, "id": "pi_lost", "metadata": {**paid["metadata"], "autoTopUpAttempt": "other-entry"}}
    checkout_payment = {**paid, "id": "pi_test_reconcile01", "metadata": {"uid": "alice"}}  # not a top-up
    stripe_account.objects["/v1/checkout/sessions"] = [
        {**session(1, "alice"), "id": "cs_test_reconcile01", "payment_intent": "pi_test_reconcile01"}
    ]
    stripe_account.objects["/v1/payment_intents"] = [paid, checkout_payment]

    clean, lines = run(stripe_account, capsys)
    assert (clean, lines) == (0, ["0 difference(s): clean"])  # the top-up's purchase has its payment

    stripe_account.objects["/v1/payment_intents"].append(lost)
    code, lines = run(stripe_account, capsys)
    assert code == 1
    assert lines[0] == (
        "purchase_missing pi_lost: automatic top-up pi_lost paid 100 image credits for alice, "
        "and the ledger has no purchase"
    )
