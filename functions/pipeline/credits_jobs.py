"""Helpers for a generation pipeline in Python: write ``generation_jobs/{jobId}`` as the credits ledger bills it.

The pipeline is the host app's code, not the ledger's; this one module is for it to copy or
import. It needs only ``google-cloud-firestore`` (and its ``google-api-core``), takes the
pipeline's own Firestore client and the jobs' collection (``jobs.collection`` of
``functions/credits.config.yaml``), and is not deployed with the ledger's functions.

::

    from google.cloud import firestore
    import credits_jobs

    db = firestore.Client()
    credits_jobs.queue_job(db, job_id, uid=uid, source="text2image", quality="hq", num_images=4,
                           model="flux-1", aspect_ratio="9:16", influencer_id="inf-luna")
    credits_jobs.start_job(db, job_id)            # TransitionRefused if billing failed it meanwhile
    credits_jobs.complete_job(db, job_id, outputs=["gs://bucket/out/1.png", ...])
    # or: credits_jobs.fail_job(db, job_id, error="model crashed")   (the ledger refunds the job)

Each function writes the documented shape (``docs/generation_job.schema.json``, also served at
``GET /api/jobs/schema``) with server timestamps: ``createdAt`` and ``updatedAt`` when a job is
queued, ``updatedAt`` and ``completedAt`` or ``failedAt`` when it moves. A job moves forward only
(:data:`TRANSITIONS`): queued to processing, completed or failed; processing to completed or
failed; completed and failed are final. A move reads the job, checks the move against its
current status, and updates it only if the document is still the one read (a
``last_update_time`` precondition), so a concurrent change, such as the ledger failing a job
the balance cannot cover, is never overwritten: after such a change the move is checked again
against the job as it is now. Each refusal is a typed :class:`JobError`.

The ledger bills asynchronously (a Firestore trigger): a queued job's price is reserved just
after :func:`queue_job`, and a job the balance cannot cover (or that breaks the contract) is set
``failed`` with a ``failureReason``. A pipeline that must not start unpaid work waits until the
job has a ``debitEntryId`` (or is failed) before it starts; :func:`start_job` refuses to start a
job the ledger failed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore

DEFAULT_COLLECTION = "generation_jobs"
"""The ledger's default ``jobs.collection``; pass yours if the configuration names another."""

QUEUED, PROCESSING, COMPLETED, FAILED = "queued", "processing", "completed", "failed"
TRANSITIONS: Mapping[str, tuple[str, ...]] = {
    QUEUED: (PROCESSING, COMPLETED, FAILED),
    PROCESSING: (COMPLETED, FAILED),
    COMPLETED: (),
    FAILED: (),
}
"""For each status, the statuses a job may move to (``x-status-transitions`` of the schema)."""

OWN_FIELDS = frozenset(
    {
        "uid",
        "status",
        "source",
        "quality",
        "numImages",
        "durationSec",
        "createdAt",
        "updatedAt",
        "completedAt",
        "failedAt",
        "outputs",
        "error",
    }
)
"""Fields these helpers set themselves: not to be passed as extra fields."""
BILLING_FIELDS = frozenset({"debitEntryId", "refundEntryId", "chargedCredits", "failureReason", "billingError"})
"""Fields only the ledger writes."""

MAX_ATTEMPTS = 5
"""How many times a move reads the job again after a concurrent change before giving up."""

_UID = re.compile(r"[^/\s]{1,128}")


class JobError(Exception):
    """A job write these helpers refused; nothing was written."""

    def __init__(self, job_id: str, message: str) -> None:
        super().__init__(f"job {job_id}: {message}")
        self.job_id = job_id


class JobExists(JobError):
    """:func:`queue_job` of a job id that exists already."""


class JobNotFound(JobError):
    """A move of a job that does not exist."""


class TransitionRefused(JobError):
    """A move the contract does not allow from the job's current status."""

    def __init__(self, job_id: str, *, current: object, requested: str, job: Mapping[str, Any]) -> None:
        allowed = TRANSITIONS.get(current, ()) if isinstance(current, str) else ()
        reason = job.get("failureReason")
        why = f" (failureReason: {reason})" if reason else ""
        super().__init__(
            job_id,
            f"cannot move from {current!r}{why} to {requested!r}; allowed: {', '.join(allowed) or 'none (final)'}",
        )
        self.current = current
        """The job's status as read."""
        self.requested = requested
        self.failure_reason: str | None = reason if isinstance(reason, str) else None
        """``insufficient_credits`` or ``invalid_job`` when the ledger failed the job."""
        self.billing_error: str | None = job.get("billingError") if isinstance(job.get("billingError"), str) else None


class JobChanged(JobError):
    """The job kept changing between its read and the update, :data:`MAX_ATTEMPTS` times; nothing was written."""


