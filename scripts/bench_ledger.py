"""Benchmark the ledger core against one official Firestore emulator.

It measures, in one run on one freshly started emulator:

* the latency of ``write_ledger_entry`` (sequential debits of 1 credit on one user, a new
  idempotency key each) next to the latency of a bare single-document ``set`` of an
  entry's document (``ledger.entry_document``), in alternating rounds after a warm-up
  (``bench_helpers.interleaved``), and prints the medians, their p95 and the ratio against
  the goal ``ratio <= 2.5``. The debits run on a user with 1 open credit block and on a user
  with 50 (49 that expire at different times, one that never does; docs/ledger.md, "Credit
  blocks"), each with the balance remembered and with it read, and the run prints the ratio
  of the two ratios against the goal ``<= 1.3``: what 50 open blocks cost over the one block
  every balance has;
* many writer threads on one user (credits and small debits on a balance that never
  runs out): the wall time, the writes, the commit retries, and whether
  :func:`credits.operations.verify.verify_users` finds the user's ledger clean afterwards.

The ledger's JSON log lines go to ``os.devnull`` while it runs, so they still cost what
they cost in a function but do not bury the figures.

    bash scripts/setup.sh && source .local/env.sh && "$PYTHON" scripts/bench_ledger.py

Options: ``--writes`` (measured writes of each kind), ``--threads`` and ``--per-thread``.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import bench_helpers
from bench_helpers import Option, goal_line, interleaved, quiet_logs

from credits.core import ledger
from credits.core.errors import LedgerBusy
from credits.core.firestore_client import db
from credits.core.ledger import CreditType, Direction, LedgerRequest, Source
from credits.operations import verify

PROJECT = "demo-credits-bench"
GOAL_RATIO = 2.5
GOAL_BLOCKS_RATIO = 1.3
"""Most the write/bare ratio may grow from 1 open block to 50."""
BLOCKS = (1, 50)
BLOCK_CREDITS = 1_000_000
"""Each block's credits: the measured debits of 1 never empty one, so the count of open blocks stays."""
WARMUP = 1000
ROUND = 10
HOT_UID = "bench-hot"
HOT_SEED = 1_000_000
OPTIONS = [
    Option(name="writes", default=500, help="measured writes of each kind", minimum=2),
    Option(name="threads", default=16, help="concurrent writer threads"),
    Option(name="per-thread", default=50, help="writes per thread"),
]


@dataclass(frozen=True, kw_only=True)
class Contention:
    seconds: float
    writes: int
    retries: int
    gave_up: int


def _request(
    uid: str, key: str, *, direction: Direction = Direction.CREDIT, amount: int = 1, type: CreditType
) -> LedgerRequest:
    return LedgerRequest(
        uid=uid,
        type=type,
        direction=direction,
        amount=amount,
        source=Source.ADMIN_ADJUSTMENT,
        idempotency_key=key,
        created_by="admin:bench",
        reason="bench",
    )


def _blocks_uid(blocks: int) -> str:
    return f"bench-blocks-{blocks}"


def open_blocks(blocks: int) -> None:
    """Give a user ``blocks`` open blocks: all but one expire, a day apart from 30 days on."""
    uid = _blocks_uid(blocks)
    now = datetime.now(UTC)
    for n in range(blocks):
        expires_at = now + timedelta(days=30 + n) if n < blocks - 1 else None
        request = _request(uid, f"bench:open:{uid}:{n}", amount=BLOCK_CREDITS, type=CreditType.IMAGE)
        ledger.write_ledger_entry(dataclasses.replace(request, expires_at=expires_at))
    assert len(ledger.read_balances(uid).blocks) == blocks


def _debit(blocks: int, *, remembered: bool) -> Callable[[int], None]:
    uid = _blocks_uid(blocks)
    kind = "remembered" if remembered else "read"

    def write(i: int) -> None:
        if not remembered:
            ledger.forget_remembered_balances()
        request = _request(uid, f"bench:{kind}:{uid}:{i}", direction=Direction.DEBIT, type=CreditType.IMAGE)
        ledger.write_ledger_entry(request)

    return write


