"""Write OME-Zarr 0.4 (Zarr v2) and 0.5 (Zarr v3, optionally sharded) pyramids.

:func:`write` turns a numpy, dask or zarr array (or an opened :class:`~ngff.Image`)
into a multiscale image; :func:`write_labels` adds a label image to an existing one.
Pixels go through the one-pass region engine of :mod:`ngff.regions`; OME metadata is
written last, and a new store is only moved into place once complete, so an
interrupted write never looks like a finished store and never damages an old one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .chunking import (
    PLANES,
    default_scale_factors,
    plane_chunks,
    plane_level_chunks,
    plane_shards,
    resolve_chunks,
    resolve_per_dim,
    resolve_scale_factors,
    split_plane_axes,
)
from .codecs import parse_codec
from .errors import InvalidMetadataError, NgffError, StoreError, UnsupportedVersionError
from .model import (
    TYPE_BY_NAME,
    Axis,
    Channel,
    Dataset,
    GroupMetadata,
    Image,
    ImageLabel,
    LabelColor,
    Multiscale,
    Omero,
    Transform,
    Window,
)
from .pyramid import METHODS, default_method
from .regions import DEFAULT_REGION_BYTES, LevelPlan, plan_passes, run_passes
from .spec import WRITABLE_VERSIONS, Spec, get_spec
from .store import OutputDirectory, enable_fast_codecs, join, put_json

__all__ = ["write", "write_labels"]

_DEFAULT_DIMS = {2: "yx", 3: "zyx", 4: "czyx", 5: "tczyx"}
_COLORS = ("FF0000", "00FF00", "0000FF", "FF00FF", "00FFFF", "FFFF00", "FFFFFF")

Progress = Callable[[int, int], None]


@dataclass
class _Input:
    """The pixels to write and what an input image already says about them."""

    array: Any
    shape: tuple[int, ...]
    dtype: np.dtype
    dims: tuple[str, ...] | None = None
    axes: tuple[Axis, ...] | None = None
    scale: tuple[float, ...] | None = None
    translation: tuple[float, ...] | None = None
    name: str | None = None
    omero: Omero | None = None
    location: str | None = None
    is_label: bool = False


def _as_input(data: Any) -> _Input:
    if isinstance(data, Image):
        return _Input(
            array=data.levels[0],
            shape=tuple(data.shape),
            dtype=np.dtype(data.dtype),
            dims=data.dims,
            axes=data.axes,
            scale=data.scales[0],
            translation=data.translations[0],
            name=data.name,
            omero=data.omero,
            location=data.location,
            is_label=data.is_label,
        )
    if not hasattr(data, "shape") or not hasattr(data, "dtype"):
        data = np.asarray(data)
    if hasattr(data, "ndim") and data.ndim == 0:
        raise NgffError("cannot write a 0-dimensional array as an image", rule="2 to 5 axes")
    return _Input(array=data, shape=tuple(int(n) for n in data.shape), dtype=np.dtype(data.dtype))


def _axes(inp: _Input, dims: Any, units: Any) -> tuple[Axis, ...]:
    ndim = len(inp.shape)
    if dims is None:
        if inp.dims is not None:
            names = tuple(inp.dims)
        elif ndim in _DEFAULT_DIMS:
            names = tuple(_DEFAULT_DIMS[ndim])
        else:
            raise NgffError(f"OME-Zarr images have 2 to 5 axes; this array has {ndim}", rule="2 to 5 axes")
    else:
        names = tuple(dims)
    if len(names) != ndim:
        raise NgffError(f"dims {names} name {len(names)} axes but the data is {ndim}-D", rule="dims")
    if len(set(names)) != len(names):
        raise NgffError(f"dims {names} repeat an axis name", rule="axis names MUST be unique")
    inherited = {a.name: a for a in inp.axes} if inp.axes else {}
    if isinstance(units, str):  # one unit for every space axis
        units = {n: units for n in names if TYPE_BY_NAME.get(n) == "space"}
    unit_values = resolve_per_dim(units, names, "units", [inherited.get(n, Axis(n)).unit for n in names])
    axes = []
    for name, unit in zip(names, unit_values):
        base = inherited.get(name)
        axis_type = base.type if base and base.type else TYPE_BY_NAME.get(name)
        axes.append(Axis(name=name, type=axis_type, unit=unit, orientation=base.orientation if base else None))
    _check_axes(tuple(axes))
    return tuple(axes)


def _check_axes(axes: tuple[Axis, ...]) -> None:
    """Refuse axes the spec forbids, before any pixel is written."""
    kinds = [a.type for a in axes]
    n_space = kinds.count("space")
    if not 2 <= len(axes) <= 5:
        raise NgffError(f"OME-Zarr images have 2 to 5 axes, got {len(axes)}", rule="2 to 5 axes")
    if not 2 <= n_space <= 3:
        raise NgffError(
            f"axes {[a.name for a in axes]} hold {n_space} space axes; OME-Zarr needs 2 or 3 "
            "(name them x, y, z)",
            rule="2 or 3 space axes",
        )
    rank = {"time": 0, "space": 2}
    order = [rank.get(k or "", 1) for k in kinds]
    if order != sorted(order) or kinds.count("time") > 1 or sum(r == 1 for r in order) > 1:
        raise NgffError(
            f"axes {[a.name for a in axes]} are not ordered time, channel/custom, then space",
            rule="axes order: time, channel or custom, space",
        )


def _level_plans(
    shape: tuple[int, ...],
    axes: tuple[Axis, ...],
    spacing: Sequence[float],
    chunks: Any,
    scale_factors: Any,
    itemsize: int = 1,
) -> list[LevelPlan]:
    dims = tuple(a.name for a in axes)
    types = [a.type for a in axes]
    per_level_chunks = None
    planes = chunks == PLANES
    if planes:
        chunks0 = plane_chunks(shape, types, itemsize, DEFAULT_REGION_BYTES)
    elif isinstance(chunks, str):
        raise NgffError(f"chunks {chunks!r} is not a layout; the named layout is {PLANES!r}", rule="chunks")
    elif isinstance(chunks, list) and chunks and all(isinstance(c, (Sequence, Mapping)) for c in chunks):
        per_level_chunks = chunks
        chunks0 = resolve_chunks(chunks[0], shape, dims, types)
    else:
        chunks0 = resolve_chunks(chunks, shape, dims, types)
    if scale_factors is None:
        factors = default_scale_factors(shape, types, spacing, chunks0)
    else:
        factors = resolve_scale_factors(scale_factors, dims, types, shape)
    all_factors = [(1,) * len(shape), *factors]
    if per_level_chunks is not None and len(per_level_chunks) != len(all_factors):
        raise NgffError(
            f"chunks lists {len(per_level_chunks)} levels but the pyramid has {len(all_factors)}", rule="chunks"
        )
    shapes = [tuple(n // q for n, q in zip(shape, f)) for f in all_factors]
    if planes:
        level_chunks = plane_level_chunks(chunks0, shapes, all_factors, types)
    else:
        level_chunks = [
            resolve_chunks(per_level_chunks[k] if per_level_chunks is not None else chunks, level_shape, dims, types)
            for k, level_shape in enumerate(shapes)
        ]
    return [
        LevelPlan(shape=level_shape, factors=f, chunks=level_chunk)
        for level_shape, f, level_chunk in zip(shapes, all_factors, level_chunks)
    ]


def _shard0(
    shards: Any, plan0: LevelPlan, axes: tuple[Axis, ...], *, planes: bool = False, itemsize: int = 1
) -> tuple[int, ...] | None:
    """Level-0 shard shape from a chunks-per-shard request (None: automatic).

    ``"auto"`` with the ``"planes"`` layout gives shards that cover whole planes.
    """
    if shards == "auto":
        if planes:
            types = [a.type for a in axes]
            return plane_shards(plan0.chunks, plan0.shape, types, itemsize, DEFAULT_REGION_BYTES)
        return None
    dims = tuple(a.name for a in axes)
    if isinstance(shards, int) and not isinstance(shards, bool):
        per = [shards if a.type == "space" else 1 for a in axes]
    else:
        per = resolve_per_dim(shards, dims, "shards", [1] * len(dims))
    out = []
    for d, p, c, n in zip(dims, per, plan0.chunks, plan0.shape):
        if not isinstance(p, int) or isinstance(p, bool) or p < 1:
            raise NgffError(f"shards of axis {d!r} must be a positive number of chunks, got {p!r}", rule="shards")
        out.append(min(p * c, -(-n // c) * c))  # clamped to the array, in whole chunks
    return tuple(out)


def _create_arrays(
    root_store: Any,
    group_path: str,
    plans: list[LevelPlan],
    axes: tuple[Axis, ...],
    dtype: np.dtype,
    spec: Spec,
    codec: Any,
) -> None:
    import zarr

    choice = parse_codec(codec)
    dims = [a.name for a in axes]
    for k, plan in enumerate(plans):
        common: dict[str, Any] = dict(
            store=root_store,
            name=join(group_path, str(k)),
            shape=plan.shape,
            dtype=dtype,
            chunks=plan.chunks,
            fill_value=0,
            overwrite=True,
        )
        try:
            if spec.zarr_format == 3:
                plan.array = zarr.create_array(
                    **common,
                    shards=plan.shards,
                    compressors=choice.v3_compressors(dtype.itemsize),
                    zarr_format=3,
                    dimension_names=dims,
                )
            else:
                compressor = choice.v2_compressor(dtype.itemsize)
                plan.array = zarr.create_array(
                    **common,
                    compressors=(compressor,) if compressor is not None else None,
                    filters=None,
                    zarr_format=2,
                    chunk_key_encoding={"name": "v2", "separator": "/"},
                )
        except NgffError:
            raise
        except Exception as exc:
            raise NgffError(f"cannot create level {k}: {exc}", rule="codec/chunks") from exc


def _channels(channels: Any, inp: _Input, axes: tuple[Axis, ...], plans: list[LevelPlan], is_label: bool) -> Omero | None:
    """OMERO rendering: given channels, the input's, or defaults with windows from the data."""
    if is_label:
        return None
    dims = [a.name for a in axes]
    count = plans[0].shape[dims.index("c")] if "c" in dims else 1
    given: list[Any]
    if channels is None:
        given = list(inp.omero.channels) if inp.omero and len(inp.omero.channels) == count else [None] * count
    else:
        given = list(channels)
        if len(given) != count:
            raise NgffError(f"{len(given)} channels given for {count} channels in the data", rule="channels")
    windows = _data_windows(plans[-1], dims, count)
    out = []
    for i, item in enumerate(given):
        if isinstance(item, Channel):
            ch = item
        elif isinstance(item, Mapping):
            w = item.get("window")
            window = None
            if isinstance(w, Window):
                window = w
            elif isinstance(w, Mapping):
                window = Window(float(w.get("min", w["start"])), float(w.get("max", w["end"])), float(w["start"]), float(w["end"]))
            elif isinstance(w, Sequence) and len(w) == 2:
                window = Window(float(w[0]), float(w[1]), float(w[0]), float(w[1]))
            ch = Channel(
                label=item.get("label", item.get("name")),
                color=item.get("color"),
                window=window,
                active=bool(item.get("active", True)),
            )
        elif isinstance(item, str):
            ch = Channel(label=item)
        elif item is None:
            ch = Channel(label=f"Channel {i}" if count > 1 else None)
        else:
            raise NgffError(f"channels[{i}] must be a name, a mapping or a Channel, got {item!r}", rule="channels")
        color = _hex_color(ch.color) if ch.color is not None else _COLORS[i % len(_COLORS)] if count > 1 else "FFFFFF"
        window = ch.window or windows[i]
        out.append(
            Channel(label=ch.label, color=color, window=window, active=ch.active, inverted=ch.inverted, family=ch.family or "linear", coefficient=ch.coefficient if ch.coefficient is not None else 1.0)
        )
    return Omero(channels=tuple(out), name=inp.omero.name if inp.omero else None)


