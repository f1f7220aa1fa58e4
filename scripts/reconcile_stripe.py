"""Reconcile the ledger against Stripe: what Stripe says happened to payments, the ledger must show.

    python scripts/reconcile_stripe.py --since 2026-11-01                  # the local emulators
    python scripts/reconcile_stripe.py --since 2026-11-01 --project ID     # a real project

Lists, through the official ``stripe`` package with the key in ``STRIPE_SECRET_KEY`` (a
restricted key that may read Checkout Sessions, PaymentIntents, Invoices, Refunds and Disputes
is enough), what the account has created since the day: paid Checkout Sessions, succeeded
automatic top-ups (PaymentIntents with ``metadata.autoTopUpAttempt``), paid invoices, refunds
and disputes. Then, against the ledger:

* every paid Checkout Session of a credit pack, and every succeeded automatic top-up, has its
  purchase (``purchase_missing``: its webhook never arrived, or was never answered);
* every paid subscription invoice with a plan line has its grant (``grant_missing``);
* every refund of a credits payment is taken back, its charge's refunded total in proportion
  (``refund_not_reversed``), and every dispute whose funds were withdrawn has its chargeback
  (``dispute_not_reversed``), and a won one its return (``dispute_not_returned``);
* every purchase and grant entry since the day has its paid session or invoice at Stripe
  (``purchase_without_payment``, ``grant_without_payment``).

Each difference is printed and recorded as an anomaly of kind ``stripe_mismatch`` (once per
object and kind, so a rerun adds nothing); the script exits 1 when there is any. ``--api-base``
points the package at another server than api.stripe.com (the tests' local stand-in).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import target


@dataclass(frozen=True, kw_only=True)
class Difference:
    kind: str
    object_id: str
    """The Stripe object (session, invoice, refund, dispute) or ledger entry it is about."""
    message: str
    payment_id: str | None = None
    uid: str | None = None


@dataclass(kw_only=True)
class StripeObjects:
    """What the account created since the day, as the package returns it."""

    sessions: list[Any] = field(default_factory=list)
    top_ups: list[Any] = field(default_factory=list)
    """Succeeded PaymentIntents of automatic top-ups (no Checkout Session is behind them)."""
    invoices: list[Any] = field(default_factory=list)
    refunds: list[Any] = field(default_factory=list)
    disputes: list[Any] = field(default_factory=list)


def list_objects(client: Any, since: datetime) -> StripeObjects:
    created = {"gte": int(since.timestamp())}
    pages = {
        "sessions": client.v1.checkout.sessions.list({"created": created, "status": "complete", "limit": 100}),
        "top_ups": client.v1.payment_intents.list({"created": created, "limit": 100}),
        "invoices": client.v1.invoices.list({"created": created, "status": "paid", "limit": 100}),
        "refunds": client.v1.refunds.list({"created": created, "limit": 100}),
        "disputes": client.v1.disputes.list({"created": created, "limit": 100}),
    }
    found = {name: list(page.auto_paging_iter()) for name, page in pages.items()}
    found["top_ups"] = [
        intent
        for intent in found["top_ups"]
        if _get(intent, "status") == "succeeded" and _get(intent, "metadata", "autoTopUpAttempt")
    ]
    return StripeObjects(**found)


def differences(objects: StripeObjects, since: datetime) -> list[Difference]:
    """Every way the ledger and Stripe disagree about the payments since ``since``."""
    return [
        *_credits_missing(objects),
        *_reversals_missing(objects),
        *_entries_without_payment(objects, since),
    ]


def record(found: Iterable[Difference]) -> None:
    from credits.core import anomalies

    for difference in found:
        anomalies.record(
            anomalies.Kind.STRIPE_MISMATCH,
            dedupe_key=f"{difference.kind}:{difference.object_id}",
            uid=difference.uid,
            mismatchKind=difference.kind,
            objectId=difference.object_id,
            paymentId=difference.payment_id,
            message=difference.message,
        )


def _plan_line(invoice: Any) -> Any | None:
    from credits.flows.payments import CATALOG, ItemKind

    for line in _get(invoice, "lines", "data") or []:
        item = CATALOG.get(_get(line, "pricing", "price_details", "price") or "")
        if item is not None and item.kind is ItemKind.PLAN:
            return item
    return None


def _credits_missing(objects: StripeObjects) -> Iterator[Difference]:
    from credits.core import keys, ledger
    from credits.flows.payments import CATALOG, ItemKind

    for session in objects.sessions:
        item = CATALOG.get(_get(session, "metadata", "pack") or "")
        pi = _get(session, "payment_intent")
        if _get(session, "payment_status") != "paid" or item is None or item.kind is not ItemKind.PACK or not pi:
            continue
        if ledger.find_entry_by_key(keys.purchase(pi)) is None:
            uid = _get(session, "metadata", "uid")
            message = f"Checkout Session {session.id} paid {item.name} for {uid}, and the ledger has no purchase"
            yield Difference(kind="purchase_missing", object_id=session.id, payment_id=pi, uid=uid, message=message)
    for intent in objects.top_ups:
        item = CATALOG.get(_get(intent, "metadata", "pack") or "")
        if ledger.find_entry_by_key(keys.purchase(intent.id)) is None:
            uid = _get(intent, "metadata", "uid")
            what = item.name if item else "a pack"
            message = f"automatic top-up {intent.id} paid {what} for {uid}, and the ledger has no purchase"
            yield Difference(
                kind="purchase_missing", object_id=intent.id, payment_id=intent.id, uid=uid, message=message
            )
    for invoice in objects.invoices:
        item = _plan_line(invoice)
        if item is None or _get(invoice, "parent", "subscription_details") is None:
            continue
        if ledger.find_entry_by_key(keys.subscription_grant(invoice.id)) is None:
            uid = _get(invoice, "parent", "subscription_details", "metadata", "uid")
            message = f"invoice {invoice.id} paid the {item.name} for {uid}, and the ledger has no grant"
            yield Difference(kind="grant_missing", object_id=invoice.id, uid=uid, message=message)


def _reversals_missing(objects: StripeObjects) -> Iterator[Difference]:
    from credits.core import keys, ledger
    from credits.flows import reversals

    refunded: dict[tuple[str, str], int] = defaultdict(int)
    for refund in objects.refunds:
        if _get(refund, "status") == "succeeded" and _get(refund, "payment_intent") and _get(refund, "charge"):
            refunded[(refund.payment_intent, refund.charge)] += int(refund.amount)
    for (pi, charge), total in sorted(refunded.items()):
        purchase = _purchase(pi)
        if purchase is None:
            continue  # not a credits payment, or its purchase is missing (reported above)
        paid = purchase.meta.get("amountPaid")
        owed = reversals.share(purchase.amount, total, paid)
        taken = sum(
            int(entry.meta.get("requestedAmount", entry.amount))
            for entry in _entries_of(pi)
            if entry.source is ledger.Source.PURCHASE_REVERSAL and entry.meta.get("chargeId") == charge
        )
        if taken < owed:
            message = f"{total} refunded of charge {charge}: {owed} credits to take back, the ledger took {taken}"
            yield Difference(
                kind="refund_not_reversed", object_id=charge, payment_id=pi, uid=purchase.uid, message=message
            )
    for dispute in objects.disputes:
        pi, status = _get(dispute, "payment_intent"), str(_get(dispute, "status") or "")
        purchase = _purchase(pi) if pi else None
        if purchase is None or status.startswith("warning_"):
            continue
        chargeback = ledger.find_entry_by_key(keys.chargeback(dispute.id))
        if chargeback is None:
            message = f"dispute {dispute.id} ({status}) withdrew funds of {pi}, and the ledger took nothing back"
            yield Difference(
                kind="dispute_not_reversed", object_id=dispute.id, payment_id=pi, uid=purchase.uid, message=message
            )
        elif status == "won" and ledger.find_entry_by_key(keys.chargeback_reversal(dispute.id)) is None:
            message = f"dispute {dispute.id} was won, and the ledger did not give back the {chargeback.amount} taken"
            yield Difference(
                kind="dispute_not_returned", object_id=dispute.id, payment_id=pi, uid=purchase.uid, message=message
            )


def _entries_without_payment(objects: StripeObjects, since: datetime) -> Iterator[Difference]:
    from credits.core.ledger import LEDGER, LedgerEntry, Source
    from credits.core.query_spec import QuerySpec

    paid_intents = {_get(s, "payment_intent") for s in objects.sessions if _get(s, "payment_status") == "paid"}
    paid_intents |= {intent.id for intent in objects.top_ups}
    paid_invoices = {invoice.id for invoice in objects.invoices}
    checks = (
        (
            Source.PURCHASE,
            "purchase_without_payment",
            lambda e: e.payment_id in paid_intents,
            "Checkout Session or automatic top-up",
        ),
        (Source.SUBSCRIPTION_GRANT, "grant_without_payment", lambda e: e.invoice_id in paid_invoices, "invoice"),
    )
    for source, kind, has_payment, what in checks:
        spec = QuerySpec(collection=LEDGER, equals=[("source", str(source))], at_or_after=since)
        for entry in map(LedgerEntry.from_snapshot, spec.build().stream()):
            if not has_payment(entry):
                paid_by = entry.payment_id or entry.invoice_id
                message = f"{source} entry {entry.id} of {entry.uid} ({paid_by}) has no paid {what} at Stripe"
                yield Difference(
                    kind=kind, object_id=entry.id, payment_id=entry.payment_id, uid=entry.uid, message=message
                )


def _purchase(payment_intent: str) -> Any:
    from credits.flows import reversals

    facts = reversals.Facts.from_snapshot(payment_intent, reversals.payment_ref(payment_intent).get())
    return reversals.purchase_of(facts)


def _entries_of(payment_intent: str) -> list[Any]:
    from google.cloud.firestore import FieldFilter

    from credits.core import ledger

    query = ledger.ledger_collection().where(filter=FieldFilter("paymentId", "==", payment_intent))
    return [ledger.LedgerEntry.from_snapshot(snap) for snap in query.stream()]


def _get(obj: Any, *path: str) -> Any:
    for name in path:
        if obj is None:
            return None
        obj = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
    return obj


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Reconcile the ledger against the Stripe account.")
    parser.add_argument("--since", required=True, help="YYYY-MM-DD: objects created from this day on (UTC)")
    parser.add_argument("--api-base", help="another Stripe API server (default: api.stripe.com)")
    target.add_argument(parser)
    args = parser.parse_args(argv)
    key = os.environ.get("STRIPE_SECRET_KEY", "")
    if not key:
        parser.error("set STRIPE_SECRET_KEY to a key that may read the account's payments")
    try:
        since = datetime.combine(date.fromisoformat(args.since), datetime.min.time(), UTC)
    except ValueError:
        parser.error(f"--since must be YYYY-MM-DD, not {args.since!r}")
    where = target.connect(args.project)

    from credits.flows.checkout import stripe_client

    objects = list_objects(stripe_client(key, api_base=args.api_base), since)
    print(
        f"reconciling {where} against Stripe since {since.date()}: {len(objects.sessions)} Checkout Sessions, "
        f"{len(objects.top_ups)} automatic top-ups, {len(objects.invoices)} invoices, {len(objects.refunds)} refunds, "
        f"{len(objects.disputes)} disputes",
        file=sys.stderr,
    )
    with contextlib.redirect_stdout(sys.stderr):  # the product's log lines
        found = differences(objects, since)
        record(found)
    for difference in found:
        print(f"{difference.kind} {difference.object_id}: {difference.message}")
    print(f"{len(found)} difference(s)" + (", each an anomaly of kind stripe_mismatch" if found else ": clean"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
