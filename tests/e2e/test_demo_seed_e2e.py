"""The README's first command seeds demo data through the product's paths; here on the test suite.

The demo must look like the product after ten days of use: history at consistent times
(a job's debit seconds after the job), spread over today, yesterday and earlier days, daily
summaries of the past days, each anomaly kind the product records in normal operation, and
a ledger the verifier passes. Run it again and nothing changes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta

import requests

from e2e import helpers

SCRIPTS = helpers.ROOT / "scripts"
DEMO_USERS = ("demo-alice", "demo-bob", "demo-carol")
SEEDED_ANOMALIES = {
    "insufficient_credits",
    "duplicate_webhook",
    "unattributable_webhook",
    "partial_reversal",
    "job_completed_after_refund",
    "job_billing_repaired",
}
"""Every kind but reconciliation_mismatch, which only a broken ledger produces."""


def run_script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "FIRESTORE_EMULATOR_HOST": "127.0.0.1:8080",
        "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099",
        "GCLOUD_PROJECT": helpers.PROJECT,
    }
    command = [sys.executable, str(SCRIPTS / name), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def snapshot() -> dict[str, object]:
    """Everything the seed writes, in a form two runs can be compared by."""
    return {
        "entries": sorted(d.id for d in helpers.query("credits_ledger")),
        "balances": {uid: helpers.balance(uid) for uid in DEMO_USERS},
        "jobs": {d.id: d.data for d in helpers.query("generation_jobs")},
        "anomalies": sorted(d.id for d in helpers.query("anomalies")),
        "summaries": {d.id: d.data["entries"] for d in helpers.query("daily_credits_summary")},
    }


def test_seed_writes_ten_days_of_consistent_history():
    seeded = run_script("seed_demo.py")
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    assert "alice@demo.test" in seeded.stdout and "seed_demo took" in seeded.stdout
    now = datetime.now(UTC)
    today = now.date()

    # The verifier, as an operator runs it, and the chain read over REST.
    verified = run_script("verify_ledger.py")
    assert verified.returncode == 0, verified.stdout + verified.stderr[-3000:]
    for uid in DEMO_USERS:
        helpers.assert_chain(uid)

    # Every user's history is in time order: seq order and createdAt order agree.
    entries = {uid: helpers.ledger_entries(uid) for uid in DEMO_USERS}
    for uid, own in entries.items():
        times = [e.data["createdAt"] for e in own]
        assert times == sorted(times) and len(set(times)) == len(times), uid
        assert times[-1] <= now

    # Alice: more than a page of entries, over at least five days including today and yesterday.
    alice = entries["demo-alice"]
    assert len(alice) >= 80
    alice_days = {e.data["createdAt"].date() for e in alice}
    assert len(alice_days) >= 5 and {today, today - timedelta(days=1)} <= alice_days
    sources = Counter(e.data["source"] for e in alice)
    assert sources["subscription_grant"] >= 1 and sources["purchase"] == 1 and sources["refund"] >= 3
    assert sources["admin_adjustment"] == 1
    assert {"text2image", "image2image", "text2video", "image2video"} <= set(sources)
    grant = next(e for e in alice if e.data["source"] == "admin_adjustment")
    assert grant.data["reason"] and grant.data["createdBy"] == "admin:demo-admin"

    # Jobs: each debit seconds after its job, each refund a minute or two after it.
    jobs = {d.id: d.data for d in helpers.query("generation_jobs")}
    alice_jobs = {job_id: job for job_id, job in jobs.items() if job["uid"] == "demo-alice"}
    assert 40 <= len(alice_jobs) <= 80
    assert {job.get("influencerName") for job in alice_jobs.values()} == {"Luna", "Nova"}
    statuses = Counter(job["status"] for job in alice_jobs.values())
    assert statuses["completed"] > statuses["failed"] >= 3 and statuses["processing"] + statuses["queued"] == 1
    by_id = {e.id: e.data for own in entries.values() for e in own}
    # One of Carol's jobs lost its trigger deliveries: the sweeper's next run after the grace
    # period charged it, within the sweeper's promise (grace and one schedule interval).
    swept = {a.data["jobId"]: a.data for a in helpers.anomalies("job_billing_repaired")}
    assert [(a["uid"], a["missing"], a["action"]) for a in swept.values()] == [("demo-carol", "debit", "charged")]
    for job_id, job in jobs.items():
        if not job.get("debitEntryId"):
            assert job.get("failureReason") == "insufficient_credits", job_id
            continue
        debit = by_id[job["debitEntryId"]]
        assert debit["jobId"] == job_id
        billed_within = timedelta(minutes=10) if job_id in swept else timedelta(minutes=1)
        assert timedelta(0) <= debit["createdAt"] - job["updatedAt" if job_id in swept else "createdAt"], job_id
        assert debit["createdAt"] - job["createdAt"] <= billed_within, job_id
        if job.get("refundEntryId"):
            refund = by_id[job["refundEntryId"]]
            assert timedelta(0) < refund["createdAt"] - debit["createdAt"] <= timedelta(minutes=3), job_id
        if job["status"] == "failed":
            assert job.get("refundEntryId"), job_id
    live = jobs["demo-alice-live"]
    assert live["status"] == "processing" and by_id[live["debitEntryId"]]["createdAt"].date() == today

    # Bob and Carol: smaller, each low on one balance (the admin Users tab lists them).
    assert 5 <= len(entries["demo-bob"]) < len(alice) and 1 <= len(entries["demo-carol"]) < 10
    bob, carol = helpers.balance("demo-bob"), helpers.balance("demo-carol")
    assert bob is not None and carol is not None
    assert bob["video"] < 20 and carol["image"] < 20

    # Bob's trial credits: his first jobs spent them before his pack did, and the rest expired.
    (trial,) = [e for e in entries["demo-bob"] if e.data["reason"] == "Trial credits, valid for 3 days"]
    (expired,) = [e.data for e in entries["demo-bob"] if e.data["source"] == "expiration"]
    spent = [p["amount"] for e in entries["demo-bob"] for p in e.data.get("paidBy", []) if p["block"] == trial.id]
    assert expired["paidBy"][0]["block"] == trial.id and len(spent) > 1
    assert sum(spent) == 20  # the expiration's part is one of them
    assert expired["createdAt"] - trial.data["expiresAt"] == timedelta(minutes=15)  # the next schedule run

    # Daily summaries of every past day, built from the same entries.
    for days_ago in range(1, 10):
        day = today - timedelta(days=days_ago)
        summary = helpers.get_document(f"daily_credits_summary/{day.isoformat()}")
        assert summary is not None, day
        that_day = [e for own in entries.values() for e in own if e.data["createdAt"].date() == day]
        assert summary.data["entries"] == len(that_day) and summary.data["complete"] is True, day
        assert summary.data["unclassified"]["count"] == 0

    # Each anomaly kind the product records in normal operation.
    kinds = {d.data["kind"] for d in helpers.query("anomalies")}
    assert kinds == SEEDED_ANOMALIES

    # The demo accounts as before: password sign-in, one admin.
    admin = helpers.sign_in(
        helpers.User(uid="demo-admin", email="admin@demo.test", password="demo-password", id_token="")
    )
    assert helpers.token_claims(admin.id_token).get("admin") is True

    # The Activity projection: the backfill's items of the history and the triggers' of today,
    # one per job and per entry of each user; Alice's All view is the feed's first page.
    for uid in DEMO_USERS:
        expected = {f"job:{job_id}" for job_id, job in jobs.items() if job["uid"] == uid}
        expected |= {f"entry:{e.id}" for e in entries[uid]}
        helpers.wait_for(
            lambda uid=uid: set(helpers.activity_items(uid)), lambda ids, want=expected: ids == want, what=uid
        )
    alice_user = helpers.sign_in(
        helpers.User(uid="demo-alice", email="alice@demo.test", password="demo-password", id_token="")
    )
    feed = requests.get(
        f"{helpers.HOSTING}/api/activity", params={"range": "all"}, headers=alice_user.auth_header, timeout=60
    ).json()["items"]
    all_view = sorted(
        (d for d in helpers.activity_items("demo-alice").values() if d["inAll"]),
        key=lambda d: (d["time"], d["item"]["id"]),
        reverse=True,
    )
    assert [d["item"] for d in all_view[: len(feed)]] == feed

    # Again: nothing changes.
    before = snapshot()
    again = run_script("seed_demo.py")
    assert again.returncode == 0 and "already present" in again.stdout, again.stderr[-3000:]
    assert snapshot() == before
