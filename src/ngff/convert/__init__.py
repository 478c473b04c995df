"""Conversion of other image formats to OME-Zarr, streaming from lazy readers.

``convert(input, output, **write_options)`` opens the input lazily (a dask array over
the file's own chunks, tiles or planes), maps its metadata (axes, pixel sizes, units,
channel names) and hands it to :func:`ngff.write`, which reads it region by region:
inputs larger than memory convert in bounded memory.

Formats: ``.npy`` (memory-mapped) and TIFF / BigTIFF / OME-TIFF / ImageJ TIFF through
``tifffile``.
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import NgffError
from ..model import Image
from .source import SourceImage, open_source

__all__ = ["convert", "open_source", "SourceImage"]


def convert(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    series: int = 0,
    dims: Any = None,
    scale: Any = None,
    units: Any = None,
    **write_options: Any,
) -> Image:
    """Convert an image file to OME-Zarr.

    Parameters
    ----------
    input
        The file to convert.
    output
        Destination store.
    series
        Which image series of a multi-series file.
    dims, scale, units
        Override what the file says (same forms as :func:`ngff.write`).
    **write_options
        Any other :func:`ngff.write` option (version, chunks, shards, codec, method,
        scale_factors, overwrite, progress, ...).

    Returns
    -------
    Image
        The written image.
    """
    from ..writer import write

    source = open_source(input, series=series)
    if dims is not None:
        source = source.with_dims(dims)
    options: dict[str, Any] = {
        "dims": source.dims,
        "scale": scale if scale is not None else source.scale,
        "units": units if units is not None else source.units,
        "name": write_options.pop("name", source.name),
    }
    if "channels" not in write_options and source.channels is not None:
        options["channels"] = source.channels
    try:
        return write(source.data, output, **options, **write_options)
    except NgffError:
        raise
    except OSError as exc:
        raise NgffError(f"cannot read the input: {exc}", location=os.fspath(input)) from exc
