"""Price quotes, against the Firestore emulator: the price of each kind, who would pay it, bad
parameters, the ``config/pricing`` override, the route, and a property test that a quote is
exactly the debit that billing the same job then writes."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from conftest import TEST_PROJECT, reset_database
from google.cloud.firestore import FieldFilter
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from ledger_helpers import put_job, request, stored_entries
from openapi_check import assert_conforms
from pydantic import ValidationError

from credits.api.routes import app
from credits.core import generation_jobs, ledger
from credits.core.errors import InvalidArgument
from credits.core.firestore_client import db
from credits.core.ledger import CreditType, Source
from credits.flows import expiry, jobs, pricing
from credits.flows.quotes import QuoteRequest, quote

IMAGE, VIDEO = CreditType.IMAGE, CreditType.VIDEO


def grant(uid: str, amount: int, expires_at: datetime | None = None, **fields: Any) -> ledger.LedgerEntry:
    return ledger.write_ledger_entry(request(uid=uid, amount=amount, expires_at=expires_at, **fields)).entry


def params(**fields: Any) -> QuoteRequest:
    """Five HQ images, unless told otherwise."""
    return QuoteRequest(**{"source": "text2image", "numImages": 5, "quality": "hq", **fields})


def parts(answer: dict[str, Any]) -> list[tuple[str, int]]:
    return [(part["block"], part["amount"]) for part in answer["paidBy"]]


@pytest.mark.parametrize(
    ("fields", "credit_type", "amount"),
    [
        ({"source": "text2image", "numImages": 5, "quality": "hq"}, IMAGE, 10),
        ({"source": "text2image", "numImages": 5, "quality": "standard"}, IMAGE, 5),
        ({"source": "image2image", "numImages": 3, "quality": "hq"}, IMAGE, 6),
        ({"source": "text2video", "durationSec": 8, "quality": "hq"}, VIDEO, 16),
        ({"source": "image2video", "durationSec": 5, "quality": "standard"}, VIDEO, 5),
    ],
)
def test_each_kind_and_quality_has_its_price(firestore, fields, credit_type, amount):
    grant("u1", 50, type=credit_type)
    answer = quote("u1", QuoteRequest(**fields, model="flux-pro", resolution="1024x1792")).to_api()

    assert (answer["type"], answer["amount"], answer["source"]) == (str(credit_type), amount, fields["source"])
    assert answer["priceVersion"] == pricing.DEFAULT_PRICES.version
    counted = "numImages" if "numImages" in fields else "durationSec"
    assert answer["breakdown"] == {
        "priceVersion": pricing.DEFAULT_PRICES.version,
        "unitPrice": amount // fields[counted],
        "quality": fields["quality"],
        counted: fields[counted],
        "model": "flux-pro",
        "resolution": "1024x1792",
    }
    assert (answer["balance"], answer["affordable"], answer["shortfall"]) == (50, True, 0)
    assert sum(part["amount"] for part in answer["paidBy"]) == amount


def test_the_price_is_the_one_billing_charges():
    job = {"source": "text2video", "durationSec": 12, "quality": "hq", "model": "veo", "resolution": None}
    expected = pricing.price_job(job, pricing.DEFAULT_PRICES)
    assert params(source="text2video", numImages=None, durationSec=12, model="veo").job() == job
    assert (expected.amount, expected.credit_type) == (24, VIDEO)


def test_affordable_or_not_and_by_how_much(firestore):
    grant("u1", 9)
    grant("u1", 100, type=VIDEO)  # another type's credits pay nothing

    short = quote("u1", params()).to_api()
    assert (short["amount"], short["balance"], short["affordable"], short["shortfall"]) == (10, 9, False, 1)
    assert short["paidBy"] == []

    grant("u1", 1)
    enough = quote("u1", params()).to_api()
    assert (enough["balance"], enough["affordable"], enough["shortfall"]) == (10, True, 0)

    nobody = quote("nobody", params()).to_api()
    assert (nobody["balance"], nobody["affordable"], nobody["shortfall"], nobody["paidBy"]) == (0, False, 10, [])


def test_paid_by_lists_the_expiring_block_before_the_lasting_one(firestore):
    soon = datetime.now(UTC) + timedelta(days=3)
    pack = grant("u1", 100)
    plan = grant("u1", 30, soon)

    answer = quote("u1", params(numImages=16, quality="hq")).to_api()  # 32 credits

    assert parts(answer) == [(plan.id, 30), (pack.id, 2)]
    assert answer["paidBy"][0] == {
        "block": plan.id,
        "amount": 30,
        "expiresAt": soon.isoformat(),
        "grantedAt": ledger.read_balances("u1").blocks[plan.id].created_at.isoformat(),
    }
    assert answer["paidBy"][1]["expiresAt"] is None
    assert (answer["balance"], answer["affordable"]) == (130, True)
    small = quote("u1", params(numImages=2, quality="standard")).to_api()
    assert parts(small) == [(plan.id, 2)]


def test_an_expired_block_is_not_counted(firestore):
    now = datetime.now(UTC)
    with ledger.entry_time(now - timedelta(days=2)):
        old = grant("u1", 40, now - timedelta(minutes=5))  # expired; the schedule has not run yet
    lasting = grant("u1", 6)
    assert ledger.read_balances("u1").of(IMAGE) == 46

    answer = quote("u1", params()).to_api()
    assert (answer["balance"], answer["affordable"], answer["shortfall"]) == (6, False, 4)
    assert answer["paidBy"] == []
    cheap = quote("u1", params(numImages=3)).to_api()
    assert parts(cheap) == [(lasting.id, 6)]
    assert old.id not in {part["block"] for part in cheap["paidBy"]}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"source": "upscale"}, "source"),
        ({"source": "purchase"}, "source"),
        ({"numImages": None}, "numImages"),
        ({"numImages": 0}, "numImages"),
        ({"numImages": 17}, "numImages"),
        ({"quality": "ultra"}, "quality"),
        ({"durationSec": 4}, "durationSec"),
        ({"source": "text2video", "numImages": None}, "durationSec"),
        ({"source": "text2video", "durationSec": 601, "numImages": None}, "durationSec"),
        ({"source": "image2video", "durationSec": 5}, "numImages"),
    ],
)
def test_bad_parameters_name_their_field(firestore, fields, field):
    with pytest.raises(InvalidArgument) as caught:
        quote("u1", params(**fields))
    assert caught.value.details["field"] == field


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"quality": "hq"}, "source"),
        ({"source": "text2image"}, "quality"),
        ({"source": "text2image", "quality": "hq", "numImages": "five"}, "numImages"),
        ({"source": "text2image", "quality": "hq", "uid": "someone-else"}, "uid"),
        ({"source": "text2image", "quality": "hq", "model": "x" * 129}, "model"),
        ({"source": "text2image", "quality": "hq", "resolution": ""}, "resolution"),
    ],
)
def test_malformed_or_unknown_parameters_are_refused_by_the_model(query, field):
    with pytest.raises(ValidationError) as caught:
        QuoteRequest.model_validate(query)
    assert [".".join(map(str, error["loc"])) for error in caught.value.errors()] == [field]


def test_the_config_pricing_document_is_honoured(firestore):
    grant("u1", 100)
    override = {"version": "2026-03", "image": {"standard": 1, "hq": 3}, "video": {"standard": 2, "hq": 4}}
    db().collection(pricing.CONFIG_PATH[0]).document(pricing.CONFIG_PATH[1]).set(override)

    answer = quote("u1", params()).to_api()
    assert (answer["amount"], answer["priceVersion"], answer["breakdown"]["unitPrice"]) == (15, "2026-03", 3)
    video = quote("u1", params(source="image2video", numImages=None, durationSec=3, quality="standard")).to_api()
    assert (video["amount"], video["type"], video["affordable"]) == (6, "video", False)


def test_a_quote_writes_nothing(firestore):
    grant("u1", 3)
    before = ledger.balance_ref("u1").get()
    entries = len(stored_entries("u1"))

    quote("u1", params())  # not affordable: billing would record an anomaly, a quote does not
    quote("u1", params(numImages=1, quality="standard"))

    after = ledger.balance_ref("u1").get()
    assert after.update_time == before.update_time and after.to_dict() == before.to_dict()
    assert len(stored_entries("u1")) == entries
    assert list(db().collection("anomalies").stream()) == []
    assert list(db().collection(generation_jobs.JOBS).stream()) == []


# The route, through the Flask test client with an ID token the Auth emulator accepts.


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def id_token(uid: str, **extra: object) -> str:
    """An unsigned Firebase ID token, which only the Auth emulator accepts (as in test_rules);
    ``extra`` adds custom claims (``admin=True``)."""
    now = int(time.time())
    claims = {
        "sub": uid,
        "user_id": uid,
        "iat": now,
        "exp": now + 3600,
        "auth_time": now,
        "aud": TEST_PROJECT,
        "iss": f"https://securetoken.google.com/{TEST_PROJECT}",
        "firebase": {"sign_in_provider": "password", "identities": {}},
        **extra,
    }
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def get_quote(query: dict[str, Any], uid: str | None = "alice") -> Any:
    headers = {"Authorization": f"Bearer {id_token(uid)}"} if uid else {}
    return app.test_client().get(f"/api/credits/quote?{urlencode(query)}", headers=headers)


def test_the_route_answers_the_callers_quote_as_the_contract_says(firestore, auth_emulator):
    soon = datetime.now(UTC) + timedelta(days=3)
    pack = grant("alice", 100)
    plan = grant("alice", 4, soon)
    grant("bob", 1000)

    response = get_quote(
        {"source": "text2image", "numImages": 5, "quality": "hq", "model": "flux-pro", "resolution": "1024x1792"}
    )
    assert response.status_code == 200, response.json
    assert_conforms("get", "/api/credits/quote", 200, response.json)
    assert response.json == quote("alice", params(model="flux-pro", resolution="1024x1792")).to_api()
    assert parts(response.json) == [(plan.id, 4), (pack.id, 6)]
    assert (response.json["balance"], response.json["affordable"]) == (104, True)

    short = get_quote({"source": "text2video", "durationSec": 8, "quality": "standard"})
    assert short.status_code == 200
    assert_conforms("get", "/api/credits/quote", 200, short.json)
    assert (short.json["type"], short.json["affordable"], short.json["shortfall"], short.json["paidBy"]) == (
        "video",
        False,
        8,
        [],
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"source": "text2image", "quality": "hq", "numImages": 5, "uid": "bob"}, "uid"),
        ({"source": "text2image", "quality": "hq", "numImages": "5.5"}, "numImages"),
        ({"quality": "hq", "numImages": 5}, "source"),
        ({"source": "upscale", "quality": "hq", "numImages": 5}, "source"),
        ({"source": "text2image", "quality": "ultra", "numImages": 5}, "quality"),
        ({"source": "text2image", "quality": "hq"}, "numImages"),
        ({"source": "text2video", "quality": "hq", "numImages": 5, "durationSec": 8}, "numImages"),
    ],
)
def test_the_route_refuses_bad_parameters_naming_the_field(firestore, auth_emulator, query, field):
    response = get_quote(query)
    assert response.status_code == 400
    assert_conforms("get", "/api/credits/quote", 400, response.json)
    error = response.json["error"]
    assert error["code"] == "invalid_argument"
    named = error["details"].get("field") or [e["field"] for e in error["details"]["errors"]]
    assert named in (field, [field])


def test_the_route_refuses_repeated_parameters_and_strangers(firestore, auth_emulator):
    repeated = app.test_client().get(
        "/api/credits/quote?source=text2image&quality=hq&numImages=1&numImages=2",
        headers={"Authorization": f"Bearer {id_token('alice')}"},
    )
    assert (repeated.status_code, repeated.json["error"]["details"]) == (400, {"field": "numImages"})
    anonymous = get_quote({"source": "text2image", "quality": "hq", "numImages": 5}, uid=None)
    assert (anonymous.status_code, anonymous.json["error"]["code"]) == (401, "unauthenticated")
    assert_conforms("get", "/api/credits/quote", 401, anonymous.json)


# The property: a quote is the debit that billing the same job then writes.

JOB_SOURCES = [str(source) for source in generation_jobs.JOB_KINDS]

GRANTS = st.lists(
    st.tuples(
        st.sampled_from([IMAGE, VIDEO]),
        st.integers(1, 40),
        st.one_of(st.none(), st.integers(1, 240)),  # hours until it expires, None: never
        st.integers(1, 24),  # hours after the previous grant
        st.one_of(st.none(), st.integers(1, 16)),  # a job billed an hour after the grant, and its size
    ),
    max_size=8,
)
JOB = st.fixed_dictionaries(
    {
        "source": st.sampled_from(JOB_SOURCES),
        "count": st.integers(1, 16),
        "quality": st.sampled_from(["standard", "hq"]),
        "model": st.one_of(st.none(), st.sampled_from(["flux-pro", "veo-2"])),
        "resolution": st.one_of(st.none(), st.just("1024x1792")),
    }
)
TABLE = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "version": st.just("prop-1"),
            "image": st.fixed_dictionaries({"standard": st.integers(1, 3), "hq": st.integers(1, 5)}),
            "video": st.fixed_dictionaries({"standard": st.integers(1, 3), "hq": st.integers(1, 5)}),
        }
    ),
)


def job_fields(job: dict[str, Any]) -> dict[str, Any]:
    """The job's parameters by their job field names: the count in the field its source's kind counts."""
    counted = str(generation_jobs.JOB_KINDS[Source(job["source"])].unit_field)
    return {
        "source": job["source"],
        "numImages": None,
        "durationSec": None,
        counted: job["count"],
        "quality": job["quality"],
        "model": job["model"],
        "resolution": job["resolution"],
    }


def write_history(uid: str, grants: list[tuple[CreditType, int, int | None, int, int | None]], now: datetime) -> None:
    """Back-dated grants (some expiring, before or after ``now``), each maybe followed by a job billed
    an hour later, and the expiry schedule run once in the middle; the times never come within
    30 minutes of ``now``, so a block cannot expire between the quote and the billing."""
    at = now - timedelta(days=10, minutes=30)
    for n, (credit_type, amount, lasts_hours, gap_hours, job_units) in enumerate(grants):
        at += timedelta(hours=gap_hours)
        with ledger.entry_time(at):
            expires = at + timedelta(hours=lasts_hours) if lasts_hours else None
            grant(uid, amount, expires, type=credit_type)
        if job_units is not None:
            source = "text2image" if credit_type is IMAGE else "text2video"
            put_job(f"past-{n}", uid=uid, source=source, numImages=job_units, durationSec=job_units, quality="standard")
            with ledger.entry_time(at + timedelta(hours=1)):
                jobs.bill_job(f"past-{n}")
            at += timedelta(hours=1)
        if n == len(grants) // 2:
            at += timedelta(minutes=1)
            expiry.expire_credits(at, around=lambda k, at=at: ledger.entry_time(at + timedelta(microseconds=k)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(grants=GRANTS, job=JOB, table=TABLE)
def test_a_quote_is_the_debit_that_billing_the_job_writes(firestore, grants, job, table):
    reset_database(firestore)
    uid = "prop"
    if table is not None:
        db().collection(pricing.CONFIG_PATH[0]).document(pricing.CONFIG_PATH[1]).set(table)
    write_history(uid, grants, datetime.now(UTC))
    fields = job_fields(job)
    before = ledger.balance_ref(uid).get()

    answer = quote(uid, QuoteRequest(**fields)).to_api()

    assert ledger.balance_ref(uid).get().update_time == before.update_time
    event(f"affordable: {answer['affordable']}, paid by {len(answer['paidBy'])} blocks")
    held = ledger.Balances.from_snapshot(before).of(CreditType(answer["type"]))
    event(f"expired credits not yet expired: {held > answer['balance']}")
    put_job("now", uid=uid, **fields)
    billing = jobs.bill_job("now")
    if answer["affordable"]:
        assert billing.action is jobs.Action.CHARGED and billing.entry is not None
        debit = billing.entry.to_api()
        assert (debit["amount"], debit["type"], debit["source"]) == (answer["amount"], answer["type"], job["source"])
        assert debit["paidBy"] == answer["paidBy"]
        assert debit["meta"]["priceVersion"] == answer["priceVersion"]
        assert {k: debit["meta"][k] for k in answer["breakdown"]} == answer["breakdown"]
        [stored] = stored_entries(uid, job_id="now")
        assert [(p["block"], p["amount"]) for p in stored["paidBy"]] == parts(answer)
    else:
        assert billing.action is jobs.Action.REJECTED
        assert answer["shortfall"] == answer["amount"] - answer["balance"] > 0
        assert stored_entries(uid, job_id="now") == []
        assert generation_jobs.job_ref("now").get().get("failureReason") == "insufficient_credits"
        [anomaly] = (
            db()
            .collection("anomalies")
            .where(filter=FieldFilter("idempotencyKey", "==", f"debit:{job['source']}:now"))
            .get()
        )
        assert anomaly.get("balance") == answer["balance"]
    reset_database(firestore)  # the closing verify runs long after expired blocks' grace
