"""OME-Zarr stores as conversion inputs: another layout, codec or version, or an archive.

``ngff convert cubes.ome.zarr served.ozx`` re-lays a store out for serving (the archives'
``"planes"`` layout), ``--version 0.5`` upgrades a 0.4 store, ``--chunks``/``--codec``
re-chunk and re-compress.  The image's metadata comes along (axes, units, orientation,
scale and translation, name, OMERO channels), and so do its label images.  The lower
levels are copied as they are when they are integer downsamplings of level 0 (the
pyramid a store holds is part of its content; recomputing it would change pixels), unless
``levels``/``scale_factors`` ask for another pyramid or ``reuse_levels=False``.

The input is never modified: the writer refuses to write over the store it reads.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ..errors import NgffError
from ..model import Collection, Image, Plate

__all__ = ["convert_store", "is_ome_zarr_input"]

_MARKERS = ("zarr.json", ".zattrs", ".zgroup")


def is_ome_zarr_input(location: str | os.PathLike[str]) -> bool:
    """True for a local Zarr hierarchy (a directory with Zarr metadata) or an ``.ozx`` file."""
    path = Path(os.fspath(location)).expanduser()
    if path.is_dir():
        return any((path / marker).is_file() for marker in _MARKERS)
    return path.is_file() and path.name.lower().endswith(".ozx")


def _pick_image(node: Any, series: int | str | None, location: str) -> Image:
    if isinstance(node, Plate):
        raise NgffError(
            "an HCS plate; convert copies one image (pack a 0.5 plate into an archive with `ngff ozx pack`)",
            location=location,
            rule="input format",
        )
    if isinstance(node, Collection):
        index = 0 if series is None else series
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(node.series_paths):
            raise NgffError(
                f"series {series!r} of a collection of {len(node.series_paths)} images; give an index",
                location=location,
                rule="series",
            )
        return node.images[node.series_paths[index]]
    if series not in (None, 0):
        raise NgffError(f"series {series!r} of a single image; only series 0 exists", location=location, rule="series")
    assert isinstance(node, Image)
    return node


def _stored_pyramid(image: Image) -> Any:
    """The image's levels as a :class:`~ngff.convert.reuse.StoredPyramid`, or None when they
    are not integer downsamplings of level 0."""
    from ..store import join, open_store
    from .reuse import stored_pyramid

    store = open_store(image.location)
    arrays = [store.require_array(join(image.path, path)) for path in image.level_paths]
    return stored_pyramid(SimpleNamespace(data=arrays[0], dims=image.dims, levels=arrays[1:]))


def _with_level0(image: Image, level0: Any) -> Image:
    """``image`` whose level 0 is ``level0`` (the writer streams level 0 of an image)."""
    return dataclasses.replace(image, levels=[level0, *image.levels[1:]])


def convert_store(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    series: int | str | None = None,
    dims: Any = None,
    scale: Any = None,
    units: Any = None,
    levels: int | None = None,
    reuse_levels: bool = True,
    **write_options: Any,
) -> Image:
    """Write an OME-Zarr image (any version, directory or ``.ozx``) anew, with its labels.

    Parameters are those of :func:`ngff.convert`; ``dims`` cannot be given (the store
    names its axes).

    Raises
    ------
    NgffError
        For plates, unknown series, ``dims``, and everything :func:`ngff.write` refuses;
        the input is left untouched.
    """
    from .. import ozx as ngff_ozx
    from ..reader import read
    from ..writer import write, write_labels
    from . import level_factors

    location = os.fspath(input)
    if dims is not None:
        raise NgffError("an OME-Zarr input names its own axes; dims cannot be given", location=location, rule="dims")
    image = _pick_image(read(input), series, location)
    options = dict(write_options)
    if scale is not None:
        options["scale"] = scale
    if units is not None:
        options["units"] = units
    if levels is not None:
        if options.get("scale_factors") is not None:
            raise NgffError("give levels or scale_factors, not both", rule="levels")
        options["scale_factors"] = level_factors(image.shape, image.dims, list(image.scales[0]), levels)
    data: Any = image
    if reuse_levels and levels is None and options.get("scale_factors") is None and len(image.levels) > 1:
        pyramid = _stored_pyramid(image)
        if pyramid is not None:
            data = _with_level0(image, pyramid)  # the writer copies its levels
            options["scale_factors"] = pyramid.scale_factors
    written = write(data, output, **options)
    if not image.labels:
        return written
    written_pyramid = _stored_pyramid(written)
    image_factors = written_pyramid.scale_factors if written_pyramid is not None else []
    target = written.location
    # an archive is repacked once for all its label images, not once per label
    with ngff_ozx.edit(target) if ngff_ozx.is_archive_path(target) else contextlib.nullcontext(target) as store:
        for name, label in image.labels.items():
            pixels: Any = label.levels[0]
            if reuse_levels and levels is None:
                pyramid = _stored_pyramid(label)
                wanted = [{d: f for d, f in row.items() if d in label.dims} for row in image_factors]
                if pyramid is not None and pyramid.scale_factors == wanted:
                    pixels = pyramid  # the label levels match the image's: copied too
            image_label = label.image_label
            write_labels(
                store,
                name,
                pixels,
                dims=label.dims,
                colors=list(image_label.colors) if image_label and image_label.colors else None,
                properties=list(image_label.properties) if image_label and image_label.properties else None,
                codec=options.get("codec"),
            )
    return read(target)
