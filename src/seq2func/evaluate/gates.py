"""Quality gates: "is the model good enough?" checks over any registered metric table.

A gate (one entry of ``evaluate.gates`` in the config) selects one row of a metric table (the
:class:`seq2func.core.metrics.MetricRow` format) and compares its value with a threshold or with the
same row of another model plus a margin::

    - name: basset_beats_kmer
      table: accessibility          # a name in the workflow's METRIC_TABLES registry
      metric: auROC
      model: basset
      task: all                     # default "all"
      aggregation: macro mean over tasks   # default: any (must then match one row)
      op: ">="                      # >=, >, <=, <
      compare_to: kmer_lr           # or: threshold: 0.85
      margin: 0.03                  # reference = value(compare_to) + margin

Optional selectors ``split`` and ``chromosome`` (default ``all``) narrow the row further;
``fold`` (default ``mean``) selects a row of the ``accessibility_folds`` table. ``assembly``
selects the standard of one genome assembly in a table with an ``assembly`` column
(``library_qc``: ENCODE's TSS enrichment standards differ by assembly); a gate for another
assembly than the study's is NOT RUN.

Status of each gate: ``PASS``; ``FAIL``; ``NOT RUN`` when its table is one the workflow knows
(:data:`METRIC_TABLE_NAMES`) but not produced by this run (e.g. the demo-only ``motifs`` table in
a real study), its metric is one only a simulated study's truth gives (:data:`TRUTH_METRICS`,
e.g. ``bias_truth_pearson`` in a real study's ``bias`` table), a selected row is missing or its
value is NaN. A table name the workflow does not
know (a typo), an unknown operator, both or neither of ``threshold`` and ``compare_to``, and a
gate selecting several rows are configuration errors (:func:`check_gates`; the workflow checks
at start-up).
"""

from __future__ import annotations

import logging
import math
import operator
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from seq2func.core.errors import ConfigError

log = logging.getLogger(__name__)

OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
PASS, FAIL, NOT_RUN = "PASS", "FAIL", "NOT RUN"
#: metrics only a simulated study's truth gives, in tables every study has: a gate on one is
#: NOT RUN elsewhere (any other metric a table lacks is a typo: an error)
TRUTH_METRICS = ("bias_truth_pearson",)
COLUMNS = ["gate", "status", "table", "metric", "task", "aggregation", "model", "value", "op",
           "reference", "reference_value", "detail"]
_SELECTORS = ("metric", "task", "aggregation", "split", "chromosome", "fold", "assembly")
#: selectors with a default (the others: any value); ``fold`` applies to tables with a fold
#: column only (``accessibility_folds``: its default is the fold mean)
_DEFAULTS = {"task": "all", "chromosome": "all", "fold": "mean"}
#: every metric table the workflow's stages can register (``METRIC_TABLES`` of the rules)
METRIC_TABLE_NAMES = ("accessibility", "accessibility_folds", "bias", "expression",
                     "expression_explainable_variance", "grammar", "library_qc", "motifs",
                     "variants")


def _wanted(gate: Mapping[str, Any], key: str, table: pd.DataFrame) -> Any:
    """The value a gate selects for ``key`` (None: any), for a table with that column."""
    if key not in table.columns:
        return None
    return gate.get(key, _DEFAULTS.get(key))


