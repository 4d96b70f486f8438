"""Fetch public files by ENCODE accession, URL or local path: verified, resumable, recorded.

One call of :func:`fetch` puts one file in place:

1. **Resolve** the source (:func:`~seq2func.download.sources.parse_source`). For ENCODE files
   the per-file metadata (:mod:`seq2func.download.encode`) gives the download link, md5, size
   and assembly; an assembly other than the configured one is refused before a byte is
   downloaded.
2. **Mirror / offline**: if a mirror directory is configured and holds the file (same name, or a
   name starting with the accession), it is copied from there and never downloaded.
   With ``offline`` set, a file that is in neither place is an error (see
   :func:`~seq2func.download.sources.missing_offline`, which the workflow uses to list *every*
   missing file at once).
3. **Download** over HTTPS into ``<dest>.part`` with retries, backoff and resume
   (:mod:`seq2func.download.http`).
4. **Verify** size and md5 (from the config, from ENCODE's metadata, or from the provenance
   record of a mirrored copy). On a mismatch the partial file is deleted; after a resumed
   transfer the file is downloaded once more from scratch before giving up.
5. **Move atomically** into place and write ``<dest>.provenance.json`` (URL, accession, md5,
   size, date, assembly, where it came from); :func:`read_download_record` reads it back.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from seq2func.core.io import file_checksum
from seq2func.core.provenance import sidecar_path, write_provenance
from seq2func.download.encode import check_encode_file, encode_download_url, encode_metadata
from seq2func.download.errors import DownloadError
from seq2func.download.http import TransferStats, http_download
from seq2func.download.settings import SETTINGS_ENV, DownloadSettings
from seq2func.download.sources import MD5, FileSpec, Source, find_in_mirror, parse_source

# SETTINGS_ENV and DownloadSettings are re-exported for workflow/rules/download.smk, which
# imports them from here until it imports them from seq2func.download
__all__ = ["SETTINGS_ENV", "DownloadSettings", "fetch", "read_download_record",
           "source_records"]

log = logging.getLogger(__name__)

#: the keys of a download record that an ingested file's provenance repeats for each source
SOURCE_KEYS = ("source", "role", "accession", "url", "md5", "bytes", "assembly",
               "retrieved_utc", "via", "verified")


def fetch(spec: FileSpec, dest: str | os.PathLike[str], settings: DownloadSettings,
          *, role: str | None = None) -> dict[str, Any]:
    """Fetch one file into ``dest``, verified, and record where it came from.

    Parameters
    ----------
    spec
        Source and optional md5/size.
    dest
        Final path; written atomically (partial downloads live in ``dest + ".part"``).
    settings
        Transport settings.
    role
        What the file is for (``genome``, ``signal``, ...), recorded in the provenance.

    Returns
    -------
    dict
        The download record also written to ``dest + ".provenance.json"``.

    Raises
    ------
    DownloadError
        When the file cannot be fetched or fails verification; no file is left at ``dest``.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    src = parse_source(spec.source)
    record: dict[str, Any] = {
        "source": spec.source, "role": role, "accession": src.accession, "url": None,
        "md5": None, "md5_expected_from": "config" if spec.md5 else None, "bytes": None,
        "assembly": None, "retrieved_utc": None, "via": None,
    }
    if src.kind == "local":
        _fetch_local(src, spec, dest, record)
    elif settings.mirror and (hit := find_in_mirror(settings.mirror, spec.source, dest.name)):
        _fetch_mirrored(hit, spec, dest, record)
    elif settings.offline:
        where = f"not in the mirror {settings.mirror}" if settings.mirror else "no mirror is set"
        raise DownloadError(spec.source, f"offline mode and {where}",
                            "fetch the file on a machine with internet (snakemake --until "
                            "download) and copy resources/<study>/downloads/ into the mirror")
    else:
        _fetch_network(src, spec, dest, settings, record)
    return _finish(dest, record, spec)


def _fetch_local(src: Source, spec: FileSpec, dest: Path, record: dict[str, Any]) -> None:
    """Link or copy a local file into place, verified."""
    assert src.path is not None
    if not src.path.is_file():
        raise DownloadError(spec.source, f"local file {src.path} does not exist",
                            "fix the path (relative paths are relative to the working "
                            "directory of the workflow)")
    record["md5"] = _verify(src.path, spec.source, spec.md5, spec.size, str(src.path))
    record["how"] = _copy(src.path, dest)
    record["via"] = "local"
    record["url"] = src.path.resolve().as_uri()


def _fetch_mirrored(hit: Path, spec: FileSpec, dest: Path, record: dict[str, Any]) -> None:
    """Link or copy a mirrored copy into place, verified (against its provenance if need be)."""
    side = _read_sidecar(hit)
    prev = (side or {}).get("download") or {}
    md5 = spec.md5
    if md5 is None:
        recorded = prev.get("md5")
        if isinstance(recorded, str) and MD5.match(recorded):
            md5 = recorded
            record["md5_expected_from"] = "mirror provenance"
    record["md5"] = _verify(hit, spec.source, md5, spec.size, f"mirrored copy {hit}")
    record["how"] = _copy(hit, dest)
    record["via"] = "mirror"
    record["url"] = hit.resolve().as_uri()
    if side is not None:
        record["original"] = {k: prev.get(k) for k in
                              ("url", "md5", "retrieved_utc", "assembly", "encode")}
        record["assembly"] = prev.get("assembly")