def _hex_color(color: Any) -> str:
    """``RRGGBB`` from a hex string (with or without ``#``) or an RGB(A) sequence."""
    if isinstance(color, str):
        text = color.lstrip("#").upper()
        if len(text) == 8:
            text = text[:6]
        if len(text) == 6 and all(c in "0123456789ABCDEF" for c in text):
            return text
    elif isinstance(color, Sequence) and len(color) in (3, 4):
        values = [float(c) for c in color[:3]]
        if all(v <= 1.0 for v in values):
            values = [v * 255 for v in values]
        return "".join(f"{int(round(v)):02X}" for v in values)
    raise NgffError(f"a channel colour must be 6 hex digits or RGB values, got {color!r}", rule="omero color")


def _data_windows(coarsest: LevelPlan, dims: list[str], count: int) -> list[Window]:
    """Display windows from the coarsest written level (cheap: it is tiny)."""
    data = np.asarray(coarsest.array[...])
    dtype = data.dtype
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        lo_limit, hi_limit = float(info.min), float(info.max)
    else:
        lo_limit = hi_limit = None  # type: ignore[assignment]
    windows = []
    for i in range(count):
        part = np.take(data, i, axis=dims.index("c")) if "c" in dims else data
        if part.dtype.kind in "fc":  # NaN and inf have no place in a JSON window
            part = part[np.isfinite(part)]
        lo, hi = (float(part.min()), float(part.max())) if part.size else (0.0, 1.0)
        if hi <= lo:
            hi = lo + 1
        windows.append(Window(min=lo_limit if lo_limit is not None else lo, max=hi_limit if hi_limit is not None else hi, start=lo, end=hi))
    return windows


