"""Lost trigger deliveries, repaired by the job billing sweeper, through the whole Emulator Suite.

Deliveries are lost on purpose: while the Emulator Hub has background triggers disabled, a
job write fires no trigger, then or later, exactly as a delivery that failed once in
production (Python Firestore triggers are never retried). The sweeper is fired by HTTP as
Cloud Scheduler fires it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from ledger_helpers import job_document

from e2e import helpers
from e2e.helpers import User

SWEEPER = "sweep_job_billing"


def kinds_of(job_id: str) -> list[tuple[str, str]]:
    entries = sorted(helpers.job_entries(job_id), key=lambda e: e.data["seq"])
    return [(e.data["direction"], e.data["source"]) for e in entries]


def put_job(job_id: str, uid: str, *, status: str, updated: datetime) -> None:
    document = job_document(uid=uid, status=status, createdAt=updated, updatedAt=updated)
    helpers.create_document("generation_jobs", job_id, document)


def repairs(admin: User) -> list[dict[str, Any]]:
    response = requests.get(
        f"{helpers.HOSTING}/api/admin/credits/anomalies",
        params={"kind": "job_billing_repaired", "limit": 200},
        headers=admin.auth_header,
        timeout=helpers.HTTP_TIMEOUT_S,
    )
    assert response.status_code == 200, response.text
    return list(response.json()["anomalies"])


def test_the_sweeper_bills_lost_deliveries_once_even_beside_live_triggers(admin):
    uid = helpers.new_account("swept")
    helpers.buy_image_credits(uid, tag=helpers.unique("fund"))
    settled = datetime.now(UTC) - timedelta(minutes=7)  # older than the 5-minute grace period
    # Reserved by its trigger, as every job is.
    before = helpers.finished_runs("bill_generation_job")
    put_job("sw-reserved", uid, status="queued", updated=settled)
    helpers.wait_for(lambda: kinds_of("sw-reserved"), lambda k: k == [("debit", "text2image")], what="the reservation")
    helpers.wait_for_trigger_runs(before, count=2)  # the write, and the billing's own write

    with helpers.background_triggers_off():
        helpers.update_document("generation_jobs/sw-reserved", {"status": "failed", "updatedAt": settled})
        put_job("sw-completed", uid, status="completed", updated=settled)
        put_job("sw-queued", uid, status="queued", updated=settled)
        put_job("sw-in-flight", uid, status="queued", updated=datetime.now(UTC) - timedelta(minutes=1))

    helpers.fire_schedule(SWEEPER)

    expected = {
        "sw-reserved": [("debit", "text2image"), ("credit", "refund")],
        "sw-completed": [("debit", "text2image")],
        "sw-queued": [("debit", "text2image")],
        "sw-in-flight": [],  # changed within the grace period: left to its trigger
    }
    assert {job_id: kinds_of(job_id) for job_id in expected} == expected
    listed = {(a["jobId"], a["missing"], a["action"], a["uid"]) for a in repairs(admin)}
    assert listed == {
        ("sw-reserved", "refund", "refunded", uid),
        ("sw-completed", "debit", "charged", uid),
        ("sw-queued", "debit", "charged", uid),
    }
    balance = helpers.image_balance(uid)
    assert balance == 100 - 2 * 10

    helpers.fire_schedule(SWEEPER)
    # Three runs at once, while live deliveries of the same jobs (and of a new job the
    # sweepers also see) bill them through the trigger.
    triggers = helpers.finished_runs("bill_generation_job")
    with ThreadPoolExecutor(max_workers=5) as pool:
        runs = [pool.submit(helpers.fire_schedule, SWEEPER) for _ in range(3)]
        for job_id in ("sw-reserved", "sw-completed", "sw-queued"):
            helpers.update_document(f"generation_jobs/{job_id}", {"viewedAt": datetime.now(UTC)})
        put_job("sw-raced", uid, status="queued", updated=settled)
        for run in runs:
            run.result()
    helpers.wait_for_trigger_runs(triggers, count=4)

    expected["sw-raced"] = [("debit", "text2image")]
    helpers.stays(lambda: {job_id: kinds_of(job_id) for job_id in expected}, expected, what="one billing per job")
    assert helpers.image_balance(uid) == balance - 10
    again = [(a["jobId"], a["missing"]) for a in repairs(admin)]
    assert sorted(again) == sorted({*again}), "each repair is recorded once"
    assert {job_id for job_id, _ in again} <= {"sw-reserved", "sw-completed", "sw-queued", "sw-raced"}
    helpers.assert_chain(uid)
