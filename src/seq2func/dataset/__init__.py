"""Training sets on disk: the format written by preprocessing and the readers training uses.

This docstring is the contract between preprocessing and the later stages (training,
evaluation, interpretation). Format version: :data:`FORMAT_VERSION`.

Directory layout
----------------
``results/<study>/dataset/`` (the workflow's ``DATASET``) holds::

    dataset.json                 metadata (below); written last, so its presence means "complete"
    regions.tsv.gz               one row per region (below), in region_id order
    shards/<job>/<chrom>.h5      one HDF5 shard per chromosome (rows in genomic order)
    chroms/<job>.stats.json      per-chromosome QC statistics of a job (intermediate)
    plan/plan.json, plan/summits.npz                           the scatter plan (intermediate)

A preprocessing job is one large chromosome (``<job>`` is its name) or a group of small ones
(``<first>..<last>``, ``preprocess.group_bases``); readers take every shard's path from
``dataset.json`` (:class:`ShardInfo`), never from this layout.

Regions
-------
Every region is a fixed-width window centred on ``centre``: a peak summit (``source`` =
``peak``; peaks of all samples are merged by greedy non-maximum suppression, strongest summit
first, so no two region centres are closer than ``merge_distance``) or a GC-matched background
window (``source`` = ``background``; no peak of any sample overlaps its stored window).
``regions.tsv.gz`` columns:

==================  =========================================================================
``region_id``       0..n-1, the row number
``chrom``           chromosome (the genome's naming)
``start``, ``end``  the model input window, ``[centre - input_length/2, centre + input_length/2)``
``centre``          summit (peaks) or window centre (background), 0-based
``split``           ``train``/``valid``/``test`` (top-level ``split:`` config); with folds, also
                    ``split_<fold name>`` columns
``source``          ``peak`` or ``background``
``origin``          sample whose summit is the centre (empty for background)
``gc``              G+C fraction of the input window (N excluded); ``n_fraction``: N fraction
``shard``           shard path relative to the dataset directory; ``shard_row``: row in it
``is_peak_<task>``  1 if a peak of the task overlaps the count window
``label_<task>``    Basset-style binary label: 1 if a summit of the task lies within the central
                    ``label_window`` bp (``[centre - w/2, centre + w/2)``)
``counts_<task>``   signal summed over the count window (raw, unclipped)
``log_counts_<task>``  ``log1p(min(counts, clip_counts[task]))``: the count target
==================  =========================================================================

Tasks are the sample names in samples-table order.

Shards (HDF5, one per chromosome)
---------------------------------
==============  ======================  ==================================================
dataset         shape                   content
==============  ======================  ==================================================
``sequence``    ``(n, L + 2J)`` uint8   codes A0 C1 G2 T3 N4; L = input_length, J = max_jitter
``signal``      ``(n, T, S / bin)``     signal summed per ``profile_bin`` over
                                        ``S = max(profile_length, count_window) + 2J`` bases,
                                        task-major (each track's bins contiguous);
                                        uint16 (integral tracks), float32 or float16
``counts``      ``(n, T)`` float32      raw counts in the centred count window
``labels``      ``(n, T)`` uint8        as ``label_<task>``
``is_peak``     ``(n, T)`` uint8        as ``is_peak_<task>``
``centre``      ``(n,)`` int64          region centres
``source``      ``(n,)`` uint8          0 = peak, 1 = background
``origin``      ``(n,)`` int16          task whose summit is the centre (-1: background)
``gc``          ``(n,)`` float32        G+C fraction of the input window (N excluded)
``n_fraction``  ``(n,)`` float32        N fraction of the input window
==============  ======================  ==================================================

Rows are regions of one chromosome sorted by centre (``shard_row`` in ``regions.tsv.gz``).
Datasets are chunked by ``chunk_rows`` rows and, by default, compressed with HDF5's standard
byte-shuffle + deflate filters (any HDF5 reader decodes them; the writer compresses chunks in
parallel threads). Why HDF5: it is already a dependency, needs no TensorFlow to write (TFRecord
does), supports chunked compressed random access by row ranges (NPZ does not: a member is read
whole), is one self-describing file per scattered job, and is readable from numpy, PyTorch, R
and Julia. Readers stream chunk-aligned row blocks, so no split is ever loaded whole.

Targets and augmentation
------------------------
For an example with jitter offset ``o`` (a multiple of ``profile_bin`` in ``[-J, J]``; 0
without jitter):

* sequence = ``sequence[J + o : J + o + L]`` one-hot (N = all zeros);
* profile = stored bins of the ``profile_length`` window centred at ``centre + o``, each bin
  clipped at ``clipping.signal[task]`` (a quantile of positive training bins): float32
  ``(profile_length / profile_bin, T)`` (counts per bin);
* log_counts = ``log1p(min(sum of the unclipped bins of the count_window centred at
  centre + o, clipping.counts[task]))``;
* labels: float32 ``(T,)``, independent of jitter.

Reverse-complement augmentation (probability 1/2 per example) reverse-complements the one-hot
sequence and reverses the profile along its length axis (tracks are unstranded). Both are
exact because windows are centred on the same base. Everything is deterministic given
``seed`` (and, for the n-th pass over a non-repeating dataset, the pass number).

``dataset.json``
----------------
``format``, ``format_version``, ``study``, ``tasks``, ``samples`` (assay, cell type, files),
``input_length``, ``max_jitter``, ``sequence_stored_length`` (L + 2J), ``profile_length``,
``profile_bin``, ``profile_bins``, ``count_window``, ``signal_stored_length`` (S),
``signal_stored_bins``, ``label_window``, ``merge_distance``, ``encoding``, ``clipping``
(``counts_quantile``, ``counts`` per task, ``signal_quantile``, ``signal`` per task, computed on
training regions), ``split`` (chromosomes per split), ``folds``, ``n_regions`` (per split and
source), ``positives`` (per task and split), ``shards`` (chrom, path, split, rows, dtype, md5),
``checksums`` (md5 of regions.tsv.gz and every shard), ``params`` (the ``preprocess`` config).

Python API
----------
:class:`Dataset` (a directory: its typed :class:`DatasetMeta`, one :class:`Geometry`, the
region table), :class:`ShardWriter` (preprocessing), :func:`iter_numpy` (non-TF consumers:
centred, unaugmented, per shard piece), :func:`iter_batches` (numpy batches with shuffling and
augmentation) and :func:`make_tf_dataset` (a ``tf.data.Dataset`` over :func:`iter_batches`;
TensorFlow is imported by :mod:`seq2func.dataset.tf` only).
"""


from seq2func.dataset.geometry import Geometry
from seq2func.dataset.meta import (
    FORMAT,
    FORMAT_VERSION,
    SPLITS,
    Dataset,
    DatasetMeta,
    Fold,
    ShardInfo,
    as_dataset,
)
from seq2func.dataset.readers import (
    TARGETS,
    Selection,
    ShardPiece,
    average_peak_profile,
    iter_batches,
    iter_numpy,
    own_peaks,
    selection,
    steps_per_epoch,
)
from seq2func.dataset.shards import SHARD_DATASETS, ShardWriter, open_shard
from seq2func.dataset.tf import make_tf_dataset

__all__ = ["FORMAT", "FORMAT_VERSION", "SHARD_DATASETS", "SPLITS", "TARGETS", "Dataset",
           "DatasetMeta", "Fold", "Geometry", "Selection", "ShardInfo", "ShardPiece", "ShardWriter",
           "as_dataset", "average_peak_profile", "iter_batches", "iter_numpy", "make_tf_dataset",
           "open_shard", "own_peaks", "selection", "steps_per_epoch"]
