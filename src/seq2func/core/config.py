"""Load and validate the workflow configuration and the samples table.

The JSON schemas live in ``workflow/schemas/``; the Snakefile calls :func:`validate_config` at
start-up so that a wrong type, an unknown key or a bad samples table fails at once, with a message
that names the file and key, instead of deep inside a job.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import yaml

from seq2func.core.errors import ConfigError, InputError

SAMPLE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, with a clear error for syntax problems."""
    p = Path(path)
    try:
        with open(p, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        line = None
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            line = mark.line + 1
        raise InputError(p, f"not valid YAML: {exc}", line,
                         "fix the YAML syntax near that line (indentation with spaces, closed "
                         "brackets and quotes, 'key: value' pairs)") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(p, "the top level must be a mapping of keys to values",
                         fix="write 'key: value' lines (see config/config.yaml)")
    return data


def check_yaml_files(paths: list[str | Path]) -> None:
    """Raise a WorkflowError-friendly :class:`InputError` naming the file and line of the
    first YAML syntax error among ``paths`` (missing files are skipped)."""
    for path in paths:
        if Path(path).is_file():
            load_yaml(path)


def _extend_with_default(validator_class: type) -> type:
    """Return a validator class that also fills in ``default`` values of the schema."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):  # type: ignore[no-untyped-def]
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


#: a Draft 2020-12 validator that also fills in the schema's ``default`` values
DefaultingValidator = _extend_with_default(jsonschema.Draft202012Validator)


def _key_path(error: jsonschema.ValidationError, prefix: str | None = None) -> str:
    parts = ([prefix] if prefix else []) + [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "<top level>"


def explain_error(error: jsonschema.ValidationError, source: str,
                  prefix: str | None = None) -> ConfigError:
    """A :class:`ConfigError` for a schema violation, naming the dotted key and a fix.

    ``prefix`` is the dotted key of the section that was validated (``None``: the whole
    config).
    """
    key = _key_path(error, prefix)
    if error.validator == "additionalProperties":
        allowed = sorted((error.schema.get("properties") or {}).keys())
        extra = sorted(set(error.instance) - set(allowed))
        bad = extra[0] if extra else "?"
        full = f"{key}.{bad}" if key != "<top level>" else bad
        close = difflib.get_close_matches(bad, allowed, n=1)
        fix = f"did you mean '{close[0]}'? " if close else ""
        fix += f"allowed keys here: {', '.join(allowed)}"
        return ConfigError(source, full, "unknown key", fix)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        full = f"{key}.{missing}" if key != "<top level>" else missing
        return ConfigError(source, full, "required key is missing", "add it (see config/README.md)")
    if error.validator == "type":
        want = error.validator_value
        return ConfigError(source, key, f"{error.instance!r} is not of type {want}",
                           f"give a value of type {want} (see config/README.md)")
    if error.validator == "enum":
        return ConfigError(source, key, f"{error.instance!r} is not one of {error.validator_value}",
                           "choose one of the allowed values")
    if error.validator == "oneOf" and isinstance(error.instance, dict):
        alternatives = [b.get("required", []) for b in error.validator_value
                        if isinstance(b, dict)]
        if alternatives and all(len(a) == 1 for a in alternatives):
            names = [a[0] for a in alternatives]
            given = [n for n in names if n in error.instance]
            return ConfigError(source, key, f"gives {' and '.join(given) if given else 'none'}"
                               f" of {', '.join(names)}",
                               f"give exactly one of {', '.join(names)}")
    desc = error.schema.get("description", "") if isinstance(error.schema, dict) else ""
    fix = f"{desc} " if desc else ""
    return ConfigError(source, key, error.message.splitlines()[0][:300],
                       fix + f"(see config/README.md for '{key.split('.')[-1]}')")


def validate_config(config: dict[str, Any], schema_path: str | Path,
                    source: str | Path = "config") -> dict[str, Any]:
    """Validate ``config`` in place against a JSON schema (YAML), filling in defaults.

    Parameters
    ----------
    config
        The configuration mapping (modified in place: defaults are inserted).
    schema_path
        Path to the schema (``workflow/schemas/config.schema.yaml``).
    source
        Name of the configuration file, used in error messages.

    Returns
    -------
    dict
        The same mapping, with defaults.

    Raises
    ------
    ConfigError
        For the first (most specific) violation, naming the dotted key and how to fix it.
    """
    schema = load_yaml(schema_path)
    validator = DefaultingValidator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (-len(e.absolute_path), e.path))
    if errors:
        raise explain_error(errors[0], str(source))
    return config


#: mappings of named entries that a later config file replaces whole instead of merging into
#: (Snakemake merges mappings key by key: a study listing two chromosomes would keep the demo's
#: other three)
REPLACED_WHOLE = ("simulate.chromosomes", "accessibility.models")


def lookup(data: Any, parts: Sequence[str]) -> tuple[bool, Any]:
    """Whether ``data`` holds the dotted path ``parts``, and the value there."""
    for part in parts:
        if not isinstance(data, dict) or part not in data:
            return False, None
        data = data[part]
    return True, data


def _key_parts(key: str) -> list[str]:
    """``evaluate.gates[basset].op`` -> ``["evaluate", "gates"]`` (up to the first index)."""
    return [p for p in key.split("[", 1)[0].split(".") if p]


def key_source(key: str, files: list[str], default: str = "config") -> str:
    """The config file that sets ``key`` (the last one of ``files``, in merge order, that sets
    the longest part of its dotted path); ``default`` when no file is given.

    ``files`` are in the order Snakemake merges them (the workflow's own config first, then each
    ``--configfile``); a key no file sets is reported in the last file that sets its section.
    """
    if not files:
        return default
    parts = _key_parts(key)
    best, depth = files[-1], -1
    for f in files:
        try:
            data = load_yaml(f)
        except (OSError, InputError):
            continue
        for n in range(len(parts), -1, -1):
            if lookup(data, parts[:n])[0]:
                if n >= depth:
                    best, depth = f, n
                break
    return best


#: the ``source`` of ConfigErrors raised on a merged config (no file known yet)
MERGED_SOURCES = ("config", "configuration")


def attribute(error: ConfigError, files: list[str]) -> ConfigError:
    """``error`` naming the config file its key comes from (see :func:`key_source`); errors
    that already name another file (e.g. the samples table) are returned as they are."""
    if error.source not in MERGED_SOURCES and error.source not in files:
        return error
    return ConfigError(key_source(error.key, files, error.source), error.key, error.problem,
                       error.fix)


def replace_merged_mappings(config: dict[str, Any], files: list[str]) -> list[str]:
    """Replace each :data:`REPLACED_WHOLE` mapping by the one of the last file that sets it.

    Returns
    -------
    list of str
        One message per mapping whose merge would have kept entries of an earlier file (the
        workflow logs them).
    """
    notes = []
    for key in REPLACED_WHOLE:
        parts = key.split(".")
        setters = [(f, v) for f in files for found, v in [lookup(load_yaml(f), parts)]
                   if found and isinstance(v, dict)]
        found, merged = lookup(config, parts)
        if not setters or not found or not isinstance(merged, dict):
            continue
        last_file, last = setters[-1]
        if merged == last:
            continue
        dropped = [str(k) for k in merged if k not in last]
        what = (f"the other files' {', '.join(dropped)} are not kept" if dropped else
                "its entries are not merged with the other files' entries of the same name")
        notes.append(f"{key}: taken whole from {last_file} ({', '.join(map(str, last))}); "
                     f"{what} (named entries are replaced, not merged)")
        parent = lookup(config, parts[:-1])[1]
        parent[parts[-1]] = copy.deepcopy(last)
    return notes


def load_config(path: str | Path, schema_path: str | Path) -> dict[str, Any]:
    """Read a YAML configuration file and validate it (see :func:`validate_config`)."""
    return validate_config(load_yaml(path), schema_path, source=path)


_WILDCARD = re.compile(r"\{[^{}]*\}")


def check_input_path(value: str, key: str, source: str = "config") -> None:
    """Refuse a path that Snakemake would read as a wildcard pattern (``{name}``) when it
    becomes the input of a rule; Snakemake cannot escape braces in input files.

    Raises
    ------
    ConfigError
        Naming ``key``.
    """
    if _WILDCARD.search(str(value)):
        raise ConfigError(source, key, f"{value!r} holds {{...}}, which Snakemake reads as a "
                          "wildcard in the files of a rule",
                          "rename the file (or link it) to a name without braces")


def load_samples(path: str | Path, schema_path: str | Path | None = None) -> pd.DataFrame:
    """Read and check the samples table (TSV, one row per sample).

    Required columns: ``sample``, ``cell_type``, ``assay``. Sample names must be unique and
    file-name safe. When ``schema_path`` is given, every row is also validated against it.

    Returns
    -------
    pandas.DataFrame
        Indexed by sample name, in file order.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(p, "samples table not found",
                         fix="set 'samples' in the config to a TSV file")
    try:
        df = pd.read_csv(p, sep="\t", dtype=str, comment="#", keep_default_na=False)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(p, f"not a tab-separated samples table ({str(exc).strip()})",
                         fix="one header line (sample, cell_type, assay, ...) and one "
                             "tab-separated row per sample") from exc
    df.columns = [c.strip() for c in df.columns]
    for col in ("sample", "cell_type", "assay"):
        if col not in df.columns:
            raise InputError(p, f"missing column '{col}' (columns: {', '.join(df.columns)})",
                             1, "the header must name at least: sample, cell_type, assay")
    if df.empty:
        raise InputError(p, "no samples listed", fix="add one row per sample")
    for i, name in enumerate(df["sample"], start=2):
        if not SAMPLE_NAME_RE.match(name):
            raise InputError(p, f"sample name {name!r} is not file-name safe", i,
                             "use letters, digits, '_', '-' or '.', starting with a letter/digit")
    dup = df["sample"][df["sample"].duplicated()].tolist()
    if dup:
        line = int(df.index[df["sample"].duplicated()][0]) + 2
        raise InputError(p, f"duplicate sample name(s): {', '.join(sorted(set(dup)))}", line,
                         "give every row a unique 'sample'")
    if schema_path is not None:
        schema = load_yaml(schema_path)
        validator = DefaultingValidator(schema)
        for i, row in enumerate(df.to_dict(orient="records"), start=2):
            row = {k: v for k, v in row.items() if v != ""}
            errs = sorted(validator.iter_errors(row), key=lambda e: e.path)
            if errs:
                e = errs[0]
                col = _key_path(e)
                raise InputError(p, f"column '{col}': {e.message}", i,
                                 "see workflow/schemas/samples.schema.yaml for allowed values")
    return df.set_index("sample", drop=False)


def get(config: Mapping[str, Any], dotted: str) -> Any:
    """Return ``config['a']['b']`` for ``dotted='a.b'`` (KeyError names the full path)."""
    cur: Any = config
    for part in dotted.split("."):
        try:
            cur = cur[part]
        except (KeyError, TypeError) as exc:
            raise KeyError(f"config key '{dotted}' not found (at '{part}')") from exc
    return cur


def task_cell_types(samples: str | Path) -> dict[str, str]:
    """Task (sample name) -> cell type, from the samples table."""
    df = load_samples(samples)
    return dict(zip(df["sample"], df["cell_type"], strict=True))
