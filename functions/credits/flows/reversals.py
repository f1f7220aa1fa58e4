"""Credits that go back with their payment: refunds and chargebacks, exact in any order.

Stripe delivers the events of one payment in any order, more than once, and retries a failed
delivery for up to three days, so a refund or a dispute can arrive before the purchase it
reverses. No event here writes to the ledger on its own. Each one first **records what it
says** about its payment, as facts in ``stripe_payments/{paymentIntentId}``, and then
**settles** the payment: from every fact known and the payment's credit (the pack's
``purchase`` or the plan invoice's ``subscription_grant``), it works out every entry the
payment's history implies and writes those not written yet, each under a key that makes it
once. The purchase's handler settles its payment too, right after its credit commits.

Facts only ever grow (a merge never takes one back), so the order they arrive in does not
change what they say:

* ``refunds``: per cumulative amount refunded of the charge, the amount before it (the
  event's ``previous_attributes``): the interval that one refund added. Together they cover
  the charge's refunded total, whatever order they came in.
* ``disputes``: per dispute, its amount, and whether its funds were withdrawn and reinstated.
  ``charge.dispute.created`` (unless an inquiry, whose status starts with ``warning_``) and
  ``funds_withdrawn`` say withdrawn; ``funds_reinstated`` and ``closed`` with ``won`` say
  withdrawn and reinstated; ``closed`` with ``lost`` says withdrawn.
* ``invoice``: the plan invoice the payment paid (``invoice_payment.paid``), whose grant a
  refund or a dispute of the payment takes back.
* ``charge`` and ``amount``: the charge and what it paid, the denominator of every share.

The entries, with ``c(x) = credits × x ÷ amount paid`` rounded down:

* ``purchase_reversal`` per refund interval ``(before, total]``: ``c(total) − c(before)``,
  key ``debit:purchase_reversal:<charge>:<total>``; partial refunds add up to ``c(refunded)``;
* ``chargeback`` per withdrawn dispute: ``c(disputed amount)``, key ``debit:chargeback:<dispute>``;
* ``chargeback_reversal`` per reinstated one: what its chargeback took, key
  ``credit:chargeback_reversal:<dispute>``, in a block expiring as the credit did.

Every debit takes the payment's own block first and at most the balance; what it could not
take is a ``partial_reversal`` anomaly (a later settle of the payment tries again).

**Why no fact is missed.** Every handler writes its fact before it reads the others (and the
purchase's commit is a fact too). Of any two facts, the one written later is written before
its handler reads, so that handler sees both: whatever the interleaving, the handler of the
last fact settles everything, and settling twice writes nothing twice.

A payment with facts and no credit waits. Stripe stops retrying after three days, so the
nightly reconciliation reports a payment whose last event is :data:`PENDING_BOUND` old and
still has no credit as ``reversal_without_purchase`` (a refund of a payment that bought no
credits, or a purchase whose delivery was lost: ``scripts/reconcile_stripe.py`` tells which).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from google.cloud import firestore
from google.cloud.firestore import DocumentReference, DocumentSnapshot, FieldFilter

from credits.core import anomalies, keys, ledger, logs
from credits.core.errors import InsufficientCredits
from credits.core.firestore_client import db
from credits.core.ledger import Direction, LedgerEntry, LedgerRequest, LedgerWrite, Source
from credits.core.query_spec import QuerySpec

PAYMENTS = "stripe_payments"
PENDING_BOUND = timedelta(days=4)
"""Stripe retries a failed delivery for up to three days; a day more for the last retry to land."""


@dataclass(frozen=True, kw_only=True)
class Dispute:
    amount: int
    withdrawn: bool = False
    reinstated: bool = False
    event_id: str | None = None
    """The event that said the funds were withdrawn, for the chargeback's ``meta``."""


@dataclass(frozen=True, kw_only=True)
class Facts:
    """What the events of one payment said, merged."""

    payment_intent: str
    charge: str | None = None
    amount: int | None = None
    invoice: str | None = None
    refunds: Mapping[int, tuple[int, str]] = field(default_factory=dict)
    """Cumulative amount refunded → (the amount before it, the event that said so)."""
    disputes: Mapping[str, Dispute] = field(default_factory=dict)

    @classmethod
    def from_snapshot(cls, payment_intent: str, snap: DocumentSnapshot[Any]) -> Facts:
        d = snap.to_dict() or {}
        refunds = {int(total): (int(r["before"]), str(r["eventId"])) for total, r in (d.get("refunds") or {}).items()}
        disputes = {
            dispute_id: Dispute(
                amount=int(v.get("amount") or 0),
                withdrawn=bool(v.get("withdrawn")),
                reinstated=bool(v.get("reinstated")),
                event_id=v.get("withdrawnBy"),
            )
            for dispute_id, v in (d.get("disputes") or {}).items()
        }
        return cls(
            payment_intent=payment_intent,
            charge=d.get("charge"),
            amount=d.get("amount"),
            invoice=d.get("invoice"),
            refunds=refunds,
            disputes=disputes,
        )


