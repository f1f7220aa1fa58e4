"""Writing history with a given time (``ledger.entry_time``), against the Firestore emulator.

Only in-process tools (the demo seed, an import) use it; these tests prove that the entries
take the given time, that the chain and the verifier still hold, and that a time that would
put ``seq`` order and time order at odds is refused without writing anything.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from ledger_helpers import job_document, request, stored_entries

from credits.core import generation_jobs, ledger
from credits.core.errors import InsufficientCredits, InvalidArgument
from credits.core.firestore_client import db
from credits.core.ledger import CreditType, Direction
from credits.flows import jobs
from credits.operations import verify

pytestmark = pytest.mark.usefixtures("firestore")


def days_ago(n: float) -> datetime:
    return datetime.now(UTC).replace(microsecond=123456) - timedelta(days=n)


def test_entries_take_the_given_time_and_the_chain_holds():
    start = days_ago(3)
    times = [start + timedelta(hours=h, seconds=s) for h, s in ((0, 0), (5, 1), (26, 2), (49, 3))]
    written = []
    with ledger.entry_time(times[0]):
        written.append(ledger.write_ledger_entry(request(amount=40, key="grant")).entry)
    for n, at in enumerate(times[1:]):
        with ledger.entry_time(at) as given:
            assert given == at
            written.append(ledger.write_ledger_entry(request(direction=Direction.DEBIT, amount=5, key=f"d{n}")).entry)

    assert [e.created_at for e in written] == times
    stored = stored_entries("u1")
    assert [d["createdAt"] for d in stored] == times
    assert [d["seq"] for d in stored] == [1, 2, 3, 4]
    assert [d["balance_after"] for d in stored] == [40, 35, 30, 25]
    balances = ledger.read_balances("u1")
    assert (balances.of(CreditType.IMAGE), balances.seq, balances.updated_at) == (25, 4, times[-1])
    assert verify.verify_user("u1") == (4, [])


def test_a_time_in_another_zone_is_stored_as_the_same_instant():
    at = days_ago(1).astimezone(timezone(timedelta(hours=-5)))
    with ledger.entry_time(at):
        entry = ledger.write_ledger_entry(request()).entry
    assert entry.created_at == at and entry.created_at.utcoffset() == timedelta(0)
    assert stored_entries("u1")[0]["createdAt"] == at


def test_outside_the_block_entries_take_the_server_time_again():
    at = days_ago(2)
    with ledger.entry_time(at):
        ledger.write_ledger_entry(request(amount=20))
    before = datetime.now(UTC) - timedelta(seconds=5)
    live = ledger.write_ledger_entry(request(amount=1)).entry
    assert live.created_at > before
    assert stored_entries("u1")[1]["createdAt"] == live.created_at
    assert verify.verify_user("u1") == (2, [])


def test_a_time_not_after_the_newest_entry_is_refused_and_writes_nothing():
    later = days_ago(1)
    with ledger.entry_time(later):
        ledger.write_ledger_entry(request(amount=20, key="first"))
    before = ledger.read_balances("u1")

    for at in (later, later - timedelta(microseconds=1), days_ago(2)):
        with pytest.raises(InvalidArgument) as caught, ledger.entry_time(at):
            ledger.write_ledger_entry(request(amount=3))
        assert caught.value.details["field"] == "createdAt"
        assert "later than the user's newest entry" in caught.value.message

    assert len(stored_entries("u1")) == 1
    assert ledger.read_balances("u1") == before
    # Other users have their own history: an older time is fine for them.
    with ledger.entry_time(days_ago(5)):
        ledger.write_ledger_entry(request(uid="u2"))


def test_history_cannot_be_written_before_a_live_entry():
    ledger.write_ledger_entry(request(amount=20))
    with pytest.raises(InvalidArgument), ledger.entry_time(days_ago(1)):
        ledger.write_ledger_entry(request(amount=3))
    assert len(stored_entries("u1")) == 1


def test_a_replayed_key_returns_its_entry_whatever_the_time():
    at = days_ago(1)
    with ledger.entry_time(at):
        first = ledger.write_ledger_entry(request(amount=20, key="once")).entry
    ledger.forget_remembered_balances()
    for again in (days_ago(3), days_ago(0.5)):
        with ledger.entry_time(again):
            replay = ledger.write_ledger_entry(request(amount=20, key="once"))
        assert replay.replayed and replay.entry == first
    assert replay.entry.created_at == at
    assert len(stored_entries("u1")) == 1


def test_future_and_naive_times_are_refused():
    with pytest.raises(InvalidArgument), ledger.entry_time(datetime.now(UTC) + timedelta(minutes=1)):
        ledger.write_ledger_entry(request())
    with pytest.raises(InvalidArgument), ledger.entry_time(datetime(2026, 1, 1)):
        pass
    assert stored_entries("u1") == []


def test_blocks_nest_and_restore_the_outer_time_even_after_an_error():
    outer, inner = days_ago(2), days_ago(1)
    with ledger.entry_time(outer):
        first = ledger.write_ledger_entry(request(amount=5)).entry
        with pytest.raises(InsufficientCredits), ledger.entry_time(inner):
            ledger.write_ledger_entry(request(direction=Direction.DEBIT, amount=50))
        with ledger.entry_time(inner):
            second = ledger.write_ledger_entry(request(amount=5)).entry
        with pytest.raises(InvalidArgument):  # back to the outer time, which is now in the past of u1
            ledger.write_ledger_entry(request(amount=5))
    assert (first.created_at, second.created_at) == (outer, inner)
    anomalies = [s.to_dict() for s in db().collection("anomalies").stream()]
    assert [a["kind"] for a in anomalies] == ["insufficient_credits"]


def test_a_job_billed_in_the_block_has_its_debit_and_refund_at_the_given_times():
    created = days_ago(1)
    with ledger.entry_time(created - timedelta(hours=1)):
        ledger.write_ledger_entry(request(uid="alice", amount=50))
    generation_jobs.job_ref("j1").set(job_document(createdAt=created))
    with ledger.entry_time(created + timedelta(seconds=3)):
        charged = jobs.bill_job("j1")
    generation_jobs.job_ref("j1").update({"status": "failed", "failedAt": created + timedelta(seconds=80)})
    with ledger.entry_time(created + timedelta(seconds=81)):
        refunded = jobs.bill_job("j1")

    assert charged.action is jobs.Action.CHARGED and refunded.action is jobs.Action.REFUNDED
    assert charged.entry is not None and refunded.entry is not None
    assert charged.entry.created_at == created + timedelta(seconds=3)
    assert refunded.entry.created_at == created + timedelta(seconds=81)
    job = generation_jobs.job_ref("j1").get().to_dict() or {}
    assert (job["debitEntryId"], job["refundEntryId"]) == (charged.entry.id, refunded.entry.id)
    assert [d["balance_after"] for d in stored_entries("alice")] == [50, 40, 50]


def test_no_deployed_code_enters_the_block():
    """Only in-process tools give an entry's time: no Cloud Function or flow module does."""
    functions = Path(__file__).resolve().parents[1] / "functions"
    deployed = [functions / "main.py", *sorted((functions / "credits").rglob("*.py"))]
    users = [p.name for p in deployed if p.name != "ledger.py" and "entry_time" in p.read_text()]
    assert users == []
