"""Model specifications: the entries of the config's ``accessibility.models``.

An entry names an ``architecture`` (``basset`` or ``bpnet``) and that architecture's sizes. The
schema (``workflow/schemas/config.schema.yaml``) is the one source of the sizes' defaults: one
``if architecture = X then`` branch per architecture gives the defaults of its keys (and so says
which keys belong to it). :class:`BassetSpec` and :class:`BPNetSpec` are the typed sizes,
:class:`ModelSpec` one entry with its name.

Example
-------
>>> spec = ModelSpec.from_config("small", {"architecture": "bpnet", "filters": 16})
>>> spec.sizes.filters, spec.sizes.n_dilated_layers
(16, 8)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from seq2func.core.errors import ConfigError
from seq2func.core.settings import Settings, section_schema, with_defaults

#: dotted config key of the model entries
MODELS_KEY = "accessibility.models"
#: schema section of one entry
ENTRY_SECTION = "accessibility.models.*"
#: keys every entry may carry besides its architecture's sizes
COMMON_KEYS = ("architecture", "seeds", "max_epochs")


def architectures() -> tuple[str, ...]:
    """The architectures the schema knows, in its order."""
    return tuple(section_schema(ENTRY_SECTION)["properties"]["architecture"]["enum"])


def architecture_defaults(architecture: str) -> dict[str, Any]:
    """The sizes of ``architecture`` and their defaults (its ``then`` branch in the schema).

    Raises
    ------
    KeyError
        If the schema has no branch for ``architecture``.
    """
    for branch in section_schema(ENTRY_SECTION).get("allOf", []):
        if branch["if"]["properties"]["architecture"].get("const") == architecture:
            return {k: v["default"] for k, v in branch["then"]["properties"].items()}
    raise KeyError(f"the config schema has no defaults for architecture {architecture!r}")


def check_entry(name: str, entry: Mapping[str, Any], source: str = "config") -> dict[str, Any]:
    """One entry of ``accessibility.models``, checked and completed with its defaults.

    Parameters
    ----------
    name
        The model's name (its key in ``accessibility.models``).
    entry
        The entry as in the config: ``architecture``, optional ``seeds`` and sizes.
    source
        The config file, for error messages.

    Returns
    -------
    dict
        A copy of the entry with every size of its architecture.

    Raises
    ------
    ConfigError
        Naming ``accessibility.models.<name>.<key>`` for an unknown architecture, a key of the
        other architecture (or of none), a wrong type or a bad value.
    """
    where = f"{MODELS_KEY}.{name}"
    arch = entry.get("architecture")
    known = architectures()
    if arch not in known:
        raise ConfigError(source, f"{where}.architecture", f"{arch!r} is not a known architecture",
                          f"use {' or '.join(repr(a) for a in known)}")
    allowed = set(architecture_defaults(str(arch))) | set(COMMON_KEYS)
    for key in entry:
        if key not in allowed:
            raise ConfigError(source, f"{where}.{key}", f"not a setting of a {arch} model",
                              f"allowed: {', '.join(sorted(allowed))}")
    # validated inside its section, so that errors name the entry by its name
    section = with_defaults({"models": {name: dict(entry)}}, "accessibility", source)
    return section["models"][name]


@dataclass(frozen=True, init=False)
class ArchitectureSpec(Settings):
    """Base of the sizes of one architecture (its keys of an ``accessibility.models`` entry).

    Build one with :meth:`from_config` from an entry, or directly from any of its sizes as
    keyword arguments: either way the others take the schema's defaults of the architecture,
    and all are validated (a :class:`~seq2func.core.errors.ConfigError` naming the key).
    """

    SECTION = ENTRY_SECTION
    #: the ``architecture`` value these sizes belong to
    ARCHITECTURE: ClassVar[str] = ""

    def __init__(self, **sizes: Any) -> None:
        values = check_entry(self.ARCHITECTURE, {"architecture": self.ARCHITECTURE, **sizes})
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, values[f.name])

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None = None, *, key: str | None = None,
                    source: str = "config") -> ArchitectureSpec:
        """From an entry of ``accessibility.models`` (``architecture`` may be left out).

        Parameters
        ----------
        section
            The entry; ``seeds`` is ignored.
        key
            Its dotted key, ``accessibility.models.<name>`` (for error messages; default: the
            architecture as the name).
        source
            The config file, for error messages.
        """
        name = (key or f"{MODELS_KEY}.{cls.ARCHITECTURE}").removeprefix(f"{MODELS_KEY}.")
        values = check_entry(name, {"architecture": cls.ARCHITECTURE, **(section or {})}, source)
        if values["architecture"] != cls.ARCHITECTURE:
            raise ValueError(f"{cls.__name__} holds {cls.ARCHITECTURE} sizes, not "
                             f"{values['architecture']} ones (see SPECS)")
        return cls._from_values(values)

    @classmethod
    def _from_values(cls, values: Mapping[str, Any]) -> ArchitectureSpec:
        return cls(**{f.name: values[f.name] for f in dataclasses.fields(cls)})


@dataclass(frozen=True, init=False)
class BassetSpec(ArchitectureSpec):
    """Sizes of a Basset-style classifier (:func:`seq2func.models.basset.build_basset`).

    Attributes
    ----------
    conv_filters, conv_kernels, pool_sizes
        Filters, kernel width and max-pool width of each convolution block (equal lengths).
    dense_units
        Units of the dense layer.
    dropout
        Dropout rate before the output.
    """

    ARCHITECTURE = "basset"

    conv_filters: list[int]
    conv_kernels: list[int]
    pool_sizes: list[int]
    dense_units: int
    dropout: float


@dataclass(frozen=True, init=False)
class BPNetSpec(ArchitectureSpec):
    """Sizes of a BPNet-style model (:func:`seq2func.models.bpnet.build_bpnet`).

    Attributes
    ----------
    filters
        Channels of every convolution.
    conv1_kernel
        Width of the first convolution.
    n_dilated_layers
        Residual dilated convolutions (dilation ``2**i``).
    profile_kernel
        Width of the profile head's convolution.
    counts_loss_weight
        Weight of the count loss against the profile loss, or ``auto``
        (:func:`seq2func.models.builder.auto_counts_loss_weight`).
    counts_head
        ``gap`` (global average pooling and a dense layer, as BPNet) or ``logsumexp``
        (per-base log-rates summed over the window).
    background_sampling_ratio
        Background regions trained per peak region in each epoch, drawn afresh every epoch
        (None: all of them every epoch).
    profile_prior
        Whether the profile head adds a learnt logit per bin and task, started at the log of
        the training peaks' average profile (:func:`seq2func.models.bpnet.set_profile_prior`).
    """

    ARCHITECTURE = "bpnet"

    filters: int
    conv1_kernel: int
    n_dilated_layers: int
    profile_kernel: int
    counts_loss_weight: float | str
    counts_head: str
    background_sampling_ratio: float | None
    profile_prior: bool


#: ChromBPNet's bias thresholds by assay (the recommended starts of its ``bias_threshold_factor``)
BIAS_THRESHOLD_BY_ASSAY = {"ATAC": 0.5, "DNASE": 0.8}
#: the factor of assays ChromBPNet gives no recommendation for
BIAS_THRESHOLD_OTHER = 0.5


@dataclass(frozen=True)
class BiasSpec:
    """The enzyme-bias model of a ``chrombpnet`` entry (its ``bias`` mapping; schema defaults).

    Attributes
    ----------
    filters, conv1_kernel, n_dilated_layers, profile_kernel, counts_head
        Sizes of the bias BPNet (:func:`seq2func.models.chrombpnet.build_bias_model`).
    threshold_factor
        Training background has counts below this x the 1% quantile of peak counts (per task);
        ``None``: by assay (:data:`BIAS_THRESHOLD_BY_ASSAY`).
    group_by
        ``sample`` (one head per task) or ``assay`` (one head per assay, shared).
    pretrained
        A bias ``model.keras`` trained before, or ``None`` (train one).
    max_epochs
        Epochs of bias training at most.
    """

    filters: int
    conv1_kernel: int
    n_dilated_layers: int
    profile_kernel: int
    counts_head: str
    threshold_factor: float | None
    group_by: str
    pretrained: str | None
    max_epochs: int

    def factor(self, assay: str) -> float:
        """The threshold factor of a task of ``assay``."""
        if self.threshold_factor is not None:
            return float(self.threshold_factor)
        return BIAS_THRESHOLD_BY_ASSAY.get(assay.upper(), BIAS_THRESHOLD_OTHER)

    def network(self) -> BPNetSpec:
        """The bias model's sizes as a BPNet (count loss weight resolved when training)."""
        return BPNetSpec(filters=self.filters, conv1_kernel=self.conv1_kernel,
                         n_dilated_layers=self.n_dilated_layers,
                         profile_kernel=self.profile_kernel, counts_head=self.counts_head,
                         profile_prior=False)


