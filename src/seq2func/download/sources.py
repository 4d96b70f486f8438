"""What to fetch and where a copy may already be: file specs, sources, names, the mirror.

A source is an ENCODE file accession (``ENCFF356LFX``, or ``encode:<id>`` for reference files
such as ``encode:GRCh38_no_alt_analysis_set_GCA_000001405.15``), an ``http(s)://`` URL, a
``file://`` URL or a local path (:func:`parse_source`). Each is saved under ``downloads/`` as
:func:`download_name`; a mirror directory of pre-fetched files is searched first
(:func:`find_in_mirror`), and :func:`missing_offline` lists every file that cannot be had
without the network.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

#: characters replaced in download names (:func:`safe_file_name`)
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")
#: ENCODE file accessions (ENCFF..., and TSTFF... on ENCODE's test server)
ENCODE_ACCESSION = re.compile(r"^(ENC|TST)FF\d{3}[A-Z]{3}$")
#: an md5 digest as recorded (lower case)
MD5 = re.compile(r"^[0-9a-f]{32}$")
#: files next to a download that are never the download itself
SIDECAR_SUFFIXES = (".provenance.json", ".part", ".json", ".tmp")


@dataclass(frozen=True)
class FileSpec:
    """One file to fetch: its source and, when known, its md5 and size in bytes.

    Attributes
    ----------
    source
        ENCODE accession, ``encode:<id>``, URL or local path.
    md5
        Expected md5 (normalised to lower case), or None.
    size
        Expected size in bytes, or None.

    Raises
    ------
    ValueError
        For an empty source or an md5 that is not 32 hex digits.
    """

    source: str
    md5: str | None = None
    size: int | None = None

    def __post_init__(self) -> None:
        if not self.source or not str(self.source).strip():
            raise ValueError("empty source")
        if self.md5 is not None:
            md5 = str(self.md5).strip().lower()
            if not MD5.match(md5):
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


@dataclass(frozen=True)
class Source:
    """A parsed source.

    Attributes
    ----------
    spec
        The source string (stripped).
    kind
        ``"encode"``, ``"url"`` or ``"local"``.
    accession, url, path
        The accession (``encode``), URL (``url``) or path (``local``); None otherwise.
    """

    spec: str
    kind: str
    accession: str | None = None
    url: str | None = None
    path: Path | None = None


def parse_source(spec: str) -> Source:
    """Classify a source string (ENCODE accession, URL, ``file://`` URL or local path).

    Raises
    ------
    ValueError
        For an empty ``encode:`` identifier or a URL scheme other than http(s) and file.
    """
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


def _url_basename(url: str) -> str:
    """The file name of a URL's path (without query), percent-decoded."""
    return Path(unquote(urlparse(url).path)).name


def safe_file_name(name: str) -> str:
    """``name`` with every character but letters, digits and ``. _ + -`` replaced by ``_``: a
    download's name is a file name in shell commands and a Snakemake pattern, where ``$``,
    quotes, spaces or braces have a meaning (``%24%28id%29.tsv`` decodes to ``$(id).tsv``)."""
    return _UNSAFE.sub("_", name).lstrip(".") or "_"


def download_name(spec: str, default_ext: str) -> str:
    """File name under ``downloads/`` for a source.

    ENCODE accessions get ``default_ext`` (the format expected for their role, e.g. ``.bigWig``);
    URLs and paths keep their own base name, made safe (:func:`safe_file_name`).

    Raises
    ------
    ValueError
        For a bad source or a URL without a file name.
    """
    src = parse_source(spec)
    if src.kind == "encode":
        return f"{src.accession}{default_ext}"
    if src.kind == "url":
        name = _url_basename(src.url or "")
        if not name:
            raise ValueError(f"cannot derive a file name from URL {spec!r}")
        return safe_file_name(name)
    assert src.path is not None
    return safe_file_name(src.path.name)


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
                      if p.is_file() and not p.name.endswith(SIDECAR_SUFFIXES))
        return hits[0] if hits else None
    if src.kind == "url" and src.url:
        base = root / _url_basename(src.url)
    elif src.path is not None:
        base = root / src.path.name
    else:
        return None
    return base if base.is_file() else None


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
