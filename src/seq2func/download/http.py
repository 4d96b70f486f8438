"""HTTP transport: JSON requests and resumable downloads, with retries and backoff.

Connection errors, time-outs, HTTP 408/425/429 and 5xx are retried with exponential backoff
(:data:`RETRY_STATUSES`); any other HTTP 4xx fails at once with the status and URL. Downloads
stream into a ``.part`` file and resume with an HTTP ``Range`` request from the bytes already
on disk (also across workflow reruns); a server that ignores ``Range`` is handled by starting
over.

HTTP goes through ``requests`` (a dependency of Snakemake itself): it follows ENCODE's redirects
to its S3 bucket keeping the ``Range`` header, honours ``HTTPS_PROXY``/``NO_PROXY`` and the
system CA bundle, and streams large bodies. Retries, backoff and resume are implemented here.
"""

from __future__ import annotations

import logging
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seq2func import __version__
from seq2func.download.errors import DownloadError
from seq2func.download.settings import DownloadSettings

log = logging.getLogger(__name__)

#: HTTP statuses worth retrying; any other 4xx is a permanent error
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
#: seconds between progress lines of a long transfer
PROGRESS_EVERY_S = 30.0


class _Transient(Exception):
    """A failure worth retrying (network trouble, HTTP 5xx/429, truncated body)."""


@dataclass
class TransferStats:
    """What happened during one download.

    Attributes
    ----------
    attempts
        Requests made.
    resumed_from
        Byte offsets the transfer resumed from (or found complete at).
    restarts
        Times the partial file was discarded and the transfer started over.
    bytes_received
        Body bytes received over all attempts.
    """

    attempts: int = 0
    resumed_from: list[int] = field(default_factory=list)
    restarts: int = 0
    bytes_received: int = 0


def _session() -> Any:
    """A ``requests`` session that names seq2func in its User-Agent."""
    import requests

    s = requests.Session()
    s.headers["User-Agent"] = f"seq2func/{__version__} (python-requests)"
    return s


def _backoff(settings: DownloadSettings, attempt: int) -> float:
    """Seconds to wait before retry ``attempt`` (1-based): doubling, capped, +-25% jitter."""
    base = min(settings.max_backoff_s, settings.backoff_s * (2 ** (attempt - 1)))
    return base * (0.75 + 0.5 * random.random())


def _wait_before_retry(settings: DownloadSettings, attempt: int, url: str,
                       exc: BaseException) -> None:
    """Log the failure and sleep the backoff of ``attempt`` before the next try."""
    wait = _backoff(settings, attempt)
    log.warning("%s: %s; retry %d/%d in %.1f s", url, exc, attempt, settings.retries, wait)
    time.sleep(wait)


def _transient_types() -> tuple[type[BaseException], ...]:
    """Exceptions that make a request worth retrying."""
    import requests
    import urllib3

    # urllib3's errors surface directly when streaming the raw body (response.raw.stream)
    return (requests.ConnectionError, requests.Timeout,
            requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError,
            urllib3.exceptions.HTTPError, _Transient)


def _permanent_http(source: str, url: str, status: int, reason: str) -> DownloadError:
    """The error of an HTTP status that retrying cannot fix, with a hint for common ones."""
    fixes = {
        404: "check the accession or URL (it may be misspelt, withdrawn or renamed)",
        403: "the server refuses access: the file may be restricted or the URL expired",
        401: "the server needs authentication, which seq2func does not support; download the "
             "file yourself and give its local path or use download.mirror",
        410: "the file was removed from the server; choose another accession",
    }
    return DownloadError(source, f"HTTP {status} {reason} for {url}",
                         fixes.get(status, "check the URL in a browser"))


def _raise_for_status(response: Any, source: str, url: str) -> None:
    """Raise :class:`_Transient` for a retryable status, DownloadError for another error."""
    if response.status_code in RETRY_STATUSES:
        raise _Transient(f"HTTP {response.status_code} {response.reason}")
    if response.status_code >= 400:
        raise _permanent_http(source, url, response.status_code, response.reason)


