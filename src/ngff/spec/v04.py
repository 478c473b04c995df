"""OME-Zarr 0.4: axis objects with types and units, per-level coordinate transformations."""

from __future__ import annotations

from ._base import Spec


class V04(Spec):
    version = "0.4"
    transform_length_enforced = False
