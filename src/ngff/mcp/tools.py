"""What each MCP tool does, as plain functions over a :class:`~ngff.mcp.safety.Sandbox`.

Nothing here imports the MCP SDK: :mod:`ngff.mcp.server` wraps these functions as
tools (typed arguments, descriptions, errors, progress), so they can be called and
tested without a server.  Every location goes through the sandbox before it is opened.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import NgffError
from ..model import Collection, Image, Plate, Well
from .png import encode_png
from .render import render_plane
from .safety import Sandbox

__all__ = [
    "convert",
    "info",
    "plate_summary",
    "read_region",
    "set_orientation",
    "thumbnail",
    "validate",
    "well_thumbnail",
]


#: File endings of images the converters read (shown by ``list_data``; informative only).
IMAGE_FILE_SUFFIXES = (
    ".npy", ".tif", ".tiff", ".btf", ".png", ".jpg", ".jpeg", ".bmp", ".gif",
    ".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd", ".czi", ".nd2", ".lif",
)  # fmt: skip
_ZARR_DOCUMENTS = ("zarr.json", ".zattrs", ".zgroup", ".zarray")


def list_data(
    sandbox: Sandbox, folder: str = "", *, depth: int = 2, limit: int = 500
) -> dict[str, Any]:
    """OME-Zarr stores, ``.ozx`` files and convertible image files in a folder below a root.

    Zarr stores are not descended into; links leading outside the roots are left out.
    """
    if not 1 <= depth <= 8:
        raise NgffError(f"depth must be between 1 and 8, got {depth}")
    top = sandbox.folder(folder or str(sandbox.roots[0]))
    entries: list[dict[str, Any]] = []
    skipped = 0
    truncated = False
    stack = [(top, 1)]
    while stack and not truncated:
        here, level = stack.pop()
        try:
            children = sorted(os.scandir(here), key=lambda e: e.name)
        except OSError:
            continue
        folders = []
        for entry in children:
            if entry.name.startswith("."):
                continue
            if not sandbox.contains(entry.path):
                skipped += 1  # a link leading out of the roots
                continue
            item = _classify(entry)
            if item is None:
                if entry.is_dir() and level < depth:
                    folders.append((Path(entry.path), level + 1))
                continue
            if len(entries) >= limit:
                truncated = True
                break
            item["path"] = _shown_path(sandbox, Path(entry.path))
            entries.append(item)
        stack.extend(reversed(folders))
    return {
        "folder": _shown_path(sandbox, top),
        "entries": entries,
        "truncated": truncated,
        "links_outside_skipped": skipped,
    }


def _shown_path(sandbox: Sandbox, path: Path) -> str:
    """A path relative to the first root when below it (what tools accept), else absolute."""
    root = sandbox.roots[0]
    if path == root:
        return "."
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _classify(entry: os.DirEntry[str]) -> dict[str, Any] | None:
    name = entry.name.lower()
    if entry.is_file():
        if name.endswith((".ozx", ".zarr.zip")):
            return {"type": "ozx"}
        if name.endswith(IMAGE_FILE_SUFFIXES):
            return {"type": "image-file"}
        return None
    if not entry.is_dir():
        return None
    documents = [d for d in _ZARR_DOCUMENTS if os.path.isfile(os.path.join(entry.path, d))]
    if not documents:
        return None
    kind, version = _ome_kind(entry.path)
    return {"type": "zarr", "kind": kind, "version": version}


def _ome_kind(path: str) -> tuple[str | None, str | None]:
    """Node kind and OME-Zarr version from a group's attributes, read as plain JSON."""
    import json

    attrs: dict[str, Any] = {}
    for name in ("zarr.json", ".zattrs"):
        try:
            with open(os.path.join(path, name), encoding="utf-8") as f:
                document = json.load(f)
        except (OSError, ValueError):
            continue
        if isinstance(document, dict):
            found = document.get("attributes", document) if name == "zarr.json" else document
            if isinstance(found, dict) and found:
                attrs = found
                break
    ome = attrs.get("ome") if isinstance(attrs.get("ome"), dict) else attrs
    version = ome.get("version") if isinstance(ome.get("version"), str) else None
    for key, kind in (
        ("plate", "plate"),
        ("well", "well"),
        ("bioformats2raw.layout", "collection"),
        ("multiscales", "label" if "image-label" in ome else "image"),
        ("labels", "labels"),
    ):
        if key in ome:
            value = ome[key]
            if version is None and key in ("plate", "well") and isinstance(value, dict):
                version = value.get("version")
            if version is None and key == "multiscales" and isinstance(value, list) and value:
                version = value[0].get("version") if isinstance(value[0], dict) else None
            return kind, version if isinstance(version, str) else None
    return None, version


