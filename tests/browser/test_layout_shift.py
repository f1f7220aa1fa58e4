"""The pages hold still while they load: layout shifts of Credits usage and Activity, measured.

A ``PerformanceObserver`` for ``layout-shift`` entries is installed before any of the page's
scripts run (``add_init_script``, ``buffered: true``), on a fresh load of the page by a
signed-in user (the session restored, as on a reload). The test waits until the page has
fully loaded (Credits usage: both balances, the ledger's first page and the usage chart;
Activity: the first items) and then one more second, and reads the entries.

Credits usage is loaded twice: as its parts come, and with its late parts held back until the
ledger's table is laid out (the Firestore chunk behind the live balances and their "expire
on" line, the chart's code and its data), the order a slow device or network gives and the
one that used to move the table.

The figure asserted is the **sum of every shift without recent input** over the whole load
(``hadRecentInput`` false), which is never less than Lighthouse's Cumulative Layout Shift (the
largest session window: shifts less than 1 s apart, at most 5 s long); both are printed.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from browser.conftest import ALICE, APP, sign_in
from browser.pages import activity_list, balance_shown, wait_loaded

OBSERVER = """
window.__layoutShifts = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const describe = (node) => {
      if (!node || !node.nodeType) return "?";
      if (node.nodeType !== 1) return node.nodeName;
      const el = node;
      return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
        (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "");
    };
    window.__layoutShifts.push({
      value: entry.value,
      hadRecentInput: entry.hadRecentInput,
      startTime: entry.startTime,
      sources: (entry.sources || []).map((s) => ({
        node: describe(s.node),
        from: [s.previousRect.y, s.previousRect.height],
        to: [s.currentRect.y, s.currentRect.height],
      })),
    });
  }
}).observe({ type: "layout-shift", buffered: true });
"""

LIMIT = 0.1


def shifts(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate("window.__layoutShifts")
    return [s for s in found if not s["hadRecentInput"]]


def total(entries: list[dict[str, Any]]) -> float:
    return sum(s["value"] for s in entries)


def session_window_max(entries: list[dict[str, Any]]) -> float:
    """Lighthouse's CLS: the largest sum of a window of shifts under 1 s apart, at most 5 s long."""
    best = current = 0.0
    start = last = None
    for entry in sorted(entries, key=lambda s: s["startTime"]):
        at = entry["startTime"]
        if start is None or last is None or at - last >= 1000 or at - start >= 5000:
            start, current = at, 0.0
        current += entry["value"]
        last = at
        best = max(best, current)
    return best


LATE_PARTS = ("**/assets/liveDocs-*.js", "**/assets/BarChart-*.js", "**/api/credits/usage?*")
"""What Credits usage shows after its table: live balances (Firestore), the chart's code and data."""


def load_signed_in(open_page, viewport: str, path: str, held: list[Route] | None = None) -> Page:
    """A fresh load of ``path`` by Alice, signed in before, with the observer in place; with
    ``held``, the requests of :data:`LATE_PARTS` wait in it until released."""
    page = open_page(viewport).page
    sign_in(page, ALICE)
    page.context.add_init_script(OBSERVER)
    if held is not None:
        for pattern in LATE_PARTS:
            page.route(pattern, lambda route: held.append(route))
    page.goto(f"{APP}{path}")
    return page


def release(page: Page, held: list[Route]) -> None:
    """Let the held requests through, and every later one (the chart's data is asked for after
    the table's first page, so it may come while this runs)."""
    page.route("**/*", lambda route: route.continue_())  # tried first (newest): nothing more is held
    for route in held:
        route.continue_()


def report(page: Page, name: str) -> float:
    page.wait_for_timeout(1000)  # anything late would shift now
    entries = shifts(page)
    measured = total(entries)
    print(f"{name}: layout shift sum {measured:.4f}, largest session window {session_window_max(entries):.4f}")
    for entry in entries:
        print(f"  {entry['startTime']:.0f} ms  {entry['value']:.4f}  {entry['sources']}")
    return measured


@pytest.mark.parametrize("late", [False, True], ids=["as-it-comes", "late-parts"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_credits_usage_holds_still_while_it_loads(open_page, viewport: str, late: bool) -> None:
    held: list[Route] = []
    page = load_signed_in(open_page, viewport, "/credits", held if late else None)
    if late:
        wait_loaded(page)
        page.wait_for_timeout(300)  # the table laid out, the rest still waiting
        release(page, held)
    balance_shown(page, "Image credits")
    balance_shown(page, "Video credits")
    wait_loaded(page)
    usage = page.get_by_role("region", name="Credits spent per day", exact=True)
    expect(usage).to_have_attribute("aria-busy", "false")
    expect(usage.get_by_role("img")).to_be_visible()
    measured = report(page, f"Credits usage ({viewport}, {'late parts' if late else 'as it comes'})")
    assert measured < LIMIT, shifts(page)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_activity_holds_still_while_it_loads(open_page, viewport: str) -> None:
    page = load_signed_in(open_page, viewport, "/activity")
    expect(activity_list(page)).to_be_visible()
    expect(activity_list(page).locator("a[data-item-id]").first).to_be_visible()
    # The influencer menu is the last part to arrive (the page then keeps a live listener open,
    # so the network never idles).
    expect(page.get_by_label("AI Influencer").locator("option").nth(1)).to_be_attached()
    measured = report(page, f"Activity ({viewport})")
    assert measured < LIMIT, shifts(page)
