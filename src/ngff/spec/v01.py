"""OME-Zarr 0.1: Zarr v2, flat ``.`` chunk keys, 5-D ``tczyx`` implied, no transforms."""

from __future__ import annotations

from typing import Any

from ..model import Axis
from ._base import Spec


class V01(Spec):
    version = "0.1"
    dimension_separator = "."
    axes_form = "implied"
    has_transforms = False
    well_indices = False
    acquisition_required = False
    plate_version_required = True
    plate_names_alphanumeric = False
    omero_color_hex = False
    schema_names = {"image": "image.schema", "plate": "plate.schema", "well": "well.schema"}

    def parse_axes(self, raw: Any, where: str) -> tuple[Axis, ...]:
        # No axes field exists in this version: the reader fills in implied_axes().
        return ()

    def dump_axes(self, axes: tuple[Axis, ...]) -> list[Any] | None:
        return None
