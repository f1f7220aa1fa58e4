"""Stripe webhook events built and signed the way Stripe sends them.

Each builder returns an event in the payload shape of the API version the pinned ``stripe``
package targets, the shape :mod:`credits.flows.payments` reads, and :func:`signature_header` signs
a payload as Stripe does (``t=<time>,v1=<HMAC-SHA256>``), so that the webhook's real
signature check runs on it.

**Why it is deployed.** The emulators' test checkout runs in the ``api`` function:
:func:`credits.flows.checkout.complete_test_checkout` builds :func:`checkout_completed` (and the
:func:`payment_intent` event that saves the card), signs them and hands them to
:func:`credits.flows.payments.receive`, as ``stripe trigger`` would; the emulators' automatic
top-up (:mod:`credits.flows.auto_top_up`) does the same with the ``payment_intent.succeeded``
or ``payment_intent.payment_failed`` of its charge. The other
builders (``invoice.paid``, ``invoice_payment.paid``, ``charge.refunded``, disputes) are used
by the tests, the demo data and the web benchmark only, and stay beside it on purpose: this
module is the one statement of the payload shapes the handlers read, for one pinned API
version, and splitting it between the deployed package and a test folder would put the
shapes of one version in two places.
They are plain functions over dicts: nothing calls them in production, and they reach no
Stripe account or database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import stripe


def signature_header(payload: str, secret: str, *, timestamp: int | None = None) -> str:
    signed_at = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{signed_at}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={signed_at},v1={digest}"


def envelope(event_id: str, event_type: str, obj: dict[str, Any], **data: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "api_version": stripe.api_version,
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
        "data": {"object": obj, **data},
    }


def checkout_completed(
    *,
    event_id: str,
    uid: str | None,
    pack: str | None,
    payment_intent: str,
    session_id: str,
    invoice: str | None = None,
    amount_total: int = 999,
    currency: str = "usd",
    event_type: str = "checkout.session.completed",
    payment_status: str = "paid",
    customer: str | None = None,
) -> dict[str, Any]:
    """A one-time Checkout Session: ``completed`` (``payment_status`` ``unpaid`` for an asynchronous
    payment method), then ``checkout.session.async_payment_succeeded`` or ``_failed`` for those."""
    metadata = {k: v for k, v in (("uid", uid), ("pack", pack)) if v is not None}
    session = {
        "id": session_id,
        "object": "checkout.session",
        "mode": "payment",
        "status": "complete",
        "payment_status": payment_status,
        "payment_intent": payment_intent,
        "invoice": invoice,
        "amount_total": amount_total,
        "currency": currency,
        "customer": customer,
        "created": int(time.time()),
        "client_reference_id": uid,
        "metadata": metadata,
    }
    return envelope(event_id, event_type, session)


def payment_intent(
    *,
    event_id: str,
    payment_intent_id: str,
    amount: int,
    currency: str = "usd",
    customer: str | None,
    payment_method: str | None,
    metadata: dict[str, str],
    event_type: str = "payment_intent.succeeded",
    setup_future_usage: str | None = None,
    failure: dict[str, Any] | None = None,
    created: int | None = None,
) -> dict[str, Any]:
    """``payment_intent.succeeded``, or ``payment_intent.payment_failed`` with ``failure`` as its
    ``last_payment_error`` (``{"code", "decline_code", "message"}``). A Checkout payment that saves
    its card has ``setup_future_usage: off_session``; an automatic top-up carries
    ``metadata.autoTopUpAttempt``."""
    succeeded = event_type == "payment_intent.succeeded"
    error = None
    if failure is not None:
        error = {
            "type": "card_error",
            **failure,
            "payment_method": {"id": payment_method, "object": "payment_method", "type": "card"},
        }
    intent = {
        "id": payment_intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount if succeeded else 0,
        "currency": currency,
        "customer": customer,
        "payment_method": payment_method,
        "setup_future_usage": setup_future_usage,
        "status": "succeeded" if succeeded else "requires_payment_method",
        "latest_charge": f"ch_{payment_intent_id.removeprefix('pi_')}" if succeeded else None,
        "last_payment_error": error,
        "capture_method": "automatic_async",
        "confirmation_method": "automatic",
        "created": int(time.time()) if created is None else created,
        "livemode": False,
        "metadata": metadata,
    }
    return envelope(event_id, event_type, intent)


def invoice_paid(
    *,
    event_id: str,
    uid: str | None,
    plan: str,
    invoice_id: str,
    subscription_id: str,
    amount_paid: int = 1999,
    period_start: int | None = None,
) -> dict[str, Any]:
    """A subscription's paid invoice for one 30-day period from ``period_start`` (default: now)."""
    start = int(time.time()) if period_start is None else period_start
    invoice = {
        "id": invoice_id,
        "object": "invoice",
        "status": "paid",
        "billing_reason": "subscription_cycle",
        "number": f"DEMO-{invoice_id[-6:].upper()}",
        "amount_paid": amount_paid,
        "currency": "usd",
        "hosted_invoice_url": f"https://invoice.stripe.com/i/{invoice_id}",
        "period_start": start,
        "period_end": start + 30 * 86400,
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {
                "subscription": subscription_id,
                "metadata": {"uid": uid} if uid else {},
            },
        },
        "lines": {
            "object": "list",
            "has_more": False,
            "data": [
                {
                    "id": f"il_{invoice_id}",
                    "object": "line_item",
                    "amount": amount_paid,
                    "quantity": 1,
                    "period": {"start": start, "end": start + 30 * 86400},
                    "pricing": {
                        "type": "price_details",
                        "price_details": {"price": plan, "product": f"prod_{plan}"},
                    },
                }
            ],
        },
    }
    return envelope(event_id, "invoice.paid", invoice)


def charge_refunded(
    *,
    event_id: str,
    charge_id: str,
    payment_intent: str,
    amount: int,
    amount_refunded: int,
    previously_refunded: int = 0,
) -> dict[str, Any]:
    charge = {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": amount_refunded,
        "refunded": amount_refunded >= amount,
        "payment_intent": payment_intent,
        "currency": "usd",
    }
    previous = {"amount_refunded": previously_refunded, "refunded": False}
    return envelope(event_id, "charge.refunded", charge, previous_attributes=previous)


def invoice_payment_paid(*, event_id: str, invoice_id: str, payment_intent: str, amount_paid: int) -> dict[str, Any]:
    """The link of an invoice to the payment intent that paid it."""
    paid = {
        "id": f"inpay_{payment_intent}",
        "object": "invoice_payment",
        "amount_paid": amount_paid,
        "amount_requested": amount_paid,
        "currency": "usd",
        "invoice": invoice_id,
        "is_default": True,
        "livemode": False,
        "payment": {"type": "payment_intent", "payment_intent": payment_intent},
        "status": "paid",
    }
    return envelope(event_id, "invoice_payment.paid", paid)


def dispute(
    *,
    event_id: str,
    event_type: str,
    dispute_id: str,
    charge_id: str,
    payment_intent: str,
    amount: int,
    status: str = "needs_response",
) -> dict[str, Any]:
    """A ``charge.dispute.*`` event: ``created``, ``funds_withdrawn``, ``funds_reinstated`` or
    ``closed``; ``status`` ``won`` or ``lost`` when closed, ``warning_needs_response`` for an inquiry."""
    disputed = {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "charge": charge_id,
        "payment_intent": payment_intent,
        "currency": "usd",
        "reason": "fraudulent",
        "status": status,
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
    }
    return envelope(event_id, f"charge.dispute.{event_type}", disputed)


def encode(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"))
