"""Credit blocks in the ledger, against the Firestore emulator: spending order, "paid by",
the refund rule, expiry exactly once, the verifier's block checks, and a model test."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import ROOT, reset_database
from google.cloud.firestore import DELETE_FIELD, FieldFilter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_helpers import request, stored_entries

from credits.core import blocks, keys, ledger
from credits.core.errors import InsufficientCredits, InvalidArgument
from credits.core.ledger import CreditType, Direction, LedgerRequest, Source
from credits.flows import expiry
from credits.operations import verify

IMAGE = CreditType.IMAGE


def grant(uid: str, amount: int, expires_at: datetime | None = None, **fields: Any) -> ledger.LedgerEntry:
    return ledger.write_ledger_entry(request(uid=uid, amount=amount, expires_at=expires_at, **fields)).entry


def job_debit(uid: str, job_id: str, amount: int) -> ledger.LedgerEntry:
    return ledger.write_ledger_entry(
        LedgerRequest(
            uid=uid,
            type=IMAGE,
            direction=Direction.DEBIT,
            amount=amount,
            source=Source.TEXT2IMAGE,
            idempotency_key=keys.job_debit(Source.TEXT2IMAGE, job_id),
            created_by="system",
            job_id=job_id,
        )
    ).entry


def job_refund(debit: ledger.LedgerEntry) -> ledger.LedgerEntry:
    return ledger.write_ledger_entry(
        LedgerRequest(
            uid=debit.uid,
            type=debit.type,
            direction=Direction.CREDIT,
            amount=debit.amount,
            source=Source.REFUND,
            idempotency_key=keys.job_refund(str(debit.job_id)),
            created_by="system",
            job_id=debit.job_id,
            gives_back=debit.paid_by,
        )
    ).entry


def open_blocks(uid: str) -> dict[str, int]:
    return {block_id: b.remaining for block_id, b in ledger.read_balances(uid).blocks.items()}


def paid_by(entry: ledger.LedgerEntry) -> list[tuple[str, int]]:
    return [(part.block, part.amount) for part in entry.paid_by]


def test_a_debit_is_paid_by_the_block_that_expires_first_and_records_it(firestore):
    soon = datetime.now(UTC) + timedelta(days=3)
    pack = grant("u1", 100)
    plan = grant("u1", 30, soon)
    debit = job_debit("u1", "j1", 40)

    assert paid_by(debit) == [(plan.id, 30), (pack.id, 10)]
    assert open_blocks("u1") == {pack.id: 90}
    stored = stored_entries("u1")
    assert stored[1]["expiresAt"] == soon and stored[0]["expiresAt"] is None
    assert [(p["block"], p["amount"]) for p in stored[2]["paidBy"]] == [(plan.id, 30), (pack.id, 10)]
    assert ledger.read_balances("u1").to_api()["expiring"] == {"image": None, "video": None}


def test_a_refund_gives_back_to_the_blocks_its_debit_took_from(firestore):
    soon = datetime.now(UTC) + timedelta(days=3)
    pack = grant("u1", 100)
    plan = grant("u1", 30, soon)
    refund = job_refund(job_debit("u1", "j1", 40))

    assert [(p.block, p.amount) for p in refund.returned_to] == [(plan.id, 30), (pack.id, 10)]
    assert open_blocks("u1") == {pack.id: 100, plan.id: 30}
    assert ledger.read_balances("u1").to_api()["expiring"]["image"] == {"amount": 30, "expiresAt": soon.isoformat()}


def test_an_expired_block_is_not_spent_and_its_remainder_expires_exactly_once(firestore):
    start = datetime.now(UTC) - timedelta(days=40)
    with ledger.entry_time(start):
        plan = grant("u1", 50, start + timedelta(days=30))
    with ledger.entry_time(start + timedelta(days=1)):
        pack = grant("u1", 20)
    with ledger.entry_time(start + timedelta(days=2)):
        job_debit("u1", "j1", 15)  # from the plan, which expires first
    with pytest.raises(InsufficientCredits) as refused:
        job_debit("u1", "j2", 21)  # the plan's 35 have expired: only the pack's 20 are spendable
    assert refused.value.details["balance"] == 20

    first = expiry.expire_credits()
    again = expiry.expire_credits()

    assert (first.users, first.expired, first.credits) == (1, 1, 35)
    assert (again.users, again.expired) == (0, 0)
    (expiration,) = [e for e in stored_entries("u1") if e["source"] == "expiration"]
    assert expiration["idempotencyKey"] == f"debit:expiration:{plan.id}"
    assert (expiration["amount"], expiration["balance_after"]) == (35, 20)
    assert [(p["block"], p["amount"]) for p in expiration["paidBy"]] == [(plan.id, 35)]
    assert open_blocks("u1") == {pack.id: 20}
    assert ledger.read_balances("u1").of(IMAGE) == 20


def test_two_expiry_runs_at_once_write_one_expiration(firestore):
    start = datetime.now(UTC) - timedelta(days=5)
    for n in range(6):
        with ledger.entry_time(start + timedelta(minutes=n)):
            grant(f"u{n}", 10 + n, start + timedelta(days=1))
    grant("lasting", 5)

    reports: list[expiry.ExpiryReport] = []
    runs = [threading.Thread(target=lambda: reports.append(expiry.expire_credits())) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()

    assert sum(r.expired for r in reports) == 6 and sum(r.failed for r in reports) == 0
    assert sum(r.credits for r in reports) == sum(10 + n for n in range(6))
    expirations = [e for e in stored_entries() if e["source"] == "expiration"]
    assert len(expirations) == 6
    assert all(ledger.read_balances(f"u{n}").of(IMAGE) == 0 for n in range(6))
    assert ledger.read_balances("lasting").of(IMAGE) == 5


def test_a_job_reserved_before_an_expiry_and_refunded_after_it_follows_the_refund_rule(firestore):
    start = datetime.now(UTC) - timedelta(days=40)
    with ledger.entry_time(start):
        early = grant("u1", 10, start + timedelta(days=20))
    with ledger.entry_time(start + timedelta(seconds=1)):
        grant("u1", 10, start + timedelta(days=25))
    with ledger.entry_time(start + timedelta(seconds=2)):
        pack = grant("u1", 10)
    with ledger.entry_time(start + timedelta(days=1)):
        debit = job_debit("u1", "j1", 25)  # 10 + 10 from the plan blocks, 5 from the pack

    refund = job_refund(debit)  # after both plan blocks expired

    assert [(p.block, p.amount) for p in refund.returned_to] == [(pack.id, 5), (refund.id, 20)]
    held = ledger.read_balances("u1").blocks
    assert held[refund.id].expires_at == early.expires_at and held[refund.id].remaining == 20
    assert expiry.expire_credits().credits == 20  # the refund's block expires as its own
    assert open_blocks("u1") == {pack.id: 10}


def test_a_clawback_is_capped_at_the_spendable_credits(firestore):
    start = datetime.now(UTC) - timedelta(days=2)
    with ledger.entry_time(start):
        grant("u1", 50, start + timedelta(days=1))
    pack = grant("u1", 7)
    taken = ledger.write_ledger_entry(
        request(
            direction=Direction.DEBIT,
            amount=30,
            source=Source.PURCHASE_REVERSAL,
            created_by="stripe",
            cap_at_balance=True,
            payment_id="pi_1",
        )
    ).entry
    assert (taken.amount, taken.meta["requestedAmount"]) == (7, 30)
    assert paid_by(taken) == [(pack.id, 7)]
    assert expiry.expire_credits().credits == 50
    assert ledger.read_balances("u1").of(IMAGE) == 0


def test_a_clawback_takes_back_its_own_purchase_first(firestore):
    plan = grant("u1", 40, datetime.now(UTC) + timedelta(days=3))
    pack = grant("u1", 30)
    grant("u1", 30)  # an older pack would come first in the spending order among lasting credits
    clawback = request(direction=Direction.DEBIT, amount=35, source=Source.PURCHASE_REVERSAL, created_by="stripe")
    taken = ledger.write_ledger_entry(dataclasses.replace(clawback, first_block=pack.id)).entry
    assert paid_by(taken) == [(pack.id, 30), (plan.id, 5)]


def test_an_expiration_takes_what_a_refund_gave_back_and_a_stale_run_replays_it(firestore):
    start = datetime.now(UTC) - timedelta(days=3)
    with ledger.entry_time(start):
        plan = grant("u1", 20, start + timedelta(days=1))
    with ledger.entry_time(start + timedelta(hours=1)):
        debit = job_debit("u1", "j1", 5)
    seen = ledger.read_balances("u1").blocks[plan.id]  # a run reads 15 before the refund commits
    with ledger.entry_time(start + timedelta(hours=2)):
        job_refund(debit)  # back to the plan block, unexpired then

    first = expiry.expire_block("u1", seen)
    again = expiry.expire_block("u1", seen)  # a stale run with the same view: a replay, not a conflict

    assert (first.entry.amount, first.replayed, again.replayed, again.entry.id) == (20, False, True, first.entry.id)
    assert ledger.read_balances("u1").of(IMAGE) == 0


def as_before_blocks(uid: str) -> None:
    """Make a user's balance document look as the ledger wrote it before blocks existed."""
    ledger.balance_ref(uid).update(
        {field: DELETE_FIELD for field in (ledger.BLOCKS, ledger.BLOCKS_SINCE, ledger.NEXT_EXPIRY)}
    )
    ledger.forget_remembered_balances()


