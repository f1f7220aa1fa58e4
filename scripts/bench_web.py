"""Benchmark the web app in a real browser: Activity and Credits usage beside their API calls.

It starts the whole Emulator Suite (``tests/emulators.Suite``, the ports of firebase.json),
empties it, creates one user through the Auth emulator's REST ``signUp`` and writes that
user's history: ``--entries`` (default 5,000) ledger entries over the last ``--days``
(default 60) days, then measures, in the same run:

* **Activity**: the time from navigation start to the first 50 items of the list
  "Activity items" visible, in the page's own clock (``performance.now()``), beside the
  time of the same API call (``GET /api/activity``, the URL the page requested) made from
  the page with ``fetch`` and ``response.json()``; the medians and their ratio against the
  goals ``page/API <= 1.5`` and ``page <= 2 s`` (the epic's AC-6);
* **Credits usage**: likewise, until the table "Credits ledger" shows 50 rows of entries
  and is no longer busy, beside ``GET /api/credits/ledger``;
* the **admin Ledger tab** (the user is also an admin; the admin area is a chunk of its own,
  loaded when the tab opens): likewise, beside ``GET /api/admin/credits/ledger``;
* the **JavaScript the first page loads**: every script a fresh browser loads for the
  sign-in page and then the Credits usage page, gzipped, against the goal ``<= 250 kB``;
  and, for reference, all the JavaScript in ``web/dist/assets``.


The history is written by ``scripts/bench_web_history.py`` with the product's own code, in-process,
as ``scripts/seed_demo.py`` writes the demo's (both through ``scripts/history.py``):
generation jobs written as the pipeline writes them and billed by ``jobs.bill_job`` (most
completed, some failed and refunded, the newest still rendering), plan grants
(``invoice.paid``) and credit-pack purchases (``checkout.session.completed``, bought when a
balance runs short) signed as Stripe signs them and handled by ``payments.handle_event``,
and a few admin grants through ``admin.adjust``; each step inside ``ledger.entry_time(at)``
in time order, while the Functions emulator's background triggers are disabled through the
Emulator Hub (enabled again however the seed ends).

The pages are measured by ``scripts/bench_web_pages.py``, in one signed-in browser context
(the session persists in IndexedDB), after a warm-up, with the HTTP cache warm: what a
returning user sees. A script added to every page records the moment the items are in the
DOM and laid out (a ``MutationObserver``); the page's Resource Timing entries give a
timeline of each load (HTML, scripts, Firebase Auth's restore of the session, the API
request), printed here as medians so that the gap between the page and its API call can be
read off.

    source .local/env.sh && (cd web && npm run build)
    flock /tmp/suite.lock "$PYTHON" scripts/bench_web.py

The Emulator Suite uses fixed ports: hold ``/tmp/suite.lock`` as the tests do. The figures
are from the emulators on the machine that runs them (the API's time is mostly the
Functions and Firestore emulators'), so they compare the page with its own API call rather
than promise a production latency.
"""

from __future__ import annotations

import functools
import os
import statistics
from datetime import datetime

import bench_helpers
import history
import requests
from bench_helpers import ROOT, Option, goal_line, verdict
from bench_web_history import seed
from bench_web_pages import PAGE_ITEMS, TARGETS, Runs, first_page_scripts, gzipped, measure_pages
from history import DemoUser
from playwright.sync_api import Browser, sync_playwright

DIST = ROOT / "web" / "dist"
EMAIL = "bench-web@example.com"
PASSWORD = "bench-password"
GOAL_RATIO = 1.5
GOAL_PAGE_S = 2.0
GOAL_FIRST_JS_KB = 250.0
OPTIONS = (
    Option(name="entries", default=5_000, minimum=200, help="ledger entries of the one user"),
    Option(name="days", default=60, minimum=2, help="days the history covers"),
    Option(name="runs", default=7, help="measured loads of each page (each followed by its API call)"),
    Option(name="warmup", default=2, minimum=0, help="warm-up rounds of each page before measuring"),
)


