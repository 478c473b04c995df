"""A read-only zarr store over an :class:`~ngff.ozx.archive.Archive`.

Keys are entry names; byte-range requests of STORED entries (shard indexes, inner
chunks) become range reads of the archive, so nothing is extracted and only the bytes
asked for are read — from a local file, or from an HTTP server (see :mod:`ngff.remote`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import Any

from zarr.abc.store import ByteRequest, OffsetByteRequest, RangeByteRequest, Store, SuffixByteRequest
from zarr.core.buffer import Buffer, BufferPrototype

from .archive import Archive

__all__ = ["ArchiveStore"]


class ArchiveStore(Store):
    """Zarr's view of a ZIP archive: read-only, listable, with partial reads.

    Parameters
    ----------
    archive
        The opened archive.
    threaded
        Run reads in worker threads (for remote sources, so that concurrent requests
        do not wait for each other on zarr's event loop).
    """

    supports_writes = False
    supports_deletes = False
    supports_partial_writes = False
    supports_listing = True

    def __init__(self, archive: Archive, *, threaded: bool = False):
        super().__init__(read_only=True)
        self.archive = archive
        self.threaded = threaded
        self._children: dict[str, set[str]] = {}
        for name in list(archive.entries) + [d + "/" for d in archive.directories]:
            parts = name.rstrip("/").split("/")
            for depth in range(len(parts)):
                self._children.setdefault("/".join(parts[:depth]), set()).add(parts[depth])
        self._is_open = True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArchiveStore) and other.archive is self.archive

    def __hash__(self) -> int:
        return id(self.archive)

    def __repr__(self) -> str:
        return f"ArchiveStore({self.archive.location!r})"

    def _read(self, key: str, byte_range: ByteRequest | None) -> bytes | None:
        entry = self.archive.entry(key)
        if entry is None:
            return None
        if byte_range is None:
            return self.archive.read(key)
        if isinstance(byte_range, RangeByteRequest):
            return self.archive.read(key, byte_range.start, byte_range.end)
        if isinstance(byte_range, OffsetByteRequest):
            return self.archive.read(key, byte_range.offset, None)
        if isinstance(byte_range, SuffixByteRequest):
            return self.archive.read(key, max(0, entry.size - byte_range.suffix), None)
        raise TypeError(f"unexpected byte range {byte_range!r}")

    async def get(
        self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None
    ) -> Buffer | None:
        if self.threaded:
            data = await asyncio.to_thread(self._read, key, byte_range)
        else:
            data = self._read(key, byte_range)
        return None if data is None else prototype.buffer.from_bytes(data)

    async def get_partial_values(
        self, prototype: BufferPrototype, key_ranges: Iterable[tuple[str, ByteRequest | None]]
    ) -> list[Buffer | None]:
        return [await self.get(key, prototype, byte_range) for key, byte_range in key_ranges]

    async def exists(self, key: str) -> bool:
        return key in self.archive.entries

    async def set(self, key: str, value: Buffer) -> None:
        raise PermissionError(f"{self.archive.location} is a read-only archive")

    async def delete(self, key: str) -> None:
        raise PermissionError(f"{self.archive.location} is a read-only archive")

    async def set_partial_values(self, key_start_values: Iterable[tuple[str, int, Any]]) -> None:
        raise PermissionError(f"{self.archive.location} is a read-only archive")

    async def list(self) -> AsyncIterator[str]:
        for name in self.archive.order:
            yield name

    async def list_prefix(self, prefix: str) -> AsyncIterator[str]:
        for name in self.archive.order:
            if name.startswith(prefix):
                yield name

    async def list_dir(self, prefix: str) -> AsyncIterator[str]:
        for name in sorted(self._children.get(prefix.rstrip("/"), ())):
            yield name
