"""Ledger pages and cursors: pure cursor rules, and paging against the Firestore emulator."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from ledger_helpers import request, set_entry_times
from pydantic import ValidationError

from credits.core import generation_jobs, ledger
from credits.core.errors import InvalidArgument
from credits.core.firestore_client import db
from credits.core.ledger import CreditType, Direction, Source
from credits.core.query_spec import Position
from credits.reads import cursors, queries

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_cursor_round_trip_and_binding():
    position = Position(value=T0 + timedelta(microseconds=123456), doc_id="abc")
    cursor = cursors.encode_cursor(position, "query-1")
    assert cursors.decode_cursor(cursor, "query-1") == position
    with pytest.raises(InvalidArgument):
        cursors.decode_cursor(cursor, "query-2")


@pytest.mark.parametrize(
    "edit",
    [
        lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"),
        lambda c: "x" + c,
        lambda c: c.replace(".", ""),
        lambda c: "not a cursor",
        lambda c: "",
        lambda c: c.split(".")[0] + ".",
    ],
)
def test_edited_cursor_is_refused(edit):
    cursor = cursors.encode_cursor(Position(value=T0, doc_id="abc"), "q")
    with pytest.raises(InvalidArgument) as caught:
        cursors.decode_cursor(edit(cursor), "q")
    assert caught.value.details["field"] == "cursor"


def test_filters_parse_dates_and_refuse_nonsense():
    f = queries.LedgerFilters.model_validate({"from": "2026-03-01", "to": "2026-03-01", "limit": "10"})
    assert f.bounds() == (T0.replace(hour=0), T0.replace(hour=0) + timedelta(days=1))
    assert f.limit == 10
    for bad in (
        {"limit": "0"},
        {"limit": "201"},
        {"limit": "x"},
        {"type": "gold"},
        {"from": "yesterday"},
        {"uid": "x"},
    ):
        with pytest.raises(ValidationError):
            queries.LedgerFilters.model_validate(bad)
    with pytest.raises(InvalidArgument):
        queries.LedgerFilters.model_validate({"from": "2026-03-02", "to": "2026-03-01"}).bounds()


@pytest.fixture
def many_entries(firestore) -> list[ledger.LedgerEntry]:
    """60 entries of one user, rewritten (test-only) onto 6 timestamps, plus another user's."""
    kinds = itertools.cycle(
        [
            (Direction.CREDIT, CreditType.IMAGE),
            (Direction.CREDIT, CreditType.VIDEO),
            (Direction.DEBIT, CreditType.IMAGE),
        ]
    )
    ledger.write_ledger_entry(request(uid="pager", amount=1000))
    ledger.write_ledger_entry(request(uid="pager", amount=1000, type=CreditType.VIDEO))
    for n in range(58):
        direction, credit_type = next(kinds)
        ledger.write_ledger_entry(request(uid="pager", direction=direction, type=credit_type, amount=1 + n % 3))
    ledger.write_ledger_entry(request(uid="someone-else", amount=5))
    # Many equal timestamps: the tie-breaker on the entry id must keep pages exact.
    set_entry_times(lambda n: T0 + timedelta(seconds=n % 6))
    return [ledger.LedgerEntry.from_snapshot(s) for s in db().collection(ledger.LEDGER).stream()]


def page_through(scope: queries.Scope, **params: object) -> list[str]:
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        filters = queries.LedgerFilters.model_validate({**params, **({"cursor": cursor} if cursor else {})})
        page = queries.ledger_page(scope, filters)
        seen.extend(e.id for e in page.entries)
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("paging did not end")


def expected(entries, uid: str | None = "pager", **match: object) -> list[str]:
    chosen = [
        e
        for e in entries
        if (uid is None or e.uid == uid) and all(str(getattr(e, name)) == str(value) for name, value in match.items())
    ]
    return [e.id for e in sorted(chosen, key=lambda e: (e.created_at, e.id), reverse=True)]


