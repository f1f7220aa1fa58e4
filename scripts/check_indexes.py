"""Index coverage: every query shape the code can issue has its composite index, and no more.

    python scripts/check_indexes.py           # report; exit 1 on a missing or unused index
    python scripts/check_indexes.py --write   # rewrite firestore.indexes.json from the code's query shapes

An offline check, run by this command and by ``tests/test_indexes.py``; it is not deployed.
The emulator runs any query; production Firestore refuses one whose composite index is
missing. :func:`required_shapes` enumerates the shapes of every list query, by building
each route's :class:`~credits.core.query_spec.QuerySpec` for every combination of its filters.
:func:`check` compares them with ``firestore.indexes.json``: a shape that no index serves is
missing, an index that no shape needs is unused.

A query needs a composite index when it combines an equality filter with its order (on
``createdAt``, or ``time`` for the Activity projection). A range and order on one field alone
(the admin ledger without filters, the job billing sweeper's ``updatedAt`` window, the
Activity repair's ``updatedAt`` and ``createdAt`` windows) is served by that field's automatic
single-field index: it needs no entry, and any field override (which could drop that index)
must be one of ours. A composite index lists the equality fields (in any order), then the
order field descending; the document id tie-breaker follows implicitly. A subcollection's
index names its collection id (``activity`` for ``users/{uid}/activity``), with the
collection scope.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import target

from credits.core import anomalies
from credits.core.ledger import BLOCKS, DEFAULT_CREDIT_TYPE, NEXT_EXPIRY, CreditType, Direction, Source, balance_field
from credits.core.query_spec import IndexShape
from credits.flows import alerts, auto_top_up, credit_settings, job_sweep, reversals, top_up_attempts
from credits.operations import activity_repair, summaries
from credits.reads import activity, queries, usage

INDEXES = target.ROOT / "firestore.indexes.json"


def required_shapes() -> set[IndexShape]:
    """The query shapes that need a composite index (an equality filter and an order)."""
    return {shape for shape in query_shapes() if shape.equality}


def single_field_shapes() -> set[IndexShape]:
    """The query shapes that Firestore's automatic single-field indexes serve (a range and
    order on one field, no equality): they need no entry, and no field override may drop them."""
    return {shape for shape in query_shapes() if not shape.equality}


def query_shapes() -> set[IndexShape]:
    """Every shape of query the code can issue."""
    shapes: set[IndexShape] = set()
    options: dict[str, list[object]] = {
        "type": [None, *CreditType],
        "direction": [None, *Direction],
        "source": [None, *Source],
    }
    scopes = [queries.Scope(field="uid", value="u"), queries.Scope(field=None)]
    for scope, values in itertools.product(scopes, itertools.product(*options.values())):
        for dates in ({}, {"from": "2026-01-01"}, {"to": "2026-01-31"}):
            filters = queries.LedgerFilters.model_validate(
                {**{k: v for k, v in zip(options, values, strict=True) if v is not None}, **dates}
            )
            shapes.add(queries.ledger_spec(scope, filters, after=None, limit=1).shape())
    for kind, influencer, range_ in itertools.product(activity.Kind, [None, "inf"], activity.Range):
        feed_filters = activity.ActivityFilters(type=kind, influencerId=influencer, range=range_)
        shapes.add(activity.page_spec("u", feed_filters, activity.since(feed_filters), None).shape())
    shapes.add(activity.influencers_spec("u").shape())
    shapes |= summaries.index_shapes()
    shapes |= usage.index_shapes()
    for kind in (None, *anomalies.Kind):
        shapes.add(anomalies.list_spec(kind, after=None, limit=1).shape())
    now = datetime.now(UTC)
    shapes.add(job_sweep.candidates(now, now).shape())
    shapes.add(activity_repair.jobs_changed(now, now).shape())
    shapes.add(activity_repair.entries_created(now, now).shape())
    shapes.add(reversals.waiting_spec(now).shape())
    shapes.add(alerts.recent_debits(now, now).shape())
    shapes.add(alerts.latest_low_balance("u", DEFAULT_CREDIT_TYPE).shape())
    shapes.add(top_up_attempts.attempts_since("u", now).shape())
    shapes.add(top_up_attempts.purchases_since("u", now).shape())
    shapes.add(top_up_attempts.pending_before(now).shape())
    shapes.add(auto_top_up.user_entries("u", now, now).shape())
    return shapes


FIELD_OVERRIDES: list[dict[str, Any]] = [
    {
        "collectionGroup": "balances",
        "fieldPath": balance_field(credit_type),
        "indexes": [
            {"order": "ASCENDING", "queryScope": "COLLECTION"},
            {"order": "DESCENDING", "queryScope": "COLLECTION"},
            {"arrayConfig": "CONTAINS", "queryScope": "COLLECTION"},
            {"order": "ASCENDING", "queryScope": "COLLECTION_GROUP"},
        ],
    }
    for credit_type in CreditType
]
"""Low-balance users (``ledger.low_balances``) query every ``balances`` subcollection at once,
ordered by one balance: that needs a collection-group index on the field, which Firestore
declares as a field override (keeping the field's default single-field indexes)."""

FIELD_OVERRIDES.append(
    {
        "collectionGroup": "generation_jobs",
        "fieldPath": "updatedAt",
        "indexes": [
            {"order": "ASCENDING", "queryScope": "COLLECTION"},
            {"order": "DESCENDING", "queryScope": "COLLECTION"},
        ],
    }
)
"""The job billing sweeper's window (``job_sweep.candidates``) is a range and order on
``updatedAt`` alone: Firestore's automatic single-field index serves it, declared here all the
same so that the file says which index the sweeper needs and no exemption drops it."""


FIELD_OVERRIDES += [
    {
        "collectionGroup": "balances",
        "fieldPath": NEXT_EXPIRY,
        "indexes": [
            {"order": "ASCENDING", "queryScope": "COLLECTION"},
            {"order": "DESCENDING", "queryScope": "COLLECTION"},
            {"order": "ASCENDING", "queryScope": "COLLECTION_GROUP"},
        ],
    },
    {"collectionGroup": "balances", "fieldPath": BLOCKS, "indexes": []},
    {"collectionGroup": activity.ITEMS, "fieldPath": "item", "indexes": []},
]
"""The expiry schedule (``expiry.expire_credits``) asks every ``balances`` subcollection for
``nextExpiry <= now``: a collection-group index on that field. The open blocks (one JSON text)
are never queried, so they are exempt from indexing: every ledger write would otherwise index
a text of up to several kilobytes. So is an Activity item's ``item`` (the API's rendering of
it, a map of some twenty fields): the feed queries the item document's own fields only."""


FIELD_OVERRIDES.append(
    {
        "collectionGroup": credit_settings.COLLECTION,
        "fieldPath": credit_settings.auto_top_up_field("enabled"),
        "indexes": [
            {"order": "ASCENDING", "queryScope": "COLLECTION"},
            {"order": "DESCENDING", "queryScope": "COLLECTION"},
            {"arrayConfig": "CONTAINS", "queryScope": "COLLECTION"},
            {"order": "ASCENDING", "queryScope": "COLLECTION_GROUP"},
        ],
    }
)
"""The automatic top-up sweep (``auto_top_up.enabled_users``) asks every ``credit_settings``
subcollection for ``autoTopUp.enabled == true``: a collection-group index on that field,
declared as a field override that keeps the field's default single-field indexes."""


def _index_key(index: Mapping[str, Any]) -> tuple[str, frozenset[str], tuple[tuple[str, str], ...]] | None:
    fields = [(f["fieldPath"], f.get("order", "")) for f in index.get("fields", [])]
    order_start = next((i for i, (_, order) in enumerate(fields) if order == "DESCENDING"), len(fields))
    equality = frozenset(name for name, _ in fields[:order_start])
    return index.get("collectionGroup", ""), equality, tuple(fields[order_start:])


def serves(index: Mapping[str, Any], shape: IndexShape) -> bool:
    key = _index_key(index)
    return key == (shape.collection, shape.equality, shape.order)


def check(
    indexes: Mapping[str, Any], shapes: Iterable[IndexShape] | None = None
) -> tuple[list[IndexShape | dict[str, Any]], list[dict[str, Any]]]:
    """(shapes and field overrides the file lacks, indexes and overrides nothing needs)."""
    needed = sorted(required_shapes() if shapes is None else shapes, key=_sort_key)
    declared = list(indexes.get("indexes", []))
    missing: list[IndexShape | dict[str, Any]] = [
        shape for shape in needed if not any(serves(index, shape) for index in declared)
    ]
    unused = [index for index in declared if not any(serves(index, shape) for shape in needed)]
    overrides = list(indexes.get("fieldOverrides", []))
    missing += [override for override in FIELD_OVERRIDES if override not in overrides]
    unused += [override for override in overrides if override not in FIELD_OVERRIDES]
    return missing, unused


def index_for(shape: IndexShape) -> dict[str, Any]:
    fields = [{"fieldPath": name, "order": "ASCENDING"} for name in sorted(shape.equality, key=_field_rank)]
    fields += [{"fieldPath": name, "order": order} for name, order in shape.order]
    return {"collectionGroup": shape.collection, "queryScope": "COLLECTION", "fields": fields}


def indexes_file(shapes: Iterable[IndexShape] | None = None) -> dict[str, Any]:
    ordered = sorted(required_shapes() if shapes is None else shapes, key=_sort_key)
    return {"indexes": [index_for(shape) for shape in ordered], "fieldOverrides": FIELD_OVERRIDES}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


_RANK = ["uid", "inAll", "kind", "meta.influencerId", "influencerId", "jobId", "type", "direction", "source"]


def _field_rank(name: str) -> tuple[int, str]:
    return (_RANK.index(name) if name in _RANK else len(_RANK), name)


def _sort_key(shape: IndexShape) -> tuple[str, int, list[tuple[int, str]]]:
    return shape.collection, len(shape.equality), sorted(_field_rank(name) for name in shape.equality)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--write", action="store_true", help="rewrite firestore.indexes.json")
    args = parser.parse_args()

    if args.write:
        INDEXES.write_text(json.dumps(indexes_file(), indent=2) + "\n")
        print(f"wrote {INDEXES.name}")
    missing, unused = check(load(INDEXES))
    for shape in missing:
        if isinstance(shape, dict):
            print(f"MISSING field override {json.dumps(shape)}")
        else:
            print(f"MISSING {shape.collection}: equality {sorted(shape.equality)} then {list(shape.order)}")
    for index in unused:
        print(f"UNUSED  {json.dumps(index)}")
    single = sorted(f"{shape.collection}.{shape.order[0][0]}" for shape in single_field_shapes())
    print(f"{len(required_shapes())} query shapes need a composite index: {len(missing)} missing, {len(unused)} unused")
    print(f"{len(single)} query shapes use automatic single-field indexes: {', '.join(single)}")
    return 1 if missing or unused else 0


if __name__ == "__main__":
    sys.exit(main())
