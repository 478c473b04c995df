"""npe2 writer contribution: image and labels layers to one OME-Zarr (0.4 or 0.5).

How layers become a store
-------------------------
* Image layers that share level-0 shape, scale and translation become the channels of
  one image (stacked lazily along a ``c`` axis), in layer order — or in their original
  channel order when they all came from one channel-split OME-Zarr image.  Each layer's
  name, colormap (its last colour), contrast limits and visibility become the OMERO
  label, colour, window and ``active`` flag.
* Image layers of another shape or placement cannot be channels of that image: each
  such group goes to a sibling store ``<name>-<layer name>.ome.zarr`` beside the chosen
  path (all written paths are returned).
* Labels layers go under ``labels/<layer name>`` of the first image whose axes and
  shape they fit (:func:`ngff.write_labels`), with their direct colours and features.
  Labels that fit no image get a store of their own whose image holds the label values
  (so every OME-Zarr viewer can show it) with the labels beside it.
* A multiscale layer keeps its pyramid's shape: level 0 is written and the scale
  factors are derived from the level shapes; a single-scale layer gets a pyramid.
* A layer that was read as one channel (or a label image with a length-1 channel axis)
  of an OME-Zarr image gets that ``c`` axis back, so stores round-trip.

Everything is written into a hidden staging folder beside the destination and moved
into place at the end, so an error or a cancel (an exception raised from ``progress``)
leaves nothing behind and never a half-written store.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._layers import (
    LETTERS_LAYER,
    PROVENANCE_KEY,
    colormap_hex,
    label_colors_from_colormap,
    orientation_of,
    properties_from_features,
    unit_to_ome,
)
from ._options import ExportOptions, export_defaults

__all__ = ["ExportCancelled", "Progress", "write_layers", "write_ome_zarr"]

FullLayerData = tuple[Any, Mapping[str, Any], str]
#: ``progress(stage, done, total)``: stage names what is being written.
Progress = Callable[[str, int, int], None]

_DEFAULT_DIMS = {1: ("x",), 2: ("y", "x"), 3: ("z", "y", "x"), 4: ("t", "z", "y", "x")}
_OME_NAMES = ("t", "c", "z", "y", "x")
_SUFFIXES = (".ome.zarr", ".zarr", ".ozx")


class ExportCancelled(Exception):
    """Raised from a progress callback to stop a write; nothing is left on disk."""


def write_ome_zarr(path: str, layer_data: list[FullLayerData]) -> list[str]:
    """npe2 writer: write ``layer_data`` to ``path`` with the user's export defaults.

    Returns
    -------
    list of str
        Every store written (more than one when image layers differ in shape).
    """
    return write_layers(path, layer_data, options=export_defaults(), overwrite=True)


# --------------------------------------------------------------------------- layer inputs


@dataclass
class _Layer:
    """One napari layer as the writer needs it: level 0, level shapes and OME axes."""

    kind: str  # "image" or "labels"
    name: str
    data: Any  # level 0, with the channel axis restored when provenance asks
    level_shapes: list[tuple[int, ...]]
    dims: tuple[str, ...]
    scale: tuple[float, ...]
    translate: tuple[float, ...]
    units: tuple[str | None, ...]
    meta: Mapping[str, Any]
    provenance: Mapping[str, Any] = field(default_factory=dict)

    @property
    def channel(self) -> int | None:
        value = self.provenance.get("channel")
        return int(value) if value is not None else None

    @property
    def source(self) -> tuple[str, str] | None:
        if "location" not in self.provenance:
            return None
        return (str(self.provenance["location"]), str(self.provenance.get("path", "")))


def _levels(data: Any, meta: Mapping[str, Any]) -> list[Any]:
    multiscale = meta.get("multiscale")
    if multiscale is None:
        multiscale = isinstance(data, (list, tuple)) or type(data).__name__ == "MultiScaleData"
    return list(data) if multiscale else [data]


def _as_array(level: Any) -> Any:
    import dask.array as da

    if isinstance(level, (np.ndarray, da.Array)):
        return level
    if hasattr(level, "shape") and hasattr(level, "dtype") and hasattr(level, "__getitem__"):
        return da.from_array(level, chunks="auto", asarray=True)
    return np.asarray(level)


def _axis_names(
    meta: Mapping[str, Any], ndim: int, provenance: Mapping[str, Any]
) -> tuple[str, ...]:
    """OME axis names: the layer's axis labels when they are OME names, else by ndim."""
    labels = tuple(str(a) for a in (meta.get("axis_labels") or ()))
    if len(labels) == ndim and len(set(labels)) == ndim and all(a in _OME_NAMES for a in labels):
        return labels
    names = [a["name"] for a in provenance.get("axes", ()) if a.get("type") != "channel"]
    if len(names) == ndim and len(set(names)) == ndim:
        return tuple(names)
    if ndim in _DEFAULT_DIMS:
        return _DEFAULT_DIMS[ndim]
    from ngff import NgffError

    raise NgffError(
        f"layer {meta.get('name')!r} has {ndim} dimensions without OME axis names (t, z, y, x); "
        "set its axis labels",
        rule="2 to 5 axes",
    )


