"""Benchmark the read paths (ledger page, Activity feed, CSV export) against one Firestore emulator.

It starts one official Firestore emulator, loads a ledger of ``--entries`` (default 200,000)
entries and ``--jobs`` (default 2,000) generation jobs, then measures, in the same run:

* latency, side by side: the first ledger page of one user
  (``queries.ledger_page``, 50 entries), the first Activity page of that user
  (``activity.feed``, 30 days, 50 items, merging ``generation_jobs`` and ``credits_ledger``)
  and a bare Firestore query for 50 of the user's entries (no ordering, no conversion).
  After a warm-up of each, the three run in alternating rounds, each round starting with
  the next kind, and the script prints median and p95 of each, the client's own CPU time
  per call, and the ratios ledger/bare and activity/bare against the goal ``ratio <= 3``;
* the CSV export (``export.csv_lines(queries.iter_entries(...))`` written line by line to
  ``os.devnull``) of a user with 10,000 entries and of a user with 100,000 entries, one
  after the other under ``tracemalloc``: rows per second and the peak of Python
  allocations (how far traced memory rose above where it stood when the export began),
  and the ratio peak(100k)/peak(10k) against the goal ``ratio <= 1.2``. ``tracemalloc``
  sees what Python allocates, not the buffers gRPC and protobuf keep in C. It slows the
  client's own work, but the export's wall time goes mostly to waiting for the emulator.

The data is bulk benchmark data, written directly with batched writes of 500 documents by a
few loader threads, not through the ledger (200,000 ledger commits would take an hour and
measure the ledger, not the reads). Every entry has every field ``ledger._entry_data``
writes, with values the flows write (job debits with their price ``meta``, refunds,
purchases, plan grants, admin adjustments, purchase reversals); each user's entries form a
gap-free ``seq`` chain with correct ``balance_after``, ``createdAt`` spread over the last 60
days with some equal timestamps. The users:

* ``bench-reader`` (``--reader-entries``, default 20,000, image and video about evenly),
  whose latest ``--jobs`` job debits, all within the last 30 days, have their
  ``generation_jobs`` documents (older debits name jobs that are not loaded);
* ``bench-export-10k`` and ``bench-export-100k`` (``--export-small``, ``--export-large``),
  the two exports;
* the rest of ``--entries`` spread over ``--users`` (default 2,000) other users.

No balance documents or idempotency records are written: the measured paths read neither.

    bash scripts/setup.sh && source .local/env.sh && "$PYTHON" scripts/bench_read.py

The emulator has no indexes: every query scans the whole collection (about 20 µs per
document on a 2-core machine, so a few seconds per query at 200,000 entries), which makes a
default run take about 45 minutes and makes its latencies say little about production,
where these queries read an index. The client CPU time per call shows the code's own share.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import random
import statistics
import string
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))
sys.path.insert(0, str(ROOT / "tests"))

from emulators import firestore_for  # noqa: E402
from google.cloud.firestore_v1.base_query import FieldFilter  # noqa: E402

from credits import activity, export, jobs, keys, ledger, queries  # noqa: E402
from credits.firestore_client import db  # noqa: E402
from credits.ledger import CreditType, Direction, Source  # noqa: E402

PROJECT = "demo-credits-bench-read"
READER = "bench-reader"
EXPORT_SMALL = "bench-export-10k"
EXPORT_LARGE = "bench-export-100k"
BATCH = 500
LOADERS = 4
"""Batches committed at once while loading; the emulator has the machine's other core."""
IN_FLIGHT = 2 * LOADERS
"""Batches built ahead of the loaders, so the whole load is never held in memory at once."""
PROGRESS_EVERY = 20_000
SEED = 20260601
LEDGER_DAYS = 60
JOB_DAYS = 30
SAME_TIME_SHARE = 0.05
"""Entries that take the previous entry's createdAt (a burst), so ties are exercised."""
FAILED_JOB_SHARE = 0.06
GOAL_LATENCY_RATIO = 3.0
GOAL_MEMORY_RATIO = 1.2
LATENCY_ROUND = 5
WARMUP_EXPORT_ROWS = 1_000

