"""Predicted bigWig tracks: tiling geometry and values for both model families."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pyBigWig = pytest.importorskip("pyBigWig")

from preprocess_inputs import write_fasta  # noqa: E402
from seq2func import models  # noqa: E402
from seq2func.core.sequence import encode, one_hot  # noqa: E402
from seq2func.dataset import Geometry  # noqa: E402
from seq2func.evaluate import tracks  # noqa: E402

L, P, BIN = 120, 100, 4
GEO = Geometry(input_length=L, max_jitter=0, profile_length=P, count_window=P, profile_bin=BIN,
               label_window=P)


@pytest.fixture(scope="module")
def genome(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    rng = np.random.default_rng(4)
    seqs = {c: "".join(rng.choice(list("ACGT"), n)) for c, n in (("chr1", 1000), ("chr2", 700))}
    path = tmp_path_factory.mktemp("tracks") / "genome.fa"
    write_fasta(path, seqs)
    return path, seqs


def _model(tmp: Path, arch: str) -> Path:
    keras.utils.set_random_seed(0)
    if arch == "basset":
        spec = models.ModelSpec("m", "basset", {"conv_filters": [4], "conv_kernels": [5],
                                                "pool_sizes": [4], "dense_units": 4})
    else:
        spec = models.ModelSpec("m", "bpnet", {"filters": 4, "conv1_kernel": 5,
                                               "n_dilated_layers": 2, "profile_kernel": 7})
    m = models.build_accessibility_model(spec, GEO, 2, mean_log_counts=[2.0, 3.0])
    path = tmp / f"{arch}.keras"
    m.save(path)
    return path


def test_window_starts_cover_full_windows_only() -> None:
    np.testing.assert_array_equal(tracks.window_starts(1000, 120, 100),
                                  [0, 100, 200, 300, 400, 500, 600, 700, 800])
    assert tracks.window_starts(100, 120, 10).size == 0


def test_basset_track_holds_strand_averaged_probabilities(genome, tmp_path: Path) -> None:
    fasta, seqs = genome
    model_path = _model(tmp_path, "basset")
    out = tracks.write_tracks([model_path], fasta, ["chr2"], ["a", "b"], L, tmp_path / "bw",
                              stride=20)
    assert [p.name for p in out] == ["a.bw", "b.bw"]
    starts = tracks.window_starts(700, L, 20)
    windows = np.stack([encode(seqs["chr2"][s:s + L]) for s in starts])
    want = models.predict_both_strands(models.load_model(str(model_path)), one_hot(windows))
    for t, path in enumerate(out):
        bw = pyBigWig.open(str(path))
        assert bw.chroms() == {"chr2": 700}  # only the requested chromosomes
        ivals = bw.intervals("chr2")
        assert ivals[0][0] == L // 2 - 10 and ivals[0][1] - ivals[0][0] == 20
        assert len(ivals) == starts.size
        np.testing.assert_allclose([v for _, _, v in ivals], want["labels"][:, t], rtol=1e-5)
        bw.close()


def test_bpnet_track_holds_per_base_predicted_counts(genome, tmp_path: Path) -> None:
    fasta, seqs = genome
    model_path = _model(tmp_path, "bpnet")
    stride = 20
    out = tracks.write_tracks([model_path], fasta, ["chr1"], ["a", "b"], L, tmp_path / "bw",
                              stride=stride, profile_bin=BIN)
    starts = tracks.window_starts(1000, L, stride)
    windows = np.stack([encode(seqs["chr1"][s:s + L]) for s in starts])
    pred = models.predict_both_strands(models.load_model(str(model_path)), one_hot(windows))
    per_base = np.repeat(pred["profile"], BIN, axis=1) / BIN  # (n, P, T)
    lo = P // 2 - stride // 2
    want = per_base[:, lo:lo + stride, :] * np.expm1(pred["log_counts"])[:, None, :]
    for t, path in enumerate(out):
        bw = pyBigWig.open(str(path))
        first = L // 2 - stride // 2
        got = np.asarray(bw.values("chr1", first, first + starts.size * stride))
        np.testing.assert_allclose(got, want[:, :, t].ravel(), rtol=1e-4)
        bw.close()
    with pytest.raises(ValueError, match="exceeds the profile length"):
        tracks.write_tracks([model_path], fasta, ["chr1"], ["a", "b"], L, tmp_path / "bad",
                            stride=L, profile_bin=BIN)
