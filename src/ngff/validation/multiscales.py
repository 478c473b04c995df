"""Rules of the ``multiscales`` metadata: axes, datasets and coordinate transformations.

Quotes are from the 0.4/0.5 "multiscales" and "axes" sections; 0.3 names-only axes get
the same structural rules through the types their names imply (t, c, z/y/x), and
0.1/0.2 have no axes at all (``t, c, z, y, x`` implied).  What the store walk needs
later (axis names, dataset paths) is returned as :class:`MultiscaleInfo`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from ..model import IMPLIED_DIMS, TYPE_BY_NAME
from ..spec import Spec
from .orientation import check_orientations
from .report import Findings, join_path
from .values import is_dict, is_list, is_number, is_str, short, type_name
from .versions import check_object_version
from .vocab import KNOWN_AXIS_TYPES, SPACE_UNITS, TIME_UNITS

__all__ = ["MultiscaleInfo", "check_multiscales", "check_transforms"]


@dataclass(frozen=True)
class MultiscaleInfo:
    """What the store walk needs from one multiscale entry.

    Attributes
    ----------
    axes
        Axis names in order; None when the axes are unusable.  For versions with
        implied axes: the implied ``t, c, z, y, x``.
    implied
        True when the version has no axes field (0.1/0.2).
    paths
        The dataset paths that are strings, in order.
    channel_axis
        Index of the axis of type ``channel``, if there is one.
    """

    axes: tuple[str, ...] | None
    implied: bool
    paths: tuple[str, ...]
    channel_axis: int | None = None


def check_multiscales(
    value: Any, spec: Spec, f: Findings, path: str = "multiscales"
) -> list[MultiscaleInfo]:
    """Check a ``multiscales`` value; return what the store walk needs of each entry."""
    if not is_list(value):
        f.error(path, "multiscales.type", f"'multiscales' MUST be a list, found {type_name(value)}")
        return []
    if not value:
        f.error(path, "multiscales.empty", "'multiscales' MUST hold at least one multiscale image")
        return []
    seen: set[str] = set()
    infos = []
    for i, item in enumerate(value):
        where = join_path(path, i)
        if not is_dict(item):
            f.error(
                where,
                "multiscales.item-type",
                f"a multiscale MUST be an object, found {type_name(item)}",
            )
            continue
        try:
            key = json.dumps(item, sort_keys=True, default=str)
        except (TypeError, ValueError):  # non-JSON Python input (e.g. mixed key types)
            key = repr(item)
        if key in seen:
            f.error(
                where,
                "multiscales.unique",
                "the same multiscale is listed twice (schema: uniqueItems)",
            )
        seen.add(key)
        infos.append(_check_multiscale(item, spec, f, where))
    return infos


def _check_multiscale(ms: dict[str, Any], spec: Spec, f: Findings, path: str) -> MultiscaleInfo:
    check_object_version(ms, spec, f, path, "multiscale")
    if "name" not in ms:
        f.warn(path, "multiscale.name-missing", 'each multiscale SHOULD contain the field "name"')
    elif not is_str(ms["name"]):
        f.error(join_path(path, "name"), "multiscale.name-type", "'name' MUST be a string")
    if "type" not in ms:
        f.warn(
            path,
            "multiscale.type-missing",
            'each multiscale SHOULD contain the field "type" (downscaling method)',
        )
    if "metadata" not in ms:
        f.warn(
            path,
            "multiscale.metadata-missing",
            'each multiscale SHOULD contain the field "metadata"',
        )
    elif not is_dict(ms["metadata"]):
        f.error(
            join_path(path, "metadata"),
            "multiscale.metadata-type",
            "'metadata' MUST be a dictionary",
        )

    axes, channel_axis = _check_axes(ms, spec, f, path)
    n_axes = len(axes) if axes is not None else None
    paths = _check_datasets(ms, spec, f, path, n_axes)
    if spec.has_transforms and "coordinateTransformations" in ms:
        # "MAY ... same rules about allowed types, order, etc." as the dataset ones.
        check_transforms(
            ms["coordinateTransformations"],
            n_axes,
            f,
            join_path(path, "coordinateTransformations"),
            spec,
        )
    return MultiscaleInfo(
        axes=axes, implied=spec.axes_form == "implied", paths=paths, channel_axis=channel_axis
    )


# ---------------------------------------------------------------------------- axes


def _check_axes(
    ms: dict[str, Any], spec: Spec, f: Findings, path: str
) -> tuple[tuple[str, ...] | None, int | None]:
    """Check ``axes``; return the names (when usable) and the index of the channel axis."""
    if spec.axes_form == "implied":
        # "All image arrays are 5-dimensional with dimension order (t, c, z, y, x)"
        return IMPLIED_DIMS, IMPLIED_DIMS.index("c")
    where = join_path(path, "axes")
    if "axes" not in ms:
        f.error(path, "axes.missing", 'each multiscale MUST contain the field "axes"')
        return None, None
    raw = ms["axes"]
    if not is_list(raw):
        f.error(where, "axes.type", f"'axes' MUST be a list, found {type_name(raw)}")
        return None, None
    names: list[str | None] = []
    types: list[str | None] = []
    for i, axis in enumerate(raw):
        name, kind = (
            _check_axis_name(axis, f, join_path(where, i))
            if spec.axes_form == "names"
            else _check_axis_object(axis, f, join_path(where, i))
        )
        names.append(name)
        types.append(kind)
    usable = all(n is not None for n in names)
    _check_axes_structure(names, types, f, where)
    if spec.axes_form == "objects":
        check_orientations(raw, f, where)
    channel = types.index("channel") if types.count("channel") == 1 else None
    return (tuple(names) if usable else None), channel  # type: ignore[arg-type]


def _check_axis_name(axis: Any, f: Findings, path: str) -> tuple[str | None, str | None]:
    # 0.3: "The values MUST be unique and one of {"t", "c", "z", "y", "x"}".
    if not is_str(axis) or axis not in TYPE_BY_NAME:
        f.error(
            path,
            "axes.name",
            f'0.3 axes MUST be one of "t", "c", "z", "y", "x"; found {short(axis)}',
        )
        return None, None
    return axis, TYPE_BY_NAME[axis]


def _check_axis_object(axis: Any, f: Findings, path: str) -> tuple[str | None, str | None]:
    if not is_dict(axis):
        f.error(path, "axes.item-type", f"an axis MUST be an object, found {type_name(axis)}")
        return None, None
    name = axis.get("name")
    if "name" not in axis:
        f.error(path, "axes.name-missing", 'each axis "MUST contain the field "name""')
    elif not is_str(name):
        f.error(
            join_path(path, "name"),
            "axes.name-type",
            f"an axis 'name' MUST be a string, found {type_name(name)}",
        )
    kind = axis.get("type")
    if "type" not in axis or kind is None:
        f.warn(path, "axes.type-missing", 'each axis SHOULD contain the field "type"')
        kind = None
    elif not is_str(kind):
        f.error(
            join_path(path, "type"),
            "axes.type-type",
            f"an axis 'type' MUST be a string, found {type_name(kind)}",
        )
        kind = None
    elif kind not in KNOWN_AXIS_TYPES:
        # "MAY take other string values for custom axis types"
        f.note(join_path(path, "type"), "axes.custom-type", f"custom axis type {kind!r}")
    _check_unit(axis, kind, f, path)
    return (name if is_str(name) else None), kind


def _check_unit(axis: dict[str, Any], kind: str | None, f: Findings, path: str) -> None:
    units = {"space": SPACE_UNITS, "time": TIME_UNITS}.get(kind or "")
    if "unit" not in axis or axis["unit"] is None:
        if units is not None:
            # A SHOULD, but the official strict suites accept space/time axes without one.
            f.note(path, "axes.unit-missing", f'a {kind} axis SHOULD contain the field "unit"')
        return
    unit = axis["unit"]
    if not is_str(unit):
        f.error(
            join_path(path, "unit"),
            "axes.unit-type",
            f"an axis 'unit' MUST be a string, found {type_name(unit)}",
        )
    elif units is not None and unit not in units:
        f.warn(
            join_path(path, "unit"),
            "axes.unit",
            f"the unit of a {kind} axis SHOULD be one of the UDUNITS-2 {kind} units listed by the spec; "
            f"found {unit!r}",
        )


def _check_axes_structure(
    names: list[str | None], types: list[str | None], f: Findings, path: str
) -> None:
    """Count, uniqueness and order of the axes, from their names and types."""
    if not 2 <= len(names) <= 5:
        f.error(
            path, "axes.count", f'the length of "axes" must be between 2 and 5; found {len(names)}'
        )
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name is None:
            continue
        if name in seen:
            f.error(
                join_path(path, i), "axes.unique", f"axis names MUST be unique; {name!r} repeats"
            )
        seen.add(name)
    # Rank: time 0, channel/custom/untyped 1, space 2 ("time" first, then "channel" or custom, then space).
    ranks = [0 if t == "time" else 2 if t == "space" else 1 for t in types]
    n_space = ranks.count(2)
    if not 2 <= n_space <= 3:
        f.error(
            path,
            "axes.space-count",
            f'"axes" MUST contain 2 or 3 entries of "type:space"; found {n_space}',
        )
    if ranks.count(0) > 1:
        f.error(
            path,
            "axes.time-count",
            '"axes" MAY contain one additional entry of "type:time"; found several',
        )
    if ranks.count(1) > 1:
        f.error(
            path,
            "axes.channel-count",
            '"axes" MAY contain one additional entry of "type:channel" or a null / custom type; found several',
        )
    if ranks != sorted(ranks):
        order = ", ".join(str(n) for n in names)
        f.error(
            path,
            "axes.order",
            'the axes MUST be ordered by "type": time first, then channel or custom, then space; '
            f"found [{order}]",
        )
    space_names = [n for n, r in zip(names, ranks) if r == 2]
    if sorted(space_names, key=str) == ["x", "y", "z"] and space_names != ["z", "y", "x"]:
        f.warn(path, "axes.zyx-order", 'three spatial axes "SHOULD be ordered as "zyx""')


# ---------------------------------------------------------------------------- datasets


def _check_datasets(
    ms: dict[str, Any], spec: Spec, f: Findings, path: str, n_axes: int | None
) -> tuple[str, ...]:
    where = join_path(path, "datasets")
    if "datasets" not in ms:
        f.error(path, "datasets.missing", 'each multiscale MUST contain the field "datasets"')
        return ()
    raw = ms["datasets"]
    if not is_list(raw):
        f.error(where, "datasets.type", f"'datasets' MUST be a list, found {type_name(raw)}")
        return ()
    if not raw:
        f.error(where, "datasets.empty", "'datasets' MUST list at least one resolution level")
        return ()
    paths: list[str] = []
    scales: list[tuple[float, ...] | None] = []
    for i, ds in enumerate(raw):
        dpath = join_path(where, i)
        if not is_dict(ds):
            f.error(
                dpath, "datasets.item-type", f"a dataset MUST be an object, found {type_name(ds)}"
            )
            scales.append(None)
            continue
        if "path" not in ds:
            f.error(dpath, "datasets.path-missing", 'each dataset MUST contain the field "path"')
        elif not is_str(ds["path"]):
            f.error(
                join_path(dpath, "path"),
                "datasets.path-type",
                f"a dataset 'path' MUST be a string, found {type_name(ds['path'])}",
            )
        else:
            paths.append(ds["path"])
        scale = None
        if spec.has_transforms:
            if "coordinateTransformations" not in ds:
                f.error(
                    dpath,
                    "transforms.missing",
                    'each dataset MUST contain the field "coordinateTransformations"',
                )
            else:
                scale = check_transforms(
                    ds["coordinateTransformations"],
                    n_axes,
                    f,
                    join_path(dpath, "coordinateTransformations"),
                    spec,
                )
        scales.append(scale)
    _check_resolution_order(scales, f, where)
    return tuple(paths)


def _check_resolution_order(scales: list[tuple[float, ...] | None], f: Findings, path: str) -> None:
    # "The "path"s MUST be ordered from largest (i.e. highest resolution) to smallest":
    # a later level never has a finer scale along any axis.
    previous: tuple[float, ...] | None = None
    for i, scale in enumerate(scales):
        if scale is None:
            previous = None
            continue
        if previous is not None and len(previous) == len(scale):
            finer = [k for k, (a, b) in enumerate(zip(previous, scale)) if abs(b) < abs(a)]
            if finer:
                f.error(
                    join_path(path, i),
                    "datasets.order",
                    "datasets MUST be ordered from highest to lowest resolution; the scale of this level "
                    f"is finer than the previous level's along axis {finer[0]}",
                )
        previous = scale


# ---------------------------------------------------------------------------- transforms


def check_transforms(
    value: Any, n_axes: int | None, f: Findings, path: str, spec: Spec | None = None
) -> tuple[float, ...] | None:
    """Check a ``coordinateTransformations`` list; return the inline scale vector if usable."""
    if not is_list(value):
        f.error(
            path,
            "transforms.type",
            f"'coordinateTransformations' MUST be a list, found {type_name(value)}",
        )
        return None
    kinds: list[str] = []
    scale: tuple[float, ...] | None = None
    for i, item in enumerate(value):
        where = join_path(path, i)
        if not is_dict(item):
            f.error(
                where,
                "transforms.item-type",
                f"a transformation MUST be an object, found {type_name(item)}",
            )
            continue
        kind = item.get("type")
        if not is_str(kind):
            f.error(
                where,
                "transforms.type-missing",
                'each transformation "MUST contain the field "type""',
            )
            continue
        kinds.append(kind)
        if kind not in ("scale", "translation"):
            f.error(
                join_path(where, "type"),
                "transforms.kind",
                f'the transformations "MUST only be of type `translation` or `scale`"; found {kind!r}',
            )
            continue
        length_is_must = spec is None or spec.transform_length_enforced
        vector = _check_vector(item, kind, n_axes, f, where, length_is_must)
        if kind == "scale" and scale is None:
            scale = vector
    n_scale = kinds.count("scale")
    if n_scale == 0:
        f.error(
            path,
            "transforms.scale-missing",
            "the transformations MUST contain exactly one `scale` transformation",
        )
    elif n_scale > 1:
        f.error(
            path,
            "transforms.scale-count",
            f"the transformations MUST contain exactly one `scale`; found {n_scale}",
        )
    if kinds.count("translation") > 1:
        f.error(
            path,
            "transforms.translation-count",
            "the transformations MAY contain exactly one `translation`; found several",
        )
    if (
        "translation" in kinds
        and "scale" in kinds
        and kinds.index("translation") < kinds.index("scale")
    ):
        f.error(
            path, "transforms.order", '"If `translation` is given it MUST be listed after `scale`"'
        )
    return scale


def _check_vector(
    item: dict[str, Any],
    kind: str,
    n_axes: int | None,
    f: Findings,
    path: str,
    length_is_must: bool = True,
) -> tuple[float, ...] | None:
    if kind not in item:
        if is_str(item.get("path")):
            # Allowed by the transformation table, but not by the JSON schemas; lengths unknowable.
            f.note(
                path,
                "transforms.path-vector",
                f"the {kind} vector is stored in the container at {item['path']!r}; not checked",
            )
        else:
            f.error(
                path,
                "transforms.vector-missing",
                f"a {kind} transformation MUST give its vector in {kind!r}",
            )
        return None
    vector = item[kind]
    vpath = join_path(path, kind)
    if not is_list(vector) or not all(is_number(v) and math.isfinite(v) for v in vector):
        f.error(
            vpath,
            "transforms.vector",
            f"the {kind} vector MUST be a list of numbers, found {short(vector)}",
        )
        return None
    if n_axes is not None and len(vector) != n_axes:
        message = (
            f'"The length of the `scale` and `translation` array MUST be the same as the length of "axes""; '
            f"found {len(vector)} for {n_axes} axes"
        )
        if length_is_must:
            f.error(vpath, "transforms.length", message)
        else:
            # The official 0.4 suite accepts this case (valid/mismatch_axes_units); it
            # was corrected in 0.5.  Report it as a warning, an error under strict.
            f.warn(vpath, "transforms.length", message + " (accepted by the official 0.4 test suite)")
        return None
    return tuple(float(v) for v in vector)
