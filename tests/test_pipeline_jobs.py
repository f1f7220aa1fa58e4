"""The pipeline's helpers (``functions/pipeline/credits_jobs.py``) against the Firestore emulator.

What they write keeps the job contract (:func:`credits.core.generation_jobs.job_schema`), and the
ledger bills it: a queued job is debited, completing it adds nothing, failing it refunds. A move
the contract does not allow raises and changes nothing, and a concurrent change is never
overwritten. The unit emulator runs no triggers: ``jobs.bill_job`` is called as the trigger would.
"""

from __future__ import annotations

from typing import Any

import pytest
from job_schema_check import assert_valid
from ledger_helpers import request, stored_entries
from pipeline import credits_jobs
from pipeline.credits_jobs import JobChanged, JobExists, JobNotFound, TransitionRefused

from credits.core import generation_jobs, ledger
from credits.core.firestore_client import db
from credits.core.ledger import CreditType
from credits.flows import jobs
from credits.flows.jobs import Action

pytestmark = pytest.mark.usefixtures("firestore")

JOBS = generation_jobs.JOBS


def fund(amount: int = 50, type: CreditType = CreditType.IMAGE) -> None:
    ledger.write_ledger_entry(request(uid="alice", amount=amount, type=type))


def queue(job_id: str = "p1", **fields: Any) -> None:
    arguments: dict[str, Any] = {
        "uid": "alice",
        "source": "text2image",
        "quality": "hq",
        "num_images": 5,
        "model": "flux-1",
        "resolution": "1024x1024",
        "aspect_ratio": "9:16",
        "influencer_id": "inf-luna",
        "influencer_name": "Luna",
        "collection": JOBS,
        **fields,
    }
    credits_jobs.queue_job(db(), job_id, **arguments)


def snapshot(job_id: str = "p1") -> Any:
    return generation_jobs.job_ref(job_id).get()


def job(job_id: str = "p1") -> dict[str, Any]:
    return snapshot(job_id).to_dict() or {}


def balance(type: CreditType = CreditType.IMAGE) -> int:
    return ledger.read_balances("alice").of(type)


def test_the_helpers_and_the_contract_know_the_same_moves():
    assert {
        str(status): tuple(map(str, to)) for status, to in generation_jobs.TRANSITIONS.items()
    } == credits_jobs.TRANSITIONS
    assert credits_jobs.DEFAULT_COLLECTION == "generation_jobs" == JOBS
    schema = generation_jobs.job_schema()
    assert {n for n, f in schema["properties"].items() if f.get("readOnly")} == credits_jobs.BILLING_FIELDS
    assert set(schema["properties"]) > credits_jobs.OWN_FIELDS


def test_a_queued_job_keeps_the_contract_and_is_debited_once():
    fund()
    queue()

    written = job()
    assert_valid(written)
    assert written["status"] == "queued" and written["createdAt"] == written["updatedAt"]
    assert (written["aspectRatio"], written["influencerId"], written["influencerName"]) == ("9:16", "inf-luna", "Luna")
    assert "durationSec" not in written

    billing = jobs.bill_job("p1")

    assert billing.action is Action.CHARGED and billing.entry is not None and billing.entry.amount == 10
    assert balance() == 40
    assert_valid(job())  # with the ledger's fields


def test_a_video_job_counts_seconds():
    fund(type=CreditType.VIDEO)
    queue("v1", source="text2video", quality="standard", num_images=None, duration_sec=8, model=None)

    written = job("v1")
    assert_valid(written)
    assert written["durationSec"] == 8 and "numImages" not in written and "model" not in written
    assert jobs.bill_job("v1").entry.amount == 8


def test_started_then_completed_adds_nothing():
    fund()
    queue()
    jobs.bill_job("p1")

    credits_jobs.start_job(db(), "p1", collection=JOBS)
    assert job()["status"] == "processing"
    assert_valid(job())
    assert jobs.bill_job("p1").action is Action.NOTHING
    credits_jobs.complete_job(db(), "p1", outputs=["gs://out/1.png", "gs://out/2.png"], collection=JOBS)

    done = job()
    assert_valid(done)
    assert (done["status"], done["outputs"]) == ("completed", ["gs://out/1.png", "gs://out/2.png"])
    assert done["completedAt"] >= done["createdAt"] and done["updatedAt"] == done["completedAt"]
    assert jobs.bill_job("p1").action is Action.NOTHING
    assert len(stored_entries(job_id="p1")) == 1
    assert balance() == 40


def test_a_job_may_complete_straight_from_queued():
    fund()
    queue()
    credits_jobs.complete_job(db(), "p1", outputs=[], collection=JOBS)  # the trigger runs after both writes

    assert jobs.bill_job("p1").action is Action.CHARGED
    assert jobs.bill_job("p1").action is Action.NOTHING
    assert balance() == 40


def test_a_failed_job_is_refunded():
    fund()
    queue()
    jobs.bill_job("p1")
    credits_jobs.start_job(db(), "p1", collection=JOBS)

    credits_jobs.fail_job(db(), "p1", error="model crashed", collection=JOBS)

    failed = job()
    assert_valid(failed)
    assert (failed["status"], failed["error"]) == ("failed", "model crashed") and "failedAt" in failed
    refund = jobs.bill_job("p1")
    assert refund.action is Action.REFUNDED and refund.entry is not None and refund.entry.amount == 10
    assert balance() == 50
    assert_valid(job())


