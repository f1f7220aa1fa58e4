"""Job billing through the handler the trigger calls, against the Firestore emulator.

Each ``bill_job`` call stands for one trigger delivery; calling it again, or after several
changes, is how deliveries that repeat or arrive out of order look to the handler.
"""

from __future__ import annotations

from typing import Any

import pytest
from ledger_helpers import put_job, request, stored_entries

from credits.core import generation_jobs, ledger
from credits.core.firestore_client import db
from credits.core.ledger import CreditType, Direction, Source
from credits.flows import jobs
from credits.flows.jobs import Action
from credits.operations import verify

pytestmark = pytest.mark.usefixtures("firestore")


def fund(uid: str = "alice", amount: int = 50, type: CreditType = CreditType.IMAGE) -> None:
    ledger.write_ledger_entry(request(uid=uid, amount=amount, type=type))


def set_status(job_id: str, status: str) -> None:
    generation_jobs.job_ref(job_id).update({"status": status})


def job_doc(job_id: str) -> dict[str, Any]:
    return generation_jobs.job_ref(job_id).get().to_dict() or {}


def assert_nets_out(job_id: str) -> None:
    """Promise 5: one debit, plus one refund exactly when the job was refunded."""
    entries = stored_entries(job_id=job_id)
    debits = [e for e in entries if e["direction"] == "debit"]
    refunds = [e for e in entries if e["source"] == "refund"]
    assert len(debits) == 1
    assert len(refunds) == (1 if job_doc(job_id).get("refundEntryId") else 0)
    if refunds:
        assert refunds[0]["amount"] == debits[0]["amount"]


def test_queued_job_reserves_its_price_once():
    fund()
    put_job("j1")

    billing = jobs.bill_job("j1")

    assert billing.action is Action.CHARGED and not billing.replayed
    entry = billing.entry
    assert entry is not None
    assert (entry.amount, entry.source, entry.type, entry.job_id) == (
        10,
        Source.TEXT2IMAGE,
        CreditType.IMAGE,
        "j1",
    )
    assert entry.idempotency_key == "debit:text2image:j1"
    assert entry.meta["model"] == "flux-1" and entry.meta["resolution"] == "1024x1024"
    assert entry.meta["priceVersion"] and entry.meta["numImages"] == 5 and entry.meta["quality"] == "hq"
    assert job_doc("j1")["debitEntryId"] == entry.id and job_doc("j1")["chargedCredits"] == 10
    assert ledger.read_balances("alice").of(CreditType.IMAGE) == 40

    set_status("j1", "completed")
    assert jobs.bill_job("j1").action is Action.NOTHING
    assert jobs.bill_job("j1").action is Action.NOTHING
    assert len(stored_entries(job_id="j1")) == 1
    assert ledger.read_balances("alice").of(CreditType.IMAGE) == 40


@pytest.mark.parametrize(
    ("fields", "credit_type", "amount"),
    [
        ({"source": "image2image", "numImages": 2, "quality": "standard"}, CreditType.IMAGE, 2),
        ({"source": "text2video", "durationSec": 6, "quality": "hq"}, CreditType.VIDEO, 12),
        ({"source": "image2video", "durationSec": 4, "quality": "standard"}, CreditType.VIDEO, 4),
    ],
)
def test_every_job_source_is_billed_to_its_balance(fields, credit_type, amount):
    fund(type=credit_type)
    put_job("j", status="completed", **fields)

    entry = jobs.bill_job("j").entry

    assert entry is not None
    assert (entry.type, entry.amount, entry.source) == (credit_type, amount, Source(fields["source"]))
    assert ledger.read_balances("alice").of(credit_type) == 50 - amount


def test_job_arriving_completed_is_charged_once():
    fund()
    put_job("j2", status="completed")

    assert jobs.bill_job("j2").action is Action.CHARGED
    assert jobs.bill_job("j2").action is Action.NOTHING
    assert_nets_out("j2")


def test_completed_seen_before_queued_changes_nothing_more():
    fund()
    put_job("j3")  # queued, but its delivery is late
    set_status("j3", "completed")
    jobs.bill_job("j3")  # the completed event
    jobs.bill_job("j3")  # the late queued event
    assert_nets_out("j3")
    assert ledger.read_balances("alice").of(CreditType.IMAGE) == 40


def test_debit_replayed_without_job_fields_restores_them():
    fund()
    put_job("j4")
    first = jobs.bill_job("j4").entry
    generation_jobs.job_ref("j4").update({"debitEntryId": None, "chargedCredits": None})  # the pipeline overwrote them

    again = jobs.bill_job("j4")

    assert again.replayed and again.entry == first
    assert job_doc("j4")["debitEntryId"] == first.id
    assert len(stored_entries(job_id="j4")) == 1