@dataclass(frozen=True, kw_only=True)
class Settled:
    """What one settle found and did."""

    purchase: LedgerEntry | None
    """The payment's credit; None while it has not arrived (the facts wait for it), or when the
    payment has no facts at all (then it was not looked up)."""
    writes: dict[str, LedgerWrite] = field(default_factory=dict)
    """By idempotency key, each entry the facts imply that exists now: written, or found."""

    @property
    def written(self) -> list[LedgerEntry]:
        return [write.entry for write in self.writes.values() if not write.replayed]


def payment_ref(payment_intent: str) -> DocumentReference:
    ref: DocumentReference = db().collection(PAYMENTS).document(payment_intent)
    return ref


def record(payment_intent: str, facts: Mapping[str, Any]) -> None:
    """Merge what one event says about its payment; maps merge key by key, nothing is taken back."""
    payment_ref(payment_intent).set({**facts, "lastEventAt": firestore.SERVER_TIMESTAMP}, merge=True)


def refund_fact(total: int, before: int, event_id: str) -> dict[str, Any]:
    return {"refunds": {str(total): {"before": before, "eventId": event_id}}}


def dispute_fact(dispute_id: str, amount: int, *, withdrawn: bool, reinstated: bool, event_id: str) -> dict[str, Any]:
    fact: dict[str, Any] = {"amount": amount}
    if withdrawn:
        fact |= {"withdrawn": True, "withdrawnBy": event_id}
    if reinstated:
        fact["reinstated"] = True
    return {"disputes": {dispute_id: fact}}


def purchase_of(facts: Facts) -> LedgerEntry | None:
    """The payment's credit: a pack's purchase by its payment intent, or the grant of the plan invoice it paid."""
    entry = ledger.find_entry_by_key(keys.purchase(facts.payment_intent))
    if entry is None and facts.invoice:
        entry = ledger.find_entry_by_key(keys.subscription_grant(facts.invoice))
    return entry


def settle(payment_intent: str) -> Settled:
    """Write every entry the payment's facts imply that is not written yet; safe to call any number of times."""
    snap = payment_ref(payment_intent).get()
    if not snap.exists:
        return Settled(purchase=None)  # nothing to reverse: a purchase's usual case, one read
    facts = Facts.from_snapshot(payment_intent, snap)
    purchase = purchase_of(facts)
    if purchase is None:
        return Settled(purchase=None)
    settled = Settled(purchase=purchase)
    for request in _reversals(facts, purchase):
        write = _take(request)
        if write is None:
            continue
        settled.writes[request.idempotency_key] = write
        dispute = str(request.meta.get("disputeId"))
        if request.source is Source.CHARGEBACK and facts.disputes[dispute].reinstated:
            returned = ledger.write_ledger_entry(_return(write.entry, purchase, dispute))
            settled.writes[returned.entry.idempotency_key] = returned
    return settled


def settle_invoice(invoice_id: str) -> list[Settled]:
    """Settle every payment known to have paid ``invoice_id``: what a plan grant runs once it commits.
    (An equality filter alone: Firestore's automatic single-field index serves it.)"""
    query = db().collection(PAYMENTS).where(filter=FieldFilter("invoice", "==", invoice_id))
    return [settle(snap.id) for snap in query.stream()]


def share(credits: int, part: int, paid: int | None) -> int:
    """The credits that ``part`` of a payment of ``paid`` bought, rounded down; all of them when
    the amount paid is not known."""
    if not paid or paid <= 0:
        return credits
    return credits * min(part, paid) // paid


def waiting_spec(until: datetime) -> QuerySpec:
    """The payments whose last event came in the day that ends :data:`PENDING_BOUND` before ``until``."""
    return QuerySpec(
        collection=PAYMENTS,
        order_field="lastEventAt",
        at_or_after=until - PENDING_BOUND - timedelta(days=1),
        before=until - PENDING_BOUND,
    )


