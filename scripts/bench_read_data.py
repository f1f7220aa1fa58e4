"""The read benchmark's data: ledgers of many users, as their flows would have written them, loaded in bulk.

For ``scripts/bench_read.py``. The data is bulk benchmark data, written directly with batched
writes of 500 documents by a few loader threads (``bench_helpers.bulk_create``), not through
the ledger (200,000 ledger commits would take an hour and measure the ledger, not the
reads). Each entry is the request its flow would make (a job's price from
``pricing.price_job``, keys from ``credits.core.keys``, packs and plans from the catalog: job
debits, refunds, purchases, plan grants, admin adjustments, purchase reversals), laid out by
``ledger.entry_document`` as the ledger writes it; each user's entries form a gap-free
``seq`` chain with correct ``balance_after``, ``createdAt`` spread over the last 60 days with
some equal timestamps. The users:

* ``bench-reader`` (``--reader-entries``, default 20,000, image and video about evenly),
  whose latest ``--jobs`` job debits, all within the last 30 days, have their
  ``generation_jobs`` documents (older debits name jobs that are not loaded);
* ``bench-export-10k`` and ``bench-export-100k`` (``--export-small``, ``--export-large``),
  the two exports;
* the rest of ``--entries`` spread over ``--users`` (default 2,000) other users.

No balance documents or idempotency records are written: the measured paths read neither.
Nothing to run on its own.
"""

from __future__ import annotations

import random
import string
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bench_helpers import Doc, bulk_create

from credits.core import generation_jobs, keys, ledger
from credits.core.ledger import CreditType, Direction, LedgerRequest, Source
from credits.flows import payments, pricing

READER = "bench-reader"
EXPORT_SMALL = "bench-export-10k"
EXPORT_LARGE = "bench-export-100k"
SEED = 20260601
LEDGER_DAYS = 60
JOB_DAYS = 30
SAME_TIME_SHARE = 0.05
"""Entries that take the previous entry's createdAt (a burst), so ties are exercised."""
FAILED_JOB_SHARE = 0.06

