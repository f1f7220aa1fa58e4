"""Credit blocks end to end: a plan grant pays a job before a pack does, its remainder expires
when its period ends and the pack's credits do not, and the pages say so."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from e2e import helpers
from ledger_helpers import job_document
from playwright.sync_api import expect

from browser.conftest import axe_violations, no_horizontal_scroll, screenshot, sign_in
from browser.pages import data_rows, item_links, wait_loaded
from credits.flows import stripe_events as se

PERIOD_S = 25
"""The Video plan's credits expire at the end of the period they pay for: here, seconds away."""


def test_the_plan_grant_pays_first_and_expires_while_the_pack_lasts(open_page) -> None:
    user = helpers.sign_up(helpers.unique("expiry") + "@example.com")
    period_end = int(time.time()) + PERIOD_S
    plan = se.invoice_paid(
        event_id=helpers.unique("evt_plan"),
        uid=user.uid,
        plan="price_plan_video_monthly",
        invoice_id=helpers.unique("in_plan"),
        subscription_id=helpers.unique("sub"),
    )
    plan["data"]["object"]["lines"]["data"][0]["period"]["end"] = period_end
    pack = se.checkout_completed(
        event_id=helpers.unique("evt_pack"),
        uid=user.uid,
        pack="price_pack_video_60",
        payment_intent=helpers.unique("pi"),
        session_id=helpers.unique("cs"),
    )
    assert helpers.deliver(plan).status_code == 200
    assert helpers.deliver(pack).status_code == 200
    entries = {e.data["source"]: e for e in helpers.ledger_entries(user.uid)}
    grant, bought = entries["subscription_grant"], entries["purchase"]
    assert bought.data["expiresAt"] is None

    job_id = helpers.unique("video-job")
    video = {"source": "text2video", "durationSec": 5, "quality": "standard", "model": "veo-3"}
    document = job_document(uid=user.uid, createdAt=datetime.now(UTC), **video)
    for field in ("numImages", "influencerId", "influencerName"):
        document.pop(field)
    helpers.create_document("generation_jobs", job_id, document)
    debit = helpers.wait_for(
        lambda: helpers.job_entries(job_id), lambda found: len(found) == 1, what="the job's debit"
    )[0].data
    price = debit["amount"]
    assert [(p["block"], p["amount"]) for p in debit["paidBy"]] == [(grant.id, price)]  # the plan first

    time.sleep(max(0.0, period_end - time.time() + 1))
    helpers.fire_schedule("expire_credits")

    expired = [e.data for e in helpers.ledger_entries(user.uid) if e.data["source"] == "expiration"]
    assert [(e["paidBy"][0]["block"], e["amount"]) for e in expired] == [(grant.id, 120 - price)]
    assert helpers.balance(user.uid) == {"image": 0, "video": 60}
    helpers.fire_schedule("expire_credits")  # a second run writes nothing more
    assert len([e for e in helpers.ledger_entries(user.uid) if e.data["source"] == "expiration"]) == 1

    for viewport in ("desktop", "phone"):
        page = open_page(viewport).page
        sign_in(page, user.email, "/credits", password=user.password)
        wait_loaded(page)
        expired_row = data_rows(page).filter(has_text="Credits expired")
        expect(expired_row).to_have_count(1)
        expect(expired_row).to_contain_text(f"−{120 - price}")
        expect(expired_row).to_contain_text("Expired:")
        job_row = data_rows(page).filter(has_text="Text to video")
        expect(job_row).to_contain_text(f"Paid from {_month_day(grant.data['createdAt'])} credits ({price}, expire")
        purchase_row = data_rows(page).filter(has_text="Purchase")
        expect(purchase_row).not_to_contain_text("Expires")  # a pack's credits last
        expect(page.get_by_role("region", name="Balances")).not_to_contain_text("expire on")
        assert no_horizontal_scroll(page)
        screenshot(page, "credits-expired")
        if viewport == "desktop":
            assert axe_violations(page) == []

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Activity").click()
        item = item_links(page).filter(has_text="Credits expired")
        expect(item).to_have_count(1)
        item.click()
        drawer = page.get_by_role("dialog", name="Activity detail")
        expect(drawer.get_by_text("Expired", exact=True)).to_be_visible()
        expect(drawer).to_contain_text(f"{120 - price} of credits of")
        screenshot(page, "activity-credits-expired")


def _month_day(when: datetime) -> str:
    return f"{when.strftime('%b')} {when.day}"
