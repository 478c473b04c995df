"""OME-Zarr metadata <-> napari layer keyword arguments.

Pure functions, no viewer and no Qt: :func:`image_layers` and :func:`label_layers` turn
an opened :class:`ngff.Image` into napari layer-data tuples; :func:`unit_to_ome`,
:func:`colormap_hex` and friends go the other way for the writer.

Channels are split here rather than with napari's ``channel_axis``: napari broadcasts
``axis_labels``, ``units`` and ``metadata`` per channel by guessing whether a value is
already a per-channel sequence, which misfires when the number of channels equals the
number of axes (a tuple of axis-name strings is taken as one name per channel).  Slicing
the channel out of each dask level is what ``channel_axis`` does anyway, and is lazy.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import dask.array

    from ngff import Image

__all__ = [
    "LETTERS_LAYER",
    "ORIENTATION_KEY",
    "PROVENANCE_KEY",
    "LayerData",
    "channel_colormap",
    "colormap_hex",
    "display_name",
    "features_from_properties",
    "image_layers",
    "label_colormap",
    "label_colors_from_colormap",
    "label_layers",
    "orientation_of",
    "properties_from_features",
    "quick_range",
    "store_name",
    "unit_to_napari",
    "unit_to_ome",
]

LayerData = tuple[Any, dict[str, Any], str]

#: Key of the provenance mapping in ``layer.metadata``.
PROVENANCE_KEY = "ngff"
#: Key of the RFC-4 orientation in ``layer.metadata``: ``{axis name: term}`` (space axes).
ORIENTATION_KEY = "orientation"
#: Name of the Orientation widget's canvas letters (a points layer that is not data).
LETTERS_LAYER = "orientation letters"

#: Elements of the coarsest level read to guess contrast limits when OMERO gives none.
_RANGE_BUDGET = 4_000_000


# --------------------------------------------------------------------------- names


def store_name(location: str, path: str = "") -> str:
    """The store's file name without its zarr suffix, plus the group path inside it."""
    base = os.path.basename(str(location).rstrip("/\\")) or str(location)
    for suffix in (".ome.zarr", ".zarr.zip", ".zarr", ".ozx", ".zip"):
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
            break
    return f"{base}/{path}" if path else base


def display_name(image: Image) -> str:
    """A human name for an image: its multiscale/OMERO name, else :func:`store_name`."""
    return str(image.name) if image.name else store_name(image.location, image.path)


# --------------------------------------------------------------------------- units


def unit_to_napari(unit: str | None) -> str | None:
    """The OME unit if napari's pint registry parses it as a length or time, else None.

    None makes napari use its ``pixel`` unit for that axis.
    """
    if not unit or not isinstance(unit, str):
        return None
    try:
        import pint

        parsed = pint.get_application_registry().parse_expression(unit)
    except Exception:  # pint raises several kinds (undefined, syntax, dimensionality)
        return None
    units = getattr(parsed, "units", None)
    if units is None or not ({"[length]", "[time]"} & {str(k) for k in units.dimensionality}):
        return None
    return unit


def unit_to_ome(unit: Any) -> str | None:
    """OME (UDUNITS-2) name of a napari unit: ``pint.Unit('micrometer')`` -> ``"micrometer"``.

    napari's default ``pixel`` unit (and anything dimensionless) means "no unit".
    """
    if unit is None:
        return None
    if isinstance(unit, str):
        text = unit.strip()
        if not text or text == "pixel":
            return None
        try:  # normalise abbreviations such as "um" through pint
            import pint

            unit = pint.get_application_registry().parse_expression(text).units
        except Exception:
            return text
    dimensionality = getattr(unit, "dimensionality", None)
    if dimensionality is not None and "[printing_unit]" in {str(k) for k in dimensionality}:
        return None  # napari's pixel
    text = f"{unit:D}" if hasattr(unit, "dimensionality") else str(unit)
    return text or None


# --------------------------------------------------------------------------- colours