def _multiscale(
    axes: tuple[Axis, ...],
    plans: list[LevelPlan],
    scale: Sequence[float],
    translation: Sequence[float],
    name: str | None,
    method: str,
) -> Multiscale:
    from . import __version__

    datasets = []
    for k, plan in enumerate(plans):
        level_scale = tuple(float(s * f) for s, f in zip(scale, plan.factors))
        # Pixel-centre alignment: a level-k pixel covers f level-0 pixels.
        level_shift = tuple(float(t + 0.5 * (f - 1) * s) for t, f, s in zip(translation, plan.factors, scale))
        transforms = [Transform("scale", level_scale)]
        if any(level_shift):
            transforms.append(Transform("translation", level_shift))
        datasets.append(Dataset(path=str(k), transforms=tuple(transforms)))
    return Multiscale(
        axes=axes,
        datasets=tuple(datasets),
        name=name,
        type=method,
        metadata={"method": f"ngff.pyramid.{method}", "version": __version__},
    )


def _write_image_group(
    target_root: Any,
    local_root: os.PathLike[str],
    group_path: str,
    inp: _Input,
    *,
    spec: Spec,
    axes: tuple[Axis, ...],
    scale: Sequence[float],
    translation: Sequence[float],
    name: str | None,
    channels: Any,
    chunks: Any,
    shards: Any,
    codec: Any,
    method: str,
    scale_factors: Any,
    progress: Progress | None,
    image_label: ImageLabel | None = None,
    backend: str = "zarr",
) -> None:
    """Write one multiscale image (pixels, then its OME metadata) into a store."""
    from pathlib import Path

    if shards is not None and spec.zarr_format != 3:
        raise NgffError(
            f"sharding needs Zarr v3 (OME-Zarr 0.5); version {spec.version} stores Zarr v2", rule="shards"
        )
    if method not in METHODS:
        raise NgffError(f"unknown downsampling method {method!r}; choose one of {', '.join(METHODS)}", rule="method")
    if image_label is not None and inp.dtype.kind not in "iu":
        raise NgffError(f"label images must have an integer dtype, got {inp.dtype}", rule="labels MUST be integers")
    spacing = [float(s) for s in scale]
    dtype = inp.dtype.newbyteorder("=") if inp.dtype.byteorder not in ("=", "|") else inp.dtype
    plans = _level_plans(inp.shape, axes, spacing, chunks, scale_factors, itemsize=dtype.itemsize)
    sharded = shards is not None
    planes = chunks == PLANES
    shard0 = _shard0(shards, plans[0], axes, planes=planes, itemsize=dtype.itemsize) if sharded else None
    growable = [a.type == "space" for a in axes]
    passes = plan_passes(
        plans,
        itemsize=dtype.itemsize,
        sharded=sharded,
        shard0=shard0,
        growable=growable,
        grow_first=split_plane_axes([a.type for a in axes])[1] if planes else (),
        method=method,
    )
    enable_fast_codecs()
    if backend == "zarr":
        _create_arrays(target_root, group_path, plans, axes, dtype, spec, codec)
    else:  # ngff.backends (tensorstore)
        from .backends import create_arrays

        create_arrays(backend, local_root, group_path, plans, axes, dtype, spec, codec)
    if hasattr(inp.array, "copy_levels"):  # a file's own pyramid (ngff.convert.reuse)
        inp.array.copy_levels(plans, dtype, progress)
    else:
        run_passes(passes, plans, inp.array, dtype, method, progress)
    multiscale = _multiscale(axes, plans, scale, translation, name, method)
    omero = _channels(channels, inp, axes, plans, is_label=image_label is not None)
    if image_label is not None and not image_label.colors:
        image_label = ImageLabel(
            colors=_default_label_colors(plans[-1]), properties=image_label.properties, source=image_label.source
        )
    meta = GroupMetadata(version=spec.version, multiscales=(multiscale,), omero=omero, image_label=image_label)
    _put_group(Path(local_root), group_path, spec, spec.dump(meta))