def test_a_balance_from_before_blocks_becomes_opening_blocks_on_its_next_write(firestore):
    grant("old", 30)
    grant("old", 10)
    as_before_blocks("old")
    assert ledger.read_balances("old").unmigrated

    debit = job_debit("old", "j1", 15)

    stored = ledger.balance_ref("old").get().to_dict() or {}
    assert stored["blocksSince"] == 2 and blocks.decode(stored["blocks"])["opening-image"].remaining == 25
    assert paid_by(debit) == [("opening-image", 15)]
    assert verify.verify_users(["old"]).ok


def test_the_migration_script_turns_every_balance_into_opening_blocks_once(firestore):
    for uid, amount in (("a", 40), ("b", 7)):
        grant(uid, amount)
        grant(uid, 3, type=CreditType.VIDEO)
        as_before_blocks(uid)
    grant("new", 5)
    script = [sys.executable, str(ROOT / "scripts" / "migrate_balances.py")]

    first = subprocess.run(script, capture_output=True, text=True, timeout=60, check=True)
    again = subprocess.run(script, capture_output=True, text=True, timeout=60, check=True)

    assert first.stdout.strip() == "2 users migrated, 1 already in today's shape"
    assert again.stdout.strip() == "0 users migrated, 3 already in today's shape"
    assert open_blocks("a") == {"opening-image": 40, "opening-video": 3}
    assert (ledger.read_balances("b").blocks_since, ledger.read_balances("b").unmigrated) == (2, False)
    assert paid_by(job_debit("a", "j1", 5)) == [("opening-image", 5)]


