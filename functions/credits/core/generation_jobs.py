"""The generation job document, as the pipeline writes ``generation_jobs/{jobId}``.

What every part of the ledger knows of a job: where it lives, its statuses, its kinds (for
each job ``source``, which balance it spends and what its price counts: images or seconds),
and how a job is described in words. What a job costs is :mod:`credits.flows.pricing`;
billing it is :mod:`credits.flows.jobs`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from google.cloud.firestore import DocumentReference

from credits.core.firestore_client import db
from credits.core.ledger import DEFAULT_CREDIT_TYPE, CreditType, Source
from credits.core.settings import SETTINGS

JOBS = SETTINGS.jobs.collection
"""The collection the pipeline writes its jobs to (``jobs.collection`` of the configuration file)."""


class Status(enum.StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


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
