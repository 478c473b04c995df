"""Write edits back into an existing OME-Zarr image: one region, its whole pyramid.

:func:`update_region` replaces a region of one level of an image (or label image) and
regenerates only the part of every coarser level that region influences, with the
image's own downsampling method, so the store ends up exactly as a full rewrite with
:func:`ngff.write` would have made it.  Only the chunks (or shards) whose content changes
are rewritten; every other file keeps its bytes and its modification time.

How the affected part of a coarser level is found: each output pixel of a reduction by
``s`` reads the input pixels ``s * i + offset`` for the method's tap offsets (for
``gaussian`` the tent's ``2 * s - 1`` taps, for ``mean``/``mode``/``min``/``max`` the
block ``0 .. s - 1``), mirrored at the image border as :mod:`ngff.pyramid` does.  An
output is recomputed when one of its (mirrored) taps reads a changed pixel; it is
computed from the level above (old values outside the change, new ones inside), so the
filter's support margin and the border handling are exactly those of the writer.

Safety: the store is locked for the whole update (:mod:`ngff.locking`); new chunk and
shard bytes are staged under temporary names and committed by a journal
(:mod:`ngff.atomic`), so a killed update leaves the store as before or, once committed,
is completed by the next writer or by :func:`recover`.  Metadata is never rewritten.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import FsspecTarget, LocalTarget, Target, Transaction
from .atomic import pending as _pending
from .atomic import recover as _recover
from .errors import InvalidMetadataError, NgffError, StoreError
from .locking import StoreLock, store_root
from .pyramid import METHODS, _mirror, _taps, default_method
from .store import Store, join, open_store

__all__ = ["UpdateResult", "downsampling_method", "label_target", "recover", "update_region"]

Box = tuple[tuple[int, int], ...]


@dataclass
class UpdateResult:
    """What :func:`update_region` changed.

    Attributes
    ----------
    location
        The image updated.
    regions
        Per level (from the level written down to the coarsest), the region whose values
        were recomputed, as slices; None for a level not reached (nothing changed there).
    keys
        Store keys (relative to the store root) rewritten or deleted.
    bytes_written
        Bytes of chunk/shard data written.
    method
        The downsampling method used for the coarser levels.
    """

    location: str
    regions: list[tuple[slice, ...] | None] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    bytes_written: int = 0
    method: str = ""


# --------------------------------------------------------------------------- where


@dataclass
class _Place:
    """An image location opened for updating: reading store, key target, lock."""

    store: Store
    target: Target
    lock: StoreLock
    prefix: str  # path of the opened location below the target's root


def _open_place(location: Any) -> tuple[_Place, str]:
    """Open ``location`` (a path, URL or :class:`~ngff.Image`) for writing; returns (place, image path)."""
    from .model import Image

    group = ""
    if isinstance(location, Image):
        location, group = location.location, location.path
    text = os.fspath(location)
    if "://" in text and not text.startswith("file://"):
        return _open_remote(text), group
    text = text.removeprefix("file://")
    path = Path(text).expanduser().absolute()
    if path.is_file():
        raise StoreError(
            "editing a zip archive (.ozx) in place is not supported; the archive must be rewritten",
            location=str(path),
            rule="zip stores are written once",
        )
    store = open_store(path)
    root = store_root(path)
    prefix = path.relative_to(root).as_posix() if path != root else ""
    target = LocalTarget(root, str(root))
    return _Place(store, target, StoreLock(root, str(path)), join(prefix)), group


def _open_remote(url: str) -> _Place:
    try:
        import fsspec
    except ImportError as exc:  # pragma: no cover - fsspec comes with zarr's remote support
        raise StoreError("writing to URLs needs fsspec", location=url) from exc
    try:
        fs, root = fsspec.core.url_to_fs(url.rstrip("/"))
    except Exception as exc:
        raise StoreError(f"cannot open for writing: {exc}", location=url) from exc
    store = open_store(url)
    return _Place(store, FsspecTarget(fs, root, url), StoreLock((fs, root), url), "")


@contextlib.contextmanager
def _locked(place: _Place) -> Iterator[None]:
    with place.lock:
        _recover(place.target)
        yield


def recover(location: str | os.PathLike[str]) -> str | None:
    """Complete (or undo) an update or label write that was interrupted.

    Writers do this themselves before they start; call it to repair a store without
    writing anything new.

    Returns
    -------
    str or None
        ``"completed"`` when a committed update was finished, ``"rolled back"`` when
        staged files of an uncommitted one were removed, None when nothing was pending.
    """
    place, _ = _open_place(location)
    with place.lock:
        return _recover(place.target)


def pending_update(store: Store) -> str | None:
    """Whether an interrupted update left a journal in a local store (for validators)."""
    if store.root is None:
        return None
    return _pending(LocalTarget(store_root(store.root)))


# --------------------------------------------------------------------------- method


_ALIASES = {
    "local_mean": "mean",
    "average": "mean",
    "mean": "mean",
    "nearest": "nearest",
    "stride": "nearest",
    "subsample": "nearest",
    "decimate": "nearest",
    "mode": "mode",
    "min": "min",
    "max": "max",
}


def downsampling_method(multiscale: Any, is_label: bool) -> str:
    """The :data:`~ngff.pyramid.METHODS` entry an image's pyramid was made with.

    ``metadata.method`` written by ngff (``"ngff.pyramid.<method>"``) is exact; otherwise
    the multiscale ``type`` (or method) is mapped by name (``gaussian``, ``local_mean``,
    ``mode``, ``nearest``, ...); unknown or missing names give the default for the
    image kind (``mode`` for labels, ``gaussian`` otherwise).
    """
    meta = multiscale.metadata if isinstance(multiscale.metadata, dict) else {}
    named = meta.get("method")
    if isinstance(named, str) and named.startswith("ngff.pyramid.") and named.split(".")[-1] in METHODS:
        return named.split(".")[-1]
    for text in (multiscale.type, named):
        if not isinstance(text, str):
            continue
        lower = text.lower()
        if lower in METHODS:
            return lower
        for key, method in _ALIASES.items():
            if key in lower:
                return method
        if "gauss" in lower:
            return "gaussian"
    return default_method(is_label)


def _offsets(method: str, step: int) -> np.ndarray:
    if step == 1:
        return np.zeros(1, dtype=np.int64)
    if method == "mode":
        return np.arange(step, dtype=np.int64)
    return np.array([o for o, _ in _taps(method, step)], dtype=np.int64)


def _affected(
    changed: tuple[int, int], n_in: int, n_out: int, step: int, method: str
) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Outputs ``[lo, hi)`` reading a changed input, and the input span they need."""
    a, b = changed
    positions = step * np.arange(n_out, dtype=np.int64)[:, None] + _offsets(method, step)[None, :]
    if method == "mode":
        positions = np.clip(positions, 0, n_in - 1)
    else:
        positions = _mirror(positions, n_in)
    hit = np.flatnonzero(((positions >= a) & (positions < b)).any(axis=1))
    if hit.size == 0:
        return None
    lo, hi = int(hit[0]), int(hit[-1]) + 1
    need = positions[lo:hi]
    return (lo, hi), (int(need.min()), int(need.max()) + 1)