def _hex_rgb(color: str | None) -> tuple[float, float, float] | None:
    if not isinstance(color, str):
        return None
    text = color.strip().lstrip("#")
    if len(text) == 8:
        text = text[:6]
    if len(text) != 6:
        return None
    try:
        return tuple(int(text[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]
    except ValueError:
        return None


def channel_colormap(color: str | None) -> Any:
    """A napari colormap from black to an OMERO ``RRGGBB`` colour (None: grey).

    The name encodes the colour (``ngff-FF0000``) so that napari's colormap registry,
    which is keyed by name, never hands one channel another channel's colours.
    """
    from napari.utils.colormaps import Colormap

    rgb = _hex_rgb(color)
    if rgb is None:
        return "gray"
    hex_name = "".join(f"{round(v * 255):02X}" for v in rgb)
    return Colormap(
        colors=[[0.0, 0.0, 0.0, 1.0], [*rgb, 1.0]],
        name=f"ngff-{hex_name}",
        display_name=f"ngff #{hex_name}",
    )


def colormap_hex(colormap: Any) -> str | None:
    """``RRGGBB`` of a napari colormap's last colour (a Colormap, its dict, or a name)."""
    if colormap is None:
        return None
    colors = None
    if isinstance(colormap, Mapping):
        colors = colormap.get("colors")
    elif hasattr(colormap, "colors"):
        colors = colormap.colors
    elif isinstance(colormap, str):
        try:
            from napari.utils.colormaps import ensure_colormap

            colors = ensure_colormap(colormap).colors
        except Exception:
            return None
    if colors is None:
        return None
    last = np.asarray(colors, dtype=float).reshape(-1, 4)[-1] if len(colors) else None
    if last is None:
        return None
    return "".join(f"{round(float(v) * 255):02X}" for v in np.clip(last[:3], 0, 1))


def label_colormap(image: Image) -> Any:
    """napari ``DirectLabelColormap`` from ``image-label`` colours (None when there are none)."""
    colors = image.image_label.colors if image.image_label else ()
    if not any(c.rgba is not None for c in colors):
        return None
    from napari.utils.colormaps import DirectLabelColormap

    color_dict: dict[int | None, Any] = {0: np.zeros(4)}
    for c in colors:
        if c.rgba is not None:
            color_dict[int(c.value)] = np.asarray(c.rgba, dtype=float) / 255
    # None is the colour of every value not listed: transparent, as the spec gives no colour.
    color_dict[None] = np.zeros(4)
    return DirectLabelColormap(color_dict=color_dict)


def label_colors_from_colormap(colormap: Any) -> dict[int, tuple[int, int, int, int]] | None:
    """``{value: rgba 0..255}`` of a napari direct label colormap (None for cyclic/random ones).

    The background's transparent colour, which napari always adds, is left out.
    """
    color_dict = getattr(colormap, "color_dict", None)
    if color_dict is None and isinstance(colormap, Mapping):
        color_dict = colormap.get("color_dict")
    if not color_dict:
        return None
    out: dict[int, tuple[int, int, int, int]] = {}
    for key, rgba in color_dict.items():
        if key is None:
            continue
        r, g, b, a = (round(float(v) * 255) for v in np.clip(np.asarray(rgba, dtype=float), 0, 1))
        if int(key) == 0 and a == 0:
            continue
        out[int(key)] = (r, g, b, a)
    return out or None


# --------------------------------------------------------------------------- properties


def features_from_properties(
    properties: Sequence[Mapping[str, Any]],
) -> dict[str, list[Any]] | None:
    """napari labels ``features`` (``index`` = label value) from ``image-label`` properties."""
    if not properties:
        return None
    columns: list[str] = []
    for row in properties:
        for key in row:
            if key != "label-value" and key not in columns:
                columns.append(key)
    table: dict[str, list[Any]] = {"index": [int(row["label-value"]) for row in properties]}
    for key in columns:
        table[key] = [row.get(key) for row in properties]
    return table


def properties_from_features(features: Any) -> list[dict[str, Any]] | None:
    """``image-label`` properties from a napari features table (rows without ``index`` are skipped)."""
    if features is None or len(features) == 0 or "index" not in getattr(features, "columns", ()):
        return None
    rows = []
    for record in features.to_dict(orient="records"):
        value = record.pop("index")
        row: dict[str, Any] = {"label-value": int(value)}
        for key, item in record.items():
            if item is None or (isinstance(item, float) and np.isnan(item)):
                continue
            row[str(key)] = item.item() if isinstance(item, np.generic) else item
        rows.append(row)
    return rows or None


# --------------------------------------------------------------------------- contrast


def quick_range(level: dask.array.Array) -> tuple[float, float]:
    """(min, max) of a (coarse) level, reading at most a central part of it.

    Large levels are cut to their central plane on leading axes and a central window
    on the last two, so the cost stays bounded however big the image.
    """
    view = level
    index: list[Any] = []
    for axis, n in enumerate(view.shape):
        if axis < view.ndim - 2 and view.size > _RANGE_BUDGET:
            index.append(n // 2)
        else:
            index.append(slice(None))
    view = view[tuple(index)]
    if view.size > _RANGE_BUDGET:
        side = int(np.sqrt(_RANGE_BUDGET))
        window = tuple(
            slice(max(0, n // 2 - side // 2), n // 2 + side // 2) for n in view.shape[-2:]
        )
        view = view[(Ellipsis, *window)]
    if view.size == 0:
        return 0.0, 1.0
    import dask

    try:
        lo, hi = dask.compute(view.min(), view.max())
    except Exception:  # unreadable chunks: the dtype's range still lets the image open
        kind = np.dtype(level.dtype)
        if kind.kind in "iu":
            info = np.iinfo(kind)
            return float(info.min), float(info.max)
        return 0.0, 1.0
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return 0.0, 1.0
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def _window_limits(channel: Any) -> tuple[float, float] | None:
    window = getattr(channel, "window", None)
    if window is None:
        return None
    start, end = float(window.start), float(window.end)
    if not (np.isfinite(start) and np.isfinite(end)):
        return None
    return (start, end) if end > start else (start, start + 1.0)


# --------------------------------------------------------------------------- layers


def orientation_of(meta: Mapping[str, Any]) -> dict[str, str | None] | None:
    """``{axis: term}`` of a layer's metadata (the orientation key, else its provenance axes)."""
    metadata = meta.get("metadata") or {}
    value = metadata.get(ORIENTATION_KEY)
    if isinstance(value, Mapping):
        return {str(k): (str(v) if v else None) for k, v in value.items()}
    axes = (metadata.get(PROVENANCE_KEY) or {}).get("axes") or ()
    found = {a["name"]: a.get("orientation") for a in axes if a.get("type") == "space"}
    return found if any(found.values()) else None


def _provenance(image: Image, kind: str, **extra: Any) -> dict[str, Any]:
    """What the writer and later editors need to find the data again (and the orientation)."""
    oriented = {a.name: a.orientation for a in image.axes if a.type == "space"}
    orientation = {ORIENTATION_KEY: oriented} if any(oriented.values()) else {}
    return {
        **orientation,
        PROVENANCE_KEY: {
            "location": str(image.location),
            "path": image.path,
            "level_paths": list(image.level_paths),
            "version": image.version,
            "name": image.name,
            "axes": [
                {"name": a.name, "type": a.type, "unit": a.unit, "orientation": a.orientation}
                for a in image.axes
            ],
            "kind": kind,
            **extra,
        }
    }


def _take(levels: Sequence[Any], axis: int, index: int) -> list[Any]:
    return [level[(slice(None),) * axis + (index,)] for level in levels]


def _spatial_kwargs(image: Image, keep: Sequence[int]) -> dict[str, Any]:
    """scale, translate, axis_labels and units of level 0 for the axes kept."""
    return {
        "scale": tuple(float(image.scales[0][i]) for i in keep),
        "translate": tuple(float(image.translations[0][i]) for i in keep),
        "axis_labels": tuple(image.axes[i].name for i in keep),
        "units": tuple(unit_to_napari(image.axes[i].unit) for i in keep),
    }


def _data(levels: list[Any]) -> tuple[Any, bool]:
    # One level: the dask array itself, so napari never treats it as a pyramid.
    return (levels, True) if len(levels) > 1 else (levels[0], False)


def image_layers(
    image: Image, *, name: str | None = None, visible: bool = True, range_source: Any = None
) -> list[LayerData]:
    """One ``image`` layer per channel of an OME-Zarr image.

    Parameters
    ----------
    image
        An opened (non-label) image.
    name
        Base name for channels without an OMERO label (default: :func:`display_name`).
    visible
        False hides every channel (OMERO ``active: false`` hides one regardless).
    range_source
        Array (with the image's axes) to take contrast limits from when OMERO gives
        none; default the coarsest level.
    """
    base = name or display_name(image)
    dims = list(image.dims)
    channel_axis = next((i for i, a in enumerate(image.axes) if a.type == "channel"), None)
    keep = [i for i in range(len(dims)) if i != channel_axis]
    count = image.shape[channel_axis] if channel_axis is not None else 1
    omero = list(image.channels)
    spatial = _spatial_kwargs(image, keep)
    coarsest = image.levels[-1] if range_source is None else range_source
    layers: list[LayerData] = []
    for c in range(count):
        levels = (
            _take(image.levels, channel_axis, c) if channel_axis is not None else list(image.levels)
        )
        channel = omero[c] if c < len(omero) else None
        label = channel.label if channel is not None and channel.label else None
        if label is None:
            label = f"{base} [{c}]" if count > 1 else base
        limits = _window_limits(channel)
        if limits is None:
            part = (
                coarsest[(slice(None),) * channel_axis + (c,)]
                if channel_axis is not None
                else coarsest
            )
            limits = quick_range(part)
        data, multiscale = _data(levels)
        extra: dict[str, Any] = {"channel": c if channel_axis is not None else None}
        if channel is not None and channel.window is not None:
            extra["window"] = {"min": channel.window.min, "max": channel.window.max}
        meta: dict[str, Any] = {
            "name": label,
            "multiscale": multiscale,
            "rgb": False,  # a last axis of length 3 or 4 is not colour
            "colormap": channel_colormap(channel.color if channel is not None else None),
            "contrast_limits": limits,
            "visible": bool(visible and (channel.active if channel is not None else True)),
            "blending": "additive" if count > 1 else "translucent",
            "metadata": _provenance(image, "image", **extra),
            **spatial,
        }
        layers.append((data, meta, "image"))
    return layers


def label_layers(
    label: Image, *, name: str | None = None, visible: bool = False
) -> list[LayerData]:
    """``labels`` layer(s) of a label image, with its colours and properties.

    A channel axis of length 1 (label images keep the image's axes) is dropped so the
    labels line up with the channel-split image layers; a longer one gives one layer
    per channel.
    """
    base = name or display_name(label)
    channel_axis = next((i for i, a in enumerate(label.axes) if a.type == "channel"), None)
    keep = [i for i in range(len(label.dims)) if i != channel_axis]
    count = label.shape[channel_axis] if channel_axis is not None else 1
    spatial = _spatial_kwargs(label, keep)
    colormap = label_colormap(label)
    properties = label.image_label.properties if label.image_label else ()
    features = features_from_properties(properties)
    layers: list[LayerData] = []
    for c in range(count):
        levels = (
            _take(label.levels, channel_axis, c) if channel_axis is not None else list(label.levels)
        )
        data, multiscale = _data(levels)
        meta: dict[str, Any] = {
            "name": base if count == 1 else f"{base} [{c}]",
            "multiscale": multiscale,
            "visible": visible,
            "metadata": _provenance(
                label, "label", channel=c if channel_axis is not None else None
            ),
            **spatial,
        }
        if colormap is not None:
            meta["colormap"] = colormap
        if features is not None:
            meta["features"] = features
        layers.append((data, meta, "labels"))
    return layers
