"""OME-Zarr 0.3: axes as a list of names, repeated in ``_ARRAY_DIMENSIONS``."""

from __future__ import annotations

from typing import Any

from ..model import TYPE_BY_NAME, Axis
from ._base import Spec, _as_list, _fail
from .v02 import V02


class V03(V02):
    version = "0.3"
    axes_form = "names"
    array_dimensions_required = True

    def parse_axes(self, raw: Any, where: str) -> tuple[Axis, ...]:
        if raw is None:
            raise _fail(where, "a multiscale has no 'axes'", "0.3 multiscales MUST contain axes")
        items = _as_list(raw, f"{where}.axes")
        if all(isinstance(item, str) for item in items):
            return tuple(Axis(name=n, type=TYPE_BY_NAME.get(n)) for n in items)
        return Spec.parse_axes(self, raw, where)  # lenient: axis objects in a 0.3 document

    def dump_axes(self, axes: tuple[Axis, ...]) -> list[Any] | None:
        return [axis.name for axis in axes]