def _put_group(root: Any, group_path: str, spec: Spec, attrs: dict[str, Any]) -> None:
    """Write a group's metadata document(s) - the last step of every write."""
    if spec.zarr_format == 3:
        put_json(root, join(group_path, "zarr.json"), {"zarr_format": 3, "node_type": "group", "attributes": attrs})
    else:
        put_json(root, join(group_path, ".zgroup"), {"zarr_format": 2})
        put_json(root, join(group_path, ".zattrs"), attrs)


def _spec_for(version: str) -> Spec:
    if version not in WRITABLE_VERSIONS:
        raise UnsupportedVersionError(
            f"writing OME-Zarr {version!r} is not supported; choose one of {', '.join(WRITABLE_VERSIONS)}"
        )
    return get_spec(version)


def write(
    data: Any,
    location: str | os.PathLike[str],
    *,
    dims: Sequence[str] | str | None = None,
    scale: Mapping[str, float] | Sequence[float] | None = None,
    translation: Mapping[str, float] | Sequence[float] | None = None,
    units: Mapping[str, str] | Sequence[str | None] | None = None,
    name: str | None = None,
    channels: Sequence[Any] | None = None,
    version: str = "0.5",
    chunks: Any = None,
    shards: Any = None,
    codec: Any = None,
    method: str | None = None,
    scale_factors: Sequence[Any] | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
    backend: str = "zarr",
    orientation: Any = None,
) -> Image:
    """Write an array or image as an OME-Zarr multiscale image.

    Parameters
    ----------
    data
        numpy, dask or zarr array, or an :class:`~ngff.Image` (its level 0 is streamed
        and its metadata kept unless overridden).
    location
        Destination directory (e.g. ``"image.ome.zarr"``), or an RFC-9 ``.ozx`` archive
        (0.5 only, sharded by default; see :func:`ngff.ozx.write_ozx`).
    dims
        Axis names, default from the number of dimensions (``yx``, ``zyx``, ``czyx``,
        ``tczyx``).  Types follow from the names (t: time, c: channel, x/y/z: space).
    scale, translation, units
        Level-0 pixel size, origin and unit per axis: a sequence (one per axis) or a
        ``{axis: value}`` mapping.  Defaults: 1, 0 and no unit.
    name
        Name of the multiscale.
    channels
        One entry per channel: a label string, a mapping (``label``, ``color``,
        ``window`` as ``(start, end)`` or a mapping, ``active``) or a
        :class:`~ngff.Channel`.  Default: windows from the data, distinct colours.
    version
        ``"0.5"`` (Zarr v3) or ``"0.4"`` (Zarr v2 with nested keys).
    chunks
        Chunk shape: an int for the space axes, a per-axis tuple or mapping, or a list
        of those (one per level); or ``"planes"``, the layout made for viewing planes
        remotely (with ``shards="auto"``, shards covering whole planes; the default of
        ``.ozx`` archives).  Default: see :mod:`ngff.chunking`.
    shards
        0.5 only: chunks per shard of level 0 (int, tuple or mapping) or ``"auto"``
        (sized to the write region).  Lower levels get shards covering the same level-0
        region, so one task writes a region's whole pyramid.  None: no sharding.
    codec
        ``"blosc-zstd"`` (default, level 3, bit-shuffle), ``"blosc-lz4"``, ``"zstd"``,
        ``"gzip"``, ``"lz4"``, ``"none"``, optionally with ``":level"``; or codec objects.
    method
        Downsampling: ``"gaussian"`` (default), ``"mean"``, ``"nearest"``, ``"mode"``
        (default for label images), ``"min"``, ``"max"``.
    scale_factors
        Absolute factors of the levels below level 0: ints (applied to space axes) or
        per-axis mappings, e.g. ``[2, 4, 8]`` or ``[{"x": 2, "y": 2}, ...]``.  Default:
        halve until a level fits in one chunk, sparing coarse (anisotropic) axes.
    overwrite
        Replace an existing store at ``location``.  The store being read from is never
        replaced.
    progress
        Called as ``progress(done, total)`` after each region is written.
    backend
        ``"zarr"`` (default, zarr-python) or ``"tensorstore"`` (the optional extra; same
        stores, see :mod:`ngff.backends.tensorstore`).
    orientation
        RFC-4 anatomical orientation of the space axes: a letter code such as
        ``"RAS"``, ``"LPS"`` or ``"LPI"`` (letters in x, y, z order naming the sides
        the axes point to, as in NIfTI/ITK), a ``{axis: term}`` mapping or one term per
        (space) axis; see :func:`ngff.orientation.resolve_orientation`.  Default: the
        input image's orientation, if any.

    Returns
    -------
    Image
        The written image, opened lazily.

    Raises
    ------
    NgffError
        For invalid options or data; the destination is left untouched.
    """
    if os.fspath(location).lower().endswith(".ozx"):  # RFC-9 archive: written as a store, then packed
        options = {k: v for k, v in locals().items() if k not in ("data", "location")}
        from .ozx import write_ozx

        return write_ozx(data, location, **options)
    from .reader import read

    spec = _spec_for(version)
    inp = _as_input(data)
    axes = _axes(inp, dims, units)
    from .orientation import resolve_orientation  # also checks an input image's RFC-4 orientation

    axes = resolve_orientation(axes, orientation)
    names = tuple(a.name for a in axes)
    scale_values = [float(v) for v in resolve_per_dim(scale, names, "scale", inp.scale or [1.0] * len(names))]
    shift_values = [float(v) for v in resolve_per_dim(translation, names, "translation", inp.translation or [0.0] * len(names))]
    if any(not np.isfinite(s) or s <= 0 for s in scale_values):
        raise NgffError(f"scale values must be positive and finite, got {scale_values}", rule="scale")
    output = OutputDirectory(location, overwrite=overwrite, protect=[inp.location] if inp.location else [])
    try:
        _write_image_group(
            output.zarr_store(),
            output.path,
            "",
            inp,
            spec=spec,
            axes=axes,
            scale=scale_values,
            translation=shift_values,
            name=name if name is not None else inp.name or _default_name(location),
            channels=channels,
            chunks=chunks,
            shards=shards,
            codec=codec,
            method=method or default_method(inp.is_label),
            scale_factors=scale_factors,
            progress=progress,
            backend=backend,
        )
        output.commit()
    except (OSError, RuntimeError) as exc:  # disk full, permission denied...: the destination is untouched
        output.abort()
        if isinstance(exc, RuntimeError) and "os error" not in str(exc):  # zarrs: "... (os error 28)"
            raise
        raise StoreError(
            f"writing failed, nothing was written: {getattr(exc, 'strerror', None) or exc}", location=str(output.final)
        ) from exc
    except BaseException:
        output.abort()
        raise
    result = read(output.final)
    assert isinstance(result, Image)
    return result


