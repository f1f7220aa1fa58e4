"""Credits usage in a real browser: live balances, filters in the URL, infinite scroll, CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

from e2e import helpers
from playwright.sync_api import expect

from browser.conftest import (
    ALICE,
    APP,
    all_entries,
    axe_violations,
    id_token,
    no_horizontal_scroll,
    screenshot,
    sign_in,
)
from browser.pages import COLUMNS, amount, balance_shown, column, data_rows, table, wait_loaded


def test_balances_and_columns_match_the_ledger(open_page) -> None:
    page = open_page().page
    sign_in(page, ALICE)
    token = id_token(ALICE)
    entries = all_entries(token)
    sums = {"image": 0, "video": 0}
    for entry in entries:
        sums[entry["type"]] += entry["delta"]

    expect(page.get_by_role("heading", name="Credits usage", level=1)).to_be_visible()
    assert balance_shown(page, "Image credits") == sums["image"]
    assert balance_shown(page, "Video credits") == sums["video"]
    expect(page.get_by_role("region", name="Balances").get_by_role("link", name="Top up")).to_be_visible()
    for name in COLUMNS:
        expect(table(page).get_by_role("columnheader", name=name, exact=True)).to_be_visible()
    wait_loaded(page)
    first = entries[0]
    assert amount(column(page, "Amount")[0]) == first["delta"]
    assert amount(column(page, "Balance after")[0]) == first["balance_after"]
    # Local time on screen; the UTC time on hover and for screen readers.
    date_cell = data_rows(page).first.locator("time")
    expect(date_cell).to_have_attribute("title", re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$"))
    expect(date_cell).to_contain_text("UTC")
    screenshot(page, "credits")
    assert axe_violations(page) == []


def test_scrolling_loads_every_entry_once_in_order(open_page) -> None:
    page = open_page().page
    sign_in(page, ALICE)
    expected = [(e["delta"], e["balance_after"]) for e in all_entries(id_token(ALICE))]
    assert len(expected) > 50, "the demo data should fill more than one page"
    wait_loaded(page)
    expect(data_rows(page)).to_have_count(50)
    while data_rows(page).count() < len(expected):
        page.mouse.wheel(0, 20_000)
        page.wait_for_timeout(150)
    wait_loaded(page)
    expect(page.get_by_text("That is every entry.")).to_be_visible()
    shown = list(zip(map(amount, column(page, "Amount")), map(amount, column(page, "Balance after")), strict=True))
    assert shown == expected


def test_each_filter_changes_the_rows_and_the_url_and_survives_a_reload(open_page) -> None:
    page = open_page().page
    sign_in(page, ALICE)
    token = id_token(ALICE)
    wait_loaded(page)

    page.get_by_role("combobox", name="Direction").select_option(label="Debit")
    expect(page).to_have_url(f"{APP}/credits?direction=debit")
    wait_loaded(page)
    assert set(column(page, "Direction")) == {"Debit"}

    page.get_by_role("combobox", name="Type").select_option(label="Video")
    expect(page).to_have_url(f"{APP}/credits?direction=debit&type=video")
    wait_loaded(page)
    assert set(column(page, "Type")) == {"Video"}
    video_debits = all_entries(token, direction="debit", type="video")
    assert data_rows(page).count() == min(len(video_debits), 50)

    page.reload()
    wait_loaded(page)
    expect(page.get_by_role("combobox", name="Direction")).to_have_value("debit")
    expect(page.get_by_role("combobox", name="Type")).to_have_value("video")
    assert set(column(page, "Type")) == {"Video"}

    page.get_by_role("button", name="Clear filters").first.click()
    expect(page).to_have_url(f"{APP}/credits")
    page.get_by_role("combobox", name="Source").select_option(label="Plan refresh")
    expect(page).to_have_url(f"{APP}/credits?source=subscription_grant")
    wait_loaded(page)
    assert set(column(page, "Source")) == {"Plan refresh"}

    # A date range that ends before the first entry: the empty state, with a way out.
    page.get_by_label("From", exact=True).fill("2020-01-01")
    page.get_by_label("To", exact=True).fill("2020-01-31")
    expect(page).to_have_url(f"{APP}/credits?source=subscription_grant&from=2020-01-01&to=2020-01-31")
    expect(page.get_by_text("No entries match these filters")).to_be_visible()
    screenshot(page, "credits-empty")
    page.get_by_role("button", name="Clear filters").first.click()
    wait_loaded(page)
    expect(data_rows(page)).to_have_count(50)


def test_export_csv_downloads_the_filtered_rows(open_page) -> None:
    page = open_page().page
    sign_in(page, ALICE, "/credits?direction=credit")
    wait_loaded(page)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export CSV").click()
    download = download_info.value
    # The browser fetched the file itself from a signed link: the CSV streamed to disk and
    # was never assembled in the page (a blob: or data: URL would mean it was).
    assert download.url.startswith(f"{APP}/api/exports/")
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(download.path().read_text())))
    expected = all_entries(id_token(ALICE), direction="credit")
    assert [row["entry_id"] for row in rows] == [e["id"] for e in expected]
    assert {row["direction"] for row in rows} == {"credit"}


def test_the_table_stacks_on_a_phone(open_page) -> None:
    page = open_page("phone").page
    sign_in(page, ALICE)
    wait_loaded(page)
    assert no_horizontal_scroll(page)
    first = data_rows(page).first
    # Every cell of a row is within the screen: the row became a card, not a wide line.
    box = first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    screenshot(page, "credits")
    assert axe_violations(page) == []


def test_a_generation_elsewhere_lowers_the_balance_on_screen_without_a_reload(open_page) -> None:
    admin = helpers.sign_in(helpers.User(uid="", email="admin@demo.test", password="demo-password", id_token=""))
    user = helpers.sign_up(helpers.unique("live") + "@example.com")
    grant = {"uid": user.uid, "type": "image", "direction": "credit", "amount": 30, "reason": "Starter credits"}
    assert helpers.adjust({**grant, "idempotencyKey": helpers.unique("grant")}, admin.auth_header).status_code == 201
    page = open_page().page
    sign_in(page, user.email, password=user.password)
    assert balance_shown(page, "Image credits") == 30
    page.evaluate("window.__sameDocument = true")

    # The generation pipeline writes a job; the billing trigger reserves 5 HQ images = 10 credits.
    job = {"uid": user.uid, "status": "queued", "source": "text2image", "numImages": 5, "quality": "hq"}
    now = datetime.now(UTC)
    helpers.create_document("generation_jobs", helpers.unique("job"), {**job, "createdAt": now, "updatedAt": now})
    balances = page.get_by_role("region", name="Balances")
    expect(balances.get_by_text("20", exact=True)).to_be_visible(timeout=30_000)
    assert page.evaluate("window.__sameDocument") is True
    page.reload()
    wait_loaded(page)
    assert column(page, "Amount")[0] == "−10"


def test_an_empty_account_shows_the_empty_state(open_page) -> None:
    user = helpers.sign_up(helpers.unique("empty") + "@example.com")
    page = open_page().page
    sign_in(page, user.email, password=user.password)
    expect(page.get_by_text("No entries match these filters")).to_be_visible()
    assert balance_shown(page, "Image credits") == 0
    assert balance_shown(page, "Video credits") == 0
