"""Float32 copies of models: every saved or loaded-for-inference model computes in float32.

Training may run in mixed precision (``mixed_float16``: float16 compute, float32 variables), and
a ``.keras`` file stores each layer's policy, so a model saved as trained would compute in
float16 wherever it is loaded. :func:`as_float32` gives the same model with every layer's policy
set to ``float32`` and the same variables (the variables of a mixed-precision model are already
float32, so nothing is rounded); :func:`save_float32` saves that copy, and
:func:`seq2func.models.load_model` applies it to files saved in mixed precision by earlier
versions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras

#: policies a float32 copy replaces
MIXED_POLICIES = ("mixed_float16", "mixed_bfloat16", "float16", "bfloat16")
#: the serialised float32 policy, as Keras 3 writes it in a layer config
FLOAT32_POLICY = {"module": "keras", "class_name": "DTypePolicy",
                  "config": {"name": "float32"}, "registered_name": None}


def _float32_dtype(dtype: Any) -> Any:
    """A config's ``dtype`` entry made float32 if it is one of :data:`MIXED_POLICIES`: a
    serialised policy (a layer's) or a name (a layer's policy in older files, or the dtype of a
    serialised tensor)."""
    if isinstance(dtype, str):
        return "float32" if dtype in MIXED_POLICIES else dtype
    if (isinstance(dtype, dict) and "Policy" in str(dtype.get("class_name", ""))
            and dtype.get("config", {}).get("name") in MIXED_POLICIES):
        return dict(FLOAT32_POLICY)
    return float32_config(dtype)


def float32_config(config: Any) -> Any:
    """A copy of a (nested) Keras config with every low-precision policy and tensor dtype made
    float32."""
    if isinstance(config, dict):
        return {k: (_float32_dtype(v) if k == "dtype" else float32_config(v))
                for k, v in config.items()}
    if isinstance(config, list | tuple):
        return type(config)(float32_config(v) for v in config)
    return config


def low_precision_layers(model: keras.Model) -> list[str]:
    """Names of the layers (nested models included) whose compute dtype is not float32
    (input layers compute nothing: they are left out)."""
    return [layer.name for layer in model._flatten_layers(include_self=False)
            if not isinstance(layer, keras.layers.InputLayer)
            and layer.dtype_policy.compute_dtype != "float32"]


def as_float32(model: keras.Model) -> keras.Model:
    """``model`` itself if it computes in float32 throughout, else an uncompiled float32 copy
    with the same variables.

    Raises
    ------
    RuntimeError
        If the copy's variables do not match the model's (path or shape).
    """
    if not low_precision_layers(model):
        return model
    copy = type(model).from_config(float32_config(model.get_config()))
    source, target = model.variables, copy.variables
    if len(source) != len(target):
        raise RuntimeError(f"float32 copy of {model.name} has {len(target)} variables, "
                           f"the model {len(source)}")
    for s, t in zip(source, target, strict=True):
        # (seed generators are numbered process-wide: their paths differ, their order does not)
        same_path = s.path == t.path or ("seed_generator" in s.path
                                         and "seed_generator" in t.path)
        if not same_path or tuple(s.shape) != tuple(t.shape):
            raise RuntimeError(f"float32 copy of {model.name}: variable {t.path} {t.shape} "
                               f"does not match {s.path} {s.shape}")
        t.assign(keras.ops.cast(s.value, t.dtype))
    return copy


def save_float32(model: keras.Model, path: str | Path) -> None:
    """Save ``model`` as a float32 model (:func:`as_float32`) to ``path`` (``.keras``).

    A model that already computes in float32 is saved as is (with its optimizer state); a
    mixed-precision one is saved as an uncompiled float32 copy.
    """
    as_float32(model).save(path)
