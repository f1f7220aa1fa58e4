"""Schemathesis against the running API through Hosting: no 5xx, no response outside the OpenAPI document.

Every operation of the document is called with generated parameters and bodies, valid and
invalid, as a signed-in admin (who may call every route) and with no token. The number of
examples per operation is bounded, and traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from e2e import helpers

schema = schemathesis.openapi.from_path(
    Path(__file__).resolve().parents[2] / "functions" / "credits" / "api" / "openapi.yaml"
)
PUBLIC = ("/api/health", "/api/openapi.json", "/api/jobs/schema", "/api/stripe/webhook", "/api/exports/{token}")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzz_admin(suite) -> helpers.User:
    suite.reset()
    user = helpers.make_admin(helpers.sign_up(helpers.unique("fuzz") + "@example.com"))
    helpers.adjust(
        {
            "uid": user.uid,
            "type": "image",
            "direction": "credit",
            "amount": 50,
            "reason": "fuzz",
            "idempotencyKey": "f",
        },
        user.auth_header,
    ).raise_for_status()
    return user


@pytest.fixture(autouse=True)
def clean_suite(suite) -> None:
    """Overrides the package's per-test reset: the fuzz user must outlive each operation."""


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_as_admin(case, fuzz_admin):
    validate(case, fuzz_admin.auth_header)


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_signed_out(case):
    response = validate(case, {})
    # Requests with another method than the operation's (OPTIONS, or one the route lacks) carry no data.
    same_method = case.method.upper() == case.operation.method.upper()
    if response is not None and same_method and case.operation.path not in PUBLIC:
        assert response.status_code == 401, (case.method, case.formatted_path, response.text[:300])


def content_type(response: schemathesis.Response) -> str:
    """The response's Content-Type, whatever the case of the header's name and its value's shape."""
    for name, value in response.headers.items():
        if name.lower() == "content-type":
            return str(value[0] if isinstance(value, list) and value else value)
    return ""


def validate(case: schemathesis.Case, headers: dict[str, str]) -> schemathesis.Response | None:
    response = case.call(base_url=helpers.HOSTING, headers=headers, timeout=30)
    if response.status_code == 431:
        # The Hosting front refuses request lines over its header limit before the API sees them.
        return None
    if response.status_code == 404 and content_type(response).startswith("text/html"):
        # A path the API never sees: the front answers it (a segment with a line break for the
        # functions framework, a dot-segment for the Hosting emulator). The API's own 404s are
        # JSON: its error handler answers every route it has and every one it has not.
        assert case.path_parameters, (case.method, case.formatted_path)
        return None
    case.validate_response(response, checks=CHECKS)
    return response
