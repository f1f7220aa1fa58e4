"""Automatic top-up: a debit that takes a balance below the user's threshold buys their pack, once.

A user turns it on with a pack, a threshold and a monthly cap (``PATCH /api/credits/settings``,
:mod:`credits.flows.credit_settings`) once a purchase has saved their card
(:mod:`credits.flows.saved_cards`). docs/alerts.md ("Automatic top-up") is the contract.

**Where the crossing is seen: the ledger-entry trigger of the alerts.** The rule is the
low-balance alert's (:func:`credits.flows.alerts.crosses`), on the same entry, with the
top-up's own threshold for the pack's credit type: a debit whose balance before it was at or
above the threshold and after it is below. The chain of a user's entries puts concurrent
debits in one order, so exactly one entry of each fall through the threshold is the crossing,
judged from the entry alone. :func:`on_ledger_entry` is what the trigger ``raise_credit_alerts``
runs for every new entry: it reads the entry and, for a debit, the user's settings once, then
raises the low-balance alert and starts the top-up. One trigger rather than a second one on the
same collection: a second function would be invoked for every ledger entry, the hottest
collection of the app, to read the same two documents again; the price of sharing is that the
trigger holds the Stripe secrets, and a slow Stripe answer delays nothing but itself (the
alert is raised first).

**Exactly once per crossing.** :func:`top_up` asks :func:`credits.flows.top_up_attempts.open_attempt`
to decide the crossing: one attempt document per crossing entry, created in the commit that
also decides the monthly cap. Only the call that created the attempt charges; a repeated
delivery, or the sweep meeting the trigger, finds the attempt and does nothing. The Stripe
call uses the idempotency key ``auto_top_up:<entryId>``, so even a retry of the call (the
library's own network retries, or the sweep after a crash) makes one PaymentIntent.

**The charge** (:func:`charge`). In production: an off-session PaymentIntent (``customer``,
the saved ``payment_method``, ``off_session`` and ``confirm``; redirect-based methods refused,
since nobody is there to follow one) for the pack's ``unit_amount`` in its currency, with
``metadata.uid``, ``metadata.pack`` and ``metadata.autoTopUpAttempt``. The credits arrive only
through the webhook (``payment_intent.succeeded``, :mod:`credits.flows.payments`). A refusal
(``CardError``: declined, ``authentication_required``; an unusable payment method) or an
answer that needs the customer (``requires_action``) fails the attempt at once, which turns
automatic top-up off and raises an ``auto_top_up_failed`` alert; the webhook's
``payment_intent.payment_failed`` does the same, and whichever comes second changes nothing.
Stripe unreachable leaves the attempt pending for the sweep.

**On the emulators** (:func:`credits.core.environment.on_emulator`) nothing reaches Stripe:
the charge is the test path of the Top up page. It builds the ``payment_intent.succeeded`` (or
``payment_intent.payment_failed``) event Stripe would send for the attempt's PaymentIntent
(``pi_test_auto_<attemptId>``), signs it with ``STRIPE_WEBHOOK_SECRET`` and hands it to the
real webhook code. The saved test card decides which (:class:`~credits.flows.saved_cards.SimulatedCard`):
``pm_card_visa`` succeeds, ``pm_card_chargeCustomerFail`` is declined (``card_declined``),
``pm_card_authenticationRequired`` fails with ``authentication_required``.

**Lost deliveries** (:func:`sweep_auto_top_ups`, run by the hourly ``sweep_credit_alerts``). A
Python Firestore trigger is never retried. The sweep reads the users whose automatic top-up is
on (a collection-group query on ``credit_settings``), judges their debits of the last
:data:`LOOKBACK` (less :data:`GRACE`, left to the trigger) with the same rule, and decides the
crossings that have no attempt, with the same ids: a lost crossing is topped up within about
an hour. It skips debits written before the user last changed automatic top-up (judged by their
trigger under the settings of then). It also charges again the attempts that Stripe never
answered (pending, no PaymentIntent, older than :data:`GRACE`), with the same idempotency key,
while Stripe still keeps the key (:data:`STRIPE_KEY_LIFETIME`); past that, a new call could
charge twice, so the attempt fails as ``payment_provider_unavailable`` instead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe
from google.cloud.firestore import FieldFilter

from credits.core import environment, ledger, logs
from credits.core.firestore_client import db
from credits.core.ledger import LEDGER, Direction, LedgerEntry
from credits.core.query_spec import QuerySpec
from credits.core.settings import SETTINGS
from credits.flows import alerts, checkout, credit_settings, saved_cards, stripe_events, top_up_attempts
from credits.flows.credit_settings import AutoTopUp, CreditSettings
from credits.flows.saved_cards import SimulatedCard
from credits.flows.top_up_attempts import Attempt, Failure, FailureReason, Opened, Status

LOOKBACK = alerts.LOOKBACK
"""How far back the hourly sweep judges debits again (the alerts' two runs)."""
GRACE = alerts.GRACE
"""Debits and attempts more recent than this are left to their trigger."""
STRIPE_KEY_LIFETIME = timedelta(hours=23)
"""Stripe keeps an idempotency key for at least 24 hours: an unanswered charge is tried again
with the same key within this, and never after."""
UNANSWERED_STATUSES = frozenset({"requires_action", "requires_payment_method", "requires_confirmation", "canceled"})
"""PaymentIntent statuses that an off-session charge cannot get past without the customer."""

SIMULATED_FAILURES: dict[SimulatedCard, dict[str, str]] = {
    SimulatedCard.DECLINED: {
        "code": "card_declined",
        "decline_code": "generic_decline",
        "message": "Your card was declined.",
    },
    SimulatedCard.AUTHENTICATION_REQUIRED: {
        "code": "authentication_required",
        "decline_code": "authentication_required",
        "message": "Your card was declined. This transaction requires authentication.",
    },
}
"""The ``last_payment_error`` Stripe's test mode reports for an off-session charge of each failing test card."""


@dataclass(frozen=True, kw_only=True)
class StripeAccess:
    """How this process charges: through Stripe's API, or (on the emulators) through the test path."""

    test_mode: bool
    """True on the emulators: sign the event Stripe would send and deliver it to the webhook code."""
    api_key: str | None = None
    """The Stripe secret key (production)."""
    webhook_secret: str | None = None
    """The webhook signing secret (test mode)."""
    api_base: str | None = None
    """Another server than api.stripe.com (the tests' local stand-in)."""

    @classmethod
    def from_environment(cls) -> StripeAccess:
        """What the deployed functions use; reads only the secret its mode needs."""
        if environment.on_emulator():
            return cls(test_mode=True, webhook_secret=environment.require(environment.STRIPE_WEBHOOK_SECRET))
        return cls(test_mode=False, api_key=environment.require(environment.STRIPE_SECRET_KEY))


def on_ledger_entry(entry_id: str, *, access: StripeAccess | None = None) -> Opened | None:
    """The ledger-entry trigger's work: a debit's low-balance alert, then its automatic top-up,
    the entry and the user's settings read once for both."""
    entry = ledger.get_entry(entry_id)
    if entry is None or entry.direction is not Direction.DEBIT:
        return None  # a credit crosses no threshold downwards: no settings read
    settings = credit_settings.read(entry.uid)
    alerts.raise_crossing_alert(entry, settings)
    return top_up(entry, settings.auto_top_up, via="trigger", access=access)


def top_up(entry: LedgerEntry, top: AutoTopUp, *, via: str, access: StripeAccess | None = None) -> Opened | None:
    """Decide a crossing once and charge it if this call decided it; None when ``entry`` buys nothing."""
    if not top_up_attempts.crosses(entry, top):
        return None  # almost every debit: nothing more is read
    opened = top_up_attempts.open_attempt(entry, via=via)
    if opened is None or not opened.created or opened.attempt.status is not Status.PENDING:
        return opened
    charge(opened.attempt, access or StripeAccess.from_environment())
    return Opened(attempt=top_up_attempts.get(opened.attempt.id) or opened.attempt, created=True)


def charge(attempt: Attempt, access: StripeAccess) -> None:
    """Charge a pending attempt's pack; its outcome arrives through the webhook code (or, for a
    refusal, at once)."""
    if access.test_mode:
        _charge_on_emulator(attempt, _required(access.webhook_secret, "STRIPE_WEBHOOK_SECRET"))
    else:
        client = checkout.stripe_client(_required(access.api_key, "STRIPE_SECRET_KEY"), api_base=access.api_base)
        _charge_with_stripe(attempt, client)


def _required(value: str | None, name: str) -> str:
    if not value:
        raise RuntimeError(f"{name} is not configured")
    return value


def payment_metadata(attempt: Attempt) -> dict[str, str]:
    """What the PaymentIntent carries back to the webhook: whose, which pack, which attempt."""
    return {"uid": attempt.uid, "pack": attempt.pack, "autoTopUpAttempt": attempt.id}


def _charge_with_stripe(attempt: Attempt, client: stripe.StripeClient) -> None:
    pack = SETTINGS.packs.get(attempt.pack)
    try:
        intent = client.v1.payment_intents.create(
            params={
                "amount": attempt.amount,
                "currency": attempt.currency,
                "customer": attempt.customer_id or "",
                "payment_method": attempt.payment_method_id or "",
                "off_session": True,
                "confirm": True,
                # Nobody is there to follow a redirect: a method that needs one is refused, not left waiting.
                "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
                "description": f"Automatic top-up: {pack.name if pack else attempt.pack}",
                "metadata": payment_metadata(attempt),
            },
            options={"idempotency_key": attempt.idempotency_key},
        )
    except (stripe.CardError, stripe.InvalidRequestError) as exc:
        # Refused for good (declined, authentication required, a payment method no longer usable).
        error = exc.error
        failure = Failure.from_stripe(exc.code, _field(error, "decline_code"), exc.user_message or str(exc))
        top_up_attempts.fail(attempt.id, failure, payment_intent_id=_field(_field(error, "payment_intent"), "id"))
        return
    except stripe.StripeError as exc:
        logs.error(
            "Stripe did not take an automatic top-up: the sweep tries again",
            event="auto_top_up_charge_error",
            uid=attempt.uid,
            attemptId=attempt.id,
            error=repr(exc),
            stripeRequestId=exc.request_id,
        )
        return
    if intent.status in UNANSWERED_STATUSES:
        last = intent.last_payment_error
        code = _field(last, "code") or ("authentication_required" if intent.status == "requires_action" else None)
        failure = Failure.from_stripe(code, _field(last, "decline_code"), _field(last, "message"))
        top_up_attempts.fail(attempt.id, failure, payment_intent_id=intent.id)
        return
    top_up_attempts.record_payment_intent(attempt.id, intent.id)


def _field(obj: Any, name: str) -> Any:
    return None if obj is None else getattr(obj, name, None)


def _charge_on_emulator(attempt: Attempt, webhook_secret: str) -> None:
    """The test path: the event Stripe would send for this charge, signed and delivered to the webhook code."""
    card = saved_cards.simulated_card(attempt.payment_method_id) or SimulatedCard.SUCCEEDS
    intent_id = f"pi_test_auto_{attempt.id}"
    top_up_attempts.record_payment_intent(attempt.id, intent_id)  # as Stripe's answer would be
    failure = SIMULATED_FAILURES.get(card)
    event = stripe_events.payment_intent(
        event_id=f"evt_test_auto_{attempt.id}",
        event_type="payment_intent.payment_failed" if failure else "payment_intent.succeeded",
        payment_intent_id=intent_id,
        amount=attempt.amount,
        currency=attempt.currency,
        customer=attempt.customer_id,
        payment_method=attempt.payment_method_id,
        metadata=payment_metadata(attempt),
        failure=failure,
    )
    checkout.deliver_test_event(event, webhook_secret)


# Lost deliveries.


def enabled_users() -> Any:
    """Every user's settings document with automatic top-up on (a collection-group index on ``autoTopUp.enabled``)."""
    field_path = credit_settings.auto_top_up_field("enabled")
    return db().collection_group(credit_settings.COLLECTION).where(filter=FieldFilter(field_path, "==", True))


def user_entries(uid: str, start: datetime, end: datetime) -> QuerySpec:
    """One user's entries written in ``[start, end)`` (the ledger's ``uid, createdAt`` index)."""
    return QuerySpec(collection=LEDGER, equals=[("uid", uid)], at_or_after=start, before=end)


@dataclass(kw_only=True)
class SweepReport:
    users: int = 0
    """Users with automatic top-up on."""
    debits: int = 0
    """Their debits of the window, judged again."""
    repaired: list[Attempt] = field(default_factory=list)
    """Crossings whose trigger delivery was lost, decided by this run."""
    retried: list[str] = field(default_factory=list)
    """Attempts Stripe had not answered, charged again with their key."""
    given_up: list[str] = field(default_factory=list)
    """Attempts Stripe did not answer while it kept their key: failed as ``payment_provider_unavailable``."""


def sweep_auto_top_ups(
    now: datetime | None = None, *, lookback: timedelta = LOOKBACK, access: StripeAccess | None = None
) -> SweepReport:
    """Make up the automatic top-ups whose trigger delivery was lost, and charge again what Stripe never answered."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    report = SweepReport()
    for entry, top in _crossings(now - lookback, now - GRACE, report):
        opened = top_up(entry, top, via="sweep", access=access)
        if opened is not None and opened.created:
            report.repaired.append(opened.attempt)
    _charge_unanswered(now, report, access)
    (logs.warning if report.repaired or report.retried or report.given_up else logs.info)(
        "automatic top-up sweep finished",
        event="auto_top_up_sweep_finished",
        users=report.users,
        debits=report.debits,
        repaired=len(report.repaired),
        retried=len(report.retried),
        givenUp=len(report.given_up),
        seconds=round(time.perf_counter() - started, 3),
    )
    return report


def _crossings(start: datetime, end: datetime, report: SweepReport) -> list[tuple[LedgerEntry, AutoTopUp]]:
    """The crossings of the window under each user's settings now; every candidate read before any write."""
    found = []
    for snap in list(enabled_users().stream()):
        user = snap.reference.parent.parent
        if user is None:
            continue
        top = CreditSettings.from_document(snap.to_dict()).auto_top_up
        report.users += 1
        for entry_snap in user_entries(user.id, start, end).build().stream():
            entry = LedgerEntry.from_snapshot(entry_snap)
            if entry.direction is not Direction.DEBIT:
                continue
            report.debits += 1
            if top.changed_at is not None and entry.created_at < top.changed_at:
                continue  # judged by its trigger under the settings of then
            if top_up_attempts.crosses(entry, top):
                found.append((entry, top))
    return found


def _charge_unanswered(now: datetime, report: SweepReport, access: StripeAccess | None) -> None:
    waiting = [Attempt.from_snapshot(snap) for snap in top_up_attempts.pending_before(now - GRACE).build().stream()]
    for attempt in waiting:
        if attempt.payment_intent_id is not None:
            continue  # Stripe answered: its webhook settles the attempt
        if now - attempt.created_at < STRIPE_KEY_LIFETIME:
            access = access or StripeAccess.from_environment()
            charge(attempt, access)
            report.retried.append(attempt.id)
            continue
        failure = Failure(
            reason=FailureReason.PAYMENT_PROVIDER_UNAVAILABLE,
            message="the payment provider did not answer: nothing was charged",
        )
        if top_up_attempts.fail(attempt.id, failure) is not None:
            report.given_up.append(attempt.id)


# What the Top up page shows.


def settings_answer(uid: str, settings: CreditSettings | None = None) -> dict[str, Any]:
    """``GET /api/credits/settings``: the thresholds, and automatic top-up with its card, its
    month and its latest attempt."""
    settings = settings or credit_settings.read(uid)
    top = settings.auto_top_up
    customer = saved_cards.read(uid)
    spending = top_up_attempts.monthly(uid, top)
    last = top_up_attempts.last_attempt(top)
    return {
        **settings.to_api(),
        "autoTopUp": {
            **top.to_api(),
            "paymentMethod": customer.card_to_api() if customer else saved_cards.NO_CARD,
            "month": spending.to_api(top.monthly_cap) if spending else None,
            "lastAttempt": last.to_api() if last else None,
        },
    }