def test_validation_of_the_block_fields(firestore):
    later = datetime.now(UTC) + timedelta(days=1)
    cases = [
        request(direction=Direction.DEBIT, expires_at=later),
        request(expires_at=later.replace(tzinfo=None)),
        request(source=Source.EXPIRATION, direction=Direction.DEBIT),
        request(block="b1"),
        request(source=Source.REFUND, job_id="j1", gives_back=()),  # fine on its own: a plain refund
    ]
    for case in cases[:4]:
        with pytest.raises(InvalidArgument):
            ledger.write_ledger_entry(case)
    debit = (grant("u1", 10), job_debit("u1", "j1", 4))[1]
    with pytest.raises(InvalidArgument, match="add up"):
        ledger.write_ledger_entry(
            LedgerRequest(
                uid="u1",
                type=IMAGE,
                direction=Direction.CREDIT,
                amount=5,
                source=Source.REFUND,
                idempotency_key="r",
                created_by="system",
                job_id="j1",
                gives_back=debit.paid_by,
            )
        )
    assert ledger.write_ledger_entry(cases[4]).entry.expires_at is None
    assert len(stored_entries("u1")) == 3


def set_remaining(uid: str, block_id: str, remaining: int) -> None:
    """Tampering: change one stored block's remainder and nothing else."""
    tamper(uid, block_id, remaining=remaining)


def tamper(uid: str, block_id: str, **fields: Any) -> None:
    stored = ledger.read_balances(uid).blocks
    changed = {**stored, block_id: dataclasses.replace(stored[block_id], **fields)}
    ledger.balance_ref(uid).update({ledger.BLOCKS: blocks.encode(changed)})


