"""Window geometry of a training set: one definition for the writer and every reader."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Geometry:
    """Window sizes in bases, and the stored windows derived from them.

    Every window is centred on the region centre. Shards store the sequence over
    :attr:`sequence_stored` bases and the signal, summed per ``profile_bin``, over
    :attr:`signal_stored` bases, so that examples can be jittered by up to ``max_jitter``
    (whole bins) without reading outside the stored rows.

    Attributes
    ----------
    input_length
        Model input window (even).
    max_jitter
        Largest random shift (a multiple of ``profile_bin``).
    profile_length
        Profile target window (even, a multiple of ``profile_bin``, <= ``input_length``).
    count_window
        Window whose signal sum is the count target.
    profile_bin
        Bases summed per stored signal bin (1: base resolution).
    label_window
        A task's label is 1 if one of its summits lies within this central window.
    """

    input_length: int
    max_jitter: int
    profile_length: int
    count_window: int
    profile_bin: int
    label_window: int

    @property
    def sequence_stored(self) -> int:
        """Stored sequence bases per region: ``input_length + 2 * max_jitter``."""
        return self.input_length + 2 * self.max_jitter

    @property
    def signal_width(self) -> int:
        """The wider of the profile and count windows."""
        return max(self.profile_length, self.count_window)

    @property
    def signal_stored(self) -> int:
        """Stored signal bases per region: ``signal_width + 2 * max_jitter``."""
        return self.signal_width + 2 * self.max_jitter

    @property
    def signal_bins(self) -> int:
        """Stored signal bins per region and task."""
        return self.signal_stored // self.profile_bin

    @property
    def extent(self) -> int:
        """Width of the widest stored window (every region filter uses it)."""
        return max(self.sequence_stored, self.signal_stored)

    @property
    def profile_bins(self) -> int:
        """Bins of the profile target."""
        return self.profile_length // self.profile_bin

    @property
    def count_bins(self) -> int:
        """Bins summed into the count target."""
        return self.count_window // self.profile_bin

    @property
    def profile_offset_bins(self) -> int:
        """First stored bin of the centred (unjittered) profile window."""
        offset = self.max_jitter + (self.signal_width - self.profile_length) // 2
        return offset // self.profile_bin

    @property
    def count_offset_bins(self) -> int:
        """First stored bin of the centred count window."""
        offset = self.max_jitter + (self.signal_width - self.count_window) // 2
        return offset // self.profile_bin

    @property
    def max_shift_bins(self) -> int:
        """Largest jitter in bins."""
        return self.max_jitter // self.profile_bin

    def to_meta(self) -> dict[str, int]:
        """The geometry keys of ``dataset.json``, in their documented order."""
        return {"input_length": self.input_length, "max_jitter": self.max_jitter,
                "sequence_stored_length": self.sequence_stored,
                "profile_length": self.profile_length, "profile_bin": self.profile_bin,
                "profile_bins": self.profile_bins, "count_window": self.count_window,
                "signal_stored_length": self.signal_stored,
                "signal_stored_bins": self.signal_bins, "label_window": self.label_window}

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> Geometry:
        """The geometry recorded in a ``dataset.json`` mapping."""
        return cls(input_length=int(meta["input_length"]), max_jitter=int(meta["max_jitter"]),
                   profile_length=int(meta["profile_length"]),
                   count_window=int(meta["count_window"]), profile_bin=int(meta["profile_bin"]),
                   label_window=int(meta["label_window"]))
