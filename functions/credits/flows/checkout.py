"""Buying a credit pack: the catalog shown to users, Stripe Checkout, and the emulators' test checkout.

**Production.** ``POST /api/credits/checkout`` creates a Stripe Checkout Session with the
official ``stripe`` package (``StripeClient``, secret ``STRIPE_SECRET_KEY``): mode
``payment``, one line item of the pack's price, ``metadata.uid`` (the caller) and
``metadata.pack`` (the price id), which is exactly what :mod:`credits.flows.payments` reads from
``checkout.session.completed``, whose payload carries no line items. The browser goes to the
session's URL; the credits arrive later, through the webhook, once Stripe has the money.

Every purchase also saves its card for automatic top-up: the session names the user's Stripe
Customer (created once, :func:`credits.flows.saved_cards.ensure_customer`) and asks
``payment_intent_data.setup_future_usage=off_session`` (Checkout shows the customer that the
card is kept for later payments), with ``metadata.uid``/``pack`` on the payment intent too, so
that its ``payment_intent.succeeded`` names the user whose card it saved.

**Where Checkout sends the browser back.** ``success_url`` and ``cancel_url`` are built on
the site the request came through. Behind the Hosting rewrite the function's own ``Host``
is the function's address, and Hosting passes the site's host in ``X-Forwarded-Host``; so
that header is read first (its first value, the one the client reached), then ``Host``. A
client can send any ``X-Forwarded-Host`` (the Hosting emulator even passes a client's own
header through), so the host must be one the app is served on: the project's default
Hosting domains (``<project>.web.app``, ``<project>.firebaseapp.com``) or one listed in the
``CHECKOUT_RETURN_HOSTS`` environment variable; anything else is refused, so that nobody can
use this Stripe account to send a payer on to another site. ``X-Forwarded-Proto`` is
ignored: Hosting serves only HTTPS, so the return URLs are always ``https://``.

**Test mode (on the Functions emulator).** There is no Stripe account locally. Checkout
returns a page of the app, ``/top-up/test-checkout?session=cs_test_…&pack=…``, clearly
marked as a test, whose "pay" button calls ``POST /api/credits/test-checkout``. That builds
the ``checkout.session.completed`` event Stripe would send for the session, signs it with
``STRIPE_WEBHOOK_SECRET`` as Stripe does, and hands the raw bytes and the signature header
to :func:`credits.flows.payments.receive`, the same code the webhook route runs (as ``stripe
trigger`` would). Then it does the same with the payment's ``payment_intent.succeeded``, which
saves the card: one of Stripe's test payment methods, chosen by the page's ``testCard``
(:class:`~credits.flows.saved_cards.SimulatedCard`: later automatic top-ups succeed, are
declined, or need authentication), on a test Customer. The event id and payment intent are
derived from the session id, so completing one session twice is a duplicate delivery and
credits once. Test mode is on
exactly when the code runs on the Functions emulator (``FUNCTIONS_EMULATOR=true``); in
production the test route answers 404.
"""

from __future__ import annotations

import re
import secrets
import urllib.parse
from collections.abc import Collection
from dataclasses import dataclass
from typing import Annotated, Any

import stripe
from pydantic import BaseModel, ConfigDict, StringConstraints

from credits.core import environment, logs
from credits.core.errors import InvalidArgument, NotFound, PaymentsUnavailable
from credits.core.firestore_client import project_id
from credits.flows import payments, saved_cards, stripe_events
from credits.flows.payments import CatalogItem, ItemKind, Outcome
from credits.flows.saved_cards import SimulatedCard

SUCCESS_PATH = "/credits?checkout=success"
CANCEL_PATH = "/top-up?checkout=cancelled"
TEST_CHECKOUT_PATH = "/top-up/test-checkout"
TEST_SESSION_PREFIX = "cs_test_"
STRIPE_RETRIES = 2
"""The library retries network failures with the same idempotency key it sets on every POST."""

