"""Integration: expression from promoter sequence and real ATAC-seq on yeast (sacCer3) with real
RNA-seq TPM from ../shared/data (skipped if absent)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import SHARED_DATA
from seq2func.download.ingest import read_quantification
from seq2func.expression.run import evaluate, prepare
from seq2func.expression.settings import ExpressionSettings

YEAST = SHARED_DATA / "yeast_sacCer3_atac_rnaseq"
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (YEAST / "sacCer3_R64.fa").exists(),
                       reason="real yeast bundle not available (../shared/data)"),
]
# yeast promoters are short and genes dense: a small window
SETTINGS = ExpressionSettings.from_config({
    "upstream": 600, "downstream": 200, "chromatin": {"flank": 500, "bin_size": 100},
    "biotypes": ["protein_coding"], "baselines": {"k": 4}, "n_bootstrap": 50,
    "model": {"conv_filters": [16], "conv_kernels": [8], "pool_sizes": [8],
              "seq_head": "global_max", "dense_units": 16},
    "train": {"batch_size": 64, "max_epochs": 2}})


@pytest.fixture(scope="module")
def yeast(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("yeast_expr")
    src = YEAST / "expression_tpm_per_gene.tsv"
    # plain TSV quantifications, one column per sample, read like any gene quantification
    table = pd.DataFrame({s: read_quantification(src, f"mean_tpm_{s}") for s in ("WT", "snf2")})
    table.index.name = "gene_id"
    table.reset_index().to_csv(out / "expression.tsv", sep="\t", index=False)
    prepare(YEAST / "Saccharomyces_cerevisiae.R64-1-1.99.chrnames.gff3.gz",
            out / "expression.tsv", YEAST / "sacCer3_R64.fa",
            {"atac": YEAST / "atac_SRR1822137_500k.tn5_cutsites.bw"},
            {"valid": ["XI"], "test": ["chrIV"]}, SETTINGS, out, exclude_regex="^chrM$")
    return out


def test_yeast_gene_table(yeast: Path) -> None:
    qc = json.loads((yeast / "genes_qc.json").read_text())
    genes = pd.read_csv(yeast / "genes.tsv", sep="\t")
    assert qc["genes_kept"] > 5500 and qc["matched_genes"] > 6000
    assert qc["tss_source"] == {"gene_5prime_end": qc["annotated_genes"]}  # no canonical tags
    assert qc["unmatched_expression_genes"] > 0  # ncRNAs etc. (biotype filter) are reported
    assert qc["dropped_excluded_chromosome"] > 0  # chrM
    assert set(genes.loc[genes["split"] == "test", "chrom"]) == {"chrIV"}
    assert set(genes.loc[genes["split"] == "valid", "chrom"]) == {"chrXI"}
    # a known minus-strand gene: SNF2 (YOR290C) starts at its record's end
    snf2 = genes.set_index("gene_id").loc["YOR290C"]
    assert snf2["strand"] == "-" and snf2["log1p_tpm_WT"] > snf2["log1p_tpm_snf2"] + 2


def test_yeast_chromatin_and_sequence_predict_expression(yeast: Path, tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    from seq2func.expression.data import load_arrays
    from seq2func.expression.run import train

    arrays = load_arrays(yeast / "genes.tsv", yeast / "features.npz", "seq_observed")
    assert arrays.extra["match"] == "all" and arrays.extra["tracks"] == ["atac"]
    train(yeast / "genes.tsv", yeast / "features.npz", "seq_observed", SETTINGS, 1,
          tmp_path / "m", threads=2)
    ablation = evaluate(yeast / "genes.tsv", yeast / "features.npz",
                        {"seq_observed": [tmp_path / "m" / "predictions.npz"]}, SETTINGS,
                        tmp_path / "metrics.tsv", tmp_path / "ablation.tsv", {}
                        ).set_index("model")
    # real data: accessibility upstream of the gene start and promoter k-mers both predict
    # expression of held-out chrIV genes (PROVENANCE: Spearman ~0.35 for ATAC vs WT TPM)
    assert ablation.loc["chromatin_ridge", "spearman"] > 0.2
    assert ablation.loc["kmer_ridge", "spearman"] > 0.2
    assert ablation.loc["seq_observed", "spearman"] > 0.2
    assert np.isfinite(ablation["pearson_ci_low"]).all()
