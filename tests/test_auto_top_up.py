"""Automatic top-up against the Firestore and Auth emulators, through the real webhook code.

Stripe is a local HTTP server on 127.0.0.1 that answers the PaymentIntents API in Stripe's
shapes (idempotent by key, as Stripe is), reached by the real ``stripe`` package; what Stripe
would then send is built with :mod:`credits.flows.stripe_events`, signed, and delivered to
:func:`credits.flows.payments.receive`, signature check included. The emulators' own path (no
Stripe at all: the event is signed and delivered in-process) runs too. Cards are saved the way
the Top up page saves them: a test checkout, whose ``payment_intent.succeeded`` stores the card.
Nothing of Firestore, the Admin SDK or the signature check is mocked.
"""

from __future__ import annotations

import random
import secrets
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.cloud.firestore_v1.base_query import FieldFilter
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from ledger_helpers import request
from local_stripe import Answer, Request, serve
from openapi_check import assert_conforms
from test_alerts import crossings, entries_of
from test_quotes import id_token

from credits.api.routes import app
from credits.core import keys, ledger
from credits.core.firestore_client import db
from credits.core.ledger import CreditType, Direction, Source
from credits.flows import (
    alerts,
    auto_top_up,
    checkout,
    credit_settings,
    payments,
    saved_cards,
    top_up_attempts,
)
from credits.flows import stripe_events as se
from credits.flows.auto_top_up import StripeAccess
from credits.flows.credit_settings import SettingsPatch
from credits.flows.payments import Outcome
from credits.flows.top_up_attempts import Status

WEBHOOK_SECRET = "whsec_auto_top_up_test"
PACK = "price_pack_image_100"
"""100 image credits for 999 usd."""
PRICE = 999
IMAGE = CreditType.IMAGE
FAILING_CARDS = {
    "declined": ("card_declined", "generic_decline"),
    "authentication_required": ("authentication_required",) * 2,
}


# A local Stripe: the PaymentIntents API.


@dataclass
class StripeAPI:
    """``POST /v1/payment_intents`` as Stripe answers it: one PaymentIntent per idempotency key
    (a repeated key gets the first answer again), in ``status`` for ``pm_card_visa``, a 402 card
    error for Stripe's failing test cards; ``down`` answers 500."""

    base: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    down: bool = False
    status: str = "succeeded"
    """What a PaymentIntent of a card that works answers: ``succeeded``, ``processing``, ``requires_action``."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def access(self) -> StripeAccess:
        return StripeAccess(test_mode=False, api_key="sk_test_auto_top_up", api_base=self.base)

    def intents(self, uid: str | None = None) -> list[dict[str, Any]]:
        """The PaymentIntents made (each once), of one user or of all."""
        made = [body for status, body in self.answers.values() if status == 200]
        return [intent for intent in made if uid is None or intent["metadata"]["uid"] == uid]

    def answer(self, key: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            if key not in self.answers:
                self.answers[key] = self._new(form)
            return self.answers[key]

    def _new(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        card = form["payment_method"]
        intent = {
            "id": f"pi_{secrets.token_hex(8)}",
            "object": "payment_intent",
            "amount": int(form["amount"]),
            "currency": form["currency"],
            "customer": form["customer"],
            "payment_method": card,
            "status": self.status,
            "created": int(datetime.now(UTC).timestamp()),
            "last_payment_error": None,
            "metadata": {name[9:-1]: value for name, value in form.items() if name.startswith("metadata[")},
        }
        failing = saved_cards.simulated_card(card)
        if failing is None or str(failing) not in FAILING_CARDS:
            return 200, intent
        code, decline = FAILING_CARDS[str(failing)]
        error = {"type": "card_error", "code": code, "decline_code": decline, "message": "Your card was declined."}
        return 402, {"error": {**error, "payment_intent": {**intent, "status": "requires_payment_method"}}}


@pytest.fixture
def stripe_api() -> Iterator[StripeAPI]:
    state = StripeAPI()

    def answer(request: Request) -> Answer:
        form = dict(urllib.parse.parse_qsl(request.body))
        key = request.headers.get("Idempotency-Key", "")
        state.requests.append({"path": request.path, "key": key, "form": form})
        if state.down:
            # Told not to retry, so that a down Stripe fails quickly (the sweep is what retries).
            return Answer(
                500, {"error": {"type": "api_error", "message": "Stripe is down"}}, (("Stripe-Should-Retry", "false"),)
            )
        return Answer(*state.answer(key, form))

    with serve(answer) as base:
        state.base = base
        yield state


def deliver(event: dict[str, Any]) -> payments.Handled:
    """What Stripe does: sign the event and post it to the webhook (its code, in-process)."""
    payload = se.encode(event)
    return payments.receive(payload.encode(), se.signature_header(payload, WEBHOOK_SECRET), WEBHOOK_SECRET)


def intent_event(intent: dict[str, Any], *, failed: bool = False) -> dict[str, Any]:
    """The ``payment_intent.succeeded`` (or ``payment_failed``) Stripe sends for a PaymentIntent it made."""
    return se.payment_intent(
        event_id=f"evt_{intent['id']}_{'failed' if failed else 'succeeded'}",
        event_type="payment_intent.payment_failed" if failed else "payment_intent.succeeded",
        payment_intent_id=intent["id"],
        amount=intent["amount"],
        currency=intent["currency"],
        customer=intent["customer"],
        payment_method=intent["payment_method"],
        metadata=intent["metadata"],
        failure={"code": "card_declined", "decline_code": "insufficient_funds", "message": "Insufficient funds."}
        if failed
        else None,
        created=intent["created"],
    )


# The user's side.


def buy_with_card(uid: str, card: str = "succeeds") -> None:
    """A pack bought through the Top up page's test checkout, which saves the card (100 image credits)."""
    session = checkout.CompleteTestCheckout(session=f"cs_test_{secrets.token_hex(8)}", pack=PACK, testCard=card)
    checkout.complete_test_checkout(uid, session, webhook_secret=WEBHOOK_SECRET)


