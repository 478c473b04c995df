"""OME-Zarr 0.5: Zarr v3; OME keys under ``attributes.ome`` with one ``version``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._base import Spec, _as_dict


class V05(Spec):
    version = "0.5"
    zarr_format = 3
    namespaced = True
    per_object_version = False
    dimension_names_required = True
    well_path_order_enforced = True
    label_integer_dtype_required = True
    unlisted_labels_discouraged = True
    labels_intermediate_metadata_forbidden = True
    hierarchy_version_consistent = True

    def ome_attrs(self, attrs: Mapping[str, Any], where: str = "") -> Mapping[str, Any]:
        ome = attrs.get("ome")
        if ome is None:
            return {}
        return _as_dict(ome, f"{where} ome")

    def wrap(self, ome: dict[str, Any]) -> dict[str, Any]:
        return {"ome": {"version": self.version, **ome}}