def queue_job(
    db: firestore.Client,
    job_id: str,
    *,
    uid: str,
    source: str,
    quality: str,
    num_images: int | None = None,
    duration_sec: int | None = None,
    model: str | None = None,
    resolution: str | None = None,
    aspect_ratio: str | None = None,
    influencer_id: str | None = None,
    influencer_name: str | None = None,
    collection: str = DEFAULT_COLLECTION,
    **extra: Any,
) -> None:
    """Create the job, queued. The ledger reserves its price on this write.

    ``num_images`` for a source that counts images, ``duration_sec`` for one that counts
    seconds (the configuration's job kinds say which, and the most a job may have). ``extra``
    are the pipeline's own fields, written as given. Refuses a job id that exists
    (:class:`JobExists`) and arguments outside the contract (``ValueError``).
    """
    if not isinstance(uid, str) or not _UID.fullmatch(uid):
        raise ValueError("uid must be 1-128 characters without '/' or whitespace")
    for name, value in (("source", source), ("quality", quality)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string")
    counts = {
        name: value for name, value in (("numImages", num_images), ("durationSec", duration_sec)) if value is not None
    }
    if len(counts) != 1:
        raise ValueError("give exactly one of num_images (image sources) and duration_sec (video sources)")
    [(count_field, count)] = counts.items()
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"{count_field} must be a positive integer")
    details = {
        "model": model,
        "resolution": resolution,
        "aspectRatio": aspect_ratio,
        "influencerId": influencer_id,
        "influencerName": influencer_name,
    }
    document = {
        "uid": uid,
        "status": QUEUED,
        "source": source,
        "quality": quality,
        count_field: count,
        **{name: value for name, value in details.items() if value is not None},
        **_extra(extra, also_own=details),
        "createdAt": firestore.SERVER_TIMESTAMP,
        "updatedAt": firestore.SERVER_TIMESTAMP,
    }
    try:
        _ref(db, collection, job_id).create(document)
    except gexc.AlreadyExists:
        raise JobExists(job_id, "exists already; a job is queued once") from None


def start_job(db: firestore.Client, job_id: str, *, collection: str = DEFAULT_COLLECTION, **extra: Any) -> None:
    """Move a queued job to processing."""
    _move(db, collection, job_id, PROCESSING, _extra(extra))


def complete_job(
    db: firestore.Client,
    job_id: str,
    *,
    outputs: Sequence[str],
    collection: str = DEFAULT_COLLECTION,
    **extra: Any,
) -> None:
    """Move a queued or processing job to completed, with where its results are. The ledger keeps its debit."""
    if isinstance(outputs, str) or not all(isinstance(output, str) for output in outputs):
        raise ValueError("outputs must be a list of strings")
    fields = {"outputs": list(outputs), "completedAt": firestore.SERVER_TIMESTAMP, **_extra(extra)}
    _move(db, collection, job_id, COMPLETED, fields)


def fail_job(
    db: firestore.Client, job_id: str, *, error: str, collection: str = DEFAULT_COLLECTION, **extra: Any
) -> None:
    """Move a queued or processing job to failed, saying why. The ledger refunds its debit."""
    if not isinstance(error, str) or not error:
        raise ValueError("error must be a non-empty string")
    _move(db, collection, job_id, FAILED, {"error": error, "failedAt": firestore.SERVER_TIMESTAMP, **_extra(extra)})


def _move(db: firestore.Client, collection: str, job_id: str, status: str, fields: Mapping[str, Any]) -> None:
    ref = _ref(db, collection, job_id)
    for _ in range(MAX_ATTEMPTS):
        snap = ref.get()
        if not snap.exists:
            raise JobNotFound(job_id, "does not exist; queue it first")
        job = snap.to_dict() or {}
        current = job.get("status")
        if not isinstance(current, str) or status not in TRANSITIONS.get(current, ()):
            raise TransitionRefused(job_id, current=current, requested=status, job=job)
        try:
            ref.update(
                {**fields, "status": status, "updatedAt": firestore.SERVER_TIMESTAMP},
                option=db.write_option(last_update_time=snap.update_time),
            )
        except gexc.FailedPrecondition:
            continue  # written since the read (often the ledger's billing fields): check the move again
        return
    raise JobChanged(job_id, f"changed concurrently {MAX_ATTEMPTS} times; not moved to {status!r}")


def _extra(extra: Mapping[str, Any], *, also_own: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The pipeline's own fields, refusing those of the contract these helpers or the ledger write."""
    taken = sorted((OWN_FIELDS | BILLING_FIELDS | set(also_own or ())) & set(extra))
    if taken:
        raise ValueError(f"not extra fields (set by these helpers or the ledger): {', '.join(taken)}")
    return dict(extra)


def _ref(db: firestore.Client, collection: str, job_id: str) -> firestore.DocumentReference:
    if not isinstance(job_id, str) or not job_id or "/" in job_id:
        raise ValueError("job_id must be a non-empty string without '/'")
    return db.collection(collection).document(job_id)