def turn_on(uid: str, *, threshold: int = 50, cap: int = 5 * PRICE, enabled: bool = True) -> None:
    patch = {"autoTopUp": {"enabled": enabled, "pack": PACK, "threshold": threshold, "monthlyCap": cap}}
    credit_settings.update(uid, SettingsPatch.model_validate(patch))


def debit(uid: str, amount: int, key: str | None = None) -> ledger.LedgerEntry:
    return ledger.write_ledger_entry(request(uid=uid, direction=Direction.DEBIT, amount=amount, key=key)).entry


def grant(uid: str, amount: int) -> ledger.LedgerEntry:
    return ledger.write_ledger_entry(request(uid=uid, amount=amount)).entry


def deliver_triggers(uid: str, access: StripeAccess | None, *, times: int = 1, seed: int = 0) -> None:
    """The ledger trigger on every entry of the user, each ``times`` times, shuffled, on 8 threads."""
    deliveries = [entry["id"] for entry in entries_of(uid) for _ in range(times)]
    random.Random(seed).shuffle(deliveries)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda entry_id: auto_top_up.on_ledger_entry(entry_id, access=access), deliveries))


def auto_purchases(uid: str) -> list[ledger.LedgerEntry]:
    return [
        ledger.LedgerEntry.from_document(e["id"], e)
        for e in entries_of(uid)
        if e["source"] == Source.PURCHASE and (e.get("meta") or {}).get("autoTopUp") is True
    ]


def attempts_of(uid: str) -> list[top_up_attempts.Attempt]:
    query = db().collection(top_up_attempts.ATTEMPTS).where(filter=FieldFilter("uid", "==", uid))
    return sorted((top_up_attempts.Attempt.from_snapshot(s) for s in query.stream()), key=lambda a: a.created_at)


def alerts_of(uid: str, kind: alerts.Kind) -> dict[str, dict[str, Any]]:
    query = db().collection(alerts.ALERTS).where(filter=FieldFilter("uid", "==", uid))
    return {s.id: s.to_dict() or {} for s in query.stream() if (s.to_dict() or {}).get("kind") == str(kind)}