PriceId = Annotated[str, StringConstraints(min_length=1, max_length=128)]

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"(?P<name>(?:{_LABEL}\.)*{_LABEL})(?::(?P<port>[0-9]{{1,5}}))?")
"""A DNS host name with an optional port: no scheme, user, path or anything else."""


class CheckoutRequest(BaseModel):
    """The body of ``POST /api/credits/checkout``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pack: PriceId
    """The Stripe price id of a credit pack of the catalog."""


class CompleteTestCheckout(BaseModel):
    """The body of ``POST /api/credits/test-checkout``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    session: Annotated[str, StringConstraints(pattern=r"^cs_test_[A-Za-z0-9]{8,64}$")]
    """The test session id that ``POST /api/credits/checkout`` put in its URL."""
    pack: PriceId
    """The pack of that session."""
    testCard: SimulatedCard = SimulatedCard.SUCCEEDS
    """How later automatic top-ups charged to the card this purchase saves will go."""


@dataclass(frozen=True, kw_only=True)
class CompletedTestCheckout:
    handled: payments.Handled
    item: CatalogItem

    def to_api(self) -> dict[str, Any]:
        return {
            "outcome": str(self.handled.outcome),
            "entryIds": [entry.id for entry in self.handled.entries],
            "credits": self.item.credits,
            "creditType": str(self.item.credit_type),
        }


def packs() -> list[dict[str, Any]]:
    """The credit packs users can buy, in catalog order (subscription plans are not sold here)."""
    return [
        {
            "id": price_id,
            "name": item.name,
            "creditType": str(item.credit_type),
            "credits": item.credits,
            "unitAmount": item.unit_amount,
            "currency": item.currency,
            "lastsDays": item.lasts.days if item.lasts else None,
        }
        for price_id, item in payments.CATALOG.items()
        if item.kind is ItemKind.PACK
    ]


def pack(price_id: str) -> CatalogItem:
    """The pack sold under ``price_id``; InvalidArgument naming ``pack`` for anything else."""
    item = payments.CATALOG.get(price_id)
    if item is None or item.kind is not ItemKind.PACK:
        raise InvalidArgument(f"{price_id!r} is not a credit pack: use an id from GET /api/credits/packs", field="pack")
    return item


def start_stripe_checkout(
    uid: str,
    price_id: str,
    *,
    forwarded_host: str | None,
    host: str | None,
    api_key: str,
    extra_hosts: Collection[str] = (),
    api_base: str | None = None,
) -> str:
    """Production checkout: a Checkout Session for the pack, returning to the site the request came through."""
    pack(price_id)
    origin = return_origin(forwarded_host, host, app_hosts(extra_hosts))
    client = stripe_client(api_key, api_base=api_base)
    customer = saved_cards.ensure_customer(client, uid)
    return create_session(client, uid=uid, price_id=price_id, origin=origin, customer=customer)


def return_origin(forwarded_host: str | None, host: str | None, allowed: Collection[str]) -> str:
    """``https://<host>`` of the site the request came through, if the app is served there."""
    candidate = (forwarded_host or "").split(",")[0].strip() or (host or "").strip()
    match = _HOST.fullmatch(candidate.lower())
    if match is None or match["name"] not in allowed:
        raise InvalidArgument(
            "checkout must be started from the web app's own site: add its host to CHECKOUT_RETURN_HOSTS",
            field="Host",
            host=candidate[:256],
        )
    return f"https://{candidate.lower()}"


def app_hosts(extra: Collection[str] = ()) -> frozenset[str]:
    """The project's default Hosting domains and the configured extra hosts."""
    project = project_id()
    return frozenset({f"{project}.web.app", f"{project}.firebaseapp.com", *extra})


def stripe_client(api_key: str, *, api_base: str | None = None) -> stripe.StripeClient:
    """A Stripe client; ``api_base`` points it elsewhere than api.stripe.com (tests)."""
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=STRIPE_RETRIES,
    )