def report_unmatched(until: datetime) -> list[str]:
    """Record a ``reversal_without_purchase`` anomaly for each payment whose last event came
    between :data:`PENDING_BOUND` and a day more before ``until`` and that still has no credit;
    one nightly run (``until`` the end of its day) looks at each payment once. Returns their ids."""
    found = []
    for snap in waiting_spec(until).build().stream():
        facts = Facts.from_snapshot(snap.id, snap)
        if purchase_of(facts) is not None:
            continue
        found.append(snap.id)
        message = (
            f"a refund or dispute of {snap.id} found no credit in {PENDING_BOUND.days} days: a payment that "
            "bought no credits, or a purchase whose webhook never arrived (scripts/reconcile_stripe.py tells which)"
        )
        logs.warning(message, event="reversal_without_purchase", paymentId=snap.id)
        anomalies.record(
            anomalies.Kind.REVERSAL_WITHOUT_PURCHASE,
            dedupe_key=snap.id,
            paymentId=snap.id,
            chargeId=facts.charge,
            invoiceId=facts.invoice,
            refunded=max(facts.refunds, default=0),
            disputes=sorted(facts.disputes),
            message=message,
        )
    return found


def _reversals(facts: Facts, purchase: LedgerEntry) -> Iterator[LedgerRequest]:
    paid = facts.amount or purchase.meta.get("amountPaid")
    refunded = "Plan payment refunded" if purchase.source is Source.SUBSCRIPTION_GRANT else "Purchase refunded"
    for total, (before, event_id) in sorted(facts.refunds.items()):
        owed = share(purchase.amount, total, paid) - share(purchase.amount, before, paid)
        if owed > 0 and facts.charge:
            key = keys.purchase_reversal(facts.charge, total)
            meta: dict[str, Any] = {"stripeEventId": event_id, "chargeId": facts.charge}
            yield _clawback(facts, purchase, owed, Source.PURCHASE_REVERSAL, key, refunded, meta)
    for dispute_id, dispute in sorted(facts.disputes.items()):
        owed = share(purchase.amount, dispute.amount, paid)
        if dispute.withdrawn and owed > 0:
            key = keys.chargeback(dispute_id)
            meta = {"stripeEventId": dispute.event_id, "disputeId": dispute_id}
            yield _clawback(facts, purchase, owed, Source.CHARGEBACK, key, "Payment disputed", meta)


def _clawback(
    facts: Facts, purchase: LedgerEntry, amount: int, source: Source, key: str, reason: str, meta: dict[str, Any]
) -> LedgerRequest:
    """A debit that takes back credits of ``purchase``, its own block first, at most the balance."""
    return LedgerRequest(
        uid=purchase.uid,
        type=purchase.type,
        direction=Direction.DEBIT,
        amount=amount,
        source=source,
        idempotency_key=key,
        created_by="stripe",
        reason=reason,
        payment_id=facts.payment_intent,
        invoice_id=purchase.invoice_id,
        meta={**meta, "purchaseEntryId": purchase.id},
        cap_at_balance=True,
        first_block=purchase.id,  # the payment's own credits first
    )


def _take(request: LedgerRequest) -> LedgerWrite | None:
    """Write one clawback, at most the balance; what it could not take is an anomaly."""
    try:
        write = ledger.write_ledger_entry(request)
    except InsufficientCredits as exc:
        _shortfall(request, taken=0, balance=exc.balance)
        return None
    if not write.replayed and write.entry.amount < request.amount:
        _shortfall(request, taken=write.entry.amount, balance=write.entry.amount)
    return write


def _return(chargeback: LedgerEntry, purchase: LedgerEntry, dispute_id: str) -> LedgerRequest:
    return LedgerRequest(
        uid=chargeback.uid,
        type=chargeback.type,
        direction=Direction.CREDIT,
        amount=chargeback.amount,
        source=Source.CHARGEBACK_REVERSAL,
        idempotency_key=keys.chargeback_reversal(dispute_id),
        created_by="stripe",
        reason="Dispute won",
        payment_id=chargeback.payment_id,
        invoice_id=chargeback.invoice_id,
        meta={"disputeId": dispute_id, "chargebackEntryId": chargeback.id, "purchaseEntryId": purchase.id},
        expires_at=purchase.expires_at,
    )


def _shortfall(request: LedgerRequest, *, taken: int, balance: int) -> None:
    logs.warning(
        "a clawback found less than it should take",
        event="reversal_shortfall",
        uid=request.uid,
        idempotencyKey=request.idempotency_key,
        amount=request.amount,
        taken=taken,
    )
    anomalies.record(
        anomalies.Kind.PARTIAL_REVERSAL,
        dedupe_key=request.idempotency_key,
        uid=request.uid,
        type=str(request.type),
        source=str(request.source),
        amount=request.amount,
        taken=taken,
        shortfall=request.amount - taken,
        balance=balance,
        paymentId=request.payment_id,
        eventId=request.meta.get("stripeEventId"),
    )
