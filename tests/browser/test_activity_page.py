"""Activity in a real browser: groups, filters, Load more, the detail drawer, deep links, analytics."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from e2e import helpers
from playwright.sync_api import Page, Route, expect

from browser.conftest import (
    ALICE,
    APP,
    BOB,
    api_get,
    axe_violations,
    id_token,
    no_horizontal_scroll,
    screenshot,
    sign_in,
)
from browser.pages import activity_list, data_layer, feed, item_links, shown_ids


def opened_events(page: Page) -> list[dict[str, Any]]:
    """The properties of every ``activity_item_opened`` the page has recorded, in order."""
    return [e[2] for e in data_layer(page) if e[1] == "activity_item_opened"]


def opened_properties(token: str, item_id: str) -> dict[str, Any]:
    """The epic's properties of opening ``item_id``, from what its detail links to."""
    detail = api_get(f"/api/activity/{item_id}", token)
    return {
        "activity_type": detail["item"]["type"],
        "has_generation_link": detail["job"] is not None,
        "has_credit_link": len(detail["entries"]) > 0,
    }


def hold_detail(page: Page, item_id: str) -> Callable[[], None]:
    """Hold the page's request for the detail of ``item_id`` until the returned function is
    called; it lets the request through and returns once the answer has reached the page."""
    path = f"/api/activity/{item_id}"

    def matches(url: str) -> bool:
        return unquote(urlparse(url).path) == path

    held: list[Route] = []
    page.route(matches, lambda route: held.append(route))

    def release() -> None:
        deadline = time.monotonic() + 15
        while not held:
            assert time.monotonic() < deadline, f"the page never asked for {path}"
            page.wait_for_timeout(50)
        with page.expect_request_finished(lambda request: matches(request.url)):
            held[0].continue_()
        page.unroute(matches)

    return release


def test_the_feed_groups_by_day_newest_first_and_loads_more(open_page) -> None:
    page = open_page().page
    sign_in(page, ALICE, "/activity")
    items = feed(id_token(ALICE))
    expected = [item["id"] for item in items]
    assert len(expected) > 50, "the demo data should fill more than one page"

    expect(page.get_by_role("heading", name="Activity", level=1)).to_be_visible()
    groups = activity_list(page).get_by_role("heading", level=2)
    expect(groups.first).to_have_text("Today")
    expect(activity_list(page).get_by_role("heading", name="Yesterday")).to_be_visible()
    assert shown_ids(page) == expected[:50]
    # A generation carries its credits; its debit and refund are not separate rows here.
    assert [i for i in items if i["kind"] == "credits" and i.get("jobId")] == []
    first_generation = item_links(page).filter(has_text=re.compile(r"−\d+ credits|\+\d+ refunded")).first
    expect(first_generation).to_be_visible()
    screenshot(page, "activity")

    page.get_by_role("button", name="Load more").click()
    expect(item_links(page)).to_have_count(min(len(expected), 100))
    assert shown_ids(page) == expected[:100]
    assert axe_violations(page) == []


def test_filters_change_the_items_and_the_url_and_survive_a_reload(open_page) -> None:
    page = open_page().page
    sign_in(page, ALICE, "/activity")
    token = id_token(ALICE)
    expect(item_links(page).first).to_be_visible()

    page.get_by_role("combobox", name="Type").select_option(label="Credits")
    expect(page).to_have_url(f"{APP}/activity?type=credits")
    expected = [i["id"] for i in feed(token, type="credits")][:50]
    expect(item_links(page).first).to_have_attribute("data-item-id", expected[0])
    assert shown_ids(page) == expected
    assert all(i.startswith("entry:") for i in expected)

    page.get_by_role("combobox", name="Type").select_option(label="Generation")
    page.get_by_role("combobox", name="Date range").select_option(label="Last 7 days")
    expect(page).to_have_url(f"{APP}/activity?range=7d&type=generation")
    expected = [i["id"] for i in feed(token, type="generation", range="7d")][:50]
    expect(item_links(page).first).to_have_attribute("data-item-id", expected[0])
    assert shown_ids(page) == expected

    influencers = api_get("/api/activity/influencers", token)["influencers"]
    assert {i["name"] for i in influencers} >= {"Luna", "Nova"}
    options = page.get_by_role("combobox", name="AI Influencer").locator("option").all_inner_texts()
    assert options == ["All influencers"] + [i["name"] for i in influencers]
    luna = next(i["id"] for i in influencers if i["name"] == "Luna")
    page.get_by_role("combobox", name="AI Influencer").select_option(label="Luna")
    expect(page).to_have_url(f"{APP}/activity?range=7d&type=generation&influencer={luna}")
    expected = [i["id"] for i in feed(token, type="generation", range="7d", influencerId=luna)][:50]
    expect(item_links(page).first).to_have_attribute("data-item-id", expected[0])
    assert shown_ids(page) == expected
    expect(item_links(page).filter(has_text="Nova")).to_have_count(0)

    page.reload()
    expect(page.get_by_role("combobox", name="AI Influencer")).to_have_value(luna)
    expect(page.get_by_role("combobox", name="Date range")).to_have_value("7d")
    assert shown_ids(page) == expected

    applied = [e[2] for e in data_layer(page) if e[1] == "activity_filter_applied"]
    assert applied == []  # a reload is a new page: only what this page did is recorded
    page.get_by_role("combobox", name="Type").select_option(label="All")
    events = data_layer(page)
    assert ["event", "activity_filter_applied", {"filter_name": "event_type", "filter_value": "all"}] in events


