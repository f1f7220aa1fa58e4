"""CSV exports as Activity items, through the API routes against the Firestore and Auth emulators.

A user's export is written to their Activity when its download link is made (or its
bearer-token stream starts), with its filters, and gets its row count once the file was
streamed to the end. Admin exports are not the admin's own credit changes and leave no item.
"""

from __future__ import annotations

from typing import Any

import pytest
from ledger_helpers import request
from openapi_check import assert_conforms
from test_quotes import id_token

from credits.api.routes import app
from credits.core import ledger
from credits.core.errors import NotFound
from credits.core.ledger import Source
from credits.reads import activity, activity_log

pytestmark = pytest.mark.usefixtures("firestore", "auth_emulator")


@pytest.fixture(autouse=True)
def link_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPORT_LINK_SECRET", "test-export-link-key")


def headers(uid: str, **claims: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {id_token(uid, **claims)}"}


def activity_page(uid: str = "alice", **query: str) -> dict[str, Any]:
    response = app.test_client().get("/api/activity", query_string=query, headers=headers(uid))
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    assert_conforms("get", "/api/activity", 200, body)
    return body


def exports(uid: str = "alice", **query: str) -> list[dict[str, Any]]:
    return [item for item in activity_page(uid, **query)["items"] if item["kind"] == "export"]


def make_link(uid: str = "alice", **filters: str) -> str:
    response = app.test_client().post("/api/credits/export-link", json=filters, headers=headers(uid))
    assert response.status_code == 200, response.get_json()
    url: str = response.get_json()["url"]
    return url


def grant(uid: str, amount: int, source: Source = Source.ADMIN_ADJUSTMENT) -> None:
    ledger.write_ledger_entry(request(uid=uid, amount=amount, source=source))


def test_a_link_shows_as_an_export_item_that_gets_its_rows_once_downloaded():
    for amount in (5, 7, 9):
        grant("alice", amount)
    url = make_link(type="image")

    [requested] = exports()
    assert (requested["type"], requested["summary"], requested["status"]) == (
        "export_requested",
        "Exporting entries as CSV",
        "requested",
    )
    assert requested["filters"] == {"type": "image"} and requested["rows"] is None

    download = app.test_client().get(url)
    assert download.status_code == 200 and len(download.get_data(as_text=True).splitlines()) == 1 + 3

    [done] = exports()
    assert done["id"] == requested["id"] and done["time"] == requested["time"]
    assert (done["type"], done["summary"], done["rows"]) == ("export_completed", "Exported 3 entries as CSV", 3)
    detail = app.test_client().get(f"/api/activity/{done['id']}", headers=headers("alice"))
    assert detail.status_code == 200
    assert detail.get_json() == {"item": done, "job": None, "entries": []}


def test_the_row_count_is_what_the_filters_selected_and_one_entry_is_singular():
    grant("alice", 5)
    grant("alice", 6, Source.PURCHASE)
    app.test_client().get(make_link(source="purchase")).get_data()  # streamed to the end
    [item] = exports()
    assert (item["summary"], item["filters"]) == ("Exported 1 entry as CSV", {"source": "purchase"})


def test_the_bearer_token_export_is_recorded_too():
    grant("alice", 5)
    response = app.test_client().get("/api/credits/export.csv", headers=headers("alice"))
    assert response.status_code == 200
    response.get_data()  # stream it to the end
    [item] = exports()
    assert (item["rows"], item["filters"]) == (1, {})


def test_a_refused_export_records_nothing():
    response = app.test_client().post(
        "/api/credits/export-link", json={"from": "2026-02-01", "to": "2026-01-01"}, headers=headers("alice")
    )
    assert response.status_code == 400
    response = app.test_client().get("/api/credits/export.csv?from=2026-02-01&to=2026-01-01", headers=headers("alice"))
    assert response.status_code == 400
    assert exports() == []


def test_exports_are_listed_by_all_and_export_and_by_no_other_filter():
    grant("alice", 5)
    make_link()
    assert len(exports(type="all")) == 1
    export_page = activity_page(type="export")["items"]
    assert [item["kind"] for item in export_page] == ["export"]
    for query in ({"type": "credits"}, {"type": "generation"}, {"influencerId": "inf-luna"}):
        assert exports(**query) == [], query


def test_an_admin_export_leaves_no_item_and_another_user_cannot_see_an_export(accounts):
    accounts("alice", "bob", "root")
    grant("alice", 5)
    response = app.test_client().post(
        "/api/admin/credits/export-link", json={"q": "alice"}, headers=headers("root", admin=True)
    )
    assert response.status_code == 200, response.get_json()
    app.test_client().get(response.get_json()["url"]).get_data()
    assert exports("root", type="export") == [] and exports("alice", type="export") == []

    make_link("alice")
    [item] = exports("alice")
    assert exports("bob", type="export") == []
    with pytest.raises(NotFound):
        activity.item_detail("bob", item["id"])
    stranger = app.test_client().get(f"/api/activity/{item['id']}", headers=headers("bob"))
    assert stranger.status_code == 404


def test_a_download_cut_short_leaves_the_export_requested():
    for amount in (1, 2, 3):
        grant("alice", amount)
    response = app.test_client().get(make_link())
    lines = iter(response.response)
    next(lines)  # the header only: the browser went away
    response.close()
    [item] = exports()
    assert item["rows"] is None and item["status"] == "requested"


def test_rows_of_an_export_without_an_item_write_nothing():
    assert not activity_log.record_export_rows("alice", "no-such-export", 3)
    assert not activity_log.item_ref("alice", "export:no-such-export").get().exists