def _default_name(location: str | os.PathLike[str]) -> str:
    """``"image"`` for ``".../image.ome.zarr"`` (multiscales SHOULD have a name)."""
    base = os.path.basename(os.fspath(location).rstrip("/\\")) or "image"
    for suffix in (".ozx", ".zarr", ".ome"):
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
    return base or "image"


def write_labels(
    image_location: str | os.PathLike[str],
    name: str,
    data: Any,
    *,
    colors: Mapping[int, Sequence[int]] | Sequence[Any] | None = None,
    properties: Sequence[Mapping[str, Any]] | Mapping[int, Mapping[str, Any]] | None = None,
    dims: Sequence[str] | str | None = None,
    chunks: Any = None,
    shards: Any = None,
    codec: Any = None,
    method: str = "mode",
    overwrite: bool = False,
    progress: Progress | None = None,
) -> Image:
    """Add a label image under ``labels/<name>`` of an existing image.

    The label image gets the image's number of levels and scale factors, its scale and
    translation, and ``image-label`` metadata; the ``labels`` group lists it.

    Parameters
    ----------
    image_location
        The image the labels annotate (written by any tool, 0.4 or 0.5).
    name
        Name of the label image (a path segment).
    data
        Integer array with the image's dimensions, or without its channel axis.
    colors
        ``{value: (r, g, b, a)}`` or a sequence of ``{"label-value": v, "rgba": [...]}``.
    properties
        ``{value: {...}}`` or a sequence of mappings holding ``label-value``.
    dims, chunks, shards, codec, progress
        As for :func:`write`.
    method
        Downsampling, ``"mode"`` by default (never invents labels).
    overwrite
        Replace an existing label image of that name.

    Returns
    -------
    Image
        The label image, opened lazily.
    """
    from pathlib import Path

    from .reader import read, read_image
    from .store import open_store
    from .update import label_target

    image = read(image_location)
    if not isinstance(image, Image) or image.is_label:
        raise NgffError("labels can only be added to an image", location=str(image_location))
    if not name or "/" in name or name in (".", ".."):
        raise NgffError(f"invalid label name {name!r}", rule="label names are single path segments")
    spec = get_spec(image.version)
    if spec.version not in WRITABLE_VERSIONS:
        raise UnsupportedVersionError(f"cannot add labels to an OME-Zarr {image.version} image; convert it first", location=str(image_location))
    inp = _as_input(data)
    if inp.dtype.kind not in "iu":
        raise NgffError(f"label images must have an integer dtype, got {inp.dtype}", rule="labels MUST be integers")
    image_dims = list(image.dims)
    if dims is None:
        if len(inp.shape) == len(image_dims):
            dims = image_dims
        elif len(inp.shape) == len(image_dims) - 1 and "c" in image_dims:
            dims = [d for d in image_dims if d != "c"]
        else:
            raise NgffError(f"{len(inp.shape)}-D labels do not fit the image axes {image_dims}", rule="label dims")
    dims = list(dims)
    index = [image_dims.index(d) for d in dims if d in image_dims]
    if len(index) != len(dims):
        raise NgffError(f"label dims {dims} are not axes of the image {image_dims}", rule="label dims")
    for d, n in zip(dims, inp.shape):
        full = image.shape[image_dims.index(d)]
        if n not in (full, 1):
            raise NgffError(f"labels have {n} pixels along {d!r}, the image {full}", rule="label dimensions MUST match the image or be 1")
    axes = tuple(Axis(a.name, a.type, a.unit, a.orientation) for a in image.axes if a.name in dims)
    scale0 = [image.scales[0][i] for i in index]
    factors = []
    for k in range(1, len(image.levels)):
        row = {}
        for d, i in zip(dims, index):
            ratio = image.scales[k][i] / image.scales[0][i] if image.scales[0][i] else 1.0
            row[d] = max(1, int(round(ratio)))
        factors.append(row)
    for row in factors:  # a 1-pixel label axis is not downsampled
        for d, n in zip(dims, inp.shape):
            if n == 1:
                row[d] = 1
    image_store = open_store(image_location)
    if chunks is None or (shards is None and spec.zarr_format == 3):
        inherited_chunks, inherited_shards = _image_layout(image_store, image, dims)
        chunks = inherited_chunks if chunks is None else chunks
        shards = inherited_shards if shards is None else shards
    target = label_target(image_location, name, overwrite)  # store lock; staging for URLs and .ozx
    image_root = target.root
    labels_path = image_root / "labels"
    output = target.guard(OutputDirectory, labels_path / name, overwrite=target.overwrite)
    label_meta = ImageLabel(colors=_label_colors(colors), properties=_label_properties(properties), source="../../")
    try:
        _write_image_group(
            output.zarr_store(),
            output.path,
            "",
            inp,
            spec=spec,
            axes=axes,
            scale=scale0,
            translation=[image.translations[0][i] for i in index],
            name=name,
            channels=None,
            chunks=chunks,
            shards=shards,
            codec=codec,
            method=method,
            scale_factors=factors,
            progress=progress,
            image_label=label_meta,
        )
        output.commit()
    except (OSError, RuntimeError) as exc:  # disk full, permission denied...: the destination is untouched
        output.abort()
        target.abort()
        if isinstance(exc, RuntimeError) and "os error" not in str(exc):  # zarrs: "... (os error 28)"
            raise
        raise StoreError(
            f"writing failed, nothing was written: {getattr(exc, 'strerror', None) or exc}", location=str(output.final)
        ) from exc
    except BaseException:
        output.abort()
        target.abort()
        raise
    target.publish(name, lambda: _register_label(open_store(image_location), image_root, spec, name))
    return read_image(open_store(image_location), f"labels/{name}")


