"""The typed-settings mechanism: schema defaults, validation errors, nested sections."""

from __future__ import annotations

from dataclasses import dataclass, fields

import pytest

from seq2func.core.errors import ConfigError
from seq2func.core.settings import Settings, schema_fields, section_schema, with_defaults
from seq2func.train.settings import AccessibilityTrainSettings, TrainSettings


def test_defaults_come_from_the_schema_of_the_section() -> None:
    acc = AccessibilityTrainSettings.from_config({})
    expr = TrainSettings.from_config({})
    schema = section_schema("accessibility.train")["properties"]
    assert acc.batch_size == schema["batch_size"]["default"]
    assert expr.max_epochs == section_schema("expression.train")["properties"]["max_epochs"][
        "default"]
    # one class, two sections with their own defaults
    assert TrainSettings.from_config({}, key="accessibility.train").batch_size == acc.batch_size


def test_given_values_win_and_the_object_is_frozen() -> None:
    s = TrainSettings.from_config({"max_epochs": 3, "learning_rate": 0.01})
    assert (s.max_epochs, s.learning_rate) == (3, 0.01)
    with pytest.raises(AttributeError):
        s.max_epochs = 4  # type: ignore[misc]


def test_unknown_key_and_wrong_type_name_the_dotted_key() -> None:
    with pytest.raises(ConfigError, match=r"key 'expression\.train\.jitter'.*unknown key"):
        TrainSettings.from_config({"jitter": True})
    with pytest.raises(ConfigError, match=r"'accessibility\.train\.max_epochs'.*not of type"):
        AccessibilityTrainSettings.from_config({"max_epochs": "ten"})
    with pytest.raises(ConfigError, match=r"did you mean 'patience'"):
        TrainSettings.from_config({"patiense": 3})


def test_with_defaults_does_not_modify_its_argument() -> None:
    section = {"batch_size": 8}
    out = with_defaults(section, "expression.train")
    assert section == {"batch_size": 8} and out["batch_size"] == 8 and "patience" in out


def test_nested_settings_are_built_from_their_sub_section() -> None:
    @dataclass(frozen=True)
    class Outer(Settings):
        SECTION = "accessibility"
        seeds: list[int]
        gpus_per_job: int
        models: dict
        train: AccessibilityTrainSettings

    out = Outer.from_config({"train": {"max_epochs": 2}})
    assert isinstance(out.train, AccessibilityTrainSettings) and out.train.max_epochs == 2
    assert out.to_config()["train"]["max_epochs"] == 2


@pytest.mark.parametrize(("cls", "key"), [(TrainSettings, "expression.train"),
                                          (AccessibilityTrainSettings, "accessibility.train")])
def test_train_settings_fields_are_the_schema_properties(cls, key) -> None:
    assert {f.name for f in fields(cls)} == schema_fields(key)