def _layer(data: Any, meta: Mapping[str, Any], kind: str) -> _Layer:
    levels = [_as_array(level) for level in _levels(data, meta)]
    level0 = levels[0]
    ndim = level0.ndim
    provenance = dict((meta.get("metadata") or {}).get(PROVENANCE_KEY) or {})
    dims = _axis_names(meta, ndim, provenance)
    scale = tuple(float(s) for s in _or_default(meta.get("scale"), 1.0, ndim))
    translate = tuple(float(t) for t in _or_default(meta.get("translate"), 0.0, ndim))
    units = tuple(unit_to_ome(u) for u in (meta.get("units") or [None] * ndim))
    if kind == "image" and meta.get("rgb"):
        from ngff import NgffError

        raise NgffError(
            f"layer {meta.get('name')!r} is RGB; split it into channels before saving as OME-Zarr"
        )
    return _Layer(
        kind=kind,
        name=str(meta.get("name") or kind),
        data=level0,
        level_shapes=[tuple(int(n) for n in level.shape) for level in levels],
        dims=dims,
        scale=scale,
        translate=translate,
        units=units,
        meta=meta,
        provenance=provenance,
    )


def _or_default(values: Any, default: float, ndim: int) -> Sequence[Any]:
    return list(values) if values is not None else [default] * ndim


def _channel_position(layer: _Layer) -> int:
    """Where the ``c`` axis goes: where the source had it, else after a time axis."""
    names = [a.get("name") for a in layer.provenance.get("axes", ())]
    types = [a.get("type") for a in layer.provenance.get("axes", ())]
    if "channel" in types:
        index = types.index("channel")
        if [n for n, t in zip(names, types) if t != "channel"] == list(layer.dims):
            return index
    return 1 if layer.dims and layer.dims[0] == "t" else 0


# --------------------------------------------------------------------------- grouping


@dataclass
class _Group:
    """Image layers written as the channels of one image, and the labels added to it."""

    images: list[_Layer]
    labels: list[_Layer] = field(default_factory=list)
    label_image: bool = False  # the image itself holds label values (labels-only store)

    @property
    def first(self) -> _Layer:
        return self.images[0]

    @property
    def stacked(self) -> bool:
        """True when the layers become the channels of a new ``c`` axis."""
        if "c" in self.first.dims:  # the layer has its own channel axis
            return False
        return len(self.images) > 1 or self.first.channel is not None

    @property
    def dims(self) -> tuple[str, ...]:
        if not self.stacked:
            return self.first.dims
        dims = list(self.first.dims)
        dims.insert(_channel_position(self.first), "c")
        return tuple(dims)

    @property
    def shape(self) -> tuple[int, ...]:
        shape = list(self.first.data.shape)
        if self.stacked:
            shape.insert(_channel_position(self.first), len(self.images))
        return tuple(shape)


def _same_place(a: _Layer, b: _Layer) -> bool:
    return (
        tuple(a.data.shape) == tuple(b.data.shape)
        and a.dims == b.dims
        and np.allclose(a.scale, b.scale)
        and np.allclose(a.translate, b.translate)
    )


def _group_images(images: list[_Layer]) -> list[_Group]:
    groups: list[_Group] = []
    for layer in images:
        for group in groups:
            if "c" not in layer.dims and _same_place(group.first, layer):
                group.images.append(layer)
                break
        else:
            groups.append(_Group([layer]))
    for group in groups:
        sources = {layer.source for layer in group.images}
        channels = [layer.channel for layer in group.images]
        if (
            len(sources) == 1
            and None not in sources
            and None not in channels
            and len(set(channels)) == len(channels)
        ):
            group.images.sort(key=lambda layer: layer.channel or 0)  # the source's channel order
    return groups


