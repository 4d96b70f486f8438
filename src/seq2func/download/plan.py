"""Which files a study downloads, where they go and what each is for.

The workflow (``workflow/rules/download.smk``) builds one :class:`DownloadPlan` from the
config's ``download`` section and the samples table; every rule then asks it for paths, sources
and roles, so the rules stay declarative.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from seq2func.core.config import check_input_path
from seq2func.core.errors import ConfigError
from seq2func.download.sources import FileSpec, download_name, missing_offline, parse_source

#: file name extension of a download, by role, when the source does not give one (accessions)
ROLE_EXT = {
    "genome": ".fa.gz",
    "blacklist": ".bed.gz",
    "annotation": ".gtf.gz",
    "variants": ".vcf.gz",
    "signal": ".bigWig",
    "peaks": ".bed.gz",
    "expression": ".tsv",
}


@dataclass
class DownloadPlan:
    """Every file a study downloads, under ``downloads_dir``, and what each is for.

    Built once by the workflow from the config's ``download`` section and the samples table
    (:meth:`from_config`). A file used twice (one RNA-seq file for two accessibility samples)
    is fetched once.

    Attributes
    ----------
    files
        Download file name -> (role, spec).
    paths
        Role (``genome``, ``blacklist``, ``annotation``, ``variants``) -> download path.
    samples
        Sample -> role (``signal``, ``peaks``, ``expression``) -> download path.
    columns
        Sample -> the column of its TPM in its expression file (the samples table's
        ``expression_column``, else ``download.expression_column``; absent: the file's TPM
        column).
    """

    downloads_dir: str
    files: dict[str, tuple[str, FileSpec]] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    samples: dict[str, dict[str, str]] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, download: Mapping[str, Any], samples: Any, samples_path: str,
                    downloads_dir: str, source: str = "config") -> DownloadPlan:
        """Plan the downloads of a study.

        Parameters
        ----------
        download
            The validated ``download`` section.
        samples
            The samples table (pandas DataFrame indexed by sample).
        samples_path
            Its path (for error messages).
        downloads_dir
            ``resources/<study>/downloads``.
        source
            The configuration file (for error messages).

        Raises
        ------
        ConfigError
            For a bad entry, a sample without signal or peaks, or two sources that would be
            saved under the same name.
        """
        plan = cls(downloads_dir)
        for role in ("genome", "blacklist", "annotation", "variants"):
            entry = download.get(role)
            if entry:
                plan.paths[role] = plan._add(role, entry, source, f"download.{role}")
        missing = []
        for sample, row in samples.iterrows():
            plan.samples[sample] = {}
            for role in ("signal", "peaks", "expression"):
                value = str(row.get(role, "") or "").strip()
                if not value:
                    if role != "expression":
                        missing.append(f"{sample} ({role})")
                    continue
                md5 = str(row.get(f"{role}_md5", "") or "").strip() or None
                plan.samples[sample][role] = plan._add(
                    role, {"source": value, "md5": md5}, samples_path,
                    f"sample {sample}, column {role}")
            column = (str(row.get("expression_column", "") or "").strip()
                      or download.get("expression_column"))
            if column and "expression" in plan.samples[sample]:
                plan.columns[sample] = str(column)
        if missing:
            raise ConfigError(samples_path, "signal/peaks",
                              f"with source: download every sample needs 'signal' and 'peaks'; "
                              f"missing for: {', '.join(missing)}",
                              "give an ENCODE file accession, a URL or a local path")
        return plan

    def _add(self, role: str, entry: Any, source: str, key: str) -> str:
        """Plan one file (once per download name) and return its download path.

        Raises
        ------
        ConfigError
            Naming ``key`` for a bad entry or a name clash with another source.
        """
        try:
            spec = FileSpec.from_config(entry)
            if parse_source(spec.source).kind == "local":
                check_input_path(spec.source, key, source)
            name = download_name(spec.source, ROLE_EXT[role])
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(source, key, str(exc),
                              "give an ENCODE accession, encode:<id>, a URL or a path") from None
        known = self.files.get(name)
        if known is not None:
            if known[1].source != spec.source:
                raise ConfigError(source, key, f"{spec.source} and {known[1].source} would "
                                  f"both be saved as {name}", "rename one of the files")
            if spec.md5 and known[1].md5 and spec.md5 != known[1].md5:
                raise ConfigError(source, key, f"two different md5s given for {spec.source}",
                                  "give the file's md5 once, or the same md5 everywhere")
            if spec.md5 is None:
                spec = known[1]
        self.files[name] = (role, spec)
        return f"{self.downloads_dir}/{name}"

    def role(self, name: str) -> str:
        """What the download ``name`` is for."""
        return self.files[name][0]

    def spec(self, name: str) -> FileSpec:
        """Source, md5 and size of the download ``name``."""
        return self.files[name][1]

    def local_input(self, name: str) -> list[str]:
        """The local source of a download as a one-element list (empty for remote sources)."""
        src = parse_source(self.files[name][1].source)
        return [str(src.path)] if src.kind == "local" else []

    def sample_file(self, sample: str, role: str) -> str:
        """Download path of a sample's ``signal``, ``peaks`` or ``expression`` file."""
        return self.samples[sample][role]

    def expression_samples(self) -> list[str]:
        """Samples with an expression quantification, in table order."""
        return [s for s, roles in self.samples.items() if "expression" in roles]

    def expression_columns(self) -> list[str]:
        """``SAMPLE=COLUMN`` of the samples whose TPM column is named (``ingest --column``)."""
        return [f"{s}={c}" for s, c in self.columns.items()]

    def missing_offline(self, mirror: str | None) -> list[str]:
        """See :func:`seq2func.download.sources.missing_offline`."""
        return missing_offline({n: spec for n, (_, spec) in self.files.items()}, mirror,
                               self.downloads_dir)
