"""``.npy`` files, memory-mapped so nothing is loaded before it is written."""

from __future__ import annotations

from pathlib import Path

from ..errors import NgffError
from .source import SourceImage

_DIMS = {2: "yx", 3: "zyx", 4: "czyx", 5: "tczyx"}


def open_npy(path: Path) -> SourceImage:
    import dask.array as da
    import numpy as np

    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise NgffError(f"not a readable .npy file: {exc}", location=str(path)) from exc
    if array.ndim not in _DIMS:
        raise NgffError(f"a {array.ndim}-D array; OME-Zarr images have 2 to 5 axes", location=str(path))
    data = da.from_array(array, chunks="auto", asarray=False)
    return SourceImage(data=data, dims=tuple(_DIMS[array.ndim]), name=path.stem)
