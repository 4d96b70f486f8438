"""Keras 3 models of chromatin accessibility, and the loading shared with expression models.

Two families, chosen by ``architecture`` in the config (``accessibility.models``):

* ``basset`` - a Basset-style multitask classifier (:mod:`~seq2func.models.basset`): one logit
  per task (output ``labels``), trained with binary cross-entropy on peak labels;
* ``bpnet`` - a BPNet/ChromBPNet-style dilated residual network (:mod:`~seq2func.models.bpnet`)
  with a base-resolution (optionally binned) profile head (output ``profile``: logits
  ``[B, bins, T]``, multinomial NLL against observed counts) and a total-count head (output
  ``log_counts``: ``[B, T]``, MSE).

Output names equal the target names of :mod:`seq2func.dataset`, so ``model.fit`` pairs them by
name. Modules: :mod:`~seq2func.models.specs` (the config entries and their typed sizes),
:mod:`~seq2func.models.builder` (model, losses and loss weights from a spec),
:mod:`~seq2func.models.layers` (the custom Keras objects), :mod:`~seq2func.models.precision`
(float32 copies of mixed-precision models: every model is saved and loaded for inference in
float32), :mod:`~seq2func.models.ensemble` (safe-mode loading, seed ensembles) and
:mod:`~seq2func.models.predict` (strand-averaged predictions). Importing this package
registers every custom object with Keras, so models load with ``safe_mode=True`` (no arbitrary
code from files).

Example
-------
>>> from seq2func.dataset import Geometry
>>> from seq2func.models import ModelSpec, build_accessibility_model
>>> spec = ModelSpec.from_config("small", {"architecture": "basset", "conv_filters": [8],
...                                        "conv_kernels": [5], "pool_sizes": [4]})
>>> geometry = Geometry(input_length=100, max_jitter=0, profile_length=100, count_window=100,
...                     profile_bin=1, label_window=50)
>>> build_accessibility_model(spec, geometry, n_tasks=2).output["labels"].shape
(None, 2)
"""

from seq2func.models.basset import build_basset
from seq2func.models.bpnet import build_bpnet
from seq2func.models.builder import auto_counts_loss_weight, build_accessibility_model, losses_for
from seq2func.models.ensemble import ENSEMBLE_KINDS, load_ensemble, load_model
from seq2func.models.layers import (
    CenterCrop1D,
    EnsembleMean,
    LogSumExpBin,
    LogSumExpPool,
    MultinomialNLL,
)
from seq2func.models.precision import as_float32, save_float32
from seq2func.models.predict import (
    output_submodel,
    predict_batched,
    predict_both_strands,
    predict_split,
    reverse_complement_onehot,
)
from seq2func.models.specs import SPECS, BassetSpec, BPNetSpec, ModelSpec

__all__ = ["ENSEMBLE_KINDS", "SPECS", "BPNetSpec", "BassetSpec", "CenterCrop1D", "EnsembleMean",
           "LogSumExpBin", "LogSumExpPool", "ModelSpec", "MultinomialNLL", "as_float32",
           "auto_counts_loss_weight", "build_accessibility_model", "build_basset", "build_bpnet",
           "load_ensemble", "load_model", "losses_for", "output_submodel", "predict_batched",
           "predict_both_strands", "predict_split", "reverse_complement_onehot", "save_float32"]
