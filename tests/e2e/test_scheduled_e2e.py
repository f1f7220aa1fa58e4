"""The scheduled functions, loaded by the Functions emulator and fired as Cloud Scheduler fires them.

``helpers.fire_schedule`` calls a scheduled function's emulator URL the way Cloud Scheduler
does. The runs work on the day before the schedule time, so the tests place their entries
there.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests

from e2e import helpers


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


def test_every_schedule_loads_in_the_functions_emulator():
    schedules = (
        "daily_credits_summary",
        "reconcile_ledger",
        "sweep_job_billing",
        "expire_credits",
        "repair_activity",
        "sweep_credit_alerts",
    )
    for function in schedules:
        helpers.schedule_loaded(function)


def test_daily_summary_runs_for_yesterday():
    yesterday = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    put_entry("sum-a", 1, when=yesterday, balance_after=10)
    put_entry("sum-b", 1, when=yesterday + timedelta(hours=1), balance_after=10)
    put_entry("sum-b", 2, when=datetime.now(UTC), balance_after=20)  # today: not in the summary

    helpers.fire_schedule("daily_credits_summary")

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
    helpers.create_document("users/victim/balances", "current", {"image": 999, "video": 0, "seq": 1})

    helpers.fire_schedule("reconcile_ledger")

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
