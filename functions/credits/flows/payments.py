"""Stripe: purchases, subscription grants and refunds of purchases, from verified webhook events.

The event's signature is checked on the raw body with ``stripe.Webhook.construct_event``
(5-minute tolerance) before anything is read from it. Handled, in the payload shape of the
API version the pinned ``stripe`` package targets (``2026-10-28.endive``):

* ``checkout.session.completed`` (and ``checkout.session.async_payment_succeeded``) of a
  paid one-time Checkout Session: a ``purchase`` credit, key ``credit:purchase:<payment
  intent>``, and ``invoices/{invoice id}`` (the session id when the session made no invoice).
  The user is ``metadata.uid`` and the pack is ``metadata.pack`` (a price id of :data:`CATALOG`,
  the configuration file's packs),
  because this event's payload carries no line items.
* ``invoice.paid`` of a subscription invoice: a ``subscription_grant`` credit, key
  ``credit:subscription_grant:<invoice id>``, and ``invoices/{invoice id}``. The user is the
  subscription's ``metadata.uid`` (``parent.subscription_details.metadata``) and the plan is
  the price of the invoice line (``lines.data[].pricing.price_details.price``).
* ``payment_intent.succeeded`` of an automatic top-up (``metadata.autoTopUpAttempt``, with
  ``metadata.uid`` and ``metadata.pack``; :mod:`credits.flows.top_up_attempts`): a ``purchase``
  credit marked ``meta.autoTopUp``, under the same key as a Checkout purchase,
  ``credit:purchase:<payment intent>`` (one payment is one credit whichever event brings it),
  ``invoices/{payment intent}``, and the attempt marked ``succeeded`` in the same commit. The
  ``payment_intent.succeeded`` of a Checkout payment is never credited (its session's event
  is): when it saved its card (``setup_future_usage: off_session``), the card is stored for
  automatic top-up (:mod:`credits.flows.saved_cards`), and nothing else.
* ``payment_intent.payment_failed`` of an automatic top-up: the attempt fails, automatic
  top-up is turned off and an ``auto_top_up_failed`` alert raised
  (:func:`credits.flows.top_up_attempts.fail`); of any other payment, ignored.
* ``charge.refunded`` of a purchase: a ``purchase_reversal`` debit of the credits the refund
  pays back (``credits × amount_refunded / amount``, rounded down, minus what earlier
  refunds of the charge took), key ``debit:purchase_reversal:<charge>:<amount_refunded>``.
  It takes at most the balance; a shortfall is an anomaly.

Every other event type is acknowledged and ignored. A duplicate delivery writes nothing
and is recorded as an anomaly with its event id; an event that names no user, a uid that is
no user of the project (Firebase Auth), or no known price is recorded as an
``unattributable_webhook`` anomaly saying why, and acknowledged, so that Stripe stops
retrying it: nothing is credited.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe
from google.cloud import firestore
from google.cloud.firestore import DocumentReference

from credits.core import accounts, anomalies, keys, ledger, logs
from credits.core.errors import IdempotencyConflict, InvalidArgument
from credits.core.firestore_client import db
from credits.core.ledger import CreditType, Direction, LedgerEntry, LedgerRequest, Source
from credits.core.settings import SETTINGS
from credits.flows import reversals, saved_cards, top_up_attempts

INVOICES = "invoices"
SIGNATURE_TOLERANCE_S = 300


class ItemKind(enum.StrEnum):
    PACK = "pack"
    """A one-time credit pack bought through Checkout."""
    PLAN = "plan"
    """A subscription plan that grants credits every paid period."""


@dataclass(frozen=True, kw_only=True)
class CatalogItem:
    """What one Stripe price buys."""

    kind: ItemKind
    """A one-time pack or a subscription plan."""
    name: str
    """Shown to the user in the ledger's reason."""
    credit_type: CreditType
    """Which balance it credits."""
    credits: int
    """How many credits one unit buys (a pack) or one period grants (a plan)."""
    unit_amount: int
    """The price shown in the app, in the currency's minor unit (cents for ``usd``).

    Checkout charges the amount of its Stripe price object, whatever this says; an automatic
    top-up (an off-session PaymentIntent, which takes an amount) charges this. Keep it equal to
    the price's amount in the Stripe dashboard."""
    currency: str
    """The displayed price's ISO 4217 currency code, lower case as Stripe writes it."""
    lasts: timedelta | None = None
    """A pack: its credits expire this long after the purchase; None (the default): never."""
    rollover: timedelta | None = timedelta(0)
    """A plan: its credits expire this long after the end of the period they were granted for;
    ``timedelta(0)`` (the default) at the period's end, None: they roll over for ever."""

    def expires_at(self, *, bought: datetime | None = None, period_end: datetime | None = None) -> datetime | None:
        """When the credits of one purchase (at ``bought``) or one period's grant expire."""
        if self.kind is ItemKind.PACK:
            return bought + self.lasts if bought and self.lasts is not None else None
        return period_end + self.rollover if period_end and self.rollover is not None else None


