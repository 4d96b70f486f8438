"""Summarise the yeast ChromBPNet benchmark: one markdown table per held-out split.

Reads what the workflow wrote for each study of ``bench/chrombpnet_yeast/split*.yaml``
(``results/<study>/evaluation/accessibility_metrics.tsv``, ``bias_qc/chrombpnet.tsv``,
``gates.tsv``) and prints, per split, the profile JSD and log-count Pearson of ``chrombpnet``,
``bpnet`` and the baselines measured in the same run (with their 95% bootstrap intervals), the
bias QC rows and the gates. Run from the repository root after the workflow runs
(``bench/chrombpnet_yeast/README.md``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

#: (metric, aggregation, models) rows of the comparison table
ROWS = [
    ("profile_JSD", "macro mean over tasks of the median over the task's peak regions",
     ["chrombpnet", "bpnet", "average_profile"]),
    ("log_counts_pearson", "macro mean over tasks, peak regions",
     ["chrombpnet", "bpnet", "kmer_ridge"]),
    ("log_counts_pearson", "macro mean over tasks",
     ["chrombpnet", "bpnet", "kmer_ridge"]),
]


def _cell(row: pd.Series) -> str:
    """``value [low, high]`` with three decimals."""
    return f"{row['value']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]"


def split_table(study: str, test: list[str]) -> str:
    """The markdown summary of one study (split)."""
    out = ROOT / "results" / study / "evaluation"
    acc = pd.read_csv(out / "accessibility_metrics.tsv", sep="\t")
    acc = acc[acc["chromosome"].astype(str) == "all"]
    lines = [f"### {study}: test {', '.join(test)}", "",
             "| metric | aggregation | model | model | baseline |",
             "| --- | --- | --- | --- | --- |"]
    for metric, aggregation, models in ROWS:
        cells = []
        for model in models:
            hit = acc[(acc["metric"] == metric) & (acc["aggregation"] == aggregation)
                      & (acc["model"] == model)]
            cells.append(_cell(hit.iloc[0]) if len(hit) else "-")
        lines.append(f"| {metric} | {aggregation} | " + " | ".join(
            f"{m}: {c}" for m, c in zip(models, cells, strict=True)) + " |")
    bias = pd.read_csv(out / "bias_qc" / "chrombpnet.tsv", sep="\t")
    bias = bias[bias["aggregation"].str.endswith("worst task")]
    lines += ["", "| bias QC (worst task) | value |", "| --- | --- |"]
    lines += [f"| {r.model} {r.metric} ({r.aggregation}) | {r.value:.3f} |"
              for r in bias.itertuples()]
    gates = pd.read_csv(out / "gates.tsv", sep="\t")
    gates = gates[gates["gate"].str.startswith("chrombpnet")]
    lines += ["", "| gate | status | detail |", "| --- | --- | --- |"]
    lines += [f"| {r.gate} | {r.status} | {r.detail} |" for r in gates.itertuples()]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("configs", nargs="*", default=sorted(str(p) for p in HERE.glob("split*.yaml")))
    args = ap.parse_args()
    for cfg_path in args.configs:
        cfg = yaml.safe_load(Path(cfg_path).read_text())
        print(split_table(cfg["study"], cfg["split"]["test"]))


if __name__ == "__main__":
    main()
