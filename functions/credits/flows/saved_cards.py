"""Saved cards: each user's Stripe Customer and the card their last purchase saved for later.

Automatic top-up charges a card without the user present (an off-session PaymentIntent), which
Stripe allows only for a payment method attached to a Customer with the customer's consent.
Checkout gives both: a session created with ``customer`` and
``payment_intent_data.setup_future_usage=off_session`` attaches the card it was paid with to
that Customer, and tells the customer so (:mod:`credits.flows.checkout`). This module keeps
the two ids that come out of it, in ``stripe_customers/{uid}``, server-side only: no client
reads or writes the document (``firestore.credits.rules`` names no rule for it, so the
default denies), and the API says only whether a card is saved and when.

**The Customer, once per user.** :func:`ensure_customer` reads the document; when there is
none it creates the Customer with the idempotency key ``customer:<uid>`` (two checkouts
started at once get the same Customer from Stripe) and stores its id with ``create`` (the
second writer reads the first's). On the emulators, where nothing reaches Stripe,
:func:`ensure_test_customer` stores ``cus_test_<hash of uid>`` instead.

**The card, from the webhook.** The payload of ``checkout.session.completed`` names no payment
method; the ``payment_intent.succeeded`` of the session's payment does (``customer``,
``payment_method``, ``setup_future_usage``). :func:`save_card` stores it when the customer is
the user's own and the payment is newer than the one that saved the stored card (Stripe
delivers out of order: an old payment's late event must not bring back an older card). The
compare and the write are one commit guarded by the document's update time, retried when
another write got there first.

**Test cards (emulators).** The test checkout lets the user pick how later off-session charges
of the saved card will go, and stores one of Stripe's own test payment methods for it
(:data:`TEST_PAYMENT_METHODS`): ``pm_card_visa`` succeeds, ``pm_card_chargeCustomerFail``
(a card that attaches and then declines every charge) is declined,
``pm_card_authenticationRequired`` needs the customer's authentication. The emulators'
automatic top-up reads the outcome back with :func:`simulated_card`, as Stripe's test mode would
answer for those cards.
"""

from __future__ import annotations

import enum
import hashlib
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe
from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore import DocumentReference

from credits.core import ledger, logs
from credits.core.errors import LedgerBusy, PaymentsUnavailable
from credits.core.firestore_client import db

CUSTOMERS = "stripe_customers"
"""``stripe_customers/{uid}``: the user's Stripe Customer and saved card; no client reads or writes it."""
MAX_ATTEMPTS = 20
"""Commits of :func:`save_card` before giving up on a document that keeps changing (it never does)."""


class SimulatedCard(enum.StrEnum):
    """How off-session charges of a card saved by the emulators' test checkout go."""

    SUCCEEDS = "succeeds"
    DECLINED = "declined"
    AUTHENTICATION_REQUIRED = "authentication_required"


TEST_PAYMENT_METHODS: dict[SimulatedCard, str] = {
    SimulatedCard.SUCCEEDS: "pm_card_visa",
    SimulatedCard.DECLINED: "pm_card_chargeCustomerFail",
    SimulatedCard.AUTHENTICATION_REQUIRED: "pm_card_authenticationRequired",
}
"""Stripe's test payment methods that behave so in its test mode, by the outcome they stand for."""


def simulated_card(payment_method_id: str | None) -> SimulatedCard | None:
    """The test outcome a saved test payment method stands for; None for any other card."""
    return next((card for card, pm in TEST_PAYMENT_METHODS.items() if pm == payment_method_id), None)


def customer_ref(uid: str) -> DocumentReference:
    ref: DocumentReference = db().collection(CUSTOMERS).document(uid)
    return ref