def check_gates(gates: Sequence[Mapping[str, Any]], source: str = "config") -> None:
    """Check what a gate can get wrong without its table: the table name, operator, reference.

    Raises
    ------
    ConfigError
        Naming ``evaluate.gates[<name>]`` and the fix (a suggestion for a misspelt table).
    """
    import difflib

    for i, gate in enumerate(gates):
        if not isinstance(gate, Mapping):
            raise ConfigError(source, f"evaluate.gates[{i}]", f"{gate!r} is not a mapping",
                              "give each gate as {name, table, metric, model, ...}")
        name = gate.get("name", i)
        key = f"evaluate.gates[{name}]"
        missing = [k for k in ("name", "table", "metric", "model") if k not in gate]
        if missing:
            raise ConfigError(source, key, f"lacks {', '.join(missing)}",
                              "every gate names its name, table, metric and model")
        table = gate.get("table")
        if table not in METRIC_TABLE_NAMES:
            close = difflib.get_close_matches(str(table), METRIC_TABLE_NAMES, n=1)
            raise ConfigError(source, f"{key}.table", f"unknown metric table {table!r}",
                              (f"did you mean {close[0]!r}? " if close else "")
                              + f"known tables: {', '.join(METRIC_TABLE_NAMES)}")
        op = gate.get("op", ">=")
        if op not in OPS:
            raise ConfigError(source, f"{key}.op", f"unknown operator {op!r}",
                              fix=f"use one of {list(OPS)}")
        if (gate.get("threshold") is None) == (gate.get("compare_to") is None):
            raise ConfigError(source, key, "needs exactly one of threshold and compare_to",
                              "give a fixed threshold or the model to compare_to, not both")


#: the expression model variants a baseline-gate template may be keyed by
EXPRESSION_VARIANTS = ("seq_only", "seq_observed", "seq_predicted")
#: the baseline-gate key of the gates every study gets (the library QC, before training)
LIBRARY_GATES = "library"


def _fill_model(template: Mapping[str, Any], model: str) -> dict[str, Any]:
    """A copy of a gate template with ``{model}`` in its string values replaced by ``model``."""
    return {k: v.replace("{model}", model) if isinstance(v, str) else v
            for k, v in template.items()}


def baseline_gates(templates: Mapping[str, Sequence[Mapping[str, Any]]],
                   architectures: Mapping[str, str],
                   expression_variants: Sequence[str]) -> list[dict[str, Any]]:
    """The baseline gates of a study (``evaluate.baseline_gates``), in model order.

    Parameters
    ----------
    templates
        Architecture (``basset``, ``bpnet``, ``chrombpnet``), expression variant
        (:data:`EXPRESSION_VARIANTS`) or :data:`LIBRARY_GATES` (every study's) -> gate
        templates; ``{model}`` in a template's strings stands for the model's name.
    architectures
        Every configured accessibility model -> its architecture (config order).
    expression_variants
        The expression stage's model variants (empty for a study without expression).

    Returns
    -------
    list of dict
        One gate per template and model (or variant), ``{model}`` filled in, then the
        library gates.
    """
    out = [_fill_model(t, name) for name, arch in architectures.items()
           for t in templates.get(arch, ())]
    out += [dict(t) for v in expression_variants for t in templates.get(v, ())]
    out += [dict(t) for t in templates.get(LIBRARY_GATES, ())]
    return out