def info(sandbox: Sandbox, location: str, *, measure: bool = True) -> dict[str, Any]:
    """The summary ``ngff info --json`` prints (metadata only, no pixels)."""
    from ..summary import summarize

    return summarize(sandbox.readable(location), measure=measure)


def validate(sandbox: Sandbox, location: str, *, strict: bool = False) -> dict[str, Any]:
    """The validation report ``ngff validate --json`` prints.

    Raises
    ------
    NgffError
        When the location cannot be read at all (as ``ngff validate`` exits 2).
    """
    from ..store import open_store
    from ..validation import validate as run_validation

    path = sandbox.readable(location)
    open_store(path)  # "cannot be read" is an error; "breaks a rule" is a report
    return run_validation(path, strict=strict).to_dict()


# --------------------------------------------------------------------------- images


def _image_at(node: Any, location: str) -> Image:
    """The image a node stands for: itself, a well's first field, a collection's first series."""
    if isinstance(node, Image):
        return node
    if isinstance(node, Well):
        if not node.fields:
            raise NgffError("the well lists no fields", location=location)
        return node.fields[0]
    if isinstance(node, Collection):
        if not node.series_paths:
            raise NgffError("the collection holds no images", location=location)
        return node.images[node.series_paths[0]]
    if isinstance(node, Plate):
        raise NgffError(
            "this is a plate; use well_thumbnail (or plate_summary) to look inside it",
            location=location,
        )
    raise NgffError(f"cannot show a {type(node).__name__}", location=location)


def _open_image(sandbox: Sandbox, location: str) -> Image:
    from ..reader import read

    path = sandbox.readable(location)
    return _image_at(read(path), path)


def _picture(
    image: Image,
    *,
    level: int | None,
    channels: Sequence[int] | None,
    z: int | None,
    t: int | None,
    max_size: int,
) -> tuple[bytes, dict[str, Any]]:
    rendered = render_plane(image, level=level, channels=channels, z=z, t=t, max_size=max_size)
    height, width = rendered.pixels.shape[:2]
    details = {
        "location": image.location,
        "path": image.path,
        "dims": list(image.dims),
        "level": rendered.level,
        "level_shape": [int(n) for n in image.levels[rendered.level].shape],
        "indices": rendered.indices,
        "plane_axes": list(rendered.plane_axes),
        "step": rendered.step,
        "width": width,
        "height": height,
        "mode": "grey" if rendered.pixels.ndim == 2 else "rgb",
        "channels": rendered.channels,
    }
    return encode_png(rendered.pixels), details


def thumbnail(
    sandbox: Sandbox,
    location: str,
    *,
    level: int | None = None,
    channels: Sequence[int] | None = None,
    z: int | None = None,
    t: int | None = None,
    max_size: int = 512,
) -> tuple[bytes, dict[str, Any]]:
    """PNG bytes of one plane and a description of what was drawn."""
    image = _open_image(sandbox, location)
    return _picture(image, level=level, channels=channels, z=z, t=t, max_size=max_size)


def read_region(
    sandbox: Sandbox,
    location: str,
    *,
    level: int = 0,
    slices: Mapping[str, Any] | None = None,
    max_values: int = 256,
) -> dict[str, Any]:
    """Statistics of a region (see :func:`ngff.mcp.region.region_statistics`)."""
    from .region import region_statistics

    image = _open_image(sandbox, location)
    return region_statistics(image, level=level, slices=slices, max_values=max_values)


# --------------------------------------------------------------------------- plates


def _open_plate(sandbox: Sandbox, location: str) -> Plate:
    from ..reader import read

    path = sandbox.readable(location)
    node = read(path)
    if isinstance(node, Collection) and node.plate is not None:
        node = node.plate
    if not isinstance(node, Plate):
        kind = "image" if isinstance(node, Image) else type(node).__name__.lower()
        raise NgffError(f"expected a plate here, found a {kind}", location=path)
    return node


def plate_summary(sandbox: Sandbox, location: str) -> dict[str, Any]:
    """Grid, wells present, acquisitions and the fields of the first well of a plate."""
    plate = _open_plate(sandbox, location)
    wells = []
    for ref in plate.wells:
        parts = ref.path.split("/")
        row, column = (parts[-2], parts[-1]) if len(parts) >= 2 else (None, None)
        wells.append({"row": row, "column": column, "path": ref.path})
    first: dict[str, Any] | None = None
    if plate.wells:
        ref = plate.wells[0]
        try:
            well = plate.load_well(ref.path)
            first = {
                "path": ref.path,
                "fields": len(well.field_paths),
                "field_paths": list(well.field_paths),
            }
        except NgffError as exc:
            first = {"path": ref.path, "error": str(exc)}
    present = {(w["row"], w["column"]) for w in wells}
    grid = [
        "".join("#" if (row, column) in present else "." for column in plate.columns)
        for row in plate.rows
    ]
    return {
        "location": plate.location,
        "version": plate.version,
        "name": plate.name,
        "rows": list(plate.rows),
        "columns": list(plate.columns),
        "well_count": len(wells),
        "wells": wells,
        "field_count": plate.metadata.field_count,
        "first_well": first,
        "acquisitions": [
            {
                "id": a.id,
                "name": a.name,
                "maximum_field_count": a.maximum_field_count,
                "description": a.description,
            }
            for a in plate.acquisitions
        ],
        "grid": grid,
    }