@pytest.mark.tampers
def test_the_verifier_finds_blocks_that_disagree_with_the_entries(firestore):
    start = datetime.now(UTC) - timedelta(days=3)
    with ledger.entry_time(start):
        plan = grant("u1", 30, start + timedelta(hours=1))
    pack = grant("u1", 10)
    assert verify.verify_users(["u1"]).mismatches[0].kind == "block_not_expired"
    expiry.expire_credits()
    assert verify.verify_users(["u1"]).ok

    set_remaining("u1", pack.id, 12)
    kinds = {m.kind for m in verify.verify_users(["u1"]).mismatches}
    assert kinds == {"block_mismatch", "blocks_sum_mismatch", "block_out_of_range"}

    set_remaining("u1", pack.id, 10)
    entry = ledger.ledger_collection().where(filter=FieldFilter("source", "==", "expiration")).get()[0]
    entry.reference.update({"paidBy": [{**entry.get("paidBy")[0], "amount": 29}]})
    found = verify.verify_users(["u1"]).mismatches
    assert {(m.kind, m.block) for m in found} == {("paid_by_mismatch", None), ("block_mismatch", plan.id)}

    # A lasting block made to expire later than its entry says (or a plan's made to last) is found.
    entry.reference.update({"paidBy": [{**entry.get("paidBy")[0], "amount": 30}]})
    assert verify.verify_users(["u1"]).ok
    tamper("u1", pack.id, expires_at=datetime.now(UTC) + timedelta(days=400))
    found = verify.verify_users(["u1"]).mismatches
    assert [(m.kind, m.block) for m in found] == [("block_mismatch", pack.id)] and "its entry opened" in found[
        0
    ].message


def test_eight_threads_debit_across_blocks_while_the_expiry_runs_twice(firestore):
    """No lost update, no remainder below zero, and every credit accounted for exactly."""
    now = datetime.now(UTC)
    start = now - timedelta(days=1)
    with ledger.entry_time(start):
        gone = grant("hot", 100, now - timedelta(hours=2))  # expired already
    with ledger.entry_time(start + timedelta(seconds=1)):
        soon = grant("hot", 150, now + timedelta(seconds=2))  # expires while the threads spend it
    grant("hot", 80, now + timedelta(days=30))
    grant("hot", 120)  # with the 80, enough for every debit even if the 150 expire untouched
    debits: list[ledger.LedgerEntry] = []
    refused = []

    def spend(thread: int) -> None:
        for n in range(12):
            try:
                debits.append(job_debit("hot", f"t{thread}-{n}", 2))
            except InsufficientCredits:
                refused.append((thread, n))
            time.sleep(0.2)

    def expire_later() -> None:
        time.sleep(2.2)
        expiry.expire_credits()

    workers = [threading.Thread(target=spend, args=(t,)) for t in range(8)]
    workers += [threading.Thread(target=expire_later) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    entries = stored_entries("hot")
    expirations = {e["paidBy"][0]["block"]: e["amount"] for e in entries if e["source"] == "expiration"}
    assert gone.id in expirations and expirations[gone.id] == 100
    spent = sum(d.amount for d in debits)
    assert len(debits) + len(refused) == 96 and not refused
    balances = ledger.read_balances("hot")
    assert balances.of(IMAGE) == 450 - spent - sum(expirations.values())
    from_soon = sum(p.amount for d in debits for p in d.paid_by if p.block == soon.id)
    assert from_soon + expirations.get(soon.id, 0) == 150
    assert all(b.remaining > 0 for b in balances.blocks.values())
    assert sum(b.remaining for b in balances.blocks.values()) == balances.of(IMAGE)
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert all(sum(p.amount for p in d.paid_by) == d.amount for d in debits)


# The model test: random grants, debits, refunds, expiry runs and clock advances against plain blocks.


@dataclass
class ModelBlock:
    remaining: int
    amount: int
    expires: datetime | None
    created: datetime


class Model:
    """Blocks as the issue states them, written without ``credits.core.blocks``."""

    def __init__(self) -> None:
        self.blocks: dict[str, ModelBlock] = {}

    def balance(self) -> int:
        return sum(b.remaining for b in self.blocks.values())

    def live(self, now: datetime) -> list[tuple[str, ModelBlock]]:
        live = [(i, b) for i, b in self.blocks.items() if b.remaining and not (b.expires and b.expires <= now)]
        return sorted(
            live, key=lambda ib: (ib[1].expires is None, ib[1].expires or ib[1].created, ib[1].created, ib[0])
        )

    def debit(self, amount: int, now: datetime) -> list[tuple[str, int]] | None:
        if sum(b.remaining for _, b in self.live(now)) < amount:
            return None
        parts = []
        for block_id, block in self.live(now):
            part = min(amount, block.remaining)
            if part:
                block.remaining -= part
                amount -= part
                parts.append((block_id, part))
        return parts

    def due(self, now: datetime) -> dict[str, int]:
        return {i: b.remaining for i, b in self.blocks.items() if b.remaining and b.expires and b.expires <= now}

    def open(self) -> dict[str, int]:
        return {i: b.remaining for i, b in self.blocks.items() if b.remaining}


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("grant"), st.integers(1, 40), st.one_of(st.none(), st.integers(1, 10))),
        st.tuples(st.just("debit"), st.integers(1, 50), st.none()),
        st.tuples(st.just("refund"), st.integers(0, 9), st.none()),
        st.tuples(st.just("advance"), st.integers(1, 6), st.none()),
        st.tuples(st.just("expire"), st.just(0), st.none()),
    ),
    min_size=1,
    max_size=18,
)


