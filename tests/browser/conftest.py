"""Browser tests: Debian's Chromium, driven by Playwright, against the whole Emulator Suite.

The app is the production build in ``web/dist`` served by the Hosting emulator, with the
real Auth and Firestore emulators and the functions behind ``/api/**``. The demo data is
seeded once per session by ``scripts/seed_demo.py``, through the product's own paths.

Every page a test opens is watched: a console error, an uncaught exception or a request
to anything but 127.0.0.1 fails the test when it ends. Pages are found by role and
accessible name (DESIGN.md's table), as assistive technology finds them. Screenshots go
to ``.local/screenshots`` (git-ignored) for people to look at.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from e2e import helpers
from emulators import Suite
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".local" / "screenshots"
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
APP = helpers.HOSTING
PASSWORD = "demo-password"
ALICE = "alice@demo.test"
BOB = "bob@demo.test"
ADMIN = "admin@demo.test"
VIEWPORTS = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 375, "height": 740}}
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="session")
def demo(suite: Suite) -> Suite:
    """The suite with the demo data, seeded once through the product's paths."""
    suite.reset()
    unit_emulators = ("FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST", "GCLOUD_PROJECT")
    env = {k: v for k, v in os.environ.items() if k not in unit_emulators}
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "seed_demo.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return suite


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
        yield launched
        launched.close()


@dataclass
class Watch:
    """What a page did that a person would call broken, or that left this machine."""

    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    expected: list[re.Pattern[str]] = field(default_factory=list)

    def expect_error(self, pattern: str) -> None:
        """A console error the test causes on purpose (for example the 404 of a foreign item)."""
        self.expected.append(re.compile(pattern))

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} @ {message.location.get('url', '')}")

    def request(self, request: Request) -> None:
        url = urlparse(request.url)
        if url.scheme in ("data", "blob") or url.hostname in LOCAL_HOSTS:
            return
        self.outside.append(request.url)

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.expected)]


@dataclass
class Opened:
    page: Page
    watch: Watch
    context: BrowserContext


@pytest.fixture
def open_page(browser: Browser, demo: Suite) -> Iterator[Callable[..., Opened]]:
    """``open_page(viewport="desktop")``: a fresh browser context (no session) and its watched page."""
    opened: list[Opened] = []

    def open_(viewport: str = "desktop") -> Opened:
        context = browser.new_context(viewport=VIEWPORTS[viewport], accept_downloads=True)
        page = context.new_page()
        watch = Watch()
        page.on("console", watch.console)
        page.on("pageerror", lambda error: watch.errors.append(f"uncaught: {error}"))
        page.on("request", watch.request)
        page.on("dialog", lambda dialog: watch.errors.append(f"a script opened a {dialog.type}: {dialog.message}"))
        page.set_default_timeout(15_000)
        result = Opened(page=page, watch=watch, context=context)
        opened.append(result)
        return result

    hang_ups = emulator_hang_ups()
    yield open_
    try:
        dropped = emulator_hang_ups() - hang_ups
        for item in opened:
            errors = item.watch.unexpected_errors()
            if errors and len(errors) <= dropped and all(API_500.search(error) for error in errors):
                # The Functions emulator's proxy lost the connection to its worker ("socket hang
                # up") and answered 500 before the app's code ran: the emulator's fault, logged.
                warnings.warn(f"the Functions emulator dropped {dropped} request(s): {errors}", stacklevel=1)
                continue
            assert errors == [], "console errors"
            assert item.watch.outside == [], "requests that left 127.0.0.1"
    finally:
        for item in opened:
            item.context.close()


API_500 = re.compile(r"status of 500 \(Internal Server Error\) @ http://127\.0\.0\.1:\d+/api/")


def emulator_hang_ups() -> int:
    """How many requests the Functions emulator's proxy has dropped so far (a fault of the
    emulator under load, seen here now and then: "Request to function failed: Error: socket
    hang up", answered 500 without running the function)."""
    return helpers.SUITE_LOG.read_text(errors="replace").count("Request to function failed: Error: socket hang up")


def sign_in(page: Page, email: str, path: str = "/credits", password: str = PASSWORD) -> None:
    """Open ``path`` signed out, sign in on the page it lands on, and wait to be back at ``path``."""
    page.goto(f"{APP}{path}")
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def id_token(email: str, password: str = PASSWORD) -> str:
    return helpers.sign_in(helpers.User(uid="", email=email, password=password, id_token="")).id_token


def api_get(path: str, token: str, **params: Any) -> dict[str, Any]:
    response = helpers.requests.get(
        f"{APP}{path}",
        params={k: v for k, v in params.items() if v is not None},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def all_entries(token: str, **filters: Any) -> list[dict[str, Any]]:
    """Every ledger entry of the token's user matching ``filters``, newest first, over all pages."""
    entries: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = api_get("/api/credits/ledger", token, limit=200, cursor=cursor, **filters)
        entries += page["entries"]
        cursor = page["nextCursor"]
        if not cursor:
            return entries


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as ``.local/screenshots/<name>-<width>px.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = SCREENSHOTS / f"{name}-{width}px.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page as it is now.

    axe is evaluated through the DevTools protocol, which the page's Content-Security-Policy
    does not apply to, so the policy stays on while the page is checked.
    """
    script = AXE.read_text()
    page.evaluate(f"{script}\n;void 0")
    violations: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const result = await window.axe.run(document, {resultTypes: ["violations"]});
            return result.violations
              .filter(v => v.impact === "serious" || v.impact === "critical")
              .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))}));
        }"""
    )
    return violations


def no_horizontal_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))
