"""What the benchmark scripts share: options, the emulators, quiet logs, interleaved timing, bulk loading, figures.

Each ``scripts/bench_*.py`` that runs on its own Firestore emulator declares its options
(:class:`Option`) and hands them with its run to :func:`main` (options parsed, one emulator
started for the run, stopped after it); ``scripts/bench_web.py``, which needs the whole
Emulator Suite, parses them with :func:`parse` and runs inside :func:`whole_suite`. A
benchmark measures with :func:`interleaved` (rounds of each kind of call in turn, so machine
noise hits all kinds alike) and reports :class:`Latency` figures, and each figure that has a
goal with :func:`goal_line` (or :func:`verdict`). Bulk data is written with
:func:`bulk_create`, and entry-shaped documents are built by the ledger's own
:func:`credits.core.ledger.entry_document`, so a benchmark's data has the shape the ledger writes.

Importing this module puts ``functions/`` (the ``credits`` package) and ``tests/`` (the
emulator starter) on ``sys.path``. Nothing to run on its own.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))
sys.path.insert(0, str(ROOT / "tests"))

import target  # noqa: E402
from emulators import Suite, firestore_for  # noqa: E402

from credits.core.firestore_client import db  # noqa: E402

__all__ = [
    "ROOT",
    "Doc",
    "Latency",
    "Option",
    "bulk_create",
    "goal_line",
    "interleaved",
    "main",
    "parse",
    "quiet_logs",
    "verdict",
    "whole_suite",
]

BATCH = 500
"""Documents per batched write (Firestore's most)."""
LOADERS = 4
"""Batches committed at once while loading; the emulator has the machine's other core."""

Doc = tuple[str, str | None, dict[str, Any]]
"""(collection, document id or None for a new id, data)."""


@dataclass(frozen=True, kw_only=True)
class Option:
    """One whole-number command-line option of a benchmark."""

    name: str
    """``writes`` for ``--writes``."""
    default: int
    help: str
    minimum: int = 1


def parse(
    doc: str | None, options: Sequence[Option], check: Callable[[argparse.Namespace], str | None] | None = None
) -> argparse.Namespace:
    """The options from the command line; an option below its minimum, or ``check``'s complaint, exits with usage."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    for option in options:
        parser.add_argument(f"--{option.name}", type=int, default=option.default, help=option.help)
    args = parser.parse_args()
    low = [o for o in options if getattr(args, o.name.replace("-", "_")) < o.minimum]
    if low:
        parser.error(", ".join(f"--{o.name} must be at least {o.minimum}" for o in low))
    problem = check(args) if check else None
    if problem:
        parser.error(problem)
    return args


def main(
    doc: str | None,
    project: str,
    options: Sequence[Option],
    run: Callable[[argparse.Namespace], None],
    check: Callable[[argparse.Namespace], str | None] | None = None,
) -> None:
    """A benchmark's command: parse its options, start one Firestore emulator for ``project``, run."""
    args = parse(doc, options, check)
    with firestore_for(ROOT, project):
        run(args)


@contextlib.contextmanager
def whole_suite() -> Iterator[Suite]:
    """The whole Emulator Suite on the ports of firebase.json, emptied, with this process's clients on it.

    It is stopped however the block ends; a SIGTERM (a killed flock, a CI timeout) unwinds
    like Ctrl-C, so it is stopped then too.
    """
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    suite = Suite.start(ROOT)
    try:
        print(f"suite up in {time.perf_counter() - started:.1f} s", flush=True)
        suite.reset()
        os.environ.update(target.LOCAL)
        yield suite
    finally:
        suite.stop()


@contextlib.contextmanager
def quiet_logs() -> Iterator[None]:
    """The product's JSON log lines go to ``os.devnull``: they cost what they cost, unseen."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


@dataclass(frozen=True, kw_only=True)
class Latency:
    median_ms: float
    p95_ms: float
    cpu_median_ms: float
    """This thread's CPU time per call: the client's own work, without the wait for the emulator."""

    @classmethod
    def of(cls, wall_ns: Sequence[int], cpu_ns: Sequence[int]) -> Latency:
        ms = [s / 1e6 for s in wall_ns]
        return cls(
            median_ms=statistics.median(ms),
            p95_ms=statistics.quantiles(ms, n=20, method="inclusive")[-1],
            cpu_median_ms=statistics.median(cpu_ns) / 1e6,
        )

    def line(self, label: str) -> str:
        return f"{label} median {self.median_ms:.1f} ms p95 {self.p95_ms:.1f} ms"

    def line_with_cpu(self, label: str) -> str:
        """The line in aligned columns, with the client's CPU time."""
        return (
            f"{label} median {self.median_ms:7.1f} ms  p95 {self.p95_ms:7.1f} ms  "
            f"(client CPU median {self.cpu_median_ms:5.1f} ms)"
        )


def verdict(met: bool) -> str:
    return "met" if met else "not met"


def goal_line(label: str, value: float, goal: float) -> str:
    """``label 1.76 (goal <= 2.5: met)``: a figure beside the most it may be."""
    return f"{label} {value:.2f} (goal <= {goal:g}: {verdict(value <= goal)})"


def interleaved(
    kinds: Sequence[tuple[str, Callable[[int], object]]], *, calls: int, round_size: int, warmup: int
) -> dict[str, Latency]:
    """Time ``calls`` calls of each kind, in rounds of ``round_size`` of each kind in turn.

    Each round starts with the next kind, so no kind always runs right after another and what
    one leaves behind (a GC pause, a busy emulator) does not always land on the same kind.
    Each kind is first called ``warmup`` times. A call gets its number: 0, 1, … when measured,
    -1, -2, … in the warm-up (for unique keys).
    """
    for i in range(warmup):
        for _, call in kinds:
            call(-1 - i)
    wall: dict[str, list[int]] = {name: [] for name, _ in kinds}
    cpu: dict[str, list[int]] = {name: [] for name, _ in kinds}
    done = 0
    while done < calls:
        size = min(round_size, calls - done)
        shift = (done // round_size) % len(kinds)
        for name, call in [*kinds[shift:], *kinds[:shift]]:
            for i in range(done, done + size):
                start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
                call(i)
                cpu[name].append(time.thread_time_ns() - start_cpu)
                wall[name].append(time.perf_counter_ns() - start)
        done += size
    return {name: Latency.of(wall[name], cpu[name]) for name, _ in kinds}


def bulk_create(docs: Iterable[Doc], total: int, *, progress_every: int = 20_000) -> float:
    """Create the documents in batches of 500 by a few threads; return the seconds it took.

    Batches are built only a few ahead of the loaders, so the whole load is never in memory.
    """
    started = time.perf_counter()
    client = db()
    written = 0

    def commit(chunk: list[Doc]) -> int:
        batch = client.batch()
        for collection, doc_id, data in chunk:
            batch.create(client.collection(collection).document(doc_id), data)
        batch.commit()
        return len(chunk)

    def count(done: Iterable[Future[int]]) -> None:
        nonlocal written
        for future in done:
            before = written
            written += future.result()
            if written // progress_every > before // progress_every or written == total:
                rate = written / (time.perf_counter() - started)
                print(f"  {written:,}/{total:,} documents ({rate:,.0f}/s)", flush=True)

    pending: set[Future[int]] = set()
    iterator = iter(docs)
    with ThreadPoolExecutor(LOADERS) as pool:
        while chunk := list(itertools.islice(iterator, BATCH)):
            if len(pending) >= 2 * LOADERS:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                count(done)
            pending.add(pool.submit(commit, chunk))
        count(wait(pending).done)
    return time.perf_counter() - started
