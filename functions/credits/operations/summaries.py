"""Daily summaries: ``daily_credits_summary/{YYYY-MM-DD}``, built from the ledger by aggregation.

A summary covers one UTC day, the half-open interval ``[00:00, next 00:00)`` of the entries'
``createdAt`` (see :mod:`credits.operations.days`), and holds

* ``byType``: per credit type, the amount and count of credits and of debits, ``net``
  (credits minus debits) and ``entries``;
* ``bySource``: per source, per direction, per credit type, the amount and count. Image and
  video credits are different units, so an amount never adds the two; a source that goes both
  ways (``admin_adjustment``) has both directions. Every combination that ``SOURCE_RULES``
  allows is present, zero when nothing happened, so the shape never changes;
* ``usersTouched`` (distinct users with an entry that day), ``entries``, ``unclassified``
  (entries no allowed source bucket holds: zero on a sound ledger), ``complete`` (the day had
  ended when the summary was built), ``builtAt`` and ``reads`` (what building it cost).

**How it is built.** The totals are Firestore aggregation queries (``count()`` and
``sum("amount")`` in one query), so Firestore adds up index entries and returns one number per
bucket; no entry is transferred. One query counts the whole day; four give the totals per type
and direction; one per (source, direction, type) bucket gives the rest. Aggregations are billed one
read per 1,000 index entries matched (at least one per query). Distinct users cannot be summed
from entries, so a user's first entry of a day writes a marker in the same commit
(``credits_user_days/{day}/users/{uid}``, :data:`credits.core.ledger.USER_DAYS`), and one more
``count()`` counts the day's markers. No entry is read: the cost stays flat as the day grows.
A day from before the markers existed has none; for it the users are found the old way, one
query streaming the day's entries projected to ``uid``.

**Consistent.** The first query's answer carries the server's read time; every other query
reads at that same instant (``read_time``), so the totals and the users describe one snapshot
of the ledger even while entries are being written, and ``builtAt`` is that instant.

**Idempotent.** The document is written with ``set``: a rebuild replaces it with the same
content (only ``builtAt`` moves), so a retried schedule or an operator's rebuild is harmless.

The two composite indexes the bucket queries need in production are :func:`index_shapes`
(listed in ``docs/operations.md``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from google.cloud import firestore
from google.cloud.firestore_v1.aggregation import AggregationQuery
from google.cloud.firestore_v1.base_aggregation import AggregationResult
from google.cloud.firestore_v1.base_query import FieldFilter

from credits.core import ledger, logs
from credits.core.errors import InvalidArgument
from credits.core.firestore_client import db
from credits.core.ledger import SOURCE_RULES, CreditType, Direction, Source
from credits.core.query_spec import IndexShape
from credits.operations import days

SUMMARIES = "daily_credits_summary"
SCHEMA_VERSION = 1
MAX_READ_DAYS = 366
"""Most days one call of :func:`summaries_between` returns (a year, leap or not)."""
WORKERS = 8
"""Aggregation queries in flight at once: each is one short RPC, so they overlap well."""
ORDER_FIELD = "createdAt"
SUMMED_FIELD = "amount"
AGGREGATION_BATCH = 1000
"""Index entries an aggregation query reads per billed document read."""

Summary = dict[str, Any]
TypeKey = tuple[CreditType, Direction]
SourceKey = tuple[Source, Direction, CreditType]


@dataclass(frozen=True, kw_only=True)
class Tally:
    """A count of entries and the sum of their amounts."""

    count: int = 0
    amount: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"amount": self.amount, "count": self.count}


@dataclass(frozen=True, kw_only=True)
class Reads:
    """What a build cost, in the units Firestore bills."""

    aggregation_queries: int
    """Aggregation queries run."""
    documents: int
    """Entries read one by one (the distinct-users pass)."""
    billed_reads: int
    """Document reads billed: one per 1,000 index entries per aggregation (at least one each),
    plus one per document read (at least one for a query that returns nothing)."""

    def to_dict(self) -> dict[str, int]:
        return {
            "aggregationQueries": self.aggregation_queries,
            "documents": self.documents,
            "billedReads": self.billed_reads,
        }


def summary_ref(day: date) -> firestore.DocumentReference:
    return db().collection(SUMMARIES).document(days.day_id(day))


def source_buckets() -> list[SourceKey]:
    """Every (source, direction, type) an entry may have, in a fixed order."""
    return [
        (source, direction, credit_type)
        for source, rule in SOURCE_RULES.items()
        for direction in Direction
        if direction in rule.directions
        for credit_type in CreditType
        if credit_type in rule.types
    ]


def type_buckets() -> list[TypeKey]:
    return [(credit_type, direction) for credit_type in CreditType for direction in Direction]


def build_daily_summary(day: date, *, run: str = "scheduled", users_from_entries: bool = False) -> Summary:
    """Build ``daily_credits_summary/{day}`` from the ledger, store it with ``set`` and return it.

    ``run`` (``scheduled``, ``rebuild``, ``manual``) only labels the log lines, so that
    log-based metrics can leave reruns out. ``users_from_entries`` counts the users by reading
    the day's entries instead of its markers: for the day the markers began, whose users with
    an entry before the deploy have none (``scripts/rebuild_summaries.py --users-from-entries``).
    """
    started = time.perf_counter()
    window = day_entries(day)
    entries, read_time = _first_tally(window)
    aggregations = [entries]
    by_type = {key: Tally() for key in type_buckets()}
    by_source = {key: Tally() for key in source_buckets()}
    users_touched, documents = 0, 0
    if entries.count:
        with ThreadPoolExecutor(WORKERS) as pool:
            users = pool.submit(_users_touched, day, window, read_time, from_entries=users_from_entries)
            type_futures: dict[TypeKey, Future[Tally]] = {
                key: pool.submit(_tally, _bucket_query(window, _type_filters(key)), read_time) for key in by_type
            }
            source_futures: dict[SourceKey, Future[Tally]] = {
                key: pool.submit(_tally, _bucket_query(window, _source_filters(key)), read_time) for key in by_source
            }
            by_type = {key: future.result() for key, future in type_futures.items()}
            by_source = {key: future.result() for key, future in source_futures.items()}
            markers, users_touched, documents = users.result()
        aggregations += [*by_type.values(), *by_source.values(), markers]
    reads = Reads(
        aggregation_queries=len(aggregations),
        documents=documents,
        billed_reads=sum(max(1, math.ceil(t.count / AGGREGATION_BATCH)) for t in aggregations) + documents,
    )
    summary = assemble(
        day,
        entries=entries.count,
        by_type=by_type,
        by_source=by_source,
        users_touched=users_touched,
        # Firestore always reports the read time; the clock is only a fallback.
        built_at=read_time or datetime.now(UTC),
        reads=reads,
    )
    summary_ref(day).set(summary)
    _log(summary, run=run, seconds=time.perf_counter() - started)
    return summary


def assemble(
    day: date,
    *,
    entries: int,
    by_type: Mapping[TypeKey, Tally],
    by_source: Mapping[SourceKey, Tally],
    users_touched: int,
    built_at: datetime,
    reads: Reads,
) -> Summary:
    """The summary document from the aggregation results; pure, so it is tested on its own."""
    start, end = days.day_bounds(day)
    types: dict[str, Any] = {}
    for credit_type in CreditType:
        credit = by_type.get((credit_type, Direction.CREDIT), Tally())
        debit = by_type.get((credit_type, Direction.DEBIT), Tally())
        types[str(credit_type)] = {
            "credit": credit.to_dict(),
            "debit": debit.to_dict(),
            "net": credit.amount - debit.amount,
            "entries": credit.count + debit.count,
        }
    sources: dict[str, dict[str, dict[str, dict[str, int]]]] = {}
    for (source, direction, credit_type), tally in by_source.items():
        sources.setdefault(str(source), {}).setdefault(str(direction), {})[str(credit_type)] = tally.to_dict()
    classified = sum(tally.count for tally in by_source.values())
    return {
        "day": days.day_id(day),
        "periodStart": start,
        "periodEnd": end,
        "byType": types,
        "bySource": sources,
        "usersTouched": users_touched,
        "entries": entries,
        # An entry outside every allowed bucket (a source, type or direction SOURCE_RULES does
        # not allow) can only come from outside the ledger core: show it instead of hiding it.
        "unclassified": {"count": entries - classified},
        "complete": built_at >= end,
        "builtAt": built_at,
        "reads": reads.to_dict(),
        "schemaVersion": SCHEMA_VERSION,
    }


def rebuild(start: date, end: date, *, users_from_entries: bool = False) -> list[Summary]:
    """Build the summaries of every day from ``start`` to ``end``, both included, oldest first."""
    return [
        build_daily_summary(day, run="rebuild", users_from_entries=users_from_entries)
        for day in days.days_between(start, end)
    ]


def summaries_between(start: date, end: date) -> list[Summary]:
    """The stored summaries of the days from ``start`` to ``end`` (both included), oldest first.

    Days without a stored summary are simply absent. Timestamps are ISO 8601 strings, ready
    for JSON. At most :data:`MAX_READ_DAYS` days per call.
    """
    if end < start:
        raise InvalidArgument(f"the range ends ({end}) before it starts ({start})")
    if (end - start).days + 1 > MAX_READ_DAYS:
        raise InvalidArgument(f"at most {MAX_READ_DAYS} days at a time", max=MAX_READ_DAYS)
    query = (
        db()
        .collection(SUMMARIES)
        .where(filter=FieldFilter("day", ">=", days.day_id(start)))
        .where(filter=FieldFilter("day", "<=", days.day_id(end)))
        .order_by("day")
    )
    return [to_api(snap.to_dict() or {}) for snap in query.stream()]


def to_api(summary: Mapping[str, Any]) -> Summary:
    """A stored summary with its timestamps as ISO 8601 strings."""
    return {key: _jsonable(value) for key, value in summary.items()}


def uids_touched(day: date) -> tuple[set[str], int]:
    """The distinct users with an entry in the day, and the documents read to find them: the
    day's user markers (one document per user), or for a day from before markers, its entries."""
    uids = {snap.id for snap in ledger.users_of_day(days.day_id(day)).stream()}
    if uids:
        return uids, len(uids)
    return _uids_at(day_entries(day), None)


