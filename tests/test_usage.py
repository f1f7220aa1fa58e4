"""Credits spent per day (``GET /api/credits/usage``): the range rules and the pure assembly, then
the aggregations against the Firestore emulator, held against a recomputation from the entries.

Histories are written through ``write_ledger_entry`` inside ``ledger.entry_time`` (the tool the
demo seed uses to write history), so every entry, balance and chain is real and the entries
fall on chosen instants, midnights included.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from conftest import reset_database
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_helpers import request, stored_entries
from openapi_check import assert_conforms, document
from pydantic import ValidationError
from test_quotes import id_token

from credits.api.routes import app
from credits.core import ledger
from credits.core.errors import InvalidArgument
from credits.core.ledger import CreditType, Direction, Source
from credits.reads import usage
from credits.reads.usage import Breakdown, UsageQuery

IMAGE, VIDEO = CreditType.IMAGE, CreditType.VIDEO
CREDIT, DEBIT = Direction.CREDIT, Direction.DEBIT
TODAY = datetime.now(UTC).date()
FIRST = TODAY - timedelta(days=9)
"""The tests' histories start ten days ago (entries may not be written in the future)."""
_keys = itertools.count()


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# --- the range and the pure parts --------------------------------------------------------


def test_the_default_window_is_the_30_days_up_to_today():
    today = date(2026, 3, 14)
    assert UsageQuery().window(today) == (date(2026, 2, 13), today)
    assert UsageQuery(to=date(2026, 3, 1)).window(today) == (date(2026, 1, 31), date(2026, 3, 1))
    assert UsageQuery(**{"from": date(2026, 3, 10)}).window(today) == (date(2026, 3, 10), today)
    one = UsageQuery.model_validate({"from": "2026-03-14", "to": "2026-03-14"})
    assert one.window(today) == (today, today)


def test_at_most_90_days_and_from_not_after_to_naming_the_field():
    today = date(2026, 3, 14)
    ninety = UsageQuery.model_validate({"from": "2025-12-15", "to": "2026-03-14"})
    assert ninety.window(today) == (date(2025, 12, 15), today)
    for query in ({"from": "2025-12-14", "to": "2026-03-14"}, {"from": "2026-03-15", "to": "2026-03-14"}):
        with pytest.raises(InvalidArgument) as caught:
            UsageQuery.model_validate(query).window(today)
        assert caught.value.details["field"] == "from"
    with pytest.raises(InvalidArgument) as caught:
        UsageQuery.model_validate({"from": "2025-12-01"}).window(today)
    assert caught.value.details == {"field": "from", "max": 90}


@pytest.mark.parametrize(
    "query",
    [
        {"from": "20260301"},
        {"to": "2026-03-01T00:00:00Z"},
        {"from": "yesterday"},
        {"to": "2026-02-30"},
        {"from": 1767225600},
        {"by": "day"},
        {"uid": "bob"},
    ],
)
def test_malformed_parameters_are_refused(query: dict[str, Any]):
    with pytest.raises(ValidationError):
        UsageQuery.model_validate(query)


def test_the_buckets_of_each_breakdown():
    by_type = usage.buckets(Breakdown.TYPE)
    assert [(b.measure, b.type, b.sources) for b in by_type] == [
        ("spent", IMAGE, (Source.TEXT2IMAGE, Source.IMAGE2IMAGE)),
        ("spent", VIDEO, (Source.TEXT2VIDEO, Source.IMAGE2VIDEO)),
        ("refunded", IMAGE, (Source.REFUND,)),
        ("refunded", VIDEO, (Source.REFUND,)),
    ]
    by_source = usage.buckets(Breakdown.SOURCE)
    assert [(b.measure, b.type, b.source) for b in by_source] == [
        ("spent", IMAGE, Source.TEXT2IMAGE),
        ("spent", IMAGE, Source.IMAGE2IMAGE),
        ("spent", VIDEO, Source.TEXT2VIDEO),
        ("spent", VIDEO, Source.IMAGE2VIDEO),
        ("refunded", IMAGE, None),
        ("refunded", VIDEO, None),
    ]


def test_a_day_is_assembled_from_its_buckets():
    wanted = usage.buckets(Breakdown.SOURCE)
    sums = dict(zip(wanted, [10, 4, 8, 0, 3, 0], strict=True))
    day = usage.assemble_day(date(2026, 3, 14), wanted, sums)
    assert day.to_api() == {
        "day": "2026-03-14",
        "spent": {"image": 14, "video": 8},
        "refunded": {"image": 3, "video": 0},
        "bySource": {"text2image": 10, "image2image": 4, "text2video": 8, "image2video": 0},
    }
    assert usage.assemble_day(date(2026, 3, 14), usage.buckets(Breakdown.TYPE), {}).to_api()["bySource"] == {}