def _label_fits(label: _Layer, group: _Group) -> bool:
    """True when ``label`` has the image's axes (maybe without ``c``) and matching sizes."""
    dims, shape = group.dims, group.shape
    if any(d not in dims for d in label.dims):
        return False
    if [d for d in dims if d in label.dims] != list(label.dims):
        return False
    missing = [d for d in dims if d not in label.dims]
    if missing not in ([], ["c"]):
        return False
    return all(n in (shape[dims.index(d)], 1) for d, n in zip(label.dims, label.data.shape))


# --------------------------------------------------------------------------- arguments


def _stacked_data(group: _Group) -> Any:
    import dask.array as da

    dtype = np.result_type(*[layer.data.dtype for layer in group.images])
    if not group.stacked:
        data = group.first.data
        return data.astype(dtype) if data.dtype != dtype else data
    parts = [da.asarray(layer.data).astype(dtype) for layer in group.images]
    return da.stack(parts, axis=_channel_position(group.first))


_SPACE = ("z", "y", "x")


def _fixed_levels(layer: _Layer, count: int) -> list[dict[str, int]]:
    """Factors of ``count`` levels, halving the space axes as :mod:`ngff.chunking` does.

    An axis is halved while it has pixels left and its physical spacing is within 1.5×
    the finest one, so a coarse z is kept until y and x catch up.
    """
    factors = {d: 1 for d in layer.dims}
    spacing = dict(zip(layer.dims, layer.scale))
    size = dict(zip(layer.dims, layer.data.shape))
    levels: list[dict[str, int]] = []
    for _ in range(count - 1):
        physical = {
            d: abs(spacing[d]) * factors[d]
            for d in layer.dims
            if d in _SPACE and size[d] // factors[d] >= 2
        }
        if not physical:
            break
        finest = min(physical.values())
        for d, value in physical.items():
            if value <= 1.5 * finest:
                factors[d] *= 2
        levels.append(dict(factors))
    return levels


def _scale_factors(group: _Group, options: ExportOptions) -> list[dict[str, int]] | None:
    """Explicit levels from the options, else a multiscale layer's own level shapes."""
    if options.levels > 0:
        return _fixed_levels(group.first, options.levels)
    shapes = group.first.level_shapes
    if len(shapes) < 2:
        return None
    factors: list[dict[str, int]] = []
    previous = {d: 1 for d in group.first.dims}
    for shape in shapes[1:]:
        row = {
            d: max(1, round(n0 / n)) if n else 1
            for d, n0, n in zip(group.first.dims, shapes[0], shape)
        }
        if any(row[d] % previous[d] for d in row) or any(
            n0 // row[d] != n for d, n0, n in zip(row, shapes[0], shape)
        ):
            return None  # not a pyramid the writer can reproduce: let it choose its own
        factors.append(row)
        previous = row
    return factors


def _per_axis(group: _Group, values: Sequence[Any], channel_value: Any) -> list[Any]:
    out = list(values)
    if group.stacked:
        out.insert(_channel_position(group.first), channel_value)
    return out


def _window(layer: _Layer) -> dict[str, float] | None:
    limits = layer.meta.get("contrast_limits")
    if limits is None:
        return None
    start, end = float(limits[0]), float(limits[1])
    source = layer.provenance.get("window") or {}
    dtype = np.dtype(layer.data.dtype)
    if "min" in source and "max" in source:
        lo, hi = float(source["min"]), float(source["max"])
    elif dtype.kind in "iu":
        lo, hi = float(np.iinfo(dtype).min), float(np.iinfo(dtype).max)
    else:
        lo, hi = min(start, 0.0), max(end, 1.0)
    return {"start": start, "end": end, "min": min(lo, start), "max": max(hi, end)}


