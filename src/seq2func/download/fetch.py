"""Fetch public files by ENCODE accession, URL or local path: verified, resumable, recorded.

One call of :func:`fetch` puts one file in place:

1. **Resolve** the source: an ENCODE file accession (``ENCFF356LFX``, or ``encode:<id>`` for
   reference files such as ``encode:GRCh38_no_alt_analysis_set_GCA_000001405.15``), an
   ``http(s)://`` URL, a ``file://`` URL or a local path. For ENCODE files the per-file JSON
   (``<encode_url>/files/<id>/?format=json``) gives the download ``href``, ``md5sum``,
   ``file_size`` and ``assembly``; an assembly other than the configured one is refused before a
   byte is downloaded.
2. **Mirror / offline**: if a mirror directory is configured and holds the file (same name, or a
   name starting with the accession), it is linked or copied from there and never downloaded.
   With ``offline`` set, a file that is in neither place is an error (see
   :func:`missing_offline`, which the workflow uses to list *every* missing file at once).
3. **Download** over HTTPS into ``<dest>.part`` with retries and exponential backoff (connection
   errors, time-outs, HTTP 429 and 5xx), resuming with an HTTP ``Range`` request from the bytes
   already on disk (also across workflow reruns). HTTP 4xx other than 429 fail at once with the
   status and URL. A server that ignores ``Range`` is handled by starting over.
4. **Verify** size and md5 (from the config, from ENCODE's JSON, or from the provenance record
   of a mirrored copy). On a mismatch the partial file is deleted; after a resumed transfer the
   file is downloaded once more from scratch before giving up.
5. **Move atomically** into place and write ``<dest>.provenance.json`` (URL, accession, md5,
   size, date, assembly, where it came from).

HTTP goes through ``requests`` (a dependency of Snakemake itself): it follows ENCODE's redirects
to its S3 bucket keeping the ``Range`` header, honours ``HTTPS_PROXY``/``NO_PROXY`` and the
system CA bundle, and streams large bodies. Retries, backoff and resume are implemented here.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import re
import shutil
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from seq2func import __version__
from seq2func.core.errors import Seq2FuncError, format_message
from seq2func.core.io import file_checksum

log = logging.getLogger(__name__)

#: ENCODE file accessions (ENCFF..., and TSTFF... on ENCODE's test server)
ENCODE_ACCESSION = re.compile(r"^(ENC|TST)FF\d{3}[A-Z]{3}$")
_MD5 = re.compile(r"^[0-9a-f]{32}$")
#: HTTP statuses worth retrying; any other 4xx is a permanent error
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_SIDECAR_SUFFIXES = (".provenance.json", ".part", ".json", ".tmp")
#: environment variable through which the workflow passes DownloadSettings (JSON) to jobs
SETTINGS_ENV = "SEQ2FUNC_DOWNLOAD_SETTINGS"


class DownloadError(Seq2FuncError):
    """A file could not be fetched or failed verification.

    Parameters
    ----------
    source
        What was being fetched (accession, URL or path).
    problem
        What went wrong.
    fix
        What the user can do about it.
    """

    def __init__(self, source: str, problem: str, fix: str = "") -> None:
        self.source = source
        self.problem = problem
        self.fix = fix
        super().__init__(format_message(source, problem, fix))


class _Transient(Exception):
    """A failure worth retrying (network trouble, HTTP 5xx/429, truncated body)."""


# ----------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class FileSpec:
    """One file to fetch: its source and, when known, its md5 and size in bytes."""

    source: str
    md5: str | None = None
    size: int | None = None

    def __post_init__(self) -> None:
        if not self.source or not str(self.source).strip():
            raise ValueError("empty source")
        if self.md5 is not None:
            md5 = str(self.md5).strip().lower()
            if not _MD5.match(md5):
                raise ValueError(f"md5 {self.md5!r} of {self.source} is not 32 hex digits")
            object.__setattr__(self, "md5", md5)

    @classmethod
    def from_config(cls, entry: str | Mapping[str, Any]) -> FileSpec:
        """Build from a config value: a source string, or ``{source, md5, size}``."""
        if isinstance(entry, str):
            return cls(entry.strip())
        md5 = entry.get("md5") or None
        size = entry.get("size")
        return cls(str(entry["source"]).strip(), md5, int(size) if size is not None else None)


@dataclass
class DownloadSettings:
    """How files are fetched (the config's ``download`` section).

    Attributes
    ----------
    encode_url
        Base URL of the ENCODE portal (tests point it at a local server).
    mirror
        Directory of pre-fetched files, searched before the network.
    offline
        Never use the network; files must be local or in the mirror.
    retries
        Retries after the first attempt, for transient failures.
    backoff_s, max_backoff_s
        First wait between attempts (doubled each time, with jitter) and its cap.
    timeout_s
        Connect and read time-out of each request (a stalled transfer counts as a failure).
    assembly
        Required ``assembly`` of ENCODE files (None: no check).
    chunk_bytes
        Read size while streaming.
    """

    encode_url: str = "https://www.encodeproject.org"
    mirror: str | None = None
    offline: bool = False
    retries: int = 5
    backoff_s: float = 2.0
    max_backoff_s: float = 60.0
    timeout_s: float = 60.0
    assembly: str | None = "GRCh38"
    chunk_bytes: int = 1 << 20

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> DownloadSettings:
        """Pick the transport settings out of the config's ``download`` section."""
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in section.items() if k in names})

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