def test_failed_job_is_refunded_exactly_once():
    fund()
    put_job("j5")
    debit = jobs.bill_job("j5").entry
    generation_jobs.job_ref("j5").update({"status": "failed", "error": "model crashed"})

    refund = jobs.bill_job("j5")
    assert jobs.bill_job("j5").action is Action.NOTHING  # failed, delivered twice

    assert refund.action is Action.REFUNDED and refund.entry is not None
    assert (refund.entry.source, refund.entry.amount, refund.entry.job_id) == (Source.REFUND, 10, "j5")
    assert refund.entry.idempotency_key == "credit:refund:j5"
    assert refund.entry.meta["debitEntryId"] == debit.id
    assert job_doc("j5")["refundEntryId"] == refund.entry.id
    assert ledger.read_balances("alice").of(CreditType.IMAGE) == 50
    assert_nets_out("j5")


def test_refund_finds_the_debit_even_if_the_job_source_changed():
    fund()
    put_job("j12")
    debit = jobs.bill_job("j12").entry
    generation_jobs.job_ref("j12").update({"status": "failed", "source": "image2image"})

    refund = jobs.bill_job("j12").entry

    assert refund is not None and refund.meta["debitEntryId"] == debit.id
    assert ledger.read_balances("alice").of(CreditType.IMAGE) == 50


def test_failed_without_debit_costs_nothing():
    fund()
    put_job("j6", status="failed")
    assert jobs.bill_job("j6").action is Action.NOTHING
    assert stored_entries(job_id="j6") == []


def test_failed_then_completed_is_not_charged_again():
    fund()
    put_job("j7")
    jobs.bill_job("j7")
    set_status("j7", "failed")
    jobs.bill_job("j7")
    set_status("j7", "completed")

    assert jobs.bill_job("j7").action is Action.NOTHING
    jobs.bill_job("j7")

    assert_nets_out("j7")
    assert ledger.read_balances("alice").of(CreditType.IMAGE) == 50
    kinds = [s.to_dict()["kind"] for s in db().collection("anomalies").stream()]
    assert kinds == ["job_completed_after_refund"]


def test_queued_job_without_credits_is_failed_and_writes_nothing():
    fund(amount=3)
    put_job("j8")

    billing = jobs.bill_job("j8")

    assert billing.action is Action.REJECTED
    job = job_doc("j8")
    assert (job["status"], job["failureReason"]) == ("failed", "insufficient_credits")
    assert "debitEntryId" not in job
    assert stored_entries(job_id="j8") == []
    assert ledger.read_balances("alice").of(CreditType.IMAGE) == 3
    assert jobs.bill_job("j8").action is Action.NOTHING  # the trigger our own update fires
    anomaly = next(db().collection("anomalies").stream()).to_dict()
    assert (anomaly["kind"], anomaly["jobId"], anomaly["amount"], anomaly["balance"]) == (
        "insufficient_credits",
        "j8",
        10,
        3,
    )


def test_completed_job_without_credits_is_flagged_not_failed():
    put_job("j9", status="completed")

    assert jobs.bill_job("j9").action is Action.REJECTED
    job = job_doc("j9")
    assert (job["status"], job["billingError"]) == ("completed", "insufficient_credits")
    assert stored_entries(job_id="j9") == []


def invalid_job_anomalies() -> list[dict[str, Any]]:
    found = [snap.to_dict() or {} for snap in db().collection("anomalies").stream()]
    return [a for a in found if a["kind"] == "invalid_job"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"quality": "ultra"}, "quality", "must be one of standard, hq"),
        ({"numImages": None}, "numImages", "must be an integer from 1 to 16"),
        ({"numImages": 17}, "numImages", "must be an integer from 1 to 16"),
        ({"numImages": True}, "numImages", "must be an integer from 1 to 16"),
        ({"source": "text2video", "numImages": 2}, "durationSec", "must be an integer from 1 to 600"),
        ({"source": "upscale"}, "source", "must be one of text2image, image2image, text2video, image2video"),
        ({"uid": None}, "uid", "must be 1-128 characters without '/' or whitespace"),
        ({"uid": "a/b"}, "uid", "must be 1-128 characters without '/' or whitespace"),
        ({"uid": "alice\n"}, "uid", "must be 1-128 characters without '/' or whitespace"),
        ({"uid": "x" * 129}, "uid", "must be 1-128 characters without '/' or whitespace"),
    ],
)
def test_job_that_breaks_the_contract_fails_naming_the_field(fields, field, message):
    fund()
    put_job("j10", **fields)

    assert jobs.bill_job("j10").action is Action.INVALID
    job = job_doc("j10")
    assert (job["status"], job["failureReason"]) == ("failed", "invalid_job")
    assert job["billingError"] == f"invalid_job: {field}: {message}"
    assert "failedAt" in job and "debitEntryId" not in job
    assert stored_entries(job_id="j10") == []
    assert jobs.bill_job("j10").action is Action.NOTHING  # the trigger our own update fires
    [anomaly] = invalid_job_anomalies()
    uid = fields.get("uid", "alice")
    assert (anomaly["jobId"], anomaly["uid"], anomaly["field"], anomaly["message"]) == (
        "j10",
        uid if isinstance(uid, str) else None,
        field,
        message,
    )


