"""Automatic top-up attempts: one per crossing, decided against the monthly cap, and what became of each.

``auto_top_ups/{attemptId}`` records one crossing of a user's automatic top-up threshold and
what it led to. Its id is the id of the ledger entry that crossed (:func:`crosses`, the
low-balance alert's rule of :mod:`credits.flows.alerts` with the top-up's own threshold), so a
crossing has one attempt, however many times its trigger is delivered or the sweep judges it
again, and the Stripe call made for it uses the idempotency key ``auto_top_up:<attemptId>``.
Statuses:

* ``pending``: the pack is being charged (``paymentIntentId`` once Stripe answered);
* ``succeeded``: the webhook credited the pack (``creditEntryId``), in the ledger commit itself;
* ``failed``: declined, authentication required, no saved card, or Stripe never answered;
  automatic top-up was turned off and an ``auto_top_up_failed`` alert raised (:func:`fail`);
* ``capped``: charging would have passed the monthly cap: nothing was charged, an
  ``auto_top_up_capped`` alert was raised, and automatic top-up stays on.

**The decision, one commit per crossing** (:func:`open_attempt`). It reads the user's settings
document, then what the month has charged (:func:`month_spending`), and commits at once the
attempt's ``create``, any alert's ``create``, and an update of the settings document
(``autoTopUp.lastAttempt``) guarded by the update time it read. Two crossings of one user
decided at the same time both write that document, so the second commit fails its
precondition, reads again (now seeing the first attempt) and decides again: the cap can never
be passed by two deciders that each saw room for one more pack. The queries are not what
protects it (a query locks nothing against inserts, in a transaction or not); the one document
that every decider writes is. This is the ledger's own commit (docs/ledger.md): a transaction
in the database sense, without ``@firestore.transactional``, whose pessimistic locks deadlock
on the emulator. A crossing decided already is found by the attempt's ``create`` failing.

**The cap, from the ledger** (:class:`MonthSpending`). The month is the UTC calendar month
in which an attempt was decided, and its automatic top-ups are:

* the ledger's ``purchase`` entries marked ``meta.autoTopUp`` whose ``meta.autoTopUpMonth`` is
  the month (an attempt decided on the 31st and credited on the 1st belongs to the 31st's
  month), each counted at what Stripe says it took (``meta.amountPaid``);
* plus the month's attempts still ``pending`` (neither credited nor failed);

and a pack is charged only when they plus the pack's price stay within the cap. No counter is
kept that could drift: a failed payment frees its share by its status, a credited one moves
from the attempts to the ledger in one commit. Attempts are read before the ledger, so an
attempt credited in between is seen in the ledger (never lost between the two reads), and it
is counted once: a pending attempt whose purchase the ledger has is not counted again. A
refund does not give back room under the cap (it was charged that month). The cap is in the
pack's currency; a month with an automatic top-up paid in another currency (only after the
user changed to a pack of another currency) counts as full, since the two cannot be added.

**Outcomes.** The webhook credits a paid top-up (:mod:`credits.flows.payments`), whose ledger
commit also marks the attempt ``succeeded`` (:func:`credited_fields`). :func:`fail` moves a
``pending`` attempt to ``failed`` once (guarded by the attempt's update time), and in the same
commit turns automatic top-up off with the reason (unless the user turned it on again after
the attempt began) and creates the alert. A payment that succeeds after all (a late success
after Stripe went unanswered for a day) is still credited and marks the attempt
``succeeded``: money taken always becomes credits.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore import DocumentReference, DocumentSnapshot

from credits.core import ledger, logs
from credits.core.errors import LedgerBusy
from credits.core.firestore_client import db
from credits.core.ledger import LEDGER, CreditType, Direction, LedgerEntry, Source
from credits.core.query_spec import QuerySpec
from credits.flows import alerts, credit_settings, saved_cards
from credits.flows.credit_settings import AutoTopUp, CreditSettings, TurnedOff

ATTEMPTS = "auto_top_ups"
"""``auto_top_ups/{attemptId}``: one document per crossing; read by its owner and admins, written by no client."""
MAX_COMMITS = 30
"""Tries of one decision or failure before giving up (each lost race means another writer won)."""
IDEMPOTENCY_PREFIX = "auto_top_up:"
"""The Stripe idempotency key of an attempt's PaymentIntent is this and the attempt's id."""
NOT_A_TOP_UP = frozenset({Source.PURCHASE_REVERSAL, Source.CHARGEBACK})
"""Debits that never buy: credits taken back for a refunded or disputed payment. Charging the
card again for the credits of a payment its owner had refunded or disputed would undo it."""

AUTO_TOP_UP_META = "autoTopUp"
"""``meta.autoTopUp: true`` marks a purchase made by automatic top-up; beside it,
``autoTopUpAttempt`` (the attempt) and ``autoTopUpMonth`` (``YYYY-MM``, the month it counts in)."""


class Status(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CAPPED = "capped"


class FailureReason(enum.StrEnum):
    """Why an attempt failed: what the Top up page tells the user."""

    CARD_DECLINED = "card_declined"
    AUTHENTICATION_REQUIRED = "authentication_required"
    """The bank wants the customer to confirm the payment, which an off-session charge cannot ask."""
    PAYMENT_FAILED = "payment_failed"
    """Any other refusal of the payment (an expired card, a removed payment method…)."""
    PAYMENT_METHOD_MISSING = "payment_method_missing"
    """No saved card when the crossing came."""
    PAYMENT_PROVIDER_UNAVAILABLE = "payment_provider_unavailable"
    """Stripe did not answer for as long as its idempotency key lasts; nothing was charged."""


@dataclass(frozen=True, kw_only=True)
class Failure:
    reason: FailureReason
    code: str | None = None
    """Stripe's error code (``card_declined``, ``authentication_required``, ``expired_card``…)."""
    decline_code: str | None = None
    message: str | None = None

    @classmethod
    def from_stripe(cls, code: str | None, decline_code: str | None, message: str | None) -> Failure:
        """The failure Stripe reported (a refused create call, or ``last_payment_error``)."""
        if code == "authentication_required" or decline_code == "authentication_required":
            reason = FailureReason.AUTHENTICATION_REQUIRED
        elif code == "card_declined":
            reason = FailureReason.CARD_DECLINED
        else:
            reason = FailureReason.PAYMENT_FAILED
        return cls(reason=reason, code=code, decline_code=decline_code, message=message)

    def document(self) -> dict[str, Any]:
        return {
            "reason": str(self.reason),
            "code": self.code,
            "declineCode": self.decline_code,
            "message": self.message,
        }

    @classmethod
    def from_map(cls, data: Any) -> Failure | None:
        if not isinstance(data, Mapping):
            return None
        return cls(
            reason=FailureReason(data["reason"]),
            code=data.get("code"),
            decline_code=data.get("declineCode"),
            message=data.get("message"),
        )


