"""Anomalies: things an operator should look at, one record shape for all of them.

``anomalies/{id}`` holds ``kind``, ``createdAt``, ``uid`` and whatever amounts and ids
describe the case (attempted amount and balance of a blocked debit, the event id of a
duplicate webhook, the expected and found values of a reconciliation mismatch), plus a
free ``context`` map. A ``dedupe_key`` makes the id deterministic, so a replayed event
records its anomaly once.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore import DocumentSnapshot

from credits.core.firestore_client import db
from credits.core.query_spec import Position, QuerySpec

ANOMALIES = "anomalies"


class Kind(enum.StrEnum):
    INSUFFICIENT_CREDITS = "insufficient_credits"
    DUPLICATE_WEBHOOK = "duplicate_webhook"
    UNATTRIBUTABLE_WEBHOOK = "unattributable_webhook"
    RECONCILIATION_MISMATCH = "reconciliation_mismatch"
    PARTIAL_REVERSAL = "partial_reversal"
    JOB_COMPLETED_AFTER_REFUND = "job_completed_after_refund"
    JOB_BILLING_REPAIRED = "job_billing_repaired"
    INVALID_JOB = "invalid_job"
    """A job breaks the job contract (``field``, ``message``): it was not charged."""
    REVERSAL_WITHOUT_PURCHASE = "reversal_without_purchase"
    STRIPE_MISMATCH = "stripe_mismatch"


def record(kind: Kind, *, dedupe_key: str | None = None, uid: str | None = None, **fields: Any) -> str:
    """Store one anomaly and return its id; with ``dedupe_key`` a second call is a no-op."""
    collection = db().collection(ANOMALIES)
    data = {"kind": str(kind), "uid": uid, "createdAt": firestore.SERVER_TIMESTAMP, **fields}
    if dedupe_key is None:
        ref = collection.document()
        ref.create(data)
        return str(ref.id)
    ref = collection.document(f"{kind}-{hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]}")
    with contextlib.suppress(gexc.AlreadyExists):
        ref.create(data)
    return str(ref.id)


def list_spec(kind: Kind | None, *, after: Position | None, limit: int) -> QuerySpec:
    """Anomalies newest first, of one kind or all."""
    equals = [("kind", str(kind))] if kind else []
    return QuerySpec(collection=ANOMALIES, equals=equals, after=after, limit=limit)


@dataclass(frozen=True, kw_only=True)
class Anomaly:
    """One stored anomaly: the fields every kind has, and the case's own."""

    id: str
    kind: str
    created_at: datetime
    uid: str | None
    fields: Mapping[str, Any]
    """The case's amounts and ids, as stored."""

    @classmethod
    def from_snapshot(cls, snap: DocumentSnapshot[Any]) -> Anomaly:
        data = snap.to_dict() or {}
        return cls(
            id=snap.id,
            kind=str(data.get("kind")),
            created_at=data["createdAt"],
            uid=data.get("uid"),
            fields={k: v for k, v in data.items() if k not in ("kind", "createdAt", "uid")},
        )

    def to_api(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "uid": self.uid,
            **self.fields,
            "id": self.id,
            "createdAt": self.created_at.isoformat(),
        }