# ----------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class Source:
    """A parsed source: ``kind`` is ``"encode"``, ``"url"`` or ``"local"``."""

    spec: str
    kind: str
    accession: str | None = None
    url: str | None = None
    path: Path | None = None


def parse_source(spec: str) -> Source:
    """Classify a source string (ENCODE accession, URL, ``file://`` URL or local path)."""
    s = spec.strip()
    if s.startswith("encode:"):
        acc = s.split(":", 1)[1].strip()
        if not acc or "/" in acc:
            raise ValueError(f"bad ENCODE identifier in {spec!r}")
        return Source(s, "encode", accession=acc)
    if ENCODE_ACCESSION.match(s):
        return Source(s, "encode", accession=s)
    if s.startswith(("http://", "https://")):
        return Source(s, "url", url=s)
    if s.startswith("file://"):
        parsed = urlparse(s)
        return Source(s, "local", path=Path(unquote(parsed.netloc + parsed.path)))
    if re.match(r"^[a-z][a-z0-9+.-]*://", s):
        raise ValueError(f"unsupported URL scheme in {spec!r} (use https://, http:// or file://)")
    return Source(s, "local", path=Path(s).expanduser())


def download_name(spec: str, default_ext: str) -> str:
    """File name under ``downloads/`` for a source.

    ENCODE accessions get ``default_ext`` (the format expected for their role, e.g. ``.bigWig``);
    URLs and paths keep their own base name.
    """
    src = parse_source(spec)
    if src.kind == "encode":
        return f"{src.accession}{default_ext}"
    if src.kind == "url":
        name = Path(unquote(urlparse(src.url or "").path)).name
        if not name:
            raise ValueError(f"cannot derive a file name from URL {spec!r}")
        return name
    assert src.path is not None
    return src.path.name


def find_in_mirror(mirror: str | os.PathLike[str], spec: str, name: str) -> Path | None:
    """The mirrored copy of a source, if any.

    Looked up by the download name (a copy of another checkout's ``downloads/`` directory works
    as a mirror), then for ENCODE files by any name starting with the accession
    (``ENCFF356LFX.bed.gz`` fetched by hand), then by the URL's or path's base name.
    """
    root = Path(mirror)
    if not root.is_dir():
        return None
    exact = root / name
    if exact.is_file():
        return exact
    src = parse_source(spec)
    if src.kind == "encode" and src.accession:
        hits = sorted(p for p in root.glob(f"{_glob_escape(src.accession)}*")
                      if p.is_file() and not p.name.endswith(_SIDECAR_SUFFIXES))
        if hits:
            return hits[0]
    elif src.kind == "url" and src.url:
        base = root / Path(unquote(urlparse(src.url).path)).name
        if base.is_file():
            return base
    elif src.path is not None:
        base = root / src.path.name
        if base.is_file():
            return base
    return None