def create_session(client: stripe.StripeClient, *, uid: str, price_id: str, origin: str, customer: str) -> str:
    """A Checkout Session for one unit of the pack, paid by ``uid`` as ``customer``, saving the
    card for automatic top-up; returns its URL."""
    item = pack(price_id)
    metadata = {"uid": uid, "pack": price_id}
    try:
        session = client.v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "line_items": [{"price": price_id, "quantity": 1}],
                # The webhook reads these two back from checkout.session.completed (credits.flows.payments).
                "metadata": metadata,
                "customer": customer,
                # The card is attached to the customer for off-session top-ups; the payment
                # intent's own metadata names whose card its payment_intent.succeeded saved.
                "payment_intent_data": {"setup_future_usage": "off_session", "metadata": metadata},
                "client_reference_id": uid,
                "success_url": origin + SUCCESS_PATH,
                "cancel_url": origin + CANCEL_PATH,
            }
        )
    except stripe.StripeError as exc:
        logs.error(
            "Stripe refused to create a Checkout Session",
            event="checkout_failed",
            uid=uid,
            priceId=price_id,
            error=repr(exc),
            stripeRequestId=exc.request_id,
        )
        raise PaymentsUnavailable("the payment provider could not start checkout: try again later") from None
    if not session.url:
        raise PaymentsUnavailable("the payment provider returned no checkout page: try again later")
    logs.info(
        "Checkout Session created",
        event="checkout_created",
        uid=uid,
        priceId=price_id,
        credits=item.credits,
        checkoutSessionId=session.id,
    )
    return session.url


def require_test_mode() -> None:
    """NotFound outside the emulators: in production the test checkout route does not exist."""
    if not environment.on_emulator():
        raise NotFound("test checkout exists only on the Firebase emulators")


def new_test_checkout_url(price_id: str) -> str:
    """The test checkout page for a new test session of the pack (test mode only)."""
    pack(price_id)
    session = TEST_SESSION_PREFIX + secrets.token_hex(16)
    return f"{TEST_CHECKOUT_PATH}?{urllib.parse.urlencode({'session': session, 'pack': price_id})}"


def complete_test_checkout(uid: str, request: CompleteTestCheckout, *, webhook_secret: str) -> CompletedTestCheckout:
    """Deliver the ``checkout.session.completed`` that Stripe would send for a paid test session.

    The route calls this only after :func:`require_test_mode`.
    """
    item = pack(request.pack)
    suffix = request.session.removeprefix(TEST_SESSION_PREFIX)
    customer = saved_cards.ensure_test_customer(uid)
    completed = stripe_events.checkout_completed(
        event_id=f"evt_test_{suffix}",
        uid=uid,
        pack=request.pack,
        payment_intent=f"pi_test_{suffix}",
        session_id=request.session,
        amount_total=item.unit_amount,
        currency=item.currency,
        customer=customer,
    )
    handled = deliver_test_event(completed, webhook_secret)
    if handled.outcome not in (Outcome.PROCESSED, Outcome.DUPLICATE):
        # The event names the caller and a pack of the catalog: the handler cannot ignore it.
        raise RuntimeError(f"test checkout event was {handled.outcome}")
    paid = stripe_events.payment_intent(
        event_id=f"evt_test_pi_{suffix}",
        payment_intent_id=f"pi_test_{suffix}",
        amount=item.unit_amount,
        currency=item.currency,
        customer=customer,
        payment_method=saved_cards.TEST_PAYMENT_METHODS[request.testCard],
        metadata={"uid": uid, "pack": request.pack},
        setup_future_usage="off_session",
    )
    deliver_test_event(paid, webhook_secret)  # saves the card, as Stripe's event of the payment would
    return CompletedTestCheckout(handled=handled, item=item)


def deliver_test_event(event: dict[str, Any], webhook_secret: str) -> payments.Handled:
    """Sign an event as Stripe does and run it through the webhook's code (test mode only)."""
    payload = stripe_events.encode(event)
    signature = stripe_events.signature_header(payload, webhook_secret)
    return payments.receive(payload.encode(), signature, webhook_secret)
