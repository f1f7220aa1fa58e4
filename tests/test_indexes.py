"""Index coverage: the check, and firestore.indexes.json passing it."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import check_indexes

from credits.core.query_spec import IndexShape
from credits.operations import activity_repair

FILE = Path(__file__).resolve().parents[1] / "firestore.indexes.json"


def test_indexes_file_serves_every_query_and_nothing_more():
    missing, unused = check_indexes.check(check_indexes.load(FILE))
    assert missing == [] and unused == []


def test_removing_any_index_is_caught():
    data = check_indexes.load(FILE)
    assert data["indexes"]
    for n in range(len(data["indexes"])):
        weakened = copy.deepcopy(data)
        removed = weakened["indexes"].pop(n)
        missing, _ = check_indexes.check(weakened)
        assert len(missing) == 1, json.dumps(removed)
        assert not isinstance(missing[0], dict) and check_indexes.index_for(missing[0]) == removed


def test_removing_the_balance_override_is_caught():
    data = check_indexes.load(FILE)
    data["fieldOverrides"] = data["fieldOverrides"][1:]
    missing, _ = check_indexes.check(data)
    assert missing == [check_indexes.FIELD_OVERRIDES[0]]


def test_an_index_nothing_uses_is_caught():
    data = check_indexes.load(FILE)
    data["indexes"].append(
        {
            "collectionGroup": "credits_ledger",
            "queryScope": "COLLECTION",
            "fields": [
                {"fieldPath": "reason", "order": "ASCENDING"},
                {"fieldPath": "createdAt", "order": "DESCENDING"},
            ],
        }
    )
    _, unused = check_indexes.check(data)
    assert [u["fields"][0]["fieldPath"] for u in unused] == ["reason"]


def test_checklist_index_uid_type_created_at_is_there():
    fields = [[f["fieldPath"] for f in i["fields"]] for i in check_indexes.load(FILE)["indexes"]]
    assert ["uid", "type", "createdAt"] in fields


def test_the_job_sweeper_uses_the_automatic_index_on_updated_at():
    shapes = check_indexes.single_field_shapes()
    assert (
        IndexShape(collection="generation_jobs", equality=frozenset(), order=(("updatedAt", "DESCENDING"),)) in shapes
    )
    assert not any(("updatedAt", "DESCENDING") in shape.order for shape in check_indexes.required_shapes())


def test_an_override_that_could_drop_a_single_field_index_is_caught():
    data = check_indexes.load(FILE)
    override = {"collectionGroup": "generation_jobs", "fieldPath": "updatedAt", "indexes": []}
    data["fieldOverrides"].append(override)
    _, unused = check_indexes.check(data)
    assert unused == [override]


def test_the_file_declares_the_sweepers_index_on_updated_at():
    (override,) = (
        o
        for o in check_indexes.load(FILE)["fieldOverrides"]
        if (o["collectionGroup"], o["fieldPath"]) == ("generation_jobs", "updatedAt")
    )
    assert {"order": "DESCENDING", "queryScope": "COLLECTION"} in override["indexes"]


def test_the_activity_repair_uses_the_automatic_indexes_on_updated_at_and_created_at():
    now = datetime.now(UTC)
    shapes = check_indexes.single_field_shapes()
    for spec in (activity_repair.jobs_changed(now, now), activity_repair.entries_created(now, now)):
        assert spec.shape() in shapes and not spec.equals
    assert activity_repair.entries_created(now, now).shape() == IndexShape(
        collection="credits_ledger", equality=frozenset(), order=(("createdAt", "DESCENDING"),)
    )
