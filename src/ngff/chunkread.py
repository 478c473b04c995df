"""Read small selections of local Zarr chunks without decoding whole chunks.

zarr (and zarrs) decode a whole chunk for every read, so reading one z plane of a
128×128×128 chunk decodes 128 planes.  :class:`ChunkReader` reads the chunk bytes
itself and decodes only what a selection inside one chunk needs:

- C-order chunks store the selection's leading axis as one contiguous run of items;
- blosc decodes an item range (``blosc_getitem``: only the blosc blocks it touches);
- zstd is a stream, so decoding stops after the last needed byte (a prefix);
- uncompressed chunks are sliced without any decoding.

Everything else goes to the zarr array (the ``fallback``, which turns errors into
:class:`~ngff.errors.StoreError`): selections that cross chunk boundaries or cover a
whole chunk, steps, fancy indices, F order, filters, big-endian data, other codecs.
Only local directory stores are read directly.
"""

from __future__ import annotations

import ctypes
import math
import os
import threading
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .errors import StoreError

__all__ = ["ChunkReader", "chunk_reader"]

_EMPTY = 2**64 - 1  # shard index entry of an absent inner chunk
_INDEX_CACHE_SIZE = 64
_KINDS = "biuf"  # bool, signed, unsigned, float: plain fixed-size little-endian items


# --------------------------------------------------------------------------- codecs


