"""ENCODE's per-file metadata: download link, checksum, size, assembly and status.

``<encode_url>/files/<accession>/?format=json`` gives the download ``href``, ``md5sum``,
``file_size`` and ``assembly`` of a file; a file that ENCODE revoked, deleted or replaced, or
one of an assembly other than the configured one, is refused before a byte is downloaded.
"""

from __future__ import annotations

import logging
from typing import Any

from seq2func.download.errors import DownloadError
from seq2func.download.http import get_json
from seq2func.download.settings import DownloadSettings

log = logging.getLogger(__name__)

#: the fields of ENCODE's per-file JSON that are kept (and recorded in the provenance)
ENCODE_FIELDS = ("accession", "md5sum", "file_size", "assembly", "file_format", "file_type",
                 "output_type", "status", "href", "dataset", "genome_annotation")
#: ENCODE statuses of files that must not be used
REFUSED_STATUSES = ("revoked", "deleted", "replaced")


def encode_metadata(accession: str, settings: DownloadSettings) -> dict[str, Any]:
    """The fields of ENCODE's per-file JSON that matter here (see :data:`ENCODE_FIELDS`).

    Also ``biosample`` (the biosample's term name) and ``metadata_url``.

    Raises
    ------
    DownloadError
        When the record cannot be fetched or has no download link.
    """
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


def check_encode_file(meta: dict[str, Any], source: str, settings: DownloadSettings) -> None:
    """Refuse a file ENCODE withdrew, or one of another assembly than ``settings.assembly``.

    Raises
    ------
    DownloadError
        For a revoked, deleted or replaced file, or an assembly mismatch.
    """
    status = meta.get("status")
    if status in REFUSED_STATUSES:
        raise DownloadError(source, f"ENCODE has {status} this file",
                            "choose the current file of the experiment on the ENCODE portal")
    if status and status not in ("released", "archived"):
        log.warning("%s has ENCODE status %r", meta.get("accession", source), status)
    if settings.assembly and meta.get("assembly") and meta["assembly"] != settings.assembly:
        raise DownloadError(
            source, f"ENCODE says this file is for assembly {meta['assembly']!r}, but the "
            f"study uses {settings.assembly!r}",
            f"choose the accession of the {settings.assembly} version of this file (ENCODE "
            "lists each assembly's files on the experiment page), or change download.assembly")


def encode_download_url(meta: dict[str, Any], settings: DownloadSettings) -> str:
    """The URL of the file itself (ENCODE's ``href`` is relative to the portal)."""
    return settings.encode_url.rstrip("/") + meta["href"]