def call(method: str, uid: str = "alice", body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {id_token(uid)}"}
    return app.test_client().open("/api/credits/settings", method=method, headers=headers, json=body)


# Turning it on.


def test_turning_it_on_needs_a_saved_card_and_a_choice_that_holds_together(accounts):
    accounts("alice")
    choice = {"enabled": True, "pack": PACK, "threshold": 50, "monthlyCap": 2 * PRICE}

    refused = call("PATCH", body={"autoTopUp": choice})

    assert refused.status_code == 409, refused.json
    assert_conforms("patch", "/api/credits/settings", 409, refused.json)
    assert refused.json["error"]["code"] == "payment_method_required"
    assert refused.json["error"]["details"] == {"field": "autoTopUp.enabled"}
    assert credit_settings.settings_ref("alice").get().exists is False  # nothing written

    buy_with_card("alice")
    for bad, named in [
        ({**choice, "threshold": -1}, "autoTopUp.threshold"),
        ({**choice, "threshold": 5.0}, "autoTopUp.threshold"),
        ({**choice, "pack": "price_plan_pro_monthly"}, "autoTopUp.pack"),
        ({**choice, "pack": "price_nope"}, "autoTopUp.pack"),
        ({**choice, "monthlyCap": PRICE - 1}, "autoTopUp.monthlyCap"),
        ({**choice, "monthlyCap": 0}, "autoTopUp.monthlyCap"),
        ({"enabled": True, "pack": PACK, "threshold": 50}, "autoTopUp.monthlyCap"),
        ({"enabled": False, "pack": PACK}, "autoTopUp.threshold"),
        ({"pack": PACK, "threshold": 50, "monthlyCap": PRICE}, "autoTopUp.enabled"),
        ({**choice, "card": "4242"}, "autoTopUp.card"),
    ]:
        response = call("PATCH", body={"autoTopUp": bad})
        assert response.status_code == 400, (bad, response.json)
        assert_conforms("patch", "/api/credits/settings", 400, response.json)
        assert named in [error["field"] for error in response.json["error"]["details"]["errors"]], bad
    assert credit_settings.settings_ref("alice").get().exists is False

    answer = call("PATCH", body={"autoTopUp": {**choice, "monthlyCap": PRICE}})  # a cap of exactly one pack

    assert answer.status_code == 200, answer.json
    assert_conforms("patch", "/api/credits/settings", 200, answer.json)
    top = answer.json["autoTopUp"]
    assert {k: top[k] for k in ("enabled", "pack", "threshold", "monthlyCap", "creditType", "credits")} == {
        "enabled": True,
        "pack": PACK,
        "threshold": 50,
        "monthlyCap": PRICE,
        "creditType": "image",
        "credits": 100,
    }
    assert (top["unitAmount"], top["currency"], top["turnedOff"], top["lastAttempt"]) == (PRICE, "usd", None, None)
    assert top["paymentMethod"]["saved"] is True and top["paymentMethod"]["testCard"] == "succeeds"
    assert top["month"]["charged"] == 0 and top["month"]["remaining"] == PRICE
    assert top["enabledAt"] is not None and top["enabledAt"] == top["changedAt"]
    assert call("GET").json == answer.json

    off = call("PATCH", body={"autoTopUp": {"enabled": False}})
    assert off.json["autoTopUp"]["enabled"] is False and off.json["autoTopUp"]["pack"] == PACK  # the choice is kept
    assert call("GET", uid="bob").json["autoTopUp"]["enabled"] is False  # only the caller's own


# Once per crossing.


@pytest.mark.parametrize("seed", [0, 1])
def test_eight_concurrent_debits_charge_once_per_crossing(accounts, stripe_api, seed):
    accounts("alice")
    buy_with_card("alice")  # 100 image credits and a saved card
    turn_on("alice", threshold=50)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: debit("alice", 7, key=f"spend:{n}"), range(8)))  # 100 -> 44
    assert ledger.read_balances("alice").of(IMAGE) == 44

    deliver_triggers("alice", stripe_api.access, times=2, seed=seed)  # every delivery twice, at once

    (crossing,) = crossings("alice", IMAGE, 50)
    [sent] = stripe_api.requests
    customer = saved_cards.read("alice")
    assert customer is not None
    assert (sent["path"], sent["key"]) == ("/v1/payment_intents", f"auto_top_up:{crossing}")
    assert sent["form"] == {
        "amount": str(PRICE),
        "currency": "usd",
        "customer": customer.customer_id,
        "payment_method": "pm_card_visa",
        "off_session": "true",
        "confirm": "true",
        "automatic_payment_methods[enabled]": "true",
        "automatic_payment_methods[allow_redirects]": "never",
        "description": "Automatic top-up: 100 image credits",
        "metadata[uid]": "alice",
        "metadata[pack]": PACK,
        "metadata[autoTopUpAttempt]": crossing,
    }
    [intent] = stripe_api.intents()
    assert top_up_attempts.get(crossing) == top_up_attempts.get(crossing) is not None
    pending = top_up_attempts.get(crossing)
    assert pending is not None and (pending.status, pending.payment_intent_id) == (Status.PENDING, intent["id"])
    assert ledger.read_balances("alice").of(IMAGE) == 44  # credits come with the webhook only

    # Stripe delivers the payment's success twice, at the same time.
    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(h.outcome for h in pool.map(deliver, [intent_event(intent)] * 2))

    assert outcomes == [Outcome.DUPLICATE, Outcome.PROCESSED]
    [bought] = auto_purchases("alice")
    assert (bought.amount, bought.type, bought.payment_id) == (100, IMAGE, intent["id"])
    assert bought.idempotency_key == keys.purchase(intent["id"])
    assert bought.reason == "Automatic top-up: 100 image credits"
    assert {k: bought.meta[k] for k in ("autoTopUp", "autoTopUpAttempt", "amountPaid", "currency")} == {
        "autoTopUp": True,
        "autoTopUpAttempt": crossing,
        "amountPaid": PRICE,
        "currency": "usd",
    }
    assert ledger.read_balances("alice").of(IMAGE) == 144
    settled = top_up_attempts.get(crossing)
    assert settled is not None and (settled.status, settled.credit_entry_id) == (Status.SUCCEEDED, bought.id)
    assert (payments.invoice_ref(intent["id"]).get().to_dict() or {})["entryIds"] == [bought.id]

    # The credit's own trigger, and every delivery again, change nothing.
    deliver_triggers("alice", stripe_api.access, times=2, seed=seed + 1)
    assert len(stripe_api.requests) == 1 and len(auto_purchases("alice")) == 1