_ID_ALPHABET = string.ascii_letters + string.digits
_INFLUENCERS = {"inf-luna": "Luna", "inf-kai": "Kai", "inf-mira": "Mira", "inf-noah": "Noah", "inf-zara": "Zara"}
_JOB_SOURCES = {
    CreditType.IMAGE: (Source.TEXT2IMAGE, Source.IMAGE2IMAGE),
    CreditType.VIDEO: (Source.TEXT2VIDEO, Source.IMAGE2VIDEO),
}
_MODELS = {
    CreditType.IMAGE: (("flux-pro", "1024x1792"), ("flux-dev", "1024x1024")),
    CreditType.VIDEO: (("kling-1.6", "1080p"), ("veo-2", "720p")),
}
_UNIT_FIELD = {CreditType.IMAGE: "numImages", CreditType.VIDEO: "durationSec"}
_PACKS = {
    CreditType.IMAGE: (
        ("price_pack_image_100", "100 image credits", 100),
        ("price_pack_image_500", "500 image credits", 500),
    ),
    CreditType.VIDEO: (("price_pack_video_60", "60 video credits", 60),),
}
_PLANS = {CreditType.IMAGE: ("Pro plan", 300), CreditType.VIDEO: ("Video plan", 120)}
# What a user's ledger is mostly made of: generations, with the occasional top-up.
_KINDS = ("job", "purchase", "grant", "adjustment", "reversal")
_KIND_WEIGHTS = (90, 1, 0.5, 1, 0.2)

Doc = tuple[str, str, dict[str, Any]]
"""(collection, document id, data)."""


def _auto_id(rng: random.Random, prefix: str = "", k: int = 20) -> str:
    return prefix + "".join(rng.choices(_ID_ALPHABET, k=k))


@dataclass
class _Purchase:
    entry_id: str
    payment_id: str
    invoice_id: str
    amount: int


