"""Automatic top-up in the browser, end to end on the emulators (docs/alerts.md, docs/web.md).

A fresh user buys a pack through the test checkout (which saves a test card), turns automatic
top-up on from the Top up page (pack, threshold, monthly cap), and generation jobs spend the
balance, written as the generation pipeline writes them (``generation_jobs`` over the Firestore
REST API). The ledger's trigger sees the crossing and charges the saved card through the real
webhook code with a signed event. Nothing here reloads a page unless a test says so
(``window.__sameDocument`` proves it): the balance refills, the banner shows and clears, and the
Top up page says what happened, live.

* the issue's flow: the balance refills on Credits usage, the purchase is in Activity marked as
  an automatic top-up, the low-balance banner shows and clears;
* a declined card, and one that needs authentication: the top-up fails, automatic top-up is
  off, and the Top up page and the banner say why; turning it on again clears them;
* the monthly cap: with a cap of one pack, the second crossing of the month charges nothing and
  the page says the cap was reached.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from e2e import helpers
from playwright.sync_api import Locator, Page, expect

from browser.conftest import (
    APP,
    SCREENSHOTS,
    api_get,
    axe_violations,
    no_horizontal_scroll,
    screenshot,
    sign_in,
)
from browser.pages import balance_shown, item_links
from browser.test_layout_shift import LIMIT, OBSERVER, report

PACK = "price_pack_image_100"
JOB_CREDITS = 32
"""Sixteen HQ images at 2 credits each: the largest image job."""


def section(page: Page) -> Locator:
    return page.get_by_role("region", name="Automatic top-up")


def banner(page: Page) -> Locator:
    return page.get_by_role("status", name="Credit alerts")


def screenshot_section(page: Page, name: str) -> None:
    """The section alone, as large as it is drawn (a phone's full page is too long to read)."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    section(page).screenshot(path=str(SCREENSHOTS / f"{name}-section-{width}px.png"))


def settings_of(user: helpers.User) -> dict[str, Any]:
    result: dict[str, Any] = api_get("/api/credits/settings", helpers.sign_in(user).id_token)["autoTopUp"]
    return result


def image_balance(user: helpers.User) -> int:
    return int(api_get("/api/credits/ledger", helpers.sign_in(user).id_token, limit=1)["balances"]["image"])


def buy_pack(page: Page, card: str = "Succeeds") -> None:
    """From Top up: buy 100 image credits through the test checkout, saving the test card ``card``."""
    page.get_by_role("button", name="Buy 100 image credits").click()
    expect(page.get_by_role("heading", name="Test checkout")).to_be_visible()
    cards = page.get_by_role("group", name="Test card saved for automatic top-up")
    expect(cards.get_by_role("radio", name="Succeeds")).to_be_checked()  # the default
    cards.get_by_role("radio", name=card).check()
    page.get_by_role("button", name="Pay (test)").click()
    expect(page).to_have_url(f"{APP}/credits?checkout=success")


def open_top_up(page: Page) -> None:
    page.get_by_role("region", name="Balances").get_by_role("link", name="Top up").click()
    expect(page.get_by_role("heading", name="Top up", level=1)).to_be_visible()


def turn_on(page: Page, *, threshold: int, cap: str, button: str = "Turn on") -> None:
    auto = section(page)
    auto.get_by_role("combobox", name="Pack").select_option(PACK)
    auto.get_by_role("textbox", name="Threshold").fill(str(threshold))
    auto.get_by_role("textbox", name="Monthly cap").fill(cap)
    auto.get_by_role("button", name=button, exact=True).click()
    expect(auto.get_by_text("Automatic top-up is on.")).to_be_visible()
    expect(auto.get_by_text("On", exact=True)).to_be_visible()


def spend(user: helpers.User) -> str:
    """A generation job of the user's, written as the pipeline writes it; waits for its debit."""
    job_id = helpers.unique("job")
    now = datetime.now(UTC)
    helpers.create_document(
        "generation_jobs",
        job_id,
        {
            "uid": user.uid,
            "status": "queued",
            "source": "text2image",
            "numImages": 16,
            "quality": "hq",
            "model": "flux-pro",
            "resolution": "1024x1024",
            "aspectRatio": "1:1",
            "influencerId": "inf-luna",
            "influencerName": "Luna",
            "createdAt": now,
            "updatedAt": now,
        },
    )
    helpers.wait_for(lambda: helpers.job_entries(job_id), bool, what=f"the debit of {job_id}")
    helpers.update_document(
        f"generation_jobs/{job_id}",
        {"status": "completed", "completedAt": datetime.now(UTC), "outputs": ["https://example.test/out.png"]},
    )
    return job_id


def wait_attempt(user: helpers.User, status: str) -> dict[str, Any]:
    """Until the latest automatic top-up attempt has ``status`` (the trigger decided and settled it)."""
    return helpers.wait_for(
        lambda: settings_of(user),
        lambda top: bool(top["lastAttempt"]) and top["lastAttempt"]["status"] == status,
        what=f"an automatic top-up {status}",
    )


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_turned_on_it_refills_the_balance_live_and_the_purchase_shows_in_activity(open_page, device: str) -> None:
    user = helpers.sign_up(helpers.unique("auto") + "@example.com")
    opened = open_page(device)
    # Turning it on before any purchase is refused (409) on purpose.
    opened.watch.expect_error(r"status of 409 \(Conflict\) @ .*/api/credits/settings$")
    page = opened.page
    sign_in(page, user.email, "/top-up", password=user.password)
    auto = section(page)
    expect(auto.get_by_text("Off", exact=True)).to_be_visible()
    expect(auto).to_contain_text("No card saved yet. Your first purchase of a pack above saves it")
    auto.get_by_role("button", name="Turn on", exact=True).click()
    expect(auto.get_by_role("alert")).to_contain_text("Automatic top-up needs a saved card, and you have none yet.")
    screenshot_section(page, "auto-top-up-no-card")
    assert settings_of(user)["enabled"] is False

    buy_pack(page)
    assert balance_shown(page, "Image credits") == 100
    open_top_up(page)
    # Warned at 80, topped up below 50: the banner shows after the first job, the refill after the second.
    alerts_form = page.get_by_role("region", name="Low-balance alerts")
    alerts_form.get_by_role("textbox", name="Image credits").fill("80")
    alerts_form.get_by_role("button", name="Save alerts").click()
    expect(alerts_form.get_by_text("Saved.")).to_be_visible()
    expect(auto).to_contain_text("The card of your purchase on")
    turn_on(page, threshold=50, cap="29.97")
    expect(auto).to_contain_text(
        "When your image credits fall below 50, buy 100 image credits for $9.99, up to $29.97 a month."
    )
    expect(auto).to_contain_text("$0.00 charged, $29.97 left of your $29.97 cap.")
    expect(auto.get_by_role("textbox", name="Monthly cap")).to_have_accessible_description(
        "At least $9.99. $29.97 allows 3 top-ups a month."
    )
    if device == "phone":
        assert no_horizontal_scroll(page)
    auto.scroll_into_view_if_needed()
    screenshot(page, "auto-top-up-on")
    screenshot_section(page, "auto-top-up-on")
    assert axe_violations(page) == []
    top = settings_of(user)
    assert (top["enabled"], top["pack"], top["threshold"], top["monthlyCap"]) == (True, PACK, 50, 2997)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Credits").click()
    assert balance_shown(page, "Image credits") == 100
    page.evaluate("window.__sameDocument = true")

    spend(user)  # 100 → 68: below the alert (80), above the top-up threshold (50)
    expect(banner(page)).to_contain_text("Your image credits are low: 68 left, below your alert at 80.")
    assert balance_shown(page, "Image credits") == 68

    spend(user)  # 68 → 36: crosses 50, which buys the pack with the saved card: 136
    expect(page.get_by_role("region", name="Balances").get_by_text("136", exact=True)).to_be_visible()
    expect(banner(page)).to_have_text("")  # back above 80: the banner cleared by itself
    assert page.evaluate("window.__sameDocument") is True
    top = wait_attempt(user, "succeeded")
    assert (top["month"]["charged"], top["month"]["remaining"]) == (999, 1998)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Activity").click()
    purchase = item_links(page).filter(has_text="Automatic top-up")
    expect(purchase).to_have_count(1)
    expect(purchase).to_contain_text("Automatic top-up: 100 image credits")
    expect(purchase).to_contain_text("+100 image credits")
    screenshot(page, "auto-top-up-activity")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Credits").click()
    open_top_up(page)
    expect(auto).to_contain_text("$9.99 charged, $19.98 left of your $29.97 cap.")
    assert page.evaluate("window.__sameDocument") is True


FAILURES = {
    "declined": ("Declined", "Automatic top-up is off: your card was declined.", "card_declined"),
    "authentication": (
        "Needs authentication",
        "Automatic top-up is off: your bank asked to confirm the payment.",
        "authentication_required",
    ),
}


@pytest.mark.parametrize(
    ("device", "card"), [("desktop", "declined"), ("phone", "authentication")], ids=["declined", "authentication"]
)
def test_a_failed_payment_turns_it_off_and_the_page_and_the_banner_say_why(open_page, device: str, card: str) -> None:
    label, title, reason = FAILURES[card]
    user = helpers.sign_up(helpers.unique("declined") + "@example.com")
    page = open_page(device).page
    sign_in(page, user.email, "/top-up", password=user.password)
    buy_pack(page, label)
    open_top_up(page)
    auto = section(page)
    expect(auto).to_contain_text("Test card: automatic top-ups " + ("are declined" if card == "declined" else "need"))
    turn_on(page, threshold=80, cap="19.98")
    page.evaluate("window.__sameDocument = true")

    spend(user)  # 100 → 68: crosses 80; the saved card refuses the charge

    notice = auto.get_by_role("alert")
    expect(notice).to_contain_text(title)  # said on the open page, without a reload
    expect(notice).to_contain_text("nothing was charged.")
    expect(auto.get_by_text("Off", exact=True)).to_be_visible()
    again = auto.get_by_role("button", name="Turn on again")
    expect(again).to_be_visible()
    expect(auto.get_by_role("button", name="Turn off")).to_have_count(0)
    expect(auto.get_by_text("Automatic top-up is on.")).to_have_count(0)  # the click's word is out of date
    top = settings_of(user)
    assert top["enabled"] is False and top["turnedOff"]["reason"] == reason
    assert top["month"]["charged"] == 0 and top["lastAttempt"]["status"] == "failed"
    assert image_balance(user) == 68  # nothing bought
    if device == "phone":
        assert no_horizontal_scroll(page)
    auto.scroll_into_view_if_needed()
    screenshot(page, f"auto-top-up-failed-{card}")
    screenshot_section(page, f"auto-top-up-failed-{card}")
    assert axe_violations(page) == []

    # The banner of Credits usage (and Activity) says it too, with Top up, where it is turned on again.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Credits").click()
    expect(banner(page)).to_contain_text(f"{title} Nothing was charged.")
    expect(banner(page).get_by_role("link", name="Top up")).to_be_visible()
    screenshot(page, f"auto-top-up-failed-banner-{card}")
    assert axe_violations(page) == []
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Activity").click()
    expect(banner(page)).to_contain_text(title)

    banner(page).get_by_role("link", name="Top up").click()
    again.click()
    expect(auto.get_by_text("Automatic top-up is on.")).to_be_visible()
    expect(auto.get_by_role("alert")).to_have_count(0)
    assert settings_of(user)["turnedOff"] is None
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Credits").click()
    expect(banner(page)).to_have_text("")
    assert page.evaluate("window.__sameDocument") is True


def test_the_monthly_cap_is_never_passed_and_the_page_says_it_was_reached(open_page) -> None:
    user = helpers.sign_up(helpers.unique("capped") + "@example.com")
    page = open_page().page
    sign_in(page, user.email, "/top-up", password=user.password)
    buy_pack(page)
    open_top_up(page)
    auto = section(page)
    auto.get_by_role("textbox", name="Monthly cap").fill("9.98")
    auto.get_by_role("button", name="Turn on", exact=True).click()  # less than one pack: refused here
    cap = auto.get_by_role("textbox", name="Monthly cap")
    expect(cap).to_have_attribute("aria-invalid", "true")
    expect(cap).to_have_accessible_description(re.compile(r"Enter at least one pack's price, \$9\.99\."))
    expect(cap).to_be_focused()
    turn_on(page, threshold=100, cap="9.99")  # one pack a month
    page.evaluate("window.__sameDocument = true")

    spend(user)  # 100 → 68: crosses 100, buys: 168
    wait_attempt(user, "succeeded")
    helpers.wait_for(lambda: image_balance(user), lambda n: n == 168, what="the first top-up")
    expect(auto).to_contain_text("$9.99 charged, $0.00 left of your $9.99 cap.")
    for _ in range(3):
        spend(user)  # 136, 104, 72: the second crossing, which the cap stops
    top = wait_attempt(user, "capped")

    notice = auto.get_by_role("status").filter(has_text="This month's cap is reached.")
    expect(notice).to_contain_text("would have gone over your monthly cap of $9.99, so nothing was charged.")
    expect(notice).to_contain_text("Automatic top-up stays on")
    expect(auto.get_by_text("On", exact=True)).to_be_visible()
    assert top["enabled"] is True and top["month"]["charged"] == 999 and top["month"]["pending"] == 0
    helpers.stays(lambda: image_balance(user), 72, what="the balance after the capped crossing")
    bought = [
        e
        for e in api_get("/api/credits/ledger", helpers.sign_in(user).id_token, source="purchase")["entries"]
        if e["meta"].get("autoTopUp")
    ]
    assert len(bought) == 1
    auto.scroll_into_view_if_needed()
    screenshot(page, "auto-top-up-capped")
    screenshot_section(page, "auto-top-up-capped")
    assert axe_violations(page) == []
    assert page.evaluate("window.__sameDocument") is True


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_top_up_with_automatic_top_up_on_loads_without_moving(open_page, device: str) -> None:
    user = helpers.sign_up(helpers.unique("still") + "@example.com")
    page = open_page(device).page
    sign_in(page, user.email, "/top-up", password=user.password)
    buy_pack(page)
    open_top_up(page)
    turn_on(page, threshold=30, cap="29.97")
    page.context.add_init_script(OBSERVER)
    page.goto(f"{APP}/top-up")
    expect(section(page).get_by_role("button", name="Turn off")).to_be_visible()
    expect(
        page.get_by_role("region", name="Low-balance alerts").get_by_role("button", name="Save alerts")
    ).to_be_visible()
    measured = report(page, f"Top up with automatic top-up on ({device})")
    assert measured < LIMIT