CATALOG: Mapping[str, CatalogItem] = {
    **{
        price_id: CatalogItem(
            kind=ItemKind.PACK,
            name=pack.name,
            credit_type=CreditType(pack.credit_type),
            credits=pack.credits,
            unit_amount=pack.unit_amount,
            currency=pack.currency,
            lasts=SETTINGS.lasts(price_id),
        )
        for price_id, pack in SETTINGS.packs.items()
    },
    **{
        price_id: CatalogItem(
            kind=ItemKind.PLAN,
            name=plan.name,
            credit_type=CreditType(plan.credit_type),
            credits=plan.credits,
            unit_amount=plan.unit_amount,
            currency=plan.currency,
            rollover=SETTINGS.rollover(price_id),
        )
        for price_id, plan in SETTINGS.plans.items()
    },
}
"""Stripe price id → what it buys: the ``packs`` and ``plans`` of the configuration file."""


class Outcome(enum.StrEnum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    UNATTRIBUTED = "unattributed"
    """The event names no known user or price; recorded as an anomaly."""
    PENDING = "pending"
    """A refund or dispute whose payment's credit has not arrived: recorded, applied when it does."""


@dataclass(frozen=True, kw_only=True)
class Handled:
    """What :func:`handle_event` did with one event."""

    outcome: Outcome
    event_id: str
    event_type: str
    entries: list[LedgerEntry] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        return {
            "received": True,
            "outcome": str(self.outcome),
            "eventId": self.event_id,
            "type": self.event_type,
            "entryIds": [e.id for e in self.entries],
        }


def verify_event(payload: bytes, signature: str | None, secret: str) -> stripe.Event:
    """The event, if ``payload`` is what Stripe signed with ``secret``; else InvalidArgument."""
    if not signature:
        raise InvalidArgument("missing Stripe-Signature header", field="Stripe-Signature")
    try:
        event: stripe.Event = stripe.Webhook.construct_event(
            payload.decode("utf-8"), signature, secret, tolerance=SIGNATURE_TOLERANCE_S
        )
    except stripe.SignatureVerificationError as exc:
        raise InvalidArgument(f"invalid Stripe signature: {exc.user_message or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"invalid Stripe event payload: {exc}") from None
    # The library only refuses old timestamps; a signature dated in the future is as suspect.
    signed_at = next((p[2:] for p in signature.split(",") if p.startswith("t=")), "")
    if not signed_at.isdigit() or int(signed_at) > time.time() + SIGNATURE_TOLERANCE_S:
        raise InvalidArgument("invalid Stripe signature: timestamp outside the tolerance zone")
    return event


def receive(payload: bytes, signature: str | None, secret: str) -> Handled:
    """Verify and handle one delivery: what the webhook route runs, and the emulators' test checkout too."""
    return handle_event(verify_event(payload, signature, secret))


def handle_event(event: stripe.Event) -> Handled:
    handler = _HANDLERS.get(event.type)
    if handler is None:
        return Handled(outcome=Outcome.IGNORED, event_id=event.id, event_type=event.type)
    return handler(event)


def invoice_ref(invoice_id: str) -> DocumentReference:
    ref: DocumentReference = db().collection(INVOICES).document(invoice_id)
    return ref


def _get(obj: Any, *path: str) -> Any:
    """Follow attributes of a Stripe object; None where one is missing or null."""
    for name in path:
        if obj is None:
            return None
        obj = getattr(obj, name, None)
    return obj


def _checkout_completed(event: stripe.Event) -> Handled:
    session = event.data.object
    if _get(session, "mode") != "payment" or _get(session, "payment_status") != "paid":
        # Subscriptions are granted on invoice.paid; an unpaid async payment comes back
        # as checkout.session.async_payment_succeeded.
        return Handled(outcome=Outcome.IGNORED, event_id=event.id, event_type=event.type)
    metadata = _get(session, "metadata")
    uid = _get(metadata, "uid")
    price_id = _get(metadata, "pack")
    payment_intent = _get(session, "payment_intent")
    context = {"uid": uid, "priceId": price_id, "paymentId": payment_intent}
    if not uid:
        return _unattributed(event, "the session has no metadata.uid", **context)
    if not payment_intent:
        return _unattributed(event, "the session has no payment_intent", **context)
    return _purchase(
        event,
        Purchase(
            uid=uid,
            price_id=price_id,
            payment_intent=payment_intent,
            invoice_id=_get(session, "invoice") or session.id,
            # The session's own time, the same in every event about it, so that a redelivery has the same expiry.
            bought=_timestamp(_get(session, "created")),
            amount=_get(session, "amount_total"),
            currency=_get(session, "currency"),
            checkout_session_id=session.id,
        ),
        context,
    )


def _payment_intent_succeeded(event: stripe.Event) -> Handled:
    intent = event.data.object
    metadata = _get(intent, "metadata")
    if _get(metadata, "autoTopUpAttempt"):
        return _auto_top_up_paid(event, intent)
    uid, customer, card = _get(metadata, "uid"), _get(intent, "customer"), _get(intent, "payment_method")
    if _get(intent, "setup_future_usage") != "off_session" or not (uid and customer and card):
        return Handled(outcome=Outcome.IGNORED, event_id=event.id, event_type=event.type)
    # A Checkout payment that saved its card: its credits come with checkout.session.completed.
    saved = saved_cards.save_card(
        uid=uid, customer_id=customer, payment_method_id=card, payment_intent_id=intent.id, paid_at=intent.created
    )
    return Handled(outcome=Outcome.PROCESSED if saved else Outcome.IGNORED, event_id=event.id, event_type=event.type)


def _auto_top_up_paid(event: stripe.Event, intent: Any) -> Handled:
    metadata = _get(intent, "metadata")
    uid, price_id, attempt_id = _get(metadata, "uid"), _get(metadata, "pack"), _get(metadata, "autoTopUpAttempt")
    attempt = top_up_attempts.get(attempt_id)
    context = {"uid": uid, "priceId": price_id, "paymentId": intent.id, "attemptId": attempt_id}
    if not uid or attempt is None or attempt.uid != uid:
        return _unattributed(event, "metadata.autoTopUpAttempt names no automatic top-up of metadata.uid", **context)
    handled = _purchase(
        event,
        Purchase(
            uid=uid,
            price_id=price_id,
            payment_intent=intent.id,
            invoice_id=intent.id,
            # The payment's own time, the same in every event about it (as a session's for Checkout).
            bought=_timestamp(_get(intent, "created")),
            amount=_get(intent, "amount_received"),
            currency=_get(intent, "currency"),
            automatic=attempt,
        ),
        context,
    )
    if handled.outcome is Outcome.PROCESSED:
        logs.info(
            "automatic top-up credited",
            event="auto_top_up_succeeded",
            uid=uid,
            attemptId=attempt.id,
            paymentId=intent.id,
            entryId=handled.entries[0].id,
            amount=_get(intent, "amount_received"),
            currency=_get(intent, "currency"),
        )
    return handled


@dataclass(frozen=True, kw_only=True)
class Purchase:
    """A paid credit pack, as one of its events tells it: a Checkout Session or an automatic top-up."""

    uid: str
    price_id: str | None
    payment_intent: str
    invoice_id: str
    bought: datetime | None
    """When it was paid for, from the event (the pack's credits may expire from then)."""
    amount: int | None
    currency: str | None
    checkout_session_id: str | None = None
    automatic: top_up_attempts.Attempt | None = None
    """The automatic top-up attempt that charged it; None for a Checkout purchase."""


def _purchase(event: stripe.Event, purchase: Purchase, context: dict[str, Any]) -> Handled:
    """Credit a paid pack under ``credit:purchase:<payment intent>``, with its invoice: the same
    credit whichever event of the payment brings it."""
    item = CATALOG.get(purchase.price_id or "")
    if item is None or item.kind is not ItemKind.PACK:
        return _unattributed(event, "metadata.pack is not a credit pack of the catalog", **context)
    if not accounts.user_exists(purchase.uid):
        return _unattributed(event, f"{purchase.uid} is no user of this project", **context)
    attempt = purchase.automatic
    request = LedgerRequest(
        uid=purchase.uid,
        type=item.credit_type,
        direction=Direction.CREDIT,
        amount=item.credits,
        source=Source.PURCHASE,
        idempotency_key=keys.purchase(purchase.payment_intent),
        created_by="stripe",
        reason=f"Automatic top-up: {item.name}" if attempt else f"Purchased {item.name}",
        payment_id=purchase.payment_intent,
        invoice_id=purchase.invoice_id,
        meta={
            "stripeEventId": event.id,
            "priceId": purchase.price_id,
            "amountPaid": purchase.amount,
            **({"checkoutSessionId": purchase.checkout_session_id} if purchase.checkout_session_id else {}),
            **({"currency": purchase.currency, **top_up_attempts.purchase_meta(attempt)} if attempt else {}),
        },
        expires_at=item.expires_at(bought=purchase.bought),
    )
    invoice = {
        "uid": purchase.uid,
        "kind": "purchase",
        "description": f"{item.name} (automatic top-up)" if attempt else item.name,
        "paymentId": purchase.payment_intent,
        "checkoutSessionId": purchase.checkout_session_id,
        "amount": purchase.amount,
        "currency": purchase.currency,
        "status": "paid",
        "hostedUrl": None,
        "createdAt": firestore.SERVER_TIMESTAMP,
    }

    def attempt_succeeded(entry_id: str) -> list[tuple[DocumentReference, dict[str, Any]]]:
        """An automatic top-up's attempt is marked succeeded in the credit's own commit."""
        return [top_up_attempts.credited_fields(attempt.id, entry_id, purchase.payment_intent)] if attempt else []

    return _credit(event, request, purchase.invoice_id, invoice, also=attempt_succeeded)


def _payment_intent_failed(event: stripe.Event) -> Handled:
    intent = event.data.object
    attempt_id = _get(intent, "metadata", "autoTopUpAttempt")
    if not attempt_id:
        return Handled(outcome=Outcome.IGNORED, event_id=event.id, event_type=event.type)  # Checkout retries its own
    error = _get(intent, "last_payment_error")
    failure = top_up_attempts.Failure.from_stripe(
        _get(error, "code"), _get(error, "decline_code"), _get(error, "message")
    )
    failed = top_up_attempts.fail(attempt_id, failure, payment_intent_id=intent.id)
    # A repeated delivery, or a failure already known from Stripe's answer to the charge, changes nothing.
    return Handled(outcome=Outcome.PROCESSED if failed else Outcome.DUPLICATE, event_id=event.id, event_type=event.type)


def _invoice_paid(event: stripe.Event) -> Handled:
    invoice = event.data.object
    subscription = _get(invoice, "parent", "subscription_details")
    if subscription is None:
        # A one-time invoice belongs to a Checkout purchase, credited on its session.
        return Handled(outcome=Outcome.IGNORED, event_id=event.id, event_type=event.type)
    uid = _get(subscription, "metadata", "uid")
    lines = _get(invoice, "lines", "data") or []
    plans: list[tuple[CatalogItem, Any]] = []
    for line in lines:
        item = CATALOG.get(_get(line, "pricing", "price_details", "price") or "")
        if item is not None and item.kind is ItemKind.PLAN:
            plans.append((item, line))
    context = {"uid": uid, "invoiceId": invoice.id, "planLines": len(plans)}
    if not uid:
        return _unattributed(event, "the subscription has no metadata.uid", **context)
    if len(plans) != 1:
        return _unattributed(event, f"the invoice has {len(plans)} plan lines of the catalog, not one", **context)
    if not accounts.user_exists(uid):
        return _unattributed(event, f"{uid} is no user of this project", **context)
    for payment in _get(invoice, "payments", "data") or []:
        # When the payload includes the invoice's payments, they link its payment intents here already.
        if payment_intent := _get(payment, "payment", "payment_intent"):
            reversals.record(payment_intent, {"invoice": invoice.id})
    item, line = plans[0]
    quantity = _get(line, "quantity") or 1
    # The line's period is the one the grant pays for: a renewal invoice's own period is the one
    # before, and a first invoice's is an instant. A line without one grants credits that last.
    period_end = _get(line, "period", "end")
    if period_end is None and item.rollover is not None:
        logs.warning(
            "plan line without a period: its credits do not expire", event="plan_period_missing", invoiceId=invoice.id
        )
    request = LedgerRequest(
        uid=uid,
        type=item.credit_type,
        direction=Direction.CREDIT,
        amount=item.credits * quantity,
        source=Source.SUBSCRIPTION_GRANT,
        idempotency_key=keys.subscription_grant(invoice.id),
        created_by="stripe",
        reason=f"Credits refreshed ({item.name})",
        invoice_id=invoice.id,
        meta={
            "stripeEventId": event.id,
            "subscriptionId": _get(subscription, "subscription"),
            "periodStart": _get(line, "period", "start"),
            "periodEnd": period_end,
            "amountPaid": _get(invoice, "amount_paid"),
        },
        expires_at=item.expires_at(period_end=_timestamp(period_end)),
    )
    record = {
        "uid": uid,
        "kind": "subscription",
        "description": item.name,
        "number": _get(invoice, "number"),
        "subscriptionId": _get(subscription, "subscription"),
        "amount": _get(invoice, "amount_paid"),
        "currency": _get(invoice, "currency"),
        "status": _get(invoice, "status") or "paid",
        "hostedUrl": _get(invoice, "hosted_invoice_url"),
        "createdAt": firestore.SERVER_TIMESTAMP,
    }
    return _credit(event, request, invoice.id, record)


def _charge_refunded(event: stripe.Event) -> Handled:
    charge = event.data.object
    payment_intent = _get(charge, "payment_intent")
    if not payment_intent:
        return Handled(outcome=Outcome.IGNORED, event_id=event.id, event_type=event.type)
    total = _get(charge, "amount_refunded") or 0
    before = _get(event.data, "previous_attributes", "amount_refunded") or 0
    if total <= before:
        return Handled(outcome=Outcome.IGNORED, event_id=event.id, event_type=event.type)
    facts = {"charge": charge.id, "amount": _get(charge, "amount"), **reversals.refund_fact(total, before, event.id)}
    return _reversal(event, payment_intent, facts, own_key=keys.purchase_reversal(charge.id, total))


def _dispute(event: stripe.Event) -> Handled:
    """Any ``charge.dispute.*`` event: what it says of the dispute's funds, then the payment settled."""
    dispute = event.data.object
    payment_intent = _get(dispute, "payment_intent")
    status = str(_get(dispute, "status") or "")
    if not payment_intent or status.startswith("warning_"):
        # An inquiry withdraws no funds; if it becomes a dispute, funds_withdrawn says so.
        return Handled(outcome=Outcome.IGNORED, event_id=event.id, event_type=event.type)
    closed = event.type == "charge.dispute.closed"
    reinstated = event.type == "charge.dispute.funds_reinstated" or (closed and status == "won")
    if closed and status not in ("won", "lost"):
        return Handled(outcome=Outcome.IGNORED, event_id=event.id, event_type=event.type)
    fact = reversals.dispute_fact(
        dispute.id, _get(dispute, "amount") or 0, withdrawn=True, reinstated=reinstated, event_id=event.id
    )
    own = keys.chargeback_reversal(dispute.id) if reinstated else keys.chargeback(dispute.id)
    return _reversal(event, payment_intent, {"charge": _get(dispute, "charge"), **fact}, own_key=own)


def _invoice_payment_paid(event: stripe.Event) -> Handled:
    """Which payment intent paid which invoice: how a refund or a dispute of a plan payment finds its grant."""
    paid = event.data.object
    payment_intent = _get(paid, "payment", "payment_intent")
    invoice_id = _get(paid, "invoice")
    if not payment_intent or not invoice_id:
        return Handled(outcome=Outcome.IGNORED, event_id=event.id, event_type=event.type)
    reversals.record(payment_intent, {"invoice": invoice_id})
    settled = reversals.settle(payment_intent)
    return Handled(outcome=Outcome.PROCESSED, event_id=event.id, event_type=event.type, entries=settled.written)


def _reversal(event: stripe.Event, payment_intent: str, facts: Mapping[str, Any], *, own_key: str) -> Handled:
    """Record an event's facts, settle its payment, and say what became of the event's own entry."""
    reversals.record(payment_intent, facts)
    settled = reversals.settle(payment_intent)
    if settled.purchase is None:
        logs.info(
            "Stripe reversal waits for its purchase",
            event="reversal_pending",
            stripeEventId=event.id,
            stripeEventType=event.type,
            paymentId=payment_intent,
        )
        return Handled(outcome=Outcome.PENDING, event_id=event.id, event_type=event.type)
    own = settled.writes.get(own_key)
    if own is not None and own.replayed and not settled.written:
        return _duplicate(event, own.entry)
    return Handled(outcome=Outcome.PROCESSED, event_id=event.id, event_type=event.type, entries=settled.written)


def _timestamp(seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def _credit(
    event: stripe.Event,
    request: LedgerRequest,
    invoice_id: str,
    invoice: dict[str, Any],
    *,
    also: ledger.ExtraWrites | None = None,
) -> Handled:
    """Write a credit with its invoice (and the documents ``also`` names) in one commit."""
    ref = invoice_ref(invoice_id)
    try:
        write = ledger.write_ledger_entry(
            request,
            also=lambda entry_id: [
                (ref, {**invoice, "entryIds": firestore.ArrayUnion([entry_id])}),
                *(also(entry_id) if also else ()),
            ],
        )
    except IdempotencyConflict:
        # An event credited before its expiry was part of the request (credits from before
        # blocks): the same credit, so a redelivery is a duplicate, not a conflict.
        existing = ledger.find_entry_by_key(request.idempotency_key)
        same = (request.uid, request.type, request.amount, request.source)
        if existing is None or (existing.uid, existing.type, existing.amount, existing.source) != same:
            raise
        return _duplicate(event, existing)
    # What arrived before the credit (a refund, a dispute) is applied now; a replay settles too,
    # in case the delivery that credited stopped before it could.
    after = [
        entry
        for settled in (
            reversals.settle_invoice(invoice_id)
            if request.source is Source.SUBSCRIPTION_GRANT
            else [reversals.settle(str(request.payment_id))]
        )
        for entry in settled.written
    ]
    if write.replayed:
        return _duplicate(event, write.entry)
    return Handled(outcome=Outcome.PROCESSED, event_id=event.id, event_type=event.type, entries=[write.entry, *after])


def _duplicate(event: stripe.Event, entry: LedgerEntry) -> Handled:
    logs.info(
        "duplicate Stripe event skipped",
        event="webhook_duplicate",
        stripeEventId=event.id,
        stripeEventType=event.type,
        entryId=entry.id,
        idempotencyKey=entry.idempotency_key,
    )
    anomalies.record(
        anomalies.Kind.DUPLICATE_WEBHOOK,
        dedupe_key=event.id,
        uid=entry.uid,
        eventId=event.id,
        eventType=event.type,
        entryId=entry.id,
        idempotencyKey=entry.idempotency_key,
    )
    return Handled(outcome=Outcome.DUPLICATE, event_id=event.id, event_type=event.type, entries=[entry])


def _unattributed(event: stripe.Event, why: str, **context: Any) -> Handled:
    """Acknowledge an event that credits nobody, with an anomaly that says why.

    A uid without an account is one of them: its balance could never be spent or seen.
    """
    logs.warning(
        f"Stripe event credits nobody: {why}",
        event="webhook_unattributed",
        stripeEventId=event.id,
        stripeEventType=event.type,
        why=why,
        **context,
    )
    anomalies.record(
        anomalies.Kind.UNATTRIBUTABLE_WEBHOOK,
        dedupe_key=event.id,
        uid=context.get("uid"),
        eventId=event.id,
        eventType=event.type,
        why=why,
        context=context,
    )
    return Handled(outcome=Outcome.UNATTRIBUTED, event_id=event.id, event_type=event.type)


_HANDLERS = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.async_payment_succeeded": _checkout_completed,
    "payment_intent.succeeded": _payment_intent_succeeded,
    "payment_intent.payment_failed": _payment_intent_failed,
    "invoice.paid": _invoice_paid,
    "invoice_payment.paid": _invoice_payment_paid,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute,
    "charge.dispute.funds_withdrawn": _dispute,
    "charge.dispute.funds_reinstated": _dispute,
    "charge.dispute.closed": _dispute,
}