@dataclass
class _Chain:
    """One user's ledger as it is generated: balances and what later entries refer to."""

    uid: str
    rng: random.Random
    balances: Counter[CreditType]
    purchases: dict[CreditType, _Purchase]
    failed_debit: tuple[str, dict[str, Any]] | None = None

    def job_debit(self, credit_type: CreditType) -> dict[str, Any]:
        rng = self.rng
        source = rng.choice(_JOB_SOURCES[credit_type])
        quality = rng.choice(("standard", "hq"))
        unit_price = 2 if quality == "hq" else 1
        unit_field = _UNIT_FIELD[credit_type]
        units = rng.randint(1, 8) if credit_type is CreditType.IMAGE else rng.choice((4, 5, 8, 10))
        model, resolution = rng.choice(_MODELS[credit_type])
        job_id = _auto_id(rng)
        influencer = {"influencerId": rng.choice(list(_INFLUENCERS))} if rng.random() < 0.8 else {}
        described = jobs.describe({"source": str(source), "quality": quality, unit_field: units})
        return {
            "type": str(credit_type),
            "direction": str(Direction.DEBIT),
            "amount": units * unit_price,
            "source": str(source),
            "reason": f"{source}: {described}",
            "jobId": job_id,
            "paymentId": None,
            "invoiceId": None,
            "meta": {
                "priceVersion": "default-1",
                "unitPrice": unit_price,
                "quality": quality,
                unit_field: units,
                "model": model,
                "resolution": resolution,
                **influencer,
            },
            "createdBy": "system",
            "idempotencyKey": keys.job_debit(source, job_id),
        }

    def refund(self, debit_id: str, debit: dict[str, Any]) -> dict[str, Any]:
        meta = debit["meta"]
        unit_field = "numImages" if "numImages" in meta else "durationSec"
        described = jobs.describe({"source": debit["source"], "quality": meta["quality"], unit_field: meta[unit_field]})
        influencer = {"influencerId": meta["influencerId"]} if "influencerId" in meta else {}
        return {
            "type": debit["type"],
            "direction": str(Direction.CREDIT),
            "amount": debit["amount"],
            "source": str(Source.REFUND),
            "reason": f"Refund for failed job: {described}",
            "jobId": debit["jobId"],
            "paymentId": None,
            "invoiceId": None,
            "meta": {"debitEntryId": debit_id, "jobSource": debit["source"], **influencer},
            "createdBy": "system",
            "idempotencyKey": keys.job_refund(debit["jobId"]),
        }

    def purchase(self, credit_type: CreditType, entry_id: str) -> dict[str, Any]:
        rng = self.rng
        price_id, name, credits = rng.choice(_PACKS[credit_type])
        payment_id = _auto_id(rng, "pi_", 24)
        invoice_id = _auto_id(rng, "in_", 24)
        self.purchases[credit_type] = _Purchase(entry_id, payment_id, invoice_id, credits)
        return {
            "type": str(credit_type),
            "direction": str(Direction.CREDIT),
            "amount": credits,
            "source": str(Source.PURCHASE),
            "reason": f"Purchased {name}",
            "jobId": None,
            "paymentId": payment_id,
            "invoiceId": invoice_id,
            "meta": {
                "stripeEventId": _auto_id(rng, "evt_", 24),
                "checkoutSessionId": _auto_id(rng, "cs_", 24),
                "priceId": price_id,
            },
            "createdBy": "stripe",
            "idempotencyKey": keys.purchase(payment_id),
        }

    def grant(self, credit_type: CreditType, created_at: datetime) -> dict[str, Any]:
        rng = self.rng
        name, credits = _PLANS[credit_type]
        invoice_id = _auto_id(rng, "in_", 24)
        period_start = int(created_at.timestamp())
        return {
            "type": str(credit_type),
            "direction": str(Direction.CREDIT),
            "amount": credits,
            "source": str(Source.SUBSCRIPTION_GRANT),
            "reason": f"Credits refreshed ({name})",
            "jobId": None,
            "paymentId": None,
            "invoiceId": invoice_id,
            "meta": {
                "stripeEventId": _auto_id(rng, "evt_", 24),
                "subscriptionId": _auto_id(rng, "sub_", 24),
                "periodStart": period_start,
                "periodEnd": period_start + 30 * 86_400,
            },
            "createdBy": "stripe",
            "idempotencyKey": keys.subscription_grant(invoice_id),
        }

    def adjustment(self, credit_type: CreditType, direction: Direction, amount: int) -> dict[str, Any]:
        rng = self.rng
        reason = "Goodwill credit" if direction is Direction.CREDIT else "Correction of a duplicate grant"
        return {
            "type": str(credit_type),
            "direction": str(direction),
            "amount": amount,
            "source": str(Source.ADMIN_ADJUSTMENT),
            "reason": reason,
            "jobId": None,
            "paymentId": None,
            "invoiceId": None,
            "meta": {"adminEmail": "admin@example.com"},
            "createdBy": "admin:bench-admin",
            "idempotencyKey": keys.admin_adjustment("bench-admin", _auto_id(rng)),
        }

    def reversal(self, credit_type: CreditType, purchase: _Purchase, amount: int) -> dict[str, Any]:
        rng = self.rng
        charge_id = _auto_id(rng, "ch_", 24)
        meta: dict[str, Any] = {
            "stripeEventId": _auto_id(rng, "evt_", 24),
            "chargeId": charge_id,
            "purchaseEntryId": purchase.entry_id,
        }
        if amount != purchase.amount:
            # A clawback is capped at the balance; the entry records what was asked for.
            meta["requestedAmount"] = purchase.amount
        return {
            "type": str(credit_type),
            "direction": str(Direction.DEBIT),
            "amount": amount,
            "source": str(Source.PURCHASE_REVERSAL),
            "reason": "Purchase refunded",
            "jobId": None,
            "paymentId": purchase.payment_id,
            "invoiceId": purchase.invoice_id,
            "meta": meta,
            "createdBy": "stripe",
            "idempotencyKey": keys.purchase_reversal(charge_id, purchase.amount * 100),
        }

    def next_fields(self, entry_id: str, created_at: datetime) -> dict[str, Any]:
        """The fields of the next entry that depend on what it is, keeping the balance >= 0."""
        rng = self.rng
        if self.failed_debit is not None:
            debit_id, debit = self.failed_debit
            self.failed_debit = None
            return self.refund(debit_id, debit)
        credit_type = rng.choice((CreditType.IMAGE, CreditType.VIDEO))
        balance = self.balances[credit_type]
        kind = rng.choices(_KINDS, _KIND_WEIGHTS)[0]
        if kind == "job":
            fields = self.job_debit(credit_type)
            if fields["amount"] <= balance:
                if rng.random() < FAILED_JOB_SHARE:
                    self.failed_debit = (entry_id, fields)
                return fields
        elif kind == "purchase":
            return self.purchase(credit_type, entry_id)
        elif kind == "adjustment":
            if rng.random() < 0.7:
                return self.adjustment(credit_type, Direction.CREDIT, rng.randint(5, 100))
            if balance > 0:
                return self.adjustment(credit_type, Direction.DEBIT, rng.randint(1, min(balance, 50)))
        elif kind == "reversal":
            bought = self.purchases.pop(credit_type, None)
            if bought is not None and balance > 0:
                return self.reversal(credit_type, bought, min(bought.amount, balance))
        # A debit the balance cannot cover becomes the plan's refresh, as a real user tops up.
        return self.grant(credit_type, created_at)


