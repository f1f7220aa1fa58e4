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

**History** is written in-process by the flows' own functions, each inside
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
the nightly schedules would have.

**Now** a few items take the live paths: a job billed by the real Firestore trigger, a job
the trigger refuses for want of credits, an admin grant through the admin API with the
admin's ID token, and a Stripe event delivered twice to the webhook through Hosting.

Nothing writes a balance, an entry or an anomaly directly, so the verifier passes for every
user. Run against data that already has the demo users, it changes nothing. The product's
structured log lines go to ``.local/seed-demo.log``.
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import requests
import target

HOSTING = "http://127.0.0.1:5000"
HUB = "http://" + os.environ.get("FIREBASE_EMULATOR_HUB", "127.0.0.1:4400")
PASSWORD = "demo-password"
LOG = target.ROOT / ".local" / "seed-demo.log"
HISTORY_DAYS = 10
"""Days the demo covers: today and the nine before it (UTC)."""


@dataclass(frozen=True)
class DemoUser:
    uid: str
    email: str
    name: str
    admin: bool = False


ADMIN = DemoUser("demo-admin", "admin@demo.test", "Ada Admin", admin=True)
ALICE = DemoUser("demo-alice", "alice@demo.test", "Alice Artist")
BOB = DemoUser("demo-bob", "bob@demo.test", "Bob Builder")
CAROL = DemoUser("demo-carol", "carol@demo.test", "Carol Curious")
USERS = (ADMIN, ALICE, BOB, CAROL)

LUNA = {"influencerId": "inf-luna", "influencerName": "Luna"}
NOVA = {"influencerId": "inf-nova", "influencerName": "Nova"}
IMAGE_SETTINGS = (
    {"model": "flux-pro", "resolution": "1024x1792", "aspectRatio": "9:16"},
    {"model": "flux-pro", "resolution": "1024x1024", "aspectRatio": "1:1"},
    {"model": "sdxl-turbo", "resolution": "1344x768", "aspectRatio": "16:9"},
)
VIDEO_SETTINGS = (
    {"model": "kling-2", "resolution": "1080p", "aspectRatio": "9:16"},
    {"model": "kling-2", "resolution": "720p", "aspectRatio": "16:9"},
)
ERRORS = (
    "upstream model timed out",
    "GPU worker lost during rendering",
    "output failed the safety check",
)
PRICE_CENTS = {
    "price_pack_image_100": 999,
    "price_pack_video_60": 1499,
    "price_plan_pro_monthly": 1999,
    "price_plan_video_monthly": 2999,
}
"""What the demo's Stripe events say was paid, in cents, for the catalog prices they use."""
ALICE_JOBS_PER_DAY = (7, 8, 6, 9, 7, 7, 8, 7, 7, 6)
"""Alice's back-dated jobs, from nine days ago to today (one more runs live today)."""
ALICE_FAILED = frozenset({5, 14, 23, 31, 40, 49, 57, 66})
"""Which of Alice's jobs (numbered from 0, oldest first) fail and are refunded."""


@dataclass(frozen=True, kw_only=True)
class Job:
    """One generation job of the history, as the pipeline would have run it."""

    id: str
    user: DemoUser
    source: str
    settings: dict[str, Any]
    created: datetime
    outcome: str
    """``completed``, ``failed``, or ``failed_then_completed`` (a late success report)."""
    ends: datetime
    error: str = ""
    deliveries_lost: bool = False
    """No trigger delivery of this job arrives: the job billing sweeper bills it afterwards."""


@dataclass(order=True)
class Step:
    """One thing that happened at ``at``: the seed runs every step in time order."""

    at: datetime
    order: int
    label: str = field(compare=False)
    run: Callable[[datetime], None] = field(compare=False)


