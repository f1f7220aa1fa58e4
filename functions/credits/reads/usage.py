"""Credits spent per day: the data of the usage chart on Credits usage, by aggregation.

**What it counts.** For one user and a range of UTC days, per day and per credit type:

* ``spent``: the debits of generation jobs, the entries whose source is a job kind of the
  configuration (``text2image``, ``image2image``, ``text2video``, ``image2video``): what the
  user's generations were charged that day, as their debits were written;
* ``refunded``: the job refunds (source ``refund``) credited that day, the credits failed
  generations gave back. They are reported beside ``spent``, not subtracted from it: a refund
  is counted on the day it was written, which is not always its debit's day, and a net figure
  could go below zero on a day with a late refund and no generation;
* with ``by=source``, ``spent`` split by job source (``bySource``), each source in the one
  credit type its job kind spends.

Nothing else is spending: purchases, plan grants and admin credits add credits; expirations,
admin debits, purchase reversals and chargebacks take credits away without a generation. They
stay in the ledger (and in the admin daily summaries), not in this chart.

**Days** are UTC days, ``[00:00, next 00:00)`` of ``createdAt``, as the daily summaries
count them; ``from`` and ``to`` name the first and last day, both included (default the 30
days up to today), at most :data:`MAX_DAYS`.

**How.** No entry is read. Each number is a Firestore aggregation query (``sum("amount")``
with ``count()``) over the user's entries of one day, one credit type and one source or the
set of sources of that type (``source in [...]``), so Firestore adds up index entries and
returns one number. The first query counts the user's entries in the whole range: its answer
carries the server's read time, and every other query reads at that instant (``read_time``),
so the chart is one snapshot of the ledger even while entries are written; a range with no
entry stops there. The others run concurrently on a small thread pool. A range of ``n`` days
costs ``1 + n × buckets`` aggregation queries (buckets: one per credit type for spending and
one per type for refunds, or one per job source and one per type for refunds with
``by=source``), each billed at least one document read (one per 1,000 index entries matched):
flat in the size of the user's history. They need one composite index, :func:`index_shapes`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, cast

from google.cloud import firestore
from google.cloud.firestore_v1.aggregation import AggregationQuery
from google.cloud.firestore_v1.base_aggregation import AggregationResult
from google.cloud.firestore_v1.base_query import FieldFilter
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from credits.core import ledger
from credits.core.errors import InvalidArgument
from credits.core.ledger import FLOW_SOURCES, SOURCE_RULES, CreditType, Source
from credits.core.query_spec import IndexShape

MAX_DAYS = 90
"""Most days one request may cover."""
DEFAULT_DAYS = 30
"""Days shown when the request names no ``from``: the 30 days up to ``to``."""
WORKERS = 8
"""Aggregation queries in flight at once: each is one short RPC, so they overlap well."""
ORDER_FIELD = "createdAt"
SUMMED_FIELD = "amount"
ONE_DAY = timedelta(days=1)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Breakdown(enum.StrEnum):
    """How ``spent`` is broken down beyond the credit type."""

    TYPE = "type"
    SOURCE = "source"


def _strict_day(value: object) -> object:
    # date.fromisoformat (and pydantic's lax date) also take "20260101", times and numbers.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DAY.match(value):
        raise ValueError("a day must be written YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_strict_day)]


class UsageQuery(BaseModel):
    """The query string of ``GET /api/credits/usage``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: Day | None = Field(default=None, alias="from")
    """First UTC day included (default: ``to`` minus 29 days)."""
    to: Day | None = None
    """Last UTC day included (default: today, in UTC)."""
    by: Breakdown = Breakdown.TYPE
    """``type``, or ``source`` for spending split by job source too."""

    def window(self, today: date) -> tuple[date, date]:
        """The first and last day, both included; refused when reversed or longer than :data:`MAX_DAYS`."""
        last = self.to or today
        first = self.from_ or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            raise InvalidArgument(f"from ({first}) must be on or before to ({last})", field="from")
        if (last - first).days + 1 > MAX_DAYS:
            raise InvalidArgument(
                f"at most {MAX_DAYS} days at a time: from {first} to {last} is {(last - first).days + 1}",
                field="from",
                max=MAX_DAYS,
            )
        return first, last


