"""A user's credit settings through ``GET`` and ``PATCH /api/credits/settings``, against the emulators:
defaults from the configuration file, only the caller's own document, validation that writes
nothing on bad input, and a patch that changes only what it names."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_check import assert_conforms, document
from test_quotes import id_token

from credits.api.routes import app
from credits.core.ledger import CreditType
from credits.core.settings import SETTINGS
from credits.flows import credit_settings

PATH = "/api/credits/settings"
DEFAULTS = {str(t): SETTINGS.alerts.low_balance.get(str(t), 0) for t in CreditType}
AUTO_TOP_UP_OFF = {
    **dict.fromkeys(["pack", "threshold", "monthlyCap", "creditType", "credits", "unitAmount", "currency"]),
    **dict.fromkeys(["enabledAt", "changedAt", "turnedOff", "month", "lastAttempt"]),
    "enabled": False,
    "paymentMethod": {"saved": False, "savedAt": None, "testCard": None},
}
"""Automatic top-up of a user who never touched it (tests/test_auto_top_up.py covers the rest)."""


def call(method: str, uid: str | None = "alice", body: Any = None, raw: bytes | None = None, query: str = "") -> Any:
    headers = {"Authorization": f"Bearer {id_token(uid)}"} if uid else {}
    client = app.test_client()
    if raw is not None:
        return client.open(PATH + query, method=method, headers=headers, data=raw, content_type="application/json")
    return client.open(PATH + query, method=method, headers=headers, json=body)


def stored(uid: str) -> dict[str, Any] | None:
    return credit_settings.settings_ref(uid).get().to_dict()


def thresholds(answer: dict[str, Any]) -> dict[str, tuple[int, bool]]:
    return {name: (item["threshold"], item["isDefault"]) for name, item in answer["lowBalance"].items()}


def test_a_user_without_settings_gets_the_defaults_of_the_configuration(firestore, auth_emulator):
    response = call("GET")

    assert response.status_code == 200, response.json
    assert_conforms("get", PATH, 200, response.json)
    assert response.json == {
        "lowBalance": {
            name: {"threshold": value, "default": value, "isDefault": True} for name, value in DEFAULTS.items()
        },
        "expiringSoonDays": SETTINGS.alerts.expiring_soon_days,
        "updatedAt": None,
        "autoTopUp": AUTO_TOP_UP_OFF,
    }
    assert DEFAULTS == {"image": 20, "video": 10}  # the shipped file's, so that the cases below mean something
    assert stored("alice") is None  # a read writes nothing


def test_a_patch_changes_only_what_it_names_and_null_puts_the_default_back(firestore, auth_emulator):
    first = call("PATCH", body={"lowBalance": {"image": 50}})
    assert first.status_code == 200, first.json
    assert_conforms("patch", PATH, 200, first.json)
    assert thresholds(first.json) == {"image": (50, False), "video": (10, True)}
    assert first.json["updatedAt"] is not None

    second = call("PATCH", body={"lowBalance": {"video": 0}})
    assert thresholds(second.json) == {"image": (50, False), "video": (0, False)}
    assert stored("alice")["lowBalance"] == {"image": 50, "video": 0}
    assert stored("alice")["updatedBy"] == "user:alice"

    back = call("PATCH", body={"lowBalance": {"image": None}})
    assert thresholds(back.json) == {"image": (20, True), "video": (0, False)}
    assert stored("alice")["lowBalance"] == {"video": 0}  # the default is never stored
    assert thresholds(call("GET").json) == thresholds(back.json)


def test_an_empty_patch_writes_nothing(firestore, auth_emulator):
    response = call("PATCH", body={})
    assert response.status_code == 200
    assert thresholds(response.json) == {name: (value, True) for name, value in DEFAULTS.items()}
    assert stored("alice") is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lowBalance": {"image": -1}}, "lowBalance.image"),
        ({"lowBalance": {"image": 5.5}}, "lowBalance.image"),
        ({"lowBalance": {"image": 5.0}}, "lowBalance.image"),
        ({"lowBalance": {"image": "5"}}, "lowBalance.image"),
        ({"lowBalance": {"image": True}}, "lowBalance.image"),
        ({"lowBalance": {"image": 10_000_001}}, "lowBalance.image"),
        ({"lowBalance": {"audio": 5}}, "lowBalance.audio"),
        ({"lowBalance": [5]}, "lowBalance"),
        ({"lowBalance": {"image": 5}, "autoTopUp": {"pack": "x"}}, "autoTopUp"),
        ([{"lowBalance": {"image": 5}}], "body"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(firestore, auth_emulator, body, field):
    call("PATCH", body={"lowBalance": {"video": 3}})
    before = credit_settings.settings_ref("alice").get()

    response = call("PATCH", body=body)

    assert response.status_code == 400, response.json
    assert_conforms("patch", PATH, 400, response.json)
    assert response.json["error"]["code"] == "invalid_argument"
    named = [error["field"] for error in response.json["error"]["details"]["errors"]]
    assert any(name == field or name.startswith(field + ".") for name in named), named
    after = credit_settings.settings_ref("alice").get()
    assert (after.to_dict(), after.update_time) == (before.to_dict(), before.update_time)


@pytest.mark.parametrize("raw", [b"", b"{", b"lowBalance=5", b'{"lowBalance": {"image": 5}'])
def test_a_body_that_is_not_json_is_refused_and_writes_nothing(firestore, auth_emulator, raw):
    response = call("PATCH", raw=raw)

    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_argument"
    assert stored("alice") is None


def test_a_user_reads_and_writes_only_their_own_settings(firestore, auth_emulator):
    call("PATCH", uid="bob", body={"lowBalance": {"image": 99}})

    assert thresholds(call("GET", uid="alice").json)["image"] == (20, True)
    assert thresholds(call("GET", uid="bob").json)["image"] == (99, False)
    # The routes take no uid: naming one is refused, not obeyed.
    for method, body in (("GET", None), ("PATCH", {"lowBalance": {"image": 1}})):
        response = call(method, uid="alice", body=body, query="?uid=bob")
        assert (response.status_code, response.json["error"]["code"]) == (400, "invalid_argument")
    assert stored("alice") is None
    assert stored("bob")["lowBalance"] == {"image": 99}


def test_signed_out_calls_are_refused(firestore, auth_emulator):
    for method in ("GET", "PATCH"):
        response = call(method, uid=None, body={"lowBalance": {"image": 1}})
        assert (response.status_code, response.json["error"]["code"]) == (401, "unauthenticated")
        assert_conforms(method, PATH, 401, response.json)
    assert stored("alice") is None


def test_the_contract_lists_every_credit_type():
    schemas = document()["components"]["schemas"]
    low_balance = schemas["CreditSettings"]["properties"]["lowBalance"]
    assert low_balance["required"] == [str(t) for t in CreditType]
    assert list(low_balance["properties"]) == [str(t) for t in CreditType]
    assert schemas["CreditSettingsPatch"]["properties"]["lowBalance"]["propertyNames"] == {
        "$ref": "#/components/schemas/CreditType"
    }


def test_a_stored_value_the_code_cannot_use_falls_back_to_the_default(firestore):
    """The document is written by the API only; a type removed from the configuration, or a
    value written around the API, must not break alerts: the default applies."""
    credit_settings.settings_ref("old").set({"lowBalance": {"image": "lots", "audio": 5, "video": 4}})

    settings = credit_settings.read("old")

    assert settings.thresholds() == {CreditType.IMAGE: 20, CreditType.VIDEO: 4}