def test_the_contract_has_a_number_for_every_credit_type():
    schemas = document()["components"]["schemas"]
    assert schemas["CreditsPerType"]["required"] == [str(t) for t in CreditType]
    assert schemas["Usage"]["properties"]["by"]["enum"] == [str(b) for b in Breakdown]


# --- against the emulator ----------------------------------------------------------------

Write = tuple[str, CreditType, Direction, Source, int, datetime]
"""(uid, type, direction, source, amount, createdAt)"""


def write_history(writes: list[Write]) -> None:
    """Write each entry at its instant (oldest first), granting enough credits first."""
    newest: dict[str, datetime] = {}
    for uid in sorted({w[0] for w in writes}):
        for n, credit_type in enumerate(CreditType):
            newest[uid] = midnight(FIRST) - timedelta(days=1) + timedelta(hours=n)
            with ledger.entry_time(newest[uid]):
                ledger.write_ledger_entry(request(uid=uid, type=credit_type, amount=100_000))
    for uid, credit_type, direction, source, amount, at in sorted(writes, key=lambda w: w[5]):
        # A user's entries must come strictly later one after another: a tie moves on a microsecond.
        at = max(at, newest[uid] + timedelta(microseconds=1))
        newest[uid] = at
        with ledger.entry_time(at):
            ledger.write_ledger_entry(
                request(
                    uid=uid,
                    type=credit_type,
                    direction=direction,
                    source=source,
                    amount=amount,
                    key=f"usage-test:{next(_keys)}",
                    # Each job debit its own job; a refund stands alone (the verifier holds a job's
                    # refund to its debit, which these made-up amounts would not match).
                    job_id=f"job-{next(_keys)}" if source in usage.job_sources() else None,
                )
            )


def recomputed(uid: str, first: date, last: date) -> dict[str, Any]:
    """The days of the usage answer, recomputed from every stored entry of the user."""
    spending = usage.job_sources()
    days: dict[str, dict[str, Any]] = {}
    for n in range((last - first).days + 1):
        day = (first + timedelta(days=n)).isoformat()
        days[day] = {
            "day": day,
            "spent": dict.fromkeys(map(str, CreditType), 0),
            "refunded": dict.fromkeys(map(str, CreditType), 0),
            "bySource": dict.fromkeys(map(str, spending), 0),
        }
    for entry in stored_entries(uid):
        row = days.get(entry["createdAt"].astimezone(UTC).date().isoformat())
        if row is None:
            continue
        if entry["source"] in spending and entry["direction"] == "debit":
            row["spent"][entry["type"]] += entry["amount"]
            row["bySource"][entry["source"]] += entry["amount"]
        elif entry["source"] == "refund":
            row["refunded"][entry["type"]] += entry["amount"]
    return {"days": list(days.values())}


def answer(uid: str, first: date, last: date, by: Breakdown) -> dict[str, Any]:
    query = UsageQuery.model_validate({"from": first.isoformat(), "to": last.isoformat(), "by": str(by)})
    return usage.usage(uid, query, today=TODAY).to_api()


def assert_matches_entries(uid: str, first: date, last: date) -> None:
    expected = recomputed(uid, first, last)["days"]
    for by in Breakdown:
        got = answer(uid, first, last, by)
        days = (last - first).days + 1
        buckets = len(usage.buckets(by))
        assert got["aggregations"] in (1, 1 + days * buckets)
        want = [{**d, "bySource": d["bySource"] if by is Breakdown.SOURCE else {}} for d in expected]
        assert got["days"] == want, by
        for measure in ("spent", "refunded"):
            for credit_type in map(str, CreditType):
                assert got["totals"][measure][credit_type] == sum(d[measure][credit_type] for d in expected)


