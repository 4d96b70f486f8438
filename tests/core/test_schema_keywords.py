"""The JSON schemas use only JSON Schema keywords (a description cut at a comma inside a YAML
flow mapping leaves its tail as an unknown keyword), and the gate table names are those the
rules register."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from conftest import REPO
from seq2func.core.config import load_yaml
from seq2func.evaluate.gates import METRIC_TABLE_NAMES

SCHEMAS = sorted((REPO / "workflow" / "schemas").glob("*.schema.yaml"))

#: JSON Schema draft 2020-12 keywords (core, applicator, validation, meta-data, format, content)
KEYWORDS = {
    "$schema", "$id", "$ref", "$defs", "$comment", "$anchor", "$dynamicRef", "$dynamicAnchor",
    "$vocabulary", "title", "description", "default", "examples", "deprecated", "readOnly",
    "writeOnly", "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
    "uniqueItems", "maxContains", "minContains", "contains", "prefixItems", "items",
    "maxProperties", "minProperties", "required", "dependentRequired", "properties",
    "patternProperties", "additionalProperties", "propertyNames", "dependentSchemas",
    "unevaluatedItems", "unevaluatedProperties", "allOf", "anyOf", "oneOf", "not", "if", "then",
    "else", "format", "contentEncoding", "contentMediaType", "contentSchema",
}
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
_SCHEMA_VALUES = ("items", "additionalProperties", "propertyNames", "contains", "not", "if",
                  "then", "else", "unevaluatedItems", "unevaluatedProperties", "contentSchema")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")


def unknown_keywords(node: Any, where: str = "") -> Iterator[str]:
    """``where: keyword`` of every key of a schema node that is not a JSON Schema keyword."""
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key not in KEYWORDS:
            yield f"{where or '<root>'}: {key!r}"
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            for name, sub in value.items():
                yield from unknown_keywords(sub, f"{where}.{name}".lstrip("."))
        elif key in _SCHEMA_VALUES:
            yield from unknown_keywords(value, f"{where}[{key}]")
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            for i, sub in enumerate(value):
                yield from unknown_keywords(sub, f"{where}[{key}][{i}]")


def test_the_checker_finds_a_cut_description() -> None:
    import yaml

    cut = yaml.safe_load("properties:\n  a: {type: integer, description: Window (bp, even).}\n")
    assert list(unknown_keywords(cut)) == ["a: 'even).'"]


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_schema_has_only_json_schema_keywords(path) -> None:
    schema = load_yaml(path)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert not list(unknown_keywords(schema))


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_every_description_is_a_whole_sentence(path) -> None:
    """A description closes the brackets it opens (a cut one does not; ``[a, b)`` counts)."""
    def descriptions(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "description" and isinstance(v, str):
                    yield v
                else:
                    yield from descriptions(v)
        elif isinstance(node, list):
            for v in node:
                yield from descriptions(v)

    bad = [d for d in descriptions(load_yaml(path))
           if d.count("(") + d.count("[") != d.count(")") + d.count("]")]
    assert not bad, bad


def test_gate_tables_are_the_tables_the_rules_register() -> None:
    registered = set()
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        registered |= set(re.findall(r'METRIC_TABLES\["(\w+)"\]\s*=', smk.read_text()))
    assert registered == set(METRIC_TABLE_NAMES)