def main() -> int:
    started = time.perf_counter()
    where = target.connect(None)
    from credits.core import ledger

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
    history = History(now)
    with product_logs_to_file(), background_triggers_disabled():
        steps = history.steps()
        for step in sorted(steps):
            step.run(step.at)
        past_days = [history.day(n) for n in range(HISTORY_DAYS - 1, 0, -1)]
        nightly_jobs(past_days)
    print(
        f"  history: {len(steps)} steps from {past_days[0]} to {now.date()} (UTC), summaries and "
        f"reconciliation of {len(past_days)} past days ({time.perf_counter() - started:.1f} s)"
    )
    started = time.perf_counter()
    live(history)
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


@contextlib.contextmanager
def background_triggers_disabled() -> Iterator[None]:
    """Stop the Functions emulator from running Firestore triggers, and start it again after."""
    try:
        requests.put(f"{HUB}/functions/disableBackgroundTriggers", timeout=60).raise_for_status()
    except requests.RequestException as exc:
        raise SystemExit(f"cannot reach the Emulator Hub at {HUB} ({exc}): is the Emulator Suite running?") from exc
    try:
        yield
    finally:
        try:
            requests.put(f"{HUB}/functions/enableBackgroundTriggers", timeout=120).raise_for_status()
        except requests.RequestException:
            print("could not enable the background triggers again: restart the emulators", file=sys.stderr)
            raise


@contextlib.contextmanager
def product_logs_to_file() -> Iterator[None]:
    """The flows log one JSON line per entry: keep them out of the terminal."""
    LOG.parent.mkdir(exist_ok=True)
    with LOG.open("a") as log, contextlib.redirect_stdout(log):
        yield


