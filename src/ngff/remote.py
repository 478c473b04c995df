"""Remote stores: OME-Zarr over HTTP(S) with byte-range requests, and other fsspec URLs.

- :class:`HttpClient` sends GET requests (whole objects, ranges, suffixes) with retries
  and exponential backoff on transient failures (connection errors, timeouts, HTTP 408,
  429 and 5xx, honouring ``Retry-After``); a missing object (404/410) is ``None`` where
  a missing key is normal (Zarr chunks) and a :class:`~ngff.errors.StoreError` elsewhere;
  401/403, a refused range and exhausted retries are a ``StoreError`` naming the URL.
- :class:`RangeReader` reads ranges of one remote object through a shared
  :class:`BlockCache`: bytes are fetched in aligned blocks with read-ahead, each block
  once (concurrent readers wait for a block in flight instead of fetching it again),
  and kept in a bounded LRU.  Zarr's sharding codec asks for the shard index before
  each inner chunk; the cache turns that into one request per shard.
- :class:`HttpSource` is an ``.ozx`` archive on a server (the first request reads the
  end of the file: end records and, usually, the whole central directory).
- :class:`HttpStore` is a directory store on a server (``https://host/x.ome.zarr``):
  a read-only zarr store mapping keys to URLs.
- :class:`FsspecSource` is an ``.ozx`` archive on any fsspec file system (``s3://``,
  ``gs://``, ``memory://``...), read with ranged ``cat_file`` calls.

Settings (:data:`settings`) can be changed in code or with the environment variables
``NGFF_HTTP_TIMEOUT`` (seconds per attempt), ``NGFF_HTTP_RETRIES`` (attempts after the
first) and ``NGFF_HTTP_BACKOFF`` (first delay in seconds; doubled each retry).
Only the standard library is used for HTTP.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import StoreError

__all__ = [
    "Settings",
    "settings",
    "HttpClient",
    "BlockCache",
    "RangeReader",
    "HttpSource",
    "HttpStore",
    "FsspecSource",
    "is_http",
    "open_http_store",
]

_TRANSIENT = {408, 425, 429, 500, 502, 503, 504}
#: objects up to this size are kept whole when their server ignores Range requests
_KEEP_UNRANGED = 256 << 20
_METADATA_NAMES = frozenset({"zarr.json", ".zattrs", ".zgroup", ".zarray", ".zmetadata"})
_MISSING = {404, 410}


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass
class Settings:
    """Network behaviour of remote stores (read when a store is opened)."""

    #: seconds to wait for a connection or a response before an attempt fails
    timeout: float = field(default_factory=lambda: _env_float("NGFF_HTTP_TIMEOUT", 30.0))
    #: attempts after the first for transient failures
    retries: int = field(default_factory=lambda: int(_env_float("NGFF_HTTP_RETRIES", 4)))
    #: first backoff delay in seconds (doubled after each failure)
    backoff: float = field(default_factory=lambda: _env_float("NGFF_HTTP_BACKOFF", 0.2))
    #: longest single delay between attempts
    max_backoff: float = 5.0
    #: size of a cached block of a remote object
    block_size: int = 1 << 20
    #: a miss fetches the aligned window of this size around it, within the object
    #: (or archive entry)
    readahead: int = 8 << 20
    #: capacity of the block cache in bytes
    cache_bytes: int = 256 << 20
    #: bytes read at the end of a remote archive by the first request
    tail_bytes: int = 256 << 10


settings = Settings()


def is_http(location: str) -> bool:
    return location.lower().startswith(("http://", "https://"))


class HttpClient:
    """GET requests with retries; counts the requests it sends (:attr:`requests`)."""

    def __init__(self, config: Settings | None = None, headers: dict[str, str] | None = None):
        self.config = config or settings
        self.headers = dict(headers or {})
        self.requests = 0
        self._lock = threading.Lock()
        self._local = threading.local()  # kept-alive connections of each thread
        self._unranged: dict[str, bytes] = {}  # whole objects from servers without Range support

    def get(
        self, url: str, *, start: int | None = None, end: int | None = None, suffix: int | None = None,
        missing_ok: bool = False,
    ) -> tuple[bytes, int | None] | None:
        """Body of ``url`` (or of a byte range), with the object's total size when known.

        ``start``/``end`` ask for bytes ``start:end`` (end exclusive; None: to the end);
        ``suffix`` for the last ``suffix`` bytes.  A server that ignores ranges is
        handled (the body is sliced here).

        Returns
        -------
        (bytes, int or None) or None
            None only for a missing object with ``missing_ok``.
        """
        kept = self._unranged.get(url)
        if kept is not None:
            return self._ranged(url, 200, kept, None, start, end, suffix)
        headers = dict(self.headers)
        if suffix is not None:
            headers["Range"] = f"bytes=-{suffix}"
        elif start is not None:
            headers["Range"] = f"bytes={start}-" + ("" if end is None else str(end - 1))
        delay = self.config.backoff
        last_problem = ""
        for attempt in range(self.config.retries + 1):
            if attempt:
                time.sleep(min(delay, self.config.max_backoff))
                delay *= 2
            try:
                status, reason, body, response_headers = self._send(url, headers)
            except (ConnectionRefusedError, socket.gaierror) as exc:
                # nothing listens there / no such host: retrying will not help
                raise StoreError(f"cannot connect: {exc}", location=url) from None
            except (TimeoutError, OSError) as exc:
                last_problem = "timed out" if isinstance(exc, TimeoutError) or "timed out" in str(exc) else str(exc)
                continue
            except Exception as exc:  # http.client protocol errors (IncompleteRead, BadStatusLine...)
                last_problem = f"{type(exc).__name__}: {exc}"
                continue
            if status in _MISSING:
                if missing_ok:
                    return None
                raise StoreError(f"not found (HTTP {status})", location=url)
            if status == 416:
                raise StoreError(
                    "the server refused the byte range (HTTP 416): the object is shorter than expected",
                    location=url,
                )
            if status in _TRANSIENT:
                last_problem = f"HTTP {status} {reason}"
                retry_after = response_headers.get("Retry-After") if response_headers else None
                if retry_after and retry_after.isdigit():
                    delay = max(delay, float(retry_after))
                continue
            if status not in (200, 206):
                raise StoreError(f"HTTP {status} {reason}", location=url)
            length = response_headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) != len(body):
                last_problem = f"the response was cut short ({len(body)} of {length} bytes)"
                continue
            if status == 200 and (start is not None or suffix is not None) and len(body) <= _KEEP_UNRANGED:
                with self._lock:  # a server that ignores Range: keep the object (bounded), slice it here
                    self._unranged[url] = body
                    while sum(len(v) for v in self._unranged.values()) > _KEEP_UNRANGED:
                        self._unranged.pop(next(iter(self._unranged)))
            return self._ranged(url, status, body, response_headers.get("Content-Range"), start, end, suffix)
        raise StoreError(
            f"{last_problem} (gave up after {self.config.retries + 1} attempts)",
            location=url,
            rule="remote reads retry transient failures with backoff",
        )

    def _send(self, url: str, headers: dict[str, str]) -> tuple[int, str, bytes, Any]:
        """One GET: ``(status, reason, body, headers)``; raises OSError/HTTPException on failure.

        Connections are kept alive per thread and host (no TCP/TLS handshake per range
        request); redirects are followed.  With a proxy configured, urllib does the work.
        """
        import http.client
        import urllib.parse
        import urllib.request

        parts = urllib.parse.urlsplit(url)
        if parts.scheme in urllib.request.getproxies():
            return self._send_urllib(url, headers)
        for _ in range(6):
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            for fresh in (False, True):
                connection = self._connection(parts.scheme, parts.netloc, fresh)
                with self._lock:
                    self.requests += 1
                try:
                    connection.request("GET", target, headers=headers)
                    response = connection.getresponse()
                    body = response.read()
                    break
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                    self._drop(parts.scheme, parts.netloc)
                    if fresh:
                        raise
                    # a kept-alive connection the server closed meanwhile: reconnect once
                except BaseException:
                    self._drop(parts.scheme, parts.netloc)
                    raise
            if response.getheader("Connection", "").lower() == "close":
                self._drop(parts.scheme, parts.netloc)
            location = response.getheader("Location")
            if response.status in (301, 302, 303, 307, 308) and location:
                url = urllib.parse.urljoin(url, location)
                parts = urllib.parse.urlsplit(url)
                continue
            return response.status, response.reason, body, response.headers
        raise OSError("too many redirects")

    def _send_urllib(self, url: str, headers: dict[str, str]) -> tuple[int, str, bytes, Any]:
        import urllib.error
        import urllib.request

        with self._lock:
            self.requests += 1
        request = urllib.request.Request(url, headers=headers, method="GET")
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout) as response:
                return response.status, response.reason, response.read(), response.headers
        except urllib.error.HTTPError as exc:
            return exc.code, str(exc.reason), b"", exc.headers
        except urllib.error.URLError as exc:
            reason = exc.reason
            raise reason if isinstance(reason, BaseException) else OSError(str(reason)) from None

    def _connection(self, scheme: str, netloc: str, fresh: bool) -> Any:
        import http.client

        pool = self._local.__dict__.setdefault("pool", {})
        key = (scheme, netloc)
        if fresh:
            self._drop(scheme, netloc)
        connection = pool.get(key)
        if connection is None:
            if scheme == "https":
                import ssl

                connection = http.client.HTTPSConnection(netloc, timeout=self.config.timeout, context=ssl.create_default_context())
            else:
                connection = http.client.HTTPConnection(netloc, timeout=self.config.timeout)
            pool[key] = connection
        return connection

    def _drop(self, scheme: str, netloc: str) -> None:
        pool = self._local.__dict__.get("pool", {})
        connection = pool.pop((scheme, netloc), None)
        if connection is not None:
            connection.close()

    @staticmethod
    def _ranged(
        url: str, status: int, body: bytes, content_range: str | None,
        start: int | None, end: int | None, suffix: int | None,
    ) -> tuple[bytes, int | None]:
        ranged = start is not None or suffix is not None
        if status == 206:
            total = None
            if content_range and "/" in content_range:
                tail = content_range.rsplit("/", 1)[1].strip()
                total = int(tail) if tail.isdigit() else None
            return body, total
        # 200: the whole object (a server without range support); slice it here.
        total = len(body)
        if not ranged:
            return body, total
        if suffix is not None:
            return body[max(0, total - suffix) :], total
        return body[start:end], total


class BlockCache:
    """Aligned blocks of remote objects, fetched once and kept in a bounded LRU."""

    def __init__(self, block_size: int, capacity: int):
        self.block_size = block_size
        self.capacity = max(capacity, block_size)
        self._blocks: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._bytes = 0
        self._pending: dict[tuple[str, int], threading.Event] = {}
        self._lock = threading.Lock()

    def lookup(self, key: tuple[str, int]) -> bytes | None:
        with self._lock:
            block = self._blocks.get(key)
            if block is not None:
                self._blocks.move_to_end(key)
            return block

    def put(self, key: tuple[str, int], block: bytes) -> None:
        with self._lock:
            if key not in self._blocks:
                self._blocks[key] = block
                self._bytes += len(block)
            while self._bytes > self.capacity and self._blocks:
                _, old = self._blocks.popitem(last=False)
                self._bytes -= len(old)

    def claim(self, keys: Iterable[tuple[str, int]]) -> tuple[list[tuple[str, int]], dict[tuple[str, int], threading.Event]]:
        """Split ``keys`` into blocks this caller must fetch and blocks others are fetching."""
        mine, theirs = [], {}
        with self._lock:
            for key in keys:
                if key in self._blocks:
                    continue
                event = self._pending.get(key)
                if event is not None:
                    theirs[key] = event
                else:
                    self._pending[key] = threading.Event()
                    mine.append(key)
        return mine, theirs

    def release(self, keys: Iterable[tuple[str, int]]) -> None:
        with self._lock:
            for key in keys:
                event = self._pending.pop(key, None)
                if event is not None:
                    event.set()

    def cached(self, key: tuple[str, int]) -> bool:
        with self._lock:
            return key in self._blocks or key in self._pending


class RangeReader:
    """Byte ranges of one remote object, through a :class:`BlockCache`.

    Parameters
    ----------
    url
        The object.
    client, cache
        Shared by every object of a store.
    size
        The object's size, when known (learned from the first ranged response otherwise).
    """

    def __init__(self, url: str, client: HttpClient, cache: BlockCache, size: int | None = None):
        self.url = url
        self.client = client
        self.cache = cache
        self.size = size
        self._first = threading.Lock()  # one size-learning request at a time

    def _learn(self, total: int | None) -> None:
        if total is not None:
            self.size = total

    def suffix(self, n: int, *, missing_ok: bool = False) -> bytes | None:
        """The last ``n`` bytes (one request unless cached)."""
        with self._first:
            if self.size is None:
                answer = self.client.get(self.url, suffix=n, missing_ok=missing_ok)
                if answer is None:
                    return None
                body, total = answer
                self._learn(total)
                if total is None:
                    return body
                self._store(total - len(body), body)
                return body
        return self.read(max(0, self.size - n), self.size, missing_ok=missing_ok)

    def _store(self, start: int, body: bytes) -> None:
        """Keep the whole blocks inside ``body`` (which starts at ``start``)."""
        size = self.size
        b = self.cache.block_size
        first = -(-start // b)
        position = first * b
        while position < start + len(body):
            stop = position + b
            if size is not None:
                stop = min(stop, size)
            if stop > start + len(body):
                break
            self.cache.put((self.url, position // b), body[position - start : stop - start])
            position += b

    def read(
        self, start: int, end: int, *, limit: int | None = None, floor: int = 0, missing_ok: bool = False
    ) -> bytes | None:
        """Bytes ``start:end`` (fewer at the end of the object).

        A miss fetches the whole read-ahead window (aligned to :attr:`Settings.readahead`)
        around the range, within ``floor:limit`` (the archive entry), except the blocks
        already cached or in flight: readers of a shard's chunks in any order (dask runs
        them in no particular one) then share a few large requests.
        """
        if end <= start:
            return b""
        if self.size is not None:
            end = min(end, self.size)
            if start >= end:
                return b""
        b = self.cache.block_size
        first, last = start // b, (end - 1) // b
        wanted = [(self.url, k) for k in range(first, last + 1)]
        horizon = limit if limit is not None else self.size
        window = max(self.client.config.readahead, b)
        if horizon is not None and any(not self.cache.cached(key) for key in wanted):
            lo = max(floor, start // window * window) // b
            hi = (min(horizon, -(-end // window) * window) - 1) // b
            wanted += [(self.url, k) for k in range(lo, hi + 1) if not first <= k <= last and not self.cache.cached((self.url, k))]
        mine, theirs = self.cache.claim(wanted)
        got: dict[int, bytes] = {}
        try:
            for run in _runs([k for _, k in mine]):
                lo, hi = run[0] * b, (run[-1] + 1) * b
                if self.size is not None:
                    hi = min(hi, self.size)
                answer = self.client.get(self.url, start=lo, end=hi, missing_ok=missing_ok)
                if answer is None:
                    return None
                body, total = answer
                self._learn(total)
                for k in run:
                    piece = body[k * b - lo : (k + 1) * b - lo]
                    if piece:
                        got[k] = piece
                        self.cache.put((self.url, k), piece)
        finally:
            self.cache.release(mine)
        for key, event in theirs.items():
            event.wait()
        parts = []
        for k in range(first, last + 1):
            piece = got.get(k)
            if piece is None:
                piece = self.cache.lookup((self.url, k))
            if piece is None:  # evicted meanwhile, or another reader's fetch failed: fetch it
                answer = self.client.get(self.url, start=k * b, end=(k + 1) * b, missing_ok=missing_ok)
                if answer is None:
                    return None
                piece, total = answer
                self._learn(total)
            parts.append(piece)
            if len(piece) < b:
                break  # end of the object
        data = b"".join(parts)
        return data[start - first * b : end - first * b]


def _runs(blocks: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for k in sorted(blocks):
        if runs and runs[-1][-1] == k - 1:
            runs[-1].append(k)
        else:
            runs.append([k])
    return runs


class HttpSource:
    """An archive on an HTTP(S) server, as a :class:`~ngff.ozx.archive.Source`.

    The first request reads the last :attr:`Settings.tail_bytes` of the file (end
    records and usually the whole central directory) and tells the file's size.
    """

    #: a request per read is expensive (see :class:`~ngff.ozx.archive.Archive`)
    remote = True

    def __init__(self, url: str, client: HttpClient | None = None, cache: BlockCache | None = None):
        self.location = url
        self.client = client or HttpClient()
        config = self.client.config
        self.cache = cache or BlockCache(config.block_size, config.cache_bytes)
        self.reader = RangeReader(url, self.client, self.cache)
        self.tail_hint = config.tail_bytes
        answer = self.client.get(url, suffix=config.tail_bytes)
        assert answer is not None
        body, total = answer
        if total is None:
            raise StoreError("the server does not report the archive's size (no Content-Range)", location=url)
        self.size = total
        self.reader.size = total
        self._tail_start = total - len(body)
        self._tail = body
        self.reader._store(self._tail_start, body)

    def read(self, start: int, end: int, *, limit: int | None = None, floor: int = 0) -> bytes:
        if start < 0 or end > self.size or end < start:
            raise StoreError(
                f"bytes {start}:{end} lie outside the {self.size}-byte archive (truncated?)",
                location=self.location,
                rule="ZIP: offsets within the archive",
            )
        if start >= self._tail_start:
            return self._tail[start - self._tail_start : end - self._tail_start]
        data = self.reader.read(start, end, limit=limit, floor=floor)
        if data is None or len(data) != end - start:
            raise StoreError(f"short read of bytes {start}:{end}", location=self.location)
        return data

    def close(self) -> None:
        pass


class FsspecSource:
    """An archive on an fsspec file system (``s3://``, ``gs://``, ``memory://``...)."""

    remote = True

    def __init__(self, url: str):
        try:
            import fsspec

            self.fs, self.path = fsspec.core.url_to_fs(url)
            self.size = int(self.fs.size(self.path))
        except ImportError as exc:
            raise StoreError(f"the fsspec backend for this URL is not installed: {exc}", location=url) from exc
        except FileNotFoundError:
            raise StoreError("no such archive", location=url) from None
        except Exception as exc:
            raise StoreError(f"cannot open: {exc}", location=url) from exc
        self.location = url
        self.tail_hint = settings.tail_bytes

    def read(self, start: int, end: int, *, limit: int | None = None, floor: int = 0) -> bytes:
        if start < 0 or end > self.size or end < start:
            raise StoreError(f"bytes {start}:{end} lie outside the {self.size}-byte archive", location=self.location)
        try:
            data = self.fs.cat_file(self.path, start=start, end=end)
        except Exception as exc:
            raise StoreError(f"cannot read bytes {start}:{end}: {exc}", location=self.location) from exc
        if len(data) != end - start:
            raise StoreError(f"short read of bytes {start}:{end}", location=self.location)
        return data

    def close(self) -> None:
        pass


def _zarr_store_base():
    from zarr.abc.store import Store

    return Store


class _HttpStoreMixin:
    """Methods of :class:`HttpStore`; the class itself is built on first use so that
    importing :mod:`ngff.remote` does not import zarr."""

    def _setup(self, url: str, client: HttpClient | None) -> None:
        self.url = url.rstrip("/")
        self.client = client or HttpClient()
        config = self.client.config
        self.cache = BlockCache(config.block_size, config.cache_bytes)
        self._readers: dict[str, RangeReader] = {}
        self._documents: dict[str, bytes | None] = {}  # metadata answers (and 404s), fetched once
        self._lock = threading.Lock()

    def _reader(self, key: str) -> RangeReader:
        with self._lock:
            reader = self._readers.get(key)
            if reader is None:
                reader = self._readers[key] = RangeReader(f"{self.url}/{key}", self.client, self.cache)
            return reader

    def _fetch(self, key: str, byte_range: Any) -> bytes | None:
        from zarr.abc.store import OffsetByteRequest, RangeByteRequest, SuffixByteRequest

        if byte_range is None:
            metadata = key.rsplit("/", 1)[-1] in _METADATA_NAMES
            if metadata and key in self._documents:
                return self._documents[key]
            answer = self.client.get(f"{self.url}/{key}", missing_ok=True)
            body = None if answer is None else answer[0]
            if metadata:
                self._documents[key] = body
            return body
        reader = self._reader(key)
        if isinstance(byte_range, SuffixByteRequest):
            return reader.suffix(byte_range.suffix, missing_ok=True)
        if isinstance(byte_range, RangeByteRequest):
            return reader.read(byte_range.start, byte_range.end, missing_ok=True)
        if isinstance(byte_range, OffsetByteRequest):
            if reader.size is None:
                answer = self.client.get(reader.url, start=byte_range.offset, missing_ok=True)
                if answer is None:
                    return None
                reader._learn(answer[1])
                return answer[0]
            return reader.read(byte_range.offset, reader.size, missing_ok=True)
        raise TypeError(f"unexpected byte range {byte_range!r}")


_http_store_class: Any = None


def HttpStore(url: str, client: HttpClient | None = None) -> Any:  # noqa: N802 - a class factory
    """A read-only zarr store over a directory store published at ``url``."""
    global _http_store_class
    if _http_store_class is None:
        Store = _zarr_store_base()

        class _HttpStore(_HttpStoreMixin, Store):  # type: ignore[misc, valid-type]
            supports_writes = False
            supports_deletes = False
            supports_partial_writes = False
            supports_listing = False

            def __init__(self, url: str, client: HttpClient | None = None):
                Store.__init__(self, read_only=True)
                self._setup(url, client)
                self._is_open = True

            def __eq__(self, other: object) -> bool:
                return isinstance(other, _HttpStore) and other.url == self.url

            def __hash__(self) -> int:
                return hash(self.url)

            def __repr__(self) -> str:
                return f"HttpStore({self.url!r})"

            async def get(self, key, prototype, byte_range=None):
                data = await asyncio.to_thread(self._fetch, key, byte_range)
                return None if data is None else prototype.buffer.from_bytes(data)

            async def get_partial_values(self, prototype, key_ranges):
                return [await self.get(k, prototype, r) for k, r in key_ranges]

            async def exists(self, key: str) -> bool:
                return await asyncio.to_thread(self._fetch, key, None) is not None

            async def set(self, key, value):
                raise PermissionError(f"{self.url} is read-only")

            async def delete(self, key):
                raise PermissionError(f"{self.url} is read-only")

            async def set_partial_values(self, key_start_values):
                raise PermissionError(f"{self.url} is read-only")

            async def list(self) -> AsyncIterator[str]:
                raise NotImplementedError("HTTP servers cannot list a store")
                yield ""  # pragma: no cover

            async def list_prefix(self, prefix: str) -> AsyncIterator[str]:
                raise NotImplementedError("HTTP servers cannot list a store")
                yield ""  # pragma: no cover

            async def list_dir(self, prefix: str) -> AsyncIterator[str]:
                raise NotImplementedError("HTTP servers cannot list a store")
                yield ""  # pragma: no cover

        _http_store_class = _HttpStore
    return _http_store_class(url, client)


def open_http_store(url: str) -> Any:
    """An ngff :class:`~ngff.store.Store` over a directory store published at ``url``.

    Raises
    ------
    StoreError
        When the server has none of ``zarr.json``, ``.zattrs`` and ``.zgroup`` there
        (HTTP 404), or cannot be reached.
    """
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync

    from .store import Store

    zarr_store = HttpStore(url)
    prototype = default_buffer_prototype()
    for name in ("zarr.json", ".zattrs", ".zgroup"):
        if sync(zarr_store.get(name, prototype)) is not None:
            return Store(url.rstrip("/"), zarr_store)
    raise StoreError(
        "not found (HTTP 404): no zarr.json, .zattrs or .zgroup at this URL", location=url.rstrip("/")
    )