def _fetch_network(src: Source, spec: FileSpec, dest: Path, settings: DownloadSettings,
                   record: dict[str, Any]) -> None:
    """Download a URL or an ENCODE file (metadata first) into place, verified."""
    md5, size = spec.md5, spec.size
    if src.kind == "encode":
        assert src.accession is not None
        meta = encode_metadata(src.accession, settings)
        record["encode"] = meta
        record["assembly"] = meta.get("assembly")
        check_encode_file(meta, spec.source, settings)
        enc_md5 = meta.get("md5sum")
        if md5 and enc_md5 and md5 != enc_md5:
            raise DownloadError(spec.source, f"configured md5 {md5} differs from ENCODE's "
                                f"{enc_md5}", "fix or remove the md5 in the config")
        if md5 is None and enc_md5:
            md5 = enc_md5
            record["md5_expected_from"] = "ENCODE metadata"
        if size is None and isinstance(meta.get("file_size"), int):
            size = meta["file_size"]
        url = encode_download_url(meta, settings)
    else:
        url = src.url or ""
    record["url"] = url
    digest, stats = _download_verified(url, dest, settings, spec.source, md5, size)
    record["via"] = "network"
    record["transfer"] = asdict(stats)
    record["md5"] = digest


def _download_verified(url: str, dest: Path, settings: DownloadSettings, source: str,
                       md5: str | None, size: int | None) -> tuple[str, TransferStats]:
    """Download ``url`` via ``dest.part``, verify it and move it to ``dest``.

    A file that fails verification after a resumed transfer is downloaded once more from the
    start (the resumed bytes may have come from another version of the file).

    Returns
    -------
    tuple
        The md5 of the file and the transfer statistics.
    """
    part = dest.with_name(dest.name + ".part")
    what = f"the download of {url}"
    stats = http_download(url, part, settings, source, size)
    try:
        digest = _verify(part, source, md5, size, what)
    except DownloadError:
        if not stats.resumed_from:
            part.unlink(missing_ok=True)
            raise
        log.warning("verification failed after a resumed transfer: downloading %s once "
                    "more from the start", url)
        part.unlink()
        again = http_download(url, part, settings, source, size)
        stats.attempts += again.attempts
        stats.restarts += 1 + again.restarts
        try:
            digest = _verify(part, source, md5, size, what)
        except DownloadError:
            part.unlink(missing_ok=True)
            raise
    os.replace(part, dest)
    return digest, stats


def _copy(src: Path, dest: Path) -> str:
    """Copy ``src`` to ``dest``, atomically.

    Never a hard link: Snakemake sets the modification time of a finished job's outputs, and
    on a hard link that is the source's too, so the user's (or the mirror's) file would be
    changed and look newer than the download at every run, which then ran again forever.
    """
    tmp = dest.with_name(f".{dest.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)
    return "copy"


def _verify(path: Path, source: str, md5: str | None, size: int | None, what: str) -> str:
    """Check size and md5 of ``path``; return its md5."""
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        raise DownloadError(source, f"{what} is {actual_size} bytes, expected {size}",
                            "the file is truncated or a different version; fetch it again")
    digest = file_checksum(path, "md5")
    if md5 is not None and digest != md5:
        raise DownloadError(source, f"md5 mismatch for {what}: got {digest}, expected {md5}",
                            "the file is corrupt or the configured md5 belongs to another file")
    return digest


def _finish(dest: Path, record: dict[str, Any], spec: FileSpec) -> dict[str, Any]:
    """Complete the record of a file now in place (its md5 is already known) and write it."""
    record["bytes"] = dest.stat().st_size
    record["retrieved_utc"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    record["verified"] = record["md5_expected_from"] is not None
    if not record["verified"]:
        log.warning("%s: no md5 to check against (give one in the config); recorded md5 %s",
                    spec.source, record["md5"])
    write_provenance(dest, step="download", extra={"download": record})
    log.info("%s -> %s (%d bytes, md5 %s, via %s%s)", spec.source, dest, record["bytes"],
             record["md5"], record["via"], ", verified" if record["verified"] else "")
    return record


def _read_sidecar(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The provenance record next to ``path`` (None when absent or unreadable)."""
    side = sidecar_path(path)
    if not side.is_file():
        return None
    try:
        return json.loads(side.read_text())
    except (OSError, ValueError):
        return None


def read_download_record(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The ``download`` record of a fetched file's provenance sidecar (None if absent)."""
    side = _read_sidecar(path)
    return None if side is None else side.get("download")


def source_records(sidecars: Iterable[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    """The download records (:data:`SOURCE_KEYS`) of fetched files, for a derived file.

    Parameters
    ----------
    sidecars
        Provenance sidecars (``<file>.provenance.json``) or the fetched files themselves;
        files without a download record are skipped.
    """
    out = []
    for side in sidecars:
        side = str(side)
        base = side[: -len(".provenance.json")] if side.endswith(".provenance.json") else side
        rec = read_download_record(base)
        if rec is not None:
            out.append({k: rec.get(k) for k in SOURCE_KEYS})
    return out