def test_the_emulators_top_up_once_through_the_webhook_code(accounts, monkeypatch):
    """On the emulators nothing reaches Stripe: the event is signed and delivered to the webhook code."""
    monkeypatch.setenv("FUNCTIONS_EMULATOR", "true")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    accounts("alice")
    buy_with_card("alice")
    turn_on("alice", threshold=50)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: debit("alice", 7, key=f"spend:{n}"), range(8)))

    deliver_triggers("alice", None, times=2, seed=3)  # access from the environment: the test path

    (crossing,) = crossings("alice", IMAGE, 50)
    [bought] = auto_purchases("alice")
    assert bought.payment_id == f"pi_test_auto_{crossing}" and bought.meta["autoTopUpAttempt"] == crossing
    assert bought.meta["stripeEventId"] == f"evt_test_auto_{crossing}"
    assert ledger.read_balances("alice").of(IMAGE) == 144
    answer = call("GET").json
    assert_conforms("get", "/api/credits/settings", 200, answer)
    last = answer["autoTopUp"]["lastAttempt"]
    assert (last["id"], last["status"], last["creditEntryId"]) == (crossing, "succeeded", bought.id)
    assert answer["autoTopUp"]["month"]["charged"] == PRICE
    assert answer["autoTopUp"]["month"]["remaining"] == 4 * PRICE


def test_a_debit_from_before_it_was_turned_on_never_tops_up(accounts, stripe_api):
    accounts("alice")
    buy_with_card("alice")
    debit("alice", 60)  # 100 -> 40: crosses 50, but automatic top-up is off
    turn_on("alice", threshold=50)

    deliver_triggers("alice", stripe_api.access)
    auto_top_up.sweep_auto_top_ups(datetime.now(UTC) + timedelta(minutes=6), access=stripe_api.access)

    assert stripe_api.requests == [] and attempts_of("alice") == []


# Failures.


@pytest.mark.parametrize("card", ["declined", "authentication_required"])
@pytest.mark.parametrize("where", ["stripe", "emulators"])
def test_a_failed_payment_turns_it_off_and_tells_the_user(accounts, stripe_api, monkeypatch, card, where):
    if where == "emulators":
        monkeypatch.setenv("FUNCTIONS_EMULATOR", "true")
        monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    access = stripe_api.access if where == "stripe" else None
    accounts("alice")
    buy_with_card("alice", card=card)
    turn_on("alice", threshold=50)
    crossing = debit("alice", 60)

    deliver_triggers("alice", access, times=2)

    [attempt] = attempts_of("alice")
    assert (attempt.id, attempt.status) == (crossing.id, Status.FAILED)
    assert attempt.failure is not None and str(attempt.failure.reason) == card.replace("declined", "card_declined")
    assert attempt.payment_intent_id is not None
    assert auto_purchases("alice") == [] and ledger.read_balances("alice").of(IMAGE) == 40
    if where == "stripe":
        # Stripe refused the create call, and then also sends payment_intent.payment_failed: nothing new.
        [answered] = [body for status, body in stripe_api.answers.values() if status == 402]
        intent = answered["error"]["payment_intent"]
        assert intent["id"] == attempt.payment_intent_id
        assert deliver(intent_event(intent, failed=True)).outcome is Outcome.DUPLICATE

    answer = call("GET").json
    assert_conforms("get", "/api/credits/settings", 200, answer)
    top = answer["autoTopUp"]
    assert top["enabled"] is False
    turned_off = top["turnedOff"]
    assert (turned_off["reason"], turned_off["attemptId"]) == (str(attempt.failure.reason), crossing.id)
    assert turned_off["alertId"] == f"auto_top_up_failed:{crossing.id}" and turned_off["at"] is not None
    assert top["lastAttempt"]["status"] == "failed"
    assert top["lastAttempt"]["failure"]["reason"] == turned_off["reason"]
    assert top["month"]["charged"] == 0 and top["month"]["pending"] == 0  # a failure takes no room
    [(alert_id, alert)] = alerts_of("alice", alerts.Kind.AUTO_TOP_UP_FAILED).items()
    assert alert_id == turned_off["alertId"]
    assert {k: alert[k] for k in ("type", "balance", "threshold", "entryId", "pack", "amount", "reason")} == {
        "type": "image",
        "balance": 40,
        "threshold": 50,
        "entryId": crossing.id,
        "pack": PACK,
        "amount": PRICE,
        "reason": turned_off["reason"],
    }
    assert alert["paymentId"] == attempt.payment_intent_id
    assert_conforms("get", "/api/credits/alerts", 200, {"lowBalance": [], "expiringSoon": [], "expiringSoonDays": 3})

    # Off now: the next crossing charges nothing, until the user turns it on again.
    grant("alice", 20)  # 40 -> 60
    debit("alice", 20)  # 60 -> 40: a crossing
    deliver_triggers("alice", access)
    assert len(attempts_of("alice")) == 1
    assert len(stripe_api.requests) == (1 if where == "stripe" else 0)
    turn_on("alice", threshold=50)
    assert credit_settings.read("alice").auto_top_up.turned_off is None