def test_sums_per_day_by_type_and_by_source_equal_the_entries(firestore):
    d0, d1, d2 = FIRST, FIRST + timedelta(days=1), FIRST + timedelta(days=2)
    last_microsecond = midnight(d1) - timedelta(microseconds=1)
    writes: list[Write] = [
        ("alice", IMAGE, DEBIT, Source.TEXT2IMAGE, 10, midnight(d0) + timedelta(hours=9)),
        ("alice", IMAGE, DEBIT, Source.IMAGE2IMAGE, 4, midnight(d0) + timedelta(hours=10)),
        ("alice", IMAGE, CREDIT, Source.REFUND, 4, midnight(d0) + timedelta(hours=10, minutes=1)),
        ("alice", VIDEO, DEBIT, Source.TEXT2VIDEO, 8, midnight(d0) + timedelta(hours=11)),
        # The last instant of a day and the first of the next: each counts once, on its own day.
        ("alice", IMAGE, DEBIT, Source.TEXT2IMAGE, 6, last_microsecond),
        ("alice", IMAGE, DEBIT, Source.TEXT2IMAGE, 2, midnight(d1)),
        ("alice", VIDEO, DEBIT, Source.IMAGE2VIDEO, 16, midnight(d1) + timedelta(hours=3)),
        # A refund on the day after its debit: counted on its own day, never netted.
        ("alice", VIDEO, CREDIT, Source.REFUND, 16, midnight(d2) + timedelta(minutes=5)),
        # Not spending: admin debits, purchases, reversals.
        ("alice", IMAGE, DEBIT, Source.ADMIN_ADJUSTMENT, 7, midnight(d1) + timedelta(hours=4)),
        ("alice", IMAGE, CREDIT, Source.PURCHASE, 100, midnight(d1) + timedelta(hours=5)),
        ("alice", VIDEO, DEBIT, Source.PURCHASE_REVERSAL, 5, midnight(d2) + timedelta(hours=6)),
        # Another user's spending and refunds on the same days: never counted for alice.
        ("bob", IMAGE, DEBIT, Source.TEXT2IMAGE, 50, midnight(d0) + timedelta(hours=9)),
        ("bob", IMAGE, CREDIT, Source.REFUND, 50, midnight(d0) + timedelta(hours=9, minutes=1)),
        ("bob", VIDEO, DEBIT, Source.TEXT2VIDEO, 30, midnight(d1) + timedelta(hours=1)),
    ]
    write_history(writes)

    by_source = answer("alice", d0, d2, Breakdown.SOURCE)
    assert [(d["day"], d["spent"], d["refunded"]) for d in by_source["days"]] == [
        (d0.isoformat(), {"image": 20, "video": 8}, {"image": 4, "video": 0}),
        (d1.isoformat(), {"image": 2, "video": 16}, {"image": 0, "video": 0}),
        (d2.isoformat(), {"image": 0, "video": 0}, {"image": 0, "video": 16}),
    ]
    assert by_source["days"][0]["bySource"] == {"text2image": 16, "image2image": 4, "text2video": 8, "image2video": 0}
    assert by_source["totals"] == {
        "spent": {"image": 22, "video": 24},
        "refunded": {"image": 4, "video": 16},
        "bySource": {"text2image": 18, "image2image": 4, "text2video": 8, "image2video": 16},
    }
    assert by_source["sources"] == [
        {"source": "text2image", "type": "image"},
        {"source": "image2image", "type": "image"},
        {"source": "text2video", "type": "video"},
        {"source": "image2video", "type": "video"},
    ]
    assert_matches_entries("alice", d0 - timedelta(days=1), d2 + timedelta(days=1))
    assert_matches_entries("bob", d0, d2)
    bob = answer("bob", d0, d0, Breakdown.TYPE)["days"][0]
    assert (bob["spent"], bob["refunded"]) == ({"image": 50, "video": 0}, {"image": 50, "video": 0})


def test_every_aggregation_reads_at_the_first_ones_read_time(firestore):
    write_history([("alice", IMAGE, DEBIT, Source.TEXT2IMAGE, 10, midnight(FIRST) + timedelta(hours=1))])
    first = answer("alice", FIRST, FIRST, Breakdown.TYPE)
    read_time = datetime.fromisoformat(first["readTime"])
    assert first["days"][0]["spent"]["image"] == 10
    # An entry written after that instant (today, now) is not in a chart read at it.
    ledger.write_ledger_entry(request(uid="alice", direction=DEBIT, source=Source.TEXT2IMAGE, amount=3, job_id="late"))
    query = UsageQuery.model_validate({"from": FIRST.isoformat(), "to": TODAY.isoformat()})
    count, _ = usage._count(usage._window("alice", midnight(FIRST), midnight(TODAY) + timedelta(days=1)))
    assert count == 2  # the old debit and the new one (the opening grants are the day before)
    pinned = usage._sum(usage._bucket_query("alice", TODAY, usage.buckets(Breakdown.TYPE)[0]), read_time)
    assert pinned == 0
    assert usage.usage("alice", query, today=TODAY).days[-1].spent[IMAGE] == 3


