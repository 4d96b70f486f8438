"""Benchmark of the expression models against their baselines (issue 18), in one run.

Not a test: run by hand from the worktree root (see README.md next to this file)::

    python bench/expression/run_bench.py --out bench/out/expression

What it does, with the **workflow defaults** (the schema's defaults plus the study config's
``expression`` section; nothing is tuned per split):

* **demo** - the finished demo run (``--demo-run``, read-only): its gene table, features and
  predicted chromatin. Every variant is retrained here with the current code (the demo
  config's ``expression`` section) unless ``--demo-use-run-models`` scores the run's own
  predictions instead; ``--demo-cross-fitted`` adds ``seq_predicted_crossfit``, trained on
  the chromatin predicted by the run's k-fold accessibility models out of fold;
* **real yeast** - ``expression-prepare`` on the bundle (``--yeast``) for each of two fixed
  held-out chromosome splits (:data:`YEAST_SPLITS`), then ``seq_only`` and ``seq_observed``
  (``seq_predicted`` needs accessibility models of the yeast study and is scored only when
  ``--yeast-predicted SPLIT=PATH`` gives their predicted chromatin).

Every model is scored on the test genes against the k-mer ridge, the chromatin-only ridge and
a mean predictor (the training genes' mean, per sample): macro-mean Pearson and Spearman over
samples with 95% bootstrap intervals over genes, the MSE, and the wall time of the fit.
Writes ``<out>/results.tsv`` and prints the markdown table of README.md.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from seq2func.core import metrics
from seq2func.expression.settings import ExpressionSettings

log = logging.getLogger("bench.expression")

ROOT = Path(__file__).resolve().parents[2]
#: the two held-out chromosome splits of real yeast (fixed; not tuned)
YEAST_SPLITS: dict[str, dict[str, list[str]]] = {
    "split1": {"valid": ["chrXI"], "test": ["chrIV"]},
    "split2": {"valid": ["chrX"], "test": ["chrVII", "chrXV"]},
}
YEAST_CONFIG = ROOT / "config/examples/yeast_atac_rnaseq.yaml"
DEMO_CONFIG = ROOT / "config/config.yaml"
#: the bundle's TPM columns -> expression samples (as config/examples/yeast_samples.tsv)
YEAST_SAMPLES = {"mean_tpm_WT": "yeast_WT", "mean_tpm_snf2": "yeast_snf2"}
YEAST_SIGNAL = "atac_SRR1822137_500k.tn5_cutsites.bw"
NUCLEAR = [f"chr{r}" for r in ("I II III IV V VI VII VIII IX X XI XII XIII XIV XV XVI".split())]


def expression_settings(config_path: Path, overrides: Mapping[str, Any] | None = None
                        ) -> ExpressionSettings:
    """The ``expression`` settings a study config gives (unset keys: schema defaults)."""
    section = dict(yaml.safe_load(config_path.read_text()).get("expression") or {})
    section.update(overrides or {})
    return ExpressionSettings.from_config(section, source=str(config_path))


def _exclude_regex() -> str:
    """The schema default of ``preprocess.exclude_chromosomes``."""
    from seq2func.core.settings import with_defaults

    return with_defaults({}, "preprocess", "schema")["exclude_chromosomes"]


def yeast_expression_table(bundle: Path, out: Path) -> Path:
    """The bundle's TPM table in the canonical format (``gene_id``, ``gene_name``, one TPM
    column per sample)."""
    df = pd.read_csv(bundle / "expression_tpm_per_gene.tsv", sep="\t")
    table = df[["gene_id", "gene_name", *YEAST_SAMPLES]].rename(columns=YEAST_SAMPLES)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, sep="\t", index=False)
    return out


def prepare_yeast(bundle: Path, split: Mapping[str, Sequence[str]], settings: ExpressionSettings,
                  outdir: Path) -> dict[str, Any]:
    """``expression-prepare`` of real yeast for one split (skipped when already done)."""
    from seq2func.expression.run import prepare

    if (outdir / "features.npz").exists() and (outdir / "genes.tsv").exists():
        return {}
    expr = yeast_expression_table(bundle, outdir / "expression.tsv")
    bw = str(bundle / YEAST_SIGNAL)
    return prepare(bundle / "Saccharomyces_cerevisiae.R64-1-1.99.chrnames.gff3.gz", expr,
                   bundle / "sacCer3_R64.fa", {s: bw for s in YEAST_SAMPLES.values()},
                   dict(split), settings, outdir, exclude_regex=_exclude_regex())


def train_variant(genes: Path, features: Path, variant: str, settings: ExpressionSettings,
                  seeds: Sequence[int], outdir: Path, predicted: Path | None = None,
                  threads: int = 2, seq_only_root: Path | None = None
                  ) -> tuple[np.ndarray, float]:
    """Train ``variant`` for each seed (``train-expression``); the seed-mean prediction and
    the wall time (s) of all seeds. A chromatin variant warm-starts, as the workflow does
    (``expression.chromatin.warm_start``), from ``seq_only_root/seq_only/seed<seed>`` when
    that model exists (the workflow's order: seq_only first)."""
    from seq2func.core.io import load_npz
    from seq2func.expression.run import train

    t0 = time.perf_counter()
    preds = []
    for seed in seeds:
        run = outdir / variant / f"seed{seed}"
        warm = (seq_only_root / "seq_only" / f"seed{seed}" / "model.keras"
                if seq_only_root is not None else None)
        if not (run / "predictions.npz").exists():
            train(genes, features, variant, settings, seed, run, predicted=predicted,
                  threads=threads,
                  warm_start=warm if warm is not None and warm.is_file() else None)
        preds.append(load_npz(run / "predictions.npz", ("prediction",))["prediction"])
    return np.mean(preds, axis=0), time.perf_counter() - t0


def baselines(genes: pd.DataFrame, features: Path, settings: ExpressionSettings
              ) -> dict[str, tuple[np.ndarray, float]]:
    """k-mer ridge and chromatin ridge (one fit, timed together) and the mean predictor."""
    from seq2func.expression.baselines import baseline_predictions
    from seq2func.expression.genes import target_columns

    t0 = time.perf_counter()
    preds, _ = baseline_predictions(genes, features, k=settings.baselines.k,
                                    match=settings.chromatin.match)
    wall = time.perf_counter() - t0
    y = genes[target_columns(genes)].to_numpy(dtype=np.float64)
    train = genes["split"].to_numpy() == "train"
    mean = np.broadcast_to(y[train].mean(axis=0), y.shape).copy()
    return {**{k: (v, wall) for k, v in preds.items()}, "mean_predictor": (mean, 0.0)}


def score(genes: pd.DataFrame, predictions: Mapping[str, tuple[np.ndarray, float]],
          n_boot: int, truth: Path | None = None) -> pd.DataFrame:
    """One line per model: macro Pearson/Spearman with intervals, MSE, wall time and, with the
    demo's ``truth``, the macro-mean fraction of the explainable-variance ceiling."""
    from seq2func.expression.evaluate import explainable_variance, score_models
    from seq2func.expression.genes import split_targets

    preds = {k: v[0] for k, v in predictions.items()}
    df = metrics.rows_to_frame(score_models(genes, preds, n_boot=n_boot))
    macro = df[(df["task"] == "all") & (df["aggregation"] == metrics.MACRO)]
    sel, y = split_targets(genes, "test")
    frac = None
    if truth is not None:
        t = metrics.rows_to_frame(explainable_variance(genes, preds, truth, n_boot=0))
        frac = t[t["metric"] == "fraction_of_ceiling"].groupby("model")["value"].mean()
    lines = []
    for name, (pred, wall) in predictions.items():
        sub = macro[macro["model"] == name].set_index("metric")
        line: dict[str, Any] = {"model": name}
        for m in ("pearson", "spearman"):
            line[m], line[f"{m}_lo"], line[f"{m}_hi"] = (sub.loc[m, "value"],
                                                         sub.loc[m, "ci_low"],
                                                         sub.loc[m, "ci_high"])
        line["mse"] = float(np.mean((np.asarray(pred)[sel] - y) ** 2))
        line["n_test"] = int(sel.sum())
        line["wall_s"] = wall
        if frac is not None:
            line["fraction_of_ceiling"] = float(frac.get(name, np.nan))
        lines.append(line)
    return pd.DataFrame(lines)


def run_dataset(name: str, genes_path: Path, features: Path, settings: ExpressionSettings,
                variants: Sequence[str], seeds: Sequence[int], outdir: Path, n_boot: int,
                predicted: Path | None = None, truth: Path | None = None,
                fixed: Mapping[str, Path] | None = None, threads: int = 2,
                cross_fitted: Path | None = None) -> pd.DataFrame:
    """Train (or take from ``fixed``: variant -> ``predictions.npz``) every variant, fit the
    baselines and score them all; with ``cross_fitted`` (predicted chromatin of
    ``expression-predicted-chromatin --fold-models``) also ``seq_predicted_crossfit``."""
    from seq2func.core.io import load_npz
    from seq2func.expression.genes import read_gene_table

    genes = read_gene_table(genes_path)
    preds: dict[str, tuple[np.ndarray, float]] = {}
    for v in variants:
        if fixed and v in fixed:
            preds[v] = (load_npz(fixed[v], ("prediction",))["prediction"], np.nan)
            continue
        if v == "seq_predicted" and predicted is None:
            log.info("%s: no predicted chromatin, seq_predicted not run", name)
            continue
        preds[v] = train_variant(genes_path, features, v, settings, seeds, outdir,
                                 predicted if v == "seq_predicted" else None, threads,
                                 seq_only_root=outdir)
        log.info("%s %s: %.1f s", name, v, preds[v][1])
    if cross_fitted is not None:
        preds["seq_predicted_crossfit"] = train_variant(
            genes_path, features, "seq_predicted", settings, seeds, outdir / "crossfit",
            cross_fitted, threads, seq_only_root=outdir)
    preds.update(baselines(genes, features, settings))
    table = score(genes, preds, n_boot, truth)
    table.insert(0, "dataset", name)
    return table


def markdown(table: pd.DataFrame) -> str:
    """The results as a markdown table (value [95% interval])."""
    def ci(r: pd.Series, m: str) -> str:
        if not np.isfinite(r[m]):
            return "n/a (constant)"
        return f"{r[m]:.3f} [{r[f'{m}_lo']:.3f}, {r[f'{m}_hi']:.3f}]"

    frac = "fraction_of_ceiling" in table.columns
    head = ["dataset", "model", "Pearson", "Spearman", "MSE", "n test", "wall s"]
    head += ["fraction of ceiling"] if frac else []
    out = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for _, r in table.iterrows():
        cells = [r["dataset"], r["model"], ci(r, "pearson"), ci(r, "spearman"),
                 f"{r['mse']:.3f}", str(int(r["n_test"])),
                 "-" if not np.isfinite(r["wall_s"]) else f"{r['wall_s']:.1f}"]
        if frac:
            f = r.get("fraction_of_ceiling", np.nan)
            cells.append("" if not np.isfinite(f) else f"{f:.3f}")
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "bench/out/expression")
    p.add_argument("--demo-run", type=Path, default=Path("/work/demo_run3"),
                   help="a finished demo run (read-only)")
    p.add_argument("--demo-use-run-models", action="store_true",
                   help="score the demo run's own model predictions instead of retraining")
    p.add_argument("--demo-cross-fitted", type=Path, default=None,
                   help="cross-fitted predicted chromatin of the demo run's fold models "
                        "(expression-predicted-chromatin --fold-models; see README.md)")
    p.add_argument("--yeast", type=Path,
                   default=ROOT.parent / "shared/data/yeast_sacCer3_atac_rnaseq")
    p.add_argument("--yeast-predicted", nargs="*", default=[],
                   help="SPLIT=predicted_chromatin.npz of the yeast study (seq_predicted)")
    p.add_argument("--only", nargs="*", default=None, help="datasets to run (demo split1 ...)")
    p.add_argument("--seeds", type=int, nargs="+", default=None,
                   help="seeds (default: expression.seeds of each config)")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    tables = []
    wanted = set(args.only or ["demo", *YEAST_SPLITS])
    if "demo" in wanted:
        tables.append(_run_demo(args))
    predicted = dict(x.split("=", 1) for x in args.yeast_predicted)
    for split, chroms in YEAST_SPLITS.items():
        if split not in wanted:
            continue
        settings = expression_settings(YEAST_CONFIG)
        outdir = args.out / f"yeast_{split}"
        prepare_yeast(args.yeast, chroms, settings, outdir)
        tables.append(run_dataset(
            f"yeast {split} (test {'+'.join(chroms['test'])})", outdir / "genes.tsv",
            outdir / "features.npz", settings, settings.variants,
            args.seeds or settings.seeds, outdir / "models", settings.n_bootstrap,
            predicted=Path(predicted[split]) if split in predicted else None,
            threads=args.threads))
    table = pd.concat(tables, ignore_index=True)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "results.tsv", sep="\t", index=False, float_format="%.6g")
    print(markdown(table))
    return 0


def _run_demo(args: argparse.Namespace) -> pd.DataFrame:
    """The demo dataset: the run's prepared files, retrained variants (or its own models)."""
    res = args.demo_run / "results/demo"
    settings = expression_settings(DEMO_CONFIG)
    fixed = None
    if args.demo_use_run_models:
        fixed = {v: res / f"models/expression/{v}/seed1/predictions.npz"
                 for v in settings.variants}
    return run_dataset("demo", res / "expression/genes.tsv", res / "expression/features.npz",
                       settings, settings.variants, args.seeds or settings.seeds,
                       args.out / "demo/models", settings.n_bootstrap,
                       predicted=res / "expression/predicted_chromatin.npz",
                       truth=args.demo_run / "resources/demo/truth/expression_terms.tsv",
                       fixed=fixed, threads=args.threads, cross_fitted=args.demo_cross_fitted)


if __name__ == "__main__":
    sys.exit(main())
