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
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore

from credits.firestore_client import db
from credits.query_spec import Position, QuerySpec

ANOMALIES = "anomalies"


class Kind(enum.StrEnum):
    INSUFFICIENT_CREDITS = "insufficient_credits"
    DUPLICATE_WEBHOOK = "duplicate_webhook"
    UNATTRIBUTABLE_WEBHOOK = "unattributable_webhook"
    RECONCILIATION_MISMATCH = "reconciliation_mismatch"
    PARTIAL_REVERSAL = "partial_reversal"
    JOB_COMPLETED_AFTER_REFUND = "job_completed_after_refund"


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


def to_api(snap_id: str, data: dict[str, Any]) -> dict[str, Any]:
    created = data.get("createdAt")
    return {
        **{k: v for k, v in data.items() if k != "createdAt"},
        "id": snap_id,
        "createdAt": created.isoformat() if created is not None else None,
    }
