"""Typed settings of each stage, built from its config section with the schema's defaults.

The JSON schema (``workflow/schemas/config.schema.yaml``) is the one source of defaults: a
stage's settings class is a dataclass whose fields are the properties of its section, with no
defaults of its own. :meth:`Settings.from_config` fills what a section leaves out from the
schema, validates it (an unknown key or a wrong type is a :class:`~seq2func.core.errors.ConfigError`
naming the dotted key) and builds the object; fields whose type is itself a :class:`Settings`
are built from their sub-section. A test per stage checks that the fields and the schema
properties agree.

Example
-------
>>> from seq2func.train.settings import TrainSettings
>>> TrainSettings.from_config({"max_epochs": 3}, key="expression.train").batch_size
32
"""

from __future__ import annotations

import copy
import dataclasses
import os
import typing
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from seq2func.core.errors import ConfigError

#: environment variable naming the directory of the JSON schemas (default: the repository's)
SCHEMA_DIR_ENV = "SEQ2FUNC_SCHEMA_DIR"

S = TypeVar("S", bound="Settings")


def schema_dir() -> Path:
    """Directory of ``config.schema.yaml`` and ``samples.schema.yaml``.

    ``$SEQ2FUNC_SCHEMA_DIR`` when set, else ``workflow/schemas`` of the source tree this package
    runs from (the workflow always runs its own ``src/``; ``pip install -e .`` does too).
    """
    env = os.environ.get(SCHEMA_DIR_ENV)
    path = Path(env) if env else Path(__file__).resolve().parents[3] / "workflow" / "schemas"
    if not (path / "config.schema.yaml").is_file():
        raise ConfigError("config", "<schema>", f"no config.schema.yaml in {path}",
                          f"run seq2func from its repository (pip install -e .) or set "
                          f"{SCHEMA_DIR_ENV} to the workflow's schemas directory")
    return path


@cache
def config_schema() -> dict[str, Any]:
    """The workflow's config schema (parsed once per process)."""
    from seq2func.core.config import load_yaml

    return load_yaml(schema_dir() / "config.schema.yaml")


def section_schema(key: str) -> dict[str, Any]:
    """Sub-schema of a dotted section, e.g. ``"expression.train"``, with the root ``$defs``.

    A ``*`` part steps into ``additionalProperties`` (e.g. ``"accessibility.models.*"``).
    """
    root = config_schema()
    node: dict[str, Any] = root
    for part in key.split("."):
        node = (node.get("additionalProperties", {}) if part == "*"
                else node.get("properties", {}).get(part, {}))
        if not node:
            raise KeyError(f"no section {key!r} in the config schema")
    return {"$defs": root.get("$defs", {}), **node}


def with_defaults(section: Mapping[str, Any] | None, key: str,
                  source: str = "config") -> dict[str, Any]:
    """A copy of ``section`` validated against the schema of ``key``, defaults filled in.

    Raises
    ------
    ConfigError
        Naming ``<key>.<sub key>`` for an unknown key, a wrong type or a bad value.
    """
    from seq2func.core.config import DefaultingValidator, explain_error

    values = copy.deepcopy(dict(section or {}))
    validator = DefaultingValidator(section_schema(key))
    errors = sorted(validator.iter_errors(values), key=lambda e: (-len(e.absolute_path), e.path))
    if errors:
        raise explain_error(errors[0], source, prefix=key)
    return values


@dataclasses.dataclass(frozen=True)
class Settings:
    """Base of the stages' settings: a frozen dataclass built from one config section.

    Subclasses set :attr:`SECTION` (the dotted config key) and declare one field per schema
    property, without defaults.
    """

    SECTION: ClassVar[str] = ""
    #: schema properties that are deliberately not fields (with the reason)
    NOT_FIELDS: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def from_config(cls: type[S], section: Mapping[str, Any] | None = None, *,
                    key: str | None = None, source: str = "config") -> S:
        """Build from a config section (missing keys take the schema's defaults).

        Parameters
        ----------
        section
            The section as in the config (a validated config gives it complete).
        key
            Dotted config key of the section (default :attr:`SECTION`); the same settings
            class can serve several sections, e.g. ``accessibility.train`` and
            ``expression.train``.
        source
            The config file, for error messages.
        """
        key = key or cls.SECTION
        values = with_defaults(section, key, source)
        hints = typing.get_type_hints(cls)
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name not in values:
                raise ConfigError(source, f"{key}.{f.name}", "missing (the schema gives it no "
                                  "default)", "set it in the config")
            value = values[f.name]
            sub = _settings_type(hints.get(f.name))
            if sub is not None:
                value = sub.from_config(value, key=f"{key}.{f.name}", source=source)
            kwargs[f.name] = value
        return cls(**kwargs)

    def to_config(self) -> dict[str, Any]:
        """The section as a plain mapping (nested settings included), e.g. for provenance."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.to_config() if isinstance(value, Settings) else copy.deepcopy(
                value)
        return out


def _settings_type(hint: Any) -> type[Settings] | None:
    """The Settings subclass a field holds (``X`` or ``X | None``), if any."""
    candidates = typing.get_args(hint) or (hint,)
    for c in candidates:
        if isinstance(c, type) and issubclass(c, Settings):
            return c
    return None


def schema_fields(key: str) -> set[str]:
    """Property names of a config section (for the settings-schema agreement tests)."""
    return set(section_schema(key).get("properties", {}))
