"""Lazy readers of input files, each returning a :class:`SourceImage`.

The pixels of a source are a :class:`FileArray`: a small array-like (``shape``,
``dtype``, ``ndim``, ``__getitem__``) that reads only the region asked for, in
OME-Zarr axis order, straight from the file.  It is handed to :func:`ngff.write` as is
rather than wrapped in a dask array, so that

* the writer's region tasks each read their own region from the file (memory stays
  bounded by the region size, whatever the file size), and
* it pickles as the file's path, not as its pixels: on a ``dask.distributed`` cluster
  every worker opens the file itself (the file must be reachable from the workers).

``FileArray.to_dask()`` gives a dask array over the same reads for other uses.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import NgffError, StoreError

__all__ = ["FileArray", "SourceImage", "axis_names", "canonical_order", "open_source"]

#: Canonical OME-Zarr axis order: time, channel (or one custom axis), then z, y, x.
_RANK = {"t": 0, "z": 2, "y": 3, "x": 4}
#: Axis names given to an array that carries none, by number of dimensions.
DEFAULT_DIMS = {2: "yx", 3: "zyx", 4: "czyx", 5: "tczyx"}


def _rank(name: str) -> int:
    return _RANK.get(name, 1)  # c and custom axes sit between time and space


def canonical_order(names: tuple[str, ...]) -> list[int]:
    """Permutation putting file axes in OME-Zarr order (stable for equal ranks)."""
    return sorted(range(len(names)), key=lambda i: _rank(names[i]))


class FileArray:
    """Read-on-demand pixels of one image in a file, in OME-Zarr axis order.

    Parameters
    ----------
    kind
        How the file is opened: ``"npy"``, ``"tiff"``, ``"glob"``, ``"imageio"``,
        ``"bioio"``, or ``"package.module:function"`` for a reader living elsewhere
        (called as ``function(path, series, options)`` and returning an array-like in
        file axis order, optionally with a handle to close: ``(array, handle)``).
    path
        The file.
    shape, dtype
        Shape (file axis order) and dtype of the stored pixels.
    order
        Permutation from file axes to the axes of this array (``numpy.transpose`` order).
    series
        Image series (TIFF series, bioio scene index).
    options
        Picklable extra arguments of the opener (e.g. ``{"level": 1}`` for a TIFF
        pyramid level, ``{"files": [...]}`` for a glob stack).
    """

    def __init__(
        self,
        kind: str,
        path: Path,
        shape: tuple[int, ...],
        dtype: np.dtype,
        order: list[int],
        series: int = 0,
        options: dict[str, Any] | None = None,
    ):
        self.kind = kind
        self.path = Path(path)
        self.series = series
        self.options = dict(options or {})
        self.file_shape = tuple(int(n) for n in shape)
        self.order = list(order)
        self.shape = tuple(self.file_shape[i] for i in self.order)
        self.dtype = np.dtype(dtype)
        self.ndim = len(self.shape)
        self._array: Any = None
        self._handle: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FileArray({self.kind}, {str(self.path)!r}, shape={self.shape}, dtype={self.dtype})"

    # Pickled as a recipe, never as pixels (dask.distributed ships it to workers).
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_array"] = state["_handle"] = state["_lock"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def with_order(self, order: list[int]) -> FileArray:
        """The same file with another axis permutation (relative to the file axes)."""
        return FileArray(
            self.kind, self.path, self.file_shape, self.dtype, order, self.series, self.options
        )

    def _open(self) -> Any:
        with self._lock:
            if self._array is None:
                opened = _opener(self.kind)(self.path, self.series, self.options)
                if isinstance(opened, tuple):
                    self._array, self._handle = opened
                else:
                    self._array = opened
            return self._array

    def close(self) -> None:
        """Release the file (it is reopened if read again)."""
        with self._lock:
            if self._handle is not None:
                self._handle.close()
            self._array = self._handle = None

    def __getitem__(self, index: Any) -> np.ndarray:
        if not isinstance(index, tuple):
            index = (index,)
        if any(i is Ellipsis for i in index):
            at = index.index(Ellipsis)
            index = index[:at] + (slice(None),) * (self.ndim - len(index) + 1) + index[at + 1 :]
        index = index + (slice(None),) * (self.ndim - len(index))
        if len(index) != self.ndim:
            raise IndexError(f"too many indices for a {self.ndim}-D array")
        drop = []
        as_slices: list[slice] = []
        for k, (i, n) in enumerate(zip(index, self.shape)):
            if isinstance(i, slice):
                as_slices.append(i)
            elif isinstance(i, (int, np.integer)):
                j = int(i) + n if i < 0 else int(i)
                if not 0 <= j < n:
                    raise IndexError(f"index {i} is out of bounds for axis {k} with size {n}")
                as_slices.append(slice(j, j + 1))
                drop.append(k)
            else:
                raise TypeError(f"FileArray supports integer and slice indexing, got {i!r}")
        file_index: list[slice] = [slice(None)] * self.ndim
        for k, axis in enumerate(self.order):
            file_index[axis] = as_slices[k]
        raw = self._open()
        if isinstance(raw, np.memmap):
            # Copy the region out of the memory map and drop its pages at once, so a
            # larger-than-memory file does not pile up in resident memory.
            block = _copy_released(raw, file_index)
        else:
            block = raw[tuple(file_index)]
            if hasattr(block, "compute"):  # bioio hands out dask arrays
                block = block.compute(scheduler="sync")
            block = np.asarray(block)
        block = block.transpose(self.order)
        return block.squeeze(axis=tuple(drop)) if drop else block

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        block = self[...]
        return block.astype(dtype, copy=False) if dtype is not None else block

    def to_dask(self, chunks: Any = "auto") -> Any:
        """A dask array reading through this object."""
        import dask.array as da

        return da.from_array(
            self, chunks=chunks, asarray=False, fancy=False, name=f"file-{id(self):x}"
        )


#: Openers of the built-in kinds, as ``module:function`` (imported when first read).
_OPENERS = {
    "npy": "ngff.convert.source:open_npy_pixels",
    "tiff": "ngff.convert.tiff_reader:open_tiff_pixels",
    "glob": "ngff.convert.glob_reader:open_glob_pixels",
    "imageio": "ngff.convert.image_reader:open_image_pixels",
    "bioio": "ngff.convert.bioio_reader:open_bioio_pixels",
}


def _opener(kind: str) -> Any:
    """The function opening pixels of ``kind`` (a built-in name or ``module:function``)."""
    import importlib

    target = _OPENERS.get(kind, kind)
    module, _, function = target.partition(":")
    if not function:
        raise NgffError(f"unknown pixel source kind {kind!r}", rule="input format")
    return getattr(importlib.import_module(module), function)


def open_npy_pixels(path: Path, series: int, options: dict[str, Any]) -> Any:
    """A ``.npy`` file, memory-mapped."""
    return np.load(path, mmap_mode="r", allow_pickle=False)


def _copy_released(raw: np.ndarray, index: list[slice]) -> np.ndarray:
    """``raw[index]`` copied out of a memory map slab by slab along the first axis, each
    slab's pages released as soon as it is copied (the kernel maps pages around every
    fault, so a region spanning many planes would otherwise map far more than it reads)."""
    first = range(*index[0].indices(raw.shape[0]))
    rest = tuple(index[1:])
    if len(first) <= 1 or index[0].step not in (None, 1):
        block = np.array(raw[tuple(index)], copy=True)
        _release_pages(raw, index)
        return block
    probe = raw[(slice(first.start, first.start + 1), *rest)]
    block = np.empty((len(first), *probe.shape[1:]), dtype=raw.dtype)
    for k, i in enumerate(first):
        block[k] = raw[(i, *rest)]
        _release_pages(raw, [slice(i, i + 1), *rest])
    return block


#: Released ranges are widened to this alignment: the kernel maps whole large folios of
#: the page cache on a fault (up to 2 MiB), beyond the pages a region actually reads.
_RELEASE_ALIGN = 2 * 2**20


def _release_pages(array: Any, index: list[slice]) -> None:
    """Drop this process's mapping of the pages a region of a memory-mapped array spans."""
    import mmap

    mapping = getattr(array, "_mmap", None)
    if mapping is None or not hasattr(mapping, "madvise") or not array.flags.c_contiguous:
        return
    if any(i.step not in (None, 1) for i in index):
        return
    bounds = [i.indices(n)[:2] for i, n in zip(index, array.shape)]
    if any(b <= a for a, b in bounds):
        return
    first = [a for a, _ in bounds]
    last = [b - 1 for _, b in bounds]
    base = np.frombuffer(mapping, dtype=np.uint8).ctypes.data
    origin = array.ctypes.data - base
    lo = origin + int(np.ravel_multi_index(first, array.shape)) * array.itemsize
    hi = origin + (int(np.ravel_multi_index(last, array.shape)) + 1) * array.itemsize
    lo -= lo % _RELEASE_ALIGN
    hi = min(len(mapping), -(-hi // _RELEASE_ALIGN) * _RELEASE_ALIGN)
    hi -= (hi - lo) % mmap.PAGESIZE if hi == len(mapping) else 0
    try:
        mapping.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
    except (OSError, ValueError):
        pass  # releasing is an optimisation; reading stays correct without it


@dataclass(frozen=True)
class SourceImage:
    """A lazily read input image and the metadata its file carries."""

    data: FileArray  # in OME-Zarr axis order
    dims: tuple[str, ...]
    scale: dict[str, float] | None = None
    units: dict[str, str] | None = None
    channels: list[str] | None = None
    name: str | None = None
    #: Channel colours (``"RRGGBB"`` or None each), one per channel, when the file has them.
    colors: list[str | None] | None = None
    translation: dict[str, float] | None = None
    #: Lower-resolution levels stored in the file (pyramidal TIFF), in the same axis order.
    levels: tuple[FileArray, ...] = ()
    #: Further :func:`ngff.write` options the reader derives (e.g. orientation); the
    #: caller's options win.
    write_options: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        self.data.close()
        for level in self.levels:
            level.close()


def axis_names(dims: Any, ndim: int, what: str = "dims") -> tuple[str, ...]:
    """Axis names from ``"czyx"``, ``"c,z,y,x"`` or a sequence, checked against ``ndim``."""
    if isinstance(dims, str):
        names = tuple(n.strip() for n in dims.split(",")) if "," in dims else tuple(dims)
    else:
        names = tuple(str(n) for n in dims)
    if any(not n for n in names):
        raise NgffError(f"{what} {dims!r} holds an empty axis name", rule="dims")
    if len(names) != ndim:
        shown = "".join(names) if all(len(n) == 1 for n in names) else ",".join(names)
        raise NgffError(
            f"{what} {shown!r} names {len(names)} axes; the input has {ndim}", rule="dims"
        )
    if len(set(names)) != len(names):
        raise NgffError(f"{what} {dims!r} repeats an axis name", rule="dims")
    return names


def open_source(
    path: str | os.PathLike[str], *, series: int = 0, dims: Any = None, reader: str | None = None
) -> SourceImage:
    """Open an input file lazily, choosing the reader by content and extension.

    Parameters
    ----------
    path
        The file, or a glob pattern (``"stack/t*.tif"``) of TIFF files holding one
        plane or time point each.
    series
        Image series of a multi-series file.
    dims
        Names of the file's axes in the order they are stored (e.g. ``"zcyx"``),
        replacing what the file says; the pixels are transposed to OME-Zarr order.
    reader
        Name of the reader to use (see :data:`ngff.convert.registry.READERS`, e.g.
        ``"bioio"``), bypassing the choice by content and extension.

    Raises
    ------
    NgffError
        When the file is missing, unreadable, or of a format with no reader here
        (the message names the extra to install).
    """
    from .registry import choose_reader, is_pattern

    text = os.fspath(path)
    if is_pattern(text):
        from .glob_reader import open_glob

        return open_glob(text, series=series, dims=dims)
    p = Path(path)
    if not p.exists():
        raise StoreError("no such file", location=str(p))
    if p.is_dir() and reader is None:
        raise NgffError(
            "a directory without Zarr metadata; convert reads image files and OME-Zarr stores",
            location=str(p),
            rule="input format",
        )
    head = b""
    if p.is_file():
        try:
            with open(p, "rb") as handle:
                head = handle.read(512)
        except OSError as exc:
            raise StoreError(f"cannot read: {exc.strerror or exc}", location=str(p)) from exc
    entry = choose_reader(p, head, reader)
    return entry.load()(p, series=series, dims=dims)