def _image_layout(store: Any, image: Image, dims: Sequence[str]) -> tuple[Any, Any]:
    """Per-level chunks and level-0 chunks-per-shard of ``image``, restricted to ``dims``.

    Labels are read alongside their image, so sharing its chunk (and shard) grid keeps
    a viewer's requests aligned.  Either value is None when the image's arrays do not
    state it (the writer's defaults apply then).
    """
    from .summary import array_layout

    image_dims = list(image.dims)
    per_level: list[dict[str, int]] = []
    shards: dict[str, int] | None = None
    for k, path in enumerate(image.level_paths):
        node = store.node(join(image.path, path))
        layout = array_layout(node) if node is not None else None
        chunks = layout.get("chunks") if layout else None
        if not chunks or len(chunks) != len(image_dims):
            return None, None
        per_level.append({d: int(chunks[image_dims.index(d)]) for d in dims})
        outer = layout.get("shards") if k == 0 else None
        if outer and len(outer) == len(image_dims):
            shards = {d: max(1, int(outer[image_dims.index(d)]) // int(chunks[image_dims.index(d)])) for d in dims}
    return per_level, shards


def _register_label(store: Any, root: Any, spec: Spec, name: str) -> None:
    """Add ``name`` to the ``labels`` group's list (created if needed), keeping the others."""
    node = store.node("labels")
    existing: tuple[str, ...] = ()
    if node is not None and node.node_type == "group":
        try:
            existing = spec.parse(node.attributes, store.where("labels")).labels or ()
        except InvalidMetadataError:
            existing = ()
    names = list(existing) + ([name] if name not in existing else [])
    _put_group(root, "labels", spec, spec.dump(GroupMetadata(version=spec.version, labels=tuple(names))))


def _label_colors(colors: Any) -> tuple[LabelColor, ...]:
    if colors is None:
        return ()
    out = []
    items = colors.items() if isinstance(colors, Mapping) else None
    if items is not None:
        for value, rgba in items:
            out.append(LabelColor(int(value), _rgba(rgba)))
    else:
        for item in colors:
            if isinstance(item, LabelColor):
                out.append(item)
            elif isinstance(item, Mapping) and "label-value" in item:
                out.append(LabelColor(int(item["label-value"]), _rgba(item["rgba"]) if "rgba" in item else None))
            else:
                raise NgffError(f"a label colour must map 'label-value' to 'rgba', got {item!r}", rule="image-label colors")
    values = [c.value for c in out]
    if len(set(values)) != len(values):
        raise NgffError("label colours repeat a label value", rule="label-value MUST be unique")
    return tuple(out)


def _default_label_colors(coarsest: LevelPlan) -> tuple[LabelColor, ...]:
    """Distinct colours for the labels seen at the coarsest level (image-label colors SHOULD exist).

    Hues step by the golden ratio so neighbouring values differ; 0 (background) is transparent.
    """
    import colorsys

    values = np.unique(np.asarray(coarsest.array[...]))[:4096]
    colors = []
    for value in values.tolist():
        if value == 0:
            colors.append(LabelColor(0, (0, 0, 0, 0)))
            continue
        r, g, b = colorsys.hsv_to_rgb((value * 0.618033988749895) % 1.0, 0.75, 1.0)
        colors.append(LabelColor(int(value), (int(r * 255), int(g * 255), int(b * 255), 255)))
    return tuple(colors)


def _rgba(value: Any) -> tuple[int, int, int, int]:
    values = list(value)
    if len(values) == 3:
        values.append(255)
    if len(values) != 4:
        raise NgffError(f"rgba needs 4 values, got {value!r}", rule="image-label colors rgba")
    if all(isinstance(v, float) and v <= 1.0 for v in values):
        values = [v * 255 for v in values]
    ints = [int(round(v)) for v in values]
    if any(not 0 <= v <= 255 for v in ints):
        raise NgffError(f"rgba values must be within 0..255, got {value!r}", rule="image-label colors rgba")
    return tuple(ints)  # type: ignore[return-value]


def _label_properties(properties: Any) -> tuple[Mapping[str, Any], ...]:
    if properties is None:
        return ()
    if isinstance(properties, Mapping):
        return tuple({"label-value": int(k), **dict(v)} for k, v in properties.items())
    out = []
    for item in properties:
        if not isinstance(item, Mapping) or "label-value" not in item:
            raise NgffError("each label property needs a 'label-value'", rule="image-label properties")
        out.append(dict(item))
    return tuple(out)
