"""OME-Zarr 0.2: as 0.1, with nested ``/`` chunk keys."""

from __future__ import annotations

from .v01 import V01


class V02(V01):
    version = "0.2"
    dimension_separator = "/"
