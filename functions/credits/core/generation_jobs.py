"""The generation job document, as the pipeline writes ``generation_jobs/{jobId}``.

What every part of the ledger knows of a job: where it lives, its statuses, its kinds (for
each job ``source``, which balance it spends and what its price counts: images or seconds),
and how a job is described in words. What a job costs is :mod:`credits.flows.pricing`;
billing it is :mod:`credits.flows.jobs`.

**The job contract.** The pipeline is the host's code, so the document's shape is published:
:func:`job_schema` is a JSON Schema (2020-12) of it, built from the configuration file (the
job kinds decide the ``source`` values, the count field each needs and its maximum; the price
table the qualities), with the allowed status changes as the extension keyword
``x-status-transitions`` (:data:`TRANSITIONS`). It ships as ``docs/generation_job.schema.json``
(``python scripts/check_config.py --write-job-schema`` writes it) and is served at
``GET /api/jobs/schema``. :func:`violation` checks the fields billing relies on (``uid``,
``status``, ``source``, the count, ``quality``) as the schema does, and names the first one a
job breaks.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from google.cloud.firestore import DocumentReference

from credits.core.firestore_client import db
from credits.core.ledger import DEFAULT_CREDIT_TYPE, CreditType, Source
from credits.core.settings import SETTINGS, Settings

JOBS = SETTINGS.jobs.collection
"""The collection the pipeline writes its jobs to (``jobs.collection`` of the configuration file)."""


class Status(enum.StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


TRANSITIONS: Mapping[Status, tuple[Status, ...]] = {
    Status.QUEUED: (Status.PROCESSING, Status.COMPLETED, Status.FAILED),
    Status.PROCESSING: (Status.COMPLETED, Status.FAILED),
    Status.COMPLETED: (),
    Status.FAILED: (),
}
"""The status changes the contract allows: forward only, and completed and failed are final.

Billing reads a job's current status, not its history, so it accepts a job first seen in any
status (one that arrives already completed is charged then); it does not undo a final status: a
refunded job that reports completed is not charged again (an anomaly says so)."""

UID = re.compile(r"[^/\s]{1,128}")
"""A job's ``uid`` (whole string): 1-128 characters, no ``/`` and no whitespace, as the ledger takes it."""


def job_ref(job_id: str) -> DocumentReference:
    ref: DocumentReference = db().collection(JOBS).document(job_id)
    return ref


class Unit(enum.StrEnum):
    """What a job's price counts; the value is the job field that holds the count."""

    IMAGES = "numImages"
    SECONDS = "durationSec"

    def describe(self, count: object, credit_type: CreditType) -> str:
        """``5 images``, ``8s video``: how many units, in words."""
        if self is Unit.SECONDS:
            return f"{count}s {credit_type}"
        return f"{count} image{'' if count == 1 else 's'}"


@dataclass(frozen=True, kw_only=True)
class JobKind:
    """How one job source is priced: the one place that says which balance a job spends."""

    credit_type: CreditType
    """Which balance the job spends."""
    unit_field: Unit
    """What the price counts, and the job field that holds the count."""
    max_units: int
    """The most units one job may have."""


JOB_KINDS: Mapping[Source, JobKind] = {
    Source(source): JobKind(
        credit_type=CreditType(kind.credit_type), unit_field=Unit(kind.unit), max_units=kind.max_units
    )
    for source, kind in SETTINGS.job_kinds.items()
}
"""Every job source the pipeline may write, and how it is priced (``job_kinds`` of the
configuration file). A job whose source is not here cannot be priced, and is never charged."""


def job_source(value: object) -> Source | None:
    """A job's ``source`` field as a :class:`Source` of :data:`JOB_KINDS`; None when it is not one."""
    try:
        source = Source(str(value))
    except ValueError:
        return None
    return source if source in JOB_KINDS else None


def job_kind(value: object) -> JobKind | None:
    """The kind of a job's ``source`` field, or None when it is not a job source."""
    source = job_source(value)
    return None if source is None else JOB_KINDS[source]


