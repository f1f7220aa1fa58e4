"""Credit packs and checkout: the real ``stripe`` library against a local stand-in, and test mode on Firestore."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from ledger_helpers import stored_entries
from local_stripe import Answer, Request, serve

from credits.core import environment, ledger
from credits.core.errors import IdempotencyConflict, InvalidArgument, NotFound, PaymentsUnavailable
from credits.core.firestore_client import project_id
from credits.core.ledger import CreditType, Source
from credits.flows import checkout, payments, saved_cards
from credits.flows.payments import ItemKind

WEBHOOK_SECRET = "whsec_checkout_unit_test"


CUSTOMER = {"id": "cus_standin0001", "object": "customer", "metadata": {"uid": "alice-uid"}}


@dataclass
class StripeStandIn:
    """A tiny HTTP server in place of api.stripe.com: it records each request and answers a Customer
    to ``/v1/customers`` and ``reply`` (with ``status``) to anything else."""

    status: int = 200
    reply: dict[str, Any] = field(
        default_factory=lambda: {
            "id": "cs_test_standin0001",
            "object": "checkout.session",
            "mode": "payment",
            "status": "open",
            "url": "https://checkout.stripe.com/c/pay/cs_test_standin0001",
        }
    )
    requests: list[dict[str, Any]] = field(default_factory=list)
    base: str = ""


@pytest.fixture
def stand_in() -> Iterator[StripeStandIn]:
    state = StripeStandIn()

    def answer(request: Request) -> Answer:
        state.requests.append({"path": request.path, "headers": request.headers, "form": request.body})
        if request.path == "/v1/customers":
            return Answer(200, CUSTOMER)
        return Answer(state.status, state.reply, (("Request-Id", "req_standin"),))

    with serve(answer) as base:
        state.base = base
        yield state


def site() -> str:
    return f"{project_id()}.web.app"


def test_packs_list_only_packs_with_display_prices():
    listed = checkout.packs()
    pack_ids = [price for price, item in payments.CATALOG.items() if item.kind is ItemKind.PACK]
    assert [p["id"] for p in listed] == pack_ids and len(listed) == 3
    assert listed[0] == {
        "id": "price_pack_image_100",
        "name": "100 image credits",
        "creditType": "image",
        "credits": 100,
        "unitAmount": 999,
        "currency": "usd",
        "lastsDays": None,
    }
    for item in payments.CATALOG.values():
        assert isinstance(item.unit_amount, int) and item.unit_amount > 0
        assert re.fullmatch("[a-z]{3}", item.currency)


def test_only_packs_can_be_bought():
    assert checkout.pack("price_pack_video_60").credit_type is CreditType.VIDEO
    for price in ("price_plan_pro_monthly", "price_unknown", ""):
        with pytest.raises(InvalidArgument) as caught:
            checkout.pack(price)
        assert caught.value.details == {"field": "pack"}


def test_production_checkout_sends_stripe_the_metadata_the_webhook_reads(stand_in, firestore):
    url = checkout.start_stripe_checkout(
        "alice-uid",
        "price_pack_image_500",
        forwarded_host=site(),
        host="us-central1-demo.cloudfunctions.net",
        api_key="sk_test_standin",
        api_base=stand_in.base,
    )

    assert url == "https://checkout.stripe.com/c/pay/cs_test_standin0001"
    created, sent = stand_in.requests
    # The user's Stripe Customer first, once (a second checkout reuses the stored id).
    assert created["path"] == "/v1/customers"
    assert created["headers"]["Idempotency-Key"] == "customer:alice-uid"
    assert dict(urllib.parse.parse_qsl(created["form"])) == {"metadata[uid]": "alice-uid"}
    assert saved_cards.read("alice-uid") == saved_cards.StripeCustomer(uid="alice-uid", customer_id="cus_standin0001")
    assert sent["path"] == "/v1/checkout/sessions"
    assert sent["headers"]["Authorization"] == "Bearer sk_test_standin"
    assert sent["headers"]["Idempotency-Key"]
    form = dict(urllib.parse.parse_qsl(sent["form"], strict_parsing=True))
    assert form == {
        "mode": "payment",
        "line_items[0][price]": "price_pack_image_500",
        "line_items[0][quantity]": "1",
        "metadata[uid]": "alice-uid",
        "metadata[pack]": "price_pack_image_500",
        "customer": "cus_standin0001",
        # The purchase saves its card for automatic top-up, and its payment names the user.
        "payment_intent_data[setup_future_usage]": "off_session",
        "payment_intent_data[metadata][uid]": "alice-uid",
        "payment_intent_data[metadata][pack]": "price_pack_image_500",
        "client_reference_id": "alice-uid",
        "success_url": f"https://{site()}/credits?checkout=success",
        "cancel_url": f"https://{site()}/top-up?checkout=cancelled",
    }
    checkout.start_stripe_checkout(
        "alice-uid",
        "price_pack_image_100",
        forwarded_host=site(),
        host=None,
        api_key="sk_test_standin",
        api_base=stand_in.base,
    )
    assert [r["path"] for r in stand_in.requests[2:]] == ["/v1/checkout/sessions"]


def test_production_checkout_refuses_before_calling_stripe(stand_in):
    common: dict[str, Any] = {"api_key": "sk_test_standin", "api_base": stand_in.base, "host": None}
    with pytest.raises(InvalidArgument):
        checkout.start_stripe_checkout("alice", "price_plan_pro_monthly", forwarded_host=site(), **common)
    with pytest.raises(InvalidArgument):
        checkout.start_stripe_checkout("alice", "price_pack_image_100", forwarded_host="evil.example", **common)
    assert stand_in.requests == []


def test_a_stripe_error_is_unavailable_not_a_crash(stand_in):
    stand_in.status = 400
    stand_in.reply = {"error": {"type": "invalid_request_error", "message": "No such price: 'price_pack_image_100'"}}
    client = checkout.stripe_client("sk_test_standin", api_base=stand_in.base)
    with pytest.raises(PaymentsUnavailable):
        checkout.create_session(
            client, uid="alice", price_id="price_pack_image_100", origin=f"https://{site()}", customer="cus_1"
        )


def test_return_origin_is_the_forwarded_site_when_the_app_is_served_there():
    allowed = checkout.app_hosts({"credits.example.com"})
    assert allowed >= {f"{project_id()}.web.app", f"{project_id()}.firebaseapp.com", "credits.example.com"}
    function_host = "api-abc123-uc.a.run.app"
    cases = {
        (site(), function_host): f"https://{site()}",
        (f"{project_id()}.firebaseapp.com", function_host): f"https://{project_id()}.firebaseapp.com",
        (f"Credits.Example.com, {function_host}", None): "https://credits.example.com",
        (None, "credits.example.com:8443"): "https://credits.example.com:8443",
        ("", "credits.example.com"): "https://credits.example.com",
    }
    for (forwarded, host), origin in cases.items():
        assert checkout.return_origin(forwarded, host, allowed) == origin


def test_return_origin_refuses_hosts_the_app_is_not_served_on():
    allowed = checkout.app_hosts({"credits.example.com"})
    for forwarded, host in [
        ("evil.example", site()),  # a forged X-Forwarded-Host wins over Host, and is refused
        (None, "us-central1-demo.cloudfunctions.net"),  # the function called directly
        ("credits.example.com.evil.example", None),
        ("evil.example/credits.example.com", None),
        ("user@credits.example.com", None),
        ("https://credits.example.com", None),
        ("credits.example.com:99999999", None),
        ("credits.example.com\r\nX: y", None),
        (None, None),
    ]:
        with pytest.raises(InvalidArgument):
            checkout.return_origin(forwarded, host, allowed)


def test_extra_return_hosts_come_from_the_environment(monkeypatch):
    monkeypatch.setenv(environment.CHECKOUT_RETURN_HOSTS_ENV, " Credits.Example.com, ,other.example ")
    assert environment.checkout_return_hosts() == {"credits.example.com", "other.example"}
    monkeypatch.delenv(environment.CHECKOUT_RETURN_HOSTS_ENV)
    assert environment.checkout_return_hosts() == frozenset()


def test_test_mode_is_the_functions_emulator(monkeypatch):
    monkeypatch.setenv("FUNCTIONS_EMULATOR", "true")
    assert environment.on_emulator()
    checkout.require_test_mode()
    for value in ("false", "1", ""):
        monkeypatch.setenv("FUNCTIONS_EMULATOR", value)
        assert not environment.on_emulator()
    monkeypatch.delenv("FUNCTIONS_EMULATOR")
    assert not environment.on_emulator()
    with pytest.raises(NotFound):
        checkout.require_test_mode()


def test_test_checkout_urls_name_a_fresh_session_and_the_pack():
    first = checkout.new_test_checkout_url("price_pack_video_60")
    second = checkout.new_test_checkout_url("price_pack_video_60")
    path, _, query = first.partition("?")
    params = dict(urllib.parse.parse_qsl(query))
    assert path == "/top-up/test-checkout" and params["pack"] == "price_pack_video_60"
    checkout.CompleteTestCheckout(session=params["session"], pack=params["pack"])  # what the page sends back
    assert first != second
    with pytest.raises(InvalidArgument):
        checkout.new_test_checkout_url("price_plan_video_monthly")


def test_completing_a_test_session_credits_once_through_the_webhook_code(accounts):
    accounts("alice")
    request = checkout.CompleteTestCheckout(session="cs_test_abcdef012345", pack="price_pack_video_60")

    first = checkout.complete_test_checkout("alice", request, webhook_secret=WEBHOOK_SECRET)
    again = checkout.complete_test_checkout("alice", request, webhook_secret=WEBHOOK_SECRET)

    assert first.to_api() == {
        "outcome": "processed",
        "entryIds": [first.handled.entries[0].id],
        "credits": 60,
        "creditType": "video",
    }
    assert again.to_api() == {**first.to_api(), "outcome": "duplicate"}
    [entry] = stored_entries("alice")
    assert (entry["source"], entry["type"], entry["amount"]) == (Source.PURCHASE, "video", 60)
    assert entry["paymentId"] == "pi_test_abcdef012345"
    assert entry["idempotencyKey"] == "credit:purchase:pi_test_abcdef012345"
    assert entry["meta"]["stripeEventId"] == "evt_test_abcdef012345"
    assert entry["meta"]["checkoutSessionId"] == "cs_test_abcdef012345"
    assert ledger.read_balances("alice").of(CreditType.VIDEO) == 60
    invoice = payments.invoice_ref("cs_test_abcdef012345").get().to_dict() or {}
    assert (invoice["uid"], invoice["amount"], invoice["currency"]) == ("alice", 1499, "usd")
    # The payment's own event saved its card, on the user's test Customer, for automatic top-up.
    customer = saved_cards.read("alice")
    assert customer is not None and customer.customer_id.startswith("cus_test_")
    assert customer.payment_method_id == "pm_card_visa" and customer.payment_intent_id == "pi_test_abcdef012345"
    assert customer.card_to_api()["testCard"] == "succeeds"


@pytest.mark.parametrize(
    ("card", "payment_method"),
    [("declined", "pm_card_chargeCustomerFail"), ("authentication_required", "pm_card_authenticationRequired")],
)
def test_a_test_checkout_saves_the_test_card_the_page_chose(accounts, card, payment_method):
    accounts("alice")
    request = checkout.CompleteTestCheckout(session="cs_test_cardchoice01", pack="price_pack_image_100", testCard=card)

    checkout.complete_test_checkout("alice", request, webhook_secret=WEBHOOK_SECRET)

    customer = saved_cards.read("alice")
    assert customer is not None and customer.payment_method_id == payment_method
    assert customer.card_to_api()["testCard"] == card
    assert ledger.read_balances("alice").of(CreditType.IMAGE) == 100  # the purchase itself goes through


def test_a_test_session_belongs_to_whoever_completed_it_first(accounts):
    accounts("alice", "mallory")
    request = checkout.CompleteTestCheckout(session="cs_test_sharedsession", pack="price_pack_image_100")
    checkout.complete_test_checkout("alice", request, webhook_secret=WEBHOOK_SECRET)
    with pytest.raises(IdempotencyConflict):
        checkout.complete_test_checkout("mallory", request, webhook_secret=WEBHOOK_SECRET)
    assert stored_entries("mallory") == [] and ledger.read_balances("alice").of(CreditType.IMAGE) == 100


@pytest.mark.usefixtures("firestore")
def test_test_checkout_refuses_a_non_pack_and_writes_nothing():
    request = checkout.CompleteTestCheckout(session="cs_test_abcdef012345", pack="price_plan_pro_monthly")
    with pytest.raises(InvalidArgument):
        checkout.complete_test_checkout("alice", request, webhook_secret=WEBHOOK_SECRET)
    assert stored_entries("alice") == []
    for bad in (
        {"session": "cs_live_abcdef012345"},
        {"session": "cs_test_short"},
        {"session": "cs_test_a/b-c_d0000"},
        {"session": "cs_test_abcdef012345", "testCard": "stolen"},
    ):
        with pytest.raises(ValueError):
            checkout.CompleteTestCheckout.model_validate({"pack": "price_pack_image_100", **bad})
