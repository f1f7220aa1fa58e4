"""Demo data for the local Emulator Suite: ten days of history, written by the product's own code.

    python scripts/seed_demo.py      (scripts/run_local.sh runs it once the suite is up)

What a newcomer sees: demo-alice with ten days of generations (two AI influencers, Luna and
Nova, images and videos, a few failed and refunded), a plan refresh at the start, a purchase
a few days ago and an admin grant, more entries than the Credits usage table's first page,
items under Today, Yesterday and earlier dates; demo-bob and demo-carol with less, each low
on one balance (Bob's trial credits expired, Carol's welcome credits expire in a month);
daily summaries of every past day; and an anomaly of each kind the product records in
normal operation (one of Carol's jobs lost its trigger deliveries, and the job
billing sweeper charged it minutes later).

**History**: the users' stories are steps in time (``scripts/demo_stories.py``), each
written in-process by the flows' own functions (``scripts/history.py``), inside
``ledger.entry_time(at)`` so that its entries carry the time they would have had
(docs/ledger.md): a job's document is written as the pipeline writes it and
``jobs.bill_job`` bills it, its debit seconds after the job's creation and a refund a
minute or two after it; Stripe events are built and signed as Stripe sends them, verified
with ``payments.verify_event`` and handled by ``payments.handle_event``; admin grants go
through ``admin.adjust``. Meanwhile the Functions emulator's background triggers are
disabled through the Emulator Hub, so that the trigger does not bill those jobs at the
present time; they are enabled again however the seed ends. Steps of all users run in time
order, so every user's history is written oldest first, as ``entry_time`` requires. Then
``summaries.build_daily_summary`` and ``reconcile.reconcile_day`` run for each past day, as
the nightly schedules would have, and the Activity projection is filled by its backfill
(``activity_log.backfill``, as ``scripts/backfill_activity.py`` runs it), since no trigger
projected the history.

**Now** a few items take the live paths (this module): a job billed (and projected) by the
real Firestore trigger, a job the trigger refuses for want of credits, an admin grant through
the admin API with the admin's ID token, and a Stripe event delivered twice to the webhook
through Hosting.

Nothing writes a balance, an entry or an anomaly directly, so the verifier passes for every
user. Run against data that already has the demo users, it changes nothing. The product's
structured log lines go to ``.local/seed-demo.log``.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import history
import requests
import target
from demo_stories import ADMIN, ALICE, BOB, CAROL, HISTORY_DAYS, USERS, History
from history import IMAGE_SETTINGS, LUNA, NOVA, VIDEO_SETTINGS, DemoUser

from credits.core import ledger
from credits.core.firestore_client import db
from credits.core.generation_jobs import job_ref
from credits.core.ledger import CreditType
from credits.flows import stripe_events as se
from credits.operations import reconcile, summaries
from credits.reads import activity_log

HOSTING = "http://127.0.0.1:5000"
PASSWORD = "demo-password"
LOG = target.ROOT / ".local" / "seed-demo.log"


def main() -> int:
    started = time.perf_counter()
    where = target.connect(None)
    alice = ledger.balance_ref(ALICE.uid).get()
    if alice.exists:
        print(f"demo data already present on {where}")
    else:
        print(f"seeding demo data on {where}")
        try:
            seed(datetime.now(UTC))
        except Exception:
            print(
                "seeding failed part way; start over from empty data with: bash scripts/run_local.sh --reset",
                file=sys.stderr,
            )
            raise
    print_accounts()
    print(f"\nseed_demo took {time.perf_counter() - started:.1f} s")
    return 0


def seed(now: datetime) -> None:
    started = time.perf_counter()
    create_users()
    past = History(now)
    with history.product_logs_to(LOG), history.background_triggers_disabled():
        steps = past.steps()
        for step in sorted(steps):
            step.run(step.at)
        past_days = [past.day(n) for n in range(HISTORY_DAYS - 1, 0, -1)]
        nightly_jobs(past_days)
    print(
        f"  history: {len(steps)} steps from {past_days[0]} to {now.date()} (UTC), summaries and "
        f"reconciliation of {len(past_days)} past days ({time.perf_counter() - started:.1f} s)"
    )
    started = time.perf_counter()
    # The triggers were off: the history's Activity items come from the backfill.
    projected = activity_log.backfill()
    print(
        f"  Activity projection: {projected.written} items written by the backfill "
        f"({time.perf_counter() - started:.1f} s)"
    )
    started = time.perf_counter()
    live(past)
    print(
        "  now: a job billed by the trigger, a job it refused, an admin grant through the API, a duplicate "
        f"webhook delivery ({time.perf_counter() - started:.1f} s)"
    )
    print_anomalies()


def create_users() -> None:
    from firebase_admin import auth

    from credits.api.auth import set_admin
    from credits.core.accounts import firebase_app

    for user in USERS:
        try:
            auth.get_user(user.uid, app=firebase_app())
        except auth.UserNotFoundError:
            auth.create_user(
                uid=user.uid, email=user.email, password=PASSWORD, display_name=user.name, app=firebase_app()
            )
        if user.admin:
            set_admin(user.uid, True)


def nightly_jobs(past_days: list[date]) -> None:
    """What the 00:10 and 00:30 UTC schedules would have done after each past day."""
    for day in past_days:
        summaries.build_daily_summary(day, run="rebuild")
        report = reconcile.reconcile_day(day, run="manual")
        if not report.ok:
            raise RuntimeError(f"reconciliation of {day} found mismatches: {report.mismatches}")


def live(past: History) -> None:
    """Today's items through the live paths: the real trigger, the admin API, the webhook."""
    now = datetime.now(UTC)
    alice_job = live_job(
        "demo-alice-live",
        ALICE,
        "image2video",
        {"durationSec": 5, "quality": "hq", **VIDEO_SETTINGS[0], **NOVA},
        now,
    )
    if not alice_job.get("debitEntryId"):
        raise RuntimeError(f"the live job was not charged: {alice_job}")
    # The pipeline picked the job up; it is still rendering when the newcomer looks.
    job_ref("demo-alice-live").update({"status": "processing", "updatedAt": datetime.now(UTC)})
    carol_job = live_job(
        "demo-carol-live",
        CAROL,
        "text2image",
        {"numImages": 5, "quality": "hq", **IMAGE_SETTINGS[0], **LUNA},
        datetime.now(UTC),
    )
    if carol_job.get("failureReason") != "insufficient_credits":
        raise RuntimeError(f"Carol's job should have been refused for want of credits: {carol_job}")
    admin_grant_now(BOB, 25, "Sorry for the failed renders during Tuesday's outage", "outage-bob")
    # Stripe delivers Alice's purchase again: acknowledged, nothing written, recorded.
    payload = se.encode(past.alice_purchase)
    response = requests.post(
        f"{HOSTING}/api/stripe/webhook",
        data=payload,
        headers={"Stripe-Signature": se.signature_header(payload, past.webhook_secret)},
        timeout=60,
    )
    response.raise_for_status()
    if response.json().get("outcome") != "duplicate":
        raise RuntimeError(f"the redelivered event was not a duplicate: {response.text}")


