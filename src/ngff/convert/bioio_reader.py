"""Vendor formats (Nikon ND2, Zeiss CZI, Leica LIF, ...) through bioio and its plugins.

bioio picks the reader plugin (``bioio-nd2``, ``bioio-czi``, ``bioio-lif``, ...) for a
file; we map what it reports - scenes (series), dimension order, physical pixel
sizes, channel names, and from its OME metadata the channel colours, units and time
increment - onto a :class:`SourceImage`.  Pixels are read through bioio's lazy dask
data, region by region; every process (dask worker) reopens the file with the same
plugin.  Singleton axes other than ``Y`` and ``X`` are dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import NgffError
from .registry import BIOIO_PLUGINS
from .source import FileArray, SourceImage, axis_names, canonical_order
from .tiff_reader import normalise_unit

_NAMES = {"T": "t", "C": "c", "Z": "z", "Y": "y", "X": "x", "S": "c"}


def _open(path: Path, reader: str | None = None) -> Any:
    try:
        from bioio import BioImage
    except ImportError:
        raise NgffError(
            "reading vendor formats needs bioio: pip install 'napari-ngff[bioio]'"
            + (f" {BIOIO_PLUGINS[path.suffix.lower()]}" if path.suffix.lower() in BIOIO_PLUGINS else ""),
            location=str(path),
            rule="input format",
        ) from None
    kwargs: dict[str, Any] = {}
    if reader:
        import importlib

        module, _, name = reader.partition(":")
        kwargs["reader"] = getattr(importlib.import_module(module), name)
    try:
        return BioImage(path, **kwargs)
    except Exception as exc:  # bioio's UnsupportedFileFormatError and plugin errors
        plugin = BIOIO_PLUGINS.get(path.suffix.lower())
        hint = f"; install its bioio plugin: pip install {plugin}" if plugin else ""
        raise NgffError(
            f"bioio cannot read this file ({type(exc).__name__}: {exc}){hint}",
            location=str(path),
            rule="input format",
        ) from exc


def open_bioio(path: Path, *, series: int = 0, dims: Any = None) -> SourceImage:
    """Open scene ``series`` of a file through bioio (pixels stay on disk)."""
    image = _open(path)
    scenes = list(image.scenes)
    if not 0 <= series < len(scenes):
        raise NgffError(f"series {series} requested; the file has {len(scenes)}", location=str(path))
    image.set_scene(series)
    letters = str(image.dims.order)
    shape = dict(zip(letters, (int(n) for n in image.shape)))
    keep = "".join(ch for ch in letters if shape[ch] > 1 or ch in "YX")
    if "S" in keep and "C" in keep:
        if shape["C"] == 1:
            keep = keep.replace("C", "")
        else:
            raise NgffError(
                f"axes {letters} hold both channels and samples; OME-Zarr has one channel axis",
                location=str(path),
            )
    file_shape = tuple(shape[ch] for ch in keep)
    names = axis_names(dims, len(keep)) if dims is not None else tuple(_NAMES.get(ch, ch.lower()) for ch in keep)
    order = canonical_order(names)
    reader = f"{type(image.reader).__module__}:{type(image.reader).__qualname__}"
    data = FileArray(
        "bioio", path, file_shape, np.dtype(image.dtype), order, series, {"order": keep, "reader": reader}
    )
    dims_out = tuple(names[i] for i in order)
    scale, units, colors = _metadata(image, series, dims_out)
    count = shape.get("S", 1) if "S" in keep else shape.get("C", 1)
    channels = [str(c) for c in (image.channel_names or [])]
    return SourceImage(
        data=data,
        dims=dims_out,
        scale=scale or None,
        units=units or None,
        channels=channels if "c" in dims_out and len(channels) == count else None,
        colors=colors if colors and len(colors) == count and "c" in dims_out else None,
        name=str(scenes[series]) if len(scenes) > 1 else path.name.split(".")[0],
    )


def scene_count(path: Path) -> int:
    """Number of scenes (series) bioio sees in a file."""
    return len(_open(path).scenes)


def _metadata(image: Any, series: int, dims: tuple[str, ...]) -> tuple[dict[str, float], dict[str, str], list[str | None]]:
    """Pixel sizes (bioio reports micrometres), units, time step and colours."""
    scale: dict[str, float] = {}
    units: dict[str, str] = {}
    sizes = image.physical_pixel_sizes
    for axis, value in (("z", sizes.Z), ("y", sizes.Y), ("x", sizes.X)):
        if value and axis in dims:
            scale[axis] = float(value)
            units[axis] = "micrometer"
    colors: list[str | None] = []
    try:
        ome = image.ome_metadata
        pixels = ome.images[series].pixels
    except Exception:  # plugins without OME metadata raise various errors
        pixels = None
    if pixels is not None:
        for axis in ("x", "y", "z"):
            unit = getattr(pixels, f"physical_size_{axis}_unit", None)
            if axis in scale and unit is not None:
                units[axis] = normalise_unit(getattr(unit, "value", str(unit))) or "micrometer"
                # bioio converts nothing: the size is in the file's unit
                size = getattr(pixels, f"physical_size_{axis}", None)
                if size:
                    scale[axis] = float(size)
        if "t" in dims and getattr(pixels, "time_increment", None):
            scale["t"] = float(pixels.time_increment)
            unit = getattr(pixels, "time_increment_unit", None)
            units["t"] = normalise_unit(getattr(unit, "value", "s")) or "second"
        for channel in pixels.channels:
            color = getattr(channel, "color", None)
            colors.append(
                "{:02X}{:02X}{:02X}".format(*color.as_rgb_tuple()[:3]) if color is not None else None
            )
    if "t" in dims and "t" not in scale:
        interval = getattr(image, "time_interval", None)
        if interval:
            scale["t"] = float(interval)
            units["t"] = "second"
    return scale, units, colors


def open_bioio_pixels(path: Path, series: int, options: dict[str, Any]) -> Any:
    """bioio's lazy dask array of the scene, in the kept axis order."""
    image = _open(path, options.get("reader"))
    image.set_scene(series)
    return image.get_image_dask_data(options["order"])