def test_the_drawer_opens_and_closes_from_the_keyboard_and_returns_focus(open_page) -> None:
    page = open_page().page
    sign_in(page, ALICE, "/activity")
    first = item_links(page).first
    item_id = str(first.get_attribute("data-item-id"))
    first.focus()
    page.keyboard.press("Enter")

    dialog = page.get_by_role("dialog", name="Activity detail")
    expect(dialog).to_be_visible()
    expect(page).to_have_url(f"{APP}/activity/{item_id}")
    close = dialog.get_by_role("button", name="Close")
    expect(close).to_be_focused()
    expect(dialog.get_by_text("Generation job id")).to_be_visible()
    expect(dialog.get_by_role("link", name="View results")).to_be_visible()
    # Tab stays inside the dialog.
    for _ in range(12):
        page.keyboard.press("Tab")
        assert page.evaluate("document.querySelector('[role=dialog]').contains(document.activeElement)")
    screenshot(page, "activity-drawer")
    assert axe_violations(page) == []

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page).to_have_url(f"{APP}/activity")
    expect(first).to_be_focused()

    # Recorded once for this opening: not again when its data arrived, nor on closing.
    opened = opened_events(page)
    assert len(opened) == 1 and opened[0]["activity_type"].startswith("generation_")
    assert opened[0] == {
        "activity_type": opened[0]["activity_type"],
        "has_generation_link": True,
        "has_credit_link": True,
    }
    assert opened == [opened_properties(id_token(ALICE), item_id)]
    viewed = [e[2] for e in data_layer(page) if e[1] == "activity_viewed"]
    assert viewed == [{"event_count": 50, "date_range": "30d", "event_type_filter": "all"}]


@pytest.mark.parametrize("close", ["button", "Escape"])
def test_a_drawer_closed_before_its_data_arrives_is_counted_once(open_page, close: str) -> None:
    token = id_token(ALICE)
    page = open_page().page
    sign_in(page, ALICE, "/activity?type=credits" if close == "Escape" else "/activity")
    link = item_links(page).first
    item_id = str(link.get_attribute("data-item-id"))
    expected = opened_properties(token, item_id)
    assert opened_events(page) == []

    release = hold_detail(page, item_id)
    link.click()
    dialog = page.get_by_role("dialog", name="Activity detail")
    expect(dialog.get_by_role("status")).to_have_text("Loading the item")
    if close == "Escape":
        page.keyboard.press("Escape")
    else:
        dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    assert opened_events(page) == [expected]

    release()  # the data arrives after the drawer closed: no second record
    expect(link).to_be_focused()
    assert opened_events(page) == [expected]

    # Opening the same item again is a new opening, recorded once though its data arrives.
    link.click()
    expect(dialog.get_by_text("Credit transaction id").first).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    assert opened_events(page) == [expected, expected]


def test_a_deep_link_opens_the_drawer_after_a_reload_and_links_to_the_results(open_page) -> None:
    token = id_token(ALICE)
    job = next(i for i in feed(token, type="generation") if i["status"] == "completed")
    page = open_page().page
    sign_in(page, ALICE, f"/activity/{job['id']}")
    release = hold_detail(page, job["id"])
    page.reload()
    dialog = page.get_by_role("dialog", name="Activity detail")
    expect(dialog.get_by_role("status")).to_have_text("Loading the item")
    assert opened_events(page) == []  # no list item: its properties come with the detail
    release()
    expect(dialog.get_by_text(job["summary"])).to_be_visible()
    expect(dialog.get_by_text(job["jobId"]).first).to_be_visible()
    dialog.get_by_role("link", name="View results").click()
    expect(page).to_have_url(f"{APP}/generations/{job['jobId']}")
    assert opened_events(page) == [opened_properties(token, job["id"])]
    expect(page.get_by_role("heading", level=1)).to_have_text(job["summary"])
    expect(page.get_by_role("heading", name="Outputs")).to_be_visible()
    screenshot(page, "generation")
    assert axe_violations(page) == []


def test_a_credit_item_links_to_its_generation(open_page) -> None:
    token = id_token(ALICE)
    refund = next(i for i in feed(token, type="credits") if i["type"] == "credits_refunded")
    page = open_page().page
    sign_in(page, ALICE, f"/activity/{refund['id']}")
    dialog = page.get_by_role("dialog", name="Activity detail")
    expect(dialog.get_by_text("Balance after")).to_be_visible()
    expect(dialog.get_by_text("Refund", exact=True).first).to_be_visible()
    dialog.get_by_role("link", name="View generation").click()
    expect(page).to_have_url(f"{APP}/activity/job:{refund['jobId']}")
    expect(dialog.get_by_text(refund["jobId"]).first).to_be_visible()