@dataclass(frozen=True, kw_only=True)
class Attempt:
    """``auto_top_ups/{id}`` as stored."""

    id: str
    """The crossing ledger entry's id."""
    uid: str
    status: Status
    type: CreditType
    """The pack's credit type: the balance that crossed."""
    pack: str
    credits: int
    amount: int
    """What is charged, in the currency's minor unit: the pack's ``unit_amount``."""
    currency: str
    monthly_cap: int
    charged_before: int
    """The month's automatic top-ups, charged or being charged, when this one was decided."""
    month: str
    """``YYYY-MM``: the UTC month the attempt counts in."""
    threshold: int
    balance_after: int
    """The crossing entry's balance after it."""
    source: str
    """The crossing entry's source."""
    crossed_at: datetime
    customer_id: str | None
    payment_method_id: str | None
    via: str
    """``trigger`` or ``sweep``: who decided it."""
    created_at: datetime
    payment_intent_id: str | None = None
    credit_entry_id: str | None = None
    failure: Failure | None = None
    settled_at: datetime | None = None

    @property
    def idempotency_key(self) -> str:
        """The Stripe idempotency key of its PaymentIntent."""
        return IDEMPOTENCY_PREFIX + self.id

    def document(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "status": str(self.status),
            "type": str(self.type),
            "pack": self.pack,
            "credits": self.credits,
            "amount": self.amount,
            "currency": self.currency,
            "monthlyCap": self.monthly_cap,
            "chargedBefore": self.charged_before,
            "month": self.month,
            "threshold": self.threshold,
            "balanceAfter": self.balance_after,
            "source": self.source,
            "crossedAt": self.crossed_at,
            "customerId": self.customer_id,
            "paymentMethodId": self.payment_method_id,
            "via": self.via,
            "createdAt": self.created_at,
            "paymentIntentId": self.payment_intent_id,
            "creditEntryId": self.credit_entry_id,
            "failure": self.failure.document() if self.failure else None,
            "settledAt": self.settled_at,
        }

    def to_api(self) -> dict[str, Any]:
        """What the Top up page is told of an attempt (no Stripe customer or card ids)."""
        return {
            "id": self.id,
            "status": str(self.status),
            "pack": self.pack,
            "credits": self.credits,
            "amount": self.amount,
            "currency": self.currency,
            "month": self.month,
            "createdAt": self.created_at.isoformat(),
            "settledAt": self.settled_at.isoformat() if self.settled_at else None,
            "creditEntryId": self.credit_entry_id,
            "failure": self.failure.document() if self.failure else None,
        }

    @classmethod
    def from_snapshot(cls, snap: DocumentSnapshot[Any]) -> Attempt:
        d = snap.to_dict() or {}
        return cls(
            id=snap.id,
            uid=d["uid"],
            status=Status(d["status"]),
            type=CreditType(d["type"]),
            pack=d["pack"],
            credits=d["credits"],
            amount=d["amount"],
            currency=d["currency"],
            monthly_cap=d["monthlyCap"],
            charged_before=d["chargedBefore"],
            month=d["month"],
            threshold=d["threshold"],
            balance_after=d["balanceAfter"],
            source=d["source"],
            crossed_at=d["crossedAt"],
            customer_id=d.get("customerId"),
            payment_method_id=d.get("paymentMethodId"),
            via=d["via"],
            created_at=d["createdAt"],
            payment_intent_id=d.get("paymentIntentId"),
            credit_entry_id=d.get("creditEntryId"),
            failure=Failure.from_map(d.get("failure")),
            settled_at=d.get("settledAt"),
        )