def _bare_write(i: int) -> None:
    # A ledger entry's document, as the ledger lays it out, written alone: only the ledger's own work differs.
    request = _request("bench-bare", f"bench:bare:{i}", type=CreditType.IMAGE)
    db().collection("bench").document(f"d{i}").set(ledger.entry_document(request, amount=1, balance_after=i, seq=i))


def measure_contention(threads: int, per_thread: int, *, remember: bool, uid: str) -> Contention:
    """Writer threads on one user, which serialise on its balance document.

    With ``remember`` off every write forgets the balances it knows, as when each writer is
    a separate function instance.
    """
    for credit_type in CreditType:
        ledger.write_ledger_entry(_request(uid, f"bench:seed:{uid}:{credit_type}", amount=HOT_SEED, type=credit_type))

    def worker(n: int) -> tuple[int, int, int]:
        rng = random.Random(n)
        writes = retries = gave_up = 0
        for i in range(per_thread):
            request = _request(
                uid,
                f"bench:hot:{uid}:{n}:{i}",
                direction=rng.choice(list(Direction)),
                amount=rng.randint(1, 9),
                type=rng.choice(list(CreditType)),
            )
            if not remember:
                ledger.forget_remembered_balances()
            try:
                result = ledger.write_ledger_entry(request)
            except LedgerBusy:
                gave_up += 1
                continue
            writes += 1
            retries += result.attempts - 1
        return writes, retries, gave_up

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(worker, range(threads)))
    seconds = time.perf_counter() - start
    return Contention(
        seconds=seconds,
        writes=sum(r[0] for r in results),
        retries=sum(r[1] for r in results),
        gave_up=sum(r[2] for r in results),
    )


def run(writes: int, threads: int, per_thread: int) -> None:
    print(f"latency: {WARMUP} warm-up writes of each kind, then {writes} each in rounds of {ROUND}")
    with quiet_logs():
        for blocks in BLOCKS:
            open_blocks(blocks)
        kinds: list[tuple[str, Callable[[int], None]]] = [
            (f"{state} {blocks}", _debit(blocks, remembered=state == "remembered"))
            for blocks in BLOCKS
            for state in ("remembered", "read")
        ]
        latency = interleaved([*kinds, ("bare", _bare_write)], calls=writes, round_size=ROUND, warmup=WARMUP)
    for name, _ in kinds:
        state, count = name.split()
        label = f"write_ledger_entry, {count:>2} open block{'s' if count != '1' else ' '} (balance {state})"
        print(latency[name].line(f"{label:<58}"))
    print(latency["bare"].line(f"{'bare single-document write':<58}"))
    for state in ("remembered", "read"):
        ratios = {blocks: latency[f"{state} {blocks}"].median_ms / latency["bare"].median_ms for blocks in BLOCKS}
        for blocks, ratio in ratios.items():
            print(goal_line(f"ratio ({state}, {blocks} open blocks)", ratio, GOAL_RATIO))
        growth = ratios[BLOCKS[-1]] / ratios[BLOCKS[0]]
        print(goal_line(f"  {BLOCKS[-1]} blocks / {BLOCKS[0]} block ({state})", growth, GOAL_BLOCKS_RATIO))

    for remember in (True, False):
        uid = f"{HOT_UID}-{'shared' if remember else 'separate'}"
        label = "one instance" if remember else "separate instances"
        print(f"contention: {threads} threads x {per_thread} writes on one user ({label})")
        with quiet_logs():
            contention = measure_contention(threads, per_thread, remember=remember, uid=uid)
        print(f"  wall time {contention.seconds:.2f} s")
        print(f"  writes {contention.writes} of {threads * per_thread}, gave up {contention.gave_up}")
        print(f"  retries {contention.retries}")
        report = verify.verify_users([uid])
        expected = len(CreditType) + contention.writes
        print(
            f"  verify {'clean' if report.ok else 'NOT clean'}: {report.entries} entries "
            f"(expected {expected}), {len(report.mismatches)} mismatches"
        )
        for mismatch in report.mismatches[:10]:
            print(f"    {mismatch.kind}: {mismatch.message}")


if __name__ == "__main__":
    bench_helpers.main(__doc__, PROJECT, OPTIONS, lambda args: run(args.writes, args.threads, args.per_thread))
