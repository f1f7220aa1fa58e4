"""Top up on the emulators: the test checkout completes through the real webhook path."""

from __future__ import annotations

from e2e import helpers
from playwright.sync_api import expect

from browser.conftest import APP, api_get, axe_violations, id_token, no_horizontal_scroll, screenshot, sign_in
from browser.pages import balance_shown, item_links


def test_a_test_purchase_raises_the_live_balance_and_shows_in_activity(open_page) -> None:
    user = helpers.sign_up(helpers.unique("buyer") + "@example.com")
    # One tab watches the balance; the purchase happens in another, as it would on a phone.
    watcher = open_page().page
    sign_in(watcher, user.email, password=user.password)
    assert balance_shown(watcher, "Image credits") == 0
    watcher.evaluate("window.__sameDocument = true")

    buyer = open_page().page
    sign_in(buyer, user.email, "/top-up", password=user.password)
    expect(buyer.get_by_role("heading", name="Top up", level=1)).to_be_visible()
    expect(buyer.get_by_text("Test mode.")).to_be_visible()
    screenshot(buyer, "top-up")
    assert axe_violations(buyer) == []
    buyer.get_by_role("button", name="Buy 100 image credits").click()

    expect(buyer.get_by_role("heading", name="Test checkout")).to_be_visible()
    expect(buyer.get_by_text("TEST MODE")).to_be_visible()
    screenshot(buyer, "test-checkout")
    pay = buyer.get_by_role("button", name="Pay (test)")
    pay.click()
    expect(buyer).to_have_url(f"{APP}/credits?checkout=success")
    expect(buyer.get_by_text("Payment received.")).to_be_visible()

    # The other tab's number rose without a reload.
    expect(watcher.get_by_role("region", name="Balances").get_by_text("100", exact=True)).to_be_visible()
    assert watcher.evaluate("window.__sameDocument") is True
    assert api_get("/api/credits/ledger", id_token(user.email, user.password))["balances"]["image"] == 100

    buyer.get_by_role("navigation", name="Main").get_by_role("link", name="Activity").click()
    purchase = item_links(buyer).first
    expect(purchase).to_contain_text("Credits purchased")
    expect(purchase).to_contain_text("+100 image credits")


def test_completing_the_same_test_checkout_twice_credits_once(open_page) -> None:
    user = helpers.sign_up(helpers.unique("twice") + "@example.com")
    page = open_page().page
    sign_in(page, user.email, "/top-up", password=user.password)
    page.get_by_role("button", name="Buy 60 video credits").click()
    expect(page.get_by_role("heading", name="Test checkout")).to_be_visible()
    checkout_url = page.url
    page.get_by_role("button", name="Pay (test)").click()
    expect(page).to_have_url(f"{APP}/credits?checkout=success")
    page.goto(checkout_url)  # back to the same session, paid again
    page.get_by_role("button", name="Pay (test)").click()
    expect(page).to_have_url(f"{APP}/credits?checkout=success")
    assert balance_shown(page, "Video credits") == 60


def test_top_up_fits_a_phone(open_page) -> None:
    user = helpers.sign_up(helpers.unique("phone") + "@example.com")
    page = open_page("phone").page
    sign_in(page, user.email, "/top-up", password=user.password)
    expect(page.get_by_role("button", name="Buy 100 image credits")).to_be_visible()
    assert no_horizontal_scroll(page)
    screenshot(page, "top-up")
    page.get_by_role("button", name="Buy 100 image credits").click()
    expect(page.get_by_role("button", name="Pay (test)")).to_be_visible()
    assert no_horizontal_scroll(page)
    screenshot(page, "test-checkout")
    assert axe_violations(page) == []
