"""Settings of preprocessing (the config's ``preprocess`` section)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from seq2func.core.chroms import exclusion_regex
from seq2func.core.errors import ConfigError
from seq2func.core.settings import Settings
from seq2func.dataset.geometry import Geometry


@dataclass(frozen=True)
class PreprocessSettings(Settings):
    """Window sizes, region selection, clipping and storage of a training set.

    Every field is a key of ``preprocess`` (``config/README.md``; defaults from the schema).
    :meth:`from_config` resolves ``count_window: null`` to ``profile_length`` and checks the
    relations between sizes that the schema cannot express (even windows, multiples of
    ``profile_bin``, windows inside the input).
    """

    SECTION = "preprocess"

    input_length: int
    max_jitter: int
    profile_length: int
    profile_bin: int
    count_window: int | None
    label_window: int
    merge_distance: int
    background_ratio: float
    gc_bins: int
    blacklist_flank: int
    max_n_fraction: float
    counts_clip_quantile: float | None
    profile_clip_quantile: float | None
    max_peaks_per_sample: int | None
    chromosomes: list[str]
    exclude_chromosomes: str | None
    negative_signal: str
    allow_empty_peaks: bool
    signal_dtype: str
    compression: str
    chunk_rows: int
    group_bases: int
    seed: int

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None = None, *, key: str | None = None,
                    source: str = "config") -> PreprocessSettings:
        """Build from the ``preprocess`` section and check the size relations."""
        s = super().from_config(section, key=key, source=source)
        if s.count_window is None:
            s = dataclasses.replace(s, count_window=s.profile_length)
        s.check_sizes(source)
        return s

    def check_sizes(self, source: str = "config") -> None:
        """Raise a :class:`ConfigError` naming the key for inconsistent window sizes."""

        def bad(key: str, problem: str, fix: str) -> ConfigError:
            return ConfigError(source, f"preprocess.{key}", problem, fix)

        cw = int(self.count_window or self.profile_length)
        for key, val in (("input_length", self.input_length),
                         ("profile_length", self.profile_length), ("count_window", cw)):
            if val % 2:
                raise bad(key, f"{val} is odd", "use an even number so windows share a centre "
                                                "(reverse complement stays exact)")
        b = self.profile_bin
        for key, val in (("profile_length", self.profile_length), ("count_window", cw),
                         ("max_jitter", self.max_jitter)):
            if val % b:
                raise bad(key, f"{val} is not a multiple of profile_bin ({b})",
                          "use multiples of profile_bin (jitter moves by whole bins)")
        if (max(self.profile_length, cw) - min(self.profile_length, cw)) % (2 * b):
            raise bad("count_window", "profile_length and count_window differ by an odd "
                                      "number of bins", "make their difference a multiple "
                                                        "of 2 * profile_bin")
        if max(self.profile_length, cw) > self.input_length:
            raise bad("profile_length", "profile_length and count_window must not exceed "
                                        "input_length", "shorten them or lengthen the input")
        exclusion_regex(self.exclude_chromosomes, source)

    @property
    def geometry(self) -> Geometry:
        """The window geometry of the training set these settings build."""
        return Geometry(self.input_length, self.max_jitter, self.profile_length,
                        int(self.count_window or self.profile_length), self.profile_bin,
                        self.label_window)
