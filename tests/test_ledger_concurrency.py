"""Concurrent writers on one user: no lost update, no overdraft, one entry per key."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from ledger_helpers import request, stored_entries

from credits.core import ledger
from credits.core.errors import InsufficientCredits
from credits.core.ledger import CreditType, Direction
from credits.operations import verify

pytestmark = pytest.mark.usefixtures("firestore")

THREADS = 8
WRITES_PER_THREAD = 30


def test_concurrent_credits_and_debits_lose_nothing():
    ledger.write_ledger_entry(request(uid="hot", amount=40, key="seed"))

    def worker(n: int) -> tuple[int, int, int]:
        rng = random.Random(n)
        applied = {CreditType.IMAGE: 0, CreditType.VIDEO: 0}
        rejected = 0
        for i in range(WRITES_PER_THREAD):
            credit_type = rng.choice(list(CreditType))
            direction = rng.choice([Direction.CREDIT, Direction.DEBIT, Direction.DEBIT])
            amount = rng.randint(1, 9)
            try:
                w = ledger.write_ledger_entry(
                    request(uid="hot", type=credit_type, direction=direction, amount=amount, key=f"w{n}:{i}")
                )
            except InsufficientCredits:
                rejected += 1
                continue
            applied[credit_type] += w.entry.delta
        return applied[CreditType.IMAGE], applied[CreditType.VIDEO], rejected

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(worker, range(THREADS)))

    balances = ledger.read_balances("hot")
    assert balances.of(CreditType.IMAGE) == 40 + sum(r[0] for r in results)
    assert balances.of(CreditType.VIDEO) == sum(r[1] for r in results)
    entries = verify.user_entries("hot")
    assert len(entries) == 1 + THREADS * WRITES_PER_THREAD - sum(r[2] for r in results)
    assert all(e.balance_after >= 0 for e in entries)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    report = verify.verify_users(["hot"])
    assert report.ok, report.mismatches
    assert report.entries == len(entries)


def test_concurrent_duplicates_of_one_key_make_one_entry():
    def attempt(_: int) -> ledger.LedgerWrite:
        return ledger.write_ledger_entry(request(uid="dup", amount=7, key="same-key"))

    with ThreadPoolExecutor(12) as pool:
        writes = list(pool.map(attempt, range(12)))

    assert len({w.entry.id for w in writes}) == 1
    assert sum(not w.replayed for w in writes) == 1
    assert len(stored_entries("dup")) == 1
    assert ledger.read_balances("dup").of(CreditType.IMAGE) == 7


def test_concurrent_debits_never_overdraw():
    ledger.write_ledger_entry(request(uid="race", amount=50))

    def debit(n: int) -> bool:
        try:
            ledger.write_ledger_entry(request(uid="race", direction=Direction.DEBIT, amount=7, key=f"d{n}"))
        except InsufficientCredits:
            return False
        return True

    with ThreadPoolExecutor(10) as pool:
        succeeded = sum(pool.map(debit, range(20)))

    assert succeeded == 7  # 7 x 7 = 49 of 50
    assert ledger.read_balances("race").of(CreditType.IMAGE) == 1
    assert verify.verify_users(["race"]).ok