def _channels(group: _Group) -> list[dict[str, Any]] | None:
    if group.label_image:
        return None
    channels = []
    for layer in group.images:
        entry: dict[str, Any] = {
            "label": layer.name,
            "active": bool(layer.meta.get("visible", True)),
        }
        color = colormap_hex(layer.meta.get("colormap"))
        if color is not None:
            entry["color"] = color
        window = _window(layer)
        if window is not None:
            entry["window"] = window
        channels.append(entry)
    if not group.stacked and "c" in group.dims:  # one layer with its own channel axis
        count = group.shape[group.dims.index("c")]
        return [dict(channels[0], label=f"{group.first.name} [{i}]") for i in range(count)]
    return channels


def _image_name(group: _Group, destination: Path) -> str | None:
    if all("name" in layer.provenance for layer in group.images):
        names = {layer.provenance["name"] for layer in group.images}
        if len(names) == 1:  # one source image: keep its name, even none
            name = names.pop()
            return None if name is None else str(name)
    if len(group.images) == 1 and not group.stacked:
        return group.first.name
    return _stem(destination)


def _label_dims(label: _Layer, group: _Group) -> tuple[Any, tuple[str, ...]]:
    """The label data and dims, with a length-1 ``c`` axis restored when the source had one."""
    data, dims = label.data, label.dims
    if label.channel is not None and "c" in group.dims and "c" not in dims:
        position = _channel_position(label)
        import dask.array as da

        data = da.expand_dims(da.asarray(data), axis=position)
        dims = tuple(list(dims[:position]) + ["c"] + list(dims[position:]))
    return data, dims


# --------------------------------------------------------------------------- paths


def _stem(path: Path) -> str:
    name = path.name
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _suffix(path: Path) -> str:
    for suffix in _SUFFIXES:
        if path.name.lower().endswith(suffix):
            return path.name[len(path.name) - len(suffix) :]
    return ".ome.zarr"


def _safe(name: str) -> str:
    text = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return text or "layer"


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}-{n}"
    taken.add(candidate)
    return candidate


def _check_not_source(destinations: Sequence[Path], layers: Sequence[_Layer]) -> None:
    """Refuse to replace a store that layers are still reading from."""
    from ngff import StoreError

    for layer in layers:
        location = layer.provenance.get("location")
        if not location or "://" in str(location):
            continue
        source = Path(str(location)).absolute().resolve()
        for dest in destinations:
            final = dest.absolute().resolve()
            if source == final or final in source.parents or source in final.parents:
                raise StoreError(
                    f"layer {layer.name!r} is read from this store; save to another path",
                    location=str(dest),
                    rule="never overwrite the input",
                )


# --------------------------------------------------------------------------- writing


def _refuse_other_layers(layer_data: Sequence[FullLayerData]) -> None:
    """Layers OME-Zarr cannot hold are an error, except the Orientation widget's letters
    (drawn on the canvas, not data: *Save All Layers* skips them)."""
    from ngff import NgffError

    others = [
        f"{(meta or {}).get('name', '?')!r} ({kind})"
        for _, meta, kind in layer_data
        if kind not in ("image", "labels") and (meta or {}).get("name") != LETTERS_LAYER
    ]
    if others:
        raise NgffError(
            f"OME-Zarr holds image and labels layers, not {', '.join(others)}; "
            "select the image and labels layers to save",
            rule="napari layers: image and labels",
        )


