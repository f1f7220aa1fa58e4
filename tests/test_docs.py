"""The docs and the code agree: the error table, the fingerprint's fields, the backoff."""

from __future__ import annotations

import re
from pathlib import Path

from ledger_helpers import request
from openapi_check import document

from credits.api.routes import app
from credits.core import errors, ledger

ROOT = Path(__file__).resolve().parents[1]


def error_classes(base: type[errors.CreditsError] = errors.CreditsError) -> list[type[errors.CreditsError]]:
    return [base, *(cls for sub in base.__subclasses__() for cls in error_classes(sub))]


def module_table() -> set[tuple[str, int]]:
    return {(cls.code, cls.http_status) for cls in error_classes()}


def test_the_error_table_of_docs_api_is_the_errors_module():
    section = (ROOT / "docs" / "api.md").read_text().split("## Errors", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| (\d{3}) \|", section, re.MULTILINE)
    assert len(rows) == len(set(rows))
    assert {(code, int(status)) for code, status in rows} == module_table()


def test_the_readme_and_the_contract_name_every_code():
    readme = (ROOT / "README.md").read_text()
    paragraph = readme[readme.index("Errors are\n") :].split("\n\n", 1)[0]
    listed = {(code, int(status)) for code, status in re.findall(r"`(\w+)`\s+(\d{3})", paragraph)}
    assert listed <= module_table()
    assert {code for code, _ in listed} == {code for code, _ in module_table()}
    assert all(str(status) in paragraph for _, status in module_table())
    enum = document()["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
    assert set(enum) == {code for code, _ in module_table()}


def test_refusals_of_the_framework_answer_with_the_table():
    client = app.test_client()
    for method, path, expected in (
        ("get", "/api/stripe/webhook", ("invalid_argument", 405)),
        ("post", "/api/health", ("invalid_argument", 405)),
        ("get", "/api/no-such-route", ("not_found", 404)),
    ):
        response = getattr(client, method)(path)
        assert (response.json["error"]["code"], response.status_code) == expected
        assert expected in module_table()


def test_docs_ledger_names_every_field_of_the_fingerprint():
    text = " ".join((ROOT / "docs" / "ledger.md").read_text().split())
    listed = re.search(r"the fingerprint's fields: ([^)]*)\)", text)
    assert listed is not None
    assert re.findall(r"`(\w+)`", listed[1]) == list(request().decisive())


def test_docs_ledger_states_the_backoff_the_code_waits():
    text = " ".join((ROOT / "docs" / "ledger.md").read_text().split())
    first, cap = ledger.BACKOFF_BASE_S * 2, ledger.BACKOFF_CAP_S
    assert f"up to {first * 1000:g} ms after the first failed attempt" in text
    assert f"up to {cap * 1000:g} ms" in text
    waits = [ledger.backoff_s(1) for _ in range(200)]
    assert min(waits) >= 0 and max(waits) <= first
    assert max(ledger.backoff_s(attempt) for attempt in range(1, ledger.MAX_ATTEMPTS + 1)) <= cap
