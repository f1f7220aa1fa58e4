"""Validate job documents against the job contract (:func:`credits.core.generation_jobs.job_schema`).

A JSON Schema validator of 2020-12 that also knows the schema's one extension keyword on fields,
``x-firestore-type: timestamp``: such a field must hold a timestamp as the Firestore client
reads it (a ``datetime``), or the ``SERVER_TIMESTAMP`` sentinel in a document about to be written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import jsonschema
from google.cloud import firestore
from jsonschema.exceptions import ValidationError, relevance

from credits.core.generation_jobs import TIMESTAMP, job_schema


def _firestore_type(validator: Any, kind: str, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if kind == TIMESTAMP and not (isinstance(instance, datetime) or instance is firestore.SERVER_TIMESTAMP):
        yield ValidationError(f"{instance!r} is not a Firestore timestamp")


JobValidator = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"x-firestore-type": _firestore_type})


def validator(schema: Mapping[str, Any] | None = None) -> Any:
    return JobValidator(schema if schema is not None else job_schema())


def errors(job: Mapping[str, Any], schema: Mapping[str, Any] | None = None) -> list[ValidationError]:
    """What is wrong with ``job`` under the contract, the most relevant first."""
    return sorted(validator(schema).iter_errors(dict(job)), key=relevance)


def assert_valid(job: Mapping[str, Any]) -> None:
    validator().validate(dict(job))
