"""Build the smallest JSON value that satisfies an OpenAPI 3.0 schema, then lay concrete fields over it.

The fake GitHub server answers with these instead of the spec's examples (one of which does not validate against
its own schema; see ../shared/github/README.md), and checks each answer against the response schema.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

FORMATS = {"date-time": "2026-01-01T00:00:00Z", "uri": "https://example.invalid/x", "email": "octo@example.invalid",
           "uri-template": "https://example.invalid/{x}", "date": "2026-01-01", "uuid": "00000000-0000-0000-0000-000000000000"}


def resolve(schema: Mapping[str, Any], spec: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        node: Any = spec
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def _object_schema(schema: Mapping[str, Any], spec: Mapping[str, Any]) -> Mapping[str, Any]:
    """The object schema behind refs, allOf, anyOf and oneOf (properties merged), for laying fields over."""
    schema = resolve(schema, spec)
    if "allOf" in schema:
        props: dict[str, Any] = {}
        for part in schema["allOf"]:
            props.update(_object_schema(part, spec).get("properties", {}))
        return {"type": "object", "properties": props}
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return _object_schema(schema[key][0], spec)
    return schema


def fill(schema: Mapping[str, Any], spec: Mapping[str, Any], nonnull: bool = False) -> Any:
    """A minimal valid instance: required properties only, nullable ones null, first enum/anyOf/oneOf choice."""
    schema = resolve(schema, spec)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = fill(part, spec)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return fill(schema[key][0], spec)
    if "enum" in schema:
        return schema["enum"][0]
    if schema.get("nullable") and not nonnull:
        return None
    kind = schema.get("type")
    if kind == "object" or (kind is None and "properties" in schema):
        props = schema.get("properties", {})
        return {name: fill(props.get(name, {"type": "string"}), spec) for name in schema.get("required", [])}
    if kind == "array":
        return [fill(schema.get("items", {}), spec) for _ in range(schema.get("minItems", 0))]
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "string":
        return FORMATS.get(schema.get("format", ""), "x")
    return None


def instance(schema: Mapping[str, Any], spec: Mapping[str, Any], fields: Any = None) -> Any:
    """A valid instance of SCHEMA with FIELDS laid over it; a dict laid on a nullable object fills that object."""
    if not isinstance(fields, Mapping):
        return copy.deepcopy(fields) if fields is not None else fill(schema, spec)
    base = fill(schema, spec, nonnull=True)
    props = _object_schema(schema, spec).get("properties", {})
    merged = dict(base) if isinstance(base, dict) else {}
    for key, value in fields.items():
        merged[key] = instance(props.get(key, {}), spec, value) if isinstance(value, Mapping) else copy.deepcopy(value)
    return merged