# --------------------------------------------------------------------------- levels


@dataclass
class _Level:
    path: str  # array path below the opened location
    array: Any  # zarr.Array (read-only view of the store)
    encoder: Any  # zarr.Array over a MemoryStore with the same metadata
    memory: dict[str, Any]
    unit: tuple[int, ...]  # chunk or shard shape: the unit of one key
    shards: Any = None  # ngff.shardwrite.ShardWriter when shards can be spliced
    encode: Any = None  # chunk -> stored bytes, for plain chunked layouts numcodecs handles

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)


def _open_level(store: Store, image_path: str, level_path: str, separator: str) -> _Level:
    import zarr
    from zarr.core.array import AsyncArray
    from zarr.storage import MemoryStore, StorePath

    path = join(image_path, level_path)
    node = store.node(path)
    if node is None or node.node_type != "array":
        raise InvalidMetadataError("level array missing", location=store.where(path))
    array = store.open_array(node, dimension_separator=separator)
    meta = dict(node.document)
    if node.zarr_format == 2:
        meta.setdefault("dimension_separator", separator)
        meta["zarr_format"] = 2
        meta["attributes"] = dict(node.attributes)
    memory: dict[str, Any] = {}
    encoder = zarr.Array(AsyncArray(metadata=meta, store_path=StorePath(MemoryStore(store_dict=memory), "")))
    shards = getattr(array, "shards", None)
    unit = tuple(shards) if shards else tuple(array.chunks)
    splicer = None
    if shards:
        from .shardwrite import shard_writer

        splicer = shard_writer(array)  # None for layouts it does not know: zarr encodes then
    return _Level(path, array, encoder, memory, unit, splicer, None if shards else _chunk_encoder(array))


