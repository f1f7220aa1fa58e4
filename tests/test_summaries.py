"""Daily summaries: the pure day arithmetic and assembly, then building from the ledger.

The ledger stamps ``createdAt`` with the server's clock, so a test cannot ask for an entry at
23:59:59.999999. The emulator tests write every entry through ``write_ledger_entry`` (so the
entries, balances and chains are real) and then, test-only, rewrite each entry's ``createdAt``
with the admin client to a chosen instant on either side of a midnight. No product code
changes an entry; this stands in for entries committed at those instants.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import check_indexes
import pytest
from conftest import reset_database
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_helpers import request

from credits.core import ledger
from credits.core.errors import InvalidArgument
from credits.core.firestore_client import db
from credits.core.ledger import SOURCE_RULES, CreditType, Direction, LedgerWrite, Source
from credits.operations import days, summaries
from credits.operations.summaries import Reads, Tally

DAY = date(2026, 3, 14)
START = datetime(2026, 3, 14, tzinfo=UTC)
END = datetime(2026, 3, 15, tzinfo=UTC)
LAST_MICROSECOND = END - timedelta(microseconds=1)

CREDIT, DEBIT = Direction.CREDIT, Direction.DEBIT
IMAGE, VIDEO = CreditType.IMAGE, CreditType.VIDEO


# --- pure helpers -------------------------------------------------------------------------


def test_day_bounds_are_half_open_utc_midnights():
    assert days.day_bounds(DAY) == (START, END)
    assert days.day_bounds(date(2024, 2, 29)) == (
        datetime(2024, 2, 29, tzinfo=UTC),
        datetime(2024, 3, 1, tzinfo=UTC),
    )
    assert days.day_bounds(date(2025, 12, 31))[1] == datetime(2026, 1, 1, tzinfo=UTC)


def test_day_of_uses_utc():
    assert days.day_of(START) == DAY
    assert days.day_of(LAST_MICROSECOND) == DAY
    assert days.day_of(END) == date(2026, 3, 15)
    # 01:30 in UTC+2 is still the previous day in UTC.
    assert days.day_of(datetime(2026, 3, 15, 1, 30, tzinfo=timezone(timedelta(hours=2)))) == DAY
    with pytest.raises(ValueError):
        days.day_of(datetime(2026, 3, 14))


def test_previous_day_is_yesterday_in_utc():
    assert days.previous_day(datetime(2026, 3, 1, 0, 10, tzinfo=UTC)) == date(2026, 2, 28)
    assert days.previous_day(datetime(2026, 3, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))) == date(2026, 2, 27)


@pytest.mark.parametrize("text", ["20260314", "2026-02-30", "2026-03-14T00:00", "14/03/2026", "", "2026-3-14"])
def test_parse_day_refuses_anything_but_yyyy_mm_dd(text: str):
    with pytest.raises(InvalidArgument):
        days.parse_day(text)


def test_parse_day_and_days_between():
    assert days.parse_day("2026-03-14") == DAY
    assert days.days_between(date(2026, 2, 27), date(2026, 3, 1)) == [
        date(2026, 2, 27),
        date(2026, 2, 28),
        date(2026, 3, 1),
    ]
    assert days.days_between(DAY, DAY) == [DAY]
    with pytest.raises(InvalidArgument):
        days.days_between(DAY, DAY - timedelta(days=1))


def test_source_buckets_are_exactly_what_the_rules_allow():
    buckets = summaries.source_buckets()
    assert (
        len(buckets) == len(set(buckets)) == 22
    )  # 4 job sources × 1, 7 of any type × 2, the admin adjustment × 2 directions × 2
    for source, direction, credit_type in buckets:
        rule = SOURCE_RULES[source]
        assert direction in rule.directions and credit_type in rule.types
    assert (Source.ADMIN_ADJUSTMENT, CREDIT, VIDEO) in buckets
    assert (Source.ADMIN_ADJUSTMENT, DEBIT, VIDEO) in buckets
    assert (Source.TEXT2IMAGE, DEBIT, VIDEO) not in buckets


def summary_reads() -> Reads:
    return Reads(aggregation_queries=1, documents=0, billed_reads=1)


def test_assemble_computes_net_entries_and_unclassified():
    summary = summaries.assemble(
        DAY,
        entries=6,
        by_type={(IMAGE, CREDIT): Tally(count=2, amount=30), (IMAGE, DEBIT): Tally(count=3, amount=12)},
        by_source={
            (Source.PURCHASE, CREDIT, IMAGE): Tally(count=2, amount=30),
            (Source.TEXT2IMAGE, DEBIT, IMAGE): Tally(count=3, amount=12),
        },
        users_touched=2,
        built_at=END + timedelta(minutes=10),
        reads=Reads(aggregation_queries=21, documents=6, billed_reads=27),
    )
    assert summary["byType"] == {
        "image": {"credit": {"amount": 30, "count": 2}, "debit": {"amount": 12, "count": 3}, "net": 18, "entries": 5},
        "video": {"credit": {"amount": 0, "count": 0}, "debit": {"amount": 0, "count": 0}, "net": 0, "entries": 0},
    }
    assert summary["bySource"]["purchase"] == {"credit": {"image": {"amount": 30, "count": 2}}}
    assert summary["unclassified"] == {"count": 1}
    assert summary["complete"] is True
    assert summary["day"] == "2026-03-14" and summary["periodStart"] == START and summary["periodEnd"] == END
    assert summary["reads"] == {"aggregationQueries": 21, "documents": 6, "billedReads": 27}
    assert (
        summaries.assemble(
            DAY, entries=0, by_type={}, by_source={}, users_touched=0, built_at=LAST_MICROSECOND, reads=summary_reads()
        )["complete"]
        is False
    )


def test_the_bucket_queries_need_two_composite_indexes():
    # What firestore.indexes.json must hold for the bucket queries, in the file's own form.
    assert sorted((check_indexes.index_for(shape) for shape in summaries.index_shapes()), key=len_fields) == [
        {
            "collectionGroup": "credits_ledger",
            "queryScope": "COLLECTION",
            "fields": [
                {"fieldPath": "type", "order": "ASCENDING"},
                {"fieldPath": "direction", "order": "ASCENDING"},
                {"fieldPath": "createdAt", "order": "DESCENDING"},
                {"fieldPath": "amount", "order": "ASCENDING"},
            ],
        },
        {
            "collectionGroup": "credits_ledger",
            "queryScope": "COLLECTION",
            "fields": [
                {"fieldPath": "type", "order": "ASCENDING"},
                {"fieldPath": "direction", "order": "ASCENDING"},
                {"fieldPath": "source", "order": "ASCENDING"},
                {"fieldPath": "createdAt", "order": "DESCENDING"},
                {"fieldPath": "amount", "order": "ASCENDING"},
            ],
        },
    ]


def len_fields(index: dict[str, Any]) -> int:
    return len(index["fields"])


def test_aggregation_values_must_be_exact_integers():
    assert summaries._as_int(7) == 7
    assert summaries._as_int(0.0) == 0  # what the emulator answers for an empty bucket
    for bad in (1.5, True, float(2**60), None, float("nan")):
        with pytest.raises(ValueError):
            summaries._as_int(bad)


def test_to_api_turns_timestamps_into_strings():
    api = summaries.to_api({"builtAt": END, "nested": {"at": START}, "n": 1})
    assert api == {"builtAt": END.isoformat(), "nested": {"at": START.isoformat()}, "n": 1}
    json.dumps(api)


# --- against the emulator ----------------------------------------------------------------


def place(write: LedgerWrite, at: datetime) -> None:
    """Test-only: move an entry to a chosen instant (see the module docstring)."""
    db().collection(ledger.LEDGER).document(write.entry.id).update({"createdAt": at})


def entry(uid: str, source: Source, direction: Direction, type: CreditType, amount: int, at: datetime) -> None:
    created_by = "system" if source in (Source.TEXT2IMAGE, Source.TEXT2VIDEO) else "admin:tester"
    place(
        ledger.write_ledger_entry(
            request(uid=uid, source=source, direction=direction, type=type, amount=amount, created_by=created_by)
        ),
        at,
    )


def seed_around_midnights() -> None:
    """Entries of several sources, some exactly on the day's edges, some just outside."""
    at = START.replace
    entry("u1", Source.PURCHASE, CREDIT, IMAGE, 100, START)  # exactly 00:00: in
    entry("u1", Source.TEXT2IMAGE, DEBIT, IMAGE, 7, at(hour=12))
    entry("u1", Source.REFUND, CREDIT, IMAGE, 3, at(hour=13))
    entry("u2", Source.PURCHASE, CREDIT, VIDEO, 50, LAST_MICROSECOND)  # 23:59:59.999999: in
    entry("u2", Source.TEXT2VIDEO, DEBIT, VIDEO, 20, END)  # next day's 00:00: out
    entry("u3", Source.ADMIN_ADJUSTMENT, CREDIT, IMAGE, 30, at(hour=8))
    entry("u3", Source.ADMIN_ADJUSTMENT, DEBIT, IMAGE, 5, at(hour=9))
    entry("u3", Source.ADMIN_ADJUSTMENT, CREDIT, VIDEO, 4, START - timedelta(microseconds=1))  # out
    entry("u4", Source.SUBSCRIPTION_GRANT, CREDIT, IMAGE, 200, at(hour=10))


