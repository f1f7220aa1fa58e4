"""The web benchmark's browser side: load a page until its first 50 items show, and its API call alone.

For ``scripts/bench_web.py``, in Debian's Chromium through Playwright, against the Emulator
Suite's Hosting: :func:`measure_pages` signs in once (the session persists in IndexedDB),
finds the API call each page of :data:`TARGETS` makes for its first items, warms up, then
loads each page in turn, timing it in the page's own clock (a script added to every page
records when the items are in the DOM and laid out, :data:`READY_SCRIPT`) and keeping its
Resource Timing marks (:data:`TIMELINE_SCRIPT`), each followed by the same API call from the
page with ``fetch`` (:data:`API_SCRIPT`). :func:`first_page_scripts` records every script a
fresh browser loads for the sign-in page and then Credits usage. Nothing to run on its own.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from playwright.sync_api import Browser, Page, Request, ViewportSize, expect

APP = "http://127.0.0.1:5000"
PAGE_ITEMS = 50
PAGE_TIMEOUT_MS = 30_000
VIEWPORT: ViewportSize = {"width": 1280, "height": 860}

READY_SCRIPT = """
(() => {
  const WANT = __WANT__;
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const enough = (nodes) => nodes.length >= WANT && Array.from(nodes).slice(0, WANT).every(shown);
  const ready = () => {
    const list = document.querySelector('ul[aria-label="Activity items"]');
    if (list && enough(list.querySelectorAll("a[data-item-id]"))) return "activity";
    const table = document.querySelector('table[aria-label="Credits ledger"]');
    const rows = table && table.querySelectorAll("tbody tr:not(.skeleton-row)");
    if (table && table.getAttribute("aria-busy") === "false" && enough(rows)) return "credits";
    return null;
  };
  const observer = new MutationObserver(() => {
    const what = ready();
    if (what) {
      window.__benchReady = { what, at: performance.now() };
      observer.disconnect();
    }
  });
  observer.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["aria-busy"] });
})();
""".replace("__WANT__", str(PAGE_ITEMS))
"""Added to every page: records when the first 50 items are in the DOM and laid out."""

TIMELINE_SCRIPT = """
(apiPath) => {
  const nav = performance.getEntriesByType("navigation")[0];
  const resources = performance.getEntriesByType("resource");
  const first = (test) => resources.find((r) => test(new URL(r.name)));
  const scripts = resources.filter((r) => new URL(r.name).pathname.endsWith(".js"));
  const lookup = first((u) => u.pathname.endsWith("/accounts:lookup"));
  const refresh = first((u) => u.host.startsWith("127.0.0.1:9099") && u.pathname.includes("securetoken"));
  const api = first((u) => u.pathname + u.search === apiPath);
  return {
    html: nav.responseEnd,
    scripts: scripts.length ? Math.max(...scripts.map((r) => r.responseEnd)) : null,
    dcl: nav.domContentLoadedEventEnd,
    lookupStart: lookup ? lookup.startTime : null,
    lookupEnd: lookup ? lookup.responseEnd : null,
    refresh: refresh ? refresh.responseEnd : null,
    apiStart: api ? api.startTime : null,
    apiEnd: api ? api.responseEnd : null,
    ready: window.__benchReady.at,
  };
}
"""

API_SCRIPT = """
async ([path, token]) => {
  const started = performance.now();
  const response = await fetch(path, { headers: { Accept: "application/json", Authorization: "Bearer " + token } });
  const body = await response.json();
  const ms = performance.now() - started;
  return { ms, status: response.status, count: (body.items || body.entries || []).length };
}
"""


@dataclass(frozen=True, kw_only=True)
class Target:
    name: str
    path: str
    api_prefix: str
    """The path of the API call that brings the first 50 items."""
    check: Callable[[Page], None]


def activity_ready(page: Page) -> None:
    links = page.get_by_role("list", name="Activity items").locator("a[data-item-id]")
    expect(links).to_have_count(PAGE_ITEMS)
    expect(links.nth(PAGE_ITEMS - 1)).to_be_visible()


def credits_ready(page: Page) -> None:
    table = page.get_by_role("table", name="Credits ledger")
    expect(table).to_have_attribute("aria-busy", "false")
    rows = table.locator("tbody tr:not(.skeleton-row)")
    expect(rows.nth(PAGE_ITEMS - 1)).to_be_visible()


TARGETS = (
    Target(name="Activity", path="/activity", api_prefix="/api/activity?", check=activity_ready),
    Target(name="Credits usage", path="/credits", api_prefix="/api/credits/ledger?", check=credits_ready),
    # The user is also an admin, so the admin Ledger tab (a lazily loaded chunk) lists the same entries.
    Target(
        name="Admin Ledger tab",
        path="/admin/credits/ledger",
        api_prefix="/api/admin/credits/ledger?",
        check=credits_ready,
    ),
)


class ApiWatch:
    """The page's requests to /api/**: which URL each page asks for, and when all have answered."""

    def __init__(self) -> None:
        self.pending: set[Request] = set()
        self.urls: list[str] = []

    def attach(self, page: Page) -> None:
        page.on("request", self._started)
        page.on("requestfinished", lambda request: self.pending.discard(request))
        page.on("requestfailed", lambda request: self.pending.discard(request))

    def _started(self, request: Request) -> None:
        url = urlparse(request.url)
        if url.path.startswith("/api/"):
            self.pending.add(request)
            self.urls.append(url.path + (f"?{url.query}" if url.query else ""))

    def settle(self, page: Page, quiet_s: float = 0.3) -> None:
        deadline = time.monotonic() + PAGE_TIMEOUT_MS / 1000
        while self.pending and time.monotonic() < deadline:
            page.wait_for_timeout(20)
        page.wait_for_timeout(quiet_s * 1000)


