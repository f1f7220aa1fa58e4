"""Validate real responses against the OpenAPI document the API serves (OpenAPI 3.1 schemas are JSON Schema 2020-12)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT = Path(__file__).resolve().parents[1] / "functions" / "credits" / "api" / "openapi.yaml"
"""The one OpenAPI document: the API serves it, the web app generates its types from it."""
URI = "urn:credits-openapi"


@cache
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text())
    return loaded


@cache
def _registry() -> Registry:
    return Registry().with_resource(URI, Resource.from_contents(document(), default_specification=DRAFT202012))


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def response_schema(method: str, path: str, status: int, content_type: str = "application/json") -> dict[str, Any]:
    operation = document()["paths"][path][method.lower()]
    response = _resolve(operation["responses"][str(status)])
    return dict(response["content"][content_type]["schema"])


def assert_conforms(method: str, path: str, status: int, body: Any) -> None:
    """Raise if ``body`` is not what the document promises for this route and status."""
    schema = _rebase(response_schema(method, path, status))
    validator = jsonschema.Draft202012Validator(schema, registry=_registry(), format_checker=jsonschema.FormatChecker())
    validator.validate(body)


def _rebase(schema: Any) -> Any:
    """Point local references at the registered document."""
    if isinstance(schema, dict):
        return {k: (f"{URI}{v}" if k == "$ref" and v.startswith("#") else _rebase(v)) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_rebase(v) for v in schema]
    return schema
