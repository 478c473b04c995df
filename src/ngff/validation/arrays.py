"""Checks of the level arrays behind a multiscale image (shape, dtype, dimension names)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from ..spec import Spec
from ..store import NodeDocument
from .multiscales import MultiscaleInfo
from .report import Findings
from .values import is_int, is_list, short
from .vocab import dtype_name

__all__ = ["Level", "check_level_array", "check_levels"]


@dataclass(frozen=True)
class Level:
    """One resolution level as stored: its key, shape and dtype (None when unknown)."""

    key: str
    shape: tuple[int, ...] | None
    dtype: str | None


def check_level_array(
    node: NodeDocument, info: MultiscaleInfo, group_attrs: Any, spec: Spec, f: Findings
) -> Level:
    """Check one level array against the axes of its multiscale.

    Parameters
    ----------
    node
        The array's metadata document.
    info
        The multiscale the array belongs to.
    group_attrs
        Attributes of the image group (0.3 allows ``_ARRAY_DIMENSIONS`` there).
    spec
        The version checked against.
    f
        Collector for the array's store key.
    """
    doc = node.document
    if node.zarr_format != spec.zarr_format:
        f.error(
            "",
            "zarr.format",
            f"OME-Zarr {spec.version} arrays MUST be Zarr v{spec.zarr_format}; this one is v{node.zarr_format}",
        )
    raw_shape = doc.get("shape")
    shape = (
        tuple(int(n) for n in raw_shape)
        if is_list(raw_shape) and all(is_int(n) and n >= 0 for n in raw_shape)
        else None
    )
    if shape is None:
        f.error("", "array.shape", f'the array has no valid "shape" ({short(raw_shape)})')
    axes = info.axes
    if shape is not None and axes is not None:
        if info.implied:
            # 0.1/0.2 "image arrays are 5-dimensional" (t, c, z, y, x); fewer read as trailing axes.
            if len(shape) > len(axes):
                f.error(
                    "",
                    "dataset.ndim",
                    f"the array has {len(shape)} dimensions; at most 5 (t, c, z, y, x)",
                )
            elif len(shape) != len(axes):
                f.warn(
                    "",
                    "dataset.ndim",
                    f"image arrays are 5-dimensional (t, c, z, y, x); this one has {len(shape)}",
                )
        elif len(shape) != len(axes):
            f.error(
                "",
                "dataset.ndim",
                f'the length of "axes" MUST be equal to the dimensionality of the arrays; {len(axes)} axes, {len(shape)} dimensions',
            )
    if axes is not None and spec.dimension_names_required and node.zarr_format == 3:
        names = doc.get("dimension_names")
        if names is None:
            f.error(
                "",
                "dataset.dimension-names-missing",
                '"dimension_names" MUST be included in the zarr.json of a multiscale level',
            )
        elif names != list(axes):
            f.error(
                "",
                "dataset.dimension-names",
                f'"dimension_names" {short(names)} MUST match the axes names {list(axes)}',
            )
        # The text says "the "dimension_names" attribute": a user attribute of that name
        # that contradicts the axes breaks the same sentence (and misleads readers).
        shadow = node.attributes.get("dimension_names")
        if shadow is not None and shadow != list(axes):
            f.error(
                "",
                "dataset.dimension-names",
                f'the "dimension_names" attribute {short(shadow)} MUST match the axes names {list(axes)}',
            )
    if axes is not None and spec.array_dimensions_required:
        _check_array_dimensions(node, axes, group_attrs, f)
    return Level(key=node.path, shape=shape, dtype=dtype_name(doc, node.zarr_format))


def _check_array_dimensions(
    node: NodeDocument, axes: tuple[str, ...], group_attrs: Any, f: Findings
) -> None:
    # 0.3: axes "MUST be repeated in the field "_ARRAY_DIMENSIONS" of all scale groups"; the
    # layout puts it in the group attributes, xarray in each array's: accept either.
    found = node.attributes.get("_ARRAY_DIMENSIONS")
    if found is None and isinstance(group_attrs, dict):
        found = group_attrs.get("_ARRAY_DIMENSIONS")
    if found is None:
        f.error(
            "",
            "dataset.array-dimensions-missing",
            '0.3 axes MUST be repeated in "_ARRAY_DIMENSIONS"',
        )
    elif found != list(axes):
        f.error(
            "",
            "dataset.array-dimensions",
            f'"_ARRAY_DIMENSIONS" {short(found)} MUST repeat the axes {list(axes)}',
        )


def check_levels(levels: list[Level], f: Findings) -> None:
    """Resolution order and dtype agreement across the levels of one multiscale.

    ``f`` records for the image group; problems of one level go to that level's key.
    """
    for previous, level in pairwise(levels):
        a, b = previous.shape, level.shape
        if (
            a is not None
            and b is not None
            and len(a) == len(b)
            and any(y > x for x, y in zip(a, b))
        ):
            f.at(level.key).error(
                "",
                "datasets.order",
                f"datasets MUST be ordered from largest to smallest; shape {list(b)} is larger than the previous level's {list(a)}",
            )
    dtypes = {level.dtype for level in levels if level.dtype is not None}
    if len(dtypes) > 1:
        # Not a spec rule, but readers assume one dtype per pyramid (ome-ngff-validator warns too).
        f.note(
            "",
            "datasets.dtype",
            f"the resolution levels have different data types: {', '.join(sorted(dtypes))}",
        )
