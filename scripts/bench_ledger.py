"""Benchmark the ledger core against one official Firestore emulator.

It measures, in one run on one freshly started emulator:

* the latency of ``write_ledger_entry`` (sequential credits on one user, a new
  idempotency key each) next to the latency of a bare single-document ``set`` of a
  similar small document, in alternating rounds after a warm-up, and prints both
  medians, their p95 and the ratio against the goal ``ratio <= 2.5``;
* many writer threads on one user (credits and small debits on a balance that never
  runs out): the wall time, the writes, the commit retries, and whether
  :func:`credits.verify.verify_users` finds the user's ledger clean afterwards.

The ledger's JSON log lines go to ``os.devnull`` while it runs, so they still cost what
they cost in a function but do not bury the figures.

    bash scripts/setup.sh && source .local/env.sh && "$PYTHON" scripts/bench_ledger.py

Options: ``--writes`` (measured writes of each kind), ``--threads`` and ``--per-thread``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))
sys.path.insert(0, str(ROOT / "tests"))

from emulators import firestore_for  # noqa: E402
from google.cloud import firestore  # noqa: E402

from credits import ledger, verify  # noqa: E402
from credits.errors import LedgerBusy  # noqa: E402
from credits.firestore_client import db  # noqa: E402
from credits.ledger import CreditType, Direction, LedgerRequest, Source  # noqa: E402

PROJECT = "demo-credits-bench"
GOAL_RATIO = 2.5
WARMUP = 1000
ROUND = 10
SEQ_UID = "bench-seq"
HOT_UID = "bench-hot"
HOT_SEED = 1_000_000


@dataclass(frozen=True, kw_only=True)
class Latency:
    median_ms: float
    p95_ms: float

    def line(self, label: str) -> str:
        return f"{label} median {self.median_ms:.1f} ms p95 {self.p95_ms:.1f} ms"


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


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


def _latency(samples_ns: list[int]) -> Latency:
    ms = [s / 1e6 for s in samples_ns]
    return Latency(
        median_ms=statistics.median(ms),
        p95_ms=statistics.quantiles(ms, n=20, method="inclusive")[-1],
    )


def _ledger_write(i: int) -> None:
    ledger.write_ledger_entry(_request(SEQ_UID, f"bench:seq:{i}", type=CreditType.IMAGE))


def _ledger_write_cold(i: int) -> None:
    ledger.forget_remembered_balances()
    ledger.write_ledger_entry(_request(SEQ_UID, f"bench:cold:{i}", type=CreditType.IMAGE))


def _bare_write(i: int) -> None:
    # About the size and shape of a ledger entry, so only the ledger's own work differs.
    db().collection("bench").document(f"d{i}").set(
        {
            "uid": SEQ_UID,
            "type": "image",
            "direction": "credit",
            "amount": 1,
            "balance_after": i,
            "seq": i,
            "source": "admin_adjustment",
            "reason": "bench",
            "createdAt": firestore.SERVER_TIMESTAMP,
            "createdBy": "admin:bench",
            "idempotencyKey": f"bench:bare:{i}",
        }
    )


def measure_latencies(writes: int) -> tuple[Latency, Latency, Latency]:
    """Alternate rounds of each kind of write so machine noise hits all of them alike."""
    kinds_in_order = [_ledger_write, _ledger_write_cold, _bare_write]
    for i in range(WARMUP):
        for kind in kinds_in_order:
            kind(-1 - i)
    samples: dict[Callable[[int], None], list[int]] = {kind: [] for kind in kinds_in_order}
    done = 0
    while done < writes:
        size = min(ROUND, writes - done)
        # Neither kind always runs right after the other, so what one leaves behind (a GC
        # pause, a busy emulator) does not always land on the same kind.
        shift = (done // ROUND) % len(kinds_in_order)
        kinds = kinds_in_order[shift:] + kinds_in_order[:shift]
        for kind in kinds:
            for i in range(done, done + size):
                start = time.perf_counter_ns()
                kind(i)
                samples[kind].append(time.perf_counter_ns() - start)
        done += size
    return (
        _latency(samples[_ledger_write]),
        _latency(samples[_ledger_write_cold]),
        _latency(samples[_bare_write]),
    )


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
    with _quiet_logs():
        warm, cold, bare = measure_latencies(writes)
    print(warm.line("write_ledger_entry (balance remembered)"))
    print(cold.line("write_ledger_entry (balance read)      "))
    print(bare.line("bare single-document write             "))
    for label, latency in (("remembered", warm), ("read", cold)):
        ratio = latency.median_ms / bare.median_ms
        verdict = "met" if ratio <= GOAL_RATIO else "not met"
        print(f"ratio ({label}) {ratio:.2f} (goal <= {GOAL_RATIO}: {verdict})")

    for remember in (True, False):
        uid = f"{HOT_UID}-{'shared' if remember else 'separate'}"
        label = "one instance" if remember else "separate instances"
        print(f"contention: {threads} threads x {per_thread} writes on one user ({label})")
        with _quiet_logs():
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--writes", type=int, default=500, help="measured writes of each kind")
    parser.add_argument("--threads", type=int, default=16, help="concurrent writer threads")
    parser.add_argument("--per-thread", type=int, default=50, help="writes per thread")
    args = parser.parse_args()
    if args.writes < 2 or args.threads < 1 or args.per_thread < 1:
        parser.error("--writes must be at least 2, --threads and --per-thread at least 1")

    with firestore_for(ROOT, PROJECT):
        run(args.writes, args.threads, args.per_thread)


if __name__ == "__main__":
    main()