@pytest.mark.parametrize(
    ("moves", "refused"),
    [
        (["complete"], "start"),
        (["complete"], "fail"),
        (["complete"], "complete"),
        (["fail"], "start"),
        (["fail"], "complete"),
        (["start"], "start"),
    ],
)
def test_a_move_the_contract_does_not_allow_raises_and_changes_nothing(moves, refused):
    fund()
    queue()
    jobs.bill_job("p1")
    move = {
        "start": lambda: credits_jobs.start_job(db(), "p1", collection=JOBS),
        "complete": lambda: credits_jobs.complete_job(db(), "p1", outputs=["gs://out/1.png"], collection=JOBS),
        "fail": lambda: credits_jobs.fail_job(db(), "p1", error="late", collection=JOBS),
    }
    for name in moves:
        move[name]()
    jobs.bill_job("p1")
    before = snapshot()

    with pytest.raises(TransitionRefused) as raised:
        move[refused]()

    after = snapshot()
    assert after.update_time == before.update_time and after.to_dict() == before.to_dict()
    assert raised.value.current == before.get("status") and raised.value.job_id == "p1"
    assert "cannot move from" in str(raised.value)


def test_a_job_the_ledger_failed_cannot_start():
    fund(amount=3)
    queue()
    assert jobs.bill_job("p1").action is Action.REJECTED

    with pytest.raises(TransitionRefused) as raised:
        credits_jobs.start_job(db(), "p1", collection=JOBS)

    assert (raised.value.current, raised.value.failure_reason) == ("failed", "insufficient_credits")
    assert "insufficient_credits" in str(raised.value)
    assert job()["status"] == "failed"


def test_a_second_queue_is_refused_and_changes_nothing():
    fund()
    queue()
    before = snapshot()

    with pytest.raises(JobExists):
        queue(num_images=1, quality="standard")

    assert snapshot().update_time == before.update_time and job()["numImages"] == 5


def test_a_move_of_a_job_that_does_not_exist_is_refused():
    with pytest.raises(JobNotFound):
        credits_jobs.start_job(db(), "nope", collection=JOBS)
    assert not snapshot("nope").exists


@pytest.mark.parametrize(
    "fields",
    [
        {"uid": "a/b"},
        {"uid": ""},
        {"num_images": None},
        {"duration_sec": 4},
        {"num_images": 0},
        {"num_images": True},
        {"source": ""},
        {"status": "completed"},
        {"debitEntryId": "e1"},
        {"aspectRatio": "1:1"},
    ],
)
def test_arguments_outside_the_contract_are_refused_before_any_write(fields):
    with pytest.raises(ValueError):
        queue(**fields)
    assert not snapshot().exists


def test_the_pipelines_own_fields_are_written_as_given():
    queue(promptHash="abc123")
    credits_jobs.start_job(db(), "p1", collection=JOBS, worker="gpu-7")
    assert (job()["promptHash"], job()["worker"]) == ("abc123", "gpu-7")
    with pytest.raises(ValueError):
        credits_jobs.complete_job(db(), "p1", outputs="gs://out/1.png", collection=JOBS)  # not a list


class Racing:
    """The pipeline's client, with another writer that changes the job right after each of the
    helper's reads (``race`` returns False to stop)."""

    def __init__(self, race: Any) -> None:
        self.race = race
        self.reads = 0

    def collection(self, name: str) -> Any:
        racing = self

        class Collection:
            def document(self, job_id: str) -> Any:
                ref = db().collection(name).document(job_id)

                class Ref:
                    def get(self) -> Any:
                        snap = ref.get()
                        racing.reads += 1
                        racing.race(racing.reads)
                        return snap

                    def update(self, *args: Any, **kwargs: Any) -> Any:
                        return ref.update(*args, **kwargs)

                return Ref()

        return Collection()

    def write_option(self, **kwargs: Any) -> Any:
        return db().write_option(**kwargs)


def test_a_concurrent_billing_write_is_kept_and_the_move_done():
    fund()
    queue()
    # The trigger's debit lands between the helper's read and its update.
    client = Racing(lambda reads: reads == 1 and jobs.bill_job("p1"))

    credits_jobs.start_job(client, "p1", collection=JOBS)

    assert client.reads == 2
    started = job()
    assert started["status"] == "processing" and started["debitEntryId"] and started["chargedCredits"] == 10
    assert jobs.bill_job("p1").action is Action.NOTHING


def test_a_concurrent_failure_is_not_overwritten():
    fund(amount=3)
    queue()
    # The trigger fails the unpaid job between the helper's read and its update.
    client = Racing(lambda reads: reads == 1 and jobs.bill_job("p1"))

    with pytest.raises(TransitionRefused) as raised:
        credits_jobs.complete_job(client, "p1", outputs=["gs://out/1.png"], collection=JOBS)

    assert raised.value.failure_reason == "insufficient_credits"
    failed = job()
    assert (failed["status"], failed["failureReason"]) == ("failed", "insufficient_credits")
    assert "outputs" not in failed and "completedAt" not in failed


def test_a_job_that_keeps_changing_is_not_moved():
    queue()
    ref = generation_jobs.job_ref("p1")
    client = Racing(lambda reads: ref.update({"heartbeat": reads}))

    with pytest.raises(JobChanged):
        credits_jobs.start_job(client, "p1", collection=JOBS)

    assert client.reads == credits_jobs.MAX_ATTEMPTS
    assert job()["status"] == "queued"
