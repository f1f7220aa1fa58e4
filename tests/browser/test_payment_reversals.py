"""Stripe's any-order delivery end to end, through the signed webhook on the Emulator Suite: a
refund that arrives before its purchase, a dispute lost and a dispute won, each seen by the
user in the usage table and in Activity."""

from __future__ import annotations

from e2e import helpers
from playwright.sync_api import expect

from browser.conftest import axe_violations, no_horizontal_scroll, screenshot, sign_in
from browser.pages import data_rows, item_links, wait_loaded
from credits.flows import stripe_events as se


def payment(uid: str, tag: str) -> tuple[dict, str, str]:
    """A paid Checkout Session of 100 image credits, and its payment intent and charge."""
    pi, charge = helpers.unique(f"pi_{tag}"), helpers.unique(f"ch_{tag}")
    event = se.checkout_completed(
        event_id=helpers.unique(f"evt_{tag}"),
        uid=uid,
        pack="price_pack_image_100",
        payment_intent=pi,
        session_id=helpers.unique(f"cs_{tag}"),
    )
    return event, pi, charge


def dispute(pi: str, charge: str, dispute_id: str, event_type: str, status: str = "needs_response") -> dict:
    return se.dispute(
        event_id=helpers.unique("evt_dp"),
        event_type=event_type,
        dispute_id=dispute_id,
        charge_id=charge,
        payment_intent=pi,
        amount=999,
        status=status,
    )


def outcome(event: dict) -> str:
    response = helpers.deliver(event)
    assert response.status_code == 200, response.text
    return str(response.json()["outcome"])


def test_a_refund_before_its_purchase_and_disputes_lost_and_won_show_in_the_usage_table_and_activity(
    open_page,
) -> None:
    user = helpers.sign_up(helpers.unique("payer") + "@example.com")
    refunded, pi, charge = payment(user.uid, "refunded")
    refund = se.charge_refunded(
        event_id=helpers.unique("evt_re"), charge_id=charge, payment_intent=pi, amount=999, amount_refunded=999
    )
    assert outcome(refund) == "pending"  # the purchase's delivery failed: Stripe retries it later
    assert outcome(refunded) == "processed"
    assert outcome(refund) == "duplicate"

    lost, pi, charge = payment(user.uid, "lost")
    assert outcome(lost) == "processed"
    lost_id = helpers.unique("dp_lost")
    assert outcome(dispute(pi, charge, lost_id, "created")) == "processed"
    assert outcome(dispute(pi, charge, lost_id, "closed", "lost")) == "duplicate"

    won, pi, charge = payment(user.uid, "won")
    won_id = helpers.unique("dp_won")
    assert outcome(dispute(pi, charge, won_id, "funds_reinstated")) == "pending"  # before everything else
    assert outcome(won) == "processed"
    assert outcome(dispute(pi, charge, won_id, "created")) == "duplicate"  # taken and given back already

    sources = sorted(e.data["source"] for e in helpers.ledger_entries(user.uid))
    assert sources == sorted(
        ["purchase"] * 3 + ["purchase_reversal", "chargeback", "chargeback", "chargeback_reversal"]
    )
    assert helpers.image_balance(user.uid) == 100

    for viewport in ("desktop", "phone"):
        page = open_page(viewport).page
        sign_in(page, user.email, "/credits", password=user.password)
        wait_loaded(page)
        expect(data_rows(page)).to_have_count(7)
        expect(data_rows(page).filter(has_text="Purchase refunded")).to_contain_text("−100")
        expect(data_rows(page).filter(has_text="Payment disputed")).to_have_count(2)
        expect(data_rows(page).filter(has_text="Dispute won")).to_contain_text("+100")
        assert no_horizontal_scroll(page)
        screenshot(page, "credits-reversals")
        if viewport == "desktop":
            assert axe_violations(page) == []

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Activity").click()
        expect(item_links(page).filter(has_text="Purchase refunded")).to_have_count(1)
        expect(item_links(page).filter(has_text="Credits taken back (Payment disputed)")).to_have_count(2)
        returned = item_links(page).filter(has_text="Credits returned (Dispute won)")
        expect(returned).to_have_count(1)
        returned.click()
        drawer = page.get_by_role("dialog", name="Activity detail")
        expect(drawer).to_contain_text("+100 image credits: Dispute won")
        expect(drawer).to_contain_text("TypeCredits returned")
        screenshot(page, "activity-dispute-won")
