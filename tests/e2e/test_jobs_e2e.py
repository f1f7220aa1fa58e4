"""Generation jobs billed by the Firestore trigger that the Functions emulator delivers.

The tests write ``generation_jobs`` documents over the Firestore REST API, as the
generation pipeline would, and watch the ledger, the balance and the job itself.
Triggers run asynchronously: each check polls up to a deadline, then keeps watching for
a while to catch late duplicates.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from ledger_helpers import job_document

from e2e import helpers
from e2e.helpers import User

JOB_PRICE = 10
"""Five HQ images at the default price of 2 credits each."""
PACK_CREDITS = 100


def submit_job(uid: str, job_id: str, *, status: str = "queued") -> None:
    document = job_document(uid=uid, status=status, model="flux-pro", createdAt=datetime.now(UTC))
    helpers.create_document("generation_jobs", job_id, document)


def job(job_id: str) -> dict[str, Any]:
    doc = helpers.get_document(f"generation_jobs/{job_id}")
    assert doc is not None, f"job {job_id} disappeared"
    return doc.data


def entry_ids(job_id: str) -> list[str]:
    """Every ledger entry of the job, whoever it belongs to."""
    return [e.id for e in helpers.job_entries(job_id)]


def billing_fields(job_id: str) -> dict[str, Any]:
    data = job(job_id)
    names = ("status", "debitEntryId", "chargedCredits", "refundEntryId", "failureReason")
    return {name: data.get(name) for name in names}


@pytest.fixture
def buyer() -> str:
    """A user who bought a pack of 100 image credits through the Stripe webhook."""
    uid = helpers.new_account("buyer")
    helpers.buy_image_credits(uid, tag=helpers.unique("fund"))
    assert helpers.image_balance(uid) == PACK_CREDITS
    return uid


def wait_for_debit(uid: str, job_id: str) -> helpers.Document:
    charged = helpers.wait_for(lambda: job(job_id), lambda d: "debitEntryId" in d, what=f"debitEntryId on job {job_id}")
    entries = helpers.job_entries(job_id)
    assert [e.id for e in entries] == [charged["debitEntryId"]]
    debit = entries[0].data
    assert debit["uid"] == uid
    assert charged["chargedCredits"] == JOB_PRICE
    assert debit["direction"] == "debit"
    assert debit["type"] == "image"
    assert debit["source"] == "text2image"
    assert debit["amount"] == JOB_PRICE
    assert debit["balance_after"] == PACK_CREDITS - JOB_PRICE
    assert debit["createdBy"] == "system"
    assert debit["idempotencyKey"] == f"debit:text2image:{job_id}"
    assert debit["meta"]["numImages"] == 5
    assert debit["meta"]["quality"] == "hq"
    assert debit["meta"]["model"] == "flux-pro"
    assert helpers.image_balance(uid) == PACK_CREDITS - JOB_PRICE
    return entries[0]


def test_queued_job_is_debited_once_and_completion_adds_nothing(buyer: str) -> None:
    job_id = helpers.unique("job_ok")
    submit_job(buyer, job_id)
    debit = wait_for_debit(buyer, job_id)
    helpers.stays(lambda: entry_ids(job_id), [debit.id], what="entries of the queued job")

    runs = helpers.finished_runs("bill_generation_job")
    helpers.update_document(
        f"generation_jobs/{job_id}",
        {"status": "completed", "completedAt": datetime.now(UTC), "outputs": ["gs://out/1.png"]},
    )
    helpers.wait_for_trigger_runs(runs)

    expected = {
        "status": "completed",
        "debitEntryId": debit.id,
        "chargedCredits": JOB_PRICE,
        "refundEntryId": None,
        "failureReason": None,
    }
    helpers.stays(
        lambda: (entry_ids(job_id), helpers.image_balance(buyer), billing_fields(job_id)),
        ([debit.id], PACK_CREDITS - JOB_PRICE, expected),
        what="entries, balance and billing of the completed job",
    )
    assert len(helpers.ledger_entries(buyer)) == 2
    helpers.assert_chain(buyer)


def test_failed_job_is_refunded_exactly_once(buyer: str) -> None:
    kept = helpers.unique("job_kept")
    submit_job(buyer, kept)
    wait_for_debit(buyer, kept)

    job_id = helpers.unique("job_failed")
    submit_job(buyer, job_id)
    charged = helpers.wait_for(
        lambda: job(job_id), lambda d: "debitEntryId" in d, what="debitEntryId on the second job"
    )
    assert helpers.image_balance(buyer) == PACK_CREDITS - 2 * JOB_PRICE

    helpers.update_document(
        f"generation_jobs/{job_id}",
        {"status": "failed", "failedAt": datetime.now(UTC), "error": "model crashed"},
    )
    refunded = helpers.wait_for(
        lambda: job(job_id), lambda d: "refundEntryId" in d, what="refundEntryId on the failed job"
    )
    entries = helpers.job_entries(job_id)
    assert [e.id for e in entries] == [charged["debitEntryId"], refunded["refundEntryId"]]
    refund = entries[1].data
    assert refund["uid"] == buyer
    assert refund["direction"] == "credit"
    assert refund["source"] == "refund"
    assert refund["type"] == "image"
    assert refund["amount"] == JOB_PRICE
    assert refund["jobId"] == job_id
    assert refund["idempotencyKey"] == f"credit:refund:{job_id}"
    assert refund["meta"]["debitEntryId"] == charged["debitEntryId"]
    assert refund["balance_after"] == PACK_CREDITS - JOB_PRICE

    runs = helpers.finished_runs("bill_generation_job")
    helpers.update_document(f"generation_jobs/{job_id}", {"error": "model crashed (reported again)"})
    helpers.wait_for_trigger_runs(runs)

    helpers.stays(
        lambda: (entry_ids(job_id), helpers.image_balance(buyer), job(job_id)["refundEntryId"]),
        ([charged["debitEntryId"], refunded["refundEntryId"]], PACK_CREDITS - JOB_PRICE, entries[1].id),
        what="entries, balance and refund of the failed job",
    )
    assert len(helpers.job_entries(kept)) == 1
    assert len(helpers.ledger_entries(buyer)) == 4
    helpers.assert_chain(buyer)


@pytest.mark.parametrize("funds", [0, JOB_PRICE - 1], ids=["no-balance", "one-short"])
def test_job_beyond_the_balance_fails_without_an_entry(funds: int, admin: User) -> None:
    uid = helpers.unique("short")
    if funds:
        body = {
            "uid": uid,
            "type": "image",
            "direction": "credit",
            "amount": funds,
            "reason": "starter credits",
            "idempotencyKey": helpers.unique("fund"),
        }
        response = helpers.adjust(body, admin.auth_header)
        assert response.status_code == 201, response.text
    expected_balance = funds if funds else None

    job_id = helpers.unique("job_unpaid")
    submit_job(uid, job_id)
    failed = helpers.wait_for(lambda: job(job_id), lambda d: d.get("status") == "failed", what="the unpaid job to fail")
    assert failed["failureReason"] == "insufficient_credits"
    assert "failedAt" in failed

    [anomaly] = [a.data for a in helpers.anomalies("insufficient_credits") if a.data.get("jobId") == job_id]
    assert anomaly["uid"] == uid
    assert anomaly["amount"] == JOB_PRICE
    assert anomaly["balance"] == funds

    expected = {
        "status": "failed",
        "debitEntryId": None,
        "chargedCredits": None,
        "refundEntryId": None,
        "failureReason": "insufficient_credits",
    }
    helpers.stays(
        lambda: (entry_ids(job_id), helpers.image_balance(uid), billing_fields(job_id)),
        ([], expected_balance, expected),
        what="entries, balance and billing of the unpaid job",
    )
    assert len(helpers.ledger_entries(uid)) == (1 if funds else 0)


def test_jobs_queued_together_never_spend_more_than_the_balance(admin: User) -> None:
    uid = helpers.unique("burst")
    funds = 3 * JOB_PRICE + 5
    body = {
        "uid": uid,
        "type": "image",
        "direction": "credit",
        "amount": funds,
        "reason": "burst budget",
        "idempotencyKey": helpers.unique("fund"),
    }
    assert helpers.adjust(body, admin.auth_header).status_code == 201
    job_ids = [helpers.unique(f"job_burst{i}") for i in range(5)]

    with ThreadPoolExecutor(max_workers=len(job_ids)) as pool:
        list(pool.map(lambda job_id: submit_job(uid, job_id), job_ids))

    def settled() -> dict[str, str]:
        outcomes = {}
        for job_id in job_ids:
            data = job(job_id)
            if "debitEntryId" in data:
                outcomes[job_id] = "charged"
            elif data.get("failureReason") == "insufficient_credits":
                outcomes[job_id] = "rejected"
        return outcomes

    outcomes = helpers.wait_for(settled, lambda o: len(o) == len(job_ids), what="every burst job billed")
    assert sorted(outcomes.values()) == ["charged"] * 3 + ["rejected"] * 2
    charged = sorted(job_id for job_id, outcome in outcomes.items() if outcome == "charged")
    helpers.stays(
        lambda: (
            helpers.image_balance(uid),
            sorted(e.data["jobId"] for e in helpers.ledger_entries(uid)[1:]),
        ),
        (funds - 3 * JOB_PRICE, charged),
        what="balance and debits of the burst",
    )
    helpers.assert_chain(uid)


def test_jobs_first_seen_as_completed_or_failed_net_out(buyer: str) -> None:
    runs = helpers.finished_runs("bill_generation_job")
    done, failed = helpers.unique("job_done"), helpers.unique("job_lost")
    submit_job(buyer, done, status="completed")
    submit_job(buyer, failed, status="failed")

    debit = wait_for_debit(buyer, done)
    helpers.wait_for_trigger_runs(runs, count=2)
    helpers.stays(
        lambda: (entry_ids(done), entry_ids(failed), helpers.image_balance(buyer), billing_fields(failed)),
        (
            [debit.id],
            [],
            PACK_CREDITS - JOB_PRICE,
            {
                "status": "failed",
                "debitEntryId": None,
                "chargedCredits": None,
                "refundEntryId": None,
                "failureReason": None,
            },
        ),
        what="billing of jobs that arrived finished",
    )