def _users_touched(
    day: date, window: firestore.Query, read_time: datetime | None, *, from_entries: bool
) -> tuple[Tally, int, int]:
    """The aggregation that counts the day's user markers, the users touched, and the documents
    read: none, unless the day is from before markers or ``from_entries`` asks (then its
    entries, projected to ``uid``)."""
    markers = _count(ledger.users_of_day(days.day_id(day)), read_time)
    if markers.count and not from_entries:
        return markers, markers.count, 0
    uids, documents = _uids_at(window, read_time)
    return markers, len(uids), documents


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {key: _jsonable(item) for key, item in value.items()}
    return value


def day_entries(day: date) -> firestore.Query:
    """The ledger entries of one UTC day, ``start <= createdAt < end``, newest first."""
    start, end = days.day_bounds(day)
    # Newest first, as every ledger list query here orders: the bucket queries then need
    # composite indexes of the project's one form (equality fields, createdAt descending),
    # with amount after it for sum().
    return (
        ledger.ledger_collection()
        .where(filter=FieldFilter(ORDER_FIELD, ">=", start))
        .where(filter=FieldFilter(ORDER_FIELD, "<", end))
        .order_by(ORDER_FIELD, direction=firestore.Query.DESCENDING)
    )


def index_shapes() -> set[IndexShape]:
    """The composite indexes the bucket queries need, for the check of ``scripts/check_indexes.py``.

    Equality fields, then ``createdAt`` descending (the range and order), then ``amount``:
    ``sum()`` reads the summed field from the index, so it must be in it.
    """
    order = ((ORDER_FIELD, "DESCENDING"), (SUMMED_FIELD, "ASCENDING"))
    filters = (_type_filters(type_buckets()[0]), _source_filters(source_buckets()[0]))
    return {IndexShape(collection=ledger.LEDGER, equality=frozenset(f), order=order) for f in filters}