def nonzero_sources(summary: dict[str, Any]) -> dict[tuple[str, str, str], tuple[int, int]]:
    return {
        (source, direction, credit_type): (tally["amount"], tally["count"])
        for source, directions in summary["bySource"].items()
        for direction, types in directions.items()
        for credit_type, tally in types.items()
        if tally["count"]
    }


def without_built_at(summary: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in summary.items() if key != "builtAt"}


@pytest.mark.usefixtures("firestore")
def test_summary_of_a_day_with_entries_on_both_sides_of_midnight(capsys: pytest.CaptureFixture[str]):
    seed_around_midnights()
    capsys.readouterr()

    summary = summaries.build_daily_summary(DAY)

    assert summary["day"] == "2026-03-14"
    assert summary["byType"] == {
        "image": {"credit": {"amount": 333, "count": 4}, "debit": {"amount": 12, "count": 2}, "net": 321, "entries": 6},
        "video": {"credit": {"amount": 50, "count": 1}, "debit": {"amount": 0, "count": 0}, "net": 50, "entries": 1},
    }
    assert nonzero_sources(summary) == {
        ("purchase", "credit", "image"): (100, 1),
        ("purchase", "credit", "video"): (50, 1),
        ("text2image", "debit", "image"): (7, 1),
        ("refund", "credit", "image"): (3, 1),
        ("admin_adjustment", "credit", "image"): (30, 1),
        ("admin_adjustment", "debit", "image"): (5, 1),
        ("subscription_grant", "credit", "image"): (200, 1),
    }
    # Every allowed bucket is there, zero or not, so the shape never changes.
    assert sum(len(t) for d in summary["bySource"].values() for t in d.values()) == len(summaries.source_buckets())
    assert summary["entries"] == 7
    assert summary["usersTouched"] == 4
    assert summary["unclassified"] == {"count": 0}
    assert summary["complete"] is True
    # One count of the day, one per type and direction, one per source bucket, one of the user
    # markers; each bills one read. The entries were moved to this day after they were written,
    # so it has no markers: its 7 entries are read for their users, as for a day from before markers.
    aggregations = 2 + 2 * len(CreditType) + len(summaries.source_buckets())
    assert summary["reads"] == {"aggregationQueries": aggregations, "documents": 7, "billedReads": aggregations + 7}
    assert summaries.summary_ref(DAY).get().to_dict() == summary

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    buckets = {
        (x["source"], x["direction"], x["type"]): (x["amount"], x["count"])
        for x in lines
        if x["event"] == "daily_summary_source"
    }
    assert buckets == nonzero_sources(summary)
    [built] = [x for x in lines if x["event"] == "daily_summary_built"]
    assert (built["day"], built["entries"], built["imageNet"], built["videoNet"], built["run"]) == (
        "2026-03-14",
        7,
        321,
        50,
        "scheduled",
    )

    # The neighbours get the entries just outside: the next day's midnight and the last
    # microsecond of the previous day.
    after = summaries.build_daily_summary(DAY + timedelta(days=1))
    assert (after["entries"], after["byType"]["video"]["debit"], after["usersTouched"]) == (
        1,
        {"amount": 20, "count": 1},
        1,
    )
    before = summaries.build_daily_summary(DAY - timedelta(days=1))
    assert nonzero_sources(before) == {("admin_adjustment", "credit", "video"): (4, 1)}


