"""Chunk files of an array inside a local archive, for :class:`ngff.chunkread.ChunkReader`.

The fast plane reader decodes only the part of a chunk a selection needs, reading the
chunk bytes itself with ``pread``.  In a local archive whose entries are STORED, a key's
bytes are one contiguous span of the archive file, so the same reader works unchanged
on ``(archive fd, entry data offset, entry size)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .archive import Archive, FileSource
from .records import STORED

__all__ = ["ArchiveFiles", "archive_files"]


class ArchiveFiles:
    """The files under ``prefix/`` of a local archive, as ``open(key)`` spans."""

    def __init__(self, archive: Archive, prefix: str):
        self.archive = archive
        self.prefix = prefix.strip("/")

    @contextmanager
    def open(self, key: str) -> Iterator[tuple[int, int, int]]:
        name = f"{self.prefix}/{key}" if self.prefix else key
        entry = self.archive.entry(name)
        if entry is None:
            raise FileNotFoundError(name)
        span = self.archive.data_span(name)
        assert span is not None  # only STORED archives get an ArchiveFiles
        yield self.archive.source.fileno(), span[0], span[1]  # type: ignore[attr-defined]


def archive_files(archive: Archive, prefix: str) -> ArchiveFiles | None:
    """An :class:`ArchiveFiles` when the archive is a local file with STORED entries only."""
    if not isinstance(archive.source, FileSource):
        return None
    if any(e.method != STORED for e in archive.entries.values()):
        return None
    return ArchiveFiles(archive, prefix)
