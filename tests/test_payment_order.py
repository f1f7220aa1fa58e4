"""Payments exact in any order: refunds and disputes that arrive before, between or long after
their purchase, asynchronous payments, refunded plan payments, through the real signature check.

The last test is the model test: random histories of a few payments, delivered in random
order with duplicates, concurrent and failed deliveries, end as the same history applied
once, in Stripe's order.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import reset_database
from google.cloud.firestore_v1.base_query import FieldFilter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_helpers import request, stored_entries

from credits.core import keys, ledger
from credits.core.errors import InvalidArgument
from credits.core.firestore_client import db
from credits.core.ledger import CreditType, Direction, Source
from credits.flows import payments, reversals
from credits.flows import stripe_events as se
from credits.flows.payments import Outcome
from credits.operations import reconcile

SECRET = "whsec_order_test"
USERS = ("alice", "bob")


@pytest.fixture(autouse=True)
def users(accounts) -> None:
    accounts(*USERS)


def deliver(event: dict[str, Any], *, secret: str = SECRET) -> payments.Handled:
    payload = se.encode(event)
    return payments.receive(payload.encode(), se.signature_header(payload, secret), SECRET)


def buy(n: int, *, uid: str = "alice", pack: str = "price_pack_image_100", amount: int = 1000, **kw: Any):
    return se.checkout_completed(
        event_id=f"evt_buy_{n}",
        uid=uid,
        pack=pack,
        payment_intent=f"pi_{n}",
        session_id=f"cs_{n}",
        amount_total=amount,
        **kw,
    )


def refund(n: int, total: int, before: int = 0, *, amount: int = 1000) -> dict[str, Any]:
    return se.charge_refunded(
        event_id=f"evt_refund_{n}_{total}",
        charge_id=f"ch_{n}",
        payment_intent=f"pi_{n}",
        amount=amount,
        amount_refunded=total,
        previously_refunded=before,
    )


def disputed(n: int, event_type: str, *, status: str = "needs_response", amount: int = 1000) -> dict[str, Any]:
    return se.dispute(
        event_id=f"evt_dp_{n}_{event_type}_{status}",
        event_type=event_type,
        dispute_id=f"dp_{n}",
        charge_id=f"ch_{n}",
        payment_intent=f"pi_{n}",
        amount=amount,
        status=status,
    )


def entries(uid: str = "alice") -> list[tuple[str, str, int]]:
    return [(e["source"], e["direction"], e["amount"]) for e in stored_entries(uid)]


def image(uid: str = "alice") -> int:
    return ledger.read_balances(uid).of(CreditType.IMAGE)


def anomalies(kind: str) -> list[dict[str, Any]]:
    query = db().collection("anomalies").where(filter=FieldFilter("kind", "==", kind))
    return [snap.to_dict() or {} for snap in query.stream()]


def test_a_lost_dispute_takes_the_disputed_credits_once_and_nothing_more():
    deliver(buy(1))
    taken = deliver(disputed(1, "created"))
    again = deliver(disputed(1, "funds_withdrawn"))
    lost = deliver(disputed(1, "closed", status="lost"))

    assert taken.outcome is Outcome.PROCESSED
    [chargeback] = taken.entries
    assert (chargeback.source, chargeback.amount, chargeback.idempotency_key) == (
        Source.CHARGEBACK,
        100,
        "debit:chargeback:dp_1",
    )
    assert chargeback.meta["disputeId"] == "dp_1" and chargeback.payment_id == "pi_1"
    assert (again.outcome, lost.outcome) == (Outcome.DUPLICATE, Outcome.DUPLICATE)
    assert entries() == [("purchase", "credit", 100), ("chargeback", "debit", 100)]
    assert image() == 0


def test_a_won_dispute_gives_back_what_was_taken_once_to_a_block_expiring_as_the_purchase_did(monkeypatch):
    monkeypatch.setitem(
        payments.CATALOG,
        "price_pack_image_100",
        payments.CATALOG["price_pack_image_100"].__class__(
            **{**payments.CATALOG["price_pack_image_100"].__dict__, "lasts": timedelta(days=90)}
        ),
    )
    purchase = deliver(buy(1)).entries[0]
    ledger.write_ledger_entry(request(uid="alice", direction=Direction.DEBIT, amount=60))  # spent 60 of 100
    deliver(disputed(1, "created"))
    reinstated = deliver(disputed(1, "funds_reinstated"))
    won = deliver(disputed(1, "closed", status="won"))

    [returned] = reinstated.entries
    assert (returned.source, returned.direction, returned.amount) == (Source.CHARGEBACK_REVERSAL, Direction.CREDIT, 40)
    assert returned.expires_at == purchase.expires_at is not None
    assert won.outcome is Outcome.DUPLICATE
    assert entries() == [
        ("purchase", "credit", 100),
        ("admin_adjustment", "debit", 60),
        ("chargeback", "debit", 40),
        ("chargeback_reversal", "credit", 40),
    ]
    [shortfall] = anomalies("partial_reversal")
    assert (shortfall["source"], shortfall["amount"], shortfall["taken"]) == ("chargeback", 100, 40)
    assert image() == 40


def test_a_dispute_won_before_it_was_opened_still_takes_and_gives_back():
    deliver(buy(1))
    deliver(disputed(1, "closed", status="won"))
    deliver(disputed(1, "created"))

    assert entries() == [
        ("purchase", "credit", 100),
        ("chargeback", "debit", 100),
        ("chargeback_reversal", "credit", 100),
    ]
    assert image() == 100


def test_an_inquiry_takes_nothing():
    deliver(buy(1))
    assert deliver(disputed(1, "created", status="warning_needs_response")).outcome is Outcome.IGNORED
    assert deliver(disputed(1, "closed", status="warning_closed")).outcome is Outcome.IGNORED
    assert entries() == [("purchase", "credit", 100)]


def test_a_dispute_before_its_purchase_is_applied_when_the_purchase_lands():
    assert deliver(disputed(1, "created")).outcome is Outcome.PENDING
    landed = deliver(buy(1))
    assert [e.source for e in landed.entries] == [Source.PURCHASE, Source.CHARGEBACK]
    assert image() == 0


def test_partial_refunds_in_any_order_add_up_to_the_total_refunded():
    deliver(refund(1, 1000, before=700))
    deliver(buy(1))
    deliver(refund(1, 300))
    deliver(refund(1, 700, before=300))
    deliver(refund(1, 300))

    reversed_ = [amount for source, _, amount in entries() if source == "purchase_reversal"]
    assert sorted(reversed_) == [30, 30, 40] and image() == 0


def test_an_unpaid_checkout_credits_nothing_and_its_async_payment_credits_once_however_delivered():
    assert deliver(buy(1, payment_status="unpaid")).outcome is Outcome.IGNORED
    assert entries() == []
    succeeded = buy(1, event_type="checkout.session.async_payment_succeeded")
    succeeded["id"] = "evt_async_ok"
    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = sorted(h.outcome for h in pool.map(lambda _: deliver(succeeded), range(6)))

    assert outcomes == [Outcome.DUPLICATE] * 5 + [Outcome.PROCESSED]
    assert entries() == [("purchase", "credit", 100)]


def test_a_failed_async_payment_credits_nothing():
    deliver(buy(1, payment_status="unpaid"))
    failed = buy(1, event_type="checkout.session.async_payment_failed", payment_status="unpaid")
    failed["id"] = "evt_async_failed"
    assert deliver(failed).outcome is Outcome.IGNORED
    assert entries() == [] and not ledger.balance_ref("alice").get().exists


def test_a_purchase_redelivered_after_its_refund_does_not_credit_again():
    deliver(buy(1))
    deliver(refund(1, 1000))
    assert deliver(buy(1)).outcome is Outcome.DUPLICATE
    assert image() == 0 and len(entries()) == 2


def plan_events(n: int, *, amount: int = 2000) -> tuple[dict[str, Any], dict[str, Any]]:
    grant = se.invoice_paid(
        event_id=f"evt_inv_{n}",
        uid="alice",
        plan="price_plan_pro_monthly",
        invoice_id=f"in_{n}",
        subscription_id="sub_1",
        amount_paid=amount,
    )
    link = se.invoice_payment_paid(
        event_id=f"evt_inpay_{n}", invoice_id=f"in_{n}", payment_intent=f"pi_{n}", amount_paid=amount
    )
    return grant, link


@pytest.mark.parametrize("order", ["grant, link, refund", "refund, link, grant", "link, refund, grant"])
def test_a_refunded_plan_payment_claws_back_its_share_of_the_grant_from_the_grant_first(order):
    deliver(buy(9, amount=999))  # a pack, whose credits last longer than the plan's
    grant, link = plan_events(1)
    events = {"grant": grant, "link": link, "refund": refund(1, 500, amount=2000)}
    for name in order.split(", "):
        deliver(events[name])

    [reversal] = [e for e in stored_entries("alice") if e["source"] == "purchase_reversal"]
    assert (reversal["amount"], reversal["reason"], reversal["invoiceId"]) == (75, "Plan payment refunded", "in_1")
    grant_entry = ledger.find_entry_by_key(keys.subscription_grant("in_1"))
    assert grant_entry is not None
    assert [part["block"] for part in reversal["paidBy"]] == [grant_entry.id]
    assert image() == 100 + 300 - 75


def test_a_reversal_that_never_finds_its_purchase_is_an_anomaly_after_the_bound():
    deliver(refund(5, 1000))
    reversals.payment_ref("pi_5").update({"lastEventAt": datetime.now(UTC) - timedelta(days=4, hours=12)})

    reconcile.reconcile_day(datetime.now(UTC).date() - timedelta(days=1))
    reconcile.reconcile_day(datetime.now(UTC).date())

    [anomaly] = anomalies("reversal_without_purchase")
    assert (anomaly["paymentId"], anomaly["chargeId"], anomaly["refunded"]) == ("pi_5", "ch_5", 1000)


def test_a_bad_signature_changes_nothing_and_the_redelivery_applies():
    with pytest.raises(InvalidArgument):
        deliver(refund(1, 1000), secret="whsec_wrong")
    assert not reversals.payment_ref("pi_1").get().exists


# The model test.

PACKS = {"price_pack_image_100": 100, "price_pack_image_500": 500, "price_pack_video_60": 60}
PLANS = {"price_plan_pro_monthly": 300, "price_plan_video_monthly": 120}
TYPES = {**dict.fromkeys(["price_pack_image_100", "price_pack_image_500", "price_plan_pro_monthly"], "image")}


@dataclass
class History:
    """The events of a few payments in Stripe's order, and the entries applying them once in that order makes."""

    events: list[dict[str, Any]] = field(default_factory=list)
    expected: list[tuple[str, str, str, int]] = field(default_factory=list)
    """(uid, source, type, amount) of every entry."""