def live_job(job_id: str, user: DemoUser, source: str, settings: dict[str, Any], created: datetime) -> dict[str, Any]:
    """Queue a job as the pipeline would and wait for the trigger to bill (or refuse) it."""
    ref = job_ref(job_id)
    ref.set(
        {"uid": user.uid, "status": "queued", "source": source, **settings, "createdAt": created, "updatedAt": created}
    )
    job: dict[str, Any] = wait_for(
        lambda: _billed(ref.get().to_dict() or {}), f"the trigger to bill {job_id}", timeout=90
    )
    return job


def _billed(job: dict[str, Any]) -> dict[str, Any] | None:
    return job if job.get("debitEntryId") or job.get("failureReason") else None


def admin_grant_now(user: DemoUser, amount: int, reason: str, key: str) -> None:
    token = history.sign_in(ADMIN.email, PASSWORD)
    response = requests.post(
        f"{HOSTING}/api/admin/credits/adjust",
        json={
            "uid": user.uid,
            "type": "image",
            "direction": "credit",
            "amount": amount,
            "reason": reason,
            "idempotencyKey": key,
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    response.raise_for_status()


def wait_for(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(f"timed out waiting for {what}: is the Functions emulator running?")


def print_anomalies() -> None:
    kinds = Counter(str(snap.get("kind")) for snap in db().collection("anomalies").select(["kind"]).stream())
    print("  anomalies: " + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())))


def print_accounts() -> None:
    print("\nDemo accounts (password: demo-password)")
    for user in USERS:
        balances = ledger.read_balances(user.uid)
        role = "admin" if user.admin else "user"
        amounts = "  ".join(f"{credit_type} {balances.of(credit_type):>4}" for credit_type in CreditType)
        credits = f"{amounts}  entries {balances.seq:>3}"
        print(f"  {user.email:<18} uid {user.uid:<11} {role:<5}  {credits}")


if __name__ == "__main__":
    sys.exit(main())
