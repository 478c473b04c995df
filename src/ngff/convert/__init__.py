"""Conversion of other image formats to OME-Zarr, streaming from lazy readers.

``convert(input, output, **write_options)`` opens the input lazily, maps its metadata
(axes, pixel sizes, units, channel names) and hands it to :func:`ngff.write`, which
reads it region by region: inputs larger than memory convert in bounded memory.

The pixels are handed over as a :class:`~ngff.convert.source.FileArray` (reads only
the region asked for, pickles as the file path) rather than a dask array, so each of
the writer's region tasks reads its own part of the file - on the threaded scheduler
and on a ``dask.distributed`` cluster alike.

Formats (chosen by content, then extension; see :mod:`ngff.convert.registry`):
``.npy`` (memory-mapped); TIFF / BigTIFF / OME-TIFF (multi-series, pyramidal) / ImageJ
hyperstacks through ``tifffile``; TIFF series given as a glob pattern; PNG, JPEG, BMP,
GIF through ``imageio``; vendor formats (ND2, CZI, LIF, ...) through ``bioio`` and its
plugins.  ``series="all"`` writes every series of a file as a bioformats2raw-layout
collection; an OME-TIFF whose OME-XML describes a plate becomes an HCS plate by default
(:mod:`ngff.convert.ome_plate`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import NgffError
from ..model import TYPE_BY_NAME, Collection, Image, Plate
from .source import FileArray, SourceImage, open_source

__all__ = ["FileArray", "SourceImage", "convert", "level_factors", "open_source", "series_count"]


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


def series_count(input: str | os.PathLike[str], *, reader: str | None = None) -> int:
    """Number of image series (TIFF series, bioio scenes) in a file; 1 for single-image formats."""
    from pathlib import Path

    from .registry import choose_reader, is_pattern

    if is_pattern(os.fspath(input)):
        return 1
    path = Path(input)
    if not path.is_file():
        open_source(path, reader=reader)  # raises the right error
    with open(path, "rb") as handle:
        head = handle.read(512)
    entry = choose_reader(path, head, reader)
    if entry.name == "tiff":
        from .tiff_reader import series_count as count

        return count(path)
    if entry.name == "bioio":
        from .bioio_reader import scene_count

        return scene_count(path)
    return 1


def _channel_entries(source: SourceImage) -> list[Any] | None:
    """Channel names and colours of a source, as :func:`ngff.write` takes them."""
    if source.channels is None and source.colors is None:
        return None
    count = len(source.channels if source.channels is not None else source.colors or [])
    names = source.channels or [None] * count
    colors = source.colors or [None] * count
    return [
        {k: v for k, v in (("label", n), ("color", c)) if v is not None} for n, c in zip(names, colors)
    ]


def convert(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    series: int | str | None = None,
    dims: Any = None,
    scale: Any = None,
    units: Any = None,
    levels: int | None = None,
    reader: str | None = None,
    reuse_levels: bool = True,
    **write_options: Any,
) -> Image | Collection | Plate:
    """Convert an image file to OME-Zarr.

    Parameters
    ----------
    input
        The file to convert (``.npy``, TIFF, OME-TIFF, ImageJ TIFF, PNG, JPEG, BMP,
        GIF, vendor formats through bioio), a glob pattern of TIFF files holding one
        plane or time point each (``"planes/z*.tif"``), or an OME-Zarr image (directory
        store of any version or ``.ozx``; see :mod:`ngff.convert.omezarr`), written anew
        with its labels in another layout, codec or version.
    output
        Destination store: a local path, or an fsspec URL (``s3://bucket/image.ome.zarr``;
        staged locally, then uploaded metadata last - see :mod:`ngff.convert.remote`;
        ``storage_options=`` are handed to fsspec).
    series
        Which image series of a multi-series file, or ``"all"``: every series, written
        as a bioformats2raw-layout collection (series ``i`` at ``output/i``).  Default:
        the whole plate when the file's OME-XML describes one (an HCS plate, see
        :mod:`ngff.convert.ome_plate`), else series 0.
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
    reader
        Force a reader by name (``"tiff"``, ``"imageio"``, ``"bioio"``, ...) instead of
        choosing by content and extension.
    reuse_levels
        Copy the lower levels of a pyramidal TIFF instead of computing them, when they
        are integer downsamplings of level 0 and no ``levels``/``scale_factors`` is given.
    **write_options
        Any other :func:`ngff.write` option (version, chunks, shards, codec, method,
        scale_factors, name, channels, overwrite, progress, backend, ...).

    Returns
    -------
    Image, Collection or Plate
        The written image (a collection for ``series="all"``, a plate for a plate file).

    Raises
    ------
    NgffError
        For unreadable inputs, formats without an installed reader (the message names
        the extra to install) and invalid options; nothing is written then.
    """
    from .remote import is_url

    if is_url(os.fspath(output) if isinstance(output, os.PathLike) else output):
        from .remote import write_remote

        storage_options = write_options.pop("storage_options", None)
        overwrite = bool(write_options.pop("overwrite", False))
        return write_remote(
            str(output),
            lambda local: convert(
                input, local, series=series, dims=dims, scale=scale, units=units, levels=levels,
                reader=reader, reuse_levels=reuse_levels, **write_options,
            ),
            overwrite=overwrite,
            storage_options=storage_options,
        )
    from .omezarr import is_ome_zarr_input

    if reader is None and is_ome_zarr_input(input):  # another layout, codec or version of a store
        from .omezarr import convert_store

        return convert_store(
            input, output, series=series, dims=dims, scale=scale, units=units, levels=levels,
            reuse_levels=reuse_levels, **write_options,
        )
    if series is None:  # a plate file becomes a plate, anything else its first series
        from .ome_plate import convert_plate, plate_layout

        layout = plate_layout(input) if reader in (None, "tiff") else None
        if layout is not None:
            return convert_plate(
                input, output, layout, dims=dims, scale=scale, units=units, levels=levels,
                reuse_levels=reuse_levels, **write_options,
            )
        series = 0
    if isinstance(series, str):
        if series.strip().lower() != "all":
            try:
                series = int(series)
            except ValueError:
                raise NgffError(f"series must be an index or 'all', got {series!r}", rule="series") from None
        else:
            return _convert_all(
                input, output, dims=dims, scale=scale, units=units, levels=levels,
                reader=reader, reuse_levels=reuse_levels, **write_options,
            )
    if isinstance(series, bool) or not isinstance(series, int) or series < 0:
        raise NgffError(f"series must be a non-negative index or 'all', got {series!r}", rule="series")
    from ..writer import write

    source = open_source(input, series=series, dims=dims, reader=reader)
    try:
        data, options = write_arguments(
            source, scale=scale, units=units, levels=levels, reuse_levels=reuse_levels,
            write_options=write_options,
        )
        try:
            return write(data, output, **options)
        except NgffError:
            raise
        except OSError as exc:
            raise NgffError(f"cannot read the input: {exc}", location=os.fspath(input)) from exc
    finally:
        source.close()


def write_arguments(
    source: SourceImage,
    *,
    scale: Any = None,
    units: Any = None,
    levels: int | None = None,
    reuse_levels: bool = True,
    write_options: dict[str, Any],
) -> tuple[Any, dict[str, Any]]:
    """The pixels and :func:`ngff.write` options of one opened source (its metadata mapped,
    the caller's overrides and ``write_options`` applied); also used per plate field."""
    from .tiff_reader import normalise_unit

    write_options = dict(write_options)
    scale_values = _per_axis(scale, source.dims, source.scale, "scale")
    unit_values = _per_axis(units, source.dims, source.units, "units")
    if isinstance(unit_values, Mapping):
        unit_values = {
            d: normalise_unit(u) if u is not None else None for d, u in unit_values.items()
        }
    elif isinstance(unit_values, Sequence) and not isinstance(unit_values, str):
        unit_values = [normalise_unit(u) if u is not None else None for u in unit_values]
    options: dict[str, Any] = {
        **source.write_options,
        "dims": source.dims,
        "scale": scale_values,
        "units": unit_values,
        "name": write_options.pop("name", source.name),
    }
    if source.translation and "translation" not in write_options:
        options["translation"] = dict(source.translation)
    if levels is not None:
        if write_options.get("scale_factors") is not None:
            raise NgffError("give levels or scale_factors, not both", rule="levels")
        from ..chunking import resolve_per_dim

        spacing = [
            float(v)
            for v in resolve_per_dim(scale_values, source.dims, "scale", [1.0] * len(source.dims))
        ]
        write_options["scale_factors"] = level_factors(
            source.data.shape, source.dims, spacing, levels
        )
    entries = _channel_entries(source)
    if "channels" not in write_options and entries is not None:
        options["channels"] = entries
    data: Any = source.data
    if reuse_levels and source.levels and levels is None and write_options.get("scale_factors") is None:
        from .reuse import stored_pyramid

        pyramid = stored_pyramid(source)
        if pyramid is not None:
            data = pyramid
            write_options["scale_factors"] = pyramid.scale_factors
    return data, {**options, **write_options}


def _convert_all(
    input: str | os.PathLike[str], output: str | os.PathLike[str], **options: Any
) -> Collection:
    """Every series of a file into one bioformats2raw-layout store (``output/0``, ``output/1``, ...)."""
    from pathlib import Path

    from ..model import GroupMetadata
    from ..reader import read
    from ..store import OutputDirectory
    from ..writer import _put_group, _spec_for

    count = series_count(input, reader=options.get("reader"))
    spec = _spec_for(options.get("version", "0.5"))
    overwrite = bool(options.pop("overwrite", False))
    progress = options.pop("progress", None)
    name = options.pop("name", None)
    target = OutputDirectory(output, overwrite=overwrite)
    try:
        for index in range(count):

            def step(done: int, total: int, index: int = index) -> None:
                if progress is not None:  # series by series, as one bar
                    progress(index * total + done, count * total)

            convert(
                input,
                Path(target.path) / str(index),
                series=index,
                progress=step,
                **({"name": f"{name} {index}"} if name else {}),
                **options,
            )
        _copy_ome_xml(input, Path(target.path) / "OME" / "METADATA.ome.xml")
        _put_group(target.path, "", spec, spec.dump(GroupMetadata(version=spec.version, bioformats2raw_layout=3)))
        _put_group(
            target.path,
            "OME",
            spec,
            spec.dump(GroupMetadata(version=spec.version, series=tuple(str(i) for i in range(count)))),
        )
        target.commit()
    except BaseException:
        target.abort()
        raise
    result = read(target.final)
    assert isinstance(result, Collection)
    return result


def _copy_ome_xml(input: str | os.PathLike[str], target: Any) -> None:
    """Keep an OME-TIFF's OME-XML as the collection's ``OME/METADATA.ome.xml`` (bioformats2raw layout)."""
    try:
        import tifffile

        with tifffile.TiffFile(input) as tif:
            xml = tif.ome_metadata if tif.is_ome else None
    except Exception:  # not a TIFF, or tifffile missing: nothing to keep
        return
    if xml:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(xml, encoding="utf-8")


class _CallableModule(type(os)):  # type: ignore[misc]
    """``ngff.convert`` is this package *and* the function: ``ngff.convert(input, output)``."""

    def __call__(self, *args: Any, **kwargs: Any) -> Image | Collection | Plate:
        return convert(*args, **kwargs)


import sys as _sys

_sys.modules[__name__].__class__ = _CallableModule
#: This package itself (``ngff.convert`` resolves to it, callable).
callable_module = _sys.modules[__name__]
