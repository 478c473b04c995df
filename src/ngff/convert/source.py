"""Lazy readers of input files, each returning a :class:`SourceImage`."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import NgffError, StoreError

__all__ = ["SourceImage", "open_source"]

#: Canonical OME-Zarr axis order.
_ORDER = "tczyx"


@dataclass(frozen=True)
class SourceImage:
    """A lazily read input image and the metadata its file carries."""

    data: Any  # dask array in OME-Zarr axis order
    dims: tuple[str, ...]
    scale: dict[str, float] | None = None
    units: dict[str, str] | None = None
    channels: list[str] | None = None
    name: str | None = None

    def with_dims(self, dims: Any) -> SourceImage:
        """The same pixels with the axes renamed (no reordering)."""
        names = tuple(dims)
        if len(names) != self.data.ndim:
            raise NgffError(f"--dims {''.join(names)} names {len(names)} axes; the input has {self.data.ndim}")
        keep = lambda m: {names[self.dims.index(k)]: v for k, v in m.items() if k in self.dims} if m else None  # noqa: E731
        return replace(self, dims=names, scale=keep(self.scale), units=keep(self.units))


def open_source(path: str | os.PathLike[str], *, series: int = 0) -> SourceImage:
    """Open an input file lazily, choosing the reader by extension and content.

    Raises
    ------
    NgffError
        When the file is missing, unreadable, or of a format with no reader here.
    """
    p = Path(path)
    if not p.exists():
        raise StoreError("no such file", location=str(p))
    name = p.name.lower()
    with open(p, "rb") as handle:
        magic = handle.read(8)
    if name.endswith(".npy") or magic.startswith(b"\x93NUMPY"):
        from .numpy_reader import open_npy

        return open_npy(p)
    if name.endswith((".tif", ".tiff", ".btf", ".tf8", ".tf2")) or magic[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        from .tiff_reader import open_tiff

        return open_tiff(p, series=series)
    raise NgffError(
        "no reader for this format here; supported: .npy, TIFF/OME-TIFF/ImageJ TIFF",
        location=str(p),
        rule="input format",
    )


def canonical(data: Any, letters: str, location: str) -> tuple[Any, tuple[str, ...]]:
    """Transpose a dask array with file axis letters (``"ZCYX"``) to t, c, z, y, x order."""
    mapping = {"T": "t", "C": "c", "S": "c", "Z": "z", "Y": "y", "X": "x"}
    dims = []
    for letter in letters.upper():
        if letter not in mapping:
            raise NgffError(
                f"the file's axis {letter!r} has no OME-Zarr meaning; name the axes with dims (--dims)",
                location=location,
            )
        dims.append(mapping[letter])
    if len(set(dims)) != len(dims):
        raise NgffError(f"axes {letters} map to repeated OME-Zarr axes {dims}; use dims (--dims)", location=location)
    order = sorted(range(len(dims)), key=lambda i: _ORDER.index(dims[i]))
    return data.transpose(order), tuple(dims[i] for i in order)
