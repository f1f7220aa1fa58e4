"""The admin Users tab: low balances, and Grant credits exactly once, seen live by the user."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from browser.conftest import (
    ADMIN,
    BOB,
    all_entries,
    axe_violations,
    id_token,
    no_horizontal_scroll,
    screenshot,
    sign_in,
)
from browser.pages import balance_shown

USERS = "/admin/credits/users"


def test_users_below_the_threshold_lowest_first(open_page) -> None:
    for viewport in ("desktop", "phone"):
        page = open_page(viewport).page
        sign_in(page, ADMIN, USERS)
        expect(page.get_by_role("tab", name="Users")).to_have_attribute("aria-selected", "true")
        table = page.get_by_role("table", name="Low-balance users")
        expect(table).to_have_attribute("aria-busy", "false")
        rows = table.locator("tbody tr")
        assert rows.count() > 0, "the demo data has low-balance users"
        # A cell holds the balance, and under it what expires next, if anything does.
        cells = rows.locator("td:nth-child(2)").all_inner_texts()
        images = [int(t.splitlines()[0].replace(",", "")) for t in cells]
        assert images == sorted(images) and all(n < 20 for n in images)
        expect(rows.first.get_by_role("button", name="Grant credits")).to_be_visible()
        screenshot(page, "admin-users")
        assert no_horizontal_scroll(page)
        assert axe_violations(page) == []


def test_a_double_clicked_grant_writes_once_and_the_user_sees_it_live(open_page) -> None:
    bob_page = open_page().page
    sign_in(bob_page, BOB)
    before = balance_shown(bob_page, "Image credits")
    bob_token = id_token(BOB)
    entries_before = len(all_entries(bob_token))

    page = open_page().page
    sign_in(page, ADMIN, f"{USERS}?below=10000000")
    table = page.get_by_role("table", name="Low-balance users")
    expect(table).to_have_attribute("aria-busy", "false")
    row = table.locator("tbody tr").filter(has_text=BOB)
    row.get_by_role("button", name="Grant credits").click()
    dialog = page.get_by_role("dialog", name="Grant credits")
    user = dialog.get_by_role("textbox", name="User")
    expect(user).to_have_attribute("readonly", "")
    expect(user).not_to_have_value("")
    reason = f"Goodwill for ticket {uuid.uuid4().hex[:8]}"
    dialog.get_by_role("combobox", name="Type").select_option(label="Image")
    dialog.get_by_role("combobox", name="Direction").select_option(label="Credit (add)")
    dialog.get_by_role("spinbutton", name="Amount").fill("7")
    dialog.get_by_role("textbox", name="Reason").fill(reason)
    last_day = (datetime.now(UTC) + timedelta(days=10)).date()
    dialog.get_by_label("Expires after (optional)").fill(last_day.isoformat())
    screenshot(page, "admin-grant")
    assert axe_violations(page) == []
    dialog.get_by_role("button", name="Grant").dblclick()
    expect(dialog.get_by_role("status")).to_contain_text("Granted: +7 image credits")
    expect(dialog.get_by_role("status")).to_contain_text(f"Balance after: {before + 7:,}")

    # One entry, whatever the double click sent; the user's open page shows it live.
    granted = [e for e in all_entries(bob_token) if e["reason"] == reason]
    assert len(granted) == 1 and granted[0]["amount"] == 7 and granted[0]["source"] == "admin_adjustment"
    expires = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), UTC)
    assert datetime.fromisoformat(granted[0]["expiresAt"]) == expires  # spendable through the chosen day (UTC)
    assert len(all_entries(bob_token)) == entries_before + 1
    expect(bob_page.get_by_role("region", name="Balances")).to_contain_text(f"{before + 7:,}")
    assert balance_shown(bob_page, "Image credits") == before + 7
    expect(bob_page.get_by_role("region", name="Balances")).to_contain_text("7 expire on")

    bob_page.goto(bob_page.url.replace("/credits", "/activity"))
    expect(bob_page.get_by_role("list", name="Activity items")).to_contain_text(reason)

    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_have_count(0)


def test_a_debit_beyond_the_balance_is_refused_with_both_amounts(open_page) -> None:
    bob_token = id_token(BOB)
    entries_before = all_entries(bob_token)
    balance = sum(e["delta"] for e in entries_before if e["type"] == "video")

    opened = open_page()
    opened.watch.expect_error(r"status of 409 \(Conflict\) @ .*/api/admin/credits/adjust")
    page = opened.page
    sign_in(page, ADMIN, USERS)
    page.get_by_role("tabpanel", name="Users").get_by_role("button", name="Grant credits").first.click()
    dialog = page.get_by_role("dialog", name="Grant credits")
    dialog.get_by_role("button", name="Grant").click()
    expect(dialog.get_by_text("A reason is required.")).to_be_visible()

    dialog.get_by_role("textbox", name="User").fill(BOB)
    dialog.get_by_role("combobox", name="Type").select_option(label="Video")
    dialog.get_by_role("combobox", name="Direction").select_option(label="Debit (take back)")
    attempted = balance + 1000
    dialog.get_by_role("spinbutton", name="Amount").fill(str(attempted))
    dialog.get_by_role("textbox", name="Reason").fill("Claw back a mistaken grant")
    dialog.get_by_role("button", name="Grant").click()
    status = dialog.get_by_role("status")
    expect(status).to_contain_text("Refused")
    expect(status).to_contain_text(f"{attempted:,}")
    expect(status).to_contain_text(f"balance of {balance:,}")
    assert all_entries(bob_token) == entries_before
    screenshot(page, "admin-grant-refused")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
