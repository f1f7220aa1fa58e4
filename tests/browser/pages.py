"""What the browser tests read off the pages, found by role and accessible name."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator, Page, expect

from browser.conftest import api_get

COLUMNS = ["Date", "Type", "Direction", "Amount", "Balance after", "Source", "Details"]


def table(page: Page) -> Locator:
    return page.get_by_role("table", name="Credits ledger")


def data_rows(page: Page) -> Locator:
    """The table's rows of entries (not the header, not skeletons)."""
    return table(page).locator("tbody tr:not(.skeleton-row)")


def wait_loaded(page: Page) -> None:
    expect(table(page)).to_have_attribute("aria-busy", "false")


def column(page: Page, name: str) -> list[str]:
    index = COLUMNS.index(name)
    return [text.strip() for text in data_rows(page).locator(f"td:nth-child({index + 1})").all_inner_texts()]


def balance_shown(page: Page, label: str) -> int:
    card = page.get_by_role("region", name="Balances").get_by_role("heading", name=label).locator("..")
    value = card.locator(".balance-value")
    expect(value).to_have_text(re.compile(r"^[\d,]+$"))
    return int(value.inner_text().replace(",", ""))


def amount(text: str) -> int:
    return int(text.replace("−", "-").replace(",", "").replace("+", ""))


def activity_list(page: Page) -> Locator:
    return page.get_by_role("list", name="Activity items")


def item_links(page: Page) -> Locator:
    return activity_list(page).locator("a[data-item-id]")


def shown_ids(page: Page) -> list[str]:
    expect(activity_list(page)).to_be_visible()
    return [str(link.get_attribute("data-item-id")) for link in item_links(page).all()]


def feed(token: str, **params: Any) -> list[dict[str, Any]]:
    """Every item the Activity API returns for ``params``, over all pages."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = api_get("/api/activity", token, cursor=cursor, **params)
        items += page["items"]
        cursor = page["nextCursor"]
        if not cursor:
            return items


def data_layer(page: Page) -> list[list[Any]]:
    events: list[list[Any]] = page.evaluate("(window.dataLayer || []).filter(e => e[0] === 'event')")
    return events