def with_baseline_gates(gates: Sequence[Mapping[str, Any]],
                        baseline: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``baseline`` then ``gates``; a gate of ``gates`` replaces the baseline gate of its name.

    Raises
    ------
    ConfigError
        When ``evaluate.gates`` names one gate twice (its rows in gates.tsv would be ambiguous).
    """
    names = [g.get("name") for g in gates]
    twice = sorted({str(n) for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError("config", "evaluate.gates", f"gate names used twice: {', '.join(twice)}",
                          "give every gate its own name")
    own = set(names)
    return [dict(g) for g in baseline if g["name"] not in own] + [dict(g) for g in gates]


def _close(value: str, known: Any) -> str:
    """`` (did you mean 'x'?)`` for a value close to one of ``known``, else ""."""
    import difflib

    close = difflib.get_close_matches(str(value), sorted({str(k) for k in known}), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_selectors(table: pd.DataFrame, gate: Mapping[str, Any], source: str) -> None:
    """A selector value the (non-empty) table does not have at all is a typo: ConfigError."""
    if table.empty:
        return
    for key in _SELECTORS:
        if gate.get(key) is not None and key not in table.columns:
            raise ConfigError(source, f"evaluate.gates[{gate['name']}].{key}",
                              f"table {gate['table']!r} has no {key} column",
                              f"leave {key} out of this gate")
        want = _wanted(gate, key, table)
        if want is None or key == "assembly":  # (another assembly's standard: NOT RUN)
            continue
        values = set(table[key].astype(str))
        if str(want) not in values:
            raise ConfigError(source, f"evaluate.gates[{gate['name']}].{key}",
                              f"{want!r} is not a {key} of table {gate['table']!r}"
                              + _close(want, values),
                              f"the table's {key} values: {', '.join(sorted(values)[:12])}")


def _select(table: pd.DataFrame, gate: Mapping[str, Any], model: str, source: str
            ) -> pd.DataFrame:
    _check_selectors(table, gate, source)
    sel = table["model"].astype(str) == model
    for key in _SELECTORS:
        want = _wanted(gate, key, table)
        if want is None:
            continue
        sel &= table[key].astype(str) == str(want)
    rows = table[sel]
    if len(rows) > 1:
        free = [k for k in _SELECTORS
                if k in rows.columns and gate.get(k) is None and rows[k].nunique() > 1]
        raise ConfigError(source, f"evaluate.gates[{gate['name']}]",
                          f"selects {len(rows)} rows of table {gate['table']!r} for model "
                          f"{model!r}",
                          fix=f"add selectors {free or list(_SELECTORS)} to the gate")
    return rows


def _other_assembly(table: pd.DataFrame, gate: Mapping[str, Any]) -> str:
    """Why a gate of one assembly's standard does not apply to this table's study ("": it does)."""
    want = gate.get("assembly")
    if want is None or "assembly" not in table.columns or table.empty:
        return ""
    have = sorted(set(table["assembly"].astype(str)))
    if str(want) in have:
        return ""
    return f"a standard for assembly {want}; this study's is {', '.join(have)}"


def _describe_reference(gate: Mapping[str, Any]) -> str:
    if gate.get("compare_to") is not None:
        margin = float(gate.get("margin", 0.0))
        return f"{gate['compare_to']} {'+' if margin >= 0 else '-'} {abs(margin):g}"
    return f"{float(gate['threshold']):g}"


def _read_tables(paths: str | Path | Sequence[str | Path]) -> pd.DataFrame:
    """One metric table, or several (e.g. one per model) read as one."""
    from seq2func.core.tables import read_metric_table

    if isinstance(paths, (str, Path)):
        return read_metric_table(paths)
    return pd.concat([read_metric_table(p) for p in paths], ignore_index=True)


def evaluate_gates(gates: Sequence[Mapping[str, Any]],
                   tables: Mapping[str, str | Path | Sequence[str | Path]],
                   source: str = "config") -> pd.DataFrame:
    """Evaluate every gate against the registered metric tables.

    Parameters
    ----------
    gates
        Gate definitions (see module docstring).
    tables
        Registered metric tables: name -> path (the workflow's ``METRIC_TABLES``).
    source
        Where the gates come from (for error messages).

    Returns
    -------
    pandas.DataFrame
        One row per gate with :data:`COLUMNS`.
    """
    check_gates(gates, source)
    cache: dict[str, pd.DataFrame] = {}
    out = []
    for gate in gates:
        name = gate["name"]
        op = gate.get("op", ">=")
        row = {"gate": name, "table": gate["table"], "metric": gate["metric"],
               "task": gate.get("task", "all"), "aggregation": gate.get("aggregation") or "",
               "model": gate["model"], "op": op, "reference": _describe_reference(gate),
               "value": math.nan, "reference_value": math.nan}
        if gate["table"] not in tables:
            out.append({**row, "status": NOT_RUN,
                        "detail": f"table {gate['table']!r} is not produced by this run"})
            continue
        if gate["table"] not in cache:
            cache[gate["table"]] = _read_tables(tables[gate["table"]])
        table = cache[gate["table"]]
        if (gate["metric"] in TRUTH_METRICS and not table.empty
                and gate["metric"] not in set(table["metric"].astype(str))):
            out.append({**row, "status": NOT_RUN,
                        "detail": f"{gate['metric']} needs a simulated study's truth"})
            continue
        other = _other_assembly(table, gate)
        if other:
            out.append({**row, "status": NOT_RUN, "detail": other})
            continue
        mine = _select(table, gate, gate["model"], source)
        if gate.get("compare_to") is not None:
            ref = _select(table, gate, gate["compare_to"], source)
            ref_value = float(ref["value"].iloc[0]) + float(gate.get("margin", 0.0)) \
                if len(ref) else math.nan
            ref_missing = ref.empty
        else:
            ref_value, ref_missing = float(gate["threshold"]), False
        if mine.empty or ref_missing:
            who = gate["model"] if mine.empty else gate["compare_to"]
            hint = _close(who, table["model"]) if not table.empty else ""
            log.warning("gate %s: no row for model %r in table %r%s: NOT RUN", name, who,
                        gate["table"], hint)
            out.append({**row, "status": NOT_RUN,
                        "detail": f"no row for model {who!r} in table {gate['table']!r}"
                                  + hint})
            continue
        value = float(mine["value"].iloc[0])
        row.update(value=value, reference_value=ref_value)
        if not (math.isfinite(value) and math.isfinite(ref_value)):
            out.append({**row, "status": NOT_RUN, "detail": "metric is undefined (NaN)"})
            continue
        ok = OPS[op](value, ref_value)
        out.append({**row, "status": PASS if ok else FAIL,
                    "detail": f"{value:.4g} {op} {ref_value:.4g}" + ("" if ok else " is false")})
    return pd.DataFrame(out, columns=COLUMNS)


def failed_message(gates_table: pd.DataFrame) -> str:
    """A message listing the failed gates (empty if none failed)."""
    failed = gates_table[gates_table["status"] == FAIL]
    if failed.empty:
        return ""
    lines = [f"{len(failed)} quality gate(s) failed:"]
    for _, r in failed.iterrows():
        lines.append(f"  - {r['gate']}: {r['model']} {r['metric']} ({r['task']}, "
                     f"{r['aggregation'] or 'any aggregation'}) = {r['value']:.4g}, required "
                     f"{r['op']} {r['reference']} = {r['reference_value']:.4g}")
    lines.append("  (set evaluate.enforce_gates: false to report gates without failing)")
    return "\n".join(lines)


def run_gates(gates: Sequence[Mapping[str, Any]],
              tables: Mapping[str, str | Path | Sequence[str | Path]],
              out: str | Path, source: str = "config (evaluate.gates)") -> pd.DataFrame:
    """Evaluate the gates and write the PASS/FAIL/NOT RUN table (with provenance)."""
    from seq2func.core.io import write_tsv_atomic
    from seq2func.core.provenance import write_provenance

    result = evaluate_gates(gates, tables, source=source)
    write_tsv_atomic(out, result, float_format="%.6g")
    files = [f for v in tables.values() for f in ([v] if isinstance(v, (str, Path)) else v)]
    write_provenance(out, step="evaluate-gates", inputs=files,
                     config={"gates": list(gates), "tables": dict(tables)})
    counts = result["status"].value_counts().to_dict()
    log.info("quality gates: %s", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return result


def enforce_gates(gates_table: str | Path, done: str | Path | None = None) -> None:
    """Raise listing the failed gates of a written table; else write ``done`` (if given)."""
    from seq2func.core.errors import Seq2FuncError
    from seq2func.core.io import write_text_atomic

    result = pd.read_csv(gates_table, sep="\t", keep_default_na=False,
                         na_values=["NaN", "nan", ""])
    msg = failed_message(result)
    if msg:
        raise Seq2FuncError(msg)
    if done is not None:
        write_text_atomic(done, f"all {len(result)} gates passed or did not run\n")