@st.composite
def histories(draw: st.DrawFn) -> History:
    history = History()
    for n in range(draw(st.integers(1, 3))):
        uid = draw(st.sampled_from(USERS))
        price = draw(st.sampled_from(sorted(PACKS | PLANS)))
        credit_type = TYPES.get(price, "video")
        paid = draw(st.sampled_from([999, 1000, 2999]))
        if price in PACKS:
            credits = PACKS[price]
            session = {"uid": uid, "pack": price, "amount": paid}
            if draw(st.booleans()):  # an asynchronous payment method
                history.events.append(buy(n, **session, payment_status="unpaid"))
                ok = draw(st.booleans())
                kind = "succeeded" if ok else "failed"
                event = buy(n, **session, event_type=f"checkout.session.async_payment_{kind}")
                event["id"] = f"evt_async_{n}"
                history.events.append(event)
                if not ok:
                    continue
            else:
                history.events.append(buy(n, **session))
            history.expected.append((uid, "purchase", credit_type, credits))
        else:
            credits = PLANS[price]
            grant = se.invoice_paid(
                event_id=f"evt_inv_{n}",
                uid=uid,
                plan=price,
                invoice_id=f"in_{n}",
                subscription_id="s",
                amount_paid=paid,
            )
            link = se.invoice_payment_paid(
                event_id=f"evt_inpay_{n}", invoice_id=f"in_{n}", payment_intent=f"pi_{n}", amount_paid=paid
            )
            history.events += [grant, link]
            history.expected.append((uid, "subscription_grant", credit_type, credits))
        then = draw(st.sampled_from(["nothing", "refunds", "dispute won", "dispute lost", "inquiry"]))
        if then == "refunds":
            totals = sorted(set(draw(st.lists(st.integers(1, paid), min_size=1, max_size=3))))
            for before, total in zip([0, *totals], totals, strict=False):
                history.events.append(refund(n, total, before, amount=paid))
                owed = reversals.share(credits, total, paid) - reversals.share(credits, before, paid)
                if owed:
                    history.expected.append((uid, "purchase_reversal", credit_type, owed))
        elif then == "inquiry":
            history.events.append(disputed(n, "created", status="warning_needs_response", amount=paid))
            history.events.append(disputed(n, "closed", status="warning_closed", amount=paid))
        elif then.startswith("dispute"):
            history.events += [disputed(n, "created", amount=paid), disputed(n, "funds_withdrawn", amount=paid)]
            history.expected.append((uid, "chargeback", credit_type, credits))
            if then == "dispute won":
                history.events += [disputed(n, "funds_reinstated", amount=paid)]
                history.expected.append((uid, "chargeback_reversal", credit_type, credits))
            history.events.append(disputed(n, "closed", status="won" if then == "dispute won" else "lost", amount=paid))
    return history


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories(), seed=st.integers(0, 2**32 - 1))
def test_any_delivery_order_ends_as_the_history_applied_once_in_order(firestore, history, seed):
    reset_database(firestore)
    rng = random.Random(seed)
    events = history.events
    order = [*range(len(events)), *rng.choices(range(len(events)), k=rng.randint(0, len(events)))]
    rng.shuffle(order)
    failing = set(rng.sample(range(len(order)), k=rng.randint(0, len(order) // 3)))
    later = [events[i] for position, i in enumerate(order) if position in failing]
    with ThreadPoolExecutor(max_workers=4) as pool:
        position = 0
        while position < len(order):
            size = rng.randint(1, 4)
            batch = [(p, events[i]) for p, i in enumerate(order[position : position + size], start=position)]
            position += size
            for p, event in batch:
                if p in failing:  # the endpoint failed (here: a bad signature); Stripe delivers it again later
                    with pytest.raises(InvalidArgument):
                        deliver(event, secret="whsec_not_ours")
            list(pool.map(deliver, [event for p, event in batch if p not in failing]))
    rng.shuffle(later)
    for event in later:
        deliver(event)

    found = sorted((e["uid"], e["source"], e["type"], e["amount"]) for uid in USERS for e in stored_entries(uid))
    assert found == sorted(history.expected)
    for uid in USERS:
        for credit_type in CreditType:
            expected = sum(
                amount if source in ("purchase", "subscription_grant", "chargeback_reversal") else -amount
                for who, source, t, amount in history.expected
                if who == uid and t == credit_type
            )
            assert ledger.read_balances(uid).of(credit_type) == expected
    assert anomalies("partial_reversal") == []