def _type_filters(key: TypeKey) -> dict[str, str]:
    credit_type, direction = key
    return {"type": str(credit_type), "direction": str(direction)}


def _source_filters(key: SourceKey) -> dict[str, str]:
    source, direction, credit_type = key
    return {"source": str(source), **_type_filters((credit_type, direction))}


def _bucket_query(window: firestore.Query, filters: Mapping[str, str]) -> firestore.Query:
    for name, value in filters.items():
        window = window.where(filter=FieldFilter(name, "==", value))
    return window


def _first_tally(window: firestore.Query) -> tuple[Tally, datetime | None]:
    """Count the day's entries, and learn the server's read time that pins every other query.

    A count over the range alone needs no composite index (``createdAt`` has single-field
    ones); a sum of ``amount`` would.
    """
    query = AggregationQuery(window)
    query.count(alias="count")
    count = _run(query, None)["count"]
    read_time: datetime | None = count.read_time
    return Tally(count=_as_int(count.value)), read_time


def _tally(query: firestore.Query, read_time: datetime | None) -> Tally:
    aggregation = AggregationQuery(query)
    aggregation.count(alias="count")
    aggregation.sum(SUMMED_FIELD, alias="amount")
    values = _run(aggregation, read_time)
    return Tally(count=_as_int(values["count"].value), amount=_as_int(values["amount"].value))