_ID_ALPHABET = string.ascii_letters + string.digits
_INFLUENCERS = {"inf-luna": "Luna", "inf-kai": "Kai", "inf-mira": "Mira", "inf-noah": "Noah", "inf-zara": "Zara"}
_JOB_SOURCES = {
    credit_type: tuple(source for source, kind in generation_jobs.JOB_KINDS.items() if kind.credit_type is credit_type)
    for credit_type in CreditType
}
_MODELS = {
    generation_jobs.Unit.IMAGES: (("flux-pro", "1024x1792"), ("flux-dev", "1024x1024")),
    generation_jobs.Unit.SECONDS: (("kling-1.6", "1080p"), ("veo-2", "720p")),
}
_UNITS = {generation_jobs.Unit.IMAGES: (1, 2, 3, 4, 5, 6, 7, 8), generation_jobs.Unit.SECONDS: (4, 5, 8, 10)}
_PACKS = {
    credit_type: [(price_id, item) for price_id, item in payments.CATALOG.items() if item.credit_type is credit_type]
    for credit_type in CreditType
}
# What a user's ledger is mostly made of: generations, with the occasional top-up.
_KINDS = ("job", "purchase", "grant", "adjustment", "reversal")
_KIND_WEIGHTS = (90, 1, 0.5, 1, 0.2)


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
    """One user's ledger as it is generated: balances and what later entries refer to.

    Each entry is the :class:`~credits.core.ledger.LedgerRequest` its flow would make (a job's
    price from :mod:`credits.flows.pricing`, its key from :mod:`credits.core.keys`, a pack from the
    catalog), laid out by ``ledger.entry_document``.
    """

    uid: str
    rng: random.Random
    balances: Counter[CreditType]
    purchases: dict[CreditType, _Purchase]
    failed_job: tuple[str, LedgerRequest, dict[str, Any]] | None = None
    """A debit whose job fails: its refund is the next entry."""

    def request(self, credit_type: CreditType, source: Source, **fields: Any) -> LedgerRequest:
        defaults: dict[str, Any] = {"direction": Direction.CREDIT, "created_by": "stripe"}
        return LedgerRequest(uid=self.uid, type=credit_type, source=source, **(defaults | fields))

    def job_debit(self, credit_type: CreditType, entry_id: str) -> LedgerRequest:
        rng = self.rng
        source = rng.choice(_JOB_SOURCES[credit_type])
        unit = generation_jobs.JOB_KINDS[source].unit_field
        model, resolution = rng.choice(_MODELS[unit])
        job_id = _auto_id(rng)
        job = {
            "source": str(source),
            "quality": rng.choice(("standard", "hq")),
            unit: rng.choice(_UNITS[unit]),
            "model": model,
            "resolution": resolution,
        }
        price = pricing.price_job(job, pricing.DEFAULT_PRICES)
        influencer = {"influencerId": rng.choice(list(_INFLUENCERS))} if rng.random() < 0.8 else {}
        debit = self.request(
            credit_type,
            source,
            direction=Direction.DEBIT,
            amount=price.amount,
            idempotency_key=keys.job_debit(source, job_id),
            created_by="system",
            reason=f"{source}: {generation_jobs.describe(job)}",
            job_id=job_id,
            meta={**price.meta, **influencer},
        )
        if price.amount <= self.balances[credit_type] and rng.random() < FAILED_JOB_SHARE:
            self.failed_job = (entry_id, debit, job)
        return debit

    def refund(self, debit_id: str, debit: LedgerRequest, job: dict[str, Any]) -> LedgerRequest:
        influencer = {"influencerId": debit.meta["influencerId"]} if "influencerId" in debit.meta else {}
        return self.request(
            debit.type,
            Source.REFUND,
            amount=debit.amount,
            idempotency_key=keys.job_refund(str(debit.job_id)),
            created_by="system",
            reason=f"Refund for failed job: {generation_jobs.describe(job)}",
            job_id=debit.job_id,
            meta={"debitEntryId": debit_id, "jobSource": str(debit.source), **influencer},
        )

    def purchase(self, credit_type: CreditType, entry_id: str) -> LedgerRequest:
        rng = self.rng
        price_id, item = rng.choice([pack for pack in _PACKS[credit_type] if pack[1].kind is payments.ItemKind.PACK])
        payment_id = _auto_id(rng, "pi_", 24)
        invoice_id = _auto_id(rng, "in_", 24)
        self.purchases[credit_type] = _Purchase(entry_id, payment_id, invoice_id, item.credits)
        meta = {
            "stripeEventId": _auto_id(rng, "evt_", 24),
            "checkoutSessionId": _auto_id(rng, "cs_", 24),
            "priceId": price_id,
        }
        return self.request(
            credit_type,
            Source.PURCHASE,
            amount=item.credits,
            idempotency_key=keys.purchase(payment_id),
            reason=f"Purchased {item.name}",
            payment_id=payment_id,
            invoice_id=invoice_id,
            meta=meta,
        )

    def grant(self, credit_type: CreditType, created_at: datetime) -> LedgerRequest:
        rng = self.rng
        _, plan = next(pack for pack in _PACKS[credit_type] if pack[1].kind is payments.ItemKind.PLAN)
        invoice_id = _auto_id(rng, "in_", 24)
        period_start = int(created_at.timestamp())
        meta = {
            "stripeEventId": _auto_id(rng, "evt_", 24),
            "subscriptionId": _auto_id(rng, "sub_", 24),
            "periodStart": period_start,
            "periodEnd": period_start + 30 * 86_400,
        }
        return self.request(
            credit_type,
            Source.SUBSCRIPTION_GRANT,
            amount=plan.credits,
            idempotency_key=keys.subscription_grant(invoice_id),
            reason=f"Credits refreshed ({plan.name})",
            invoice_id=invoice_id,
            meta=meta,
        )

    def adjustment(self, credit_type: CreditType, direction: Direction, amount: int) -> LedgerRequest:
        reason = "Goodwill credit" if direction is Direction.CREDIT else "Correction of a duplicate grant"
        return self.request(
            credit_type,
            Source.ADMIN_ADJUSTMENT,
            direction=direction,
            amount=amount,
            idempotency_key=keys.admin_adjustment("bench-admin", _auto_id(self.rng)),
            created_by="admin:bench-admin",
            reason=reason,
            meta={"adminEmail": "admin@example.com"},
        )

    def reversal(self, credit_type: CreditType, purchase: _Purchase) -> LedgerRequest:
        """A refund of the whole purchase, capped at the balance as the clawback is."""
        rng = self.rng
        charge_id = _auto_id(rng, "ch_", 24)
        meta = {"stripeEventId": _auto_id(rng, "evt_", 24), "chargeId": charge_id, "purchaseEntryId": purchase.entry_id}
        return self.request(
            credit_type,
            Source.PURCHASE_REVERSAL,
            direction=Direction.DEBIT,
            amount=purchase.amount,
            idempotency_key=keys.purchase_reversal(charge_id, purchase.amount * 100),
            reason="Purchase refunded",
            payment_id=purchase.payment_id,
            invoice_id=purchase.invoice_id,
            meta=meta,
            cap_at_balance=True,
        )

    def next_request(self, entry_id: str, created_at: datetime) -> LedgerRequest:
        """What the next entry is, keeping the balance >= 0."""
        rng = self.rng
        if self.failed_job is not None:
            debit_id, debit, job = self.failed_job
            self.failed_job = None
            return self.refund(debit_id, debit, job)
        credit_type = rng.choice(list(CreditType))
        balance = self.balances[credit_type]
        kind = rng.choices(_KINDS, _KIND_WEIGHTS)[0]
        if kind == "job":
            debit = self.job_debit(credit_type, entry_id)
            if debit.amount <= balance:
                return debit
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
                return self.reversal(credit_type, bought)
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
        request = chain.next_request(entry_id, created_at)
        balance = chain.balances[request.type]
        amount = min(request.amount, balance) if request.cap_at_balance else request.amount
        chain.balances[request.type] += amount if request.direction is Direction.CREDIT else -amount
        document = ledger.entry_document(
            request, amount=amount, balance_after=chain.balances[request.type], seq=seq, created_at=created_at
        )
        yield entry_id, document


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
            status = generation_jobs.Status.FAILED
        elif n < 3:
            status = generation_jobs.Status.PROCESSING
        else:
            status = generation_jobs.Status.COMPLETED
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
        unit = generation_jobs.JOB_KINDS[Source(debit["source"])].unit_field
        job[unit] = meta[unit]
        if status is generation_jobs.Status.COMPLETED:
            job["completedAt"] = debit["createdAt"] + timedelta(seconds=rng.randint(5, 90))
            extension = "png" if unit is generation_jobs.Unit.IMAGES else "mp4"
            outputs = range(meta.get("numImages", 1))
            job["outputs"] = [f"gs://bench-outputs/{debit['jobId']}/{k}.{extension}" for k in outputs]
        elif status is generation_jobs.Status.FAILED:
            job["failedAt"] = debit["createdAt"] + timedelta(seconds=rng.randint(5, 90))
            job["error"] = "upstream model timed out"
            job["refundEntryId"] = refund_id
        docs.append((generation_jobs.JOBS, str(debit["jobId"]), job))
    return docs


@dataclass(frozen=True, kw_only=True)
class Sizes:
    entries: int
    reader_entries: int
    export_small: int
    export_large: int
    users: int
    jobs: int

    @property
    def others(self) -> int:
        return self.entries - self.reader_entries - self.export_small - self.export_large


def load_all(sizes: Sizes, now: datetime) -> None:
    rng = random.Random(SEED)
    per_user = Counter(rng.randrange(sizes.users) for _ in range(sizes.others)) if sizes.users else Counter()
    reader = list(user_entries(READER, sizes.reader_entries, now, rng))
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
        f"loading {sizes.entries:,} ledger entries: {READER} {sizes.reader_entries:,} "
        f"({types['image']:,} image, {types['video']:,} video; {recent:,} in the last {JOB_DAYS} days), "
        f"{EXPORT_SMALL} {sizes.export_small:,}, {EXPORT_LARGE} {sizes.export_large:,}, "
        f"{sizes.others:,} over {len(per_user):,} other users; {len(job_docs):,} generation_jobs of {READER}"
    )
    seconds = bulk_create(ledger_docs(), sizes.entries + len(job_docs))
    print(f"loaded in {seconds:.1f} s ({(sizes.entries + len(job_docs)) / seconds:,.0f} documents/s)")
