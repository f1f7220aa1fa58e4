"""Pricing: pure rules, no emulator."""

from __future__ import annotations

import pytest

from credits.core.errors import InvalidArgument
from credits.core.ledger import CreditType, Source
from credits.flows.pricing import DEFAULT_PRICES, price_job, table_from_config


def job(**fields: object) -> dict[str, object]:
    return {
        "source": "text2image",
        "numImages": 5,
        "quality": "hq",
        "model": "m1",
        "resolution": "1024",
        **fields,
    }


def test_five_hq_images_cost_ten():
    price = price_job(job(), DEFAULT_PRICES)
    assert (price.source, price.credit_type, price.amount) == (Source.TEXT2IMAGE, CreditType.IMAGE, 10)
    assert price.meta == {
        "priceVersion": DEFAULT_PRICES.version,
        "unitPrice": 2,
        "quality": "hq",
        "numImages": 5,
        "model": "m1",
        "resolution": "1024",
    }


@pytest.mark.parametrize(
    ("fields", "credit_type", "amount"),
    [
        ({"source": "image2image", "numImages": 3, "quality": "standard"}, CreditType.IMAGE, 3),
        ({"source": "text2video", "durationSec": 8, "quality": "hq"}, CreditType.VIDEO, 16),
        ({"source": "image2video", "durationSec": 5, "quality": "standard"}, CreditType.VIDEO, 5),
    ],
)
def test_each_job_source_has_its_price(fields, credit_type, amount):
    price = price_job(job(**fields), DEFAULT_PRICES)
    assert (price.credit_type, price.amount) == (credit_type, amount)


def test_config_document_replaces_the_table():
    table = table_from_config({"version": "2026-03", "image": {"standard": 1, "hq": 3}, "video": {"standard": 2}})
    price = price_job(job(), table)
    assert price.amount == 15
    assert price.meta["priceVersion"] == "2026-03"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"source": "upscale"}, "source"),
        ({"source": None}, "source"),
        ({"numImages": 0}, "numImages"),
        ({"numImages": None}, "numImages"),
        ({"numImages": 2.5}, "numImages"),
        ({"numImages": "5"}, "numImages"),
        ({"numImages": True}, "numImages"),
        ({"numImages": 17}, "numImages"),
        ({"quality": "ultra"}, "quality"),
        ({"quality": None}, "quality"),
        ({"source": "text2video", "durationSec": None}, "durationSec"),
    ],
)
def test_missing_or_unknown_inputs_are_errors_not_zero(fields, field):
    with pytest.raises(InvalidArgument) as caught:
        price_job(job(**fields), DEFAULT_PRICES)
    assert caught.value.details["field"] == field


@pytest.mark.parametrize(
    "config",
    [
        {"image": {"hq": 2}, "video": {"hq": 2}},
        {"version": "v", "image": {"hq": 0}, "video": {"hq": 2}},
        {"version": "v", "image": {"hq": 1.5}, "video": {"hq": 2}},
        {"version": "v", "image": {"hq": 2}},
    ],
)
def test_malformed_config_is_an_error(config):
    with pytest.raises(InvalidArgument):
        table_from_config(config)