def _count(query: firestore.Query, read_time: datetime | None) -> Tally:
    aggregation = AggregationQuery(query)
    aggregation.count(alias="count")
    return Tally(count=_as_int(_run(aggregation, read_time)["count"].value), amount=0)


def _run(query: AggregationQuery, read_time: datetime | None) -> dict[str, AggregationResult]:
    # get() returns one list of results per response (the library annotates it as a flat list).
    rows = cast(list[list[AggregationResult]], query.get(read_time=read_time))
    return {result.alias: result for result in rows[0]}


def _uids_at(window: firestore.Query, read_time: datetime | None) -> tuple[set[str], int]:
    # createdAt rides along because a stream that fails midway resumes after the last
    # document it got, and that cursor needs the value of the field the query is ordered by.
    uids: set[str] = set()
    documents = 0
    for snap in window.select(["uid", "createdAt"]).stream(read_time=read_time):
        documents += 1
        uid = snap.get("uid")
        if isinstance(uid, str):
            uids.add(uid)
    return uids, documents


def _as_int(value: object) -> int:
    # Production returns integers; the emulator returns 0.0 for an empty bucket. A sum past
    # 2**63 would come back as a float: refuse it rather than store a rounded total.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    raise ValueError(f"aggregation returned {value!r}, not an exact integer")


def _log(summary: Summary, *, run: str, seconds: float) -> None:
    day = summary["day"]
    for source, directions in summary["bySource"].items():
        for direction, types in directions.items():
            for credit_type, tally in types.items():
                if tally["count"]:
                    logs.info(
                        "daily summary bucket",
                        event="daily_summary_source",
                        day=day,
                        run=run,
                        source=source,
                        direction=direction,
                        type=credit_type,
                        amount=tally["amount"],
                        count=tally["count"],
                    )
    unclassified = summary["unclassified"]["count"]
    (logs.warning if unclassified else logs.info)(
        "daily summary built",
        event="daily_summary_built",
        day=day,
        run=run,
        entries=summary["entries"],
        usersTouched=summary["usersTouched"],
        unclassified=unclassified,
        complete=summary["complete"],
        **{f"{t}Net": summary["byType"][t]["net"] for t in summary["byType"]},
        **{f"{t}Entries": summary["byType"][t]["entries"] for t in summary["byType"]},
        aggregationQueries=summary["reads"]["aggregationQueries"],
        documentsRead=summary["reads"]["documents"],
        billedReads=summary["reads"]["billedReads"],
        seconds=round(seconds, 3),
    )