def _blosc_getitem_function():
    """c-blosc's ``blosc_getitem`` from numcodecs' extension, or None.

    numcodecs 0.16 no longer wraps it (``decode_partial`` was removed), but the
    extension module exports the c-blosc symbols.  ``blosc_getitem`` keeps its state
    on the stack, so it is thread-safe, and ctypes releases the GIL around it.
    """
    try:
        import numcodecs.blosc as blosc_module

        lib = ctypes.CDLL(blosc_module.__file__)
        function = lib.blosc_getitem
    except (ImportError, OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
    function.restype = ctypes.c_int
    return function


_blosc_getitem = _blosc_getitem_function()
_zstd_local = threading.local()


def _zstd_decompressor():
    decompressor = getattr(_zstd_local, "decompressor", None)
    if decompressor is None:
        import zstandard

        decompressor = _zstd_local.decompressor = zstandard.ZstdDecompressor()
    return decompressor


class _RangeReader:
    """A read-only file-like view of bytes ``offset:offset+size`` of an open file."""

    def __init__(self, fd: int, offset: int, size: int):
        self.fd = fd
        self.position = offset
        self.end = offset + size

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self.end - self.position
        n = min(n, self.end - self.position)
        if n <= 0:
            return b""
        data = os.pread(self.fd, n, self.position)
        self.position += len(data)
        return data


_ZSTD_READ_SIZE = 1 << 18


def _zstd_prefix(source: Any, nbytes: int) -> memoryview:
    """The first ``nbytes`` decompressed bytes of a zstd stream (bytes or file-like)."""
    view = memoryview(np.empty(nbytes, dtype=np.uint8))
    got = 0
    reader = _zstd_decompressor().stream_reader(
        source, read_size=_ZSTD_READ_SIZE, read_across_frames=True, closefd=False
    )
    with reader as stream:
        while got < nbytes:
            n = stream.readinto(view[got:])
            if not n:
                break
            got += n
    if got < nbytes:
        raise ValueError(f"zstd data decompresses to {got} bytes, expected at least {nbytes}")
    return view


def _blosc_range(data: bytes, chunk_nbytes: int, start: int, stop: int) -> bytes | memoryview:
    """Bytes ``start:stop`` of a blosc buffer that decompresses to ``chunk_nbytes``."""
    if len(data) < 16:
        raise ValueError(f"blosc buffer of {len(data)} bytes is shorter than its header")
    version, flags, typesize = data[0], data[2], data[3]
    nbytes = int.from_bytes(data[4:8], "little")
    blocksize = int.from_bytes(data[8:12], "little")
    cbytes = int.from_bytes(data[12:16], "little")
    if version == 0 or version > 2 or typesize == 0:
        raise ValueError("not a blosc buffer (bad header)")
    if nbytes != chunk_nbytes:
        raise ValueError(f"blosc buffer holds {nbytes} bytes, the chunk has {chunk_nbytes}")
    if cbytes != len(data):
        raise ValueError(f"blosc header says {cbytes} compressed bytes, found {len(data)}")
    if blocksize <= 0:
        raise ValueError("bad blosc block size")
    if not flags & 0x02 and nbytes:  # not memcpyed: check the block starts lie in the buffer
        nblocks = -(-nbytes // blocksize)
        table_end = 16 + 4 * nblocks
        if table_end > cbytes:
            raise ValueError("blosc block table runs past the buffer")
        starts = np.frombuffer(data, dtype="<i4", count=nblocks, offset=16)
        if starts.size and (int(starts.min()) < table_end or int(starts.max()) >= cbytes):
            raise ValueError("blosc block offsets point outside the buffer")
    elif flags & 0x02 and cbytes < 16 + nbytes:
        raise ValueError("memcpyed blosc buffer is too short")
    if _blosc_getitem is None or start % typesize or stop % typesize:
        from numcodecs.blosc import decompress

        return memoryview(decompress(data))[start:stop]
    out = np.empty(stop - start, dtype=np.uint8)
    n = _blosc_getitem(data, start // typesize, (stop - start) // typesize, out.ctypes.data)
    if n != stop - start:
        raise ValueError(f"blosc_getitem failed (returned {n})")
    return memoryview(out)


# --------------------------------------------------------------------------- layout


def _little_bytes_codec(codec: Any, itemsize: int) -> bool:
    if not isinstance(codec, dict) or codec.get("name") != "bytes":
        return False
    endian = (codec.get("configuration") or {}).get("endian")
    return endian == "little" or (endian is None and itemsize == 1)


def _v3_compressor(codecs: Any, itemsize: int) -> tuple[bool, str | None]:
    """(supported, compressor) for an inner v3 codec list: bytes + optional zstd/blosc."""
    if not isinstance(codecs, (list, tuple)) or not codecs or not _little_bytes_codec(codecs[0], itemsize):
        return False, None
    if len(codecs) == 1:
        return True, None
    if len(codecs) == 2 and isinstance(codecs[1], dict) and codecs[1].get("name") in ("zstd", "blosc"):
        return True, codecs[1]["name"]
    return False, None


def _layout(array: Any) -> dict[str, Any] | None:
    """What :class:`ChunkReader` needs to know about ``array``, or None when unsupported."""
    metadata = array.metadata
    doc = metadata.to_dict()
    shape = tuple(int(n) for n in array.shape)
    if not shape:
        return None
    dtype = np.dtype(array.dtype)
    if dtype.kind not in _KINDS or dtype.byteorder == ">" or dtype.fields is not None:
        return None
    itemsize = dtype.itemsize
    if doc.get("zarr_format") == 2:
        dtype_text = doc.get("dtype")
        if not isinstance(dtype_text, str) or dtype_text[:1] not in ("<", "|"):
            return None
        if doc.get("order", "C") != "C" or doc.get("filters"):
            return None
        compressor = doc.get("compressor")
        name = None if compressor is None else compressor.get("id")
        if name not in (None, "zstd", "blosc"):
            return None
        chunks = tuple(int(c) for c in doc["chunks"])
        inner = chunks
        sharding = None
    else:
        codecs = list(doc.get("codecs") or ())
        chunk_grid = doc.get("chunk_grid") or {}
        if chunk_grid.get("name") != "regular" or doc.get("storage_transformers"):
            return None
        chunks = tuple(int(c) for c in chunk_grid["configuration"]["chunk_shape"])
        if len(codecs) == 1 and codecs[0].get("name") == "sharding_indexed":
            config = codecs[0].get("configuration") or {}
            inner = tuple(int(c) for c in config.get("chunk_shape") or ())
            if len(inner) != len(shape) or any(c < 1 or s % c for s, c in zip(chunks, inner)):
                return None
            ok, name = _v3_compressor(list(config.get("codecs") or ()), itemsize)
            index_codecs = list(config.get("index_codecs") or ())
            if not ok or not index_codecs or not _little_bytes_codec(index_codecs[0], 8):
                return None
            if len(index_codecs) == 1:
                crc = 0
            elif len(index_codecs) == 2 and index_codecs[1].get("name") == "crc32c":
                crc = 4
            else:
                return None
            location = config.get("index_location", "end")
            if location not in ("start", "end"):
                return None
            per_shard = tuple(s // c for s, c in zip(chunks, inner))
            sharding = {
                "per_shard": per_shard,
                "index_nbytes": 16 * math.prod(per_shard) + crc,
                "at_end": location == "end",
            }
        else:
            ok, name = _v3_compressor(codecs, itemsize)
            if not ok:
                return None
            inner = chunks
            sharding = None
    if len(chunks) != len(shape) or any(c < 1 for c in chunks):
        return None
    fill = metadata.fill_value
    return {
        "shape": shape,
        "dtype": dtype,
        "outer": chunks,
        "inner": inner,
        "compressor": name,
        "sharding": sharding,
        "fill": None if fill is None else np.asarray(fill, dtype=dtype) if _fill_ok(fill, dtype) else None,
        "encode_key": metadata.encode_chunk_key,
    }


def _fill_ok(fill: Any, dtype: np.dtype) -> bool:
    try:
        np.asarray(fill, dtype=dtype)
    except (TypeError, ValueError, OverflowError):
        return False
    return True


class DirectoryFiles:
    """Chunk files of an array stored in a local directory (one file per key)."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    @contextmanager
    def open(self, key: str):
        """``(fd, base offset, size)`` of the file holding ``key``; FileNotFoundError if absent."""
        with open(self.directory / key, "rb") as f:
            yield f.fileno(), 0, os.fstat(f.fileno()).st_size


def chunk_reader(array: Any, where: str, directory: Any, fallback: Any) -> ChunkReader | None:
    """A :class:`ChunkReader` over ``array``, or None if unsupported.

    ``directory`` is the array's local folder, or an object with the ``open(key)`` of
    :class:`DirectoryFiles` (e.g. :class:`ngff.ozx.chunks.ArchiveFiles` for STORED
    entries of a local ``.ozx``); None disables the fast path.
    """
    if directory is None:
        return None
    try:
        layout = _layout(array)
    except Exception:  # unexpected metadata shapes: let zarr handle the array
        return None
    if layout is None:
        return None
    files = DirectoryFiles(Path(directory)) if isinstance(directory, (str, os.PathLike)) else directory
    return ChunkReader(layout, where, files, fallback)


# --------------------------------------------------------------------------- reader


class ChunkReader:
    """Array-like (``shape``, ``dtype``, ``ndim``, ``__getitem__``) for dask's ``from_array``.

    Selections inside one stored (inner) chunk are decoded partially from the files
    under ``directory``; all others are passed to ``fallback``.
    """

    def __init__(self, layout: dict[str, Any], where: str, directory: Any, fallback: Any):
        self._layout = layout
        self.where = where
        # DirectoryFiles or another ``open(key)`` provider (a plain folder is wrapped)
        self.directory = DirectoryFiles(directory) if isinstance(directory, (str, os.PathLike)) else directory
        self.fallback = fallback
        self.shape = layout["shape"]
        self.dtype = layout["dtype"]
        self.ndim = len(self.shape)
        self._inner = layout["inner"]
        self._chunk_items = math.prod(self._inner)
        self._indexes: OrderedDict[tuple[int, ...], np.ndarray | None] = OrderedDict()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ChunkReader({self.where!r}, shape={self.shape}, dtype={self.dtype})"

    def __getitem__(self, index: Any) -> Any:
        plan = self._plan(index)
        if plan is None:
            return self.fallback[index]
        result = self._read(*plan)
        if result is None:
            return self.fallback[index]
        return result

    # ------------------------------------------------------------------ planning

    def _plan(self, index: Any):
        """(chunk coords, local ranges, which axes are kept) or None for the fallback."""
        if not isinstance(index, tuple):
            index = (index,)
        if len(index) > self.ndim:
            return None
        index = index + (slice(None),) * (self.ndim - len(index))
        coords, ranges, keep = [], [], []
        for sel, n, c in zip(index, self.shape, self._inner):
            if isinstance(sel, (bool, np.bool_)):
                return None
            if isinstance(sel, (int, np.integer)):
                i = int(sel)
                if i < 0:
                    i += n
                if not 0 <= i < n:
                    return None
                start, stop, kept = i, i + 1, False
            elif isinstance(sel, slice):
                try:
                    start, stop, step = sel.indices(n)
                except (TypeError, ValueError):
                    return None
                if step != 1 or stop <= start:
                    return None
                kept = True
            else:
                return None
            k = start // c
            if (stop - 1) // c != k:
                return None
            coords.append(k)
            ranges.append((start - k * c, stop - k * c))
            keep.append(kept)
        # Split the chunk at the first axis selecting more than one element: the
        # selection then lies in one contiguous run of "rows" of that axis.
        split = next((a for a, (s, e) in enumerate(ranges) if e - s > 1), self.ndim - 1)
        row_items = math.prod(self._inner[split + 1 :])
        first_row = 0
        for a in range(split + 1):
            first_row = first_row * self._inner[a] + ranges[a][0]
        nrows = ranges[split][1] - ranges[split][0]
        if nrows * row_items >= self._chunk_items:
            return None  # the whole chunk: zarr decodes it as fast as we would
        return tuple(coords), ranges, keep, split, first_row, nrows, row_items

    # ------------------------------------------------------------------ reading

    def _read(self, coords, ranges, keep, split, first_row, nrows, row_items):
        itemsize = self.dtype.itemsize
        start = first_row * row_items * itemsize
        stop = start + nrows * row_items * itemsize
        key, path, offset, nbytes = self._locate(coords)
        raw = None if path is None else self._decode(key, path, offset, nbytes, start, stop)
        if raw is None:  # absent chunk
            fill = self._layout["fill"]
            if fill is None:
                return None
            block = np.full((nrows,) + self._inner[split + 1 :], fill, dtype=self.dtype)
        else:
            block = np.frombuffer(raw, dtype=self.dtype, count=nrows * row_items)
        block = block.reshape((1,) * split + (nrows,) + self._inner[split + 1 :])
        selection = []
        for a, ((s, e), kept) in enumerate(zip(ranges, keep)):
            if a < split:
                selection.append(slice(0, 1) if kept else 0)
            elif a == split:
                selection.append(slice(None) if kept else 0)
            else:
                selection.append(slice(s, e) if kept else s)
        return np.array(block[tuple(selection)], dtype=self.dtype, copy=True)

    def _decode(self, key: str, path: str, offset: int, nbytes: int | None, start: int, stop: int) -> Any:
        """Bytes ``start:stop`` of the decoded chunk stored under key ``path`` (None: absent)."""
        compressor = self._layout["compressor"]
        chunk_nbytes = self._chunk_items * self.dtype.itemsize
        try:
            with self.directory.open(path) as (fd, base, size):
                offset += base
                if nbytes is None:
                    nbytes = size
                if compressor is None:
                    if nbytes != chunk_nbytes:
                        raise ValueError(f"uncompressed chunk holds {nbytes} bytes, expected {chunk_nbytes}")
                    raw = os.pread(fd, stop - start, offset + start)
                    if len(raw) != stop - start:
                        raise ValueError("short read")
                    return raw
                if compressor == "zstd":
                    # Stream from the file: only the compressed bytes of the prefix are read.
                    return _zstd_prefix(_RangeReader(fd, offset, nbytes), stop)[start:stop]
                data = os.pread(fd, nbytes, offset)
                if len(data) != nbytes:
                    raise ValueError("short read")
                return _blosc_range(data, chunk_nbytes, start, stop)
        except (FileNotFoundError, NotADirectoryError):
            if self._layout["sharding"] is None:
                return None
            raise StoreError(f"shard of chunk {key!r} disappeared", location=self._where(key)) from None
        except OSError as exc:
            raise StoreError(f"cannot read chunk {key!r}: {exc.strerror or exc}", location=self._where(key)) from exc
        except Exception as exc:  # zstandard, blosc and size errors
            raise StoreError(f"cannot decode chunk {key!r}: {exc}", location=self._where(key)) from exc

    def _where(self, key: str) -> str:
        return f"{self.where.rstrip('/')}/{key}"

    def _locate(self, coords: tuple[int, ...]) -> tuple[str, str | None, int, int | None]:
        """(key, file, offset, size) of the encoded inner chunk at ``coords``.

        The file is None when the chunk is absent; the size is None for a whole file.
        """
        sharding = self._layout["sharding"]
        encode_key = self._layout["encode_key"]
        if sharding is None:
            key = encode_key(coords)
            return key, key, 0, None
        per_shard = sharding["per_shard"]
        shard = tuple(k // p for k, p in zip(coords, per_shard))
        key = encode_key(shard)
        position = 0
        for k, p in zip(coords, per_shard):
            position = position * p + k % p
        label = f"{key} (inner chunk {'.'.join(map(str, coords))})"
        path = key
        try:
            with self.directory.open(key) as (fd, base, size):
                index = self._shard_index(shard, fd, base, size, key, sharding)
                offset, nbytes = (int(v) for v in index[position])
                if offset == _EMPTY and nbytes == _EMPTY:
                    return label, None, 0, None
                if offset + nbytes > size:
                    raise StoreError(
                        f"shard index of {key!r} points past the end of the shard "
                        f"({offset}+{nbytes} > {size} bytes)",
                        location=self._where(key),
                    )
                return label, path, offset, nbytes
        except (FileNotFoundError, NotADirectoryError):
            return label, None, 0, None
        except OSError as exc:
            raise StoreError(f"cannot read chunk {label!r}: {exc.strerror or exc}", location=self._where(key)) from exc

    def _shard_index(self, shard: tuple[int, ...], fd: int, base: int, size: int, key: str, sharding: dict[str, Any]) -> np.ndarray:
        with self._lock:
            index = self._indexes.get(shard)
            if index is not None:
                self._indexes.move_to_end(shard)
                return index
        nbytes = sharding["index_nbytes"]
        if size < nbytes:
            raise StoreError(
                f"shard {key!r} is {size} bytes, shorter than its {nbytes}-byte index", location=self._where(key)
            )
        raw = os.pread(fd, nbytes, base + (size - nbytes if sharding["at_end"] else 0))
        if len(raw) != nbytes:
            raise StoreError(f"short read of the index of shard {key!r}", location=self._where(key))
        entries = math.prod(sharding["per_shard"])
        index = np.frombuffer(raw, dtype="<u8", count=2 * entries).reshape(entries, 2)
        with self._lock:
            self._indexes[shard] = index
            while len(self._indexes) > _INDEX_CACHE_SIZE:
                self._indexes.popitem(last=False)
        return index