class History:
    """The demo's past, relative to ``now``: every step with the time it happened."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.today = now.date()
        self.webhook_secret = webhook_secret()
        self.alice_purchase: dict[str, Any] = {}
        self._order = 0
        self._steps: list[Step] = []

    def day(self, days_ago: int) -> date:
        return self.today - timedelta(days=days_ago)

    def at(self, days_ago: int, hhmm: str) -> datetime:
        hours, minutes = map(int, hhmm.split(":"))
        start = datetime.combine(self.day(days_ago), datetime.min.time(), UTC)
        return start + timedelta(hours=hours, minutes=minutes)

    def steps(self) -> list[Step]:
        self.alice()
        self.bob()
        self.carol()
        self.unattributable_payment()
        late = [step for step in self._steps if step.at >= self.now]
        if late:
            raise RuntimeError(f"demo history reaches into the future: {[s.label for s in late]}")
        return self._steps

    def add(self, at: datetime, label: str, run: Callable[[datetime], None]) -> None:
        self._order += 1
        self._steps.append(Step(at=at, order=self._order, label=label, run=run))

    # The users' stories.

    def alice(self) -> None:
        self.plan_refresh(ALICE, self.at(9, "07:02"), plan="price_plan_pro_monthly", n=1)
        self.plan_refresh(ALICE, self.at(9, "07:02") + timedelta(seconds=40), plan="price_plan_video_monthly", n=2)
        event = self.purchase(ALICE, self.at(3, "13:47"), pack="price_pack_video_60", n=3)
        self.alice_purchase = event
        self.admin_grant(
            ALICE, self.at(4, "10:15"), 25, "Goodwill credits for the slow queue during the model upgrade", "goodwill-1"
        )
        number = 0
        for days_ago, count in zip(range(HISTORY_DAYS - 1, -1, -1), ALICE_JOBS_PER_DAY, strict=True):
            for created in self.job_times(days_ago, count, seed=f"alice-{days_ago}"):
                self.job(alice_job(number, created))
                number += 1

    def bob(self) -> None:
        # Trial credits that last three days: his first jobs spend them before the pack he buys,
        # and what is left expires (an expiration in his Activity, a bucket in the summaries).
        trial_ends = self.at(6, "08:00")
        self.admin_grant(
            BOB, self.at(9, "08:00"), 20, "Trial credits, valid for 3 days", "trial-bob", expires=trial_ends
        )
        self.expiry_run(trial_ends + timedelta(minutes=15), expected=1)
        self.purchase(BOB, self.at(8, "10:12"), pack="price_pack_image_100", n=1)
        pack = self.purchase(BOB, self.at(7, "19:31"), pack="price_pack_video_60", n=2)
        image = IMAGE_SETTINGS[0]
        video = VIDEO_SETTINGS[0]
        bob_jobs = [
            (8, "10:30", "text2image", {"numImages": 4, "quality": "standard", **image}, "completed"),
            (8, "11:04", "image2image", {"numImages": 2, "quality": "hq", **image, **NOVA}, "completed"),
            (7, "20:02", "text2video", {"durationSec": 8, "quality": "hq", **video, **NOVA}, "completed"),
            (6, "12:18", "text2video", {"durationSec": 8, "quality": "hq", **video, **NOVA}, "completed"),
            (5, "15:40", "text2image", {"numImages": 5, "quality": "hq", **image}, "failed_then_completed"),
            (4, "09:21", "text2image", {"numImages": 1, "quality": "standard", **image}, "completed"),
            (2, "18:05", "text2image", {"numImages": 4, "quality": "hq", **image, **NOVA}, "completed"),
            (1, "13:12", "image2image", {"numImages": 2, "quality": "standard", **image}, "completed"),
        ]
        for n, (days_ago, hhmm, source, settings, outcome) in enumerate(bob_jobs, start=1):
            created = self.at(days_ago, hhmm) + timedelta(seconds=17 * n)
            ends = created + timedelta(seconds=70 + 9 * n)
            error = ERRORS[0] if outcome != "completed" else ""
            self.job(
                Job(
                    id=f"demo-bob-{n:03d}",
                    user=BOB,
                    source=source,
                    settings=settings,
                    created=created,
                    outcome=outcome,
                    ends=ends,
                    error=error,
                )
            )
        # The video pack is refunded in full after Bob spent most of it: the clawback takes
        # what is left and records the shortfall (a partial_reversal anomaly).
        session = pack["data"]["object"]
        self.stripe(
            self.at(3, "16:44"),
            BOB,
            "charge.refunded",
            charge_refunded_event(session["payment_intent"], session["amount_total"]),
            expect="processed",
        )

    def carol(self) -> None:
        # Welcome credits last 30 days: her balance card says how many expire, and when.
        self.admin_grant(
            CAROL,
            self.at(2, "09:03"),
            15,
            "Welcome credits",
            "welcome-carol",
            expires=self.at(2, "09:03") + timedelta(days=30),
        )
        image = IMAGE_SETTINGS[1]
        for n, (days_ago, hhmm, count) in enumerate(((2, "09:31", 2), (1, "17:08", 4)), start=1):
            created = self.at(days_ago, hhmm)
            settings = {"numImages": count, "quality": "standard", **image, **LUNA}
            job = Job(
                id=f"demo-carol-{n:03d}",
                user=CAROL,
                source="text2image",
                settings=settings,
                created=created,
                outcome="completed",
                ends=created + timedelta(seconds=48),
                deliveries_lost=n == 1,
            )
            self.job(job)

    def unattributable_payment(self) -> None:
        """A payment made through a link outside the app: no Firebase uid on the session."""
        from credits.flows import stripe_events as se

        at = self.at(6, "14:05")
        event = se.checkout_completed(
            event_id="evt_demo_payment_link_1",
            uid=None,
            pack="price_pack_image_100",
            payment_intent="pi_demo_payment_link_1",
            session_id="cs_demo_payment_link_1",
            amount_total=PRICE_CENTS["price_pack_image_100"],
        )
        self.stripe(at, None, "checkout without uid", dated(event, at), expect="unattributed")

    # Flows, each through the product's own function.

    def job_times(self, days_ago: int, count: int, *, seed: str) -> list[datetime]:
        """``count`` creation times spread over a day's working hours (today: the hours so far)."""
        rng = random.Random(seed)
        if days_ago == 0:
            start = max(self.at(0, "00:05"), self.now - timedelta(hours=6))
            end = self.now - timedelta(minutes=8)
            if end - start < timedelta(minutes=3 * count):
                # Too early in the UTC day for today's share: yesterday evening takes it.
                start, end = self.at(1, "22:40"), self.at(1, "23:50")
        else:
            start, end = self.at(days_ago, "08:00"), self.at(days_ago, "22:30")
        span = (end - start).total_seconds()
        return sorted(start + timedelta(seconds=rng.uniform(0, span)) for _ in range(count))

    def job(self, job: Job) -> None:
        from credits.core import generation_jobs
        from credits.flows import job_sweep, jobs

        ref = generation_jobs.job_ref(job.id)
        document = {
            "uid": job.user.uid,
            "status": "queued",
            "source": job.source,
            **job.settings,
            "createdAt": job.created,
            "updatedAt": job.created,
        }

        def bill(at: datetime, expected: jobs.Action) -> None:
            with ledger_time(at):
                billing = jobs.bill_job(job.id)
            if billing.action is not expected:
                raise RuntimeError(f"job {job.id} at {at}: expected {expected}, the billing did {billing.action}")

        def queued(at: datetime) -> None:
            ref.set(document)  # the pipeline queues the job; the trigger would reserve its price now
            if not job.deliveries_lost:
                bill(at, jobs.Action.CHARGED)
            ref.update({"status": "processing", "updatedAt": at + timedelta(seconds=2)})

        def finished(at: datetime) -> None:
            if job.outcome == "completed":
                ref.update(
                    {"status": "completed", "updatedAt": job.ends, "completedAt": job.ends, "outputs": outputs(job)}
                )
                if not job.deliveries_lost:
                    bill(at, jobs.Action.NOTHING)
            else:
                ref.update({"status": "failed", "updatedAt": job.ends, "failedAt": job.ends, "error": job.error})
                bill(at, jobs.Action.REFUNDED)

        def reported_completed(at: datetime) -> None:
            # The pipeline reports success after the failure was refunded: the refund stands,
            # and the billing records a job_completed_after_refund anomaly.
            ref.update({"status": "completed", "updatedAt": at, "completedAt": at, "outputs": outputs(job)})
            bill(at, jobs.Action.NOTHING)

        def swept(at: datetime) -> None:
            # The next run of the 5-minute schedule after the grace period finds the job
            # completed and never charged, charges it, and records job_billing_repaired.
            with ledger_time(at):
                report = job_sweep.sweep_job_billing(at)
            if [repair.job_id for repair in report.repairs] != [job.id]:
                raise RuntimeError(f"the sweep at {at} repaired {report.repairs}, expected only {job.id}")

        self.add(job.created + timedelta(seconds=3), f"{job.id} queued", queued)
        self.add(job.ends + timedelta(seconds=1), f"{job.id} {job.outcome}", finished)
        if job.outcome == "failed_then_completed":
            self.add(job.ends + timedelta(minutes=11), f"{job.id} reported completed", reported_completed)
        if job.deliveries_lost:
            self.add(job.ends + job_sweep.GRACE + timedelta(minutes=2), f"{job.id} swept", swept)

    def plan_refresh(self, user: DemoUser, at: datetime, *, plan: str, n: int) -> None:
        from credits.flows import stripe_events as se

        event = se.invoice_paid(
            event_id=f"evt_demo_{user.uid}_{n}",
            uid=user.uid,
            plan=plan,
            invoice_id=f"in_demo_{user.uid}_{n}",
            subscription_id=f"sub_demo_{user.uid}_{n}",
            amount_paid=PRICE_CENTS[plan],
            period_start=int(at.timestamp()),
        )
        self.stripe(at, user, f"invoice.paid {plan}", dated(event, at), expect="processed")

    def purchase(self, user: DemoUser, at: datetime, *, pack: str, n: int) -> dict[str, Any]:
        from credits.flows import stripe_events as se

        event = se.checkout_completed(
            event_id=f"evt_demo_{user.uid}_{n}",
            uid=user.uid,
            pack=pack,
            payment_intent=f"pi_demo_{user.uid}_{n}",
            session_id=f"cs_demo_{user.uid}_{n}",
            invoice=f"in_demo_{user.uid}_{n}",
            amount_total=PRICE_CENTS[pack],
        )
        self.stripe(at, user, f"checkout {pack}", dated(event, at), expect="processed")
        return event

    def stripe(self, at: datetime, user: DemoUser | None, label: str, event: dict[str, Any], *, expect: str) -> None:
        """Sign the event as Stripe does, then verify and handle it as the webhook does."""
        from credits.flows import payments
        from credits.flows import stripe_events as se

        def deliver(when: datetime) -> None:
            payload = se.encode(event)
            signature = se.signature_header(payload, self.webhook_secret)
            verified = payments.verify_event(payload.encode(), signature, self.webhook_secret)
            with ledger_time(when):
                handled = payments.handle_event(verified)
            if handled.outcome != expect:
                raise RuntimeError(f"Stripe event {event['id']}: expected {expect}, the webhook said {handled.outcome}")

        self.add(at, f"{user.uid if user else '-'} {label}", deliver)

    def expiry_run(self, at: datetime, *, expected: int) -> None:
        """The 15-minute expiry schedule's run at ``at``, writing what has expired by then."""
        from credits.flows import expiry

        def run(when: datetime) -> None:
            report = expiry.expire_credits(when, around=lambda n: ledger_time(when + timedelta(microseconds=n)))
            if report.expired != expected:
                raise RuntimeError(f"the expiry run at {when} expired {report.expired} blocks, expected {expected}")

        self.add(at, "expiry run", run)

    def admin_grant(
        self, user: DemoUser, at: datetime, amount: int, reason: str, key: str, *, expires: datetime | None = None
    ) -> None:
        from credits.core.accounts import Caller
        from credits.core.ledger import CreditType, Direction
        from credits.flows import admin

        def grant(when: datetime) -> None:
            fields = {
                "uid": user.uid,
                "type": CreditType.IMAGE,
                "direction": Direction.CREDIT,
                "amount": amount,
                "reason": reason,
                "idempotencyKey": key,
                "expiresAt": expires,
            }
            # The grant is checked as on the day it was made: its expiry was then in the future.
            body = admin.AdjustRequest.model_validate(fields, context={"now": when})
            with ledger_time(when):
                admin.adjust(Caller(uid=ADMIN.uid, admin=True, email=ADMIN.email), body)

        self.add(at, f"{user.uid} admin grant", grant)


