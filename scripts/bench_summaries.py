"""Benchmark the daily summary against one official Firestore emulator with a busy day.

It starts one Firestore emulator, loads ``--entries`` (default 100,000) ledger-shaped entries
spread over one UTC day for ``--users`` users, plus ``--neighbours`` entries on each of the
day before and the day after (so the day's range filter has something to leave out), then:

* at a tenth of ``--entries`` and at ``--entries`` (each on a day of its own), times
  :func:`credits.operations.summaries.build_daily_summary` side by side the old way (users
  counted by reading the day's entries) and the new (users counted from the day's markers),
  a warm run after a cold one, and prints the wall time, the documents read and the reads
  Firestore would bill; checks every summary's totals against the ones the loader computed;
* prints the share of entries the new way reads (goal: at most 1%) and how its time grows
  with the day;
* for comparison, times a naive summary: read every entry of the day in full and add up in
  Python.

The bulk data is entry documents as the ledger lays them out (``ledger.entry_document``), and
the user markers the ledger's commits write (one per user and day), written directly with
batched writes of 500 documents (``bench_helpers.bulk_create``), not through the ledger: the
summary only reads ``uid``, ``type``, ``direction``, ``source``, ``amount`` and ``createdAt``,
and 100,000 ledger commits would measure the ledger, not the summary. The
entries therefore do not form valid per-user chains (the verifier would flag them).

    bash scripts/setup.sh && source .local/env.sh && "$PYTHON" scripts/bench_summaries.py

On a real project the aggregation queries run on Firestore's indexes, so the emulator's
figures say little about production latency; the read counts are the same.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import bench_helpers
from bench_helpers import Option, bulk_create, quiet_logs

from credits.core import ledger
from credits.core.ledger import Direction, LedgerRequest
from credits.operations import days, summaries

PROJECT = "demo-credits-bench-summary"
DAY = date(2026, 3, 14)
SEED = 20260314
OPTIONS = [
    Option(name="entries", default=100_000, help="entries on the measured day"),
    Option(name="users", default=5_000, help="distinct users the entries belong to"),
    Option(name="neighbours", default=2_000, help="entries on each neighbouring day", minimum=0),
]

Key = tuple[str, str, str]


def _entries(count: int, users: int, day: date, rng: random.Random) -> Iterator[dict[str, Any]]:
    start, _ = days.day_bounds(day)
    buckets = summaries.source_buckets()
    # Generations dominate a real day: debits of generation sources are drawn most often.
    weights = [8 if source.value.startswith(("text2", "image2")) else 1 for source, _, _ in buckets]
    for n in range(count):
        source, direction, credit_type = rng.choices(buckets, weights)[0]
        request = LedgerRequest(
            uid=f"user-{rng.randrange(users):06d}",
            type=credit_type,
            direction=direction,
            amount=rng.randint(1, 20) if direction is Direction.DEBIT else rng.choice([50, 100, 500]),
            source=source,
            idempotency_key=f"bench:{day}:{n}",
            created_by="system",
            reason="bench",
            meta={"model": "bench"},
        )
        created_at = start + timedelta(microseconds=rng.randrange(86_400_000_000))
        yield ledger.entry_document(request, amount=request.amount, balance_after=0, seq=n + 1, created_at=created_at)


def load(count: int, users: int, day: date, rng: random.Random) -> tuple[Counter[Key], Counter[Key], set[str]]:
    """Write the entries in batches of 500; return the amount and count per bucket and the users."""
    amounts: Counter[Key] = Counter()
    counts: Counter[Key] = Counter()
    uids: set[str] = set()

    def documents() -> Iterator[tuple[str, None, dict[str, Any]]]:
        for data in _entries(count, users, day, rng):
            key = (data["source"], data["direction"], data["type"])
            amounts[key] += data["amount"]
            counts[key] += 1
            uids.add(data["uid"])
            yield ledger.LEDGER, None, data

    print(f"  {day}:")
    bulk_create(documents(), count, progress_every=10_000)
    # What each user's first entry of the day writes in its commit (ledger.USER_DAYS).
    markers = ((f"{ledger.USER_DAYS}/{days.day_id(day)}/{ledger.USERS}", uid, {"uid": uid}) for uid in uids)
    bulk_create(markers, len(uids), progress_every=10_000)
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
    sizes = sorted({max(1, entries // 10), entries})
    measured = {size: DAY + timedelta(days=3 * n) for n, size in enumerate(sizes)}
    loaded = {}
    began = time.perf_counter()
    for size, day in measured.items():
        print(f"loading {size:,} entries for {day} ({users:,} users) and {neighbours:,} on each neighbour day")
        loaded[day] = load(size, users, day, rng)
        for other in (day - timedelta(days=1), day + timedelta(days=1)):
            if neighbours:
                load(neighbours, users, other, rng)
    print(f"loaded in {time.perf_counter() - began:.1f} s")

    print(f"{'entries':>9}  {'users counted by':<27}{'wall (warm)':>12}{'documents read':>16}{'billed reads':>14}")
    figures: dict[tuple[int, bool], tuple[float, int]] = {}
    for size, day in measured.items():
        for from_entries in (True, False):
            with quiet_logs():
                summaries.build_daily_summary(day, run="manual", users_from_entries=from_entries)  # cold
                began = time.perf_counter()
                summary = summaries.build_daily_summary(day, run="manual", users_from_entries=from_entries)
                seconds = time.perf_counter() - began
            reads = summary["reads"]
            figures[(size, from_entries)] = (seconds, reads["documents"])
            method = "reading the entries (old)" if from_entries else "the day's markers (new)"
            print(f"{size:>9,}  {method:<27}{seconds:>10.2f} s{reads['documents']:>16,}{reads['billedReads']:>14,}")
            check(summary, *loaded[day], size)
    small, large = sizes[0], sizes[-1]
    share = figures[(large, False)][1] / large
    verdict = bench_helpers.verdict(share <= 0.01)
    print(f"documents read / entries (new, {large:,}): {share:.2%} (goal <= 1%: {verdict})")
    growth = figures[(large, False)][0] / figures[(small, False)][0]
    print(
        f"  time at {large:,} / time at {small:,} entries: new {growth:.2f}x, "
        f"old {figures[(large, True)][0] / figures[(small, True)][0]:.2f}x"
    )

    seconds, documents = naive_summary(measured[large])
    print(f"naive full read of the {large:,} entries' day: {seconds:.2f} s wall, {documents:,} documents read")


def check(summary: summaries.Summary, amounts: Counter[Key], counts: Counter[Key], uids: set[str], size: int) -> None:
    found = {
        (source, direction, credit_type): (tally["amount"], tally["count"])
        for source, directions in summary["bySource"].items()
        for direction, types in directions.items()
        for credit_type, tally in types.items()
        if tally["count"]
    }
    expected = {key: (amounts[key], counts[key]) for key in counts}
    right = found == expected and summary["usersTouched"] == len(uids) and summary["entries"] == size
    if not right:
        found_users = summary["usersTouched"]
        print(f"  the summary DOES NOT MATCH the loaded data: {summary['entries']:,} entries, {found_users} users")


if __name__ == "__main__":
    bench_helpers.main(__doc__, PROJECT, OPTIONS, lambda args: run(args.entries, args.users, args.neighbours))
