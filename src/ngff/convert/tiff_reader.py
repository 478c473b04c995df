"""TIFF, BigTIFF, OME-TIFF and ImageJ hyperstacks through tifffile, read tile by tile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import NgffError
from ..validation.vocab import SPACE_UNITS, TIME_UNITS
from .source import FileArray, SourceImage, axis_names, canonical_order

#: Unit spellings found in TIFF metadata, as OME-Zarr (UDUNITS-2) names.
UNIT_ALIASES = {
    "µm": "micrometer",
    "μm": "micrometer",
    "um": "micrometer",
    "micron": "micrometer",
    "microns": "micrometer",
    "\\u00b5m": "micrometer",
    "nm": "nanometer",
    "mm": "millimeter",
    "cm": "centimeter",
    "m": "meter",
    "pm": "picometer",
    "å": "angstrom",
    "a": "angstrom",
    "km": "kilometer",
    "in": "inch",
    "s": "second",
    "sec": "second",
    "ms": "millisecond",
    "µs": "microsecond",
    "μs": "microsecond",
    "us": "microsecond",
    "ns": "nanosecond",
    "min": "minute",
    "h": "hour",
    "hr": "hour",
    "d": "day",
}


def normalise_unit(text: Any, vocabulary: frozenset[str] | None = None) -> str | None:
    """The OME-Zarr name of a unit spelling (``"um"`` -> ``"micrometer"``).

    With a ``vocabulary`` (space or time units), spellings outside it give None
    (e.g. ImageJ's ``"pixel"``); without one, unknown spellings are returned as given.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    word = text.strip()
    unit = UNIT_ALIASES.get(word.lower(), UNIT_ALIASES.get(word, word.lower()))
    known = SPACE_UNITS | TIME_UNITS
    if unit not in known and unit.endswith("s") and unit[:-1] in known:
        unit = unit[:-1]  # "micrometers", "seconds"
    if vocabulary is not None:
        return unit if unit in vocabulary else None
    return unit if unit in known else word


def _unit(text: Any, vocabulary: frozenset[str] = SPACE_UNITS) -> str | None:
    return normalise_unit(text, vocabulary)


#: tifffile axis letters with an OME-Zarr meaning ("S", samples such as RGB, are channels).
_LETTERS = {"T": "t", "C": "c", "S": "c", "Z": "z", "Y": "y", "X": "x"}


def file_axes(letters: str, location: str) -> tuple[str, ...]:
    """OME-Zarr names of a tifffile series' axes, in file order.

    Letters without an OME-Zarr meaning - ``Q`` (unknown) and ``I`` (image sequence)
    in plain TIFF stacks, among others - are named like the axes of an array without
    metadata: the innermost becomes ``z``, then ``c``, then ``t`` (so a ``QYX`` stack is
    ``zyx``, as a 3-D ``.npy`` would be).  Anything else needs ``dims``.
    """
    names: list[str | None] = [_LETTERS.get(letter) for letter in letters.upper()]
    known = [n for n in names if n is not None]
    if len(set(known)) != len(known):
        raise NgffError(
            f"the file's axes {letters} map to repeated OME-Zarr axes {known}; name the axes with dims (--dims)",
            location=location,
        )
    spare = [n for n in ("z", "c", "t") if n not in known]
    for i in range(len(names) - 1, -1, -1):
        if names[i] is None:
            if not spare:
                raise NgffError(
                    f"the file's axes {letters} have no OME-Zarr meaning; name the axes with dims (--dims)",
                    location=location,
                )
            names[i] = spare.pop(0)
    return tuple(n for n in names if n is not None)


def open_tiff(path: Path, *, series: int = 0, dims: Any = None) -> SourceImage:
    """Open one series of a TIFF file, with its OME or ImageJ metadata.

    ``dims`` names the series' axes in file order, replacing tifffile's letters.
    """
    try:
        import tifffile
    except ImportError:
        raise NgffError(
            "reading TIFF needs tifffile: pip install 'napari-ngff[convert]'", location=str(path)
        ) from None

    try:
        tif = tifffile.TiffFile(path)
    except Exception as exc:  # tifffile raises several kinds for broken files
        raise NgffError(f"not a readable TIFF file: {exc}", location=str(path)) from exc
    try:
        if not tif.series:
            raise NgffError("not a readable TIFF file: it holds no images", location=str(path))
        if not 0 <= series < len(tif.series):
            raise NgffError(
                f"series {series} requested; the file has {len(tif.series)}", location=str(path)
            )
        s = tif.series[series]
        if dims is None:
            names = file_axes(s.axes, str(path))
        else:
            names = axis_names(dims, len(s.shape))
        order = canonical_order(names)
        dims_out = tuple(names[i] for i in order)
        data = FileArray("tiff", path, tuple(s.shape), s.dtype, order, series=series)
        # Lower levels of a pyramidal (sub-IFD or multi-page) OME-TIFF, same axes.
        levels = tuple(
            FileArray("tiff", path, tuple(lv.shape), lv.dtype, order, series, {"level": k})
            for k, lv in enumerate(s.levels[1:], start=1)
            if len(lv.shape) == len(s.shape)
        )
        shape_out = tuple(int(s.shape[i]) for i in order)
        count = shape_out[dims_out.index("c")] if "c" in dims_out else 1
        scale, units, channels = _metadata(tif, series, dims_out, count)
        colors = _colors(tif, series, count) if "c" in dims_out else None
        name = getattr(s, "name", None) or path.name.split(".")[0]
    finally:
        tif.close()
    return SourceImage(
        data=data,
        dims=dims_out,
        scale=scale or None,
        units=units or None,
        channels=channels,
        name=name,
        colors=colors,
        levels=levels,
    )


def series_count(path: Path) -> int:
    """Number of image series in a TIFF file."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            return len(tif.series)
    except Exception as exc:  # tifffile raises several kinds for broken files
        raise NgffError(f"not a readable TIFF file: {exc}", location=str(path)) from exc


def ome_color(value: Any) -> str | None:
    """``"RRGGBB"`` of an OME ``Color`` (a signed 32-bit RGBA integer)."""
    try:
        rgba = int(value) & 0xFFFFFFFF
    except (TypeError, ValueError):
        return None
    return f"{rgba >> 8:06X}"


def _colors(tif: Any, series: int, count: int) -> list[str | None] | None:
    """Channel colours from OME-XML ``Channel/@Color`` or ImageJ LUTs (None when absent)."""
    colors: list[str | None] = []
    if tif.is_ome and tif.ome_metadata:
        import tifffile

        images = tifffile.xml2dict(tif.ome_metadata).get("OME", {}).get("Image", [])
        images = images if isinstance(images, list) else [images]
        if series < len(images):
            chans = images[series].get("Pixels", {}).get("Channel", [])
            chans = chans if isinstance(chans, list) else [chans]
            colors = [ome_color(c.get("Color")) if isinstance(c, dict) else None for c in chans]
    elif tif.is_imagej and tif.imagej_metadata:
        luts = tif.imagej_metadata.get("LUTs") or []
        for lut in luts:
            try:
                r, g, b = (int(lut[i][-1]) for i in range(3))  # the brightest entry
            except (TypeError, IndexError, ValueError):
                colors.append(None)
                continue
            colors.append(f"{r:02X}{g:02X}{b:02X}")
    if len(colors) != count or not any(colors):
        return None
    return colors


def _metadata(
    tif: Any, series: int, dims: tuple[str, ...], count: int
) -> tuple[dict[str, float], dict[str, str], list[str] | None]:
    """Pixel sizes, units and channel names from OME-XML or ImageJ metadata.

    ``count`` is the number of channels of the image; channel names are only taken
    when the file names exactly that many.
    """
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
                    units[axis] = (
                        _unit(pixels.get(f"PhysicalSize{axis.upper()}Unit", "µm")) or "micrometer"
                    )
            if pixels.get("TimeIncrement") and "t" in dims:
                scale["t"] = float(pixels["TimeIncrement"])
                units["t"] = _unit(pixels.get("TimeIncrementUnit", "s"), TIME_UNITS) or "second"
            chans = pixels.get("Channel", [])
            chans = chans if isinstance(chans, list) else [chans]
            names = [c.get("Name") for c in chans if isinstance(c, dict)]
            if "c" in dims and len(names) == count and all(isinstance(n, str) for n in names):
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
        if isinstance(labels, list) and "c" in dims and len(labels) == n_channels == count:
            channels = [str(x) for x in labels]
    return scale, units, channels


def open_tiff_pixels(path: Path, series: int, options: dict[str, Any]) -> tuple[Any, Any]:
    """One level of a TIFF series: memory-mapped when stored uncompressed in one piece,
    else a lazily read zarr array over tifffile's store (tiles or strips decoded on demand)."""
    import tifffile
    import zarr

    handle = tifffile.TiffFile(path)
    try:
        level = int(options.get("level", 0))
        s = handle.series[series]
        offset = s.dataoffset if level == 0 else None
        if offset is not None:
            # Uncompressed and contiguous: map the file; regions are copied out and their
            # pages released (FileArray), so this is both the fastest and bounded.
            import numpy as np

            dtype = np.dtype(s.dtype).newbyteorder(handle.byteorder)
            array = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=tuple(s.shape))
            handle.close()
            return array
        store = s.aszarr(level=level)
        return zarr.open(store, mode="r"), handle
    except BaseException:
        handle.close()
        raise