@dataclass(frozen=True, kw_only=True)
class Bucket:
    """One number per day: what a query sums."""

    measure: str
    """``spent`` or ``refunded``."""
    type: CreditType
    sources: tuple[Source, ...]
    """The entries' sources (one, or the job sources of the type)."""
    source: Source | None = None
    """For ``by=source``, the job source this bucket is (its ``bySource`` key)."""


@dataclass(frozen=True, kw_only=True)
class UsageDay:
    day: date
    spent: Mapping[CreditType, int]
    refunded: Mapping[CreditType, int]
    by_source: Mapping[Source, int]
    """Spending per job source; empty unless ``by=source``."""

    def to_api(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "spent": _by_name(self.spent),
            "refunded": _by_name(self.refunded),
            "bySource": _by_name(self.by_source),
        }


@dataclass(frozen=True, kw_only=True)
class Usage:
    first: date
    last: date
    by: Breakdown
    days: list[UsageDay]
    """Every day of the range, oldest first, zeros included."""
    read_time: datetime | None
    """The instant every query read at (None only when the server reported none)."""
    aggregations: int
    """Aggregation queries run."""

    def to_api(self) -> dict[str, Any]:
        by_source = self.by is Breakdown.SOURCE
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "by": str(self.by),
            "types": [str(t) for t in CreditType],
            "sources": [{"source": str(s), "type": str(t)} for s, t in job_sources().items()],
            "days": [day.to_api() for day in self.days],
            "totals": {
                "spent": _by_name(_total(d.spent for d in self.days)),
                "refunded": _by_name(_total(d.refunded for d in self.days)),
                "bySource": _by_name(_total(d.by_source for d in self.days)) if by_source else {},
            },
            "readTime": self.read_time.isoformat() if self.read_time else None,
            "aggregations": self.aggregations,
        }


def job_sources() -> dict[Source, CreditType]:
    """The sources that are spending, each with the one credit type its job kind debits."""
    return {
        source: next(iter(rule.types))
        for source, rule in SOURCE_RULES.items()
        if source not in FLOW_SOURCES and len(rule.types) == 1
    }


def buckets(by: Breakdown) -> list[Bucket]:
    """What each day sums: spending per type (or per job source), then refunds per type."""
    spending = job_sources()
    spent: list[Bucket]
    if by is Breakdown.SOURCE:
        spent = [Bucket(measure="spent", type=t, sources=(s,), source=s) for s, t in spending.items()]
    else:
        spent = [
            Bucket(measure="spent", type=t, sources=tuple(s for s, st in spending.items() if st is t))
            for t in CreditType
            if t in spending.values()
        ]
    refunded = [Bucket(measure="refunded", type=t, sources=(Source.REFUND,)) for t in CreditType]
    return [*spent, *refunded]


def usage(uid: str, query: UsageQuery, *, today: date | None = None) -> Usage:
    """The user's spending and refunds per UTC day of the query's range (see the module docstring)."""
    first, last = query.window(today or datetime.now(UTC).date())
    days = [first + n * ONE_DAY for n in range((last - first).days + 1)]
    entries, read_time = _count(_window(uid, _start(first), _start(last) + ONE_DAY))
    wanted = buckets(query.by)
    sums: dict[tuple[date, Bucket], int] = {}
    if entries:
        with ThreadPoolExecutor(WORKERS) as pool:
            futures: dict[tuple[date, Bucket], Future[int]] = {
                (day, bucket): pool.submit(_sum, _bucket_query(uid, day, bucket), read_time)
                for day in days
                for bucket in wanted
            }
            sums = {key: future.result() for key, future in futures.items()}
    return Usage(
        first=first,
        last=last,
        by=query.by,
        days=[assemble_day(day, wanted, {b: sums.get((day, b), 0) for b in wanted}) for day in days],
        read_time=read_time,
        aggregations=1 + len(sums),
    )


