"""Billing of generation jobs: reserve at queued, keep at completed, refund at failed.

The generation pipeline writes ``generation_jobs/{jobId}``; a Firestore trigger calls
:func:`bill_job` on every write of the document. Deliveries are at-least-once and
unordered, so the trigger's payload is not trusted for the job's state: ``bill_job`` reads
the job as it is now and brings its billing in line with it.

* queued, processing or completed, not yet charged: one debit with key
  ``debit:<source>:<jobId>`` (the price of :mod:`credits.flows.pricing`), committed together with
  the job's ``debitEntryId`` and ``chargedCredits``. A queued job the balance cannot cover
  is marked ``failed`` with ``failureReason: insufficient_credits`` (the ledger records the
  anomaly), so the pipeline never starts work that is not paid for.
* failed, with a debit: one refund with key ``credit:refund:<jobId>``, committed together
  with the job's ``refundEntryId``. A failed job without a debit costs nothing.
* a job that breaks the contract (:func:`credits.core.generation_jobs.violation`: ``uid``,
  ``status``, ``source``, the count, ``quality``) is never charged: no entry, its
  ``billingError`` names the field (``invalid_job: numImages: must be an integer from 1 to
  16``), an ``invalid_job`` anomaly (one per job) tells an operator, and a queued or
  processing job is failed with ``failureReason: invalid_job``. A status that is not one of
  the four is left as it is.

Every billing change writes the job document, which fires the trigger once more; that run
sees the job as charged or refunded and does nothing. Because the last write of a job is
always followed by a run that reads the final state, a job whose events arrive out of order
still nets out: one debit, plus one refund if it failed. A refund is final: a job that
reports ``completed`` after its refund is not charged again; an anomaly flags it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from google.cloud import firestore

from credits.core import anomalies, generation_jobs, keys, ledger, logs
from credits.core.errors import IdempotencyConflict, InsufficientCredits, InvalidArgument
from credits.core.generation_jobs import Status, Violation, describe, job_ref
from credits.core.ledger import Direction, LedgerEntry, LedgerRequest, Source
from credits.flows import pricing


class Action(enum.StrEnum):
    CHARGED = "charged"
    REFUNDED = "refunded"
    REJECTED = "rejected"
    """The balance did not cover the job; nothing was written to the ledger."""
    INVALID = "invalid"
    """The job cannot be priced; nothing was written to the ledger."""
    NOTHING = "nothing"


@dataclass(frozen=True, kw_only=True)
class Billing:
    """What :func:`bill_job` did."""

    action: Action
    entry: LedgerEntry | None = None
    """The entry written or found: the debit for CHARGED, the refund for REFUNDED."""
    replayed: bool = False
    """True when the entry existed already and nothing new was written."""


def bill_job(job_id: str) -> Billing:
    """Bring one job's billing in line with its current status. Safe to call any number of times."""
    snap = job_ref(job_id).get()
    if not snap.exists:
        return Billing(action=Action.NOTHING)
    job = snap.to_dict() or {}
    status = job.get("status")
    if status in (Status.QUEUED, Status.PROCESSING, Status.COMPLETED):
        return _charge(job_id, job)
    if status == Status.FAILED:
        return _refund(job_id, job)
    # Not a status of the contract: nothing to charge or refund, and no status to guess.
    if job.get("billingError"):
        return Billing(action=Action.NOTHING)
    return _mark_invalid(job_id, job, generation_jobs.violation(job))


def _charge(job_id: str, job: Mapping[str, Any]) -> Billing:
    if job.get("debitEntryId"):
        if job.get("refundEntryId") and job.get("status") == Status.COMPLETED:
            anomalies.record(
                anomalies.Kind.JOB_COMPLETED_AFTER_REFUND,
                dedupe_key=job_id,
                uid=job.get("uid"),
                jobId=job_id,
                debitEntryId=job["debitEntryId"],
                refundEntryId=job["refundEntryId"],
            )
        return Billing(action=Action.NOTHING)
    if job.get("billingError"):
        return Billing(action=Action.NOTHING)
    table = pricing.current_table()
    broken = generation_jobs.violation(job, qualities={str(t): list(units) for t, units in table.units.items()})
    if broken is not None:
        return _mark_invalid(job_id, job, broken)
    try:
        price = pricing.price_job(job, table)
        request = LedgerRequest(
            uid=job.get("uid"),  # type: ignore[arg-type]  # validated by the ledger
            type=price.credit_type,
            direction=Direction.DEBIT,
            amount=price.amount,
            source=price.source,
            idempotency_key=keys.job_debit(price.source, job_id),
            created_by="system",
            reason=f"{price.source}: {describe(job)}",
            job_id=job_id,
            meta={**price.meta, **_influencer(job)},
        )
        ledger.validate(request)
    except InvalidArgument as exc:
        return _mark_invalid(job_id, job, _violation_of(exc))
    ref = job_ref(job_id)
    try:
        write = ledger.write_ledger_entry(
            request,
            also=lambda entry_id: [(ref, {"debitEntryId": entry_id, "chargedCredits": price.amount})],
        )
    except IdempotencyConflict:
        # The job was charged under another price (the table changed in between): that charge stands.
        existing = ledger.find_entry_by_key(request.idempotency_key)
        if existing is None:
            raise
        ref.set({"debitEntryId": existing.id, "chargedCredits": existing.amount}, merge=True)
        return Billing(action=Action.CHARGED, entry=existing, replayed=True)
    except InsufficientCredits:
        return _mark_unpaid(job_id, job)
    if write.replayed:
        ref.set({"debitEntryId": write.entry.id, "chargedCredits": write.entry.amount}, merge=True)
    return Billing(action=Action.CHARGED, entry=write.entry, replayed=write.replayed)