def write_layers(
    path: str | os.PathLike[str],
    layer_data: Sequence[FullLayerData],
    *,
    options: ExportOptions | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> list[str]:
    """Write image and labels layer data as OME-Zarr (see the module docs for the rules).

    Parameters
    ----------
    path
        Destination store (``.ome.zarr``/``.zarr`` directory).
    layer_data
        ``(data, meta, layer_type)`` tuples as napari gives writers.
    options
        Version, chunks, shards, codec, method and levels (default: the user's defaults).
    overwrite
        Replace existing stores (never one that a layer is read from).
    progress
        ``progress(stage, done, total)``; raise :class:`ExportCancelled` (or any error)
        from it to stop: nothing is left on disk.

    Returns
    -------
    list of str
        The stores written.

    Raises
    ------
    ngff.NgffError
        For data or options OME-Zarr cannot hold; nothing is written then.
    """
    from ngff import NgffError, StoreError

    options = options or export_defaults()
    _refuse_other_layers(layer_data)
    layers = [_layer(d, m, t) for d, m, t in layer_data if t in ("image", "labels")]
    if not layers:
        raise NgffError("nothing to write: select image or labels layers")
    groups = _group_images([layer for layer in layers if layer.kind == "image"])
    for label in (layer for layer in layers if layer.kind == "labels"):
        target = next((g for g in groups if not g.label_image and _label_fits(label, g)), None)
        if target is None:
            target = next((g for g in groups if g.label_image and _label_fits(label, g)), None)
        if target is None:
            target = _Group([label], label_image=True)
            groups.append(target)
        target.labels.append(label)

    destination = Path(os.fspath(path)).expanduser().absolute()
    taken: set[str] = {destination.name}
    destinations = [destination]
    for group in groups[1:]:
        name = _unique(
            f"{_stem(destination)}-{_safe(group.first.name)}{_suffix(destination)}", taken
        )
        destinations.append(destination.with_name(name))
    _check_not_source(destinations, layers)
    for dest in destinations:
        if dest.exists() and not overwrite:
            raise StoreError(
                "the destination exists; choose another path or allow overwriting",
                location=str(dest),
            )

    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = destination.parent / f".{destination.name}.napari-ngff-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        staged: list[tuple[Path, Path]] = []
        for group, dest in zip(groups, destinations):
            _write_group(group, staging / dest.name, options, progress)
            staged.append((staging / dest.name, dest))
        for written, dest in staged:
            _move_into_place(written, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [str(dest) for dest in destinations]


def _stage_progress(progress: Progress | None, stage: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None

    def report(done: int, total: int) -> None:
        progress(stage, done, total)

    return report


def _write_group(
    group: _Group, target: Path, options: ExportOptions, progress: Progress | None
) -> None:
    import ngff

    if target.name.lower().endswith(".ozx"):  # RFC-9 single file: write a store, then pack it
        _write_archive(group, target, options, progress)
        return
    first = group.first
    method = options.method or ("mode" if group.label_image else None)
    ngff.write(
        _stacked_data(group),
        target,
        dims=group.dims,
        scale=_per_axis(group, first.scale, 1.0),
        translation=_per_axis(group, first.translate, 0.0),
        units=_per_axis(group, first.units, None),
        name=_image_name(group, target),
        channels=_channels(group),
        version=options.version,
        chunks=options.chunks,
        shards=options.effective_shards,
        codec=options.codec_spec,
        method=method,
        scale_factors=_scale_factors(group, options),
        progress=_stage_progress(progress, f"image {first.name}"),
        orientation=_orientation(group),
    )
    taken: set[str] = set()
    for label in group.labels:
        data, dims = _label_dims(label, group)
        name = _unique(_safe(label.name), taken)
        ngff.write_labels(
            target,
            name,
            data,
            colors=label_colors_from_colormap(label.meta.get("colormap")),
            properties=properties_from_features(label.meta.get("features")),
            dims=dims,
            chunks=options.chunks,
            shards=options.effective_shards,
            codec=options.codec_spec,
            method=options.method or "mode",
            progress=_stage_progress(progress, f"labels {label.name}"),
        )


def _orientation(group: _Group) -> dict[str, str | None] | None:
    """RFC-4 orientation of the first layer (``layer.metadata``), for the axes written."""
    found = orientation_of(group.first.meta)
    if not found:
        return None
    return {name: value for name, value in found.items() if name in group.dims and name != "c"} or None


def _move_into_place(staged: Path, final: Path) -> None:
    """Replace ``final`` by ``staged`` (an old store is removed only after the move)."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.napari-ngff-old-{uuid.uuid4().hex[:8]}")
        os.replace(final, old)
    os.replace(staged, final)
    if old is not None:
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)  # an .ozx archive


def _write_archive(group: _Group, target: Path, options: ExportOptions, progress: Progress | None) -> None:
    """Write ``group`` as an RFC-9 ``.ozx`` archive (OME-Zarr 0.5, sharded by default)."""
    import dataclasses

    from ngff import UnsupportedVersionError
    from ngff.ozx import staged

    if options.version != "0.5":
        raise UnsupportedVersionError(
            f"an .ozx archive holds OME-Zarr 0.5; choose version 0.5 instead of {options.version}",
            location=str(target),
            rule="RFC-9 with OME-Zarr 0.5",
        )
    if options.shards is None:  # RFC-9: the sharding codec SHOULD be used
        options = dataclasses.replace(options, shards="auto")
    with staged(target) as folder:
        _write_group(group, folder / target.name.replace(".ozx", ".ome.zarr"), options, progress)