def test_completed_job_that_breaks_the_contract_keeps_its_status():
    fund()
    put_job("j13", status="completed", numImages=0)

    assert jobs.bill_job("j13").action is Action.INVALID
    job = job_doc("j13")
    assert (job["status"], job["billingError"]) == (
        "completed",
        "invalid_job: numImages: must be an integer from 1 to 16",
    )
    assert "failureReason" not in job
    assert stored_entries(job_id="j13") == []
    assert len(invalid_job_anomalies()) == 1


@pytest.mark.parametrize("status", ["archived", "", None, 3, ["queued"]])
def test_job_with_an_unknown_status_is_flagged_and_keeps_it(status):
    fund()
    put_job("j14", status=status)

    assert jobs.bill_job("j14").action is Action.INVALID
    job = job_doc("j14")
    assert job["status"] == status
    assert job["billingError"] == "invalid_job: status: must be one of queued, processing, completed, failed"
    assert "failureReason" not in job and "failedAt" not in job
    assert stored_entries(job_id="j14") == []
    assert jobs.bill_job("j14").action is Action.NOTHING
    [anomaly] = invalid_job_anomalies()
    assert (anomaly["jobId"], anomaly["uid"], anomaly["field"]) == ("j14", "alice", "status")


def test_a_charged_job_that_turns_invalid_is_still_refunded():
    fund()
    put_job("j15")
    debit = jobs.bill_job("j15").entry
    generation_jobs.job_ref("j15").update({"status": "failed", "source": "upscale", "numImages": None})

    refund = jobs.bill_job("j15").entry

    assert debit is not None and refund is not None and refund.meta["debitEntryId"] == debit.id
    assert ledger.read_balances("alice").of(CreditType.IMAGE) == 50
    assert invalid_job_anomalies() == []


def test_a_quality_of_the_pricing_document_is_billed():
    db().collection("config").document("pricing").set(
        {"version": "2026-04", "image": {"standard": 1, "hq": 2, "ultra": 4}, "video": {"standard": 1, "hq": 2}}
    )
    fund()
    put_job("j16", quality="ultra", numImages=2)

    entry = jobs.bill_job("j16").entry

    assert entry is not None and entry.amount == 8


def test_price_version_from_config_is_recorded():
    db().collection("config").document("pricing").set(
        {"version": "2026-03", "image": {"standard": 1, "hq": 3}, "video": {"standard": 1, "hq": 2}}
    )
    fund()
    put_job("j11")

    entry = jobs.bill_job("j11").entry

    assert entry is not None and entry.amount == 15 and entry.meta["priceVersion"] == "2026-03"


def test_many_jobs_in_every_order_keep_the_ledger_exact():
    fund(amount=200)
    for n in range(6):
        put_job(f"m{n}")
        jobs.bill_job(f"m{n}")
        set_status(f"m{n}", "failed" if n % 2 else "completed")
        jobs.bill_job(f"m{n}")
        jobs.bill_job(f"m{n}")
    for n in range(6):
        assert_nets_out(f"m{n}")
    assert ledger.read_balances("alice").of(CreditType.IMAGE) == 200 - 3 * 10
    assert verify.verify_users(["alice"]).ok


def test_refund_credits_the_balance_the_debit_took_from():
    fund(type=CreditType.VIDEO)
    put_job("v1", source="text2video", durationSec=5, quality="standard")
    jobs.bill_job("v1")
    set_status("v1", "failed")
    refund = jobs.bill_job("v1").entry
    assert refund is not None and refund.type is CreditType.VIDEO and refund.direction is Direction.CREDIT
    assert ledger.read_balances("alice").of(CreditType.VIDEO) == 50