@pytest.mark.usefixtures("firestore")
def test_summary_equals_a_recomputation_from_every_entry():
    seed_around_midnights()
    summary = summaries.build_daily_summary(DAY)

    # Read the whole ledger and pick the day's entries here, without the range query.
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    counts: Counter[tuple[str, str, str]] = Counter()
    amounts: Counter[tuple[str, str, str]] = Counter()
    uids = set()
    for snap in ledger.ledger_collection().stream():
        e = snap.to_dict()
        if not START <= e["createdAt"] < END:
            continue
        totals[(e["type"], e["direction"])][0] += e["amount"]
        totals[(e["type"], e["direction"])][1] += 1
        counts[(e["source"], e["direction"], e["type"])] += 1
        amounts[(e["source"], e["direction"], e["type"])] += e["amount"]
        uids.add(e["uid"])
    by_source = {key: (amounts[key], counts[key]) for key in counts}

    for credit_type in ("image", "video"):
        for direction in ("credit", "debit"):
            amount, count = totals[(credit_type, direction)]
            assert summary["byType"][credit_type][direction] == {"amount": amount, "count": count}
        net = totals[(credit_type, "credit")][0] - totals[(credit_type, "debit")][0]
        assert summary["byType"][credit_type]["net"] == net
    assert nonzero_sources(summary) == by_source
    assert summary["usersTouched"] == len(uids)
    assert summary["entries"] == sum(counts.values())