@dataclass
class Runs:
    page_ms: list[float] = field(default_factory=list)
    api_ms: list[float] = field(default_factory=list)
    timelines: list[dict[str, float | None]] = field(default_factory=list)


def load_page(page: Page, watch: ApiWatch, target_: Target, api_path: str | None) -> dict[str, float | None]:
    """Navigate to the target and wait for its 50 items; the page's timeline of that load."""
    page.goto(f"{APP}{target_.path}", wait_until="commit")
    page.wait_for_function("() => window.__benchReady !== undefined", timeout=PAGE_TIMEOUT_MS, polling=50)
    target_.check(page)
    timeline: dict[str, float | None] = page.evaluate(TIMELINE_SCRIPT, api_path or "")
    watch.settle(page)
    return timeline


def api_call(page: Page, path: str, token: str) -> float:
    result: dict[str, Any] = page.evaluate(API_SCRIPT, [path, token])
    if result["status"] != 200 or result["count"] < PAGE_ITEMS:
        raise RuntimeError(f"GET {path} from the page answered {result['status']} with {result['count']} items")
    return float(result["ms"])


def page_api_path(page: Page, watch: ApiWatch, target_: Target) -> str:
    """The URL of the API call the page makes for its first items (seen on a warm-up load)."""
    watch.urls.clear()
    load_page(page, watch, target_, None)
    paths = [u for u in watch.urls if u.startswith(target_.api_prefix)]
    if len(paths) != 1:
        raise RuntimeError(f"{target_.name}: expected one {target_.api_prefix}... request, saw {watch.urls}")
    return paths[0]


def measure_pages(
    browser: Browser, email: str, password: str, token: str, runs: int, warmup: int
) -> dict[str, tuple[str, Runs]]:
    """Each target's API path and its measured loads: signed in once, ``warmup`` rounds, then ``runs`` rounds."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        context.add_init_script(READY_SCRIPT)
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
        watch = ApiWatch()
        watch.attach(page)
        page.goto(f"{APP}/sign-in")
        sign_in(page, email, password)
        page.get_by_role("button", name="Sign out").wait_for()
        watch.settle(page)

        api_paths = {t.name: page_api_path(page, watch, t) for t in TARGETS}
        for _ in range(warmup):
            for t in TARGETS:
                load_page(page, watch, t, api_paths[t.name])
                api_call(page, api_paths[t.name], token)
        print(
            f"browser: one signed-in context, {warmup} warm-up rounds, then {runs} runs of each page "
            f"(each: navigate and wait for {PAGE_ITEMS} items, then the API call from the page)",
            flush=True,
        )
        results = {t.name: Runs() for t in TARGETS}
        for _ in range(runs):
            for t in TARGETS:
                timeline = load_page(page, watch, t, api_paths[t.name])
                results[t.name].page_ms.append(float(timeline["ready"] or 0))
                results[t.name].timelines.append(timeline)
                results[t.name].api_ms.append(api_call(page, api_paths[t.name], token))
        if errors:
            print(f"console errors in the pages ({len(errors)}): {errors[:3]}", flush=True)
        return {t.name: (api_paths[t.name], results[t.name]) for t in TARGETS}
    finally:
        context.close()


def sign_in(page: Page, email: str, password: str) -> None:
    """Fill in and send the sign-in form the page shows."""
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


# The JavaScript of the first page.


def gzipped(data: bytes) -> int:
    """The size of ``data`` gzipped at the highest level."""
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def first_page_scripts(browser: Browser, email: str, password: str) -> list[tuple[str, int, int]]:
    """(path, bytes, gzipped bytes) of every script a fresh browser loads for sign-in, then Credits usage."""
    context = browser.new_context(viewport=VIEWPORT)
    scripts: dict[str, bytes] = {}

    def record(response: Any) -> None:
        if response.request.resource_type == "script":
            scripts[urlparse(response.url).path] = response.body()

    try:
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        page.on("response", record)
        page.goto(f"{APP}/credits")
        sign_in(page, email, password)
        credits_ready(page)
        page.wait_for_load_state("load")
        page.wait_for_timeout(500)
    finally:
        context.close()
    return sorted(((path, len(body), gzipped(body)) for path, body in scripts.items()), key=lambda s: -s[2])
