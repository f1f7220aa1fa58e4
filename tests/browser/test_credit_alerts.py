"""Credit alerts in the browser: the banner of Credits usage and Activity (low balance with Top up,
expiring soon) appears and clears by itself as the ledger moves, and arrives without moving the
page; the low-balance alerts form of Top up saves, validates and goes back to the default.

Every balance change here is made outside the page (an admin adjustment, a Stripe purchase
through the webhook), as it would be in life, and the page is never reloaded unless a test
says so (``window.__sameDocument`` proves it).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from e2e import helpers
from playwright.sync_api import Locator, Page, Response, expect

from browser.conftest import (
    APP,
    SCREENSHOTS,
    VIEWPORTS,
    api_get,
    axe_violations,
    no_horizontal_scroll,
    screenshot,
    sign_in,
)
from browser.pages import balance_shown, wait_loaded
from browser.test_layout_shift import LIMIT, OBSERVER, report, shifts

ADMIN = helpers.User(uid="", email="admin@demo.test", password="demo-password", id_token="")


def admin() -> helpers.User:
    return helpers.sign_in(ADMIN)


def adjust(user: helpers.User, direction: str, amount: int, reason: str, **extra: Any) -> None:
    body = {
        "uid": user.uid,
        "type": "image",
        "direction": direction,
        "amount": amount,
        "reason": reason,
        "idempotencyKey": helpers.unique("alerts"),
        **extra,
    }
    response = helpers.adjust(body, headers=admin().auth_header)
    assert response.status_code == 201, response.text


def alerts_of(user: helpers.User) -> dict[str, Any]:
    return api_get("/api/credits/alerts", helpers.sign_in(user).id_token)


def wait_low(user: helpers.User) -> None:
    """Until the ledger's trigger has raised the low-balance alert (the banner's data)."""
    helpers.wait_for(lambda: alerts_of(user)["lowBalance"], bool, what="the low-balance alert")


def alerts_answered(response: Response) -> bool:
    """The page's request for its alerts was answered."""
    return response.url.endswith("/api/credits/alerts") and response.ok


def banner(page: Page) -> Locator:
    return page.get_by_role("status", name="Credit alerts")


def top(locator: Locator) -> float:
    box = locator.bounding_box()
    assert box is not None
    return box["y"]


