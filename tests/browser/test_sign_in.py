"""Signing in and out: signed-out visitors land on sign-in and return where they were going."""

from __future__ import annotations

from urllib.parse import quote

from playwright.sync_api import expect

from browser.conftest import ALICE, APP, PASSWORD, axe_violations, screenshot


def test_a_signed_out_visitor_signs_in_and_returns_to_the_page_asked_for(open_page) -> None:
    opened = open_page()
    page = opened.page
    page.goto(f"{APP}/activity?range=7d")
    expect(page).to_have_url(f"{APP}/sign-in?next={quote('/activity?range=7d', safe='')}")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    # On the emulators the demo accounts are listed, and picking one fills the form.
    page.get_by_role("button", name=f"Use {ALICE}").click()
    expect(page.get_by_role("textbox", name="Email")).to_have_value(ALICE)
    expect(page.get_by_label("Password")).to_have_value(PASSWORD)
    screenshot(page, "sign-in")
    assert axe_violations(page) == []

    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{APP}/activity?range=7d")
    expect(page.get_by_role("heading", name="Activity")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Credits")).to_be_visible()
    expect(nav.get_by_role("link", name="Activity")).to_be_visible()
    expect(nav.get_by_role("link", name="Admin")).to_have_count(0)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.goto(f"{APP}/credits")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_a_wrong_password_is_refused_in_words(open_page) -> None:
    opened = open_page()
    opened.watch.expect_error(r"status of 400")  # the Auth emulator's answer to a wrong password
    page = opened.page
    page.goto(f"{APP}/sign-in")
    page.get_by_role("textbox", name="Email").fill(ALICE)
    page.get_by_label("Password").fill("not-the-password")
    opened_errors = page.get_by_role("alert")
    page.get_by_role("button", name="Sign in").click()
    expect(opened_errors).to_have_text("That email and password do not match an account.")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_hosting_sends_the_security_headers_and_serves_deep_links(open_page) -> None:
    page = open_page().page
    response = page.goto(f"{APP}/activity/job:some-job?range=7d")
    assert response is not None and response.status == 200
    headers = response.headers
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    # A deep link is the app (index.html), which sends the signed-out visitor to sign in.
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_the_sign_in_page_fits_a_phone(open_page) -> None:
    page = open_page("phone").page
    page.goto(f"{APP}/sign-in")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "sign-in")