@dataclass(frozen=True, init=False)
class ChromBPNetSpec(BPNetSpec):
    """A ``chrombpnet`` model: a bias-free BPNet (the sizes of :class:`BPNetSpec`) on top of a
    frozen bias model, ``bias`` (a :class:`BiasSpec`)."""

    ARCHITECTURE = "chrombpnet"

    bias: BiasSpec

    def __init__(self, **sizes: Any) -> None:
        values = check_entry(self.ARCHITECTURE, {"architecture": self.ARCHITECTURE, **sizes})
        for f in dataclasses.fields(self):
            value = values[f.name]
            object.__setattr__(self, f.name, BiasSpec(**value) if f.name == "bias" else value)

    @classmethod
    def _from_values(cls, values: Mapping[str, Any]) -> ArchitectureSpec:
        sizes = {f.name: values[f.name] for f in dataclasses.fields(cls)}
        return cls(**{**sizes, "bias": dict(values["bias"])})

    def to_config(self) -> dict[str, Any]:
        """The sizes as a plain mapping (``bias`` too)."""
        return {f.name: (dataclasses.asdict(self.bias) if f.name == "bias"
                         else getattr(self, f.name)) for f in dataclasses.fields(self)}

    def nobias(self) -> BPNetSpec:
        """The bias-free model's sizes as a BPNet."""
        return BPNetSpec(**{f.name: getattr(self, f.name) for f in dataclasses.fields(BPNetSpec)})