def _refund(job_id: str, job: Mapping[str, Any]) -> Billing:
    if job.get("refundEntryId"):
        return Billing(action=Action.NOTHING)
    debit = _find_debit(job_id, job)
    if debit is None:
        return Billing(action=Action.NOTHING)
    ref = job_ref(job_id)
    write = ledger.write_ledger_entry(
        LedgerRequest(
            uid=debit.uid,
            type=debit.type,
            direction=Direction.CREDIT,
            amount=debit.amount,
            source=Source.REFUND,
            idempotency_key=keys.job_refund(job_id),
            created_by="system",
            reason=f"Refund for failed job: {describe(job)}",
            job_id=job_id,
            meta={"debitEntryId": debit.id, "jobSource": debit.source.value, **_influencer(job)},
            gives_back=debit.paid_by,
        ),
        also=lambda entry_id: [(ref, {"refundEntryId": entry_id})],
    )
    if write.replayed:
        ref.set({"refundEntryId": write.entry.id}, merge=True)
    return Billing(action=Action.REFUNDED, entry=write.entry, replayed=write.replayed)


def _find_debit(job_id: str, job: Mapping[str, Any]) -> LedgerEntry | None:
    """The job's debit: by the id on the job, else by its key (the pipeline may have rewritten the job)."""
    if job.get("debitEntryId"):
        entry = ledger.get_entry(str(job["debitEntryId"]))
        if entry is not None and entry.job_id == job_id:
            return entry
    source = generation_jobs.job_source(job.get("source"))
    return None if source is None else ledger.find_entry_by_key(keys.job_debit(source, job_id))


def _mark_unpaid(job_id: str, job: Mapping[str, Any]) -> Billing:
    ref = job_ref(job_id)
    if job.get("status") == Status.COMPLETED:
        # The work is done and cannot be undone: flag it for an operator (the ledger
        # recorded the anomaly) rather than pretend it failed.
        ref.set({"billingError": "insufficient_credits"}, merge=True)
    else:
        ref.set(
            {
                "status": Status.FAILED.value,
                "failureReason": "insufficient_credits",
                "failedAt": firestore.SERVER_TIMESTAMP,
            },
            merge=True,
        )
    return Billing(action=Action.REJECTED)


def _mark_invalid(job_id: str, job: Mapping[str, Any], broken: Violation | None) -> Billing:
    """No entry for a job that breaks the contract: its ``billingError`` names the field, an
    anomaly tells an operator, and a job not yet done is failed (an unknown status is kept)."""
    broken = broken or Violation("job", "does not keep the job contract")
    uid = job.get("uid") if isinstance(job.get("uid"), str) else None
    logs.warning(
        "job breaks the job contract",
        event="job_invalid",
        jobId=job_id,
        uid=uid,
        field=broken.field,
        error=broken.message,
    )
    anomalies.record(
        anomalies.Kind.INVALID_JOB,
        dedupe_key=job_id,
        uid=uid,
        jobId=job_id,
        field=broken.field,
        message=broken.message,
        status=job.get("status") if isinstance(job.get("status"), str) else None,
    )
    fields: dict[str, Any] = {"billingError": f"invalid_job: {broken}"}
    if job.get("status") in (Status.QUEUED, Status.PROCESSING):
        fields |= {
            "status": Status.FAILED.value,
            "failureReason": "invalid_job",
            "failedAt": firestore.SERVER_TIMESTAMP,
        }
    job_ref(job_id).set(fields, merge=True)
    return Billing(action=Action.INVALID)


def _violation_of(error: InvalidArgument) -> Violation:
    """An error of pricing or of the ledger's checks as a :class:`Violation` (``numImages must be …``
    becomes field ``numImages``, message ``must be …``)."""
    field = str(error.details.get("field") or "job")
    return Violation(field, error.message.removeprefix(f"{field} "))


def _influencer(job: Mapping[str, Any]) -> dict[str, Any]:
    # On the entry too, so that the Activity feed can filter credit items by influencer.
    return {"influencerId": job["influencerId"]} if isinstance(job.get("influencerId"), str) else {}