def draw_settings(rng: random.Random, image_share: float) -> tuple[str, dict[str, Any], float]:
    """A generation's source, settings and rendering time in seconds, drawn from ``rng``."""
    if rng.random() < image_share:
        source = "text2image" if rng.random() < 0.7 else "image2image"
        quality = "hq" if rng.random() < 0.4 else "standard"
        settings = {"numImages": rng.choice((1, 2, 4, 4, 5)), "quality": quality, **rng.choice(IMAGE_SETTINGS)}
        return source, settings, rng.uniform(25, 110)
    source = "text2video" if rng.random() < 0.5 else "image2video"
    quality = "hq" if rng.random() < 0.2 else "standard"
    settings = {"durationSec": rng.choice((3, 4, 5, 6)), "quality": quality, **rng.choice(VIDEO_SETTINGS)}
    return source, settings, rng.uniform(60, 150)


def alice_job(number: int, created: datetime) -> Job:
    """Alice's job ``number``: its settings drawn from a generator seeded with the number."""
    rng = random.Random(f"alice-job-{number}")
    influencer = LUNA if rng.random() < 0.55 else NOVA
    source, settings, duration = draw_settings(rng, image_share=0.7)
    failed = number in ALICE_FAILED
    return Job(
        id=f"demo-alice-{number:03d}",
        user=ALICE,
        source=source,
        settings={**settings, **influencer},
        created=created,
        outcome="failed" if failed else "completed",
        ends=created + timedelta(seconds=duration),
        error=ERRORS[number % len(ERRORS)] if failed else "",
    )