def _chunk_encoder(array: Any) -> Callable[[np.ndarray], bytes] | None:
    """Encode one whole chunk as the array stores it, with numcodecs directly.

    Several times faster than zarr's pipeline on an in-memory store for a handful of
    chunks.  Only plain layouts (v3: ``bytes`` then known compressors; v2: a compressor,
    no filters, C order); None otherwise, and zarr encodes.
    """
    from .shardwrite import _numcodecs_of

    meta = array.metadata
    dtype = np.dtype(array.dtype)
    if meta.zarr_format == 3:
        from zarr.codecs import BytesCodec

        codecs = tuple(meta.codecs)
        if not codecs or not isinstance(codecs[0], BytesCodec):
            return None
        compressors = tuple(_numcodecs_of(c) for c in codecs[1:])
        endian = str(getattr(codecs[0].endian, "value", codecs[0].endian))
        byteorder = None if dtype.itemsize == 1 or endian == "None" else ("<" if endian == "little" else ">")
    else:
        if getattr(meta, "filters", None) or getattr(meta, "order", "C") != "C":
            return None
        compressors = (meta.compressor,) if meta.compressor is not None else ()
        byteorder = None
    if any(c is None for c in compressors) or dtype.kind not in "biuf":
        return None

    def encode(chunk: np.ndarray) -> bytes:
        if byteorder is not None:
            chunk = chunk.astype(chunk.dtype.newbyteorder(byteorder), copy=False)
        data: Any = np.ascontiguousarray(chunk)
        if typed_bytes:  # v3 codecs carry their typesize; v2's Blosc takes it from the buffer
            data = data.view(np.uint8).reshape(-1)
        for codec in compressors:
            data = codec.encode(data)
        return bytes(data)

    typed_bytes = meta.zarr_format == 3
    return encode


def _slices(box: Box) -> tuple[slice, ...]:
    return tuple(slice(a, b) for a, b in box)