def main() -> None:
    args = bench_helpers.parse(__doc__, OPTIONS)
    if not (DIST / "index.html").is_file():
        raise SystemExit("no web/dist: build the app first with (cd web && npm run build)")
    built = datetime.fromtimestamp((DIST / "index.html").stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    print(f"starting the Emulator Suite (Hosting serves {DIST.relative_to(ROOT)}, built {built})", flush=True)
    with bench_helpers.whole_suite():
        user = sign_up(EMAIL, PASSWORD)
        seed(user, args.entries, args.days)
        token = history.sign_in(EMAIL, PASSWORD)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
            try:
                print(f"Chromium {browser.version}", flush=True)
                results = measure_pages(browser, EMAIL, PASSWORD, token, args.runs, args.warmup)
                print_page_results(results)
                print_scripts(browser)
            finally:
                browser.close()


def sign_up(email: str, password: str) -> DemoUser:
    """A new Auth emulator user (REST ``signUp``), made an admin too (the admin Ledger tab is measured)."""
    from credits.api.auth import set_admin

    response = requests.post(
        history.auth_emulator("signUp"),
        json={"email": email, "password": password, "displayName": "Bench Web", "returnSecureToken": True},
        timeout=30,
    )
    response.raise_for_status()
    uid = str(response.json()["localId"])
    set_admin(uid, True)
    return DemoUser(uid=uid, email=email, name="Bench Web")


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def print_page_results(results: dict[str, tuple[str, Runs]]) -> None:
    for t in TARGETS:
        api_path, runs = results[t.name]
        page_ms, api_ms = statistics.median(runs.page_ms), statistics.median(runs.api_ms)
        ratio = page_ms / api_ms
        print(f"\n{t.name} ({t.path}, first {PAGE_ITEMS} items; API GET {api_path})")
        print(
            f"  page: navigation to {PAGE_ITEMS} items visible  median {page_ms:7.1f} ms  "
            f"(min {min(runs.page_ms):.1f}, max {max(runs.page_ms):.1f})"
        )
        print(
            f"  API:  the same call from the page          median {api_ms:7.1f} ms  "
            f"(min {min(runs.api_ms):.1f}, max {max(runs.api_ms):.1f})"
        )
        print(goal_line("  ratio page/API", ratio, GOAL_RATIO))
        print(
            f"  page {page_ms / 1000:.2f} s (goal < {GOAL_PAGE_S:g} s, AC-6: {verdict(page_ms < GOAL_PAGE_S * 1000)})"
        )
        marks = {key: _median([tl[key] for tl in runs.timelines]) for key in runs.timelines[0]}
        at = functools.partial(_ms, marks)
        refresh = f", token refresh done {at('refresh')}" if marks.get("refresh") is not None else ""
        print(
            f"  timeline (medians, ms from navigation start): HTML {at('html')}, scripts loaded {at('scripts')}, "
            f"DOMContentLoaded {at('dcl')}, Auth session restore (accounts:lookup) {at('lookupStart')}-"
            f"{at('lookupEnd')}{refresh}, API request {at('apiStart')}-{at('apiEnd')}, items visible {at('ready')}"
        )
        phases = {
            "before": [tl["apiStart"] for tl in runs.timelines],
            "during": [_gap(tl, "apiStart", "apiEnd") for tl in runs.timelines],
            "after": [_gap(tl, "apiEnd", "ready") for tl in runs.timelines],
        }
        gaps = functools.partial(_ms, {name: _median(values) for name, values in phases.items()})
        print(
            f"  where the page's time goes (medians): {gaps('before')} ms until it sends the API request, "
            f"{gaps('during')} ms for that request in the page (alone: {api_ms:.0f}), "
            f"{gaps('after')} ms from its response to the items on screen"
        )


def _gap(timeline: dict[str, float | None], start: str, end: str) -> float | None:
    first, last = timeline[start], timeline[end]
    return None if first is None or last is None else last - first


def _ms(marks: dict[str, float | None], key: str) -> str:
    value = marks.get(key)
    return "-" if value is None else f"{value:.0f}"


def print_scripts(browser: Browser) -> None:
    scripts = first_page_scripts(browser, EMAIL, PASSWORD)
    print(f"\nJavaScript the first page loads (sign-in, then Credits usage; gzip -9), {len(scripts)} files")
    for path, size, packed in scripts:
        print(f"  {path:<40} {size / 1000:8.1f} kB  gzipped {packed / 1000:7.1f} kB")
    total = sum(g for _, _, g in scripts) / 1000
    print(f"  total gzipped {total:.1f} kB (goal <= {GOAL_FIRST_JS_KB:g} kB: {verdict(total <= GOAL_FIRST_JS_KB)})")
    every = sorted((DIST / "assets").glob("*.js"))
    raw = sum(p.stat().st_size for p in every)
    packed = sum(gzipped(p.read_bytes()) for p in every)
    print(
        f"  for reference, all JavaScript in web/dist/assets: {len(every)} files, {raw / 1000:.1f} kB, "
        f"gzipped {packed / 1000:.1f} kB"
    )


if __name__ == "__main__":
    main()
