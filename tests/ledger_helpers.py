"""What the tests against the Firestore emulator share: requests, stored entries, jobs, back-dating.

Unit tests call the product's functions in-process; these helpers build their inputs and
read what was stored, through the same Firestore client (``credits.core.firestore_client``).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from google.cloud.firestore import FieldFilter

from credits.core import generation_jobs, ledger
from credits.core.firestore_client import db
from credits.core.ledger import CreditType, Direction, LedgerRequest, Source

_keys = itertools.count()


def request(
    *,
    uid: str = "u1",
    direction: Direction = Direction.CREDIT,
    amount: int = 10,
    type: CreditType = CreditType.IMAGE,
    key: str | None = None,
    **overrides: Any,
) -> LedgerRequest:
    """An admin adjustment of ``uid``'s image balance, under a fresh key unless one is given."""
    source = Source.ADMIN_ADJUSTMENT
    fields: dict[str, Any] = {
        "uid": uid,
        "type": type,
        "direction": direction,
        "amount": amount,
        "source": source,
        "idempotency_key": f"test:{next(_keys)}" if key is None else key,
        "created_by": "admin:tester",
        "reason": "test",
    }
    fields.update(overrides)
    return LedgerRequest(**fields)


def stored_entries(uid: str | None = None, *, job_id: str | None = None) -> list[dict[str, Any]]:
    """The stored ``credits_ledger`` documents of a user (or of a job), in ledger order (``seq``)."""
    query: Any = ledger.ledger_collection()
    if uid is not None:
        query = query.where(filter=FieldFilter("uid", "==", uid))
    if job_id is not None:
        query = query.where(filter=FieldFilter("jobId", "==", job_id))
    return sorted((snap.to_dict() or {} for snap in query.stream()), key=lambda entry: entry["seq"])


def set_entry_times(when: Callable[[int], datetime]) -> None:
    """Test-only back-dating: every stored entry's ``createdAt`` becomes ``when(n)``, n counting
    the entries in the order the collection streams them (by id). The chain is untouched."""
    batch = db().batch()
    for n, snap in enumerate(ledger.ledger_collection().stream()):
        batch.update(snap.reference, {"createdAt": when(n)})
    batch.commit()


def job_document(**fields: Any) -> dict[str, Any]:
    """A ``generation_jobs`` document as the pipeline writes it: Alice's five HQ images, queued."""
    return {
        "uid": "alice",
        "status": "queued",
        "source": "text2image",
        "numImages": 5,
        "quality": "hq",
        "model": "flux-1",
        "resolution": "1024x1024",
        "aspectRatio": "9:16",
        "influencerId": "inf-luna",
        "influencerName": "Luna",
        **fields,
    }


def put_job(job_id: str, **fields: Any) -> None:
    """Write (merge) a job document as the pipeline would; :func:`job_document` fills the rest."""
    generation_jobs.job_ref(job_id).set(job_document(**fields), merge=True)


def run_together(*works: Callable[[], object]) -> list[BaseException]:
    """Run each in a thread of its own, all released at once; what they raised (empty when nothing)."""
    barrier = threading.Barrier(len(works))
    errors: list[BaseException] = []

    def run(work: Callable[[], object]) -> None:
        try:
            barrier.wait()
            work()
        except BaseException as exc:  # the caller asserts on it, with the thread's failure
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(work,)) for work in works]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return errors
