"""Series of files given as a glob pattern: one file per plane or time point.

``"stack/img_*.tif"`` stacks the matching files, sorted in natural order
(``img_2`` before ``img_10``), along a new first axis: ``z`` when the files are planes,
``t`` when they already hold a ``z`` axis (``dims`` renames).  Every file must have the
shape and dtype of the first; the metadata (pixel sizes, channels) comes from the first.
Each region read opens only the files it spans.
"""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import NgffError, StoreError
from .source import FileArray, SourceImage, axis_names, canonical_order


def natural_key(text: str) -> list[Any]:
    """Sort key putting ``t2`` before ``t10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def open_glob(pattern: str, *, series: int = 0, dims: Any = None) -> SourceImage:
    """Open the files matching ``pattern`` as one image with a leading stack axis."""
    from .source import open_source

    files = sorted((f for f in glob.glob(os.path.expanduser(pattern)) if os.path.isfile(f)), key=natural_key)
    if not files:
        raise StoreError("no files match this pattern", location=pattern)
    first = open_source(files[0], series=series)
    try:
        inner = first.data
        inner_names = _file_order_names(first)
        for other in files[1:]:
            _check_same(other, inner, series)
        stack = "z" if "z" not in inner_names else "t"
        if dims is not None:
            names = axis_names(dims, len(inner.file_shape) + 1)
        else:
            if stack in inner_names:
                raise NgffError(
                    f"the files already have axes {''.join(inner_names)}; name the stacked axes with dims (--dims)",
                    location=pattern,
                )
            names = (stack, *inner_names)
        order = canonical_order(names)
        data = FileArray(
            "glob",
            Path(files[0]),
            (len(files), *inner.file_shape),
            inner.dtype,
            order,
            series,
            {"files": files, "kind": inner.kind, "inner": inner.options, "dtype": inner.dtype.str,
             "shape": (len(files), *inner.file_shape)},
        )
        dims_out = tuple(names[i] for i in order)
        keep = set(dims_out)
        return SourceImage(
            data=data,
            dims=dims_out,
            scale={k: v for k, v in (first.scale or {}).items() if k in keep} or None,
            units={k: v for k, v in (first.units or {}).items() if k in keep} or None,
            channels=first.channels if dims is None else None,
            colors=first.colors if dims is None else None,
            name=Path(files[0]).name.split(".")[0],
        )
    finally:
        first.close()


def _file_order_names(source: SourceImage) -> tuple[str, ...]:
    """Axis names of a source in its file's order (undoing the canonical permutation)."""
    names = [""] * len(source.dims)
    for k, axis in enumerate(source.data.order):
        names[axis] = source.dims[k]
    return tuple(names)


def _check_same(path: str, first: FileArray, series: int) -> None:
    from .source import open_source

    other = open_source(path, series=series)
    try:
        if other.data.file_shape != first.file_shape or other.data.dtype != first.dtype:
            raise NgffError(
                f"shape {other.data.file_shape} {other.data.dtype} differs from the first file's "
                f"{first.file_shape} {first.dtype}; every file of a series must match",
                location=path,
                rule="glob series",
            )
    finally:
        other.close()


class GlobStack:
    """Array-like over a list of files (file axes), opening only the files a read spans."""

    def __init__(self, files: list[str], kind: str, shape: tuple[int, ...], dtype: np.dtype, series: int, inner: dict[str, Any]):
        self.files = files
        self.kind = kind
        self.shape = shape
        self.dtype = np.dtype(dtype)
        self.series = series
        self.inner = inner

    def __getitem__(self, index: tuple[slice, ...]) -> np.ndarray:
        which = range(len(self.files))[index[0]]
        identity = list(range(len(self.shape) - 1))
        planes = []
        for i in which:
            part = FileArray(self.kind, Path(self.files[i]), self.shape[1:], self.dtype, identity, self.series, self.inner)
            try:
                planes.append(part[tuple(index[1:])])
            finally:
                part.close()
        if not planes:
            sizes = [len(range(n)[s]) for n, s in zip(self.shape[1:], index[1:])]
            return np.zeros((0, *sizes), self.dtype)
        return np.stack(planes)


def open_glob_pixels(path: Path, series: int, options: dict[str, Any]) -> GlobStack:
    """The stack of files of a glob series (shape and dtype as recorded when opened)."""
    files = list(options["files"])
    return GlobStack(files, options["kind"], options["shape"], np.dtype(options["dtype"]), series, options["inner"])
