"""A small stand-in for the ENCODE portal, served on 127.0.0.1 by the tests.

It serves each file's JSON metadata (``/files/<ACC>/?format=json``), redirects
``/files/<ACC>/@@download/<name>`` to ``/blobs/<name>`` like ENCODE redirects to S3, honours HTTP
``Range`` requests, and can be told to misbehave on the next requests of a path: drop the
connection after N bytes, answer 500 or 404, or ignore ``Range``.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeEncode:
    """Files and metadata served by the fake portal; ``url`` is its base URL."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.meta: dict[str, dict[str, Any]] = {}
        self.actions: dict[str, deque[str]] = defaultdict(deque)
        self.log: list[tuple[str, str | None]] = []  # (path, Range header)
        self.headers: list[tuple[str, dict[str, str]]] = []  # (path, request headers)
        self.encoding: dict[str, str] = {}  # path -> Content-Encoding to (mis)declare
        self.stall_s = 1.5
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                try:
                    fake._handle(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client hung up early (e.g. it rejected the size): fine

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ----------------------------------------------------------------- content
    def add_encode_file(self, accession: str, ext: str, data: bytes, *,
                        assembly: str | None = "GRCh38", md5: str | None = None,
                        file_size: int | None = None, **fields: Any) -> str:
        """Register an ENCODE file; returns its blob path."""
        name = f"{accession}.{ext}"
        self.blobs[f"/blobs/{name}"] = data
        meta = {"accession": accession, "href": f"/files/{accession}/@@download/{name}",
                "md5sum": md5 or hashlib.md5(data).hexdigest(),
                "file_size": len(data) if file_size is None else file_size,
                "file_format": ext.split(".")[0], "status": "released",
                "output_type": fields.pop("output_type", "signal p-value"),
                "biosample_ontology": {"term_name": fields.pop("biosample", "K562")}}
        if assembly is not None:
            meta["assembly"] = assembly
        meta.update(fields)
        self.meta[accession] = meta
        return f"/blobs/{name}"

    def add_blob(self, path: str, data: bytes) -> str:
        """Serve ``data`` at ``path``; returns its URL."""
        self.blobs[path] = data
        return self.url + path

    def then(self, path: str, *actions: str) -> None:
        """Queue behaviours for the next requests of ``path``: ``drop:N`` (close after N bytes),
        ``stall:N`` (stop sending after N bytes for ``stall_s`` seconds), ``500``, ``404``,
        ``norange``."""
        self.actions[path].extend(actions)

    def headers_for(self, path: str) -> list[dict[str, str]]:
        """Request headers of the requests received for ``path``."""
        return [hd for p, hd in self.headers if p == path]

    def requests_for(self, path: str) -> list[str | None]:
        """Range headers of the requests received for ``path``."""
        return [r for p, r in self.log if p == path]

    # ----------------------------------------------------------------- serving
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?")[0]
        rng = h.headers.get("Range")
        with self._lock:
            self.log.append((path, rng))
            self.headers.append((path, dict(h.headers.items())))
            action = self.actions[path].popleft() if self.actions[path] else None
        m = re.match(r"^/files/([^/]+)/$", path)
        if m and "format=json" in h.path:
            meta = self.meta.get(m.group(1))
            if meta is None:
                return self._status(h, 404, "Not Found")
            body = json.dumps(meta).encode()
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        m = re.match(r"^/files/([^/]+)/@@download/(.+)$", path)
        if m:
            h.send_response(307)
            h.send_header("Location", f"/blobs/{m.group(2)}")
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        if action in ("500", "404", "503"):
            return self._status(h, int(action), "Injected")
        data = self.blobs.get(path)
        if data is None:
            return self._status(h, 404, "Not Found")
        start = 0
        if rng and action != "norange":
            rm = re.match(r"bytes=(\d+)-$", rng)
            if rm:
                start = int(rm.group(1))
        if start >= len(data) and start > 0:
            h.send_response(416)
            h.send_header("Content-Range", f"bytes */{len(data)}")
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        body = data[start:]
        if start:
            h.send_response(206)
            h.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            h.send_response(200)
        h.send_header("Accept-Ranges", "bytes")
        if path in self.encoding:
            h.send_header("Content-Encoding", self.encoding[path])
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if action and action.startswith(("drop:", "stall:")):
            n = int(action.split(":")[1])
            h.wfile.write(body[:n])
            h.wfile.flush()
            if action.startswith("stall:"):
                time.sleep(self.stall_s)  # longer than the client's read time-out
            h.close_connection = True
            return
        h.wfile.write(body)

    @staticmethod
    def _status(h: BaseHTTPRequestHandler, code: int, reason: str) -> None:
        body = reason.encode()
        h.send_response(code, reason)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
