"""Provenance records: what produced a file, from which inputs, with which software.

A record is a small JSON file written next to every model, metric table and figure
(``<output>.provenance.json``). It holds the checksums of the inputs, the configuration (and its
hash), the versions of the packages that matter, the git commit of the workflow and the device.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from seq2func import __version__
from seq2func.core.io import file_checksum, write_text_atomic

TRACKED_PACKAGES = (
    "seq2func",
    "snakemake",
    "numpy",
    "pandas",
    "scipy",
    "pyBigWig",
    "pyfaidx",
    "pyranges",
    "scikit-learn",
    "matplotlib",
    "h5py",
    "tensorflow",
    "keras",
)


def package_versions(packages: Iterable[str] = TRACKED_PACKAGES) -> dict[str, str]:
    """Installed versions of ``packages`` (``"not installed"`` where absent)."""
    out: dict[str, str] = {}
    for pkg in packages:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def git_commit(path: str | Path | None = None) -> str:
    """The git commit of the repository holding ``path`` (``"unknown"`` outside git).

    A ``-dirty`` suffix marks uncommitted changes to tracked files.
    """
    cwd = Path(path) if path is not None else Path(__file__).resolve().parent
    if cwd.is_file():
        cwd = cwd.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                                text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, check=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("-dirty" if dirty.strip() else "")


def config_hash(config: Mapping[str, Any]) -> str:
    """SHA-256 (first 16 hex digits) of the configuration serialised with sorted keys."""
    blob = json.dumps(config, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def describe_inputs(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """Path, size and md5 of every input file (directories are skipped)."""
    out = []
    for p in paths:
        path = Path(p)
        if path.is_file():
            out.append({"path": str(path), "bytes": path.stat().st_size,
                        "md5": file_checksum(path, "md5")})
        else:
            out.append({"path": str(path), "bytes": None, "md5": None})
    return out


def make_record(
    *,
    step: str,
    inputs: Iterable[str | Path] = (),
    config: Mapping[str, Any] | None = None,
    device: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build a provenance record (see module docstring)."""
    record: dict[str, Any] = {
        "step": step,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seq2func_version": __version__,
        "git_commit": git_commit(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "host": platform.node(),
        "command": " ".join(sys.argv),
        "device": device or "cpu",
        "packages": package_versions(),
        "inputs": describe_inputs(inputs),
    }
    if config is not None:
        record["config_sha256_16"] = config_hash(config)
        record["config"] = json.loads(json.dumps(config, default=str))
    if extra:
        record.update(json.loads(json.dumps(dict(extra), default=str)))
    slurm = {k: v for k, v in os.environ.items() if k in ("SLURM_JOB_ID", "SLURM_JOB_PARTITION")}
    if slurm:
        record["slurm"] = slurm
    return record


def sidecar_path(output: str | Path) -> Path:
    """Where the provenance record of ``output`` lives: ``<output>.provenance.json``."""
    return Path(str(output) + ".provenance.json")


def write_provenance(output: str | Path, **kwargs: Any) -> Path:
    """Write the provenance record of ``output`` next to it (atomically) and return its path.

    Keyword arguments are passed to :func:`make_record`.
    """
    path = sidecar_path(output)
    record = make_record(**kwargs)
    write_text_atomic(path, json.dumps(record, indent=2, sort_keys=True) + "\n")
    return path
