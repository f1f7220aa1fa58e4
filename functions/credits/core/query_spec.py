"""Firestore queries described as data, so that their index needs can be checked.

Every list query the API issues is a :class:`QuerySpec`: equality filters, an optional
range on the order field, and an order. ``build`` turns it into a Firestore query; ``shape``
says which composite index production Firestore needs for it (the emulator enforces none),
which the offline check ``scripts/check_indexes.py`` holds against ``firestore.indexes.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from credits.core.firestore_client import db

DESCENDING = firestore.Query.DESCENDING


@dataclass(frozen=True, kw_only=True)
class IndexShape:
    """The composite index a query needs: equality fields (any order), then ordered fields."""

    collection: str
    """The collection id (``collectionGroup`` in ``firestore.indexes.json``)."""
    equality: frozenset[str]
    order: tuple[tuple[str, str], ...]
    """(field, "ASCENDING" | "DESCENDING") after the equality fields."""


@dataclass(frozen=True, kw_only=True)
class Position:
    """Where a page ends: the order field's value and the document id of the last result."""

    value: datetime | int
    """The order field's value: a time for ledger and Activity pages, a balance for low balances."""
    doc_id: str


@dataclass(frozen=True, kw_only=True)
class QuerySpec:
    collection: str
    """The collection queried: a top-level name, or a subcollection's path (``users/<uid>/activity``)."""
    equals: Sequence[tuple[str, Any]] = ()
    """Equality filters, (field, value)."""
    order_field: str = "createdAt"
    """Results come newest first by this field, then by document id (the tie-breaker)."""
    at_or_after: datetime | None = None
    """Inclusive lower bound of the order field."""
    before: datetime | None = None
    """Exclusive upper bound of the order field."""
    at_or_before: datetime | None = None
    """Inclusive upper bound of the order field."""
    after: Position | None = None
    """Start after this position (the previous page's last result)."""
    limit: int | None = None
    select: Sequence[str] | None = field(default=None)
    """Only these fields (None: the whole documents)."""

    def build(self) -> firestore.Query:
        query: Any = db().collection(self.collection)
        for name, value in self.equals:
            query = query.where(filter=FieldFilter(name, "==", value))
        if self.at_or_after is not None:
            query = query.where(filter=FieldFilter(self.order_field, ">=", self.at_or_after))
        if self.before is not None:
            query = query.where(filter=FieldFilter(self.order_field, "<", self.before))
        if self.at_or_before is not None:
            query = query.where(filter=FieldFilter(self.order_field, "<=", self.at_or_before))
        query = query.order_by(self.order_field, direction=DESCENDING).order_by("__name__", direction=DESCENDING)
        if self.after is not None:
            ref = db().collection(self.collection).document(self.after.doc_id)
            query = query.start_after({self.order_field: self.after.value, "__name__": ref})
        if self.select is not None:
            query = query.select(list(self.select))
        if self.limit is not None:
            query = query.limit(self.limit)
        return query  # type: ignore[no-any-return]

    def shape(self) -> IndexShape:
        return IndexShape(
            # An index is declared for a collection id: a subcollection's last path segment.
            collection=self.collection.rsplit("/", 1)[-1],
            equality=frozenset(name for name, _ in self.equals),
            order=((self.order_field, "DESCENDING"),),
        )