def _glob_escape(text: str) -> str:
    """Escape glob metacharacters."""
    return re.sub(r"([*?\[\]])", r"[\1]", text)


def missing_offline(files: Mapping[str, FileSpec], mirror: str | None,
                    downloads_dir: str | os.PathLike[str]) -> list[str]:
    """Files that cannot be had without the network, as human-readable lines.

    Parameters
    ----------
    files
        Download name -> spec, for every file the study needs.
    mirror
        The mirror directory (or None).
    downloads_dir
        Where fetched files live; files already there count as present.

    Returns
    -------
    list of str
        One ``"<name>: <source>"`` line per missing file (empty when all are available).
    """
    out = []
    if mirror and not Path(mirror).is_dir():
        where_missing = f"the mirror {mirror} is not a directory"
    elif mirror:
        where_missing = f"not in mirror {mirror}"
    else:
        where_missing = "no mirror configured"
    for name, spec in files.items():
        if (Path(downloads_dir) / name).is_file():
            continue
        src = parse_source(spec.source)
        if src.kind == "local":
            if src.path is not None and src.path.is_file():
                continue
            out.append(f"{name}: local file {src.path} does not exist")
            continue
        if mirror and find_in_mirror(mirror, spec.source, name) is not None:
            continue
        out.append(f"{name}: {spec.source} ({where_missing})")
    return out


# ----------------------------------------------------------------------------- HTTP


def _session() -> Any:
    import requests

    s = requests.Session()
    s.headers["User-Agent"] = f"seq2func/{__version__} (python-requests)"
    return s


def _backoff(settings: DownloadSettings, attempt: int) -> float:
    base = min(settings.max_backoff_s, settings.backoff_s * (2 ** (attempt - 1)))
    return base * (0.75 + 0.5 * random.random())


def _wait_before_retry(settings: DownloadSettings, attempt: int, url: str,
                       exc: BaseException) -> None:
    """Log the failure and sleep the backoff of ``attempt`` before the next try."""
    wait = _backoff(settings, attempt)
    log.warning("%s: %s; retry %d/%d in %.1f s", url, exc, attempt, settings.retries, wait)
    time.sleep(wait)


def _transient_types() -> tuple[type[BaseException], ...]:
    import requests
    import urllib3

    # urllib3's errors surface directly when streaming the raw body (response.raw.stream)
    return (requests.ConnectionError, requests.Timeout,
            requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError,
            urllib3.exceptions.HTTPError, _Transient)


def _permanent_http(source: str, url: str, status: int, reason: str) -> DownloadError:
    fixes = {
        404: "check the accession or URL (it may be misspelt, withdrawn or renamed)",
        403: "the server refuses access: the file may be restricted or the URL expired",
        401: "the server needs authentication, which seq2func does not support; download the "
             "file yourself and give its local path or use download.mirror",
        410: "the file was removed from the server; choose another accession",
    }
    return DownloadError(source, f"HTTP {status} {reason} for {url}",
                         fixes.get(status, "check the URL in a browser"))


def get_json(url: str, settings: DownloadSettings, source: str) -> dict[str, Any]:
    """GET a JSON document with the same retry policy as downloads."""
    session = _session()
    transient = _transient_types()
    attempt = 0
    while True:
        try:
            r = session.get(url, headers={"Accept": "application/json"},
                            timeout=settings.timeout_s)
            if r.status_code in RETRY_STATUSES:
                raise _Transient(f"HTTP {r.status_code} {r.reason}")
            if r.status_code >= 400:
                raise _permanent_http(source, url, r.status_code, r.reason)
            try:
                return r.json()
            except ValueError as exc:
                raise DownloadError(source, f"{url} did not return JSON ({exc})",
                                    "check download.encode_url") from exc
        except transient as exc:
            attempt += 1
            if attempt > settings.retries:
                raise DownloadError(
                    source, f"gave up on {url} after {attempt} attempts: {exc}",
                    "check the network (or set download.mirror / download.offline to use "
                    "pre-fetched files)") from exc
            _wait_before_retry(settings, attempt, url, exc)