def test_a_range_without_entries_costs_one_aggregation(firestore):
    write_history([("bob", IMAGE, DEBIT, Source.TEXT2IMAGE, 10, midnight(FIRST) + timedelta(hours=1))])
    got = answer("alice", FIRST, TODAY, Breakdown.SOURCE)
    assert got["aggregations"] == 1
    assert len(got["days"]) == 10
    assert all(d["spent"] == {"image": 0, "video": 0} for d in got["days"])
    assert got["totals"]["bySource"] == {"text2image": 0, "image2image": 0, "text2video": 0, "image2video": 0}


HISTORY = st.lists(
    st.tuples(
        st.sampled_from(["alice", "alice", "bob"]),
        st.sampled_from(
            [
                (IMAGE, DEBIT, Source.TEXT2IMAGE),
                (IMAGE, DEBIT, Source.IMAGE2IMAGE),
                (VIDEO, DEBIT, Source.TEXT2VIDEO),
                (VIDEO, DEBIT, Source.IMAGE2VIDEO),
                (IMAGE, CREDIT, Source.REFUND),
                (VIDEO, CREDIT, Source.REFUND),
                (IMAGE, DEBIT, Source.ADMIN_ADJUSTMENT),
                (VIDEO, CREDIT, Source.SUBSCRIPTION_GRANT),
            ]
        ),
        st.integers(1, 40),
        st.integers(0, 4 * 24 * 60 - 1),  # minutes into the four days
    ),
    max_size=25,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=HISTORY)
def test_random_histories_sum_as_their_entries(firestore, history):
    reset_database(firestore)
    writes: list[Write] = [
        (uid, credit_type, direction, source, amount, midnight(FIRST) + timedelta(minutes=minute))
        for uid, (credit_type, direction, source), amount, minute in history
    ]
    write_history(writes)
    assert_matches_entries("alice", FIRST, FIRST + timedelta(days=3))


# --- the route -----------------------------------------------------------------------------


def get_usage(query: dict[str, Any], uid: str | None = "alice") -> Any:
    headers = {"Authorization": f"Bearer {id_token(uid)}"} if uid else {}
    return app.test_client().get(f"/api/credits/usage?{urlencode(query)}", headers=headers)


def test_the_route_answers_the_callers_own_usage_as_the_contract_says(firestore, auth_emulator):
    at = midnight(FIRST) + timedelta(hours=12)
    write_history(
        [
            ("alice", IMAGE, DEBIT, Source.TEXT2IMAGE, 10, at),
            ("alice", IMAGE, CREDIT, Source.REFUND, 10, at + timedelta(minutes=1)),
            ("bob", VIDEO, DEBIT, Source.TEXT2VIDEO, 12, at),
        ]
    )
    for by in ("type", "source"):
        response = get_usage({"from": FIRST.isoformat(), "to": TODAY.isoformat(), "by": by})
        assert response.status_code == 200, response.json
        assert_conforms("get", "/api/credits/usage", 200, response.json)
        assert response.json["days"][0]["spent"] == {"image": 10, "video": 0}
        assert response.json["totals"]["spent"] == {"image": 10, "video": 0}
        assert response.json["totals"]["refunded"] == {"image": 10, "video": 0}
    bob = get_usage({"from": FIRST.isoformat(), "to": TODAY.isoformat()}, uid="bob")
    assert bob.json["totals"] == {
        "spent": {"image": 0, "video": 12},
        "refunded": {"image": 0, "video": 0},
        "bySource": {},
    }
    default = get_usage({})
    assert (default.json["from"], default.json["to"], default.json["by"]) == (
        (TODAY - timedelta(days=29)).isoformat(),
        TODAY.isoformat(),
        "type",
    )
    assert len(default.json["days"]) == 30


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-01-01", "to": "2026-04-01"}, "from"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "from"),
        ({"from": "2026-3-1"}, "from"),
        ({"to": "2026-03-01T00:00:00"}, "to"),
        ({"by": "model"}, "by"),
        ({"uid": "bob"}, "uid"),
    ],
)
def test_the_route_refuses_bad_ranges_naming_the_field(firestore, auth_emulator, query, field):
    response = get_usage(query)
    assert response.status_code == 400
    assert_conforms("get", "/api/credits/usage", 400, response.json)
    error = response.json["error"]
    assert error["code"] == "invalid_argument"
    named = error["details"].get("field") or [e["field"] for e in error["details"]["errors"]]
    assert named in (field, [field])


def test_the_route_needs_a_signed_in_caller(firestore, auth_emulator):
    anonymous = get_usage({}, uid=None)
    assert (anonymous.status_code, anonymous.json["error"]["code"]) == (401, "unauthenticated")
    assert_conforms("get", "/api/credits/usage", 401, anonymous.json)
