"""Benchmark: predicted chromatin around every TSS of the real yeast genome.

Not a test: run by hand (see ``bench/inference/README.md``). In one process, on the same
genes and the same accessibility model (a Basset with the schema's default sizes for a
1,000-bp input, random weights unless ``--model`` names a trained one; speed and the identity
checks do not depend on the weights), it times

* ``per_tss``: :func:`seq2func.expression.predicted.predict_chromatin` with ``grid=1``, the
  exact per-TSS tiling of every gene (the work of the implementation before the grid);
* ``grid``: the same with the default grid (``bin_size / 2``), each distinct window once,
  the whole step (loading the model, cutting and encoding the windows, both strands);
* ``grid_before``: the same step with one ``model.predict`` call per strand in place of
  :func:`seq2func.models.predict.predict_batched` (the code before it);
* ``plain``: ``model.predict`` on both strands of the grid's distinct windows, one-hot
  tensors already in memory, the model loaded untimed (the model-speed ceiling as the issue
  defines it);

``grid``, ``grid_before`` and ``plain`` run ``--rounds`` times, their order rotated every
round, after one warm-up of each; medians are reported;

and checks the numbers: the grid step against every gene predicted alone (a random sample
of genes), and how far the grid moves the features from the per-TSS tiling (Pearson).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

BUNDLE = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
          / "yeast_sacCer3_atac_rnaseq")


def _genes(chroms: list[str] | None) -> pd.DataFrame:
    genes = pd.read_csv(BUNDLE / "genes_tss.sacCer3.bed", sep="\t", header=None,
                        names=["chrom", "tss", "end", "gene_id", "name", "strand", "biotype"])
    genes = genes[genes["chrom"] != "chrM"]
    if chroms:
        genes = genes[genes["chrom"].isin(chroms)]
    return genes.reset_index(drop=True)


def _model(path: str | None, out: Path) -> Path:
    if path:
        return Path(path)
    import keras

    from seq2func.models import BassetSpec, build_basset
    from seq2func.models.specs import architecture_defaults

    keras.utils.set_random_seed(0)
    sizes = {k: v for k, v in architecture_defaults("basset").items()
             if k in BassetSpec.__dataclass_fields__}
    target = out / "basset_random.keras"
    build_basset(1000, 1, BassetSpec(**sizes)).save(target)
    return target


def _plain(model_path: Path, x: np.ndarray) -> float:
    """Seconds of ``model.predict`` on both strands of in-memory one-hot windows (a freshly
    loaded model, as a step has; loading it is not timed)."""
    from seq2func.models import load_model

    model = load_model(str(model_path))
    rc = x[:, ::-1, ::-1].copy()
    t = time.perf_counter()
    model.predict(x, batch_size=512, verbose=0)
    model.predict(rc, batch_size=512, verbose=0)
    return time.perf_counter() - t


def _model_predict_batched(model, x, batch_size=256):  # type: ignore[no-untyped-def]
    """The code before ``predict_batched``: one ``model.predict`` call."""
    return model.predict(x, batch_size=batch_size, verbose=0)


def _grid(model_path: Path, genome, genes: pd.DataFrame, window, grid: int,  # type: ignore[no-untyped-def]
          before: bool) -> tuple[float, np.ndarray]:
    """Seconds of the whole step (model loading included) and its output; ``before``: with
    ``model.predict`` in place of :func:`seq2func.models.predict.predict_batched`."""
    from contextlib import nullcontext
    from unittest import mock

    from seq2func.expression.predicted import predict_chromatin

    patch = (mock.patch("seq2func.models.predict.predict_batched", _model_predict_batched)
             if before else nullcontext())
    with patch:
        t = time.perf_counter()
        pred, _ = predict_chromatin([model_path], genome, genes, window, grid=grid)
        return time.perf_counter() - t, pred


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--chroms", nargs="*", default=None, help="chromosomes (default: all)")
    ap.add_argument("--model", default=None, help="a trained accessibility model.keras")
    ap.add_argument("--check-genes", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternated rounds of grid / grid_before / plain (median reported)")
    ap.add_argument("--skip-per-tss", action="store_true", help="skip the exact tiling arm")
    ap.add_argument("--out", default="bench/out/inference")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from seq2func.train.runtime import configure_runtime

    configure_runtime(seed=0, deterministic=True)
    from seq2func.core.sequence import Genome, extract_windows, one_hot
    from seq2func.expression.predicted import chromatin_tiles, predict_chromatin, unique_windows
    from seq2func.expression.settings import ChromatinSettings, ExpressionSettings
    from seq2func.models import load_model, predict_both_strands

    settings = ExpressionSettings.from_config({})
    window = settings.window
    grid = ChromatinSettings.from_config({}).grid
    genes = _genes(args.chroms)
    model_path = _model(args.model, out)
    length = int(load_model(str(model_path)).inputs[0].shape[1])
    row: dict[str, object] = {"genes": len(genes), "bins": window.n_bins, "grid_bp": grid,
                              "input_length": length, "rounds": args.rounds}
    times: dict[str, list[float]] = {"grid": [], "grid_before": [], "plain": []}
    with Genome(BUNDLE / "sacCer3_R64.fa") as genome:
        starts, chroms = chromatin_tiles(genes, window, length, grid)
        distinct, _ = unique_windows(chroms, starts)
        row["windows"] = int(starts.size)
        row["distinct_windows"] = int(sum(v.size for v in distinct.values()))
        x = np.concatenate([one_hot(extract_windows(genome.codes(c), s, length))
                            for c, s in distinct.items()])
        _grid(model_path, genome, genes.head(20), window, grid, before=False)  # warm-up
        _plain(model_path, x[:600])
        grid_pred = before_pred = None
        for r in range(args.rounds):
            arms = ["grid", "grid_before", "plain"]
            for arm in arms[r % 3:] + arms[: r % 3]:  # rotate the order every round
                if arm == "plain":
                    times[arm].append(_plain(model_path, x))
                    continue
                sec, pred = _grid(model_path, genome, genes, window, grid, arm == "grid_before")
                times[arm].append(sec)
                if arm == "grid":
                    grid_pred = pred
                else:
                    before_pred = pred
        assert grid_pred is not None and before_pred is not None
        row["max_abs_diff_vs_before"] = float(np.abs(grid_pred - before_pred).max())
        if not args.skip_per_tss:
            t = time.perf_counter()
            exact, _ = predict_chromatin([model_path], genome, genes, window, grid=1)
            row["per_tss_s"] = time.perf_counter() - t
            row["pearson_grid_vs_per_tss"] = float(np.corrcoef(grid_pred.ravel(),
                                                               exact.ravel())[0, 1])
        # identity: sampled genes predicted alone on their grid windows
        model = load_model(str(model_path))
        rng = np.random.default_rng(0)
        worst = 0.0
        for i in rng.choice(len(genes), size=min(args.check_genes, len(genes)), replace=False):
            g = genes.iloc[int(i)]
            xi = genome.windows([g["chrom"]] * window.n_bins, starts[int(i)], length)
            alone = predict_both_strands(model, one_hot(xi), 512)["labels"]
            if g["strand"] == "-":
                alone = alone[::-1]
            worst = max(worst, float(np.abs(grid_pred[int(i)] - alone).max()))
        row["max_abs_diff_vs_alone"] = worst
    for arm, ts in times.items():
        row[f"{arm}_s"] = float(np.median(ts))
        row[f"{arm}_all_s"] = [round(t, 3) for t in ts]
    row["ratio_vs_plain"] = row["plain_s"] / row["grid_s"]  # type: ignore[operator]
    row["ratio_before_vs_plain"] = row["plain_s"] / row["grid_before_s"]  # type: ignore[operator]
    row["speedup_vs_before"] = row["grid_before_s"] / row["grid_s"]  # type: ignore[operator]
    if "per_tss_s" in row:
        row["speedup_vs_per_tss"] = row["per_tss_s"] / row["grid_s"]  # type: ignore[operator]
    (out / "predicted_chromatin.json").write_text(json.dumps(row, indent=1) + "\n")
    print(json.dumps(row, indent=1))


if __name__ == "__main__":
    main()
