"""The admin area in a real browser: who may see it, and the Ledger tab (search, filters, export, drawer)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from browser.conftest import (
    ADMIN,
    ALICE,
    APP,
    api_get,
    axe_violations,
    id_token,
    no_horizontal_scroll,
    screenshot,
    sign_in,
)
from browser.pages import wait_loaded

LEDGER = "/admin/credits/ledger"


def admin_entries(**params: object) -> list[dict]:
    return api_get("/api/admin/credits/ledger", id_token(ADMIN), limit=200, **params)["entries"]


def shown_entry_ids(page: Page) -> list[str]:
    wait_loaded(page)
    rows = page.get_by_role("table", name="Credits ledger").locator("tbody tr[data-entry-id]")
    return [str(row.get_attribute("data-entry-id")) for row in rows.all()]


def search(page: Page, text: str) -> None:
    box = page.get_by_role("searchbox", name="Search")
    box.fill(text)
    box.press("Enter")


def test_a_member_sees_no_admin_link_and_is_not_allowed(open_page) -> None:
    opened = open_page()
    page = opened.page
    sign_in(page, ALICE)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Credits")).to_be_visible()
    expect(nav.get_by_role("link", name="Admin")).to_have_count(0)
    admin_calls: list[str] = []
    page.on("request", lambda r: "/api/admin/" in r.url and admin_calls.append(r.url))
    page.goto(f"{APP}{LEDGER}")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_role("tablist")).to_have_count(0)
    assert admin_calls == []
    assert axe_violations(page) == []


def test_the_admin_finds_entries_by_email_job_and_payment(open_page) -> None:
    page = open_page().page
    sign_in(page, ADMIN, LEDGER)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Admin")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("tab", name="Ledger")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel", name="Ledger")).to_be_visible()

    alice = admin_entries(q=ALICE)
    search(page, ALICE)
    expect(page).to_have_url(re.compile(r"\?q=alice%40demo\.test$"))
    expect(page.get_by_role("status").filter(has_text="Showing the entries of user")).to_contain_text(alice[0]["uid"])
    shown = shown_entry_ids(page)
    assert shown == [e["id"] for e in alice[: len(shown)]]
    assert len(shown) == min(50, len(alice))

    job_id = next(e["jobId"] for e in alice if e["jobId"])
    search(page, job_id)
    expect(page.get_by_role("status").filter(has_text="generation job")).to_contain_text(job_id)
    assert shown_entry_ids(page) == [e["id"] for e in admin_entries(q=job_id)]

    payment_id = next(e["paymentId"] for e in admin_entries(source="purchase") if e["paymentId"])
    search(page, payment_id)
    expect(page.get_by_role("status").filter(has_text="payment")).to_contain_text(payment_id)
    by_payment = admin_entries(q=payment_id)
    assert by_payment and shown_entry_ids(page) == [e["id"] for e in by_payment]

    # A row opens the entry in a drawer; Esc closes it and focus returns to the row.
    page.get_by_role("table", name="Credits ledger").get_by_role("button", name="Open entry").first.click()
    drawer = page.get_by_role("dialog", name="Entry detail")
    expect(drawer).to_contain_text(payment_id)
    expect(drawer).to_contain_text(by_payment[0]["uid"])
    assert axe_violations(page) == []
    page.keyboard.press("Escape")
    expect(drawer).to_have_count(0)


def test_filters_and_export_of_the_admin_selection(open_page) -> None:
    page = open_page().page
    sign_in(page, ADMIN, f"{LEDGER}?q={ALICE}")
    wait_loaded(page)
    page.get_by_role("combobox", name="Direction").select_option(label="Debit")
    expect(page).to_have_url(re.compile(r"q=alice%40demo\.test&direction=debit$"))
    expected = admin_entries(q=ALICE, direction="debit")
    assert shown_entry_ids(page) == [e["id"] for e in expected[:50]]
    page.get_by_role("combobox", name="Type").select_option(label="Video")
    expected = admin_entries(q=ALICE, direction="debit", type="video")
    assert shown_entry_ids(page) == [e["id"] for e in expected[:50]]

    with page.expect_download() as info:
        page.get_by_role("button", name="Export CSV").click()
    download = info.value
    assert re.fullmatch(r"credits-ledger-demo-[\w-]+-.*\.csv", download.suggested_filename)
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert [r["entry_id"] for r in rows] == [e["id"] for e in expected]
    assert {(r["direction"], r["type"]) for r in rows} <= {("debit", "video")}

    page.reload()
    expect(page.get_by_role("searchbox", name="Search")).to_have_value(ALICE)
    expect(page.get_by_role("combobox", name="Direction")).to_have_value("debit")


def test_tabs_follow_the_arrow_keys_and_have_their_own_urls(open_page) -> None:
    page = open_page().page
    sign_in(page, ADMIN, LEDGER)
    page.get_by_role("tab", name="Ledger").focus()
    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(f"{APP}/admin/credits/users")
    expect(page.get_by_role("tab", name="Users")).to_be_focused()
    page.keyboard.press("End")
    expect(page).to_have_url(f"{APP}/admin/credits/anomalies")
    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(f"{APP}/admin/credits/ledger")
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("tab", name="Anomalies")).to_have_attribute("aria-selected", "true")


def test_ledger_tab_at_desktop_and_phone_width(open_page) -> None:
    for viewport in ("desktop", "phone"):
        page = open_page(viewport).page
        sign_in(page, ADMIN, LEDGER)
        wait_loaded(page)
        expect(page.get_by_role("columnheader", name="User")).to_be_attached()
        screenshot(page, "admin-ledger")
        assert no_horizontal_scroll(page)
        assert axe_violations(page) == []