def well_thumbnail(
    sandbox: Sandbox,
    location: str,
    row: str | int,
    column: str | int,
    *,
    field: int = 0,
    level: int | None = None,
    channels: Sequence[int] | None = None,
    z: int | None = None,
    t: int | None = None,
    max_size: int = 512,
) -> tuple[bytes, dict[str, Any]]:
    """PNG bytes of one plane of a field of a well, and what was drawn."""
    plate = _open_plate(sandbox, location)
    well = plate.well(_grid_name(row, plate.rows), _grid_name(column, plate.columns))
    count = len(well.fields)
    if not -count <= field < count:
        raise NgffError(
            f"well {well.path!r} has {count} field(s); field {field} does not exist",
            location=plate.location,
        )
    image = well.fields[field]
    png, details = _picture(image, level=level, channels=channels, z=z, t=t, max_size=max_size)
    details.update(well=well.path, field=field % count)
    return png, details


def _grid_name(value: str | int, names: Sequence[str]) -> str | int:
    """A number that is a row/column name is that name (agents write column 3 for "3");
    other numbers stay 0-based indices."""
    if isinstance(value, int) and str(value) in names:
        return str(value)
    return value


# --------------------------------------------------------------------------- writing


def convert(
    sandbox: Sandbox,
    input: str,
    output: str,
    *,
    version: str = "0.5",
    chunks: Any = None,
    shards: Any = None,
    codec: str | None = None,
    method: str | None = None,
    levels: int | None = None,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Convert an image file (``.npy``, TIFF) or re-write an OME-Zarr image; returns what was written."""
    source = sandbox.readable(input)
    target = sandbox.writable(output)
    if os.path.lexists(target) and not overwrite:
        raise NgffError(
            "the destination exists; pass overwrite=true to replace it", location=target
        )
    options: dict[str, Any] = {"version": version, "overwrite": overwrite, "progress": progress}
    for key, value in (
        ("chunks", chunks),
        ("shards", shards),
        ("codec", codec),
        ("method", method),
    ):
        if value is not None:
            options[key] = value
    from ..convert.omezarr import is_ome_zarr_input

    image = _open_ome_image(source)
    if image is None or (image.path == "" and is_ome_zarr_input(source)):
        from ..convert import convert as run_convert

        # series=0: this tool reports one image (a plate file's default would be a plate).
        # A local OME-Zarr image goes through convert too: its labels and stored levels come along.
        written = run_convert(source, target, series=0, levels=levels, **options)
    else:
        from ..writer import write

        if levels is not None:
            from ..convert import level_factors

            options["scale_factors"] = level_factors(
                image.shape, image.dims, image.scales[0], levels
            )
        written = write(image, target, **options)
    return {
        "output": target,
        "version": written.version,
        "dims": list(written.dims),
        "dtype": str(written.dtype),
        "levels": [[int(n) for n in level.shape] for level in written.levels],
        "chunks": [int(c[0]) for c in written.levels[0].chunks],
    }


def _open_ome_image(path: str) -> Image | None:
    """The OME-Zarr image at ``path``, or None when it is some other file (left to the converters)."""
    from ..errors import NotOmeZarrError, StoreError
    from ..reader import read

    if os.path.isfile(path) and not path.lower().endswith((".ozx", ".zip")):
        return None
    try:
        node = read(path)
    except (NotOmeZarrError, StoreError):
        if os.path.isdir(path):
            raise
        return None
    return _image_at(node, path)


def set_orientation(
    sandbox: Sandbox, location: str, orientation: Any, *, path: str = "", labels: bool = True
) -> dict[str, Any]:
    """Write RFC-4 anatomical orientations into an image's axes; returns the new summary."""
    try:
        from ..orientation import set_orientation as write_orientation
    except ImportError as exc:  # the orientation feature is not in this build
        raise NgffError("setting orientations is not available in this version of ngff") from exc
    from ..summary import summarize

    store = sandbox.writable(location)
    image = write_orientation(store, orientation, path=path, labels=labels)
    return summarize(image, measure=False)
