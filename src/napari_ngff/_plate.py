"""A plate in napari: a lazy overview mosaic, well names on its grid, and the plate browser.

The mosaic is :func:`ngff.hcs.plate_mosaic` at the coarsest level of the first well's
first field: only that well is opened up front (shape, dtype, axes, rendering); the
other wells are read by the mosaic's dask tasks straight from their arrays, the first
time napari draws them.  Channels become layers with their OMERO names and colours, a
``points`` layer writes each present well's name in its tile, and when a viewer is
running the **Plate browser** dock widget is added (see
:mod:`napari_ngff._widgets.plate_browser`).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from ._layers import PROVENANCE_KEY, LayerData, image_layers, store_name, unit_to_napari

if TYPE_CHECKING:
    from ngff import Image, Plate
    from ngff.hcs import PlateMosaic

__all__ = ["plate_layers", "plate_mosaic", "mosaic_layers", "well_names_layer", "WELL_NAMES_SUFFIX"]

_log = logging.getLogger(__name__)

#: Name of the well-names layer: the plate's name plus this.
WELL_NAMES_SUFFIX = " wells"


def plate_mosaic(plate: Plate, **options: Any) -> tuple[Any, Image, int]:
    """The lazy mosaic, its template field and the level index used.

    ``options`` go to :func:`ngff.hcs.plate_mosaic` (default: the coarsest level of
    field 0).
    """
    from ngff.hcs import plate_mosaic as build

    mosaic = build(plate, **options)
    return mosaic.data, mosaic.template, mosaic.level


def mosaic_layers(plate: Plate, mosaic: PlateMosaic) -> list[LayerData]:
    """Image layers (one per channel) showing a mosaic, named like the plate's channels."""
    template, k = mosaic.template, mosaic.level
    overview = dataclasses.replace(
        template,
        levels=[mosaic.data],
        level_paths=(template.level_paths[k],),
        scales=(template.scales[k],),
        translations=(template.translations[k],),
        labels={},
    )
    name = plate_display_name(plate)
    # Contrast limits from one well, not the whole mosaic (which would read every well).
    layers = image_layers(overview, name=name, range_source=template.levels[k])
    for _, meta, _ in layers:
        meta["metadata"][PROVENANCE_KEY].update(
            kind="plate", path=plate.path, version=plate.version, field=template.path, level=k
        )
    return layers


def plate_display_name(plate: Plate) -> str:
    return plate.name or store_name(plate.location, plate.path)


def well_names_layer(plate: Plate, mosaic: PlateMosaic) -> LayerData:
    """A ``points`` layer writing each present well's name in the top-left of its tile."""
    template, k = mosaic.template, mosaic.level
    ty, tx = mosaic.tile_shape[-2:]
    names, coords = [], []
    for path, (r, c) in mosaic.cells.items():
        y, x = mosaic.origin(r, c)
        coords.append((y + 0.04 * ty, x + 0.04 * tx))
        names.append(mosaic.rows[r] + mosaic.columns[c])
    scale = tuple(float(s) for s in template.scales[k][-2:])
    translate = tuple(float(t) for t in template.translations[k][-2:])
    axes = template.axes[-2:]
    meta: dict[str, Any] = {
        "name": plate_display_name(plate) + WELL_NAMES_SUFFIX,
        "scale": scale,
        "translate": translate,
        "axis_labels": tuple(a.name for a in axes),
        "units": tuple(unit_to_napari(a.unit) for a in axes),
        "features": {"well": names},
        "text": {
            "string": "{well}",
            "anchor": "upper_left",
            "size": 9,
            "color": "white",
        },
        "size": 0.0,  # the text alone marks the well
        "face_color": "transparent",
        "border_width": 0,
        "opacity": 0.9,
        "metadata": {
            PROVENANCE_KEY: {"location": str(plate.location), "path": plate.path, "kind": "plate-wells"}
        },
    }
    data = np.asarray(coords, dtype=float).reshape(-1, 2)
    return (data, meta, "points")


def plate_layers(plate: Plate, *, dock: bool = True) -> list[LayerData]:
    """Layers of a plate's overview mosaic; docks the plate browser in the current viewer."""
    from ngff.hcs import plate_mosaic as build

    mosaic = build(plate)
    layers = mosaic_layers(plate, mosaic)
    layers.append(well_names_layer(plate, mosaic))
    if dock:
        _dock_browser(plate, mosaic)
    return layers


def _dock_browser(plate: Plate, mosaic: PlateMosaic) -> None:
    """Add the plate browser to the running viewer, if there is one (never raises)."""
    try:
        import napari

        viewer = napari.current_viewer()
        if viewer is None or getattr(viewer, "window", None) is None:
            return
        from ._widgets.plate_browser import PlateBrowser

        browser = PlateBrowser(viewer, plate=plate, mosaic=mosaic)
        viewer.window.add_dock_widget(browser, name=f"Plate browser: {plate_display_name(plate)}", area="right")
    except Exception as exc:  # the mosaic opens even where the dock cannot be added
        _log.warning("napari-ngff: the plate browser could not be docked: %s", exc)
