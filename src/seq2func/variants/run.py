"""Entry points of the variant stage (one per subcommand), with provenance records."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from seq2func.core.provenance import write_provenance
from seq2func.variants.settings import VariantSettings

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

#: columns of the scored table left out of the TSV (they are VCF plumbing)
_NOT_IN_TSV = ("record", "line", "qual", "filter", "info", "genome_chrom")


def score_variants(vcf: str | Path, genome_path: str | Path, model_paths: Sequence[str | Path],
                   dataset_dir: str | Path, settings: VariantSettings, out_vcf: str | Path,
                   out_tsv: str | Path, *, model_name: str,
                   expression_models: Sequence[str | Path] | None = None,
                   genes: str | Path | None = None, threads: int = 0,
                   progress: bool = False) -> None:
    """Score every variant of ``vcf`` with the seed ensemble of ``model_paths``.

    Writes the annotated VCF and the TSV (see :func:`seq2func.variants.score.score_vcf`) and a
    provenance record next to each.
    """
    from seq2func.core.io import write_tsv_atomic
    from seq2func.dataset import Dataset
    from seq2func.train.runtime import configure_runtime

    device = configure_runtime(seed=0, deterministic=True, threads=threads)
    from seq2func.variants.score import score_vcf
    from seq2func.variants.vcf import write_vcf

    dataset = Dataset(dataset_dir)
    tasks = list(dataset.tasks)
    null = settings.null_set
    scored = score_vcf(
        vcf, genome_path, model_paths, tasks, model_name=model_name,
        expression_models=expression_models, genes_path=genes,
        max_allele_length=settings.max_allele_length, chunk=settings.chunk,
        batch_size=settings.batch_size, progress=progress, regions=dataset.regions(),
        null_variants=null.n_variants, null_seed=null.seed, null_method=null.method,
        n_reference=settings.aaq_reference_peaks,
        profile_bin=int(dataset.meta.geometry.profile_bin))
    table = scored.table
    write_vcf(out_vcf, scored.header, table, scored.floats, f"score-variants model={model_name}",
              scored.strings)
    write_tsv_atomic(out_tsv, table[[c for c in table if c not in _NOT_IN_TSV]],
                     float_format="%.6g")
    extra = {"status_counts": {str(k): int(v) for k, v in table["status"].value_counts().items()},
             "null": {"method": null.method, **null_summary(scored.null)}}
    inputs = [vcf, *model_paths, *(expression_models or [])]
    for out in (out_vcf, out_tsv):
        write_provenance(out, step="score-variants", inputs=inputs, config=settings.to_config(),
                         device=device.description, extra=extra)
    log.info("scored %s", extra["status_counts"])


def null_summary(null: pd.DataFrame) -> dict[str, object]:
    """Size and quantiles (50, 95, 99%) of the null's overall scores, for provenance."""
    import numpy as np

    out: dict[str, object] = {"n_variants": len(null)}
    for c in null.columns if len(null) else []:
        if c.startswith("max_abs_"):
            q = np.nanquantile(null[c].to_numpy(float), [0.5, 0.95, 0.99])
            out[c] = [round(float(x), 6) for x in q]
    return out


def variant_metrics(score_files: Mapping[str, str | Path], truth: str | Path,
                    simulation: str | Path, dataset_dir: str | Path, samples: str | Path,
                    out: str | Path, figure: str | Path, n_boot: int) -> None:
    """Demo: auROC/auPRC of true-effect vs neutral variants per model, and the figure."""
    import pandas as pd

    from seq2func.core.config import task_cell_types
    from seq2func.core.io import write_tsv_atomic
    from seq2func.core.metrics import rows_to_frame
    from seq2func.core.plotting import save_figure
    from seq2func.dataset import Dataset
    from seq2func.variants import truth as vt

    meta = Dataset(dataset_dir).meta
    cells = task_cell_types(samples)
    threshold = vt.effect_threshold(simulation)
    known = vt.read_truth(truth)
    rows, joined = [], {}
    for model, path in score_files.items():
        table = pd.read_csv(path, sep="\t", dtype={"chrom": str, "ref": str, "alt": str},
                            keep_default_na=False, na_values=[""])
        joined[model] = vt.join_truth(table, known)
        rows += vt.variant_rows(model, joined[model], list(meta.tasks), cells,
                                meta.split["test"], threshold, n_boot=n_boot)
    write_tsv_atomic(out, rows_to_frame(rows), float_format="%.4g")
    inputs = [truth, simulation, *score_files.values()]
    write_provenance(out, step="variant-metrics", inputs=inputs, extra={"n_boot": n_boot})
    save_figure(vt.plot_variant_effects(joined), figure, inputs=inputs)
