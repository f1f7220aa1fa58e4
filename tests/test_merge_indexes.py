"""scripts/merge_indexes.py: the ledger's indexes, put into a host's firestore.indexes.json."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import check_indexes
import merge_indexes
import pytest

HOST = Path(__file__).resolve().parent / "fixtures" / "host.firestore.indexes.json"
EXEMPT = {"collectionGroup": "balances", "indexes": []}


def ledger() -> dict[str, Any]:
    return merge_indexes.load(merge_indexes.LEDGER_INDEXES)


def host() -> dict[str, Any]:
    return merge_indexes.load(HOST)


def ledger_override(collection_group: str, field_path: str) -> dict[str, Any]:
    (override,) = (
        o
        for o in ledger()["fieldOverrides"]
        if o["collectionGroup"] == collection_group and o["fieldPath"] == field_path
    )
    return override


def test_an_empty_host_gets_the_ledgers_file():
    assert merge_indexes.merge({"indexes": [], "fieldOverrides": []}, ledger()) == ledger()
    assert merge_indexes.merge({}, ledger()) == ledger()


def test_the_host_keeps_its_own_and_gets_what_it_lacks_once():
    merged = merge_indexes.merge(host(), ledger())

    assert merged["indexes"][:3] == host()["indexes"]
    assert merged["fieldOverrides"][:2] == host()["fieldOverrides"]
    # The host's exported copy of the ledger's (uid, createdAt) index and of the sweeper's
    # override on generation_jobs.updatedAt stand for the ledger's own.
    assert len(merged["indexes"]) == len(host()["indexes"]) + len(ledger()["indexes"]) - 1
    assert len(merged["fieldOverrides"]) == len(host()["fieldOverrides"]) + len(ledger()["fieldOverrides"]) - 1
    identities = [merge_indexes.index_identity(index) for index in merged["indexes"]]
    assert len(identities) == len(set(identities))
    fields = [(o["collectionGroup"], o["fieldPath"]) for o in merged["fieldOverrides"]]
    assert len(fields) == len(set(fields))


def test_the_merge_serves_every_query_of_the_ledger():
    merged = merge_indexes.merge(host(), ledger())
    missing, _ = check_indexes.check(merged)
    assert [shape for shape in missing if not isinstance(shape, dict)] == []
    overrides = {merge_indexes.override_identity(o) for o in merged["fieldOverrides"]}
    assert all(merge_indexes.override_identity(o) in overrides for o in check_indexes.FIELD_OVERRIDES)


def test_merging_again_changes_nothing():
    merged = merge_indexes.merge(host(), ledger())
    assert merge_indexes.merge(merged, ledger()) == merged


def test_options_left_out_are_their_defaults_but_other_options_and_field_orders_differ():
    index = ledger()["indexes"][0]
    exported = {**copy.deepcopy(index), "apiScope": "ANY_API", "density": "SPARSE_ALL", "multikey": False}
    assert merge_indexes.index_identity(exported) == merge_indexes.index_identity(index)

    for other in (
        {**index, "queryScope": "COLLECTION_GROUP"},
        {**index, "density": "DENSE"},
        {**index, "fields": list(reversed(index["fields"]))},
    ):
        assert merge_indexes.index_identity(other) != merge_indexes.index_identity(index)
        merged = merge_indexes.merge({"indexes": [other]}, ledger())
        assert len(merged["indexes"]) == len(ledger()["indexes"]) + 1


def test_an_override_that_differs_from_the_ledgers_is_refused_by_name():
    override = ledger_override("balances", "image")
    narrower = {**override, "indexes": override["indexes"][:2]}
    with_ttl = {**override, "ttl": True}

    with pytest.raises(merge_indexes.OverridesConflict) as refused:
        merge_indexes.merge({"indexes": [], "fieldOverrides": [narrower, with_ttl]}, ledger())

    assert [(c.collection_group, c.field_path) for c in refused.value.conflicts] == [("balances", "image")]
    assert str(refused.value).splitlines()[1].startswith("  balances.image: the host's override is ")


def test_every_conflict_is_named():
    exempt = [
        {"collectionGroup": "balances", "fieldPath": "image", "indexes": []},
        {"collectionGroup": "generation_jobs", "fieldPath": "updatedAt", "indexes": []},
    ]
    with pytest.raises(merge_indexes.OverridesConflict) as refused:
        merge_indexes.merge({"fieldOverrides": exempt}, ledger())
    message = str(refused.value)
    assert "balances.image:" in message and "generation_jobs.updatedAt:" in message


def test_the_command_writes_the_merge(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "firestore.indexes.json"
    assert merge_indexes.main([str(HOST), "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == merge_indexes.merge(host(), ledger())

    assert merge_indexes.main([str(HOST)]) == 0
    assert capsys.readouterr().out == out.read_text()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (json.dumps({"fieldOverrides": [{**EXEMPT, "fieldPath": "image"}]}), "balances.image"),
        ("{not json", "not JSON"),
        ("[]", "not a Firestore indexes file"),
        (json.dumps({"indexes": [{"collectionGroup": "posts"}]}), "not a Firestore indexes file"),
    ],
)
def test_the_command_refuses_with_exit_2_and_writes_nothing(
    content: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    bad = tmp_path / "host.json"
    bad.write_text(content)
    out = tmp_path / "merged.json"

    assert merge_indexes.main([str(bad), "--out", str(out)]) == 2

    assert not out.exists()
    err = capsys.readouterr().err
    assert err.startswith(f"{bad}: refused, nothing written: ")
    assert message in err