def test_an_answer_that_needs_the_customer_fails_as_authentication_required(accounts, stripe_api):
    stripe_api.status = "requires_action"
    accounts("alice")
    buy_with_card("alice")
    turn_on("alice")
    crossing = debit("alice", 60)

    deliver_triggers("alice", stripe_api.access)

    attempt = top_up_attempts.get(crossing.id)
    assert attempt is not None and attempt.status is Status.FAILED and attempt.failure is not None
    assert attempt.failure.reason is top_up_attempts.FailureReason.AUTHENTICATION_REQUIRED
    assert credit_settings.read("alice").auto_top_up.enabled is False


def test_a_failure_after_the_user_turned_it_on_again_leaves_it_on(accounts, stripe_api):
    accounts("alice")
    buy_with_card("alice")
    turn_on("alice")
    crossing = debit("alice", 60)
    deliver_triggers("alice", stripe_api.access)
    [intent] = stripe_api.intents()
    turn_on("alice", enabled=False)
    turn_on("alice")  # on again after the attempt began

    deliver(intent_event(intent, failed=True))  # the old payment fails late

    assert top_up_attempts.get(crossing.id).status is Status.FAILED  # type: ignore[union-attr]
    assert credit_settings.read("alice").auto_top_up.enabled is True
    assert len(alerts_of("alice", alerts.Kind.AUTO_TOP_UP_FAILED)) == 1  # the user is still told


# Lost deliveries: the hourly sweep.


def test_the_sweep_makes_up_a_lost_crossing_once(accounts, stripe_api):
    accounts("alice")
    buy_with_card("alice")
    turn_on("alice")
    crossing = debit("alice", 60)  # its trigger delivery is lost
    later = datetime.now(UTC) + timedelta(minutes=6)

    too_soon = auto_top_up.sweep_auto_top_ups(datetime.now(UTC), access=stripe_api.access)
    first = auto_top_up.sweep_auto_top_ups(later, access=stripe_api.access)
    again = auto_top_up.sweep_auto_top_ups(later, access=stripe_api.access)
    deliver_triggers("alice", stripe_api.access)  # the trigger after all, late

    assert too_soon.repaired == [] and too_soon.users == 1  # left to the trigger for 5 minutes
    assert [(a.id, a.via) for a in first.repaired] == [(crossing.id, "sweep")]
    assert again.repaired == [] and again.debits == 1
    assert [r["key"] for r in stripe_api.requests] == [f"auto_top_up:{crossing.id}"]


def test_the_sweep_does_not_judge_a_debit_by_settings_changed_after_it(accounts, stripe_api):
    accounts("alice")
    buy_with_card("alice")
    turn_on("alice", threshold=30)
    debit("alice", 60)  # 100 -> 40: no crossing of 30; its trigger judged it so
    turn_on("alice", threshold=50)  # now it would be one

    report = auto_top_up.sweep_auto_top_ups(datetime.now(UTC) + timedelta(minutes=6), access=stripe_api.access)

    assert report.repaired == [] and stripe_api.requests == [] and attempts_of("alice") == []


