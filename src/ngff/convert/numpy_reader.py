"""``.npy`` files, memory-mapped so nothing is loaded before it is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import NgffError
from .source import DEFAULT_DIMS, FileArray, SourceImage, axis_names, canonical_order


def open_npy(path: Path, *, series: int = 0, dims: Any = None) -> SourceImage:
    """Open a ``.npy`` file; its axes are ``dims`` or the default for its dimensionality.

    ``dims`` names the stored axes in file order (e.g. ``"zcyx"``); the pixels are
    presented in OME-Zarr order (here ``czyx``).
    """
    import numpy as np

    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise NgffError(f"not a readable .npy file: {exc}", location=str(path)) from exc
    if dims is None:
        if array.ndim not in DEFAULT_DIMS:
            raise NgffError(
                f"a {array.ndim}-D array; OME-Zarr images have 2 to 5 axes", location=str(path)
            )
        names = tuple(DEFAULT_DIMS[array.ndim])
    else:
        names = axis_names(dims, array.ndim)
    if array.dtype.kind not in "biuf":
        raise NgffError(
            f"pixels of dtype {array.dtype} cannot be stored as an image", location=str(path)
        )
    order = canonical_order(names)
    data = FileArray("npy", path, array.shape, array.dtype, order)
    del array  # FileArray maps the file again on first read (and in every worker process)
    return SourceImage(data=data, dims=tuple(names[i] for i in order), name=path.name.split(".")[0])