def describe(job: Mapping[str, Any]) -> str:
    """A short human description: ``5 images (HQ)``, ``8s video (standard)``, in its kind's units."""
    quality = "HQ" if job.get("quality") == "hq" else str(job.get("quality", "")).lower() or "?"
    kind = job_kind(job.get("source"))
    unit = kind.unit_field if kind else Unit.IMAGES
    return f"{unit.describe(job.get(unit), credit_type(job))} ({quality})"


def credit_type(job: Mapping[str, Any]) -> CreditType:
    """The balance a job spends: its source's kind in :data:`JOB_KINDS` says.

    A job whose source is not a job source (never charged, or rewritten by the pipeline after
    its charge) is shown as of the default type; its entries keep their own type.
    """
    kind = job_kind(job.get("source"))
    return kind.credit_type if kind else DEFAULT_CREDIT_TYPE


@dataclass(frozen=True)
class Violation:
    """The first field of a job that breaks the contract, and what is wrong with it."""

    field: str
    message: str
    """What is wrong, without the field's name: ``must be an integer from 1 to 16``."""

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def violation(job: Mapping[str, Any], *, qualities: Mapping[str, Collection[str]] | None = None) -> Violation | None:
    """The first field billing relies on that ``job`` breaks, in the order ``uid``, ``status``,
    ``source``, the source's count field, ``quality``; None when they keep the contract.

    ``qualities`` are the qualities per credit type of the price table billing uses (by
    default the configuration file's, those of :func:`job_schema`). The job's other fields
    describe it and do not decide what it costs: billing does not check them.
    """
    uid = job.get("uid")
    if not isinstance(uid, str) or not UID.fullmatch(uid):
        return Violation("uid", "must be 1-128 characters without '/' or whitespace")
    status = job.get("status")
    if not isinstance(status, str) or status not in tuple(Status):
        return Violation("status", f"must be one of {', '.join(Status)}")
    source = job_source(job.get("source"))
    if source is None or not isinstance(job.get("source"), str):
        return Violation("source", f"must be one of {', '.join(JOB_KINDS)}")
    kind = JOB_KINDS[source]
    units = job.get(kind.unit_field)
    if isinstance(units, bool) or not isinstance(units, int) or not 0 < units <= kind.max_units:
        return Violation(str(kind.unit_field), f"must be an integer from 1 to {kind.max_units}")
    allowed = (qualities if qualities is not None else SETTINGS.prices.units).get(str(kind.credit_type), ())
    quality = job.get("quality")
    if not isinstance(quality, str) or quality not in allowed:
        return Violation("quality", f"must be one of {', '.join(allowed)}")
    return None


TIMESTAMP = "timestamp"
"""The value of the extension keyword ``x-firestore-type`` on a field that holds a Firestore timestamp."""