def test_a_charge_stripe_never_answered_is_tried_again_with_its_key_then_given_up(accounts, stripe_api):
    stripe_api.down = True
    accounts("alice", "bob")
    for uid in ("alice", "bob"):
        buy_with_card(uid)
        turn_on(uid)
    crossings_made = {uid: debit(uid, 60) for uid in ("alice", "bob")}
    for uid in ("alice", "bob"):
        deliver_triggers(uid, stripe_api.access)
    waiting = {a.uid: a for a in (*attempts_of("alice"), *attempts_of("bob"))}
    assert {uid: (a.status, a.payment_intent_id) for uid, a in waiting.items()} == {
        "alice": (Status.PENDING, None),
        "bob": (Status.PENDING, None),
    }
    now = datetime.now(UTC)
    assert auto_top_up.sweep_auto_top_ups(now, access=stripe_api.access).retried == []  # the trigger's for 5 minutes

    # Bob's stays unanswered for a day: past Stripe's key lifetime it fails, and nothing is charged.
    stale = auto_top_up.sweep_auto_top_ups(now + timedelta(hours=24), access=stripe_api.access)
    stripe_api.down = False
    retried = auto_top_up.sweep_auto_top_ups(now + timedelta(minutes=6), access=stripe_api.access)

    assert sorted(stale.given_up) == sorted(c.id for c in crossings_made.values())
    assert retried.retried == []  # both were given up, so neither is charged again
    for uid, crossing in crossings_made.items():
        attempt = top_up_attempts.get(crossing.id)
        assert attempt is not None and attempt.status is Status.FAILED and attempt.failure is not None
        assert attempt.failure.reason is top_up_attempts.FailureReason.PAYMENT_PROVIDER_UNAVAILABLE
        assert credit_settings.read(uid).auto_top_up.turned_off is not None
    assert stripe_api.intents() == []


def test_a_charge_stripe_did_not_answer_is_charged_once_by_the_sweep(accounts, stripe_api):
    stripe_api.down = True
    accounts("alice")
    buy_with_card("alice")
    turn_on("alice")
    crossing = debit("alice", 60)
    deliver_triggers("alice", stripe_api.access)
    stripe_api.down = False

    report = auto_top_up.sweep_auto_top_ups(datetime.now(UTC) + timedelta(minutes=6), access=stripe_api.access)
    again = auto_top_up.sweep_auto_top_ups(datetime.now(UTC) + timedelta(minutes=7), access=stripe_api.access)

    assert report.retried == [crossing.id] and again.retried == []  # answered now: left to the webhook
    assert {r["key"] for r in stripe_api.requests} == {f"auto_top_up:{crossing.id}"}
    [intent] = stripe_api.intents()
    assert top_up_attempts.get(crossing.id).payment_intent_id == intent["id"]  # type: ignore[union-attr]
    deliver(intent_event(intent))
    assert [e.payment_id for e in auto_purchases("alice")] == [intent["id"]]


# Checkout payments, refunds and disputes.


def test_a_checkout_payment_is_credited_once_whichever_of_its_events_comes(accounts):
    accounts("alice")
    customer = saved_cards.ensure_test_customer("alice")
    paid = se.payment_intent(
        event_id="evt_pi_co",
        payment_intent_id="pi_co",
        amount=PRICE,
        customer=customer,
        payment_method="pm_card_visa",
        metadata={"uid": "alice", "pack": PACK},
        setup_future_usage="off_session",
        created=1_800_000_000,
    )
    completed = se.checkout_completed(
        event_id="evt_cs_co", uid="alice", pack=PACK, payment_intent="pi_co", session_id="cs_co", customer=customer
    )

    outcomes = [deliver(event).outcome for event in (paid, completed, paid, completed)]

    assert outcomes == [Outcome.PROCESSED, Outcome.PROCESSED, Outcome.IGNORED, Outcome.DUPLICATE]
    purchases = [e for e in entries_of("alice") if e["source"] == Source.PURCHASE]
    assert [p["idempotencyKey"] for p in purchases] == ["credit:purchase:pi_co"]
    assert "autoTopUp" not in purchases[0]["meta"]
    assert saved_cards.read("alice").payment_method_id == "pm_card_visa"  # type: ignore[union-attr]
    # An older payment's late event does not bring back its card; another customer's card is not taken.
    older = se.payment_intent(
        **{
            **dict(event_id="evt_old", payment_intent_id="pi_old", amount=PRICE, customer=customer),
            "payment_method": "pm_card_chargeCustomerFail",
            "metadata": {"uid": "alice", "pack": PACK},
            "setup_future_usage": "off_session",
            "created": 1_700_000_000,
        }
    )
    stranger = se.payment_intent(
        event_id="evt_other",
        payment_intent_id="pi_other",
        amount=PRICE,
        customer="cus_someone_else",
        payment_method="pm_card_authenticationRequired",
        metadata={"uid": "alice", "pack": PACK},
        setup_future_usage="off_session",
        created=1_900_000_000,
    )
    assert [deliver(e).outcome for e in (older, stranger)] == [Outcome.IGNORED, Outcome.IGNORED]
    assert saved_cards.read("alice").payment_method_id == "pm_card_visa"  # type: ignore[union-attr]


