"""The expression stage's settings: fields are the schema's properties, defaults its defaults."""

from __future__ import annotations

from dataclasses import fields

import pytest

from seq2func.core.errors import ConfigError
from seq2func.core.settings import schema_fields, section_schema, with_defaults
from seq2func.expression.settings import (
    BaselineSettings,
    ChromatinSettings,
    ExpressionModelSpec,
    ExpressionSettings,
    PredictedModelSettings,
)


@pytest.mark.parametrize("cls", [ExpressionSettings, ChromatinSettings, PredictedModelSettings,
                                 ExpressionModelSpec, BaselineSettings])
def test_fields_are_the_schema_properties_of_the_section(cls) -> None:
    assert {f.name for f in fields(cls)} == schema_fields(cls.SECTION)


def test_nested_sections_are_built_with_the_schema_defaults() -> None:
    s = ExpressionSettings.from_config({"chromatin": {"match": "all"}, "train": {"max_epochs": 2}})
    assert s.to_config() == with_defaults({"chromatin": {"match": "all"},
                                           "train": {"max_epochs": 2}}, "expression")
    assert s.chromatin.match == "all" and s.train.max_epochs == 2
    assert s.chromatin.predicted_model.name == section_schema(
        "expression.chromatin.predicted_model")["properties"]["name"]["default"]
    assert s.window.chromatin_flank == s.chromatin.flank
    # the key is kept as it is
    assert s.n_bootstrap == section_schema("expression")["properties"]["n_bootstrap"]["default"]


def test_unknown_keys_name_the_dotted_key() -> None:
    with pytest.raises(ConfigError, match=r"(?s)'expression\.model\.dense_unit'.*'dense_units'"):
        ExpressionSettings.from_config({"model": {"dense_unit": 3}})
    with pytest.raises(ConfigError, match=r"'expression\.train\.jitter'"):
        ExpressionSettings.from_config({"train": {"jitter": True}})