def job_schema(settings: Settings = SETTINGS) -> dict[str, Any]:
    """The JSON Schema (2020-12) of a ``generation_jobs`` document under ``settings``.

    Built from the configuration: the job kinds give the ``source`` values and, per source, the
    count field it requires and its maximum (``allOf`` of ``if``/``then``); the price table
    gives the qualities (per source, those of the balance it spends). Timestamps are Firestore
    values, not JSON: they carry ``x-firestore-type: timestamp`` and no JSON type. The fields
    the ledger writes are ``readOnly``. ``x-status-transitions`` lists, for each status, the
    statuses a job may change to. Fields the schema does not name are the pipeline's own.
    """
    kinds = settings.job_kinds
    prices = settings.prices.units
    spent = list(dict.fromkeys(kind.credit_type for kind in kinds.values()))
    qualities = list(dict.fromkeys(q for credit_type in spent for q in prices.get(credit_type, {})))
    counts: dict[str, dict[str, Any]] = {}
    for unit in Unit:
        maxima = [kind.max_units for kind in kinds.values() if kind.unit == unit]
        if maxima:
            what = "images" if unit is Unit.IMAGES else "seconds of video"
            counts[str(unit)] = {
                "type": "integer",
                "minimum": 1,
                "maximum": max(maxima),
                "description": f"How many {what} the job makes: what its price counts, for the sources that"
                " count it (each source's maximum is in allOf). A Firestore integer: 5, not 5.0.",
            }

    def text(description: str, **more: Any) -> dict[str, Any]:
        return {"type": ["string", "null"], "description": description, **more}

    def timestamp(description: str) -> dict[str, Any]:
        return {"x-firestore-type": TIMESTAMP, "description": f"A Firestore timestamp: {description}"}

    def billing(schema: dict[str, Any], description: str) -> dict[str, Any]:
        return {
            **schema,
            "readOnly": True,
            "description": f"Written by the credits ledger; never by the pipeline. {description}",
        }

    properties: dict[str, Any] = {
        "uid": {
            "type": "string",
            "minLength": 1,
            "maxLength": 128,
            "pattern": r"^[^/\s]+$",
            "description": "The Firebase Auth uid of the user the job is for, who pays for it: 1-128 characters,"
            " no '/' and no whitespace.",
        },
        "status": {
            "enum": [str(status) for status in Status],
            "description": "Where the job is. A job is created queued (or, when the work ran synchronously,"
            " completed) and moves forward only: x-status-transitions. queued, processing or completed: its"
            " price is debited once; failed: a debit it had is refunded once.",
        },
        "source": {
            "enum": list(kinds),
            "description": "The job's kind (job_kinds of the configuration): which balance it spends and"
            " which count field its price counts.",
        },
        "quality": {
            "enum": qualities,
            "description": "The unit price's quality (the price table of the configuration; per source, the"
            " qualities of the balance it spends).",
        },
        **counts,
        "model": text("The model that makes the outputs; recorded on the debit (meta.model)."),
        "resolution": text("The outputs' resolution, e.g. 1024x1024; recorded on the debit (meta.resolution)."),
        "aspectRatio": text("The outputs' aspect ratio, e.g. 9:16; shown in Activity."),
        "influencerId": text("The AI influencer the job is for; Activity filters by it (also on the debit's meta)."),
        "influencerName": text("The influencer's name, as Activity shows it."),
        "createdAt": timestamp("when the job was created (firestore.SERVER_TIMESTAMP); Activity dates the job by it."),
        "updatedAt": timestamp(
            "when the job last changed. Set it on every status change: the job billing sweeper finds the jobs"
            " whose billing a lost trigger delivery left undone by it."
        ),
        "completedAt": timestamp("when the job completed."),
        "failedAt": timestamp("when the job failed (the ledger sets it when it fails a job it cannot bill)."),
        "error": text("Why the job failed, in words, for the user and support."),
        "outputs": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Where the results are (URLs or storage paths), once completed.",
        },
        "debitEntryId": billing(
            {"type": "string"}, "The id of the job's debit in credits_ledger, written in the same commit."
        ),
        "refundEntryId": billing(
            {"type": "string"}, "The id of the refund of a failed job's debit, written in the same commit."
        ),
        "chargedCredits": billing(
            {"type": "integer", "minimum": 1}, "The credits the debit took (of the balance the source spends)."
        ),
        "failureReason": billing(
            {"enum": ["insufficient_credits", "invalid_job"]},
            "Why the ledger failed a queued or processing job: the balance could not cover it, or the job"
            " breaks this contract (billingError names the field).",
        ),
        "billingError": billing(
            {"type": "string", "pattern": "^(insufficient_credits|invalid_job: .+)$"},
            "Why the job was not charged: insufficient_credits (a job that arrived completed), or"
            " 'invalid_job: <field>: <what is wrong>'. A job with a billingError is never charged; an"
            " anomaly tells an operator.",
        ),
    }
    rules = []
    for source, kind in kinds.items():
        count = str(kind.unit)
        rules.append(
            {
                "if": {"properties": {"source": {"const": source}}, "required": ["source"]},
                "then": {
                    "required": [count],
                    "properties": {
                        count: {"maximum": kind.max_units},
                        "quality": {"enum": list(prices.get(kind.credit_type, {}))},
                    },
                },
            }
        )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Generation job",
        "description": f"A document {settings.jobs.collection}/{{jobId}}, written by the generation pipeline and"
        " billed by the credits ledger. Generated from the credits configuration file by"
        " scripts/check_config.py --write-job-schema: do not edit by hand.",
        "type": "object",
        "required": ["uid", "status", "source", "quality"],
        "properties": properties,
        "allOf": rules,
        "x-collection": settings.jobs.collection,
        "x-status-transitions": {str(status): [str(to) for to in TRANSITIONS[status]] for status in Status},
    }