def user_entries(uid: str, count: int, now: datetime, rng: random.Random) -> Iterator[tuple[str, dict[str, Any]]]:
    """``count`` entries of one user, oldest first: a valid seq and balance_after chain."""
    span_us = LEDGER_DAYS * 86_400_000_000
    times = sorted(now - timedelta(microseconds=rng.randrange(span_us)) for _ in range(count))
    for i in range(1, count):
        if rng.random() < SAME_TIME_SHARE:
            times[i] = times[i - 1]
    chain = _Chain(uid=uid, rng=rng, balances=Counter(), purchases={})
    for seq, created_at in enumerate(times, start=1):
        entry_id = _auto_id(rng)
        fields = chain.next_fields(entry_id, created_at)
        credit_type = CreditType(fields["type"])
        delta = fields["amount"] if fields["direction"] == Direction.CREDIT else -fields["amount"]
        chain.balances[credit_type] += delta
        # The field order of ledger._entry_data.
        yield (
            entry_id,
            {
                "uid": uid,
                "type": fields["type"],
                "direction": fields["direction"],
                "amount": fields["amount"],
                "balance_after": chain.balances[credit_type],
                "seq": seq,
                "source": fields["source"],
                "reason": fields["reason"],
                "jobId": fields["jobId"],
                "paymentId": fields["paymentId"],
                "invoiceId": fields["invoiceId"],
                "meta": fields["meta"],
                "createdAt": created_at,
                "createdBy": fields["createdBy"],
                "idempotencyKey": fields["idempotencyKey"],
            },
        )


def reader_jobs(entries: list[tuple[str, dict[str, Any]]], count: int, now: datetime, rng: random.Random) -> list[Doc]:
    """The generation_jobs of the user's latest ``count`` job debits within the last 30 days."""
    since = now - timedelta(days=JOB_DAYS)
    refunds = {d["jobId"]: entry_id for entry_id, d in entries if d["source"] == Source.REFUND}
    job_sources = {str(s) for pair in _JOB_SOURCES.values() for s in pair}
    debits = [(i, d) for i, d in entries if d["source"] in job_sources and d["createdAt"] >= since][-count:]
    docs: list[Doc] = []
    for n, (debit_id, debit) in enumerate(reversed(debits)):
        meta = debit["meta"]
        refund_id = refunds.get(debit["jobId"])
        if refund_id:
            status = jobs.Status.FAILED
        elif n < 3:
            status = jobs.Status.PROCESSING
        else:
            status = jobs.Status.COMPLETED
        influencer_id = meta.get("influencerId")
        # The pipeline creates the job; the billing trigger writes the debit a moment later.
        created_at = debit["createdAt"] - timedelta(milliseconds=rng.randint(200, 3_000))
        job: dict[str, Any] = {
            "uid": debit["uid"],
            "status": str(status),
            "source": debit["source"],
            "model": meta["model"],
            "resolution": meta["resolution"],
            "quality": meta["quality"],
            "aspectRatio": rng.choice(("9:16", "1:1", "16:9")),
            "influencerId": influencer_id,
            "influencerName": _INFLUENCERS.get(influencer_id or ""),
            "createdAt": created_at,
            "updatedAt": debit["createdAt"],
            "chargedCredits": debit["amount"],
            "debitEntryId": debit_id,
        }
        unit_field = "numImages" if "numImages" in meta else "durationSec"
        job[unit_field] = meta[unit_field]
        if status is jobs.Status.COMPLETED:
            job["completedAt"] = debit["createdAt"] + timedelta(seconds=rng.randint(5, 90))
            extension = "png" if unit_field == "numImages" else "mp4"
            outputs = range(meta.get("numImages", 1))
            job["outputs"] = [f"gs://bench-outputs/{debit['jobId']}/{k}.{extension}" for k in outputs]
        elif status is jobs.Status.FAILED:
            job["failedAt"] = debit["createdAt"] + timedelta(seconds=rng.randint(5, 90))
            job["error"] = "upstream model timed out"
            job["refundEntryId"] = refund_id
        docs.append((jobs.JOBS, str(debit["jobId"]), job))
    return docs


