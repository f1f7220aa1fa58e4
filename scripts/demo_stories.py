"""The demo's users and their last ten days, as steps in time for ``scripts/seed_demo.py`` to run.

:class:`History` turns the stories of the demo users into :class:`Step` objects, each with
the time it happened, relative to the moment of seeding: demo-alice with ten days of
generations (two AI influencers, Luna and Nova, images and videos, a few failed and
refunded), a plan refresh at the start, a purchase a few days ago and an admin grant;
demo-bob with trial credits that expire, two packs (the video pack refunded in Stripe after
he spent most of it) and a job reported completed after its refund; demo-carol with welcome
credits and a job whose trigger deliveries were lost, which the job billing sweeper bills
minutes later; and a payment made through a link outside the app (no user).

Each step writes through the product's own code with ``scripts/history.py`` (jobs billed by
``jobs.bill_job``, Stripe events signed and handled as the webhook does, grants through
``admin.adjust``, all back-dated with ``ledger.entry_time``), or runs a schedule at its
time (the credit expiry, the job billing sweeper). Nothing to run on its own:
``python scripts/seed_demo.py`` runs the steps in time order.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import history
import target
from history import ERRORS, IMAGE_SETTINGS, LUNA, NOVA, VIDEO_SETTINGS, DemoUser, Job

from credits.core import generation_jobs, ledger
from credits.flows import expiry, job_sweep, jobs
from credits.flows import stripe_events as se

ADMIN = DemoUser("demo-admin", "admin@demo.test", "Ada Admin", admin=True)
ALICE = DemoUser("demo-alice", "alice@demo.test", "Alice Artist")
BOB = DemoUser("demo-bob", "bob@demo.test", "Bob Builder")
CAROL = DemoUser("demo-carol", "carol@demo.test", "Carol Curious")
USERS = (ADMIN, ALICE, BOB, CAROL)

HISTORY_DAYS = 10
"""Days the demo covers: today and the nine before it (UTC)."""
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


@dataclass(order=True)
class Step:
    """One thing that happened at ``at``: the seed runs every step in time order."""

    at: datetime
    order: int
    label: str = field(compare=False)
    run: Callable[[datetime], None] = field(compare=False)


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
        at = self.at(6, "14:05")
        event = se.checkout_completed(
            event_id="evt_demo_payment_link_1",
            uid=None,
            pack="price_pack_image_100",
            payment_intent="pi_demo_payment_link_1",
            session_id="cs_demo_payment_link_1",
            amount_total=PRICE_CENTS["price_pack_image_100"],
        )
        self.stripe(at, None, "checkout without uid", history.dated(event, at), expect="unattributed")

    # Flows, each through the product's own function (scripts/history.py).

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
        ref = generation_jobs.job_ref(job.id)

        def finished(at: datetime) -> None:
            if job.outcome != "completed":
                history.fail_job(job, at)
                return
            ref.update(history.completed(job, job.ends))
            if not job.deliveries_lost:
                history.bill(job.id, at, jobs.Action.NOTHING)

        def reported_completed(at: datetime) -> None:
            # The pipeline reports success after the failure was refunded: the refund stands,
            # and the billing records a job_completed_after_refund anomaly.
            ref.update(history.completed(job, at))
            history.bill(job.id, at, jobs.Action.NOTHING)

        def swept(at: datetime) -> None:
            # The next run of the 5-minute schedule after the grace period finds the job
            # completed and never charged, charges it, and records job_billing_repaired.
            with ledger.entry_time(at):
                report = job_sweep.sweep_job_billing(at)
            if [repair.job_id for repair in report.repairs] != [job.id]:
                raise RuntimeError(f"the sweep at {at} repaired {report.repairs}, expected only {job.id}")

        self.add(job.created + timedelta(seconds=3), f"{job.id} queued", lambda at: history.queue_job(job, at))
        self.add(job.ends + timedelta(seconds=1), f"{job.id} {job.outcome}", finished)
        if job.outcome == "failed_then_completed":
            self.add(job.ends + timedelta(minutes=11), f"{job.id} reported completed", reported_completed)
        if job.deliveries_lost:
            self.add(job.ends + job_sweep.GRACE + timedelta(minutes=2), f"{job.id} swept", swept)

    def plan_refresh(self, user: DemoUser, at: datetime, *, plan: str, n: int) -> None:
        ids = f"demo_{user.uid}_{n}"
        event = history.plan_paid(user, at, plan=plan, ids=ids, subscription=f"sub_{ids}", amount=PRICE_CENTS[plan])
        self.stripe(at, user, f"invoice.paid {plan}", event, expect="processed")

    def purchase(self, user: DemoUser, at: datetime, *, pack: str, n: int) -> dict[str, Any]:
        event = history.checkout(user, at, pack=pack, ids=f"demo_{user.uid}_{n}", amount=PRICE_CENTS[pack])
        self.stripe(at, user, f"checkout {pack}", event, expect="processed")
        return event

    def stripe(self, at: datetime, user: DemoUser | None, label: str, event: dict[str, Any], *, expect: str) -> None:
        """Deliver the event at its time, signed, verified and handled as the webhook does."""

        def deliver(when: datetime) -> None:
            history.deliver(event, self.webhook_secret, when, expect=expect)

        self.add(at, f"{user.uid if user else '-'} {label}", deliver)

    def expiry_run(self, at: datetime, *, expected: int) -> None:
        """The 15-minute expiry schedule's run at ``at``, writing what has expired by then."""

        def run(when: datetime) -> None:
            report = expiry.expire_credits(when, around=lambda n: ledger.entry_time(when + timedelta(microseconds=n)))
            if report.expired != expected:
                raise RuntimeError(f"the expiry run at {when} expired {report.expired} blocks, expected {expected}")

        self.add(at, "expiry run", run)

    def admin_grant(
        self, user: DemoUser, at: datetime, amount: int, reason: str, key: str, *, expires: datetime | None = None
    ) -> None:
        def grant(when: datetime) -> None:
            history.grant(ADMIN, user, when, amount, reason, key, expires=expires)

        self.add(at, f"{user.uid} admin grant", grant)


def alice_job(number: int, created: datetime) -> Job:
    """Alice's job ``number``: its settings drawn from a generator seeded with the number."""
    rng = random.Random(f"alice-job-{number}")
    influencer = LUNA if rng.random() < 0.55 else NOVA
    job = history.draw_job(
        rng, id=f"demo-alice-{number:03d}", user=ALICE, created=created, image_share=0.7, influencer=influencer
    )
    return job.failing(ERRORS[number % len(ERRORS)]) if number in ALICE_FAILED else job


def charge_refunded_event(payment_intent: str, amount: int) -> dict[str, Any]:
    """Stripe's event for a charge refunded in full."""
    return se.charge_refunded(
        event_id=f"evt_demo_refund_{payment_intent}",
        charge_id=f"ch_{payment_intent.removeprefix('pi_')}",
        payment_intent=payment_intent,
        amount=amount,
        amount_refunded=amount,
    )


def webhook_secret() -> str:
    """The emulators' webhook secret (functions/.secret.local), so the live redelivery verifies too."""
    secrets = (target.ROOT / "functions" / ".secret.local").read_text().splitlines()
    for line in secrets:
        name, _, value = line.partition("=")
        if name.strip() == "STRIPE_WEBHOOK_SECRET":
            return value.strip().strip("\"'")
    raise RuntimeError("no STRIPE_WEBHOOK_SECRET in functions/.secret.local")