def get_json(url: str, settings: DownloadSettings, source: str) -> dict[str, Any]:
    """GET a JSON document with the same retry policy as downloads.

    Raises
    ------
    DownloadError
        On a permanent HTTP error, a body that is not JSON, or when the retries are exhausted.
    """
    session = _session()
    transient = _transient_types()
    attempt = 0
    while True:
        try:
            r = session.get(url, headers={"Accept": "application/json"},
                            timeout=settings.timeout_s)
            _raise_for_status(r, source, url)
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
        have = _usable_part(part, expected_size, stats)
        if expected_size is not None and have == expected_size and have > 0:
            stats.resumed_from.append(have)  # complete from an earlier run; verified next
            return stats
        stats.attempts += 1
        try:
            if _request_body(session, url, part, have, settings, source, expected_size, stats):
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


def _usable_part(part: Path, expected_size: int | None, stats: TransferStats) -> int:
    """Bytes of ``part`` to resume from (a part larger than the file is discarded)."""
    have = part.stat().st_size if part.exists() else 0
    if expected_size is not None and have > expected_size:
        log.warning("%s holds %d bytes, more than the expected %d: starting over", part,
                    have, expected_size)
        part.unlink()
        have = 0
        stats.restarts += 1
    return have


def _request_body(session: Any, url: str, part: Path, have: int, settings: DownloadSettings,
                  source: str, expected_size: int | None, stats: TransferStats) -> bool:
    """One request for the rest of the body after ``have`` bytes.

    Returns
    -------
    bool
        True when ``part`` is complete, False when it was discarded to start over.

    Raises
    ------
    _Transient
        For a failure worth retrying (the bytes received so far stay in ``part``).
    DownloadError
        On a permanent HTTP error or a size that contradicts ``expected_size``.
    """
    # identity: byte offsets must refer to the file itself, never to a compressed stream
    headers = {"Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
    with session.get(url, headers=headers, stream=True,
                     timeout=(settings.timeout_s, settings.timeout_s)) as r:
        if r.status_code == 416 and have:
            _, total = _content_range(r.headers.get("Content-Range"))
            if total is not None and total == have and (
                    expected_size is None or expected_size == have):
                return True
            log.warning("server refused to resume at byte %d: starting over", have)
            return _discard(part, stats)
        _raise_for_status(r, source, url)
        start = _body_start(r, have, url, stats)
        if start is None:
            return _discard(part, stats)
        mode, have, total = start
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
    return True


def _discard(part: Path, stats: TransferStats) -> bool:
    """Delete ``part`` to start the transfer over; False (the file is not complete)."""
    part.unlink()
    stats.restarts += 1
    return False


def _body_start(response: Any, have: int, url: str,
                stats: TransferStats) -> tuple[str, int, int | None] | None:
    """Where the response body goes: (file mode, first byte, total size of the file).

    A 206 response resumes at ``have`` (None when the server resumed elsewhere: start over);
    any other success is the whole file, which replaces the partial one.
    """
    if response.status_code == 206:
        first, total = _content_range(response.headers.get("Content-Range"))
        if first != have:
            log.warning("server resumed at byte %s instead of %d: starting over", first, have)
            return None
        stats.resumed_from.append(have)
        log.info("resuming %s at byte %d", url, have)
        return "ab", have, total
    if have:
        log.warning("server ignored the Range request: starting over")
        stats.restarts += 1
    length = response.headers.get("Content-Length")
    return "wb", 0, int(length) if length is not None and length.isdigit() else None


def _stream(response: Any, part: Path, mode: str, start: int, total: int | None,
            settings: DownloadSettings, stats: TransferStats, url: str) -> None:
    """Append (``mode="ab"``) or write the raw body to ``part``, logging progress."""
    done = start
    next_report = time.monotonic() + PROGRESS_EVERY_S
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
                next_report = time.monotonic() + PROGRESS_EVERY_S
