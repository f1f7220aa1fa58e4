"""The OpenAPI document: there is one, the API serves it, it is well-formed, and it names every route."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jsonschema.exceptions import ValidationError
from openapi_check import assert_conforms, document

from credits.api.routes import app, openapi_document
from credits.core import anomalies
from credits.core.ledger import CreditType, Direction, Source

ROOT = Path(__file__).resolve().parents[1]


def test_there_is_one_document_and_the_api_serves_it():
    copies = [
        path.relative_to(ROOT).as_posix()
        for path in ROOT.rglob("openapi*.y*ml")
        if not {"node_modules", "venv", "dist", ".local"} & set(path.relative_to(ROOT).parts)
    ]
    assert copies == ["functions/credits/api/openapi.yaml"]
    assert openapi_document() == document()


def openapi_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: ``<path:token>`` is ``{token}``, ``<item_id>`` is ``{itemId}``."""

    def name(match: re.Match[str]) -> str:
        head, *rest = match[1].split("_")
        return "{" + head + "".join(part.title() for part in rest) + "}"

    return re.sub(r"<(?:\w+:)?(\w+)>", name, rule)


def test_every_route_of_the_app_is_documented():
    routes = {
        (openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    documented = {(path, method) for path, operations in document()["paths"].items() for method in operations}
    assert routes == documented


def test_validator_catches_a_wrong_body():
    good = {"error": {"code": "not_found", "message": "x", "details": {}}}
    assert_conforms("get", "/api/activity/{itemId}", 404, good)
    with pytest.raises(ValidationError):
        assert_conforms(
            "get", "/api/activity/{itemId}", 404, {"error": {"code": "teapot", "message": "x", "details": {}}}
        )
    with pytest.raises(ValidationError):
        assert_conforms("get", "/api/credits/ledger", 200, {"entries": [{"id": 1}], "nextCursor": None, "balances": {}})


@pytest.mark.parametrize("enum", [CreditType, Direction, Source])
def test_the_contract_names_every_value_of_the_code(enum):
    assert document()["components"]["schemas"][enum.__name__]["enum"] == [str(value) for value in enum]
    if enum is CreditType:
        balances = document()["components"]["schemas"]["Balances"]["required"]
        assert balances == [*map(str, CreditType), "updatedAt", "expiring"]
        expiring = document()["components"]["schemas"]["Balances"]["properties"]["expiring"]["required"]
        assert expiring == [*map(str, CreditType)]


def test_the_anomaly_kinds_of_the_contract_are_the_codes():
    parameters = document()["paths"]["/api/admin/credits/anomalies"]["get"]["parameters"]
    (kind,) = (p for p in parameters if p.get("name") == "kind")
    assert kind["schema"]["enum"] == [str(value) for value in anomalies.Kind]