def _units(box: Box, unit: Sequence[int], shape: Sequence[int]) -> Iterator[Box]:
    """Boxes (clipped to the array) of the write units a box touches, in C order."""
    ranges = [range(a // u, -(-b // u)) for (a, b), u in zip(box, unit)]
    for index in itertools.product(*ranges):
        yield tuple((i * u, min((i + 1) * u, n)) for i, u, n in zip(index, unit, shape))


def _intersect(a: Box, b: Box) -> Box | None:
    out = tuple((max(x0, y0), min(x1, y1)) for (x0, x1), (y0, y1) in zip(a, b))
    return None if any(lo >= hi for lo, hi in out) else out


def _local(inner: Box, outer: Box) -> tuple[slice, ...]:
    return tuple(slice(a - o, b - o) for (a, b), (o, _) in zip(inner, outer))


def _read(level: _Level, box: Box) -> np.ndarray:
    try:
        return np.asarray(level.array[_slices(box)])
    except NgffError:
        raise
    except Exception as exc:
        raise StoreError(f"cannot read the region {list(box)}: {exc}", location=level.path) from exc


def _stage_level(
    level: _Level, changed: Box, values: np.ndarray, tx: Transaction, key_prefix: str
) -> tuple[bool, Box, np.ndarray]:
    """Stage the units of ``level`` whose content ``values`` (over ``changed``) alters.

    The touched units are read and encoded together (one call each, so zarr decodes and
    encodes them in parallel).  Returns whether anything changed, and the units' hull
    with its new values (the next level's source, mostly).
    """
    if level.shards is not None:
        return _stage_shards(level, changed, values, tx, key_prefix)
    units = list(_units(changed, level.unit, level.shape))
    hull = tuple((min(u[d][0] for u in units), max(u[d][1] for u in units)) for d in range(len(changed)))
    old = _read(level, hull)
    new = old.copy()
    new[_local(changed, hull)] = values
    nan = new.dtype.kind in "fc"
    if np.array_equal(old, new, equal_nan=nan):
        return False, hull, new
    level.memory.clear()
    fill = level.array.metadata.fill_value
    if level.encode is None:
        try:
            level.encoder[_slices(hull)] = new
        except Exception as exc:
            raise StoreError(f"cannot encode the new chunks: {exc}", location=level.path) from exc
    for unit in units:
        inner = _local(unit, hull)
        if np.array_equal(old[inner], new[inner], equal_nan=nan):
            continue  # this file keeps its bytes and mtime
        key = _unit_key(level, unit)
        if level.encode is not None:
            part = new[inner]
            if not np.any(part != fill):  # all fill value: zarr stores no chunk
                tx.delete(join(key_prefix, level.path, key))
                continue
            if part.shape != level.unit:  # an edge chunk is stored padded to the full shape
                padded = np.full(level.unit, fill, dtype=part.dtype)
                padded[tuple(slice(0, n) for n in part.shape)] = part
                part = padded
            tx.put(join(key_prefix, level.path, key), level.encode(part))
        elif key in level.memory:
            tx.put(join(key_prefix, level.path, key), level.memory[key].to_bytes())
        else:  # all fill value: zarr stores no key, so remove the old one
            tx.delete(join(key_prefix, level.path, key))
    level.memory.clear()
    return True, hull, new


def _stage_shards(
    level: _Level, changed: Box, values: np.ndarray, tx: Transaction, key_prefix: str
) -> tuple[bool, Box, np.ndarray]:
    """Sharded levels: re-encode only the inner chunks that change; copy the others' bytes.

    Each touched shard is still written whole (one file, replaced by a rename), but its
    unchanged inner chunks keep their compressed bytes, so the cost is that of the
    inner chunks the edit reaches.
    """
    writer = level.shards
    inner_shape = writer.chunk_shape
    chunks = list(_units(changed, inner_shape, level.shape))
    hull = tuple((min(u[d][0] for u in chunks), max(u[d][1] for u in chunks)) for d in range(len(changed)))
    old = _read(level, hull)
    new = old.copy()
    new[_local(changed, hull)] = values
    nan = new.dtype.kind in "fc"
    if np.array_equal(old, new, equal_nan=nan):
        return False, hull, new
    cps = writer.chunks_per_shard()
    count = int(np.prod(cps))
    index_bytes = 16 * count + (4 if writer.index_checksum else 0)
    by_shard: dict[tuple[int, ...], list[Box]] = {}
    for chunk in chunks:
        inner = _local(chunk, hull)
        if not np.array_equal(old[inner], new[inner], equal_nan=nan):
            by_shard.setdefault(tuple(a // s for (a, _), s in zip(chunk, writer.shard_shape)), []).append(chunk)
    for coords, edited in by_shard.items():
        key = join(key_prefix, level.path, writer.key(coords))
        raw = tx.target.get(key)
        if raw is not None and len(raw) >= index_bytes:
            table = raw[:index_bytes] if writer.index_at_start else raw[len(raw) - index_bytes :]
            index = np.frombuffer(table[: 16 * count], dtype="<u8").reshape(*cps, 2)
        else:
            index = np.full((*cps, 2), np.iinfo(np.uint64).max, dtype=np.uint64)
        replaced: dict[tuple[int, ...], bytes | None] = {}
        for chunk in edited:
            inner_index = tuple((a // c) % n for (a, _), c, n in zip(chunk, inner_shape, cps))
            part = new[_local(chunk, hull)]
            if not writer.write_empty_chunks and not np.any(part != writer.fill_value):
                replaced[inner_index] = None
                continue
            if part.shape != tuple(inner_shape):
                padded = np.full(inner_shape, writer.fill_value, dtype=writer.dtype)
                padded[tuple(slice(0, n) for n in part.shape)] = part
                part = padded
            replaced[inner_index] = writer.encode_chunk(part)
        pieces: list[bytes] = []
        offset = index_bytes if writer.index_at_start else 0
        out_index = np.full((*cps, 2), np.iinfo(np.uint64).max, dtype=np.uint64)
        for inner_index in np.ndindex(*cps):
            if inner_index in replaced:
                data = replaced[inner_index]
            else:
                start, size = (int(v) for v in index[inner_index])
                data = None if start == np.iinfo(np.uint64).max or raw is None else raw[start : start + size]
            if data is None:
                continue
            pieces.append(data)
            out_index[inner_index] = (offset, len(data))
            offset += len(data)
        if not pieces and not writer.write_empty_chunks:
            tx.delete(key)  # every inner chunk is fill value: zarr stores no shard
            continue
        table = writer.encode_index(out_index)
        tx.put(key, b"".join([table, *pieces]) if writer.index_at_start else b"".join([*pieces, table]))
    return True, hull, new


def _unit_key(level: _Level, unit: Box) -> str:
    index = tuple(a // u for (a, _), u in zip(unit, level.unit))
    return level.encoder.metadata.encode_chunk_key(index)


def _normalise_region(region: Any, shape: Sequence[int], where: str) -> Box:
    if not isinstance(region, tuple):
        region = (region,)
    if any(r is Ellipsis for r in region):
        i = region.index(Ellipsis)
        region = region[:i] + (slice(None),) * (len(shape) - len(region) + 1) + region[i + 1 :]
    region = region + (slice(None),) * (len(shape) - len(region))
    if len(region) != len(shape):
        raise NgffError(f"a region of {len(region)} axes for a {len(shape)}-D level", location=where, rule="region")
    box = []
    for d, (r, n) in enumerate(zip(region, shape)):
        if isinstance(r, (int, np.integer)) and not isinstance(r, bool):
            r = slice(int(r), int(r) + 1)
        if not isinstance(r, slice):
            raise NgffError(f"region[{d}] must be a slice or an int, got {r!r}", location=where, rule="region")
        start, stop, step = r.indices(n)
        if step != 1 or stop <= start:
            raise NgffError(f"region[{d}] = {r} is empty or strided in an axis of {n}", location=where, rule="region")
        box.append((start, stop))
    return tuple(box)


def _as_values(data: Any, box: Box, dtype: np.dtype, where: str) -> np.ndarray:
    shape = tuple(b - a for a, b in box)
    values = np.asarray(data.compute() if hasattr(data, "compute") else data)
    if values.dtype != dtype:
        if values.dtype.kind == "f" and dtype.kind in "iub":
            raise NgffError(f"cannot store {values.dtype} values in a {dtype} image", location=where, rule="dtype")
        if dtype.kind in "iu" and values.size and values.dtype.kind in "iub":
            info = np.iinfo(dtype)
            if values.min() < info.min or values.max() > info.max:
                raise NgffError(f"values exceed the range of the image's {dtype}", location=where, rule="dtype")
        values = values.astype(dtype)
    try:
        return np.broadcast_to(values, shape)
    except ValueError as exc:
        raise NgffError(f"data of shape {values.shape} does not fit the region {shape}", location=where, rule="region") from exc


def _steps(image: Any, where: str) -> list[tuple[int, ...]]:
    """Integer factor per axis from each level to the next (from the level shapes and scales)."""
    out = []
    for k in range(1, len(image.levels)):
        step = []
        for d in range(len(image.dims)):
            prev, cur = image.scales[k - 1][d], image.scales[k][d]
            ratio = cur / prev if prev else 1.0
            n_prev, n_cur = image.levels[k - 1].shape[d], image.levels[k].shape[d]
            s = int(round(ratio))
            if s < 1 or abs(ratio - s) > 1e-6 * max(1.0, ratio):
                s = max(1, int(round(n_prev / n_cur))) if n_cur else 1
            if not (n_prev // s <= n_cur <= -(-n_prev // s)):
                raise NgffError(
                    f"level {k} is not an integer downsampling of level {k - 1} along axis {image.dims[d]!r}",
                    location=where,
                    rule="pyramid levels are regenerated by integer reductions",
                )
            step.append(s)
        out.append(tuple(step))
    return out


def update_region(
    location: Any,
    region: Any,
    data: Any,
    *,
    level: int = 0,
    method: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> UpdateResult:
    """Write ``data`` into ``region`` of one level and regenerate the coarser levels there.

    Parameters
    ----------
    location
        The image or label image (``"img.ome.zarr"``, ``"img.ome.zarr/labels/cells"``,
        a URL, or an opened :class:`~ngff.Image`).
    region
        A tuple of slices (or ints) in the pixel coordinates of ``level``, one per axis
        (missing trailing axes and ``...`` mean whole axes).
    data
        Values of the region: an array of its shape (numpy, dask) or anything that
        broadcasts to it, in a dtype that fits the image's.
    level
        Index of the level written; the levels coarser than it are regenerated, finer
        ones are left alone.
    method
        Downsampling method; default the one recorded in the multiscale metadata (see
        :func:`downsampling_method`).
    progress
        Called as ``progress(done, total)`` after each level.

    Returns
    -------
    UpdateResult
        The regions recomputed per level, the keys rewritten and the bytes written.

    Raises
    ------
    NgffError
        Bad region, data or store (nothing is changed); ``StoreLockedError`` when
        another writer holds the store; ``StoreError`` for I/O failures (disk full,
        permission denied), after which the store is as it was.
    """
    from .reader import read_image
    from .spec import get_spec

    archive = _archive_of(location)
    if archive is not None:
        return _update_archive(archive, region, data, level=level, method=method, progress=progress)
    place, group = _open_place(location)
    where = place.store.where(group)
    with _locked(place):
        image = read_image(place.store, group)
        if not 0 <= level < len(image.levels):
            raise NgffError(f"level {level} does not exist (the image has {len(image.levels)})", location=where, rule="level")
        chosen = method or downsampling_method(image.multiscale, image.is_label)
        if chosen not in METHODS:
            raise NgffError(f"unknown downsampling method {chosen!r}; choose one of {', '.join(METHODS)}", rule="method")
        steps = _steps(image, where)
        separator = get_spec(image.version).dimension_separator
        result = UpdateResult(location=where, method=chosen)
        result.regions = [None] * (len(image.levels) - level)
        current = _open_level(place.store, group, image.level_paths[level], separator)
        box = _normalise_region(region, current.shape, where)
        values = _as_values(data, box, np.dtype(current.array.dtype), where)
        # Shrink to what really differs: unchanged pixels change nothing below.
        old = _read(current, box)
        diff = old != values
        if values.dtype.kind in "fc":
            diff &= ~(np.isnan(old) & np.isnan(values))
        if not diff.any():
            return result
        hull = tuple((a + int(i.min()), a + int(i.max()) + 1) for i, (a, _) in zip(np.nonzero(diff), box))
        values = values[_local(hull, box)]
        box = hull
        tx = Transaction(place.target)
        try:
            total = len(image.levels) - level
            hull, staged = box, values  # the last level staged: its touched units and their new values
            for j in range(level, len(image.levels)):
                if j > level:
                    nxt = _open_level(place.store, group, image.level_paths[j], separator)
                    spans = []
                    for d in range(len(box)):
                        span = _affected(box[d], current.shape[d], nxt.shape[d], steps[j - 1][d], chosen)
                        if span is None:
                            break
                        spans.append(span)
                    if len(spans) < len(box):
                        break
                    out_box = tuple(s[0] for s in spans)
                    in_box = tuple(s[1] for s in spans)
                    if _intersect(in_box, hull) == in_box:  # already in memory, new values included
                        source = staged[_local(in_box, hull)]
                    else:
                        source = _read(current, in_box)
                        inside = _intersect(in_box, box)
                        if inside is not None:
                            source[_local(inside, in_box)] = values[_local(inside, box)]
                    values = _reduce(source, steps[j - 1], chosen, in_box, out_box, current.shape, where)
                    current, box = nxt, out_box
                result.regions[j - level] = _slices(box)
                changed, hull, staged = _stage_level(current, box, values, tx, place.prefix)
                if not changed:
                    break  # this level is unchanged, so are all coarser ones
                if progress is not None:
                    progress(j - level + 1, total)
            tx.commit()
        except BaseException:
            tx.abort()
            raise
        result.keys = tx.keys
        result.bytes_written = tx.bytes_written
        return result


def _archive_of(location: Any) -> tuple[Path, str] | None:
    """(archive path, image path inside) when ``location`` is a zip file (``.ozx``)."""
    from .model import Image

    group = ""
    if isinstance(location, Image):
        location, group = location.location, location.path
    text = os.fspath(location)
    if "://" in text and not text.startswith("file://"):
        return None
    path = Path(text.removeprefix("file://")).expanduser().absolute()
    if path.is_file():
        return path, group
    for parent in path.parents:  # "image.ozx/labels/cells": a group inside an archive
        if parent.is_file():
            return parent, join(path.relative_to(parent).as_posix(), group)
    return None


def _update_archive(archive: tuple[Path, str], region: Any, data: Any, **options: Any) -> UpdateResult:
    """Update an image inside a ``.ozx`` archive: extract, update, repack in one rename."""
    path, group = archive
    try:
        from .ozx.pack import edit
    except ImportError as exc:
        raise StoreError("updating a .ozx archive needs archive rewriting (ngff.ozx), which is not available", location=str(path)) from exc
    with StoreLock(path.parent, str(path), name=f".{path.name}.ngff-lock"):
        with edit(path) as folder:
            result = update_region(Path(folder) / group if group else Path(folder), region, data, **options)
    result.location = f"{path}/{group}" if group else str(path)
    return result


def _reduce(source: np.ndarray, step: Sequence[int], method: str, in_box: Box, out_box: Box, in_size: Sequence[int], where: str) -> np.ndarray:
    from .pyramid import reduce_block

    try:
        return reduce_block(source, step, method, [a for a, _ in in_box], list(out_box), list(in_size))
    except (ValueError, IndexError) as exc:
        raise NgffError(f"cannot regenerate the pyramid here: {exc}", location=where, rule="pyramid") from exc


# --------------------------------------------------------------------------- labels


class LabelTarget:
    """Where :func:`ngff.write_labels` writes a label image of an existing image.

    Local directories are written in place, under the store's write lock.  Remote
    (fsspec) stores get the label image written to a local staging directory first and
    uploaded by :meth:`publish`: pixels first, array metadata next, the label group's
    metadata and then the ``labels`` group's list last.  ``.ozx`` archives are extracted,
    changed and repacked in one rename by :func:`ngff.ozx.pack.edit`.

    Attributes
    ----------
    root
        Local directory standing for the image group (the image itself, or staging).
    overwrite
        Whether an existing ``labels/<name>`` may be replaced: as asked, or because it
        is the unlisted leftover of an interrupted write (re-running completes it).
    """

    def __init__(self, image_location: Any, name: str, overwrite: bool):
        import tempfile

        text = os.fspath(image_location)
        self._remote = "://" in text and not text.startswith("file://")
        self._staging: Any = None
        self._archive: Any = None
        local = Path(text.removeprefix("file://")).expanduser().absolute()
        if self._remote:
            self.place: Any = _open_remote(text)
            self.lock = self.place.lock
        elif local.is_file():
            self.place = None
            self.lock = StoreLock(local.parent, str(local), name=f".{local.name}.ngff-lock")
        else:
            self.place, _ = _open_place(local)
            self.lock = self.place.lock
        self.lock.acquire()
        try:
            if self.place is not None:
                _recover(self.place.target)
            self.overwrite = overwrite or self._leftover(text, name)
            if self._remote:
                if self.place.target.exists(f"labels/{name}") and not self.overwrite:
                    raise StoreError(
                        "the destination exists; pass overwrite=True to replace it",
                        location=f"{text.rstrip('/')}/labels/{name}",
                    )
                self._staging = tempfile.TemporaryDirectory(prefix="ngff-labels-")
                self.root = Path(self._staging.name)
            elif self.place is None:
                self.root = self._open_archive(local)
            else:
                self.root = Path(self.place.store.root or local)
                for stale in (self.root / "labels").glob(f".{name}.ngff-tmp-*"):
                    import shutil

                    shutil.rmtree(stale, ignore_errors=True)  # a killed writer's partial copy
        except BaseException:
            self.lock.release()
            raise

    def _open_archive(self, path: Path) -> Path:
        try:
            from .ozx.pack import edit
        except ImportError as exc:
            raise StoreError(
                "adding labels to a .ozx archive needs archive rewriting (ngff.ozx), which is not available",
                location=str(path),
            ) from exc
        self._archive = edit(path)
        return Path(self._archive.__enter__())

    @staticmethod
    def _leftover(location: str, name: str) -> bool:
        """True when ``labels/<name>`` exists but the ``labels`` group does not list it."""
        from .reader import read

        try:
            image = read(location)
            listed = name in getattr(image, "labels", {})
        except NgffError:
            return False
        if listed:
            return False
        try:
            store = open_store(location)
            return store.node(f"labels/{name}") is not None
        except NgffError:
            return False

    def guard(self, make: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``make(*args, **kwargs)``, releasing the lock if it raises."""
        try:
            return make(*args, **kwargs)
        except BaseException:
            self.abort()
            raise

    def publish(self, name: str, register: Callable[[], None]) -> None:
        """List the label image (``register``), make it visible, release the lock."""
        try:
            register()
            if self._remote:
                self._upload(name)
            elif self._archive is not None:
                archive, self._archive = self._archive, None
                archive.__exit__(None, None, None)  # repacks, replacing the archive in one rename
        finally:
            self.abort()

    def _upload(self, name: str) -> None:
        target = self.place.target
        base = self.root / "labels" / name
        files = sorted(p for p in base.rglob("*") if p.is_file() and not p.name.startswith(".ngff-"))
        meta_names = ("zarr.json", ".zattrs", ".zgroup", ".zarray")
        group_meta = [p for p in files if p.name in meta_names and p.parent == base]
        # Pixels first, then array metadata, then the group's metadata: a reader never
        # finds a label image that says it exists before its arrays do.
        pixels = [p for p in files if p.name not in meta_names]
        arrays = [p for p in files if p.name in meta_names and p not in group_meta]
        for path in [*pixels, *arrays, *group_meta]:
            target.write_new(path.relative_to(self.root).as_posix(), path.read_bytes())
        for meta in (".zgroup", ".zattrs", "zarr.json"):
            path = self.root / "labels" / meta
            if path.is_file():
                target.write_new(f"labels/{meta}", path.read_bytes())

    def abort(self) -> None:
        """Release the lock and any staging (idempotent); an archive is left unchanged."""
        try:
            if self._archive is not None:
                archive, self._archive = self._archive, None
                archive.__exit__(StoreError, StoreError("aborted"), None)
            if self._staging is not None:
                self._staging.cleanup()
                self._staging = None
        finally:
            self.lock.release()


def label_target(image_location: Any, name: str, overwrite: bool = False) -> LabelTarget:
    """The :class:`LabelTarget` for adding label image ``name`` to an image (locks it)."""
    return LabelTarget(image_location, name, overwrite)
