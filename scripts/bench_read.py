"""Benchmark the read paths (ledger page, Activity feed, CSV export) against one Firestore emulator.

It starts one official Firestore emulator, loads a ledger of ``--entries`` (default 200,000)
entries and ``--jobs`` (default 2,000) generation jobs, then measures, in the same run:

* latency, side by side: the first ledger page of one user
  (``queries.ledger_page``, 50 entries), the first Activity page of that user as the API
  reads it (``activity.feed``, 30 days, 50 items, one query on the user's projection), the
  same page built from the sources as it was read before the projection
  (``activity_sources.feed``, merging ``generation_jobs`` and ``credits_ledger``), and a
  bare Firestore query for 50 of the user's entries (no ordering, no conversion). The
  reader's projection is written first, by the projection's own page writers. After a
  warm-up of each, the kinds run in alternating rounds, each round starting with the next
  kind, and the script prints median and p95 of each, the client's own CPU time per call,
  the ratios ledger/bare and activity/bare against the goal ``ratio <= 3``, and
  activity/ledger, before and after the projection, against the goal ``ratio <= 1.1``;
* the CSV export (``export.csv_lines(queries.iter_entries(...))`` written line by line to
  ``os.devnull``) of a user with 10,000 entries and of a user with 100,000 entries, one
  after the other under ``tracemalloc``: rows per second and the peak of Python
  allocations (how far traced memory rose above where it stood when the export began),
  and the ratio peak(100k)/peak(10k) against the goal ``ratio <= 1.2``. ``tracemalloc``
  sees what Python allocates, not the buffers gRPC and protobuf keep in C. It slows the
  client's own work, but the export's wall time goes mostly to waiting for the emulator.

The data (``scripts/bench_read_data.py``) is bulk benchmark data laid out by the ledger's
own ``ledger.entry_document``, loaded directly rather than through the ledger: each user's
entries form a valid chain; ``bench-reader`` (``--reader-entries``) has ``--jobs``
generation jobs, ``bench-export-10k`` and ``bench-export-100k`` are the exports, and the
rest of ``--entries`` belongs to ``--users`` other users.

    bash scripts/setup.sh && source .local/env.sh && "$PYTHON" scripts/bench_read.py
    "$PYTHON" scripts/bench_read.py --entries 5000 --reader-entries 5000 --export-small 0 \
        --export-large 0 --users 0 --jobs 1000      # the Activity comparison alone, in minutes

With ``--export-small 0 --export-large 0`` the export part is skipped.

The emulator has no indexes: every query scans the whole collection (about 20 µs per
document on a 2-core machine, so a few seconds per query at 200,000 entries), which makes a
default run take about 45 minutes and makes its latencies say little about production,
where these queries read an index. The client CPU time per call shows the code's own share.
"""

from __future__ import annotations

import gc
import itertools
import os
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import activity_sources
import bench_helpers
from bench_helpers import Option, goal_line, interleaved
from bench_read_data import EXPORT_LARGE, EXPORT_SMALL, READER, Sizes, load_all
from google.cloud.firestore import FieldFilter

from credits.core import generation_jobs, ledger
from credits.core.firestore_client import db
from credits.reads import activity, activity_log, export, queries

PROJECT = "demo-credits-bench-read"
GOAL_LATENCY_RATIO = 3.0
GOAL_ACTIVITY_RATIO = 1.1
GOAL_MEMORY_RATIO = 1.2
LATENCY_ROUND = 5
WARMUP_EXPORT_ROWS = 1_000
OPTIONS = [
    Option(name="entries", default=200_000, help="ledger entries in all"),
    Option(name="reader-entries", default=20_000, help=f"entries of {READER}"),
    Option(name="export-small", default=10_000, help=f"entries of {EXPORT_SMALL} (0: no export)", minimum=0),
    Option(name="export-large", default=100_000, help=f"entries of {EXPORT_LARGE} (0: no export)", minimum=0),
    Option(name="users", default=2_000, help="other users the remaining entries belong to", minimum=0),
    Option(name="jobs", default=2_000, help=f"generation_jobs of {READER}", minimum=0),
    Option(name="warmup", default=30, help="warm-up calls of each kind", minimum=0),
    Option(name="calls", default=100, help="measured calls of each kind", minimum=2),
]

READER_SCOPE = queries.Scope(field="uid", value=READER)


def ledger_first_page() -> int:
    return len(queries.ledger_page(READER_SCOPE, queries.LedgerFilters(limit=50)).entries)


def activity_first_page() -> int:
    return len(activity.feed(READER, activity.ActivityFilters()).items)


def activity_from_sources() -> int:
    return len(activity_sources.feed(READER, activity.ActivityFilters()).items)


def project_reader() -> None:
    """Write the reader's Activity projection with the projection's own page writers."""
    report = activity_log.BackfillReport()
    for collection, write in (
        (generation_jobs.JOBS, activity_log.project_jobs),
        (ledger.LEDGER, activity_log.project_entries),
    ):
        snaps = list(db().collection(collection).where(filter=FieldFilter("uid", "==", READER)).stream())
        for start in range(0, len(snaps), activity_log.PAGE_SIZE):
            write(snaps[start : start + activity_log.PAGE_SIZE], report)
    print(f"projected {READER}: {report.jobs:,} jobs and {report.entries:,} entries, {report.written:,} items written")


