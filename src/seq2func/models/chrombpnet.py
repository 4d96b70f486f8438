"""ChromBPNet's factorisation: an enzyme-bias model, frozen, plus a bias-free accessibility model.

Cut sites of ATAC-seq (Tn5) and DNase-seq (DNase I) carry the enzyme's sequence preference.
ChromBPNet (Pampari et al., kundajelab/chrombpnet) separates it out:

1. a small **bias model** (a BPNet with a small receptive field, :func:`build_bias_model`) is
   trained on background regions only - windows without peaks whose counts are low - where
   the cuts are mostly enzyme preference;
2. it is frozen and combined (:func:`combine`) with a **bias-free model** (a BPNet): the
   combined profile logits are the sum of both models' logits, the combined log counts the
   log-sum-exp of both (counts add); the combination is trained on peaks and background.

The combined model is what is compared with observed counts and profiles; the bias-free model
(:func:`bias_free`, saved as ``nobias.keras``) is what tracks, attributions, TF-MoDISco, variant
scores and in-silico experiments use, since its predictions are free of the enzyme's preference.

Bias heads and tasks: the bias model has one head per *bias group*; a task's bias is the head of
its group (:class:`SelectTasks`). Groups are the samples themselves (one bias per sample, as
ChromBPNet trains it) or the assays (samples of one assay share one bias, learnt from all of
their background; ``bias.group_by: assay``).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from seq2func.models.bpnet import build_bpnet
from seq2func.models.layers import LogAddExp, SelectTasks
from seq2func.models.specs import BPNetSpec, ChromBPNetSpec

#: names of the two nested models inside a combined model
BIAS, NOBIAS = "bias", "nobias"


def build_bias_model(input_length: int, n_groups: int, profile_length: int, profile_bin: int,
                     spec: BPNetSpec, mean_log_counts: Sequence[float] | None = None
                     ) -> keras.Model:
    """The bias model: a BPNet (``spec``: small kernels, few dilated layers) with one head per
    bias group, named :data:`BIAS`.

    Its receptive field is ``conv1_kernel + 2 * sum(2**i) + profile_kernel - 1`` bases for
    ``i = 1..n_dilated_layers``: small enough that it cannot learn the motifs of transcription
    factors that open chromatin, only the local sequence preference of the enzyme.
    """
    return build_bpnet(input_length, n_groups, profile_length, profile_bin, spec, name=BIAS,
                       mean_log_counts=mean_log_counts)


def receptive_field(spec: BPNetSpec) -> int:
    """Bases of input that one output position of a BPNet with ``spec`` depends on."""
    dilated = 2 * sum(2**i for i in range(1, spec.n_dilated_layers + 1))
    return spec.conv1_kernel + dilated + spec.profile_kernel - 1


def combine(bias_model: keras.Model, nobias_model: keras.Model,
            task_groups: Sequence[int] | None = None, name: str = "chrombpnet") -> keras.Model:
    """The combined model: frozen bias plus bias-free, outputs ``profile`` and ``log_counts``.

    Parameters
    ----------
    bias_model
        A trained bias model (:func:`build_bias_model`); it is frozen here.
    nobias_model
        The bias-free BPNet (outputs ``profile`` logits ``[B, bins, T]`` and ``log_counts``
        ``[B, T]``); renamed :data:`NOBIAS`.
    task_groups
        For each task, its bias head (``None``: one head per task, in task order).
    name
        The combined model's name.
    """
    bias_model.trainable = False
    bias_model.name = BIAS
    nobias_model.name = NOBIAS
    inp = keras.Input(tuple(nobias_model.inputs[0].shape[1:]), name="sequence")
    bias = bias_model(inp, training=False)
    main = nobias_model(inp)
    bias_profile, bias_counts = bias["profile"], bias["log_counts"]
    n_tasks = main["log_counts"].shape[-1]
    groups = list(range(n_tasks)) if task_groups is None else [int(g) for g in task_groups]
    if groups != list(range(bias_counts.shape[-1])):
        bias_profile = SelectTasks(groups, name="bias_profile_of_tasks")(bias_profile)
        bias_counts = SelectTasks(groups, name="bias_counts_of_tasks")(bias_counts)
    profile = layers.Add(dtype="float32", name="profile")([main["profile"], bias_profile])
    counts = LogAddExp(name="log_counts")([main["log_counts"], bias_counts])
    return keras.Model(inp, {"profile": profile, "log_counts": counts}, name=name)


def build_chrombpnet(bias_model: keras.Model, input_length: int, n_tasks: int,
                     profile_length: int, profile_bin: int, spec: ChromBPNetSpec,
                     task_groups: Sequence[int] | None = None, name: str = "chrombpnet",
                     mean_log_counts: Sequence[float] | None = None) -> keras.Model:
    """A chrombpnet model to train: a new bias-free BPNet (``spec``'s sizes) combined
    (:func:`combine`) with ``bias_model``, which is frozen."""
    nobias = build_bpnet(input_length, n_tasks, profile_length, profile_bin, spec.nobias(),
                         name=NOBIAS, mean_log_counts=mean_log_counts)
    return combine(bias_model, nobias, task_groups, name=name)


def bias_free(model: keras.Model) -> keras.Model:
    """The bias-free model inside a combined model (its :data:`NOBIAS` layer)."""
    return model.get_layer(NOBIAS)


def bias_of(model: keras.Model) -> keras.Model:
    """The frozen bias model inside a combined model (its :data:`BIAS` layer)."""
    return model.get_layer(BIAS)


def task_view(bias_model: keras.Model, task_groups: Sequence[int]) -> keras.Model:
    """A bias model with one output track per task (each task's head), for code that reads
    models task by task (attributions, QC); the identity mapping returns the model itself."""
    groups = [int(g) for g in task_groups]
    if groups == list(range(bias_model.output["log_counts"].shape[-1])):
        return bias_model
    inp = keras.Input(tuple(bias_model.inputs[0].shape[1:]), name="sequence")
    out = bias_model(inp)
    return keras.Model(inp, {"profile": SelectTasks(groups, name="profile")(out["profile"]),
                             "log_counts": SelectTasks(groups, name="log_counts")(
                                 out["log_counts"])}, name=f"{bias_model.name}_by_task")
