"""Streaming writes of whole shards of Zarr v3 sharded arrays on local directories.

zarr-python (and the ``zarrs`` pipeline) assemble a shard in memory before it is
stored: the decoded shard, every encoded inner chunk and the concatenated shard bytes
live at once.  With two regions in flight that is the largest part of the writer's
peak memory.  Here a shard is written inner chunk by inner chunk straight into a
temporary file, so only one encoded inner chunk exists at a time; the shard index
goes last and the file is renamed into place (a reader never sees a torn shard).

Only the layouts the writer produces are handled: a single ``sharding_indexed``
codec whose inner chain is ``bytes`` followed by blosc, zstd or gzip (or nothing),
and an index of ``bytes`` (+ ``crc32c``).  Anything else - and any store that is not a
local directory - goes through zarr, so the fast path never changes what is written.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["ShardWriter", "shard_writer", "write_block"]

_EMPTY = np.uint64(2**64 - 1)


@dataclass(frozen=True)
class ShardWriter:
    """What is needed to encode and store the shards of one array."""

    directory: Path
    key: Callable[[tuple[int, ...]], str]
    shape: tuple[int, ...]
    shard_shape: tuple[int, ...]
    chunk_shape: tuple[int, ...]
    dtype: np.dtype
    fill_value: Any
    write_empty_chunks: bool
    byteorder: str | None
    compressors: tuple[Any, ...]
    index_checksum: bool
    index_at_start: bool

    def chunks_per_shard(self) -> tuple[int, ...]:
        return tuple(s // c for s, c in zip(self.shard_shape, self.chunk_shape))

    def encode_chunk(self, chunk: np.ndarray) -> bytes:
        """One inner chunk through the ``bytes`` codec and the compressors."""
        if self.byteorder is not None:
            chunk = chunk.astype(chunk.dtype.newbyteorder(self.byteorder), copy=False)
        data: Any = np.ascontiguousarray(chunk).view(np.uint8).reshape(-1)
        for codec in self.compressors:
            data = codec.encode(data)
        return bytes(data) if not isinstance(data, bytes) else data

    def encode_index(self, index: np.ndarray) -> bytes:
        raw = index.astype("<u8").tobytes()
        if self.index_checksum:
            import google_crc32c

            raw += np.uint32(google_crc32c.value(raw)).astype("<u4").tobytes()
        return raw

    def write_shard(self, shard_coords: tuple[int, ...], block: np.ndarray) -> None:
        """Store the shard at ``shard_coords`` whose in-bounds pixels are ``block``."""
        cps = self.chunks_per_shard()
        index = np.full((*cps, 2), _EMPTY, dtype=np.uint64)
        path = self.directory / self.key(shard_coords)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{id(block):x}.part")
        index_bytes = 16 * math.prod(cps) + (4 if self.index_checksum else 0)
        offset = index_bytes if self.index_at_start else 0
        stored = 0
        try:
            with open(temporary, "wb") as out:
                if self.index_at_start:
                    out.write(b"\0" * index_bytes)
                for inner in np.ndindex(*cps):
                    lo = [i * c for i, c in zip(inner, self.chunk_shape)]
                    if any(a >= n for a, n in zip(lo, block.shape)):
                        continue  # beyond the array: absent
                    part = block[tuple(slice(a, a + c) for a, c in zip(lo, self.chunk_shape))]
                    if not self.write_empty_chunks and _all_fill(part, self.fill_value):
                        continue
                    if part.shape != self.chunk_shape:
                        padded = np.full(self.chunk_shape, self.fill_value, dtype=self.dtype)
                        padded[tuple(slice(0, n) for n in part.shape)] = part
                        part = padded
                    encoded = self.encode_chunk(part)
                    out.write(encoded)
                    index[inner] = (offset, len(encoded))
                    offset += len(encoded)
                    stored += 1
                if self.index_at_start:
                    out.seek(0)
                out.write(self.encode_index(index))
            if stored == 0 and not self.write_empty_chunks:
                temporary.unlink()
                path.unlink(missing_ok=True)  # an all-fill shard is absent, as zarr leaves it
                return
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise


def _all_fill(part: np.ndarray, fill_value: Any) -> bool:
    if isinstance(fill_value, float) and math.isnan(fill_value):
        return bool(np.isnan(part).all())
    return not np.any(part != fill_value)


def _numcodecs_of(codec: Any) -> Any | None:
    """The numcodecs equivalent of a zarr v3 bytes-to-bytes codec, or None if unknown."""
    from zarr.codecs import BloscCodec, GzipCodec, ZstdCodec

    if isinstance(codec, BloscCodec):
        from numcodecs import Blosc

        shuffle = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}[str(getattr(codec.shuffle, "value", codec.shuffle))]
        cname = str(getattr(codec.cname, "value", codec.cname))
        return Blosc(cname=cname, clevel=codec.clevel, shuffle=shuffle, blocksize=codec.blocksize, typesize=codec.typesize)
    if isinstance(codec, ZstdCodec):
        from numcodecs import Zstd

        return Zstd(level=codec.level, checksum=codec.checksum)
    if isinstance(codec, GzipCodec):
        from numcodecs import GZip

        return GZip(level=codec.level)
    return None


def shard_writer(array: Any) -> ShardWriter | None:
    """A streaming writer for ``array`` (a zarr v3 array), or None when it does not apply."""
    try:
        from zarr.codecs import BytesCodec, Crc32cCodec, ShardingCodec
        from zarr.storage import LocalStore
    except ImportError:  # pragma: no cover - zarr 3 is a dependency
        return None
    metadata = getattr(array, "metadata", None)
    store = getattr(array, "store", None)
    if getattr(metadata, "zarr_format", None) != 3 or not isinstance(store, LocalStore):
        return None
    codecs = tuple(metadata.codecs)
    if len(codecs) != 1 or not isinstance(codecs[0], ShardingCodec):
        return None
    sharding = codecs[0]
    inner = tuple(sharding.codecs)
    if not inner or not isinstance(inner[0], BytesCodec):
        return None
    compressors = tuple(_numcodecs_of(c) for c in inner[1:])
    if any(c is None for c in compressors):
        return None
    index_codecs = tuple(sharding.index_codecs)
    if not index_codecs or not isinstance(index_codecs[0], BytesCodec):
        return None
    if str(getattr(index_codecs[0].endian, "value", index_codecs[0].endian)) not in ("little", "None"):
        return None
    rest = index_codecs[1:]
    if rest and not (len(rest) == 1 and isinstance(rest[0], Crc32cCodec)):
        return None
    endian = inner[0].endian
    byteorder = None
    if endian is not None and np.dtype(array.dtype).itemsize > 1:
        byteorder = "<" if str(getattr(endian, "value", endian)) == "little" else ">"
    try:
        config = array._async_array.config  # the documented ArrayConfig lives only here
        write_empty = bool(config.write_empty_chunks)
    except AttributeError:
        write_empty = False
    return ShardWriter(
        directory=Path(store.root) / array.path,
        key=metadata.encode_chunk_key,
        shape=tuple(array.shape),
        shard_shape=tuple(metadata.chunk_grid.chunk_shape),
        chunk_shape=tuple(sharding.chunk_shape),
        dtype=np.dtype(array.dtype),
        fill_value=metadata.fill_value,
        write_empty_chunks=write_empty,
        byteorder=byteorder,
        compressors=compressors,  # type: ignore[arg-type]
        index_checksum=bool(rest),
        index_at_start=str(getattr(sharding.index_location, "value", sharding.index_location)) == "start",
    )


def write_block(array: Any, target: Sequence[slice], block: np.ndarray, writer: ShardWriter | None) -> None:
    """``array[target] = block``, shard by shard when ``writer`` applies and the block is shard-aligned.

    A block that does not cover whole shards (except where they end at the array's
    edge) is handed to zarr, which merges it into the stored shards.
    """
    if writer is None or not _aligned(target, writer):
        array[tuple(target)] = block
        return
    starts = [s.start for s in target]
    stops = [s.stop for s in target]
    ranges = [range(a // sh, -(-b // sh)) for a, b, sh in zip(starts, stops, writer.shard_shape)]
    for coords in _product(ranges):
        lo = [c * sh - a for c, sh, a in zip(coords, writer.shard_shape, starts)]
        hi = [min(l + sh, b - a) for l, sh, a, b in zip(lo, writer.shard_shape, starts, stops)]
        writer.write_shard(tuple(coords), block[tuple(slice(l, h) for l, h in zip(lo, hi))])


def _aligned(target: Sequence[slice], writer: ShardWriter) -> bool:
    for s, sh, n in zip(target, writer.shard_shape, writer.shape):
        if s.start % sh or (s.stop % sh and s.stop != n):
            return False
    return True


def _product(ranges: Sequence[range]):
    import itertools

    return itertools.product(*ranges)
