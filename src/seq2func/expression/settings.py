"""Typed settings of the expression stage (the config's ``expression`` section).

:class:`ExpressionSettings` holds the whole section, with the nested sections as their own
settings (:class:`ChromatinSettings` and its :class:`PredictedModelSettings`,
:class:`ExpressionModelSpec`, :class:`BaselineSettings`,
:class:`~seq2func.train.settings.TrainSettings`); the schema gives every default.
:class:`ExpressionWindow` is the input geometry the section defines.

Example
-------
>>> s = ExpressionSettings.from_config({"upstream": 600, "chromatin": {"flank": 2000}})
>>> s.window.promoter_length, s.window.length, s.window.n_bins, s.model.seq_head
(4100, 5150, 8, 'binned_mean')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from seq2func.core.errors import ConfigError
from seq2func.core.settings import Settings
from seq2func.train.settings import TrainSettings

#: N bases between the promoter and the gene-end window in the model input (wider than any
#: first-layer kernel: no motif spans both parts)
SPACER = 50


@dataclass(frozen=True)
class ExpressionWindow:
    """Geometry of the model inputs around each TSS (and gene end).

    The sequence input is the promoter window, then (with a gene-end window) :data:`SPACER`
    N bases and the gene-end window, each read 5'->3' in the gene's orientation.

    Attributes
    ----------
    upstream, downstream
        Promoter window ``[TSS - upstream, TSS + downstream)``, read 5'->3'.
    chromatin_flank, chromatin_bin
        Chromatin window ``TSS +- chromatin_flank`` in bins of ``chromatin_bin`` bp.
    end_upstream, end_downstream
        Gene-end window: the last ``end_upstream`` bases of the gene (3' end of the ORF and
        UTR) and ``end_downstream`` bases past it (terminator); both 0: none.

    Raises
    ------
    ValueError
        For an inconsistent geometry (checked on construction).
    """

    upstream: int
    downstream: int
    chromatin_flank: int
    chromatin_bin: int
    end_upstream: int = 0
    end_downstream: int = 0

    def __post_init__(self) -> None:
        if self.upstream < 0 or self.downstream < 1:
            raise ValueError("upstream must be >= 0 and downstream >= 1")
        if self.chromatin_bin < 1 or (2 * self.chromatin_flank) % self.chromatin_bin:
            raise ValueError("2 * chromatin_flank must be a multiple of chromatin_bin")
        if self.end_upstream < 0 or self.end_downstream < 0:
            raise ValueError("end_upstream and end_downstream must be >= 0")

    @property
    def promoter_length(self) -> int:
        """Promoter window length (bp)."""
        return self.upstream + self.downstream

    @property
    def end_length(self) -> int:
        """Gene-end window length (bp; 0: no gene-end window)."""
        return self.end_upstream + self.end_downstream

    @property
    def spacer(self) -> int:
        """N bases between the two windows (0 without a gene-end window)."""
        return SPACER if self.end_length else 0

    @property
    def length(self) -> int:
        """Sequence input length (bp): promoter, spacer and gene-end window."""
        return self.promoter_length + self.spacer + self.end_length

    @property
    def n_bins(self) -> int:
        """Number of chromatin bins."""
        return 2 * self.chromatin_flank // self.chromatin_bin

    def record(self) -> dict[str, int]:
        """The sequence geometry as recorded next to a model (``run.json``)."""
        return {"upstream": self.upstream, "downstream": self.downstream,
                "end_upstream": self.end_upstream, "end_downstream": self.end_downstream,
                "spacer": self.spacer}


@dataclass(frozen=True)
class PredictedModelSettings(Settings):
    """The accessibility model whose predictions form the predicted chromatin (used by the
    workflow to pick the model files).

    Attributes
    ----------
    name
        Key of ``accessibility.models``.
    seeds
        Its seeds to average (empty: all seeds of the model).
    cross_fit
        With k-fold accessibility training (``accessibility.folds``), predict each gene with
        the fold models that held its chromosome out, so that training and test genes get
        out-of-sample predictions alike.
    """

    SECTION = "expression.chromatin.predicted_model"

    name: str
    seeds: list[int]
    cross_fit: bool


@dataclass(frozen=True)
class ChromatinSettings(Settings):
    """The chromatin input around each TSS (``expression.chromatin``).

    Attributes
    ----------
    flank, bin_size
        Window ``TSS +- flank`` in bins of ``bin_size`` bp.
    match
        Tracks feeding the input: ``name``, ``all`` or ``auto``
        (:func:`seq2func.expression.features.match_chromatin_samples`).
    predict_grid
        Predicted chromatin: model windows are centred on multiples of this (bp), so that
        genes whose chromatin windows overlap share them (each predicted once); a gene's bins
        move by at most ``predict_grid / 2``. ``None``: ``bin_size / 2``; 1: exact per-TSS
        tiling.
    warm_start
        How the chromatin variants start: ``frozen`` (from the trained ``seq_only`` of the
        same seed, its sequence tower fixed, the chromatin branch's output weights zero),
        ``fine_tune`` (the same start, every weight trained) or ``none`` (from scratch)
        (:func:`seq2func.expression.models.warm_start_from`).
    predicted_model
        Source of the predicted chromatin.
    """

    SECTION = "expression.chromatin"

    flank: int
    bin_size: int
    match: str
    predict_grid: int | None
    warm_start: str
    predicted_model: PredictedModelSettings

    @property
    def grid(self) -> int:
        """The predicted-chromatin grid in bp (:attr:`predict_grid` resolved)."""
        return self.predict_grid or max(1, self.bin_size // 2)


@dataclass(frozen=True)
class ExpressionModelSpec(Settings):
    """Sizes of the expression models (``expression.model``), built by
    :func:`seq2func.expression.models.build_expression_model`.

    Attributes
    ----------
    conv_filters, conv_kernels, pool_sizes
        Convolution and max-pooling blocks of the sequence tower (equal lengths).
    dense_units
        Units of the sequence tower's dense layer.
    seq_head
        ``binned_mean`` (mean of each filter in bins of ``head_bin`` bp, flattened: motif
        counts by position), ``flatten`` (Xpresso, position-aware) or ``global_max`` (max over
        positions).
    head_bin
        Bin width (bp of the input) of the ``binned_mean`` head.
    strand_max
        The first convolution scans both strands with shared filters
        (:class:`~seq2func.models.layers.StrandMaxConv1D`).
    capacity
        ``auto``: the first convolution's filters and the dense units follow the number of
        training genes (:func:`seq2func.expression.models.capacity_for`); ``fixed``: as
        configured.
    chromatin_filters, chromatin_kernel, chromatin_units
        The chromatin tower: one convolution, then a dense layer.
    dropout
        Dropout of the sequence tower.
    l2
        L2 penalty on the sequence tower's weights.
    """

    SECTION = "expression.model"

    conv_filters: list[int]
    conv_kernels: list[int]
    pool_sizes: list[int]
    seq_head: str
    head_bin: int
    strand_max: bool
    capacity: str
    dense_units: int
    chromatin_filters: int
    chromatin_kernel: int
    chromatin_units: int
    dropout: float
    l2: float


@dataclass(frozen=True)
class BaselineSettings(Settings):
    """The scikit-learn baselines (``expression.baselines``).

    They are fitted on the training genes only
    (:func:`seq2func.expression.baselines.baseline_predictions`).

    Attributes
    ----------
    k
        k-mer length of the k-mer ridge baseline (``4**k`` strand-specific features).
    """

    SECTION = "expression.baselines"

    k: int


@dataclass(frozen=True)
class ExpressionSettings(Settings):
    """The expression stage (``expression``).

    Attributes
    ----------
    upstream, downstream
        Promoter window around the TSS (see :class:`ExpressionWindow`).
    end_upstream, end_downstream
        Gene-end window around the gene's 3' end (both 0: none).
    samples
        Expression samples to model (empty: every column of the expression table).
    biotypes
        Gene biotypes to keep (empty: all).
    seeds, variants
        Replicate seeds and model variants of the ablation (used by the workflow).
    chromatin, model, baselines, train
        The nested sections.
    n_bootstrap
        Bootstrap replicates (resampling genes) of the metric intervals.

    Raises
    ------
    ValueError
        For an inconsistent window geometry (checked on construction; :meth:`from_config`
        raises it as a :class:`~seq2func.core.errors.ConfigError` naming the key).
    """

    SECTION = "expression"

    upstream: int
    downstream: int
    end_upstream: int
    end_downstream: int
    samples: list[str]
    biotypes: list[str]
    seeds: list[int]
    variants: list[str]
    chromatin: ChromatinSettings
    model: ExpressionModelSpec
    baselines: BaselineSettings
    n_bootstrap: int
    train: TrainSettings

    def __post_init__(self) -> None:
        _ = self.window  # a ValueError for an inconsistent geometry

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None = None, *, key: str | None = None,
                    source: str = "config") -> ExpressionSettings:
        """Build from the ``expression`` section; an inconsistent window is a ConfigError."""
        key = key or cls.SECTION
        try:
            return super().from_config(section, key=key, source=source)
        except ValueError as exc:
            chromatin = "chromatin" in str(exc)
            raise ConfigError(source, f"{key}.chromatin.bin_size" if chromatin
                              else f"{key}.upstream", str(exc),
                              "make 2 * chromatin.flank a multiple of chromatin.bin_size "
                              "(e.g. flank 10000, bin_size 500)" if chromatin
                              else "use upstream >= 0 and downstream >= 1") from None

    @property
    def window(self) -> ExpressionWindow:
        """The input geometry."""
        return ExpressionWindow(self.upstream, self.downstream, self.chromatin.flank,
                                self.chromatin.bin_size, self.end_upstream, self.end_downstream)
