"""The usage chart of Credits usage in a real browser: credits spent per UTC day by credit type
and, on demand, by source, with its numbers in a table under "Show as table", at phone and
desktop widths. The numbers are held against a recomputation from every ledger entry."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from browser.conftest import (
    ALICE,
    APP,
    SCREENSHOTS,
    all_entries,
    api_get,
    axe_violations,
    id_token,
    no_horizontal_scroll,
    screenshot,
    sign_in,
)
from browser.pages import wait_loaded

NAME = "Credits spent per day"
JOB_SOURCES = {"text2image": "image", "image2image": "image", "text2video": "video", "image2video": "video"}
SOURCE_HEADERS = {
    "text2image": "Text to image",
    "image2image": "Image to image",
    "text2video": "Text to video",
    "image2video": "Image to video",
}


def panel(page: Page) -> Locator:
    return page.get_by_role("region", name=NAME, exact=True)


def panel_shot(page: Page, name: str) -> None:
    """The chart's panel alone, as ``.local/screenshots/<name>-<width>px.png``, for a person to look at."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    panel(page).screenshot(path=str(SCREENSHOTS / f"{name}-{width}px.png"))


def chart_ready(page: Page) -> Locator:
    """The chart's region once its data and its code have arrived."""
    region = panel(page)
    expect(region).to_have_attribute("aria-busy", "false")
    expect(region.get_by_role("img", name=re.compile(rf"^{NAME}, "))).to_be_visible()
    return region


def open_table(page: Page) -> Locator:
    region = panel(page)
    table = region.get_by_role("table", name=NAME)
    if not table.is_visible():
        region.get_by_text("Show as table").click()
    expect(table).to_be_visible()
    return table


def days_of(first: date, last: date) -> list[str]:
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def recomputed(entries: list[dict[str, Any]], days: list[str]) -> dict[str, dict[str, int]]:
    """Per UTC day: spent per type and per job source, refunded per type, from the entries."""
    rows: dict[str, dict[str, int]] = {day: defaultdict(int) for day in days}
    for entry in entries:
        day = datetime.fromisoformat(entry["createdAt"]).astimezone(UTC).date().isoformat()
        if day not in rows:
            continue
        if entry["source"] in JOB_SOURCES and entry["direction"] == "debit":
            rows[day][f"spent:{entry['type']}"] += entry["amount"]
            rows[day][f"source:{entry['source']}"] += entry["amount"]
        elif entry["source"] == "refund":
            rows[day][f"refunded:{entry['type']}"] += entry["amount"]
    return rows


def numbers(table: Locator) -> list[list[int]]:
    """The table's body: per row, the numbers after the day."""
    cells = table.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.querySelectorAll('td')].map(td => td.textContent))"
    )
    return [[int(text.replace(",", "")) for text in row] for row in cells]


def headers(table: Locator) -> list[str]:
    return [text.strip() for text in table.locator("thead th").all_inner_texts()]