def load(docs: Iterable[Doc], total: int) -> float:
    """Write the documents in batches of 500 by a few threads; return the seconds it took."""
    started = time.perf_counter()
    client = db()

    def commit(chunk: list[Doc]) -> int:
        batch = client.batch()
        for collection, doc_id, data in chunk:
            batch.create(client.collection(collection).document(doc_id), data)
        batch.commit()
        return len(chunk)

    written = 0

    def count(done: Iterable[Future[int]]) -> None:
        nonlocal written
        for future in done:
            before = written
            written += future.result()
            if written // PROGRESS_EVERY > before // PROGRESS_EVERY or written == total:
                rate = written / (time.perf_counter() - started)
                print(f"  {written:,}/{total:,} documents ({rate:,.0f}/s)", flush=True)

    pending: set[Future[int]] = set()
    iterator = iter(docs)
    with ThreadPoolExecutor(LOADERS) as pool:
        while chunk := list(itertools.islice(iterator, BATCH)):
            if len(pending) >= IN_FLIGHT:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                count(done)
            pending.add(pool.submit(commit, chunk))
        count(wait(pending).done)
    return time.perf_counter() - started


@dataclass(frozen=True, kw_only=True)
class Sizes:
    entries: int
    reader: int
    export_small: int
    export_large: int
    users: int
    jobs: int

    @property
    def others(self) -> int:
        return self.entries - self.reader - self.export_small - self.export_large


def load_all(sizes: Sizes, now: datetime) -> None:
    rng = random.Random(SEED)
    per_user = Counter(rng.randrange(sizes.users) for _ in range(sizes.others)) if sizes.users else Counter()
    reader = list(user_entries(READER, sizes.reader, now, rng))
    job_docs = reader_jobs(reader, sizes.jobs, now, rng)

    def ledger_docs() -> Iterator[Doc]:
        for n in range(sizes.users):
            for entry_id, data in user_entries(f"bench-user-{n:05d}", per_user[n], now, rng):
                yield ledger.LEDGER, entry_id, data
        yield from ((ledger.LEDGER, entry_id, data) for entry_id, data in reader)
        for uid, count in ((EXPORT_SMALL, sizes.export_small), (EXPORT_LARGE, sizes.export_large)):
            for entry_id, data in user_entries(uid, count, now, rng):
                yield ledger.LEDGER, entry_id, data
        yield from job_docs

    recent = sum(1 for _, d in reader if d["createdAt"] >= now - timedelta(days=JOB_DAYS))
    types = Counter(d["type"] for _, d in reader)
    print(
        f"loading {sizes.entries:,} ledger entries: {READER} {sizes.reader:,} "
        f"({types['image']:,} image, {types['video']:,} video; {recent:,} in the last {JOB_DAYS} days), "
        f"{EXPORT_SMALL} {sizes.export_small:,}, {EXPORT_LARGE} {sizes.export_large:,}, "
        f"{sizes.others:,} over {len(per_user):,} other users; {len(job_docs):,} generation_jobs of {READER}"
    )
    seconds = load(ledger_docs(), sizes.entries + len(job_docs))
    print(f"loaded in {seconds:.1f} s ({(sizes.entries + len(job_docs)) / seconds:,.0f} documents/s)")


@dataclass(frozen=True, kw_only=True)
class Latency:
    median_ms: float
    p95_ms: float
    cpu_median_ms: float
    """This thread's CPU time per call: the client's own work, without the wait for the emulator."""

    @classmethod
    def of(cls, wall_ns: list[int], cpu_ns: list[int]) -> Latency:
        ms = [s / 1e6 for s in wall_ns]
        return cls(
            median_ms=statistics.median(ms),
            p95_ms=statistics.quantiles(ms, n=20, method="inclusive")[-1],
            cpu_median_ms=statistics.median(cpu_ns) / 1e6,
        )


READER_SCOPE = queries.Scope(field="uid", value=READER)


def ledger_first_page() -> int:
    return len(queries.ledger_page(READER_SCOPE, queries.LedgerFilters(limit=50)).entries)


def activity_first_page() -> int:
    return len(activity.feed(READER, activity.ActivityFilters()).items)


def bare_query() -> int:
    return len(db().collection(ledger.LEDGER).where(filter=FieldFilter("uid", "==", READER)).limit(50).get())


