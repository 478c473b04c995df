"""ngff: fast, complete OME-Zarr (OME-NGFF 0.1-0.5) reading, writing and validation.

The public API is small::

    import ngff
    image = ngff.read("image.ome.zarr")      # lazy: dask arrays, no pixels read
    report = ngff.validate("image.ome.zarr")

Submodules load on first use so that ``import ngff`` stays light (no napari, Qt,
scipy or tensorstore at import time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    InvalidMetadataError,
    MissingArrayError,
    NgffError,
    NotOmeZarrError,
    StoreError,
    StoreLockedError,
    UnsupportedVersionError,
)
from .model import (
    Acquisition,
    Axis,
    Channel,
    Collection,
    Image,
    ImageLabel,
    LabelColor,
    Multiscale,
    Omero,
    Plate,
    PlateMetadata,
    Transform,
    Well,
    WellMetadata,
    Window,
)

if TYPE_CHECKING:
    from .reader import read
    from .writer import write, write_labels
    from .update import update_region
    from .orientation import reorient
    from .hcs import write_plate, write_well_image
    from .validation import Problem, Report, validate, validate_attrs

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "read",
    "write",
    "write_labels",
    "convert",
    "update_region",
    "write_plate",
    "write_well_image",
    "reorient",
    "validate",
    "validate_attrs",
    "Report",
    "Problem",
    "NgffError",
    "NotOmeZarrError",
    "InvalidMetadataError",
    "MissingArrayError",
    "UnsupportedVersionError",
    "StoreError",
    "StoreLockedError",
    "Image",
    "Plate",
    "Well",
    "Collection",
    "Axis",
    "Transform",
    "Multiscale",
    "Channel",
    "Window",
    "Omero",
    "ImageLabel",
    "LabelColor",
    "Acquisition",
    "PlateMetadata",
    "WellMetadata",
]

_LAZY = {
    "read": ("reader", "read"),
    "convert": ("convert", "callable_module"),  # the package, callable as ngff.convert(input, output)
    "write": ("writer", "write"),
    "write_labels": ("writer", "write_labels"),
    "update_region": ("update", "update_region"),
    "reorient": ("orientation", "reorient"),
    "write_plate": ("hcs", "write_plate"),
    "write_well_image": ("hcs", "write_well_image"),
    "validate": ("validation", "validate"),
    "validate_attrs": ("validation", "validate_attrs"),
    "Report": ("validation", "Report"),
    "Problem": ("validation", "Problem"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module_name, attr = _LAZY[name]
        value = getattr(importlib.import_module(f".{module_name}", __name__), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ngff' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
