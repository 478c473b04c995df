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


#: Overviews up to this size are read at once (threads, no dask graph): the whole
#: coarse mosaic is on screen in the first frame anyway.  Larger ones stay lazy.
EAGER_BYTES = 256 * 2**20


def mosaic_layers(plate: Plate, mosaic: PlateMosaic, data: Any = None) -> list[LayerData]:
    """Image layers (one per channel) showing a mosaic, named like the plate's channels.

    ``data`` is the mosaic's pixels (e.g. :meth:`~ngff.hcs.PlateMosaic.read`), default
    the lazy :attr:`~ngff.hcs.PlateMosaic.data`.
    """
    template, k = mosaic.template, mosaic.level
    pixels = mosaic.data if data is None else data
    omero = template.omero
    if mosaic.channels is not None and omero is not None:  # the channels kept, in order
        kept = [omero.channels[c] for c in mosaic.channels if c < len(omero.channels)]
        omero = dataclasses.replace(omero, channels=tuple(kept))
    if isinstance(pixels, np.ndarray):
        omero = _windows_from(pixels, mosaic, omero)
    overview = dataclasses.replace(
        template,
        levels=[pixels],
        level_paths=(template.level_paths[k],),
        scales=(template.scales[k],),
        translations=(template.translations[k],),
        omero=omero,
        labels={},
    )
    name = plate_display_name(plate)
    # Lazy mosaic without OMERO windows: contrast limits from one well, not the whole
    # mosaic (which would read every well).
    layers = image_layers(overview, name=name, range_source=None if isinstance(pixels, np.ndarray) else template.levels[k])
    for _, meta, _ in layers:
        meta["metadata"][PROVENANCE_KEY].update(
            kind="plate", path=plate.path, version=plate.version, field=template.path, level=k
        )
    return layers


def _windows_from(pixels: np.ndarray, mosaic: PlateMosaic, omero: Any) -> Any:
    """OMERO rendering with a display window from the read pixels for channels lacking one."""
    from ngff import Channel, Omero, Window

    axis = mosaic._channel_axis
    count = pixels.shape[axis] if axis is not None else 1
    given = list(omero.channels) if omero is not None else []
    channels = []
    for c in range(count):
        channel = given[c] if c < len(given) else Channel()
        if channel.window is None:
            part = np.take(pixels, c, axis=axis) if axis is not None else pixels
            lo, hi = (float(part.min()), float(part.max())) if part.size else (0.0, 1.0)
            channel = dataclasses.replace(channel, window=Window(lo, hi, lo, hi if hi > lo else lo + 1.0))
        channels.append(channel)
    if omero is None:
        return Omero(channels=tuple(channels))
    return dataclasses.replace(omero, channels=tuple(channels))


def plate_display_name(plate: Plate) -> str:
    return plate.name or store_name(plate.location, plate.path)


def well_names_layer(plate: Plate, mosaic: PlateMosaic) -> LayerData:
    """A ``points`` layer writing each present well's name in the top-left of its tile."""
    template, k = mosaic.template, mosaic.level
    ty, tx = mosaic.tile_shape[-2:]
    names, coords = [], []
    for path, (r, c) in mosaic.cells.items():
        y, x = mosaic.origin(r, c)
        coords.append((y + 0.3 * ty, x + 0.05 * tx))  # napari draws the text above the point
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
    """Layers of a plate's overview mosaic, and its well names.

    With a running viewer (and ``dock``), the plate browser is docked and the well
    names layer is added right after the first frame showing the mosaic has been
    drawn: vispy renders the glyphs of a font on the first draw of any text (about
    0.3 s of CPU), and docking a widget re-lays out the window and resizes the canvas
    (about 0.5 s under load), which would otherwise hold back the first picture of the
    plate.  Without a viewer the names layer is returned with the others.
    """
    from ngff.hcs import plate_mosaic as build

    mosaic = build(plate)
    eager = mosaic.nbytes <= EAGER_BYTES
    layers = mosaic_layers(plate, mosaic, mosaic.read() if eager else None)
    names = well_names_layer(plate, mosaic)
    viewer = _current_viewer() if dock else None
    if viewer is None:
        return [*layers, names]
    def decorate() -> None:
        _dock_browser(viewer, plate, mosaic)
        _add_layer(viewer, names)

    _after_next_draw(viewer, decorate)
    return layers


def _add_layer(viewer: Any, layer_data: LayerData) -> None:
    try:
        from napari.layers import Layer

        data, meta, kind = layer_data
        viewer.add_layer(Layer.create(data, meta, kind))
    except Exception as exc:  # the names are a decoration: never break the viewer
        _log.warning("napari-ngff: the well names could not be drawn: %s", exc)


def _after_next_draw(viewer: Any, callback: Any) -> None:
    """Run ``callback`` once in the GUI thread, after the canvas has next been drawn."""
    from qtpy.QtCore import QTimer

    try:
        draw = viewer.window._qt_viewer.canvas._scene_canvas.events.draw
    except AttributeError:  # another napari layout: a short delay does the same
        QTimer.singleShot(100, callback)
        return

    def drawn(event: Any = None) -> None:
        draw.disconnect(drawn)
        QTimer.singleShot(0, callback)  # after the paint event, not inside it

    draw.connect(drawn)


def _current_viewer() -> Any:
    try:
        import napari

        viewer = napari.current_viewer()
    except Exception:  # no napari application (plain scripts)
        return None
    return viewer if viewer is not None and getattr(viewer, "window", None) is not None else None


def _dock_browser(viewer: Any, plate: Plate, mosaic: PlateMosaic) -> None:
    """Add the plate browser to the viewer (never raises)."""
    try:
        from ._widgets.plate_browser import PlateBrowser

        browser = PlateBrowser(viewer, plate=plate, mosaic=mosaic)
        viewer.window.add_dock_widget(browser, name=f"Plate browser: {plate_display_name(plate)}", area="right")
    except Exception as exc:  # the mosaic opens even where the dock cannot be added
        _log.warning("napari-ngff: the plate browser could not be docked: %s", exc)
