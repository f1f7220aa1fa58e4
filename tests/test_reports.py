"""The admin overview reports: typed pages of low-balance users and of anomalies."""

from __future__ import annotations

import pytest
from ledger_helpers import request
from pydantic import ValidationError

from credits.core import anomalies, ledger
from credits.core.errors import InvalidArgument
from credits.core.ledger import CreditType
from credits.core.query_spec import Position
from credits.reads import cursors, reports

pytestmark = pytest.mark.usefixtures("firestore")


def test_low_balance_users_come_lowest_first_in_typed_pages(accounts):
    accounts("a", "b", "c", "d")  # their emails, <uid>@example.com, come from Firebase Auth
    for uid, amount in (("a", 5), ("b", 3), ("c", 8), ("d", 30)):
        ledger.write_ledger_entry(request(uid=uid, amount=amount))

    first = reports.low_balance_users(reports.LowBalanceFilters(below=10, limit=2))
    assert [(u.uid, u.email, u.balances.of(CreditType.IMAGE)) for u in first.users] == [
        ("b", "b@example.com", 3),
        ("a", "a@example.com", 5),
    ]
    assert first.next_cursor is not None
    rest = reports.low_balance_users(reports.LowBalanceFilters(below=10, limit=2, cursor=first.next_cursor))
    assert [u.uid for u in rest.users] == ["c"] and rest.next_cursor is None

    shown = first.to_api()
    assert shown["filters"] == {"type": "image", "below": 10}
    assert shown["users"][0] | {"updatedAt": None, "lastActivity": None} == {
        "uid": "b",
        "email": "b@example.com",
        "image": 3,
        "video": 0,
        "updatedAt": None,
        "lastActivity": None,
        "expiring": {"image": None, "video": None},
    }
    assert shown["users"][0]["lastActivity"] == shown["users"][0]["updatedAt"]


def test_a_cursor_of_one_report_does_not_page_another(accounts):
    for uid in ("a", "b", "c"):
        ledger.write_ledger_entry(request(uid=uid, amount=1))
    first = reports.low_balance_users(reports.LowBalanceFilters(below=10, limit=1))
    with pytest.raises(InvalidArgument):
        reports.low_balance_users(reports.LowBalanceFilters(below=11, limit=1, cursor=first.next_cursor))
    with pytest.raises(InvalidArgument):
        reports.anomalies_page(reports.AnomalyFilters(cursor=first.next_cursor))
    with pytest.raises(ValidationError):
        reports.LowBalanceFilters.model_validate({"type": "gold"})


def test_anomalies_come_newest_first_in_typed_pages():
    for n in range(3):
        anomalies.record(anomalies.Kind.DUPLICATE_WEBHOOK, dedupe_key=f"evt_{n}", uid="u", eventId=f"evt_{n}")
    anomalies.record(anomalies.Kind.PARTIAL_REVERSAL, uid="u", amount=5)

    page = reports.anomalies_page(reports.AnomalyFilters(kind=anomalies.Kind.DUPLICATE_WEBHOOK, limit=2))
    assert [a.fields["eventId"] for a in page.anomalies] == ["evt_2", "evt_1"]
    rest = reports.anomalies_page(
        reports.AnomalyFilters(kind=anomalies.Kind.DUPLICATE_WEBHOOK, cursor=page.next_cursor)
    )
    assert [a.fields["eventId"] for a in rest.anomalies] == ["evt_0"] and rest.next_cursor is None
    shown = page.to_api()
    assert shown["filters"] == {"kind": "duplicate_webhook"}
    first = shown["anomalies"][0]
    assert (first["kind"], first["uid"], first["eventId"], first["id"]) == (
        "duplicate_webhook",
        "u",
        "evt_2",
        page.anomalies[0].id,
    )
    assert first["createdAt"] == page.anomalies[0].created_at.isoformat()
    assert len(reports.anomalies_page(reports.AnomalyFilters()).anomalies) == 4


def test_cursors_are_the_signed_tokens_of_every_paged_read():
    cursor = cursors.encode_cursor(Position(value=7, doc_id="u"), "q")
    assert cursors.decode_count_cursor(cursor, "q") == (7, "u")
    with pytest.raises(InvalidArgument):
        cursors.decode_time_cursor(cursor, "q")