def default_days() -> list[str]:
    today = datetime.now(UTC).date()
    return days_of(today - timedelta(days=29), today)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_chart_and_its_table_show_credits_spent_per_day_by_type(open_page, viewport: str) -> None:
    page = open_page(viewport).page
    sign_in(page, ALICE)
    region = chart_ready(page)
    days = default_days()
    expected = recomputed(all_entries(id_token(ALICE)), days)
    assert any(expected[day]["spent:image"] for day in days), "the demo history should have spending"

    expect(region.get_by_text(re.compile(r"UTC days"))).to_be_visible()
    toggle = region.get_by_role("button", name="By source")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    spent = {t: sum(expected[d][f"spent:{t}"] for d in days) for t in ("image", "video")}
    refunded = {t: sum(expected[d][f"refunded:{t}"] for d in days) for t in ("image", "video")}
    totals = region.get_by_role("term").all_inner_texts()
    assert totals == ["Image credits", "Video credits"]
    definitions = region.get_by_role("definition").all_inner_texts()
    for shown, credit_type in zip(definitions, ("image", "video"), strict=True):
        assert f"{spent[credit_type]:,} spent" in shown
        assert (f"{refunded[credit_type]:,} refunded" if refunded[credit_type] else "none refunded") in shown
    screenshot(page, "credits-usage")
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(SCREENSHOTS / f"credits-usage-first-screen-{width}px.png"))  # what a visitor sees first
    panel_shot(page, "credits-usage-chart")

    table = open_table(page)
    assert headers(table) == ["Day", "Image spent", "Image refunded", "Video spent", "Video refunded"]
    assert numbers(table) == [
        [
            expected[d]["spent:image"],
            expected[d]["refunded:image"],
            expected[d]["spent:video"],
            expected[d]["refunded:video"],
        ]
        for d in days
    ]
    first_day = table.locator("tbody tr").first.locator("time")
    expect(first_day).to_have_attribute("datetime", days[0])
    total_row = table.locator("tfoot tr")
    expect(total_row.get_by_role("rowheader")).to_have_text("Total")
    assert int(total_row.locator("td").first.inner_text().replace(",", "")) == spent["image"]
    assert no_horizontal_scroll(page)
    panel_shot(page, "credits-usage-table")
    assert axe_violations(page) == []


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_by_source_splits_spending_by_job_source(open_page, viewport: str) -> None:
    page = open_page(viewport).page
    sign_in(page, ALICE)
    region = chart_ready(page)
    toggle = region.get_by_role("button", name="By source")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    region = chart_ready(page)
    expect(region.get_by_role("img", name=re.compile("by source"))).to_be_visible()
    days = default_days()
    expected = recomputed(all_entries(id_token(ALICE)), days)

    table = open_table(page)
    assert headers(table) == ["Day", *SOURCE_HEADERS.values(), "Image refunded", "Video refunded"]
    assert numbers(table) == [
        [
            *(expected[d][f"source:{s}"] for s in SOURCE_HEADERS),
            expected[d]["refunded:image"],
            expected[d]["refunded:video"],
        ]
        for d in days
    ]
    # The API answers the same numbers, summed over the range.
    usage = api_get("/api/credits/usage", id_token(ALICE), **{"from": days[0], "to": days[-1], "by": "source"})
    assert usage["totals"]["bySource"] == {s: sum(expected[d][f"source:{s}"] for d in days) for s in SOURCE_HEADERS}
    assert no_horizontal_scroll(page)
    panel_shot(page, "credits-usage-by-source")
    assert axe_violations(page) == []

    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(region.get_by_role("img", name=re.compile("by credit type"))).to_be_visible()
    assert headers(open_table(page))[1] == "Image spent"


def test_the_chart_follows_the_date_filters(open_page) -> None:
    page = open_page().page
    sign_in(page, ALICE)
    chart_ready(page)
    today = datetime.now(UTC).date()
    first, last = today - timedelta(days=3), today - timedelta(days=1)
    page.get_by_label("From", exact=True).fill(first.isoformat())
    page.get_by_label("To", exact=True).fill(last.isoformat())
    expect(page).to_have_url(re.compile(rf"from={first.isoformat()}&to={last.isoformat()}$"))
    wait_loaded(page)
    region = chart_ready(page)
    table = open_table(page)
    expect(table.locator("tbody tr")).to_have_count(3)
    days = days_of(first, last)
    expected = recomputed(all_entries(id_token(ALICE)), days)
    assert [row[0] for row in numbers(table)] == [expected[d]["spent:image"] for d in days]

    # A range longer than 90 days: the chart shows its last 90 days and says so.
    page.get_by_label("From", exact=True).fill((last - timedelta(days=120)).isoformat())
    expect(region.get_by_text("the last 90 days of your range")).to_be_visible()
    region = chart_ready(page)
    expect(open_table(page).locator("tbody tr")).to_have_count(90)

    # Days without any spending: the chart says so instead of drawing empty axes.
    page.goto(f"{APP}/credits?from=2020-01-01&to=2020-01-31")
    expect(panel(page).get_by_text("No credits were spent on generations in these days.")).to_be_visible()
    expect(panel(page)).to_have_attribute("aria-busy", "false")
    assert axe_violations(page) == []