@pytest.mark.parametrize(
    ("match", "limit"),
    [
        ({}, 1),
        ({}, 7),
        ({}, 50),
        ({"type": "video"}, 7),
        ({"direction": "debit"}, 7),
        ({"type": "image", "direction": "credit"}, 7),
        ({"source": "admin_adjustment", "type": "video", "direction": "credit"}, 3),
    ],
)
def test_pages_return_every_entry_once_in_order(many_entries, match, limit):
    scope = queries.Scope(field="uid", value="pager")
    assert page_through(scope, limit=limit, **match) == expected(many_entries, **match)


def test_date_range_is_inclusive_of_from_and_exclusive_of_to(many_entries):
    scope = queries.Scope(field="uid", value="pager")
    got = page_through(
        scope, limit=10, **{"from": (T0 + timedelta(seconds=2)).isoformat()}, to=(T0 + timedelta(seconds=4)).isoformat()
    )
    want = [
        e.id
        for e in sorted(many_entries, key=lambda e: (e.created_at, e.id), reverse=True)
        if e.uid == "pager" and T0 + timedelta(seconds=2) <= e.created_at < T0 + timedelta(seconds=4)
    ]
    assert got == want and want


def test_admin_scope_sees_everyone(many_entries):
    assert page_through(queries.Scope(field=None), limit=13) == expected(many_entries, uid=None)


def test_cursor_cannot_move_to_other_filters_or_users(many_entries):
    scope = queries.Scope(field="uid", value="pager")
    page = queries.ledger_page(scope, queries.LedgerFilters(limit=5))
    assert page.next_cursor
    with pytest.raises(InvalidArgument):
        queries.ledger_page(scope, queries.LedgerFilters(limit=5, type=CreditType.VIDEO, cursor=page.next_cursor))
    with pytest.raises(InvalidArgument):
        queries.ledger_page(
            queries.Scope(field="uid", value="someone-else"), queries.LedgerFilters(cursor=page.next_cursor)
        )


def test_export_iterates_every_entry_in_order(many_entries, monkeypatch):
    monkeypatch.setattr(queries, "EXPORT_BATCH", 7)
    got = [e.id for e in queries.iter_entries(queries.Scope(field="uid", value="pager"), queries.LedgerFilters())]
    assert got == expected(many_entries)


@pytest.mark.usefixtures("firestore")
def test_admin_query_resolves_job_payment_uid_and_prefixes():

    generation_jobs.job_ref("job-42").set({"uid": "u"})
    assert queries.resolve_admin_query("job-42") == queries.Scope(field="jobId", value="job-42")
    assert queries.resolve_admin_query("pi_123") == queries.Scope(field="paymentId", value="pi_123")
    assert queries.resolve_admin_query("some-uid") == queries.Scope(field="uid", value="some-uid")
    assert queries.resolve_admin_query("uid:job-42") == queries.Scope(field="uid", value="job-42")
    assert queries.resolve_admin_query("payment:abc") == queries.Scope(field="paymentId", value="abc")
    assert queries.resolve_admin_query(None) == queries.Scope(field=None)


@pytest.mark.usefixtures("firestore")
def test_job_and_payment_scopes_find_their_entries():
    ledger.write_ledger_entry(request(uid="a", amount=10, key="k1", job_id="job-1"))
    ledger.write_ledger_entry(request(uid="a", amount=3, key="k2", payment_id="pi_9"))
    ledger.write_ledger_entry(request(uid="b", amount=4, key="k3", job_id="job-1"))
    by_job = queries.ledger_page(queries.Scope(field="jobId", value="job-1"), queries.LedgerFilters())
    assert sorted(e.uid for e in by_job.entries) == ["a", "b"]
    by_payment = queries.ledger_page(queries.Scope(field="paymentId", value="pi_9"), queries.LedgerFilters())
    assert [e.amount for e in by_payment.entries] == [3]
    filtered = queries.ledger_page(
        queries.Scope(field="jobId", value="job-1"), queries.LedgerFilters(source=Source.PURCHASE)
    )
    assert filtered.entries == []