@pytest.mark.usefixtures("firestore")
def test_rebuilding_changes_nothing_but_built_at():
    seed_around_midnights()
    first = summaries.build_daily_summary(DAY)
    second = summaries.build_daily_summary(DAY, run="rebuild")
    assert without_built_at(second) == without_built_at(first)
    assert second["builtAt"] >= first["builtAt"]
    assert without_built_at(summaries.summary_ref(DAY).get().to_dict()) == without_built_at(first)
    assert len(list(db().collection(summaries.SUMMARIES).stream())) == 1


@pytest.mark.usefixtures("firestore")
def test_an_empty_day_costs_one_aggregation_and_is_still_stored():
    summary = summaries.build_daily_summary(DAY)
    assert summary["entries"] == 0 and summary["usersTouched"] == 0
    assert summary["byType"]["image"] == {
        "credit": {"amount": 0, "count": 0},
        "debit": {"amount": 0, "count": 0},
        "net": 0,
        "entries": 0,
    }
    assert nonzero_sources(summary) == {}
    assert summary["reads"] == {"aggregationQueries": 1, "documents": 0, "billedReads": 1}
    assert summaries.summary_ref(DAY).get().exists


@pytest.mark.usefixtures("firestore")
def test_rebuild_a_range_and_read_it_back():
    seed_around_midnights()
    built = summaries.rebuild(DAY - timedelta(days=1), DAY + timedelta(days=1))
    assert [s["day"] for s in built] == ["2026-03-13", "2026-03-14", "2026-03-15"]
    assert [s["entries"] for s in built] == [1, 7, 1]

    stored = summaries.summaries_between(DAY - timedelta(days=3), DAY + timedelta(days=3))
    assert [s["day"] for s in stored] == ["2026-03-13", "2026-03-14", "2026-03-15"]
    assert stored[1] == summaries.to_api(built[1])
    assert isinstance(stored[1]["builtAt"], str)
    json.dumps(stored)
    assert [s["day"] for s in summaries.summaries_between(DAY, DAY)] == ["2026-03-14"]


@pytest.mark.usefixtures("firestore")
def test_summaries_between_refuses_bad_ranges():
    with pytest.raises(InvalidArgument):
        summaries.summaries_between(DAY, DAY - timedelta(days=1))
    with pytest.raises(InvalidArgument):
        summaries.summaries_between(DAY, DAY + timedelta(days=summaries.MAX_READ_DAYS))
    assert len(summaries.summaries_between(DAY, DAY + timedelta(days=summaries.MAX_READ_DAYS - 1))) == 0


# --- users touched from the day's markers -------------------------------------------------

HISTORY_START = datetime(2026, 2, 27, 20, tzinfo=UTC)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.integers(1, 36 * 60), st.booleans()),
        min_size=1,
        max_size=25,
    )
)
def test_summaries_from_user_markers_equal_summaries_from_reading_the_days(firestore, steps):
    """Random entries of a few users over a few days (across midnights), written in time order
    through the ledger: each day's summary counts its users from the markers without reading an
    entry, and equals the summary built the old way, reading the day's entries."""
    reset_database(firestore)
    at = HISTORY_START
    for uid, minutes, debit in steps:
        at += timedelta(minutes=minutes)
        with ledger.entry_time(at):
            ledger.write_ledger_entry(request(uid=uid, amount=5))
        if debit:
            with ledger.entry_time(at + timedelta(seconds=30)):
                ledger.write_ledger_entry(request(uid=uid, amount=3, direction=DEBIT))
    history = {days.day_of(HISTORY_START) + timedelta(days=n) for n in range((at - HISTORY_START).days + 2)}
    for day in sorted(history):
        new = summaries.build_daily_summary(day, run="manual")
        old = summaries.build_daily_summary(day, run="manual", users_from_entries=True)

        def same(summary: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in summary.items() if k not in ("builtAt", "reads")}

        assert same(new) == same(old)
        assert new["reads"]["documents"] == 0
        assert old["reads"]["documents"] == new["entries"]
    reset_database(firestore)  # the closing verify runs at today's time, long after this history