def attempt_ref(attempt_id: str) -> DocumentReference:
    ref: DocumentReference = db().collection(ATTEMPTS).document(attempt_id)
    return ref


def get(attempt_id: str) -> Attempt | None:
    snap = attempt_ref(attempt_id).get()
    return Attempt.from_snapshot(snap) if snap.exists else None


def crosses(entry: LedgerEntry, top: AutoTopUp) -> bool:
    """Whether ``entry`` is a crossing that buys under ``top``: a debit of the pack's credit type
    (not one taking back a paid purchase) written after automatic top-up was turned on, from at
    or above the threshold to below it."""
    if not top.active or top.threshold is None or entry.direction is not Direction.DEBIT:
        return False
    if entry.type is not top.credit_type() or entry.source in NOT_A_TOP_UP:
        return False
    if top.enabled_at is not None and entry.created_at < top.enabled_at:
        return False
    return alerts.crosses(before=entry.balance_after + entry.amount, after=entry.balance_after, threshold=top.threshold)


# The month.


def month_of(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m")


def month_start(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month_start(at: datetime) -> datetime:
    start = month_start(at)
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)


def attempts_since(uid: str, start: datetime) -> QuerySpec:
    """The user's attempts decided since ``start`` (index ``uid, createdAt desc``)."""
    return QuerySpec(collection=ATTEMPTS, equals=[("uid", uid)], at_or_after=start)


def purchases_since(uid: str, start: datetime) -> QuerySpec:
    """The user's purchases written since ``start`` (the ledger's ``uid, source, createdAt`` index)."""
    return QuerySpec(collection=LEDGER, equals=[("uid", uid), ("source", str(Source.PURCHASE))], at_or_after=start)


def pending_before(end: datetime) -> QuerySpec:
    """Every user's attempts still pending that were decided before ``end`` (index ``status, createdAt desc``)."""
    return QuerySpec(collection=ATTEMPTS, equals=[("status", str(Status.PENDING))], before=end)


@dataclass(frozen=True, kw_only=True)
class MonthSpending:
    """What a user's automatic top-ups charged, and are charging, in one UTC month."""

    month: str
    currency: str
    """The cap's currency: the amounts below are in it."""
    charged: int
    """Credited automatic top-ups of the month, at what Stripe took."""
    pending: int
    """The month's attempts not settled yet, at the pack's price."""
    foreign: bool
    """One of them was in another currency: the month counts as full."""
    resets_at: datetime

    @property
    def total(self) -> int:
        return self.charged + self.pending

    def allows(self, amount: int, cap: int) -> bool:
        """Whether charging ``amount`` more keeps the month within ``cap``."""
        return not self.foreign and self.total + amount <= cap

    def to_api(self, cap: int | None) -> dict[str, Any]:
        room = None if cap is None else (0 if self.foreign else max(0, cap - self.total))
        return {
            "month": self.month,
            "currency": self.currency,
            "charged": self.charged,
            "pending": self.pending,
            "remaining": room,
            "resetsAt": self.resets_at.isoformat(),
        }


def month_spending(uid: str, currency: str, now: datetime) -> MonthSpending:
    """The month of ``now``: the ledger's automatic top-up purchases and the attempts still pending.

    Attempts are read first (see the module's docstring: an attempt credited between the two
    reads is then in the ledger's answer, and counted there only)."""
    month, start = month_of(now), month_start(now)
    attempts = [Attempt.from_snapshot(snap) for snap in attempts_since(uid, start).build().stream()]
    credited: dict[str, tuple[int, str]] = {}
    for snap in purchases_since(uid, start).build().stream():
        meta = (snap.to_dict() or {}).get("meta") or {}
        if meta.get(AUTO_TOP_UP_META) is True and meta.get("autoTopUpMonth") == month:
            credited[str(meta.get("autoTopUpAttempt"))] = (int(meta.get("amountPaid") or 0), str(meta.get("currency")))
    pending = [a for a in attempts if a.status is Status.PENDING and a.month == month and a.id not in credited]
    amounts = [*credited.values(), *((a.amount, a.currency) for a in pending)]
    return MonthSpending(
        month=month,
        currency=currency,
        charged=sum(amount for amount, paid_in in credited.values() if paid_in == currency),
        pending=sum(a.amount for a in pending if a.currency == currency),
        foreign=any(paid_in != currency for _, paid_in in amounts),
        resets_at=next_month_start(now),
    )


# Deciding a crossing.


@dataclass(frozen=True, kw_only=True)
class Opened:
    attempt: Attempt
    created: bool
    """True for the call that decided it; False when the crossing had been decided before."""


def open_attempt(entry: LedgerEntry, *, via: str) -> Opened | None:
    """Decide a crossing once: the attempt (pending, capped, or failed for want of a card), or the
    one decided before; None when the settings no longer make ``entry`` a crossing."""
    ref = credit_settings.settings_ref(entry.uid)
    for commit in range(1, MAX_COMMITS + 1):
        snap = ref.get()
        top = CreditSettings.from_document(snap.to_dict()).auto_top_up
        if not snap.exists or not crosses(entry, top):
            return None  # turned off, or changed, since the debit
        existing = get(entry.id)
        if existing is not None:
            return Opened(attempt=existing, created=False)
        now = datetime.now(UTC)
        attempt, alert = _decide(entry, top, now, via)
        changes: dict[str, Any] = {credit_settings.auto_top_up_field("lastAttempt"): {"id": attempt.id, "at": now}}
        if attempt.failure is not None and alert is not None:
            changes |= credit_settings.turned_off_fields(_turned_off(attempt, attempt.failure, alert, now))
        batch = db().batch()
        # Every decision of the user writes this document: the precondition serialises them.
        batch.update(ref, changes, option=db().write_option(last_update_time=snap.update_time))
        batch.create(attempt_ref(attempt.id), attempt.document())
        if alert is not None:
            batch.create(alerts.alert_ref(alert.id), alert.document())
        try:
            results = batch.commit()
        except gexc.AlreadyExists:
            continue  # decided by another delivery: the next round reads it
        except (gexc.FailedPrecondition, gexc.Aborted, gexc.Conflict):
            time.sleep(ledger.backoff_s(commit))  # another decision or a settings change came first
            continue
        _log_decision(attempt)
        if alert is not None:
            alerts.announce(alert, created_at=results[-1].update_time, via="auto_top_up")
        return Opened(attempt=attempt, created=True)
    raise LedgerBusy(f"gave up deciding the automatic top-up of {entry.id}: try again later", uid=entry.uid)


def _decide(entry: LedgerEntry, top: AutoTopUp, now: datetime, via: str) -> tuple[Attempt, alerts.Alert | None]:
    pack = top.pack_settings()
    assert pack is not None and top.pack is not None and top.threshold is not None and top.monthly_cap is not None
    customer = saved_cards.read(entry.uid)
    spending = month_spending(entry.uid, pack.currency, now)
    attempt = Attempt(
        id=entry.id,
        uid=entry.uid,
        status=Status.PENDING,
        type=entry.type,
        pack=top.pack,
        credits=pack.credits,
        amount=pack.unit_amount,
        currency=pack.currency,
        monthly_cap=top.monthly_cap,
        charged_before=spending.total,
        month=spending.month,
        threshold=top.threshold,
        balance_after=entry.balance_after,
        source=str(entry.source),
        crossed_at=entry.created_at,
        customer_id=customer.customer_id if customer else None,
        payment_method_id=customer.payment_method_id if customer else None,
        via=via,
        created_at=now,
    )
    if customer is None or not customer.has_card:
        failed = replace(
            attempt,
            status=Status.FAILED,
            failure=Failure(reason=FailureReason.PAYMENT_METHOD_MISSING, message="no saved card"),
            settled_at=now,
        )
        return failed, _alert(failed, alerts.Kind.AUTO_TOP_UP_FAILED)
    if not spending.allows(pack.unit_amount, top.monthly_cap):
        capped = replace(attempt, status=Status.CAPPED, settled_at=now)
        return capped, _alert(capped, alerts.Kind.AUTO_TOP_UP_CAPPED)
    return attempt, None


def _alert(attempt: Attempt, kind: alerts.Kind) -> alerts.Alert:
    """The record of a failed or capped attempt, ``<kind>:<attemptId>``."""
    failed = kind is alerts.Kind.AUTO_TOP_UP_FAILED
    return alerts.Alert(
        id=f"{kind}:{attempt.id}",
        uid=attempt.uid,
        kind=kind,
        type=attempt.type,
        balance=attempt.balance_after,
        threshold=attempt.threshold,
        entry_id=attempt.id,
        source=attempt.source,
        crossed_at=attempt.crossed_at,
        credits=attempt.credits,
        pack=attempt.pack,
        amount=attempt.amount,
        currency=attempt.currency,
        monthly_cap=None if failed else attempt.monthly_cap,
        charged=None if failed else attempt.charged_before,
        reason=str(attempt.failure.reason) if failed and attempt.failure else None,
        payment_id=attempt.payment_intent_id if failed else None,
    )


def _turned_off(attempt: Attempt, failure: Failure, alert: alerts.Alert, now: datetime) -> TurnedOff:
    return TurnedOff(
        reason=str(failure.reason), at=now, attempt_id=attempt.id, alert_id=alert.id, message=failure.message
    )


def _log_decision(attempt: Attempt) -> None:
    fields = {
        "uid": attempt.uid,
        "attemptId": attempt.id,
        "status": str(attempt.status),
        "pack": attempt.pack,
        "amount": attempt.amount,
        "currency": attempt.currency,
        "monthlyCap": attempt.monthly_cap,
        "chargedBefore": attempt.charged_before,
        "via": attempt.via,
    }
    if attempt.status is Status.PENDING:
        logs.info("automatic top-up started", event="auto_top_up_started", **fields)
    elif attempt.status is Status.CAPPED:
        logs.warning("automatic top-up held back by the monthly cap", event="auto_top_up_capped", **fields)
    else:
        _log_failure(attempt)


def _log_failure(attempt: Attempt) -> None:
    logs.warning(
        "automatic top-up failed",
        event="auto_top_up_failed",
        uid=attempt.uid,
        attemptId=attempt.id,
        paymentId=attempt.payment_intent_id,
        failure=attempt.failure.document() if attempt.failure else None,
    )


# Outcomes.


def record_payment_intent(attempt_id: str, payment_intent_id: str) -> None:
    """Note the PaymentIntent Stripe made for an attempt (its status is left to the webhook)."""
    attempt_ref(attempt_id).update({"paymentIntentId": payment_intent_id})


def credited_fields(attempt_id: str, entry_id: str, payment_intent_id: str) -> tuple[DocumentReference, dict[str, Any]]:
    """What the ledger commit of a paid top-up's credit merges into its attempt."""
    return attempt_ref(attempt_id), {
        "status": str(Status.SUCCEEDED),
        "creditEntryId": entry_id,
        "paymentIntentId": payment_intent_id,
        "settledAt": firestore.SERVER_TIMESTAMP,
    }


def purchase_meta(attempt: Attempt) -> dict[str, Any]:
    """The ``meta`` that marks a purchase as this attempt's automatic top-up (what the cap counts)."""
    return {AUTO_TOP_UP_META: True, "autoTopUpAttempt": attempt.id, "autoTopUpMonth": attempt.month}


def fail(attempt_id: str, failure: Failure, *, payment_intent_id: str | None = None) -> Attempt | None:
    """Settle a pending attempt as failed, once: turn automatic top-up off (unless the user turned
    it on again after the attempt began) and raise the alert, in one commit. The attempt as
    failed; None when it was not pending (settled already, or unknown)."""
    for commit in range(1, MAX_COMMITS + 1):
        snap = attempt_ref(attempt_id).get()
        if not snap.exists:
            return None
        attempt = Attempt.from_snapshot(snap)
        if attempt.status is not Status.PENDING:
            return None
        now = datetime.now(UTC)
        failed = replace(
            attempt,
            status=Status.FAILED,
            failure=failure,
            settled_at=now,
            payment_intent_id=payment_intent_id or attempt.payment_intent_id,
        )
        alert = _alert(failed, alerts.Kind.AUTO_TOP_UP_FAILED)
        top = credit_settings.read(attempt.uid).auto_top_up
        batch = db().batch()
        batch.update(
            attempt_ref(attempt_id),
            {
                "status": str(Status.FAILED),
                "failure": failure.document(),
                "settledAt": now,
                "paymentIntentId": failed.payment_intent_id,
            },
            option=db().write_option(last_update_time=snap.update_time),
        )
        if top.enabled and (top.enabled_at is None or top.enabled_at <= attempt.created_at):
            turned_off = _turned_off(failed, failure, alert, now)
            batch.update(credit_settings.settings_ref(attempt.uid), credit_settings.turned_off_fields(turned_off))
        batch.create(alerts.alert_ref(alert.id), alert.document())
        try:
            results = batch.commit()
        except (gexc.FailedPrecondition, gexc.Aborted, gexc.Conflict, gexc.AlreadyExists):
            time.sleep(ledger.backoff_s(commit))  # settled by another delivery meanwhile: read again
            continue
        _log_failure(failed)
        alerts.announce(alert, created_at=results[-1].update_time, via="auto_top_up")
        return failed
    raise LedgerBusy(f"gave up settling the automatic top-up {attempt_id}: try again later")


def last_attempt(top: AutoTopUp) -> Attempt | None:
    return get(top.last_attempt_id) if top.last_attempt_id else None


def monthly(uid: str, top: AutoTopUp, now: datetime | None = None) -> MonthSpending | None:
    """This month's spending in the chosen pack's currency; None when no pack is chosen."""
    pack = top.pack_settings()
    return month_spending(uid, pack.currency, now or datetime.now(UTC)) if pack else None
