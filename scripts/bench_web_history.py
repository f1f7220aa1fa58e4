"""The web benchmark's user: weeks of history planned in memory, then written through the product's code.

``scripts/bench_web.py`` measures the pages against one user's ledger of ``--entries``
entries over ``--days`` days. :func:`plan_exactly` plans that history in memory, with the
balances simulated so that nothing overdraws: generation jobs over each day's active hours
(about 7 % failed and refunded, the newest two still rendering, settings drawn by
``history.draw_job``), two plans granted each month, an admin grant every nine days, and a
credit pack bought just before a job the balance cannot cover; cut at exactly the number
of entries asked for. :func:`seed` then writes it step by step, in time order, through the
product's own code with ``scripts/history.py`` (jobs billed by ``jobs.bill_job``, packs and
plans as Stripe events signed and handled as the webhook does, grants through
``admin.adjust``, each back-dated with ``ledger.entry_time``) while the Functions
emulator's background triggers are disabled, and checks the result with the verifier.
The product's log lines go to ``.local/bench-web.log``. Nothing to run on its own.
"""

from __future__ import annotations

import heapq
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import history
from bench_helpers import ROOT
from history import LUNA, NOVA, DemoUser, Job

from credits.core import generation_jobs, ledger
from credits.core.errors import InvalidArgument
from credits.core.firestore_client import db
from credits.core.ledger import CreditType
from credits.flows import payments, pricing
from credits.operations import verify

LOG = ROOT / ".local" / "bench-web.log"
"""Where the product's structured log lines go while the history is written."""
ADMIN = DemoUser("bench-admin", "admin@example.com", "Bench Admin", admin=True)
"""Who makes the admin grants."""
WEBHOOK_SECRET = "whsec_bench_web"
"""Signs and verifies this script's own Stripe events in-process; never sent anywhere."""
SEED = 20260702
PROGRESS_EVERY = 1_000
COMPLETION_BATCH = 400
KEEP_TRIGGERS_DISABLED_EVERY = 200
"""Steps between two more requests to keep the triggers disabled: the Functions emulator
enables them again whenever it reloads them (a file under functions/ changed)."""

FAILED_SHARE = 0.07
VIDEO_SHARE = 0.3
LIVE_JOBS = 2
"""The newest jobs, still rendering when the benchmark looks."""
ACTIVE_HOURS = (8.0, 23.5)
"""The part of each UTC day the user generates in."""
ADMIN_GRANT_EVERY_DAYS = 9
IMAGE_PACKS = (("price_pack_image_500", 0.75), ("price_pack_image_100", 0.25))
VIDEO_PACK = "price_pack_video_60"
PLANS = ("price_plan_pro_monthly", "price_plan_video_monthly")


# The plan, made in memory.


@dataclass(order=True)
class Step:
    """One thing that happened at ``at``; ``entries`` is how many ledger entries it writes."""

    at: datetime
    order: int
    kind: str = field(compare=False)
    """``queued``, ``completed``, ``failed``, ``purchase``, ``plan`` or ``grant``."""
    entries: int = field(compare=False)
    job: Job | None = field(compare=False, default=None)
    detail: dict[str, Any] = field(compare=False, default_factory=dict)


@dataclass
class Plan:
    steps: list[Step]
    processing: set[str]
    """Jobs left rendering: queued and charged, not yet finished."""

    @property
    def entries(self) -> int:
        return sum(step.entries for step in self.steps)

    def counts(self) -> Counter[str]:
        return Counter(step.kind for step in self.steps)


def _job(user: DemoUser, number: int, created: datetime) -> Job:
    """Job ``number``'s settings, drawn from a generator seeded with the number."""
    rng = random.Random(f"bench-web-job-{number}")
    influencer = rng.choice((LUNA, LUNA, NOVA, {}))
    job = history.draw_job(
        rng,
        id=f"bench-web-{number:05d}",
        user=user,
        created=created,
        image_share=1 - VIDEO_SHARE,
        influencer=influencer,
    )
    return job.failing(rng.choice(history.ERRORS)) if rng.random() < FAILED_SHARE else job


def _job_times(count: int, start: datetime, end: datetime) -> list[datetime]:
    """``count`` creation times, one per slot of an even grid, each in the day's active hours."""
    rng = random.Random(f"bench-web-times-{count}")
    days = (end - start).total_seconds() / 86_400
    first, last = ACTIVE_HOURS
    times = []
    for k in range(count):
        position = days * (k + rng.random()) / count
        day, within = divmod(position, 1.0)
        hours = first + within * (last - first)
        at = datetime.combine(start.date(), datetime.min.time(), UTC) + timedelta(days=day + 1, hours=hours)
        times.append(at)
    # The newest few run up to the present, still rendering.
    for k in range(1, LIVE_JOBS + 1):
        times[-k] = end - timedelta(seconds=40 * k)
    return sorted(t for t in times if t < end)