@dataclass(frozen=True, kw_only=True)
class StripeCustomer:
    """``stripe_customers/{uid}`` as stored."""

    uid: str
    customer_id: str
    """The Stripe Customer (``cus_…``) that the user's Checkout Sessions and top-ups name."""
    payment_method_id: str | None = None
    """The card the user's latest saving payment attached (``pm_…``); None before one."""
    saved_at: datetime | None = None
    """When that card was stored (the server's time of the write)."""
    paid_at: int | None = None
    """The ``created`` time (Unix seconds) of the payment that saved it: what orders two cards."""
    payment_intent_id: str | None = None
    """The payment that saved it."""

    @property
    def has_card(self) -> bool:
        return self.payment_method_id is not None

    @classmethod
    def from_document(cls, uid: str, data: dict[str, Any]) -> StripeCustomer:
        card = data.get("paymentMethod") or {}
        return cls(
            uid=uid,
            customer_id=data["customerId"],
            payment_method_id=card.get("id"),
            saved_at=card.get("savedAt"),
            paid_at=card.get("paidAt"),
            payment_intent_id=card.get("paymentIntentId"),
        )

    def card_to_api(self) -> dict[str, Any]:
        """What the Top up page is told of the card: whether one is saved, when, and on the
        emulators the test outcome it stands for. No Stripe id leaves the server."""
        return {
            "saved": self.has_card,
            "savedAt": self.saved_at.isoformat() if self.saved_at else None,
            "testCard": str(card) if (card := simulated_card(self.payment_method_id)) else None,
        }


NO_CARD: dict[str, Any] = {"saved": False, "savedAt": None, "testCard": None}
""":meth:`StripeCustomer.card_to_api` of a user without a Customer."""


def read(uid: str) -> StripeCustomer | None:
    snap = customer_ref(uid).get()
    return StripeCustomer.from_document(uid, snap.to_dict() or {}) if snap.exists else None


def ensure_customer(client: stripe.StripeClient, uid: str) -> str:
    """The user's Stripe Customer id, created once (idempotency key ``customer:<uid>``)."""
    existing = read(uid)
    if existing is not None:
        return existing.customer_id
    try:
        customer = client.v1.customers.create(
            params={"metadata": {"uid": uid}}, options={"idempotency_key": f"customer:{uid}"}
        )
    except stripe.StripeError as exc:
        logs.error(
            "Stripe refused to create a Customer",
            event="customer_failed",
            uid=uid,
            error=repr(exc),
            stripeRequestId=exc.request_id,
        )
        raise PaymentsUnavailable("the payment provider could not start checkout: try again later") from None
    return _store_customer(uid, customer.id)


def ensure_test_customer(uid: str) -> str:
    """The emulators' stand-in for :func:`ensure_customer`: a test id derived from the uid, stored once."""
    existing = read(uid)
    if existing is not None:
        return existing.customer_id
    return _store_customer(uid, "cus_test_" + hashlib.sha256(uid.encode()).hexdigest()[:24])


def _store_customer(uid: str, customer_id: str) -> str:
    try:
        customer_ref(uid).create({"uid": uid, "customerId": customer_id, "createdAt": firestore.SERVER_TIMESTAMP})
    except gexc.AlreadyExists:
        stored = read(uid)
        assert stored is not None  # created by the writer that beat this one; never deleted
        return stored.customer_id
    logs.info("Stripe Customer stored", event="stripe_customer_stored", uid=uid, customerId=customer_id)
    return customer_id


def save_card(*, uid: str, customer_id: str, payment_method_id: str, payment_intent_id: str, paid_at: int) -> bool:
    """Store the card a saving payment attached, if the customer is the user's and the payment is
    newer than the one behind the stored card; True when this call stored it."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        snap = customer_ref(uid).get()
        if not snap.exists:
            logs.warning("a saved card of a user without a Stripe Customer", event="card_unknown_customer", uid=uid)
            return False
        stored = StripeCustomer.from_document(uid, snap.to_dict() or {})
        if stored.customer_id != customer_id:
            logs.warning(
                "a saved card of another Stripe Customer than the user's",
                event="card_unknown_customer",
                uid=uid,
                customerId=customer_id,
            )
            return False
        if stored.paid_at is not None and stored.paid_at >= paid_at:
            return False  # this payment's card, or a newer one, is stored already
        card = {
            "id": payment_method_id,
            "paymentIntentId": payment_intent_id,
            "paidAt": paid_at,
            "savedAt": firestore.SERVER_TIMESTAMP,
        }
        try:
            customer_ref(uid).update(
                {"paymentMethod": card}, option=db().write_option(last_update_time=snap.update_time)
            )
        except (gexc.FailedPrecondition, gexc.Aborted):
            time.sleep(ledger.backoff_s(attempt))
            continue
        logs.info("card saved for automatic top-up", event="card_saved", uid=uid, paymentId=payment_intent_id)
        return True
    raise LedgerBusy("the saved card kept changing: try again later", uid=uid)
