"""Benchmark the daily summary against one official Firestore emulator with a busy day.

It starts one Firestore emulator, loads ``--entries`` (default 100,000) ledger-shaped entries
spread over one UTC day for ``--users`` users, plus ``--neighbours`` entries on each of the
day before and the day after (so the day's range filter has something to leave out), then:

* times :func:`credits.summaries.build_daily_summary` (twice: a cold and a warm run) and
  prints its wall time, the aggregation queries it ran, the documents it read and the reads
  Firestore would bill, and checks its totals against the ones the loader computed;
* times the distinct-users pass alone (the part that reads documents);
* for comparison, times a naive summary: read every entry of the day in full and add up in
  Python.

The bulk data is written directly with batched writes of 500 documents, not through the
ledger: the summary only reads ``uid``, ``type``, ``direction``, ``source``, ``amount`` and
``createdAt``, and 100,000 ledger commits would measure the ledger, not the summary. The
entries therefore do not form valid per-user chains (the verifier would flag them).

    bash scripts/setup.sh && source .local/env.sh && "$PYTHON" scripts/bench_summaries.py

On a real project the aggregation queries run on Firestore's indexes, so the emulator's
figures say little about production latency; the read counts are the same.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))
sys.path.insert(0, str(ROOT / "tests"))

from emulators import firestore_for  # noqa: E402

from credits import days, ledger, summaries  # noqa: E402
from credits.firestore_client import db  # noqa: E402
from credits.ledger import Direction  # noqa: E402

PROJECT = "demo-credits-bench-summary"
DAY = date(2026, 3, 14)
BATCH = 500
LOADERS = 4
"""Batches committed at once while loading; the emulator has the machine's other core."""
SEED = 20260314

Key = tuple[str, str, str]


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


def _entries(count: int, users: int, day: date, rng: random.Random) -> Iterator[dict[str, Any]]:
    start, _ = days.day_bounds(day)
    buckets = summaries.source_buckets()
    # Generations dominate a real day: debits of generation sources are drawn most often.
    weights = [8 if source.value.startswith(("text2", "image2")) else 1 for source, _, _ in buckets]
    for n in range(count):
        source, direction, credit_type = rng.choices(buckets, weights)[0]
        uid = f"user-{rng.randrange(users):06d}"
        amount = rng.randint(1, 20) if direction is Direction.DEBIT else rng.choice([50, 100, 500])
        yield {
            "uid": uid,
            "type": str(credit_type),
            "direction": str(direction),
            "amount": amount,
            "balance_after": 0,
            "seq": n + 1,
            "source": str(source),
            "reason": "bench",
            "jobId": None,
            "paymentId": None,
            "invoiceId": None,
            "meta": {"model": "bench"},
            "createdAt": start + timedelta(microseconds=rng.randrange(86_400_000_000)),
            "createdBy": "system",
            "idempotencyKey": f"bench:{day}:{n}",
        }


def load(count: int, users: int, day: date, rng: random.Random) -> tuple[Counter[Key], Counter[Key], set[str]]:
    """Write the entries in batches of 500; return the amount and count per bucket and the users."""
    amounts: Counter[Key] = Counter()
    counts: Counter[Key] = Counter()
    uids: set[str] = set()
    collection = ledger.ledger_collection()
    started = time.perf_counter()
    written = 0

    def commit(chunk: list[dict[str, Any]]) -> int:
        batch = db().batch()
        for data in chunk:
            batch.create(collection.document(), data)
        batch.commit()
        return len(chunk)

    def chunks() -> Iterator[list[dict[str, Any]]]:
        chunk: list[dict[str, Any]] = []
        for data in _entries(count, users, day, rng):
            key = (data["source"], data["direction"], data["type"])
            amounts[key] += data["amount"]
            counts[key] += 1
            uids.add(data["uid"])
            chunk.append(data)
            if len(chunk) == BATCH:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    with ThreadPoolExecutor(LOADERS) as pool:
        for done in pool.map(commit, chunks()):
            written += done
            if written % 10_000 == 0 or written == count:
                rate = written / (time.perf_counter() - started)
                print(f"  {day}: {written}/{count} entries ({rate:,.0f}/s)", flush=True)
    return amounts, counts, uids


def naive_summary(day: date) -> tuple[float, int]:
    """Read every entry of the day in full and add up in Python, as a summary without aggregation."""
    query = summaries.day_entries(day)
    began = time.perf_counter()
    totals: Counter[Key] = Counter()
    uids: set[str] = set()
    documents = 0
    for snap in query.stream():
        data = snap.to_dict() or {}
        totals[(data["source"], data["direction"], data["type"])] += data["amount"]
        uids.add(data["uid"])
        documents += 1
    return time.perf_counter() - began, documents


def run(entries: int, users: int, neighbours: int) -> None:
    rng = random.Random(SEED)
    print(f"loading {entries:,} entries for {DAY} ({users:,} users) and {neighbours:,} on each neighbour day")
    began = time.perf_counter()
    amounts, counts, uids = load(entries, users, DAY, rng)
    for other in (DAY - timedelta(days=1), DAY + timedelta(days=1)):
        if neighbours:
            load(neighbours, users, other, rng)
    print(f"loaded in {time.perf_counter() - began:.1f} s")

    for label in ("cold", "warm"):
        with _quiet_logs():
            began = time.perf_counter()
            summary = summaries.build_daily_summary(DAY, run="manual")
            seconds = time.perf_counter() - began
        reads = summary["reads"]
        print(
            f"build_daily_summary ({label}): {seconds:.2f} s wall, "
            f"{reads['aggregationQueries']} aggregation queries, {reads['documents']:,} documents read, "
            f"~{reads['billedReads']:,} billed reads"
        )

    found = {
        (source, direction, credit_type): (tally["amount"], tally["count"])
        for source, directions in summary["bySource"].items()
        for direction, types in directions.items()
        for credit_type, tally in types.items()
        if tally["count"]
    }
    expected = {key: (amounts[key], counts[key]) for key in counts}
    right = found == expected and summary["usersTouched"] == len(uids) and summary["entries"] == entries
    print(
        f"  summary {'matches' if right else 'DOES NOT MATCH'} the loaded data: "
        f"{summary['entries']:,} entries, {summary['usersTouched']:,} users, "
        + ", ".join(f"{credit_type} net {totals['net']:+,}" for credit_type, totals in summary["byType"].items())
    )

    began = time.perf_counter()
    touched, documents = summaries.uids_touched(DAY)
    print(
        f"  of which the distinct-users pass alone: {time.perf_counter() - began:.2f} s, "
        f"{documents:,} documents read, {len(touched):,} users"
    )

    seconds, documents = naive_summary(DAY)
    print(f"naive full read of the day's entries: {seconds:.2f} s wall, {documents:,} documents read")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=100_000, help="entries on the measured day")
    parser.add_argument("--users", type=int, default=5_000, help="distinct users the entries belong to")
    parser.add_argument("--neighbours", type=int, default=2_000, help="entries on each neighbouring day")
    args = parser.parse_args()
    if args.entries < 1 or args.users < 1 or args.neighbours < 0:
        parser.error("--entries and --users must be at least 1, --neighbours at least 0")

    with firestore_for(ROOT, PROJECT):
        run(args.entries, args.users, args.neighbours)


if __name__ == "__main__":
    main()