@dataclass
class TransferStats:
    """What happened during one download."""

    attempts: int = 0
    resumed_from: list[int] = field(default_factory=list)
    restarts: int = 0
    bytes_received: int = 0


def _content_range(header: str | None) -> tuple[int | None, int | None]:
    """(first byte, total size) of a ``Content-Range: bytes a-b/total`` header."""
    if not header:
        return None, None
    m = re.match(r"bytes\s+(\d+)-\d+/(\d+|\*)", header)
    if m:
        return int(m.group(1)), (int(m.group(2)) if m.group(2) != "*" else None)
    m = re.match(r"bytes\s+\*/(\d+)", header)
    if m:
        return None, int(m.group(1))
    return None, None


def http_download(url: str, part: Path, settings: DownloadSettings, source: str,
                  expected_size: int | None = None) -> TransferStats:
    """Stream ``url`` into ``part``, resuming from its current size, with retries.

    Returns when the body is complete (its length matches the server's and ``expected_size``).

    Raises
    ------
    DownloadError
        On a permanent HTTP error, a size that contradicts ``expected_size``, or when the
        retries are exhausted.
    """
    session = _session()
    transient = _transient_types()
    stats = TransferStats()
    failures = 0
    part.parent.mkdir(parents=True, exist_ok=True)
    while True:
        have = part.stat().st_size if part.exists() else 0
        if expected_size is not None and have > expected_size:
            log.warning("%s holds %d bytes, more than the expected %d: starting over", part,
                        have, expected_size)
            part.unlink()
            have = 0
            stats.restarts += 1
        if expected_size is not None and have == expected_size and have > 0:
            stats.resumed_from.append(have)  # complete from an earlier run; verified next
            return stats
        # identity: byte offsets must refer to the file itself, never to a compressed stream
        headers = {"Accept-Encoding": "identity"}
        if have:
            headers["Range"] = f"bytes={have}-"
        stats.attempts += 1
        try:
            with session.get(url, headers=headers, stream=True,
                             timeout=(settings.timeout_s, settings.timeout_s)) as r:
                if r.status_code == 416 and have:
                    _, total = _content_range(r.headers.get("Content-Range"))
                    if total is not None and total == have and (
                            expected_size is None or expected_size == have):
                        return stats
                    log.warning("server refused to resume at byte %d: starting over", have)
                    part.unlink()
                    stats.restarts += 1
                    continue
                if r.status_code in RETRY_STATUSES:
                    raise _Transient(f"HTTP {r.status_code} {r.reason}")
                if r.status_code >= 400:
                    raise _permanent_http(source, url, r.status_code, r.reason)
                mode = "ab"
                if r.status_code == 206:
                    first, total = _content_range(r.headers.get("Content-Range"))
                    if first != have:
                        log.warning("server resumed at byte %s instead of %d: starting over",
                                    first, have)
                        part.unlink()
                        stats.restarts += 1
                        continue
                    stats.resumed_from.append(have)
                    log.info("resuming %s at byte %d", url, have)
                else:
                    if have:
                        log.warning("server ignored the Range request: starting over")
                        stats.restarts += 1
                    mode = "wb"
                    have = 0
                    length = r.headers.get("Content-Length")
                    total = int(length) if length is not None and length.isdigit() else None
                if expected_size is not None and total is not None and total != expected_size:
                    raise DownloadError(
                        source, f"{url} is {total} bytes but {expected_size} were expected",
                        "the file changed on the server or the configured size/md5 belongs to "
                        "another file; check the accession and the configured checksum")
                _stream(r, part, mode, have, total, settings, stats, url)
                size = part.stat().st_size
                if total is not None and size < total:
                    raise _Transient(f"connection closed after {size} of {total} bytes")
                if expected_size is not None and size != expected_size:
                    raise _Transient(f"received {size} bytes, expected {expected_size}")
                return stats
        except transient as exc:
            failures += 1
            if failures > settings.retries:
                have = part.stat().st_size if part.exists() else 0
                raise DownloadError(
                    source, f"gave up on {url} after {failures} failed attempts ({exc}); "
                    f"{have} bytes are kept in {part} and a rerun resumes from there",
                    "check the network, raise download.retries, or fetch the file elsewhere "
                    "and use download.mirror") from exc
            _wait_before_retry(settings, failures, url, exc)