def assemble_day(day: date, wanted: Sequence[Bucket], sums: Mapping[Bucket, int]) -> UsageDay:
    """One day's numbers from its buckets' sums; pure, so it is tested on its own."""
    spent = dict.fromkeys(CreditType, 0)
    refunded = dict.fromkeys(CreditType, 0)
    by_source: dict[Source, int] = {}
    for bucket in wanted:
        amount = sums.get(bucket, 0)
        if bucket.measure == "refunded":
            refunded[bucket.type] += amount
            continue
        spent[bucket.type] += amount
        if bucket.source is not None:
            by_source[bucket.source] = amount
    return UsageDay(day=day, spent=spent, refunded=refunded, by_source=by_source)


def index_shapes() -> set[IndexShape]:
    """The composite index the bucket queries need, for ``scripts/check_indexes.py``: ``uid``,
    ``type`` and ``source`` (an ``in`` is an equality for the index), then ``createdAt``
    descending (the day's range), then ``amount``, which ``sum()`` reads from the index. The
    first count (``uid`` and the range) uses the ledger pages' ``uid, createdAt`` index."""
    order = ((ORDER_FIELD, "DESCENDING"), (SUMMED_FIELD, "ASCENDING"))
    return {IndexShape(collection=ledger.LEDGER, equality=frozenset({"uid", "type", "source"}), order=order)}


def _start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _window(uid: str, start: datetime, end: datetime) -> firestore.Query:
    """The user's entries with ``start <= createdAt < end``, newest first (the project's one index form)."""
    return (
        ledger.ledger_collection()
        .where(filter=FieldFilter("uid", "==", uid))
        .where(filter=FieldFilter(ORDER_FIELD, ">=", start))
        .where(filter=FieldFilter(ORDER_FIELD, "<", end))
        .order_by(ORDER_FIELD, direction=firestore.Query.DESCENDING)
    )


def _bucket_query(uid: str, day: date, bucket: Bucket) -> firestore.Query:
    query = _window(uid, _start(day), _start(day) + ONE_DAY).where(filter=FieldFilter("type", "==", str(bucket.type)))
    if len(bucket.sources) == 1:
        return query.where(filter=FieldFilter("source", "==", str(bucket.sources[0])))
    return query.where(filter=FieldFilter("source", "in", [str(s) for s in bucket.sources]))


def _count(query: firestore.Query) -> tuple[int, datetime | None]:
    """Count the range's entries, and learn the server's read time that pins every other query."""
    aggregation = AggregationQuery(query)
    aggregation.count(alias="count")
    result = _run(aggregation, None)["count"]
    read_time: datetime | None = result.read_time
    return _as_int(result.value), read_time


def _sum(query: firestore.Query, read_time: datetime | None) -> int:
    aggregation = AggregationQuery(query)
    aggregation.sum(SUMMED_FIELD, alias="amount")
    return _as_int(_run(aggregation, read_time)["amount"].value)


def _run(query: AggregationQuery, read_time: datetime | None) -> dict[str, AggregationResult]:
    # get() returns one list of results per response (the library annotates it as a flat list).
    rows = cast(list[list[AggregationResult]], query.get(read_time=read_time))
    return {result.alias: result for result in rows[0]}


def _as_int(value: object) -> int:
    # Production returns integers; the emulator returns 0.0 for an empty sum. A sum past 2**53
    # could come back as a rounded float: refuse it rather than show a wrong total.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    raise ValueError(f"aggregation returned {value!r}, not an exact integer")


def _total(rows: Iterable[Mapping[Any, int]]) -> dict[Any, int]:
    totals: dict[Any, int] = {}
    for row in rows:
        for key, amount in row.items():
            totals[key] = totals.get(key, 0) + amount
    return totals


def _by_name(values: Mapping[Any, int]) -> dict[str, int]:
    return {str(key): amount for key, amount in values.items()}
