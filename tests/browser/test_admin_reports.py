"""The admin Daily summaries and Anomalies tabs: charts with the API's numbers, every anomaly kind."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from browser.conftest import ADMIN, APP, api_get, axe_violations, id_token, no_horizontal_scroll, screenshot, sign_in

LABELS = {
    "insufficient_credits": "Blocked debit",
    "duplicate_webhook": "Duplicate webhook",
    "unattributable_webhook": "Unattributable webhook",
    "partial_reversal": "Partial reversal",
    "job_completed_after_refund": "Job completed after refund",
    "job_billing_repaired": "Job billing repaired",
    "reconciliation_mismatch": "Reconciliation mismatch",
}


def number(text: str) -> int:
    return int(text.replace(",", "").replace("−", "-"))


def test_summary_charts_and_their_tables_show_the_apis_numbers(open_page) -> None:
    page = open_page().page
    sign_in(page, ADMIN, "/admin/credits/summaries")
    panel = page.get_by_role("tabpanel", name="Daily summaries")
    expect(panel.get_by_role("img", name=re.compile("Image credits vs debits per day"))).to_be_visible()
    frm = panel.get_by_label("From", exact=True).input_value()
    to = panel.get_by_label("To", exact=True).input_value()
    api = api_get("/api/admin/credits/summaries", id_token(ADMIN), **{"from": frm, "to": to})
    assert len(api["summaries"]) >= 7, "the demo data has a week of summaries"

    for type_ in ("image", "video"):
        label = f"{type_.capitalize()} credits vs debits per day"
        panel.get_by_text(f"Show the numbers: {label.lower()}").click()
        table = panel.get_by_role("table", name=label)
        expect(table).to_be_visible()
        rows = table.locator("tbody tr")
        shown = [
            (
                rows.nth(i).locator("th").inner_text(),
                number(rows.nth(i).locator("td").nth(0).inner_text()),
                number(rows.nth(i).locator("td").nth(1).inner_text()),
            )
            for i in range(rows.count())
        ]
        expected = [
            (s["day"], s["byType"][type_]["credit"]["amount"], s["byType"][type_]["debit"]["amount"])
            for s in api["summaries"]
        ]
        assert shown == expected
        totals = page.get_by_role("table", name="Totals for the range").get_by_role("row", name=re.compile(type_, re.I))
        cells = [number(t) for t in totals.locator("td").all_inner_texts()]
        assert cells[:2] == [sum(e[1] for e in expected), sum(e[2] for e in expected)]

    by_source = panel.get_by_text("Show the numbers: image credits by source")
    by_source.click()
    purchases = sum(
        s["bySource"].get("purchase", {}).get("credit", {}).get("image", {}).get("amount", 0) for s in api["summaries"]
    )
    row = panel.get_by_role("table", name="Image credits by source").get_by_role("row", name=re.compile("Purchase"))
    assert number(row.locator("td").first.inner_text()) == purchases
    screenshot(page, "admin-summaries")
    assert axe_violations(page) == []


def test_every_anomaly_kind_in_the_demo_renders(open_page) -> None:
    api = api_get("/api/admin/credits/anomalies", id_token(ADMIN), limit=200)["anomalies"]
    kinds = {a["kind"] for a in api}
    assert len(kinds) >= 5
    page = open_page().page
    sign_in(page, ADMIN, "/admin/credits/anomalies")
    items = page.get_by_role("list", name="Anomalies").get_by_role("listitem")
    expect(items.first).to_be_visible()
    for kind in kinds:
        expect(items.filter(has=page.get_by_role("heading", name=LABELS[kind])).first).to_be_visible()
    blocked = next(a for a in api if a["kind"] == "insufficient_credits")
    item = items.filter(has_text=blocked["jobId"]).first
    expect(item).to_contain_text(f"Attempted{blocked['amount']:,}")
    expect(item).to_contain_text(f"Balance{blocked['balance']:,}")
    duplicate = next(a for a in api if a["kind"] == "duplicate_webhook")
    expect(items.filter(has_text=duplicate["eventId"]).first).to_be_visible()

    page.get_by_role("combobox", name="Kind").select_option(label="Blocked debit")
    expect(page).to_have_url(f"{APP}/admin/credits/anomalies?kind=insufficient_credits")
    expect(items.filter(has=page.get_by_role("heading", name="Duplicate webhook"))).to_have_count(0)
    item = items.filter(has_text=blocked["jobId"]).first
    item.get_by_role("link", name=re.compile("ledger")).click()
    expect(page).to_have_url(re.compile(r"/admin/credits/ledger\?q="))
    expect(page.get_by_role("searchbox", name="Search")).to_have_value(blocked["uid"])


def test_report_tabs_at_desktop_and_phone_width(open_page) -> None:
    for viewport in ("desktop", "phone"):
        page = open_page(viewport).page
        sign_in(page, ADMIN, "/admin/credits/anomalies")
        expect(page.get_by_role("list", name="Anomalies").get_by_role("listitem").first).to_be_visible()
        screenshot(page, "admin-anomalies")
        assert no_horizontal_scroll(page)
        assert axe_violations(page) == []
        page.get_by_role("tab", name="Daily summaries").click()
        expect(page.get_by_role("table", name="Totals for the range")).to_be_visible()
        page.wait_for_timeout(400)
        screenshot(page, "admin-summaries")
        assert no_horizontal_scroll(page)
        assert axe_violations(page) == []