def _stream(response: Any, part: Path, mode: str, start: int, total: int | None,
            settings: DownloadSettings, stats: TransferStats, url: str) -> None:
    done = start
    next_report = time.monotonic() + 30.0
    with open(part, mode) as fh:
        # the raw bytes, undecoded: a .gz file served with Content-Encoding: gzip stays gzipped
        for chunk in response.raw.stream(settings.chunk_bytes, decode_content=False):
            if not chunk:
                continue
            fh.write(chunk)
            done += len(chunk)
            stats.bytes_received += len(chunk)
            if time.monotonic() >= next_report:
                pct = f" ({100 * done / total:.0f}%)" if total else ""
                log.info("%s: %.1f MB%s", url, done / 1e6, pct)
                next_report = time.monotonic() + 30.0


# ----------------------------------------------------------------------------- ENCODE


ENCODE_FIELDS = ("accession", "md5sum", "file_size", "assembly", "file_format", "file_type",
                 "output_type", "status", "href", "dataset", "genome_annotation")


def encode_metadata(accession: str, settings: DownloadSettings) -> dict[str, Any]:
    """The fields of ENCODE's per-file JSON that matter here (see :data:`ENCODE_FIELDS`)."""
    url = f"{settings.encode_url.rstrip('/')}/files/{accession}/?format=json"
    doc = get_json(url, settings, accession)
    meta = {k: doc.get(k) for k in ENCODE_FIELDS if doc.get(k) is not None}
    bio = doc.get("biosample_ontology")
    if isinstance(bio, dict) and bio.get("term_name"):
        meta["biosample"] = bio["term_name"]
    meta["metadata_url"] = url
    if not meta.get("href"):
        raise DownloadError(accession, f"ENCODE's record {url} has no download link (href)",
                            "check the accession: it must be a file (ENCFF...), not an "
                            "experiment (ENCSR...)")
    return meta


# ----------------------------------------------------------------------------- fetch