def test_another_users_item_is_not_found_and_shows_none_of_it(open_page) -> None:
    bob_item = feed(id_token(BOB), type="credits")[0]
    opened = open_page()
    opened.watch.expect_error(r"status of 404")  # the API's answer for an item that is not the caller's
    page = opened.page
    sign_in(page, ALICE, f"/activity/{bob_item['id']}")
    dialog = page.get_by_role("dialog", name="Activity detail")
    expect(dialog.get_by_text("This item was not found")).to_be_visible()
    expect(dialog.get_by_text(bob_item["summary"])).to_have_count(0)
    expect(dialog.get_by_text(bob_item["entryId"])).to_have_count(0)


def test_an_empty_account_shows_the_empty_state(open_page) -> None:
    user = helpers.sign_up(helpers.unique("empty") + "@example.com")
    page = open_page().page
    sign_in(page, user.email, "/activity", password=user.password)
    expect(page.get_by_text("No activity matches these filters")).to_be_visible()
    screenshot(page, "activity-empty")


def test_activity_fits_a_phone_and_the_drawer_fills_it(open_page) -> None:
    page = open_page("phone").page
    sign_in(page, ALICE, "/activity")
    expect(item_links(page).first).to_be_visible()
    assert no_horizontal_scroll(page)
    screenshot(page, "activity")
    item_links(page).first.click()
    dialog = page.get_by_role("dialog", name="Activity detail")
    expect(dialog.get_by_text("Generation job id")).to_be_visible()
    box = dialog.bounding_box()
    assert box is not None and box["x"] == 0 and box["width"] == 375
    assert no_horizontal_scroll(page)
    screenshot(page, "activity-drawer")
    assert axe_violations(page) == []


def test_a_reason_with_markup_renders_as_text(open_page) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    admin = helpers.sign_in(helpers.User(uid="", email="admin@demo.test", password="demo-password", id_token=""))
    user = helpers.sign_up(helpers.unique("xss") + "@example.com")
    response = helpers.adjust(
        {
            "uid": user.uid,
            "type": "image",
            "direction": "credit",
            "amount": 7,
            "reason": hostile,
            "idempotencyKey": helpers.unique("xss"),
        },
        headers=admin.auth_header,
    )
    assert response.status_code == 201, response.text
    opened = open_page()
    page = opened.page
    sign_in(page, user.email, "/credits", password=user.password)
    table = page.get_by_role("table", name="Credits ledger")
    expect(table.get_by_text(hostile)).to_be_visible()
    expect(table.locator("img")).to_have_count(0)

    page.goto(f"{APP}/activity")
    item_links(page).first.click()
    dialog = page.get_by_role("dialog", name="Activity detail")
    expect(dialog.get_by_text(hostile).first).to_be_visible()
    expect(dialog.locator("img")).to_have_count(0)
    assert opened.watch.errors == []  # the watch records any alert() as an error


def test_the_generation_page_fits_a_phone(open_page) -> None:
    job = next(i for i in feed(id_token(ALICE), type="generation") if i["status"] == "completed")
    page = open_page("phone").page
    sign_in(page, ALICE, f"/generations/{job['jobId']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(job["summary"])
    expect(page.get_by_role("img", name="Output 1", exact=False).first).to_be_visible()
    assert no_horizontal_scroll(page)
    screenshot(page, "generation")


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_an_export_shows_in_activity_with_its_rows_and_filters(open_page, device: str) -> None:
    admin = helpers.sign_in(helpers.User(uid="", email="admin@demo.test", password="demo-password", id_token=""))
    user = helpers.sign_up(helpers.unique("exporter") + "@example.com")
    for amount in (12, 30):
        grant = {"uid": user.uid, "type": "image", "direction": "credit", "amount": amount, "reason": "Starter credits"}
        response = helpers.adjust({**grant, "idempotencyKey": helpers.unique("grant")}, headers=admin.auth_header)
        assert response.status_code == 201, response.text
    page = open_page(device).page
    sign_in(page, user.email, "/credits?direction=credit", password=user.password)
    page.get_by_role("table", name="Credits ledger").get_by_text("Starter credits").first.wait_for()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export CSV").click()
    assert download_info.value.path().read_text().count("\n") == 1 + 2

    page.goto(f"{APP}/activity")
    export = item_links(page).filter(has_text="Exported 2 entries as CSV")
    expect(export).to_be_visible()
    expect(export).to_contain_text("Credits added")
    # The grants are there too, projected by the ledger's trigger.
    expect(item_links(page).filter(has_text="Starter credits")).to_have_count(2)

    page.get_by_label("Type").select_option("Exports")
    expect(item_links(page)).to_have_count(1)
    item_links(page).first.click()
    dialog = page.get_by_role("dialog", name="Activity detail")
    expect(dialog.get_by_text("Exported 2 entries as CSV").first).to_be_visible()
    expect(dialog.get_by_role("definition").filter(has_text="Credits added")).to_be_visible()
    assert no_horizontal_scroll(page)
    screenshot(page, "activity-export")
    assert axe_violations(page) == []
