"""The job contract: the JSON Schema of a ``generation_jobs`` document, built from the
configuration, shipped as ``docs/generation_job.schema.json``, served at ``GET /api/jobs/schema``,
and held to what billing checks (:func:`credits.core.generation_jobs.violation`)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from check_config import JOB_SCHEMA, schema_text
from conftest import ROOT
from job_schema_check import errors
from ledger_helpers import job_document
from openapi_check import assert_conforms

from credits.api.routes import app
from credits.core import settings
from credits.core.generation_jobs import TRANSITIONS, Status, job_schema, violation


def test_the_shipped_file_is_the_schema_of_the_shipped_configuration():
    assert JOB_SCHEMA == ROOT / "docs" / "generation_job.schema.json"
    assert JOB_SCHEMA.read_text() == schema_text(job_schema()), (
        "regenerate it: python scripts/check_config.py --write-job-schema"
    )
    assert json.loads(JOB_SCHEMA.read_text()) == job_schema()


def test_it_is_a_json_schema_2020_12_with_the_documented_parts():
    schema = job_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["uid", "status", "source", "quality"]
    properties = schema["properties"]
    assert properties["status"]["enum"] == ["queued", "processing", "completed", "failed"]
    assert properties["source"]["enum"] == ["text2image", "image2image", "text2video", "image2video"]
    assert properties["quality"]["enum"] == ["standard", "hq"]
    read_only = {name for name, field in properties.items() if field.get("readOnly")}
    assert read_only == {"debitEntryId", "refundEntryId", "chargedCredits", "failureReason", "billingError"}
    assert all(properties[name]["description"] for name in properties)
    stamps = {name for name, field in properties.items() if field.get("x-firestore-type") == "timestamp"}
    assert stamps == {"createdAt", "updatedAt", "completedAt", "failedAt"}
    assert schema["x-status-transitions"] == {
        "queued": ["processing", "completed", "failed"],
        "processing": ["completed", "failed"],
        "completed": [],
        "failed": [],
    }
    assert schema["x-status-transitions"] == {str(s): [str(t) for t in TRANSITIONS[s]] for s in Status}


def test_the_configuration_decides_sources_counts_and_qualities(tmp_path: Path):
    config = yaml.safe_load((ROOT / "functions" / "credits.config.yaml").read_text())
    config["job_kinds"]["upscale"] = {"credit_type": "image", "unit": "numImages", "max_units": 4}
    config["job_kinds"]["text2video"]["max_units"] = 30
    config["prices"]["units"]["video"] = {"draft": 1, "standard": 3}
    config["jobs"]["collection"] = "renders"
    path = tmp_path / "credits.config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))

    schema = job_schema(settings.load(path))

    assert schema["x-collection"] == "renders"
    assert schema["properties"]["source"]["enum"][-1] == "upscale"
    assert schema["properties"]["quality"]["enum"] == ["standard", "hq", "draft"]
    assert schema["properties"]["durationSec"]["maximum"] == 600  # image2video still allows 600
    image = {"uid": "u", "status": "queued", "quality": "hq"}
    assert errors({**image, "source": "upscale", "numImages": 4}, schema) == []
    assert [e.validator for e in errors({**image, "source": "upscale", "numImages": 5}, schema)] == ["maximum"]
    video = {"uid": "u", "status": "queued", "source": "text2video", "durationSec": 30}
    assert errors({**video, "quality": "draft"}, schema) == []
    assert errors({**video, "quality": "hq"}, schema)  # hq is an image quality only
    assert errors({**video, "quality": "draft", "durationSec": 31}, schema)


def test_the_api_serves_it_without_a_token():
    response = app.test_client().get("/api/jobs/schema")

    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.json == job_schema()
    assert_conforms("get", "/api/jobs/schema", 200, response.json)


# What billing checks and what the schema says agree, field by field.

NOW = datetime(2026, 3, 14, tzinfo=UTC)
IMAGE = job_document(createdAt=NOW, updatedAt=NOW)
VIDEO = {**IMAGE, "source": "image2video", "durationSec": 8, "quality": "standard"}
del VIDEO["numImages"]


def without(job: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in job.items() if k != name}


VALID = [
    IMAGE,
    VIDEO,
    {**IMAGE, "uid": "u" * 128, "numImages": 16},
    {**VIDEO, "durationSec": 600, "quality": "hq"},
    {**IMAGE, "model": None, "pipelineOwnField": {"any": "thing"}},
    {**IMAGE, "status": "completed", "completedAt": NOW, "outputs": ["gs://b/1.png"], "debitEntryId": "e1"},
    {**IMAGE, "status": "failed", "failedAt": NOW, "error": "model crashed"},
]
INVALID = [
    (without(IMAGE, "uid"), "uid"),
    ({**IMAGE, "uid": None}, "uid"),
    ({**IMAGE, "uid": ""}, "uid"),
    ({**IMAGE, "uid": "a/b"}, "uid"),
    ({**IMAGE, "uid": "a b"}, "uid"),
    ({**IMAGE, "uid": "a\tb"}, "uid"),
    ({**IMAGE, "uid": "u" * 129}, "uid"),
    ({**IMAGE, "uid": 42}, "uid"),
    (without(IMAGE, "status"), "status"),
    ({**IMAGE, "status": "archived"}, "status"),
    ({**IMAGE, "status": None}, "status"),
    (without(IMAGE, "source"), "source"),
    ({**IMAGE, "source": "upscale"}, "source"),
    ({**IMAGE, "source": 1}, "source"),
    (without(IMAGE, "numImages"), "numImages"),
    ({**IMAGE, "numImages": 0}, "numImages"),
    ({**IMAGE, "numImages": 17}, "numImages"),
    ({**IMAGE, "numImages": "5"}, "numImages"),
    ({**IMAGE, "numImages": True}, "numImages"),
    ({**IMAGE, "numImages": 2.5}, "numImages"),
    ({**IMAGE, "durationSec": 8, "numImages": None}, "numImages"),
    (without(VIDEO, "durationSec"), "durationSec"),
    ({**VIDEO, "durationSec": 601}, "durationSec"),
    ({**VIDEO, "numImages": 4, "durationSec": None}, "durationSec"),
    (without(IMAGE, "quality"), "quality"),
    ({**IMAGE, "quality": "ultra"}, "quality"),
    ({**IMAGE, "quality": None}, "quality"),
]


def fields_named(job: dict[str, Any]) -> set[str]:
    """The fields the schema's errors name: the property a value is wrong in, or the one required."""
    named = set()
    for error in errors(job):
        if error.absolute_path:
            named.add(str(error.absolute_path[0]))
        elif error.validator == "required":
            found = re.match(r"'(\w+)' is a required property", error.message)
            assert found, error.message
            named.add(found[1])
    return named


@pytest.mark.parametrize("job", VALID)
def test_a_job_the_schema_takes_billing_takes(job):
    assert errors(job) == []
    assert violation(job) is None


@pytest.mark.parametrize(("job", "field"), INVALID)
def test_a_job_the_schema_refuses_billing_refuses_naming_the_same_field(job, field):
    broken = violation(job)
    assert broken is not None and broken.field == field
    assert field in fields_named(job)


def test_other_wrong_fields_break_the_schema_but_not_the_billing():
    for job in (
        {**IMAGE, "outputs": "gs://b/1.png"},
        {**IMAGE, "model": 3},
        {**IMAGE, "createdAt": "2026-03-14"},
    ):
        assert errors(job) and violation(job) is None
