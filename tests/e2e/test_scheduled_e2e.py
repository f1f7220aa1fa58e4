"""The scheduled functions, loaded by the Functions emulator and fired as Cloud Scheduler fires them.

A 2nd-gen scheduled function is an HTTP endpoint that Cloud Scheduler calls with the
``X-CloudScheduler-ScheduleTime`` header. The emulator also subscribes it to the Pub/Sub
topic ``firebase-schedule-<name>``, but its Pub/Sub bridge refuses to deliver to Python's
HTTP-signature functions ("Unsupported trigger signature: http"), so the test calls the
function's emulator URL the way Scheduler does. The run works on the day before the
schedule time, so the test places its entries there.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests

from e2e import helpers

FUNCTIONS = "http://127.0.0.1:5001"


MAX_TRIGGER_GENERATIONS = 20


def fire(function: str) -> None:
    loaded(function)
    before = helpers.finished_runs(function)
    # The emulator names a scheduled function's endpoint <name>-<generation>. Re-enabling
    # background triggers through the Emulator Hub (the demo seed does, earlier in the
    # session) loads them again under the next generation and leaves the older ones
    # disabled, answering 204 without running: fire the first generation that runs.
    for generation in range(MAX_TRIGGER_GENERATIONS):
        response = requests.post(
            f"{FUNCTIONS}/{helpers.PROJECT}/us-central1/{function}-{generation}",
            headers={
                "X-CloudScheduler-ScheduleTime": datetime.now(UTC).isoformat(),
                "X-CloudScheduler-JobName": f"firebase-schedule-{function}",
            },
            timeout=helpers.HTTP_TIMEOUT_S,
        )
        response.raise_for_status()
        if response.status_code != 204:
            break
    else:
        raise AssertionError(f"no enabled generation of {function} among the first {MAX_TRIGGER_GENERATIONS}")
    helpers.wait_for_trigger_runs(before, function=function)


def put_entry(uid: str, n: int, *, when: datetime, balance_after: int, source: str = "purchase") -> None:
    helpers.create_document(
        "credits_ledger",
        f"{uid}-{n}",
        {
            "uid": uid,
            "type": "image",
            "direction": "credit",
            "amount": 10,
            "balance_after": balance_after,
            "seq": n,
            "source": source,
            "reason": "",
            "jobId": None,
            "paymentId": None,
            "invoiceId": None,
            "meta": {},
            "createdAt": when,
            "createdBy": "system",
            "idempotencyKey": f"e2e:{uid}:{n}",
        },
    )


def loaded(function: str) -> None:
    marker = f"functions[us-central1-{function}]: pubsub function initialized"
    helpers.wait_for(
        lambda: helpers.SUITE_LOG.read_text(errors="replace"), lambda log: marker in log, what=f"{function} to load"
    )


def test_both_schedules_load_in_the_functions_emulator():
    for function in ("daily_credits_summary", "reconcile_ledger"):
        loaded(function)


def test_daily_summary_runs_for_yesterday():
    yesterday = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    put_entry("sum-a", 1, when=yesterday, balance_after=10)
    put_entry("sum-b", 1, when=yesterday + timedelta(hours=1), balance_after=10)
    put_entry("sum-b", 2, when=datetime.now(UTC), balance_after=20)  # today: not in the summary

    fire("daily_credits_summary")

    summary = helpers.wait_for(
        lambda: helpers.get_document(f"daily_credits_summary/{yesterday.date().isoformat()}"),
        lambda doc: doc is not None,
        what="the daily summary",
    )
    assert summary is not None
    assert summary.data["entries"] == 2 and summary.data["usersTouched"] == 2


def test_reconciliation_catches_a_tampered_balance_and_the_admin_api_shows_it(admin):
    yesterday = datetime.now(UTC) - timedelta(days=1)
    put_entry("victim", 1, when=yesterday, balance_after=10)
    helpers.create_document("users/victim/balances", "current", {"amounts": {"image": 999, "video": 0}, "seq": 1})

    fire("reconcile_ledger")

    response = requests.get(
        f"{helpers.HOSTING}/api/admin/credits/anomalies",
        params={"kind": "reconciliation_mismatch"},
        headers=admin.auth_header,
        timeout=helpers.HTTP_TIMEOUT_S,
    )
    assert response.status_code == 200
    [anomaly] = response.json()["anomalies"]
    assert (anomaly["uid"], anomaly["mismatchKind"], anomaly["expected"], anomaly["found"]) == (
        "victim",
        "balance_mismatch",
        10,
        999,
    )
