"""TIFF, BigTIFF, OME-TIFF and ImageJ hyperstacks through tifffile, read tile by tile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import NgffError
from .source import SourceImage, canonical

_UNITS = {"µm": "micrometer", "um": "micrometer", "micron": "micrometer", "nm": "nanometer", "mm": "millimeter",
          "cm": "centimeter", "m": "meter", "s": "second", "ms": "millisecond", "min": "minute", "h": "hour",
          "\\u00B5m": "micrometer"}


def _unit(text: Any) -> str | None:
    if not isinstance(text, str) or not text:
        return None
    return _UNITS.get(text, _UNITS.get(text.lower(), text if text.isalpha() else None))


def open_tiff(path: Path, *, series: int = 0) -> SourceImage:
    import dask.array as da
    import tifffile
    import zarr

    try:
        tif = tifffile.TiffFile(path)
    except Exception as exc:  # tifffile raises several kinds for broken files
        raise NgffError(f"not a readable TIFF file: {exc}", location=str(path)) from exc
    if not 0 <= series < len(tif.series):
        raise NgffError(f"series {series} requested; the file has {len(tif.series)}", location=str(path))
    s = tif.series[series]
    array = zarr.open(s.aszarr(level=0), mode="r")
    data = da.from_zarr(array) if hasattr(da, "from_zarr") else da.from_array(array, chunks=array.chunks)
    data, dims = canonical(data, s.axes, str(path))
    scale, units, channels = _metadata(tif, series, dims)
    return SourceImage(data=data, dims=dims, scale=scale or None, units=units or None, channels=channels,
                       name=getattr(s, "name", None) or path.name.split(".")[0])


def _metadata(tif: Any, series: int, dims: tuple[str, ...]) -> tuple[dict[str, float], dict[str, str], list[str] | None]:
    scale: dict[str, float] = {}
    units: dict[str, str] = {}
    channels = None
    if tif.is_ome and tif.ome_metadata:
        import tifffile

        ome = tifffile.xml2dict(tif.ome_metadata).get("OME", {})
        images = ome.get("Image", [])
        images = images if isinstance(images, list) else [images]
        if series < len(images):
            pixels = images[series].get("Pixels", {})
            for axis in "xyz":
                size = pixels.get(f"PhysicalSize{axis.upper()}")
                if size and axis in dims:
                    scale[axis] = float(size)
                    units[axis] = _unit(pixels.get(f"PhysicalSize{axis.upper()}Unit", "µm")) or "micrometer"
            if pixels.get("TimeIncrement") and "t" in dims:
                scale["t"] = float(pixels["TimeIncrement"])
                units["t"] = _unit(pixels.get("TimeIncrementUnit", "s")) or "second"
            chans = pixels.get("Channel", [])
            chans = chans if isinstance(chans, list) else [chans]
            names = [c.get("Name") for c in chans if isinstance(c, dict)]
            if names and all(isinstance(n, str) for n in names):
                channels = names
    elif tif.is_imagej and tif.imagej_metadata:
        meta = tif.imagej_metadata
        unit = _unit(meta.get("unit")) or None
        page = tif.pages.first
        for axis, tag in (("x", "XResolution"), ("y", "YResolution")):
            value = page.tags.get(tag)
            if value is not None and axis in dims:
                num, den = value.value
                if num:
                    scale[axis] = den / num
                    if unit:
                        units[axis] = unit
        if meta.get("spacing") and "z" in dims:
            scale["z"] = float(meta["spacing"])
            if unit:
                units["z"] = unit
        if meta.get("finterval") and "t" in dims:
            scale["t"] = float(meta["finterval"])
            units["t"] = "second"
        labels = meta.get("Labels")
        n_channels = meta.get("channels")
        # ImageJ "Labels" name slices; they name channels only when one per channel.
        if isinstance(labels, list) and "c" in dims and len(labels) == n_channels:
            channels = [str(x) for x in labels]
    return scale, units, channels
