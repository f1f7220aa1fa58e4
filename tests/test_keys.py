"""Idempotency keys: one module builds them, the same one the docs' key table lists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from credits.core import keys, ledger
from credits.core.ledger import Source
from credits.flows import payments
from credits.flows import stripe_events as se

LEDGER_MD = Path(__file__).resolve().parents[1] / "docs" / "ledger.md"
SECRET = "whsec_keys_test"


def documented_keys() -> dict[str, str]:
    """The rows of the table under "## Idempotency keys" in docs/ledger.md: flow -> key."""
    section = LEDGER_MD.read_text().split("## Idempotency keys", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([^|]+?) \| `([^`]+)` \|$", section, re.MULTILINE)
    return dict(rows)


def test_the_module_builds_exactly_the_keys_of_the_docs_table():
    built = {
        "job debit (reservation)": keys.job_debit("<source>", "<jobId>"),  # type: ignore[arg-type]
        "refund of a failed job": keys.job_refund("<jobId>"),
        "credit pack purchase": keys.purchase("<paymentIntentId>"),
        "subscription grant": keys.subscription_grant("<invoiceId>"),
        "purchase refund clawback": keys.purchase_reversal("<chargeId>", "<amountRefunded>"),  # type: ignore[arg-type]
        "chargeback of a disputed payment": keys.chargeback("<disputeId>"),
        "return of a chargeback (dispute won)": keys.chargeback_reversal("<disputeId>"),
        "admin adjustment": keys.admin_adjustment("<adminUid>", "<client key>"),
        "expiry of a credit block's remainder": keys.expiration("<blockId>"),
    }
    assert documented_keys() == built


def test_system_keys_name_their_direction_and_source():
    assert keys.job_debit(Source.TEXT2VIDEO, "j1") == "debit:text2video:j1"
    assert keys.purchase_reversal("ch_1", 500) == "debit:purchase_reversal:ch_1:500"
    for key in (keys.job_debit(Source.TEXT2IMAGE, "j"), keys.purchase("pi"), keys.admin_adjustment("a", "k")):
        ledger.validate_key(key)


def deliver(event: dict[str, Any]) -> payments.Handled:
    payload = se.encode(event)
    header = se.signature_header(payload, SECRET)
    return payments.receive(payload.encode(), header, SECRET)


def test_a_refund_finds_its_purchase_by_the_key_the_purchase_was_written_under(monkeypatch, accounts):
    """Whatever form the purchase key takes, the clawback looks the purchase up by that same form."""
    accounts("alice")
    monkeypatch.setattr(keys, "purchase", lambda payment_intent: f"credit:purchase:v2:{payment_intent}")
    bought = deliver(
        se.checkout_completed(
            event_id="evt_1", uid="alice", pack="price_pack_image_100", payment_intent="pi_1", session_id="cs_1"
        )
    )
    assert bought.entries[0].idempotency_key == "credit:purchase:v2:pi_1"

    refunded = deliver(
        se.charge_refunded(event_id="evt_2", charge_id="ch_1", payment_intent="pi_1", amount=999, amount_refunded=999)
    )

    assert refunded.outcome is payments.Outcome.PROCESSED
    [reversal] = refunded.entries
    assert (reversal.source, reversal.amount, reversal.meta["purchaseEntryId"]) == (
        Source.PURCHASE_REVERSAL,
        100,
        bought.entries[0].id,
    )