def screenshot_window(page: Page, name: str) -> None:
    """What the window shows (a full-page picture draws a fixed bar where the first screen ends)."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(SCREENSHOTS / f"{name}-window-{width}px.png"))


def assert_placed(page: Page, device: str) -> None:
    """Beside the title on a wide screen; fixed to the bottom of the window on a phone."""
    box = banner(page).bounding_box()
    heading = page.get_by_role("heading", level=1).bounding_box()
    assert box is not None and heading is not None
    if device == "desktop":
        assert box["y"] == pytest.approx(heading["y"], abs=2)
        assert box["x"] > heading["x"] + heading["width"]
    else:
        height = VIEWPORTS["phone"]["height"]
        assert box["y"] + box["height"] == pytest.approx(height - 0.75 * 15, abs=2)
        assert no_horizontal_scroll(page)


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_low_balance_shows_the_banner_with_top_up_until_a_purchase_brings_it_back(open_page, device: str) -> None:
    user = helpers.sign_up(helpers.unique("low") + "@example.com")
    adjust(user, "credit", 30, "Welcome credits")
    page = open_page(device).page
    sign_in(page, user.email, password=user.password)
    assert balance_shown(page, "Image credits") == 30
    wait_loaded(page)
    expect(banner(page)).to_have_text("")  # above the threshold (20): nothing to say
    page.evaluate("window.__sameDocument = true")
    balances_at = top(page.get_by_role("region", name="Balances"))

    adjust(user, "debit", 18, "Correction by support")  # 30 → 12, below 20: the trigger raises the alert

    expect(banner(page)).to_contain_text("Your image credits are low: 12 left, below your alert at 20.")
    top_up = banner(page).get_by_role("link", name="Top up")
    expect(top_up).to_have_attribute("href", "/top-up")
    assert balance_shown(page, "Image credits") == 12
    assert top(page.get_by_role("region", name="Balances")) == balances_at  # it arrived and moved nothing
    assert_placed(page, device)
    screenshot(page, "credit-alerts-credits")
    screenshot_window(page, "credit-alerts-credits")
    assert axe_violations(page) == []

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Activity").click()
    expect(page.get_by_role("heading", name="Activity", level=1)).to_be_visible()
    expect(banner(page)).to_contain_text("Your image credits are low: 12 left")
    page.get_by_role("list", name="Activity items").locator("a[data-item-id]").first.wait_for()
    assert_placed(page, device)
    screenshot(page, "credit-alerts-activity")
    screenshot_window(page, "credit-alerts-activity")
    assert axe_violations(page) == []

    banner(page).get_by_role("link", name="Top up").click()
    expect(page).to_have_url(f"{APP}/top-up")
    expect(page.get_by_role("button", name="Buy 100 image credits")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", name="Activity", level=1)).to_be_visible()
    expect(banner(page)).to_contain_text("12 left")

    helpers.buy_image_credits(user.uid, tag=helpers.unique("alerts"))  # 12 → 112, back above 20

    expect(banner(page)).to_have_text("")
    expect(banner(page).get_by_role("link", name="Top up")).to_have_count(0)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Credits").click()
    assert balance_shown(page, "Image credits") == 112
    expect(banner(page)).to_have_text("")
    assert page.evaluate("window.__sameDocument") is True


def test_expiring_credits_show_until_spent_and_a_dismissed_banner_returns_for_a_new_alert(
    open_page,
) -> None:
    user = helpers.sign_up(helpers.unique("expiring") + "@example.com")
    expires = datetime.now(UTC) + timedelta(days=2)
    adjust(user, "credit", 40, "Trial credits", expiresAt=expires.isoformat())
    page = open_page().page
    sign_in(page, user.email, "/activity", password=user.password)
    page.evaluate("window.__sameDocument = true")

    expiring = re.compile(r"40 image credits expire (today|tomorrow|on [A-Z][a-z]{2} \d{1,2}) at \d\d:\d\d\.")
    expect(banner(page)).to_contain_text(expiring)
    expect(banner(page).get_by_role("link", name="Top up")).to_have_count(0)  # nothing to buy: use them
    expect(banner(page).locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    screenshot(page, "credit-alerts-expiring")

    adjust(user, "debit", 40, "Spent elsewhere")  # the block is spent, and 40 → 0 crosses 20
    expect(banner(page)).to_contain_text("You are out of image credits (your alert is at 20).")
    expect(banner(page).get_by_role("link", name="Top up")).to_be_visible()
    expect(banner(page)).not_to_contain_text("expire")

    banner(page).get_by_role("button", name="Dismiss credit alerts").click()
    expect(banner(page)).to_have_text("")
    expect(page.get_by_role("heading", name="Activity", level=1)).to_be_focused()  # not lost with the button
    with page.expect_response(alerts_answered):
        page.reload()
    expect(banner(page)).to_have_text("")  # the alerts arrived, and stay dismissed

    page.evaluate("window.__sameDocument = true")
    adjust(user, "credit", 30, "Goodwill")  # 0 → 30: cleared
    adjust(user, "debit", 15, "Correction by support")  # 30 → 15: a new crossing, a new alert
    expect(banner(page)).to_contain_text("Your image credits are low: 15 left, below your alert at 20.")
    assert page.evaluate("window.__sameDocument") is True


def settings_of(user: helpers.User) -> dict[str, Any]:
    result: dict[str, Any] = api_get("/api/credits/settings", helpers.sign_in(user).id_token)["lowBalance"]
    return result


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_alerts_form_saves_refuses_bad_values_next_to_the_field_and_goes_back_to_the_default(
    open_page, device: str
) -> None:
    user = helpers.sign_up(helpers.unique("settings") + "@example.com")
    opened = open_page(device)
    # The save the API refuses (above its largest threshold) is a 400 on purpose.
    opened.watch.expect_error(r"status of 400 \(Bad Request\) @ .*/api/credits/settings$")
    page = opened.page
    sign_in(page, user.email, "/top-up", password=user.password)
    form = page.get_by_role("region", name="Low-balance alerts")
    image = form.get_by_role("textbox", name="Image credits")
    video = form.get_by_role("textbox", name="Video credits")
    save = form.get_by_role("button", name="Save alerts")
    expect(image).to_have_value("20")
    expect(video).to_have_value("10")
    expect(image).to_have_accessible_description("The default, 20 credits.")
    expect(form.get_by_text("Credits that expire within 3 days are announced there too.")).to_be_visible()
    if device == "phone":
        assert no_horizontal_scroll(page)
    form.scroll_into_view_if_needed()
    screenshot(page, "alert-settings")
    assert axe_violations(page) == []

    # Refused here: not a whole number. Nothing is sent.
    image.fill("12.5")
    save.click()
    expect(image).to_have_attribute("aria-invalid", "true")
    expect(image).to_have_accessible_description(re.compile("Enter a whole number of credits, 0 or more."))
    expect(image).to_be_focused()
    # Refused by the API (above its largest threshold), said next to the field; nothing is written.
    image.fill("20000000")
    expect(image).not_to_have_attribute("aria-invalid", "true")  # typing clears the old error
    save.click()
    expect(image).to_have_accessible_description(re.compile("Enter at most 10,000,000 credits."))
    expect(image).to_have_attribute("aria-invalid", "true")
    expect(video).not_to_have_attribute("aria-invalid", "true")
    screenshot(page, "alert-settings-error")
    assert settings_of(user)["image"] == {
        "threshold": 20,
        "default": 20,
        "isDefault": True,
    }

    image.fill("50")
    video.fill("0")
    save.click()
    expect(form.get_by_role("status")).to_have_text("Saved.")
    assert settings_of(user) == {
        "image": {"threshold": 50, "default": 20, "isDefault": False},
        "video": {"threshold": 0, "default": 10, "isDefault": False},
    }
    page.reload()
    expect(image).to_have_value("50")
    expect(image).to_have_accessible_description("Your own; the default is 20.")
    expect(video).to_have_value("0")
    expect(video).to_have_accessible_description("Off: no low-balance alert for video credits.")

    form.get_by_role("button", name="Use default for image credits").click()
    expect(image).to_have_value("20")
    save.click()
    expect(form.get_by_role("status")).to_have_text("Saved.")
    assert settings_of(user)["image"] == {
        "threshold": 20,
        "default": 20,
        "isDefault": True,
    }
    expect(form.get_by_role("button", name="Use default for image credits")).to_have_count(0)
    save.click()
    expect(form.get_by_role("status")).to_have_text("Nothing to save: no changes.")


def test_a_new_threshold_shows_or_clears_the_banner_of_a_type_that_crossed(
    open_page,
) -> None:
    user = helpers.sign_up(helpers.unique("threshold") + "@example.com")
    adjust(user, "credit", 30, "Welcome credits")
    adjust(user, "debit", 18, "Correction by support")  # crossed 20 once
    wait_low(user)
    adjust(user, "credit", 100, "Goodwill")  # 112: back above
    page = open_page().page
    with page.expect_response(alerts_answered):
        sign_in(page, user.email, password=user.password)
    assert balance_shown(page, "Image credits") == 112
    expect(banner(page)).to_have_text("")

    page.get_by_role("region", name="Balances").get_by_role("link", name="Top up").click()
    form = page.get_by_role("region", name="Low-balance alerts")
    form.get_by_role("textbox", name="Image credits").fill("200")
    form.get_by_role("button", name="Save alerts").click()
    expect(form.get_by_role("status")).to_have_text("Saved.")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Credits").click()
    expect(banner(page)).to_contain_text("Your image credits are low: 112 left, below your alert at 200.")

    banner(page).get_by_role("link", name="Top up").click()
    form.get_by_role("textbox", name="Image credits").fill("0")
    form.get_by_role("button", name="Save alerts").click()
    expect(form.get_by_role("status")).to_have_text("Saved.")
    with page.expect_response(alerts_answered):
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Activity").click()
    expect(banner(page)).to_have_text("")  # 0: the image alert is off


@pytest.mark.parametrize("path", ["/credits", "/activity"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_banner_arrives_without_moving_the_page(open_page, viewport: str, path: str) -> None:
    """A fresh load by a user with a low balance and credits that expire soon: the banner comes
    after the page's first data and the live balance, and the layout shifts stay as without it."""
    user = helpers.sign_up(helpers.unique("shift") + "@example.com")
    adjust(
        user,
        "credit",
        30,
        "Welcome credits",
        expiresAt=(datetime.now(UTC) + timedelta(days=2)).isoformat(),
    )
    adjust(user, "credit", 10, "Goodwill")
    adjust(user, "debit", 25, "Correction by support")  # 40 → 15: low
    wait_low(user)
    page = open_page(viewport).page
    sign_in(page, user.email, password=user.password)
    page.context.add_init_script(OBSERVER)
    page.goto(f"{APP}{path}")
    expect(banner(page)).to_contain_text("Your image credits are low: 15 left")
    expect(banner(page)).to_contain_text("image credits expire")
    if path == "/credits":
        wait_loaded(page)
        expect(page.get_by_role("region", name="Credits spent per day", exact=True)).to_have_attribute(
            "aria-busy", "false"
        )
    else:
        page.get_by_role("list", name="Activity items").locator("a[data-item-id]").first.wait_for()
    measured = report(page, f"{path} with the banner ({viewport})")
    banner_shifts = [s for s in shifts(page) if any("credit-alerts" in src["node"] for src in s["sources"])]
    assert banner_shifts == []
    assert measured < LIMIT, shifts(page)
    screenshot(page, f"credit-alerts-both{path.replace('/', '-')}")
    screenshot_window(page, f"credit-alerts-both{path.replace('/', '-')}")