def plan_history(user: DemoUser, jobs: int, now: datetime, days: int) -> Plan:
    """Every step of ``jobs`` jobs over ``days`` days with what keeps the balances covered."""
    start = now - timedelta(days=days)
    end = now - timedelta(minutes=1)
    rng = random.Random(SEED)
    candidates: list[Step] = []
    order = 0

    def add(at: datetime, kind: str, entries: int, job: Job | None = None, **detail: Any) -> None:
        nonlocal order
        order += 1
        candidates.append(Step(at=at, order=order, kind=kind, entries=entries, job=job, detail=detail))

    for month in range(0, days, 30):
        at = start + timedelta(days=month, hours=7)
        for n, plan in enumerate(PLANS):
            add(at + timedelta(seconds=40 * n), "plan", 1, plan=plan)
    for day in range(ADMIN_GRANT_EVERY_DAYS // 2, days, ADMIN_GRANT_EVERY_DAYS):
        add(start + timedelta(days=day, hours=10, minutes=15), "grant", 1, amount=rng.choice((10, 25, 50)))
    processing: set[str] = set()
    for number, created in enumerate(_job_times(jobs, start, end)):
        job = _job(user, number, created)
        add(created + timedelta(seconds=3), "queued", 1, job)
        finished = job.ends + timedelta(seconds=1)
        if finished >= end:
            processing.add(job.id)
        elif job.outcome == "failed":
            add(finished, "failed", 1, job)
        else:
            add(finished, "completed", 0, job)

    # Walk in time order with the balances, buying a pack just before a job that needs it.
    heapq.heapify(candidates)
    balances: Counter[str] = Counter()
    charged: dict[str, tuple[str, int]] = {}
    steps: list[Step] = []
    last = start
    while candidates:
        step = heapq.heappop(candidates)
        if step.at <= last:
            step.at = last + timedelta(milliseconds=1)  # entry times are strictly increasing
        if step.kind == "queued" and step.job is not None:
            price = pricing.price_job({"source": step.job.source, **step.job.settings}, pricing.DEFAULT_PRICES)
            credit_type = str(price.credit_type)
            while balances[credit_type] < price.amount:
                pack = VIDEO_PACK if credit_type == "video" else _choose(rng, IMAGE_PACKS)
                bought = last + (step.at - last) * rng.uniform(0.3, 0.9)
                order += 1
                steps.append(Step(at=bought, order=order, kind="purchase", entries=1, detail={"pack": pack}))
                balances[credit_type] += payments.CATALOG[pack].credits
                last = bought
            balances[credit_type] -= price.amount
            charged[step.job.id] = (credit_type, price.amount)
        elif step.kind == "failed" and step.job is not None:
            credit_type, amount = charged[step.job.id]
            balances[credit_type] += amount
        elif step.kind in ("plan", "grant"):
            item = payments.CATALOG[step.detail["plan"]] if step.kind == "plan" else None
            balances[str(item.credit_type) if item else "image"] += item.credits if item else step.detail["amount"]
        steps.append(step)
        last = step.at
    return Plan(steps=steps, processing=processing)


def _choose(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    names, weights = zip(*weighted, strict=True)
    return str(rng.choices(names, weights)[0])


def plan_exactly(user: DemoUser, entries: int, now: datetime, days: int) -> Plan:
    """The plan with the fewest jobs that reaches ``entries``, cut at exactly ``entries``."""
    low, high = 1, entries
    while low < high:
        middle = (low + high) // 2
        if plan_history(user, middle, now, days).entries >= entries:
            high = middle
        else:
            low = middle + 1
    plan = plan_history(user, low, now, days)
    kept: list[Step] = []
    queued: set[str] = set()
    written = 0
    for step in plan.steps:
        if step.entries and written + step.entries > entries:
            if step.kind == "failed" and step.job is not None:
                plan.processing.add(step.job.id)  # its refund falls after the cut: still rendering
            continue
        if step.job is not None:
            if step.kind == "queued":
                queued.add(step.job.id)
            elif step.job.id not in queued:
                continue
        kept.append(step)
        written += step.entries
    if written != entries:
        raise RuntimeError(f"the history plan has {written} entries, not {entries}")
    return Plan(steps=kept, processing=plan.processing)


# The writing, through the product's code.


class Writer:
    """Writes a plan's steps through the product's code, each at its time."""

    def __init__(self, user: DemoUser, processing: set[str]) -> None:
        self.user = user
        self.processing = processing
        self.number = 0
        self.completions: list[tuple[str, dict[str, Any]]] = []
        """Jobs' ``completed`` updates not yet written: they bill nothing, so they go in batches."""

    def run(self, step: Step) -> None:
        getattr(self, f"_{step.kind}")(step)
        if len(self.completions) >= COMPLETION_BATCH:
            self.flush()

    def _queued(self, step: Step) -> None:
        assert step.job is not None
        history.queue_job(step.job, step.at, picked_up=step.job.id in self.processing)

    def _completed(self, step: Step) -> None:
        assert step.job is not None
        # Nothing to bill (the trigger's run on this write would find the job charged) and
        # nothing reads the status while the history is written: batched by ``flush``.
        self.completions.append((step.job.id, history.completed(step.job, step.job.ends)))

    def _failed(self, step: Step) -> None:
        assert step.job is not None
        history.fail_job(step.job, step.at)

    def _purchase(self, step: Step) -> None:
        pack = step.detail["pack"]
        price = payments.CATALOG[pack].unit_amount
        event = history.checkout(self.user, step.at, pack=pack, ids=self._next_ids(), amount=price)
        history.deliver(event, WEBHOOK_SECRET, step.at)

    def _plan(self, step: Step) -> None:
        plan = step.detail["plan"]
        price = payments.CATALOG[plan].unit_amount
        subscription = f"sub_bench_{self.user.uid}_{plan}"
        event = history.plan_paid(
            self.user, step.at, plan=plan, ids=self._next_ids(), subscription=subscription, amount=price
        )
        history.deliver(event, WEBHOOK_SECRET, step.at)

    def _grant(self, step: Step) -> None:
        self.number += 1
        reason, key = "Goodwill credits for a slow queue", f"bench-web-{self.number}"
        history.grant(ADMIN, self.user, step.at, step.detail["amount"], reason, key)

    def _next_ids(self) -> str:
        """The end of the next Stripe event's ids."""
        self.number += 1
        return f"bench_{self.user.uid}_{self.number}"

    def flush(self) -> None:
        if not self.completions:
            return
        batch = db().batch()
        for job_id, fields in self.completions:
            batch.update(generation_jobs.job_ref(job_id), fields)
        batch.commit()
        self.completions.clear()


def seed(user: DemoUser, entries: int, days: int) -> None:
    """Plan and write ``user``'s history of ``entries`` entries over ``days`` days, then verify it."""
    started = time.perf_counter()
    plan = plan_exactly(user, entries, datetime.now(UTC), days)
    counts = plan.counts()
    jobs = counts["queued"]
    print(
        f"history of {user.uid} ({user.email}): {plan.entries:,} entries over {days} days, "
        f"{jobs:,} generation jobs ({counts['completed']:,} completed, {counts['failed']:,} failed and refunded, "
        f"{len(plan.processing)} rendering), {counts['purchase']:,} pack purchases, {counts['plan']} plan grants, "
        f"{counts['grant']} admin grants (planned in {time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    out = sys.stdout
    writer = Writer(user, plan.processing)
    written = 0
    started = time.perf_counter()
    with history.product_logs_to(LOG, "w"), history.background_triggers_disabled():
        for n, step in enumerate(plan.steps, start=1):
            try:
                writer.run(step)
            except InvalidArgument as exc:
                raise RuntimeError(
                    f"step {n} ({step.kind} at {step.at.isoformat()}) was refused: {exc.message}. An entry "
                    "written at the present time means the Functions emulator billed a job itself: it enables "
                    "its triggers again when it reloads them, which it does when a file under functions/ "
                    "changes. Run the benchmark again while nobody edits functions/."
                ) from exc
            if n % KEEP_TRIGGERS_DISABLED_EVERY == 0:
                history.disable_background_triggers()
            before, written = written, written + step.entries
            if written // PROGRESS_EVERY > before // PROGRESS_EVERY:
                rate = written / (time.perf_counter() - started)
                print(f"  {written:,}/{plan.entries:,} entries ({rate:,.0f}/s)", file=out, flush=True)
        writer.flush()
    seconds = time.perf_counter() - started
    balances = ledger.read_balances(user.uid)
    with history.product_logs_to(LOG, "w"):
        report = verify.verify_users([user.uid])
    if balances.seq != entries or not report.ok:
        raise RuntimeError(f"the history is not as planned: seq {balances.seq}, verifier ok {report.ok}")
    print(
        f"seeded in {seconds:.1f} s ({entries / seconds:,.0f} entries/s, background triggers paused); "
        f"balances image {balances.of(CreditType.IMAGE):,}, video {balances.of(CreditType.VIDEO):,}; verifier: ok",
        flush=True,
    )
