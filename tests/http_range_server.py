"""A loopback HTTP server with byte-range support, for remote-store tests and benchmarks.

:class:`RangeServer` serves a folder on ``127.0.0.1`` (a free port) from a thread:
``GET`` with ``Range: bytes=a-b``, ``bytes=a-`` and ``bytes=-n`` (206 with
``Content-Range``), whole files (200), 404 for missing files, 416 for unsatisfiable
ranges.  It counts every request (:attr:`RangeServer.log` holds ``(path, range)``) and
can inject failures: ``fail[path] = [503, 503]`` answers the next two requests for
``path`` with 503; ``delay`` sleeps before every answer (timeouts).  Used by
``tests/test_remote*.py``, ``tests/test_ozx*.py``, the napari tests and
``benchmarks/bench_ozx.py``.
"""

from __future__ import annotations

import http.server
import os
import re
import threading
import time
import urllib.parse
from pathlib import Path

__all__ = ["RangeServer"]

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeServer:
    """``with RangeServer(folder) as server: server.url("x.ozx")``."""

    def __init__(self, root: str | os.PathLike[str], *, ranges: bool = True):
        self.root = Path(root)
        self.ranges = ranges
        self.log: list[tuple[str, str | None]] = []
        #: client (host, port) of each request: few distinct ones when connections are kept alive
        self.peers: list[tuple[str, int]] = []
        self.fail: dict[str, list[int]] = {}
        self.delay = 0.0
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> RangeServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                owner._answer(self)

            def do_HEAD(self) -> None:  # noqa: N802
                owner._answer(self, body=False)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, relative: str) -> str:
        return f"{self.base}/{relative.lstrip('/')}"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.log)

    def reset(self) -> None:
        with self._lock:
            self.log.clear()
            self.peers.clear()

    # ------------------------------------------------------------------ answers

    def _answer(self, handler: http.server.BaseHTTPRequestHandler, body: bool = True) -> None:
        path = urllib.parse.unquote(urllib.parse.urlsplit(handler.path).path).lstrip("/")
        wanted = handler.headers.get("Range")
        with self._lock:
            self.log.append((path, wanted))
            self.peers.append(tuple(handler.client_address[:2]))
            planned = self.fail.get(path)
            status = planned.pop(0) if planned else None
        if self.delay:
            time.sleep(self.delay)
        if status is not None:
            self._send(handler, status, b"injected failure", {})
            return
        target = (self.root / path).resolve()
        if self.root.resolve() not in target.parents or not target.is_file():
            self._send(handler, 404, b"not found", {})
            return
        size = target.stat().st_size
        match = _RANGE.match(wanted.strip()) if (wanted and self.ranges) else None
        if match is None:
            self._send(handler, 200, target.read_bytes() if body else b"", {"Content-Length": str(size)}, body)
            return
        first, last = match.groups()
        if first == "":
            start, stop = max(0, size - int(last or 0)), size
        else:
            start = int(first)
            stop = size if last == "" else min(size, int(last) + 1)
        if start >= size or stop <= start:
            self._send(handler, 416, b"", {"Content-Range": f"bytes */{size}"})
            return
        with open(target, "rb") as f:
            f.seek(start)
            data = f.read(stop - start)
        headers = {"Content-Range": f"bytes {start}-{stop - 1}/{size}", "Content-Length": str(len(data))}
        self._send(handler, 206, data if body else b"", headers, body)

    @staticmethod
    def _send(handler, status: int, data: bytes, headers: dict[str, str], body: bool = True) -> None:
        handler.send_response(status)
        headers = {"Content-Length": str(len(data)), **headers} if "Content-Length" not in headers else headers
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Accept-Ranges", "bytes")
        handler.end_headers()
        if body and data:
            handler.wfile.write(data)
