"""The Activity feed against the Firestore emulator: merge, linkage, filters, paging, privacy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ledger_helpers import job_document, request, set_entry_times

from credits.core import generation_jobs, ledger
from credits.core.errors import InvalidArgument, NotFound
from credits.core.firestore_client import db
from credits.core.ledger import Direction
from credits.flows import jobs
from credits.reads import activity, activity_log

pytestmark = pytest.mark.usefixtures("firestore")

NOW = datetime.now(UTC)


def job(job_id: str, *, age: timedelta, **fields: Any) -> None:
    generation_jobs.job_ref(job_id).set(job_document(createdAt=NOW - age, **fields))


def bill(job_id: str, status: str | None = None) -> None:
    if status:
        generation_jobs.job_ref(job_id).update({"status": status})
    jobs.bill_job(job_id)


def feed(uid: str = "alice", **params: Any) -> activity.ActivityPage:
    """A page of the feed once the triggers have projected every write so far (the backfill does it here)."""
    activity_log.backfill()
    return activity.feed(uid, activity.ActivityFilters.model_validate(params))


def test_feed_merges_jobs_and_entries_newest_first_with_links():
    ledger.write_ledger_entry(request(uid="alice", amount=100, reason="Welcome"))
    job("j1", age=timedelta(hours=3))
    bill("j1")
    bill("j1", "completed")
    job("j2", age=timedelta(hours=2), influencerId="inf-nova", influencerName="Nova")
    bill("j2")
    bill("j2", "failed")

    items = feed().items

    times = [(item.time, item.id) for item in items]
    assert times == sorted(times, reverse=True)
    by_id = {item.id: item.to_api() for item in items}
    generation = by_id["job:j1"]
    assert generation["type"] == "generation_completed"
    assert generation["summary"] == "Generated 5 images (HQ) for Luna"
    assert generation["credits"]["charged"] == 10 and generation["credits"]["net"] == -10
    failed = by_id["job:j2"]
    assert failed["type"] == "generation_failed"
    assert (failed["credits"]["charged"], failed["credits"]["refunded"], failed["credits"]["net"]) == (10, 10, 0)
    # The All view: two jobs carrying their credits, and the grant; no job's entry twice.
    assert len(items) == 3 and all(item.summary for item in items)
    [grant] = [item for item in items if item.kind is activity.Kind.CREDITS]
    assert grant.to_api()["jobId"] is None

    credits = {item.id: item.to_api() for item in feed(type="credits").items}
    assert len(credits) == 4  # grant, two debits, one refund
    consumed = credits[f"entry:{generation['credits']['debitEntryId']}"]
    assert (consumed["type"], consumed["action"], consumed["delta"], consumed["jobId"]) == (
        "credits_consumed",
        "consume",
        -10,
        "j1",
    )
    assert consumed["generationItemId"] == "job:j1" and consumed["balanceAfter"] == 90
    refund = credits[f"entry:{failed['credits']['refundEntryId']}"]
    assert (refund["type"], refund["action"], refund["delta"]) == ("credits_refunded", "refund", 10)
    assert refund["generationItemId"] == "job:j2"


def test_entries_store_job_id_as_an_explicit_null():
    # The All view's jobId == null query matches only a stored null, never a missing field.
    ledger.write_ledger_entry(request(uid="alice", amount=5))
    [snap] = db().collection(ledger.LEDGER).stream()
    data = snap.to_dict() or {}
    assert "jobId" in data and data["jobId"] is None


def test_every_credit_item_is_a_persisted_entry():
    ledger.write_ledger_entry(request(uid="alice", amount=30))
    job("j1", age=timedelta(minutes=5))
    bill("j1")
    entry_ids = {s.id for s in db().collection(ledger.LEDGER).stream()}
    credit_items = [item for item in feed(type="credits").items]
    assert {item.id.removeprefix("entry:") for item in credit_items} == entry_ids


def test_type_and_range_filters():
    ledger.write_ledger_entry(request(uid="alice", amount=100))
    job("recent", age=timedelta(days=1))
    job("old", age=timedelta(days=10))
    job("ancient", age=timedelta(days=40))

    assert {i.id for i in feed(type="generation", range="7d").items} == {"job:recent"}
    assert {i.id for i in feed(type="generation", range="30d").items} == {"job:recent", "job:old"}
    assert {i.id for i in feed(type="generation", range="all").items} == {"job:recent", "job:old", "job:ancient"}
    assert all(i.kind is activity.Kind.CREDITS for i in feed(type="credits").items)


def test_influencer_filter_applies_to_jobs_and_their_credits():
    ledger.write_ledger_entry(request(uid="alice", amount=100))
    job("luna", age=timedelta(hours=1))
    bill("luna")
    job("nova", age=timedelta(hours=2), influencerId="inf-nova", influencerName="Nova")
    bill("nova")

    assert [i.id for i in feed(influencerId="inf-nova").items] == ["job:nova"]
    credit_items = feed(influencerId="inf-nova", type="credits").items
    assert [i.to_api()["jobId"] for i in credit_items] == ["nova"]


def test_empty_result_echoes_the_filters():
    page = feed(type="generation", range="7d", influencerId="nobody")
    assert page.to_api() == {
        "items": [],
        "nextCursor": None,
        "filters": {"range": "7d", "type": "generation", "influencerId": "nobody"},
    }


def test_load_more_pages_through_everything_once_across_equal_times():
    same_time = NOW - timedelta(hours=1)
    for n in range(7):
        job(f"t{n}", age=timedelta(hours=1))
    for n in range(8):
        ledger.write_ledger_entry(request(uid="alice", amount=1 + n))
    batch = db().batch()
    for snap in db().collection(ledger.LEDGER).stream():
        batch.update(snap.reference, {"createdAt": same_time})  # test-only: force equal times
    batch.commit()

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 4}
        if cursor:
            params["cursor"] = cursor
        page = feed(**params)
        seen.extend(item.id for item in page.items)
        cursor = page.next_cursor
        if not cursor:
            break
    assert len(seen) == 15 and len(set(seen)) == 15
    assert seen == sorted(seen, reverse=True)  # all at one time: ordered by item id


def page_through(limit: int, **params: Any) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        page = feed(limit=limit, **params, **({"cursor": cursor} if cursor else {}))
        assert len(page.items) <= limit
        seen.extend(item.id for item in page.items)
        cursor = page.next_cursor
        if not cursor:
            return seen


def test_all_view_pages_jobs_and_unlinked_entries_once_across_equal_times():
    """Jobs with debits and refunds among grants, many at one instant: no item twice, none missing."""
    same_time = NOW - timedelta(hours=1)
    ledger.write_ledger_entry(request(uid="alice", amount=1000))
    for n in range(6):
        job(f"m{n}", age=timedelta(hours=1))  # every job at same_time
        bill(f"m{n}")
    for n in range(3):
        bill(f"m{n}", "failed")
    for n in range(5):
        ledger.write_ledger_entry(request(uid="alice", amount=1 + n))
    # Half the entries exactly at the jobs' time, the rest a second either side.
    set_entry_times(lambda n: same_time + timedelta(seconds=(0, 1, -1)[n % 3] if n % 2 else 0))
    everything = list(db().collection(ledger.LEDGER).stream())
    unlinked = {f"entry:{s.id}" for s in everything if (s.to_dict() or {})["jobId"] is None}
    linked = {f"entry:{s.id}" for s in everything} - unlinked
    assert len(unlinked) == 6 and len(linked) == 9  # 6 debits and 3 refunds
    jobs_shown = {f"job:m{n}" for n in range(6)}
    ordered = {item.id: (item.time, item.id) for item in feed(type="all", range="all").items}

    for limit in (1, 2, 3, 5, 50):
        seen = page_through(limit, range="all")
        assert len(seen) == len(set(seen)), limit
        assert set(seen) == jobs_shown | unlinked, limit
        assert seen == sorted(seen, key=lambda item_id: ordered[item_id], reverse=True), limit
        credits_view = page_through(limit, type="credits", range="all")
        assert len(credits_view) == len(set(credits_view)) == 15, limit
        assert set(credits_view) == unlinked | linked, limit


def test_job_items_and_their_entries_stay_reachable_in_the_drawer():
    ledger.write_ledger_entry(request(uid="alice", amount=100))
    job("r1", age=timedelta(minutes=1))
    bill("r1")
    bill("r1", "failed")
    detail = activity.item_detail("alice", "job:r1")
    assert [(e["direction"], e["amount"]) for e in detail["entries"]] == [("debit", 10), ("credit", 10)]
    for entry in detail["entries"]:
        entry_detail = activity.item_detail("alice", f"entry:{entry['id']}")
        assert entry_detail["job"]["id"] == "r1" and entry_detail["entries"][0]["id"] == entry["id"]


def test_influencers_are_distinct_sorted_by_name_with_their_latest_name():
    job("a", age=timedelta(hours=5), influencerId="inf-nova", influencerName="Nova (old)")
    job("b", age=timedelta(hours=4), influencerId="inf-nova", influencerName="Nova")
    job("c", age=timedelta(hours=3), influencerId="inf-luna", influencerName="luna")
    job("d", age=timedelta(hours=2), influencerId="inf-zed", influencerName=None)
    job("e", age=timedelta(hours=1), influencerId=None, influencerName=None)
    job("f", age=timedelta(hours=1), influencerId="x" * 129, influencerName="Too long")
    job("g", age=timedelta(hours=1), uid="bob", influencerId="inf-bob", influencerName="Bob's")

    assert activity.influencers("alice") == [
        {"id": "inf-zed", "name": "inf-zed"},
        {"id": "inf-luna", "name": "luna"},
        {"id": "inf-nova", "name": "Nova"},
    ]
    assert activity.influencers("nobody") == []


def test_influencers_read_a_bounded_projection_of_recent_jobs():
    spec = activity.influencers_spec("alice")
    assert spec.limit == activity.INFLUENCER_SCAN == 1_000
    assert list(spec.select or ()) == ["influencerId", "influencerName"]
    assert spec.shape().equality == frozenset({"uid"})


def test_first_page_is_50_items_newest_first():
    for n in range(60):
        job(f"p{n:02d}", age=timedelta(minutes=n))
    page = feed()
    assert len(page.items) == 50
    assert page.items[0].id == "job:p00" and page.items[-1].id == "job:p49"
    assert page.next_cursor


def test_cursor_from_other_filters_is_refused():
    for n in range(3):
        job(f"c{n}", age=timedelta(minutes=n))
    cursor = feed(limit=1).next_cursor
    with pytest.raises(InvalidArgument):
        feed(limit=1, type="credits", cursor=cursor)
    with pytest.raises(InvalidArgument):
        feed("mallory", limit=1, cursor=cursor)


def test_other_users_items_are_invisible():
    ledger.write_ledger_entry(request(uid="bob", amount=100))
    job("bobs", uid="bob", age=timedelta(minutes=1))
    bill("bobs")
    assert feed().items == []
    bob_entry = next(s.id for s in db().collection(ledger.LEDGER).stream())
    for item_id in ("job:bobs", f"entry:{bob_entry}", "job:missing", "entry:missing", "nonsense", "job:"):
        with pytest.raises(NotFound):
            activity.item_detail("alice", item_id)


def test_detail_of_a_generation_and_of_its_debit():
    ledger.write_ledger_entry(request(uid="alice", amount=100))
    job("d1", age=timedelta(minutes=1), outputs=["https://example.com/1.png"])
    bill("d1")
    bill("d1", "completed")

    detail = activity.item_detail("alice", "job:d1")

    assert detail["job"]["quality"] == "hq" and detail["job"]["aspectRatio"] == "9:16"
    assert detail["job"]["influencerName"] == "Luna" and detail["job"]["outputs"] == ["https://example.com/1.png"]
    [debit] = detail["entries"]
    assert (debit["delta"], debit["balance_after"], debit["jobId"]) == (-10, 90, "d1")
    entry_detail = activity.item_detail("alice", f"entry:{debit['id']}")
    assert entry_detail["job"]["id"] == "d1"
    assert entry_detail["item"]["delta"] == -10


def test_admin_debit_shows_as_adjusted():
    ledger.write_ledger_entry(request(uid="alice", amount=10))
    ledger.write_ledger_entry(request(uid="alice", amount=4, direction=Direction.DEBIT, reason="Chargeback"))
    types = [i.to_api()["type"] for i in feed(type="credits").items]
    assert types == ["credits_adjusted", "credits_adjusted"]