def _link_or_copy(src: Path, dest: Path) -> str:
    """Hard-link ``src`` to ``dest`` (same file system) or copy it; atomically."""
    tmp = dest.with_name(f".{dest.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    try:
        os.link(src, tmp)
        how = "hardlink"
    except OSError:
        shutil.copyfile(src, tmp)
        how = "copy"
    os.replace(tmp, dest)
    return how


def _sidecar_md5(path: Path) -> str | None:
    """md5 recorded in a mirrored file's provenance sidecar, if any."""
    side = Path(str(path) + ".provenance.json")
    if not side.is_file():
        return None
    try:
        rec = json.loads(side.read_text())
    except (OSError, ValueError):
        return None
    md5 = (rec.get("download") or {}).get("md5")
    return md5 if isinstance(md5, str) and _MD5.match(md5) else None


def _verify(path: Path, source: str, md5: str | None, size: int | None,
            what: str) -> str:
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
    from seq2func.core.provenance import write_provenance

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    src = parse_source(spec.source)
    record: dict[str, Any] = {
        "source": spec.source, "role": role, "accession": src.accession, "url": None,
        "md5": None, "md5_expected_from": None, "bytes": None, "assembly": None,
        "retrieved_utc": None, "via": None,
    }
    md5, size = spec.md5, spec.size
    if md5:
        record["md5_expected_from"] = "config"

    # 1. local files
    if src.kind == "local":
        assert src.path is not None
        if not src.path.is_file():
            raise DownloadError(spec.source, f"local file {src.path} does not exist",
                                "fix the path (relative paths are relative to the working "
                                "directory of the workflow)")
        record["md5"] = _verify(src.path, spec.source, md5, size, str(src.path))
        record["how"] = _link_or_copy(src.path, dest)
        record["via"] = "local"
        record["url"] = src.path.resolve().as_uri()
        return _finish(dest, record, spec, write_provenance)

    # 2. mirror
    if settings.mirror:
        hit = find_in_mirror(settings.mirror, spec.source, dest.name)
        if hit is not None:
            if md5 is None:
                md5 = _sidecar_md5(hit)
                if md5:
                    record["md5_expected_from"] = "mirror provenance"
            record["md5"] = _verify(hit, spec.source, md5, size, f"mirrored copy {hit}")
            record["how"] = _link_or_copy(hit, dest)
            record["via"] = "mirror"
            record["url"] = hit.resolve().as_uri()
            side = Path(str(hit) + ".provenance.json")
            if side.is_file():
                with contextlib.suppress(OSError, ValueError):
                    prev = json.loads(side.read_text()).get("download") or {}
                    record["original"] = {k: prev.get(k) for k in
                                          ("url", "md5", "retrieved_utc", "assembly", "encode")}
                    record["assembly"] = prev.get("assembly")
            return _finish(dest, record, spec, write_provenance)
    if settings.offline:
        where = f"not in the mirror {settings.mirror}" if settings.mirror else "no mirror is set"
        raise DownloadError(spec.source, f"offline mode and {where}",
                            "fetch the file on a machine with internet (snakemake --until "
                            "download) and copy resources/<study>/downloads/ into the mirror")

    # 3. network
    if src.kind == "encode":
        assert src.accession is not None
        meta = encode_metadata(src.accession, settings)
        record["encode"] = meta
        record["assembly"] = meta.get("assembly")
        status = meta.get("status")
        if status in ("revoked", "deleted", "replaced"):
            raise DownloadError(spec.source, f"ENCODE has {status} this file",
                                "choose the current file of the experiment on the ENCODE "
                                "portal")
        if status and status not in ("released", "archived"):
            log.warning("%s has ENCODE status %r", src.accession, status)
        if settings.assembly and meta.get("assembly") and meta["assembly"] != settings.assembly:
            raise DownloadError(
                spec.source, f"ENCODE says this file is for assembly {meta['assembly']!r}, but "
                f"the study uses {settings.assembly!r}",
                f"choose the accession of the {settings.assembly} version of this file (ENCODE "
                "lists each assembly's files on the experiment page), or change "
                "download.assembly")
        enc_md5 = meta.get("md5sum")
        if md5 and enc_md5 and md5 != enc_md5:
            raise DownloadError(spec.source, f"configured md5 {md5} differs from ENCODE's "
                                f"{enc_md5}", "fix or remove the md5 in the config")
        if md5 is None and enc_md5:
            md5 = enc_md5
            record["md5_expected_from"] = "ENCODE metadata"
        enc_size = meta.get("file_size")
        if size is None and isinstance(enc_size, int):
            size = enc_size
        url = settings.encode_url.rstrip("/") + meta["href"]
    else:
        url = src.url or ""
    record["url"] = url
    part = dest.with_name(dest.name + ".part")
    stats = http_download(url, part, settings, spec.source, size)
    try:
        digest = _verify(part, spec.source, md5, size, f"the download of {url}")
    except DownloadError:
        if stats.resumed_from:
            log.warning("verification failed after a resumed transfer: downloading %s once "
                        "more from the start", url)
            part.unlink()
            stats2 = http_download(url, part, settings, spec.source, size)
            stats.attempts += stats2.attempts
            stats.restarts += 1 + stats2.restarts
            try:
                digest = _verify(part, spec.source, md5, size, f"the download of {url}")
            except DownloadError:
                with contextlib.suppress(FileNotFoundError):
                    part.unlink()
                raise
        else:
            with contextlib.suppress(FileNotFoundError):
                part.unlink()
            raise
    os.replace(part, dest)
    record["via"] = "network"
    record["transfer"] = asdict(stats)
    record["md5"] = digest
    return _finish(dest, record, spec, write_provenance)


def _finish(dest: Path, record: dict[str, Any], spec: FileSpec,
            write_provenance: Any) -> dict[str, Any]:
    """Complete the record of a file now in place (its md5 is already known)."""
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


def read_download_record(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The ``download`` record of a fetched file's provenance sidecar (None if absent)."""
    side = Path(str(path) + ".provenance.json")
    if not side.is_file():
        return None
    try:
        return json.loads(side.read_text()).get("download")
    except (OSError, ValueError):
        return None
