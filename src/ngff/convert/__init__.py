"""Conversion of other image formats to OME-Zarr, streaming from lazy readers.

``convert(input, output, **write_options)`` opens the input lazily, maps its metadata
(axes, pixel sizes, units, channel names) and hands it to :func:`ngff.write`, which
reads it region by region: inputs larger than memory convert in bounded memory.

The pixels are handed over as a :class:`~ngff.convert.source.FileArray` (reads only
the region asked for, pickles as the file path) rather than a dask array, so each of
the writer's region tasks reads its own part of the file - on the threaded scheduler
and on a ``dask.distributed`` cluster alike.

Formats: ``.npy`` (memory-mapped) and TIFF / BigTIFF / OME-TIFF / ImageJ TIFF through
``tifffile``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import NgffError
from ..model import TYPE_BY_NAME, Image
from .source import FileArray, SourceImage, open_source

__all__ = ["FileArray", "SourceImage", "convert", "level_factors", "open_source"]


def level_factors(
    shape: Sequence[int], dims: Sequence[str], spacing: Sequence[float], levels: int
) -> list[dict[str, int]]:
    """Absolute scale factors of ``levels - 1`` halvings of the space axes.

    Each level halves the space axes whose physical pixel size is within 1.5x of the
    finest one (so a coarse, anisotropic z is kept until x and y catch up) and that
    still have 2 pixels or more (a 3-plane z stops at 1 plane while y and x go on).

    Raises
    ------
    NgffError
        When the image is too small for that many levels.
    """
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
        raise NgffError(f"levels must be a positive integer, got {levels!r}", rule="levels")
    space = [i for i, d in enumerate(dims) if TYPE_BY_NAME.get(d) == "space"]
    factors = [1] * len(dims)
    out: list[dict[str, int]] = []
    for k in range(1, levels):
        physical = {i: spacing[i] * factors[i] for i in space if shape[i] // factors[i] >= 2}
        if not physical:
            raise NgffError(
                f"{levels} levels asked for, but an image of shape {tuple(shape)} can only be halved "
                f"{k - 1} times (at most {k} levels)",
                rule="levels",
            )
        finest = min(physical.values())
        for i, size in physical.items():
            if size <= 1.5 * finest:
                factors[i] *= 2
        out.append({dims[i]: factors[i] for i in space})
    return out


def _per_axis(
    value: Any, dims: tuple[str, ...], file_value: Mapping[str, Any] | None, what: str
) -> Any:
    """Merge an override (scalar for all space axes, mapping or sequence) with the file's values."""
    if value is None:
        return dict(file_value) if file_value else None
    space = [d for d in dims if TYPE_BY_NAME.get(d) == "space"]
    if isinstance(value, Mapping):
        unknown = set(value) - set(dims)
        if unknown:
            raise NgffError(
                f"{what} names unknown axes {sorted(unknown)}; axes are {list(dims)}", rule=what
            )
        return {**(file_value or {}), **value}
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return {**(file_value or {}), **{d: value for d in space}}
    return value  # a full sequence: ngff.write checks it


def convert(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    series: int = 0,
    dims: Any = None,
    scale: Any = None,
    units: Any = None,
    levels: int | None = None,
    **write_options: Any,
) -> Image:
    """Convert an image file to OME-Zarr.

    Parameters
    ----------
    input
        The file to convert (``.npy``, TIFF, OME-TIFF, ImageJ TIFF).
    output
        Destination store.
    series
        Which image series of a multi-series file.
    dims
        Names of the file's axes in stored order (``"zcyx"``, ``"c,z,y,x"`` or a
        sequence), replacing what the file says; the pixels are transposed to
        OME-Zarr order (time, channel, z, y, x).
    scale
        Pixel sizes overriding the file's: one number for every space axis, a
        ``{axis: size}`` mapping (other axes keep the file's values) or one value per axis.
    units
        Units overriding the file's, in the same forms (``"micrometer"`` for every
        space axis).  Common spellings (``"um"``, ``"µm"``, ``"s"``) are normalised.
    levels
        Number of pyramid levels (``levels - 1`` halvings of the space axes, see
        :func:`level_factors`); excludes ``scale_factors``.  Default: the writer's rule.
    **write_options
        Any other :func:`ngff.write` option (version, chunks, shards, codec, method,
        scale_factors, name, channels, overwrite, progress, ...).

    Returns
    -------
    Image
        The written image.
    """
    from ..writer import write
    from .tiff_reader import normalise_unit

    source = open_source(input, series=series, dims=dims)
    try:
        scale_values = _per_axis(scale, source.dims, source.scale, "scale")
        unit_values = _per_axis(units, source.dims, source.units, "units")
        if isinstance(unit_values, Mapping):
            unit_values = {
                d: normalise_unit(u) if u is not None else None for d, u in unit_values.items()
            }
        elif isinstance(unit_values, Sequence) and not isinstance(unit_values, str):
            unit_values = [normalise_unit(u) if u is not None else None for u in unit_values]
        options: dict[str, Any] = {
            "dims": source.dims,
            "scale": scale_values,
            "units": unit_values,
            "name": write_options.pop("name", source.name),
        }
        if levels is not None:
            if write_options.get("scale_factors") is not None:
                raise NgffError("give levels or scale_factors, not both", rule="levels")
            from ..chunking import resolve_per_dim

            spacing = [
                float(v)
                for v in resolve_per_dim(
                    scale_values, source.dims, "scale", [1.0] * len(source.dims)
                )
            ]
            write_options["scale_factors"] = level_factors(
                source.data.shape, source.dims, spacing, levels
            )
        if "channels" not in write_options and source.channels is not None:
            options["channels"] = source.channels
        try:
            return write(source.data, output, **options, **write_options)
        except NgffError:
            raise
        except OSError as exc:
            raise NgffError(f"cannot read the input: {exc}", location=os.fspath(input)) from exc
    finally:
        source.close()
