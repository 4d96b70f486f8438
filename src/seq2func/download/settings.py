"""How files are fetched: :class:`DownloadSettings`, the transport part of the ``download`` section.

The workflow builds the settings once from the config and hands them to every download job
through the environment variable :data:`SETTINGS_ENV` (:meth:`DownloadSettings.to_json`, read
back by ``seq2func fetch``), not through ``params``: changing a time-out must not make Snakemake
download everything again.

Example
-------
>>> import json
>>> s = DownloadSettings.from_config({"retries": 2})
>>> DownloadSettings.from_config(json.loads(s.to_json())) == s
True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from seq2func.core.settings import Settings

#: environment variable through which the workflow passes DownloadSettings (JSON) to jobs
SETTINGS_ENV = "SEQ2FUNC_DOWNLOAD_SETTINGS"


@dataclass(frozen=True)
class DownloadSettings(Settings):
    """How files are fetched (the config's ``download`` section, less the files themselves).

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

    SECTION = "download"
    NOT_FIELDS: ClassVar[Mapping[str, str]] = {
        "genome": "a file of the study: planned by DownloadPlan, not a transport setting",
        "blacklist": "a file of the study (DownloadPlan)",
        "annotation": "a file of the study (DownloadPlan)",
        "variants": "a file of the study (DownloadPlan)",
        "chromosomes": "what `ingest fasta` keeps; the workflow passes it as --chromosomes",
        "localrule": "where the workflow runs download jobs (download.smk), not how they fetch",
        "expression_column": "which column of an expression file is read (DownloadPlan.columns)",
        "cutsites": "how reads become a signal bigWig (CutSiteSettings, `seq2func cutsites`)",
    }

    encode_url: str
    mirror: str | None
    offline: bool
    retries: int
    backoff_s: float
    max_backoff_s: float
    timeout_s: float
    assembly: str | None
    chunk_bytes: int

    def to_json(self) -> str:
        """The settings as a JSON object (sorted keys), e.g. for :data:`SETTINGS_ENV`.

        :meth:`from_config` of the parsed object gives the settings back.
        """
        return json.dumps(self.to_config(), sort_keys=True)