#: the sizes class of each architecture
SPECS: dict[str, type[ArchitectureSpec]] = {
    s.ARCHITECTURE: s for s in (BassetSpec, BPNetSpec, ChromBPNetSpec)}


@dataclass(frozen=True)
class ModelSpec:
    """One model of the config: its name, architecture and sizes.

    Attributes
    ----------
    name
        The key in ``accessibility.models`` (becomes file names).
    architecture
        ``basset`` or ``bpnet``.
    params
        The sizes as given (may leave some out); :attr:`sizes` completes them.
    """

    name: str
    architecture: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, name: str, entry: Mapping[str, Any], source: str = "config"
                    ) -> ModelSpec:
        """A checked entry of ``accessibility.models`` (see :func:`check_entry`); its
        ``seeds`` and ``max_epochs`` are the workflow's business (which runs, and their
        training settings) and are dropped."""
        check_entry(name, entry, source)
        return cls(name, str(entry["architecture"]),
                   {k: v for k, v in entry.items() if k not in COMMON_KEYS})

    @property
    def sizes(self) -> ArchitectureSpec:
        """The architecture's complete, validated sizes."""
        values = check_entry(self.name, {"architecture": self.architecture, **self.params})
        return SPECS[self.architecture]._from_values(values)

    def outputs(self) -> tuple[str, ...]:
        """Target names this model predicts (outputs of :mod:`seq2func.dataset`)."""
        return ("labels",) if self.architecture == "basset" else ("profile", "log_counts")

    @property
    def factorised(self) -> bool:
        """Whether the model has a frozen bias model (``chrombpnet``)."""
        return self.architecture == "chrombpnet"

    def to_config(self) -> dict[str, Any]:
        """The entry as given (``architecture`` and the given sizes), e.g. for run records."""
        return {"architecture": self.architecture, **self.params}