def outputs(job: Job) -> list[str]:
    """Sample pictures the web app ships under /demo/outputs, so the demo loads nothing from outside."""
    if "durationSec" in job.settings:
        return [f"/demo/outputs/video-{len(job.id) % 2}.svg"]
    name = "luna" if job.settings.get("influencerId") == LUNA["influencerId"] else "nova"
    return [f"/demo/outputs/{name}-{i % 4}.svg" for i in range(int(job.settings["numImages"]))]


def dated(event: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The event as Stripe created it at ``at`` (its signature is made at delivery, as Stripe's is)."""
    event["created"] = int(at.timestamp())
    return event


def charge_refunded_event(payment_intent: str, amount: int) -> dict[str, Any]:
    """Stripe's event for a charge refunded in full."""
    from credits.flows import stripe_events as se

    return se.charge_refunded(
        event_id=f"evt_demo_refund_{payment_intent}",
        charge_id=f"ch_{payment_intent.removeprefix('pi_')}",
        payment_intent=payment_intent,
        amount=amount,
        amount_refunded=amount,
    )


@contextlib.contextmanager
def ledger_time(at: datetime) -> Iterator[None]:
    from credits.core import ledger

    with ledger.entry_time(at):
        yield


def nightly_jobs(past_days: list[date]) -> None:
    """What the 00:10 and 00:30 UTC schedules would have done after each past day."""
    from credits.operations import reconcile, summaries

    for day in past_days:
        summaries.build_daily_summary(day, run="rebuild")
        report = reconcile.reconcile_day(day, run="manual")
        if not report.ok:
            raise RuntimeError(f"reconciliation of {day} found mismatches: {report.mismatches}")


def live(history: History) -> None:
    """Today's items through the live paths: the real trigger, the admin API, the webhook."""
    from credits.core.generation_jobs import job_ref
    from credits.flows import stripe_events as se

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
    payload = se.encode(history.alice_purchase)
    response = requests.post(
        f"{HOSTING}/api/stripe/webhook",
        data=payload,
        headers={"Stripe-Signature": se.signature_header(payload, history.webhook_secret)},
        timeout=60,
    )
    response.raise_for_status()
    if response.json().get("outcome") != "duplicate":
        raise RuntimeError(f"the redelivered event was not a duplicate: {response.text}")


def live_job(job_id: str, user: DemoUser, source: str, settings: dict[str, Any], created: datetime) -> dict[str, Any]:
    """Queue a job as the pipeline would and wait for the trigger to bill (or refuse) it."""
    from credits.core.generation_jobs import job_ref

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
    token = sign_in(ADMIN)
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


def sign_in(user: DemoUser) -> str:
    url = (
        f"http://{os.environ['FIREBASE_AUTH_EMULATOR_HOST']}"
        "/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=demo"
    )
    response = requests.post(
        url, json={"email": user.email, "password": PASSWORD, "returnSecureToken": True}, timeout=30
    )
    response.raise_for_status()
    return str(response.json()["idToken"])


def webhook_secret() -> str:
    secrets = (target.ROOT / "functions" / ".secret.local").read_text().splitlines()
    for line in secrets:
        name, _, value = line.partition("=")
        if name.strip() == "STRIPE_WEBHOOK_SECRET":
            return value.strip().strip("\"'")
    raise RuntimeError("no STRIPE_WEBHOOK_SECRET in functions/.secret.local")


def wait_for(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(f"timed out waiting for {what}: is the Functions emulator running?")


def print_anomalies() -> None:
    from credits.core.firestore_client import db

    kinds = Counter(str(snap.get("kind")) for snap in db().collection("anomalies").select(["kind"]).stream())
    print("  anomalies: " + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())))


def print_accounts() -> None:
    from credits.core import ledger
    from credits.core.ledger import CreditType

    print("\nDemo accounts (password: demo-password)")
    for user in USERS:
        balances = ledger.read_balances(user.uid)
        role = "admin" if user.admin else "user"
        amounts = "  ".join(f"{credit_type} {balances.of(credit_type):>4}" for credit_type in CreditType)
        credits = f"{amounts}  entries {balances.seq:>3}"
        print(f"  {user.email:<18} uid {user.uid:<11} {role:<5}  {credits}")


if __name__ == "__main__":
    sys.exit(main())