def test_refunds_and_disputes_of_a_top_up_go_through_the_reversals_and_never_top_up_again(accounts, stripe_api):
    accounts("alice")
    buy_with_card("alice")
    turn_on("alice")
    debit("alice", 60)  # 100 -> 40
    deliver_triggers("alice", stripe_api.access)
    [intent] = stripe_api.intents()
    deliver(intent_event(intent))  # 40 -> 140
    [bought] = auto_purchases("alice")

    refund = se.charge_refunded(
        event_id="evt_refund", charge_id="ch_top", payment_intent=intent["id"], amount=PRICE, amount_refunded=500
    )
    dispute = se.dispute(
        event_id="evt_dispute",
        event_type="funds_withdrawn",
        dispute_id="dp_top",
        charge_id="ch_top",
        payment_intent=intent["id"],
        amount=PRICE,
    )
    assert deliver(refund).outcome is Outcome.PROCESSED
    assert deliver(dispute).outcome is Outcome.PROCESSED
    deliver_triggers("alice", stripe_api.access, times=2)

    taken = [e for e in entries_of("alice") if e.get("paymentId") == intent["id"] and e["direction"] == "debit"]
    assert [(e["source"], e["meta"]["purchaseEntryId"]) for e in taken] == [
        (Source.PURCHASE_REVERSAL, bought.id),
        (Source.CHARGEBACK, bought.id),
    ]
    assert taken[0]["amount"] == 100 * 500 // PRICE
    assert ledger.read_balances("alice").of(IMAGE) < 50  # the clawbacks crossed the threshold…
    assert len(attempts_of("alice")) == 1 and len(stripe_api.requests) == 1  # …and bought nothing


# The monthly cap.