def bare_query() -> int:
    return len(db().collection(ledger.LEDGER).where(filter=FieldFilter("uid", "==", READER)).limit(50).get())


def run_latency(warmup: int, calls: int) -> None:
    project_reader()
    page = queries.ledger_page(READER_SCOPE, queries.LedgerFilters(limit=50))
    feed = activity.feed(READER, activity.ActivityFilters())
    same = feed.to_api() == activity_sources.feed(READER, activity.ActivityFilters()).to_api()
    items = Counter(str(item.kind) for item in feed.items)
    print(
        f"first pages of {READER}: ledger {len(page.entries)} entries (next cursor: {page.next_cursor is not None}), "
        f"activity {len(feed.items)} items ({items['generation']} generation, {items['credits']} credits), "
        f"bare query {bare_query()} documents; the projection's page equals the sources' page: {same}"
    )
    print(f"latency: {warmup} warm-up calls of each kind, then {calls} each in rounds of {LATENCY_ROUND}", flush=True)
    kinds: list[tuple[str, Callable[[int], object]]] = [
        ("ledger", lambda _: ledger_first_page()),
        ("activity", lambda _: activity_first_page()),
        ("sources", lambda _: activity_from_sources()),
        ("bare", lambda _: bare_query()),
    ]
    results = interleaved(kinds, calls=calls, round_size=LATENCY_ROUND, warmup=warmup)
    labels = {
        "ledger": "ledger page (queries.ledger_page, 50)",
        "activity": "activity page, projection (activity.feed)",
        "sources": "activity page, sources (before)",
        "bare": "bare 50-document query (no ordering)",
    }
    for name, label in labels.items():
        print(results[name].line_with_cpu(label.ljust(42)))
    for name in ("ledger", "activity"):
        ratio = results[name].median_ms / results["bare"].median_ms
        print(goal_line(f"ratio {name}/bare", ratio, GOAL_LATENCY_RATIO))
    for name, when in (("sources", "before"), ("activity", "after")):
        ratio = results[name].median_ms / results["ledger"].median_ms
        print(goal_line(f"ratio activity/ledger {when} the projection", ratio, GOAL_ACTIVITY_RATIO))


def _export_lines(uid: str) -> Iterator[str]:
    return export.csv_lines(queries.iter_entries(queries.Scope(field="uid", value=uid), queries.LedgerFilters()))


def _consume(lines: Iterable[str]) -> int:
    """Write every line to a sink that keeps nothing; return the data rows (the header excluded)."""
    written = 0
    with open(os.devnull, "w", encoding="utf-8") as sink:
        for line in lines:
            sink.write(line)
            written += 1
    return written - 1


@dataclass(frozen=True, kw_only=True)
class ExportRun:
    rows: int
    seconds: float
    peak_mib: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


def measure_export(uid: str) -> ExportRun:
    gc.collect()
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    rows = _consume(_export_lines(uid))
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    return ExportRun(rows=rows, seconds=seconds, peak_mib=(peak - baseline) / 2**20)


def run_export(sizes: Sizes) -> None:
    # Imports, caches and the gRPC channel are set up before memory is traced.
    _consume(itertools.islice(_export_lines(EXPORT_SMALL), WARMUP_EXPORT_ROWS + 1))
    print("CSV export, one pass each under tracemalloc")
    tracemalloc.start()
    try:
        runs = {}
        for uid, expected in ((EXPORT_SMALL, sizes.export_small), (EXPORT_LARGE, sizes.export_large)):
            result = measure_export(uid)
            runs[uid] = result
            check = "" if result.rows == expected else f" (EXPECTED {expected:,})"
            print(
                f"  {uid}: {result.rows:,} rows{check} in {result.seconds:.1f} s, {result.rows_per_s:,.0f} rows/s, "
                f"peak {result.peak_mib:.2f} MiB",
                flush=True,
            )
    finally:
        tracemalloc.stop()
    ratio = runs[EXPORT_LARGE].peak_mib / runs[EXPORT_SMALL].peak_mib
    print(goal_line("ratio peak(100k)/peak(10k)", ratio, GOAL_MEMORY_RATIO))


def run(args: Any) -> None:
    sizes = Sizes(**{name: getattr(args, name) for name in Sizes.__dataclass_fields__})
    load_all(sizes, datetime.now(UTC))
    run_latency(args.warmup, args.calls)
    if sizes.export_small and sizes.export_large:
        run_export(sizes)


def _check(args: Any) -> str | None:
    others = args.entries - args.reader_entries - args.export_small - args.export_large
    if others < 0 or (others > 0 and args.users == 0):
        return "--entries must cover the named users' entries, and entries left over need --users"
    return None


if __name__ == "__main__":
    bench_helpers.main(__doc__, PROJECT, OPTIONS, run, check=_check)
