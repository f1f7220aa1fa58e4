"""The Activity projection (``users/{uid}/activity``) against the Firestore emulator.

Whatever the history, and however its trigger deliveries are duplicated, reordered or
delayed (a delivery that read a job before a later one wrote it included), the projection
ends holding exactly the items the feed computes from the sources: same ids, order and
content, under every filter. The backfill writes the same documents, and again changes nothing.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import activity_sources
from conftest import ROOT, reset_database
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_helpers import job_document, request

from credits.core import generation_jobs, ledger
from credits.core.firestore_client import db
from credits.core.ledger import Source
from credits.flows import jobs
from credits.reads import activity, activity_log

USERS = ("alice", "bob")
INFLUENCERS = ("inf-luna", "inf-nova")
BASE = datetime.now(UTC) - timedelta(days=1)
NEXT_STATUS = {"queued": ("processing", "completed", "failed"), "processing": ("completed", "failed")}


# -- what is compared --------------------------------------------------------------------------


def feed_items(read: Any, uid: str, kind: str, influencer: str | None, range_: str, limit: int) -> list[Any]:
    """Every item of the feed ``read`` gives (all pages of ``limit``) for the filters, as the API shows them."""
    items: list[Any] = []
    cursor = None
    while True:
        filters = activity.ActivityFilters.model_validate(
            {"range": range_, "type": kind, "influencerId": influencer, "cursor": cursor, "limit": limit}
        )
        page = read(uid, filters)
        assert len(page.items) <= limit
        items += [(item.id, item.to_api()) for item in page.items]
        if page.next_cursor is None:
            return items
        cursor = page.next_cursor


def assert_projection_is_the_feed(limit: int = activity.PAGE_SIZE, ranges: tuple[str, ...] = ("all",)) -> None:
    """The feed read through the projection equals the feed built from the sources, page after page."""
    for uid in USERS:
        for kind in ("all", "generation", "credits"):
            for influencer in (None, *INFLUENCERS, "inf-nobody"):
                for range_ in ranges:
                    expected = feed_items(activity_sources.feed, uid, kind, influencer, range_, limit)
                    found = feed_items(activity.feed, uid, kind, influencer, range_, limit)
                    assert found == expected, (uid, kind, influencer, range_, limit)


def projection() -> dict[str, dict[str, Any]]:
    """Every item document of every user, by path."""
    return {snap.reference.path: snap.to_dict() or {} for snap in db().collection_group("activity").stream()}


# -- histories ---------------------------------------------------------------------------------


class History:
    """Sources written as the product writes them, and the trigger deliveries each write causes."""

    def __init__(self) -> None:
        self.jobs: dict[str, str] = {}  # job id -> status
        self.entries: set[str] = set()
        self.pending: list[tuple[str, str]] = []  # deliveries not made yet: ("job" | "entry", id)
        self.snapshots: list[Any] = []  # every version of every job, for stale deliveries
        self.n = 0

    def _written(self, job_id: str | None = None) -> None:
        if job_id is not None:
            self.pending.append(("job", job_id))
            self.snapshots.append(generation_jobs.job_ref(job_id).get())
        for snap in ledger.ledger_collection().stream():
            if snap.id not in self.entries:
                self.entries.add(snap.id)
                self.pending.append(("entry", snap.id))

    def grant(self, uid: str, amount: int, influencer: str | None) -> None:
        meta = {"influencerId": influencer} if influencer else {}
        ledger.write_ledger_entry(request(uid=uid, amount=amount, meta=meta))
        self._written()

    def purchase(self, uid: str, amount: int) -> None:
        self.n += 1
        ledger.write_ledger_entry(
            request(
                uid=uid,
                amount=amount,
                source=Source.PURCHASE,
                created_by="stripe",
                payment_id=f"pi_{self.n}",
                reason="Credits purchased",
            )
        )
        self._written()

    def job(
        self, uid: str, images: int, influencer: str | None, minute: int, status: str = "queued", days_ago: int = 0
    ) -> None:
        self.n += 1
        job_id = f"job{self.n}"
        fields = job_document(
            uid=uid,
            status=status,
            numImages=images,
            quality="standard",
            createdAt=BASE + timedelta(minutes=minute) - timedelta(days=days_ago),
            influencerId=influencer,
            influencerName={"inf-luna": "Luna", "inf-nova": "Nova"}.get(influencer or ""),
        )
        generation_jobs.job_ref(job_id).set(fields)
        self.jobs[job_id] = status
        self._bill(job_id)

    def advance(self, index: int, choice: int) -> None:
        movable = [job_id for job_id, status in self.jobs.items() if status in NEXT_STATUS]
        if not movable:
            return
        job_id = movable[index % len(movable)]
        options = NEXT_STATUS[self.jobs[job_id]]
        status = options[choice % len(options)]
        generation_jobs.job_ref(job_id).update({"status": status})
        self._bill(job_id)

    def _bill(self, job_id: str) -> None:
        self._written(job_id)  # the pipeline's write
        billing = jobs.bill_job(job_id)
        if billing.action is not jobs.Action.NOTHING:
            self._written(job_id)  # the billing write fires the trigger again
        self.jobs[job_id] = str((generation_jobs.job_ref(job_id).get().to_dict() or {}).get("status"))


def deliver(delivery: tuple[str, str]) -> None:
    kind, source_id = delivery
    if kind == "job":
        activity_log.project_job(source_id)
    else:
        activity_log.project_entry(source_id)


USER = st.sampled_from(USERS)
INFLUENCER = st.sampled_from((None, *INFLUENCERS))
OPERATION = st.one_of(
    st.tuples(st.just("grant"), USER, st.integers(1, 30), INFLUENCER),
    st.tuples(st.just("purchase"), USER, st.integers(1, 30), st.none()),
    st.tuples(
        st.just("job"),
        USER,
        st.integers(1, 4),
        INFLUENCER,
        st.integers(0, 4),
        st.sampled_from(["queued", "completed"]),
        st.sampled_from([0, 3, 10, 40]),  # days before yesterday: inside or outside the 7d and 30d ranges
    ),
    st.tuples(st.just("advance"), st.integers(0, 20), st.integers(0, 2)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(OPERATION, min_size=1, max_size=14), data=st.data())
def test_the_projection_is_the_feed_whatever_the_deliveries(firestore, operations, data):
    reset_database(firestore)
    history = History()
    rng = random.Random(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    for operation in operations:
        match operation:
            case ("grant", uid, amount, influencer):
                history.grant(uid, amount, influencer)
            case ("purchase", uid, amount, _):
                history.purchase(uid, amount)
            case ("job", uid, images, influencer, minute, status, days_ago):
                history.job(uid, images, influencer, minute, status, days_ago)
            case ("advance", index, choice):
                history.advance(index, choice)
        # Some deliveries arrive now, some twice, in any order; the others later.
        now = [d for d in history.pending if rng.random() < 0.5]
        now += rng.sample(now, k=len(now) // 2)
        rng.shuffle(now)
        for delivery in now:
            deliver(delivery)
        history.pending = [d for d in history.pending if d not in now or rng.random() < 0.3]
    # The rest arrive, duplicated and shuffled, with deliveries that read a job long ago and
    # write only now (stale snapshots) interleaved before and after them.
    late: list[Any] = [*history.pending, *rng.sample(history.pending, k=len(history.pending) // 2)]
    late += [("stale", snap) for snap in history.snapshots]
    rng.shuffle(late)
    for kind, what in late:
        if kind == "stale":
            activity_log.write_job_item(what)
        else:
            deliver((kind, what))
    for snap in reversed(history.snapshots):
        activity_log.write_job_item(snap)  # every stale delivery once more, newest first, after all the others

    assert_projection_is_the_feed(data.draw(st.sampled_from([1, 2, 3, 50]), label="page size"), ("7d", "30d", "all"))


def test_a_delivery_that_loses_the_race_retries_and_never_writes_an_older_status(firestore, monkeypatch):
    ledger.write_ledger_entry(request(uid="alice", amount=100))
    generation_jobs.job_ref("j1").set(job_document(createdAt=BASE))
    jobs.bill_job("j1")
    activity_log.project_job("j1")
    real = activity_log.should_write
    raced: list[str] = []

    def racing(current: Any, data: dict[str, Any]) -> bool:
        # Between this delivery's reads and its write, the job completes and another delivery
        # writes the completed item.
        if not raced:
            raced.append("once")
            generation_jobs.job_ref("j1").update({"status": "completed"})
            assert activity_log.project_job("j1")
        return real(current, data)

    generation_jobs.job_ref("j1").update({"status": "processing"})
    monkeypatch.setattr(activity_log, "should_write", racing)
    activity_log.project_job("j1")

    item = activity_log.item_ref("alice", "job:j1").get().to_dict() or {}
    assert item["item"]["status"] == "completed"
    for snap in ledger.ledger_collection().stream():
        activity_log.project_entry(snap.id)
    assert_projection_is_the_feed()


def test_a_deleted_job_removes_nothing_and_a_job_without_a_uid_has_no_item(firestore):
    ledger.write_ledger_entry(request(uid="alice", amount=100))
    generation_jobs.job_ref("j1").set(job_document(createdAt=BASE))
    jobs.bill_job("j1")
    assert activity_log.project_job("j1")
    generation_jobs.job_ref("j1").delete()
    assert not activity_log.project_job("j1")
    assert activity_log.item_ref("alice", "job:j1").get().exists

    generation_jobs.job_ref("j2").set(job_document(uid=None, createdAt=BASE))
    assert not activity_log.project_job("j2")
    assert not activity_log.project_entry("no-such-entry")


# -- the backfill ------------------------------------------------------------------------------


def small_history() -> History:
    history = History()
    history.grant("alice", 40, None)
    history.grant("alice", 5, "inf-nova")
    history.purchase("bob", 20)
    history.job("alice", 3, "inf-luna", 1)
    history.job("alice", 2, "inf-nova", 1)
    history.job("bob", 4, None, 2, "completed")
    history.job("bob", 30, None, 3)  # more than Bob has: refused, failed
    history.advance(0, 1)  # alice's first job completes
    history.advance(0, 2)  # alice's second job fails: refunded
    return history


def test_the_backfill_writes_what_the_triggers_wrote_and_again_changes_nothing(firestore):
    history = small_history()
    for delivery in history.pending:
        deliver(delivery)
    live = projection()
    assert len(live) == 4 + 4 + 3  # four jobs; three entries not of a job, four of jobs

    for snap in db().collection_group("activity").stream():
        snap.reference.delete()
    first = activity_log.backfill(page_size=2)

    assert projection() == live
    assert (first.jobs, first.entries, first.written, first.unchanged, first.skipped) == (4, 7, 11, 0, 0)
    before = {snap.reference.path: snap.update_time for snap in db().collection_group("activity").stream()}
    again = activity_log.backfill()
    assert (again.written, again.unchanged) == (0, 11)
    assert projection() == live
    assert {snap.reference.path: snap.update_time for snap in db().collection_group("activity").stream()} == before
    assert_projection_is_the_feed()


def test_the_backfill_brings_a_stale_item_up_to_date_and_leaves_a_newer_one(firestore):
    history = small_history()
    stale = history.snapshots[0]  # alice's first job, as first queued
    activity_log.backfill()
    ref, data = activity_log.job_document(stale) or (None, {})
    assert ref is not None
    ref.set(data)  # as if an old version of the code wrote it from an old version of the job
    report = activity_log.backfill()
    assert (report.written, report.unchanged) == (1, 10)
    assert_projection_is_the_feed()


def test_the_backfill_script_prints_its_counts(firestore):
    small_history()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "functions")}
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "backfill_activity.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "4 jobs and 7 entries read: 11 items written, 0 already up to date, 0 jobs without a user" in run.stdout
    assert_projection_is_the_feed()


def test_items_carry_their_user_kind_time_influencer_all_view_and_source_version(firestore):
    ledger.write_ledger_entry(request(uid="alice", amount=100))
    generation_jobs.job_ref("j1").set(job_document(createdAt=BASE))
    jobs.bill_job("j1")
    for snap in ledger.ledger_collection().stream():
        activity_log.project_entry(snap.id)
    activity_log.project_job("j1")
    docs = {path.rsplit("/", 1)[1]: data for path, data in projection().items()}
    debit = next(data for item_id, data in docs.items() if item_id.startswith("entry:") and data["item"]["jobId"])
    grant = next(data for item_id, data in docs.items() if item_id.startswith("entry:") and not data["item"]["jobId"])
    job = docs["job:j1"]
    assert (debit["kind"], debit["influencerId"], debit["inAll"]) == ("credits", "inf-luna", False)
    assert (grant["kind"], grant["influencerId"], grant["inAll"]) == ("credits", None, True)
    assert (job["kind"], job["influencerId"], job["inAll"], job["uid"]) == ("generation", "inf-luna", True, "alice")
    assert job["time"] == BASE and job["item"]["type"] == "generation_started"
    assert job["sourceVersion"] == generation_jobs.job_ref("j1").get().update_time