def test_a_crossing_past_the_cap_charges_nothing_and_says_so(accounts, stripe_api):
    accounts("alice")
    buy_with_card("alice")
    turn_on("alice", threshold=50, cap=PRICE)  # one pack a month
    first = debit("alice", 60)  # 100 -> 40
    deliver_triggers("alice", stripe_api.access)
    [intent] = stripe_api.intents()
    deliver(intent_event(intent))  # 40 -> 140
    debit("alice", 60)  # 140 -> 80
    second = debit("alice", 60)  # 80 -> 20: the second crossing

    deliver_triggers("alice", stripe_api.access, times=2)

    assert len(stripe_api.requests) == 1
    assert [(a.id, a.status) for a in attempts_of("alice")] == [
        (first.id, Status.SUCCEEDED),
        (second.id, Status.CAPPED),
    ]
    [(alert_id, alert)] = alerts_of("alice", alerts.Kind.AUTO_TOP_UP_CAPPED).items()
    assert alert_id == f"auto_top_up_capped:{second.id}"
    assert (alert["monthlyCap"], alert["charged"], alert["amount"], alert["reason"]) == (PRICE, PRICE, PRICE, None)
    top = call("GET").json["autoTopUp"]
    assert top["enabled"] is True and top["turnedOff"] is None  # on for next month
    assert (top["month"]["charged"], top["month"]["remaining"]) == (PRICE, 0)
    assert top["lastAttempt"]["status"] == "capped"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_crossings_decided_at_once_never_pass_the_cap(accounts, stripe_api, seed):
    """Two crossings of one user, both pending at Stripe, decided concurrently: one pack only."""
    accounts("alice")
    buy_with_card("alice")
    turn_on("alice", threshold=50, cap=PRICE + PRICE // 2)  # room for one pack, not two
    debit("alice", 60)  # 100 -> 40: crossing A
    grant("alice", 30)  # 40 -> 70: re-armed
    debit("alice", 30)  # 70 -> 40: crossing B

    deliver_triggers("alice", stripe_api.access, times=3, seed=seed)

    assert sorted(a.status for a in attempts_of("alice")) == [Status.CAPPED, Status.PENDING]
    assert len(stripe_api.intents("alice")) == 1


@dataclass
class Run:
    """The hypothesis test's account of one user: their Stripe, and which payments it has settled."""

    uid: str
    stripe: StripeAPI
    delivered: set[str] = field(default_factory=set)
    """Entries whose trigger has been delivered."""
    settled: set[str] = field(default_factory=set)
    """PaymentIntents whose outcome Stripe has delivered."""


Step = tuple[str, int]
THRESHOLD = 90
"""The hypothesis test's threshold: a user starts at 100, so most debits cross it."""
DEBIT = st.tuples(st.just("debit"), st.sampled_from([40, 95, 60, 5]))  # the simplest (first) crosses
TRIGGERS = st.tuples(st.just("triggers"), st.just(0))
STRIPE_SAYS = st.tuples(st.sampled_from(["succeed", "succeed", "fail"]), st.integers(0, 5))
STEPS = st.one_of(
    # Weighted by repetition: debits, deliveries and Stripe's answers make crossings and outcomes.
    DEBIT,
    DEBIT,
    DEBIT,
    TRIGGERS,
    TRIGGERS,
    STRIPE_SAYS,
    STRIPE_SAYS,
    st.tuples(st.just("grant"), st.sampled_from([50, 120, 10])),
    st.tuples(st.just("buy"), st.just(0)),
    st.tuples(st.just("turn on"), st.just(0)),
)


def test_automatic_top_up_never_passes_the_monthly_cap(accounts, stripe_api):
    """Over sequences of debits, credits, purchases, trigger deliveries (concurrent, repeated),
    Stripe successes and failures in any order, and turning it on again: what the month's
    automatic top-ups charged, or are charging, never passes the cap, each crossing reaches
    Stripe once at most, and the ledger holds exactly the payments Stripe said succeeded."""
    accounts()
    stripe_api.status = "processing"  # Stripe's outcome comes later, by webhook: success or failure

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(cap_packs=st.integers(1, 2), extra=st.integers(0, PRICE - 1), steps=st.lists(STEPS, min_size=8, max_size=16))
    def run(cap_packs: int, extra: int, steps: list[Step]) -> None:
        cap = cap_packs * PRICE + extra
        state = Run(uid=f"h{uuid.uuid4().hex[:12]}", stripe=stripe_api)
        accounts(state.uid)
        buy_with_card(state.uid)
        turn_on(state.uid, threshold=THRESHOLD, cap=cap)
        for step in [*steps, ("triggers", 0), ("succeed", 0)]:
            apply(state, step)
            check(state, cap)
        for attempt in attempts_of(state.uid):  # what the run reached: --hypothesis-show-statistics
            event(f"an attempt {attempt.status}")

    run()


def apply(state: Run, step: Step) -> None:
    kind, n = step
    uid = state.uid
    if kind == "debit":
        balance = ledger.read_balances(uid).of(IMAGE)
        if balance:
            debit(uid, min(n, balance))
    elif kind == "grant":
        grant(uid, n)
    elif kind == "buy":
        buy_with_card(uid)  # a Checkout purchase: never counted against the cap
    elif kind == "triggers":
        new = [e["id"] for e in entries_of(uid) if e["id"] not in state.delivered]
        state.delivered.update(new)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: auto_top_up.on_ledger_entry(i, access=state.stripe.access), new * 2))
    elif kind in ("succeed", "fail"):
        waiting = [i for i in state.stripe.intents(uid) if i["id"] not in state.settled]
        if waiting:
            intent = waiting[n % len(waiting)]
            state.settled.add(intent["id"])
            deliver(intent_event(intent, failed=kind == "fail"))
    elif kind == "turn on":
        turn_on(uid, threshold=THRESHOLD, cap=credit_settings.read(uid).auto_top_up.monthly_cap or PRICE)


def check(state: Run, cap: int) -> None:
    uid = state.uid
    intents = state.stripe.intents(uid)
    attempts = attempts_of(uid)
    # Each crossing reached Stripe once at most (duplicate deliveries never call it).
    keys_sent = [r["key"] for r in state.stripe.requests if r["form"].get("metadata[uid]") == uid]
    assert len(keys_sent) == len(set(keys_sent)) == len(intents)
    failed = {a.payment_intent_id for a in attempts if a.status is Status.FAILED}
    charged = sum(i["amount"] for i in intents if i["id"] not in failed)
    assert charged <= cap, (charged, cap)
    # The cap as the code counts it (ledger purchases + pending attempts) agrees with Stripe's side.
    assert top_up_attempts.month_spending(uid, "usd", datetime.now(UTC)).total == charged
    # The ledger has one purchase per payment that succeeded, and none for the others.
    succeeded = {i["id"] for i in intents if i["id"] in state.settled and i["id"] not in failed}
    assert {e.payment_id for e in auto_purchases(uid)} == succeeded