def measure_latencies(warmup: int, calls: int) -> dict[str, Latency]:
    """Alternate rounds of each kind so machine noise hits all of them alike."""
    kinds: list[tuple[str, Callable[[], int]]] = [
        ("ledger", ledger_first_page),
        ("activity", activity_first_page),
        ("bare", bare_query),
    ]
    for _ in range(warmup):
        for _, call in kinds:
            call()
    wall: dict[str, list[int]] = {name: [] for name, _ in kinds}
    cpu: dict[str, list[int]] = {name: [] for name, _ in kinds}
    done = 0
    round_no = 0
    while done < calls:
        size = min(LATENCY_ROUND, calls - done)
        # Each round starts with the next kind, so none always runs right after another.
        shift = round_no % len(kinds)
        for name, call in kinds[shift:] + kinds[:shift]:
            for _ in range(size):
                start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
                call()
                wall[name].append(time.perf_counter_ns() - start)
                cpu[name].append(time.thread_time_ns() - start_cpu)
        done += size
        round_no += 1
    return {name: Latency.of(wall[name], cpu[name]) for name, _ in kinds}


def run_latency(warmup: int, calls: int) -> None:
    page = queries.ledger_page(READER_SCOPE, queries.LedgerFilters(limit=50))
    feed = activity.feed(READER, activity.ActivityFilters())
    kinds = Counter(str(item.kind) for item in feed.items)
    print(
        f"first pages of {READER}: ledger {len(page.entries)} entries (next cursor: {page.next_cursor is not None}), "
        f"activity {len(feed.items)} items ({kinds['generation']} generation, {kinds['credits']} credits), "
        f"bare query {bare_query()} documents"
    )
    print(f"latency: {warmup} warm-up calls of each kind, then {calls} each in rounds of {LATENCY_ROUND}", flush=True)
    results = measure_latencies(warmup, calls)
    labels = {
        "ledger": "ledger page (queries.ledger_page, 50)   ",
        "activity": "activity first page (activity.feed)     ",
        "bare": "bare 50-document query (no ordering)    ",
    }
    for name, label in labels.items():
        result = results[name]
        print(
            f"{label} median {result.median_ms:7.1f} ms  p95 {result.p95_ms:7.1f} ms  "
            f"(client CPU median {result.cpu_median_ms:5.1f} ms)"
        )
    for name in ("ledger", "activity"):
        ratio = results[name].median_ms / results["bare"].median_ms
        verdict = "met" if ratio <= GOAL_LATENCY_RATIO else "not met"
        print(f"ratio {name}/bare {ratio:.2f} (goal <= {GOAL_LATENCY_RATIO:g}: {verdict})")


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
    verdict = "met" if ratio <= GOAL_MEMORY_RATIO else "not met"
    print(f"ratio peak(100k)/peak(10k) {ratio:.2f} (goal <= {GOAL_MEMORY_RATIO:g}: {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=200_000, help="ledger entries in all")
    parser.add_argument("--reader-entries", type=int, default=20_000, help=f"entries of {READER}")
    parser.add_argument("--export-small", type=int, default=10_000, help=f"entries of {EXPORT_SMALL}")
    parser.add_argument("--export-large", type=int, default=100_000, help=f"entries of {EXPORT_LARGE}")
    parser.add_argument("--users", type=int, default=2_000, help="other users the remaining entries belong to")
    parser.add_argument("--jobs", type=int, default=2_000, help=f"generation_jobs of {READER}")
    parser.add_argument("--warmup", type=int, default=30, help="warm-up calls of each kind")
    parser.add_argument("--calls", type=int, default=100, help="measured calls of each kind")
    args = parser.parse_args()
    sizes = Sizes(
        entries=args.entries,
        reader=args.reader_entries,
        export_small=args.export_small,
        export_large=args.export_large,
        users=args.users,
        jobs=args.jobs,
    )
    if min(sizes.reader, sizes.export_small, sizes.export_large) < 1 or sizes.jobs < 0 or sizes.users < 0:
        parser.error("the users' entries must be at least 1, --jobs and --users at least 0")
    if sizes.others < 0 or (sizes.others > 0 and sizes.users == 0):
        parser.error("--entries must cover the named users' entries, and entries left over need --users")
    if args.warmup < 0 or args.calls < 2:
        parser.error("--warmup must be at least 0 and --calls at least 2")

    with firestore_for(ROOT, PROJECT):
        load_all(sizes, datetime.now(UTC))
        run_latency(args.warmup, args.calls)
        run_export(sizes)


if __name__ == "__main__":
    main()