def expire_at(now: datetime) -> expiry.ExpiryReport:
    """The expiry schedule run at ``now`` of the history: a user's expirations a microsecond apart."""
    return expiry.expire_credits(now, around=lambda n: ledger.entry_time(now + timedelta(microseconds=n)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_blocks_balances_paid_by_and_expirations_always_match_a_model(firestore, ops):
    reset_database(firestore)
    model = Model()
    now = datetime.now(UTC) - timedelta(days=120)
    debits: list[tuple[ledger.LedgerEntry, list[tuple[str, int]]]] = []
    expired: dict[str, int] = {}
    for n, (op, value, days) in enumerate(ops):
        now += timedelta(seconds=1)
        with ledger.entry_time(now):
            if op == "grant":
                expires = now + timedelta(days=days) if days else None
                entry = grant("m", value, expires)
                model.blocks[entry.id] = ModelBlock(remaining=value, amount=value, expires=expires, created=now)
            elif op == "debit":
                parts = model.debit(value, now)
                try:
                    entry = job_debit("m", f"job{n}", value)
                except InsufficientCredits:
                    assert parts is None
                else:
                    assert parts is not None and paid_by(entry) == parts
                    debits.append((entry, parts))
            elif op == "refund" and debits:
                debit, parts = debits.pop(value % len(debits))
                refund = job_refund(debit)
                late = [(b, a) for b, a in parts if (e := model.blocks[b].expires) and e <= now]
                for block_id, amount in parts:
                    if (block_id, amount) not in late:
                        model.blocks[block_id].remaining += amount
                if late:
                    total = sum(a for _, a in late)
                    expires = min(model.blocks[b].expires or now for b, _ in late)
                    model.blocks[refund.id] = ModelBlock(remaining=total, amount=total, expires=expires, created=now)
            elif op == "advance":
                now += timedelta(days=value)
            elif op == "expire":
                due = model.due(now)
                report = expire_at(now)
                assert (report.expired, report.credits) == (len(due), sum(due.values()))
                for block_id, amount in due.items():
                    model.blocks[block_id].remaining = 0
                    expired[block_id] = amount
        assert open_blocks("m") == model.open()
        assert ledger.read_balances("m").of(IMAGE) == model.balance()
    now += timedelta(seconds=1)
    expired |= model.due(now)
    expire_at(now)
    stored = {e["paidBy"][0]["block"]: e["amount"] for e in stored_entries("m") if e["source"] == "expiration"}
    assert stored == expired
    assert (
        verify.check_blocks("m", verify.user_entries("m"), ledger.read_balances("m"), now - verify.EXPIRY_GRACE) == []
    )
    reset_database(firestore)  # the closing verify runs at today's time, long after this history
