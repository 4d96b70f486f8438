"""Predicted accessibility as bigWig tracks tiling whole chromosomes (for IGV / UCSC).

Each chromosome is read once as codes (:class:`seq2func.core.sequence.Genome`) and cut into
windows of the model's input length every ``stride`` bp; windows are predicted on both strands
(averaged) in batches, and each window reports the ``stride`` bp at its centre, so the track is
continuous from ``input_length/2 - stride/2`` to the last full window:

* Basset-like models (``labels`` head): the peak probability of each task, one value per
  ``stride`` bp step (bedGraph-style fixed-step entries);
* BPNet-like models (``profile`` + ``log_counts``): predicted counts per base,
  ``expm1(log_counts) * profile`` over the central ``stride`` bases of each window (the profile
  covers the central ``profile_length`` bases of the input, in bins of ``profile_bin`` whose
  counts are spread evenly over their bases; ``stride`` must not exceed ``profile_length``).
  A profile head's position prior (``profile_prior``) describes peak-centred windows, not
  tiles, so tracks leave it out (:func:`seq2func.models.bpnet.clear_profile_prior`).

One bigWig per task: ``<outdir>/<task>.bw``. Entries are written with one vectorised
``addEntries`` call per chromosome and task.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from seq2func.core.io import atomic_output
from seq2func.evaluate.settings import TracksSettings

log = logging.getLogger(__name__)


def window_starts(chrom_size: int, input_length: int, stride: int) -> np.ndarray:
    """Starts of the windows tiling a chromosome every ``stride`` bp (full windows only)."""
    if chrom_size < input_length:
        return np.zeros(0, dtype=np.int64)
    return np.arange(0, chrom_size - input_length + 1, stride, dtype=np.int64)


def predict_chromosome(model, codes: np.ndarray, input_length: int, stride: int,  # type: ignore[no-untyped-def]
                       batch_size: int = 256, progress: bool = False, profile_bin: int = 1
                       ) -> tuple[int, np.ndarray, str]:
    """Tile one chromosome and predict (``profile_bin``: bases per profile bin of the model).

    Returns
    -------
    tuple
        ``(first, values, kind)``: the first covered base, ``values`` ``(n_bases_or_steps, T)``
        and ``kind`` (``labels``: one value per ``stride`` bp; ``counts``: one per base).
    """
    from seq2func.core.sequence import extract_windows, one_hot
    from seq2func.models import predict_both_strands

    starts = window_starts(codes.size, input_length, stride)
    first = input_length // 2 - stride // 2
    chunks: list[np.ndarray] = []
    kind = ""
    step = max(batch_size * 16, 1)
    it = range(0, starts.size, step)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, unit="chunk", desc="tiling")
    for i in it:
        win = extract_windows(codes, starts[i : i + step], input_length)
        pred = predict_both_strands(model, one_hot(win), batch_size=batch_size)
        if "labels" in pred:
            kind = "labels"
            chunks.append(pred["labels"].astype(np.float32))
        elif "profile" in pred and "log_counts" in pred:
            kind = "counts"
            prof = pred["profile"]  # (n, bins, T) probabilities over the central profile
            per_base = np.repeat(prof, profile_bin, axis=1) / profile_bin
            if stride > per_base.shape[1]:
                raise ValueError(f"stride {stride} exceeds the profile length "
                                 f"{per_base.shape[1]}: use a smaller stride")
            # per-base counts of the central stride bases (profile and input share a centre)
            lo = per_base.shape[1] // 2 - stride // 2
            centre = per_base[:, lo : lo + stride, :] * np.expm1(pred["log_counts"])[:, None, :]
            chunks.append(centre.reshape(-1, centre.shape[-1]).astype(np.float32))
        else:
            raise ValueError("model has neither a labels head nor profile + log_counts heads")
    if not chunks:
        return first, np.zeros((0, 0), np.float32), kind or "labels"
    return first, np.concatenate(chunks), kind


def write_tracks(
    model_paths: Sequence[str | Path],
    genome_path: str | Path,
    chromosomes: Sequence[str],
    tasks: Sequence[str],
    input_length: int,
    outdir: str | Path,
    *,
    stride: int = 100,
    batch_size: int = 256,
    progress: bool = False,
    profile_bin: int = 1,
) -> list[Path]:
    """Write ``<outdir>/<task>.bw`` with the model's predictions over ``chromosomes``.

    The models at ``model_paths`` (one, or e.g. the seeds of a model) predict as their seed
    ensemble (:func:`seq2func.models.load_ensemble`).

    The bigWig header lists only ``chromosomes`` (with their genome sizes), so the file opens
    in genome browsers on the same assembly.
    """
    import pyBigWig

    from seq2func.core.sequence import Genome
    from seq2func.models import load_ensemble
    from seq2func.models.bpnet import clear_profile_prior

    if stride <= 0 or stride > input_length:
        raise ValueError(f"stride must be in 1..input_length ({input_length}), not {stride}")
    model = load_ensemble(model_paths)
    if clear_profile_prior(model):
        log.info("tracks use the profile heads without their position prior (profile_prior: "
                 "it describes peak-centred windows, not tiles)")
    genome = Genome(genome_path)
    names = [genome.resolve(c) for c in chromosomes]
    header = [(c, int(genome.sizes[c])) for c in names]
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    contexts = [atomic_output(outdir / f"{t}.bw") for t in tasks]
    tmps = [ctx.__enter__() for ctx in contexts]
    handles = []
    ok = False
    try:
        for tmp in tmps:
            bw = pyBigWig.open(str(tmp), "w")
            bw.addHeader(header, maxZooms=10)
            handles.append(bw)
        for chrom in names:
            codes = genome.codes(chrom)
            first, values, kind = predict_chromosome(model, codes, input_length, stride,
                                                     batch_size=batch_size, progress=progress,
                                                     profile_bin=profile_bin)
            log.info("%s: %d values (%s)", chrom, values.shape[0], kind)
            if values.shape[0] == 0:
                continue
            span = stride if kind == "labels" else 1
            for t, bw in enumerate(handles):
                bw.addEntries(chrom, int(first), values=values[:, t].astype(np.float64),
                              span=span, step=span)
        for bw in handles:
            bw.close()
        handles = []
        ok = True
    finally:
        for bw in handles:
            bw.close()
        for ctx in contexts:
            if ok:
                ctx.__exit__(None, None, None)
            else:
                ctx.__exit__(RuntimeError, RuntimeError("tracks failed"), None)
        genome.close()
    return [outdir / f"{t}.bw" for t in tasks]


def run_tracks(model_paths: Sequence[str | Path], dataset_dir: str | Path,
               genome_path: str | Path, outdir: str | Path, settings: TracksSettings, *,
               split: str = "test", threads: int = 0, progress: bool = False) -> list[Path]:
    """Tracks of the seed ensemble of ``model_paths`` over the chromosomes of ``split``.

    Configures TensorFlow (deterministic, ``threads``), writes one bigWig per task with
    :func:`write_tracks` and a provenance record next to each.
    """
    from seq2func.core.provenance import write_provenance
    from seq2func.dataset import Dataset
    from seq2func.train.runtime import configure_runtime

    device = configure_runtime(seed=0, deterministic=True, threads=threads)
    meta = Dataset(dataset_dir).meta
    chroms = meta.split_chromosomes(split)
    files = write_tracks(model_paths, genome_path, chroms, list(meta.tasks),
                         meta.geometry.input_length, outdir, stride=settings.stride,
                         batch_size=settings.batch_size, progress=progress,
                         profile_bin=meta.geometry.profile_bin)
    for f in files:
        write_provenance(f, step="accessibility-tracks", inputs=[*model_paths, genome_path],
                         device=device.description,
                         extra={"chromosomes": chroms, "stride": settings.stride})
    log.info("wrote %d tracks over %s", len(files), ",".join(chroms))
    return files
