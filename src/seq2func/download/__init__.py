"""The download stage: public data by accession, URL or path, made into canonical inputs.

Fetching (``seq2func fetch``, :func:`seq2func.download.fetch.fetch`) puts one file in
``resources/<study>/downloads/``, verified and resumable, with a provenance record; ingesting
(``seq2func ingest``, :func:`seq2func.download.ingest.ingest`) turns it into a canonical input
with the configured chromosome names.

Modules
-------
sources
    :class:`FileSpec`, source strings, download names, the mirror, offline checks.
settings
    :class:`DownloadSettings` (the transport part of the config's ``download`` section).
plan
    :class:`DownloadPlan`: every file a study downloads and what it is for.
http, encode
    Retries, backoff and resumable transfers; ENCODE's per-file metadata.
fetch
    Fetch, verify and record one file.
ingest
    The ingest entry point; the ingesters are in ``fasta``, ``signal``, ``tables`` (peaks,
    BED, GTF, VCF) and ``expression``.
cutsites
    Reads as signal (``seq2func cutsites``): a BAM or a fragments/BEDPE/BED file counted into a
    bigWig of cut sites per base.
"""

from seq2func.download.errors import DownloadError
from seq2func.download.plan import DownloadPlan
from seq2func.download.settings import SETTINGS_ENV, DownloadSettings
from seq2func.download.sources import FileSpec

__all__ = ["SETTINGS_ENV", "DownloadError", "DownloadPlan", "DownloadSettings", "FileSpec"]
