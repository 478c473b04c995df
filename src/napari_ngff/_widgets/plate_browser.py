"""Plate browser dock widget: the wells of a plate as a grid; a click opens a well's field.

The grid has one cell per well position, coloured by presence (present wells green,
missing ones grey).  A click on a present well — or the arrow keys and Enter — opens
the chosen field of that well at full resolution as new layers (channels and labels),
placed over the well's tile of the mosaic, and optionally moves the camera there.
The acquisition and field selectors choose which field opens; changing them also
re-tiles the mosaic layers with that field.

Opening runs in a napari ``thread_worker`` (metadata is read there, never in the GUI
thread) with a progress indicator; the layers are added when it returns.

Children are attributes (``grid``, ``acquisition``, ``field``, ``jump``, ``status``), so
tests and scripts drive the widget without a mouse.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import Qt
from qtpy.QtGui import QBrush, QColor
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    import napari

    from ngff import Plate
    from ngff.hcs import PlateMosaic

__all__ = ["PlateBrowser"]

_log = logging.getLogger(__name__)

_PRESENT = QColor(46, 160, 67)
_MISSING = QColor(70, 70, 70)
_OPENED = QColor(31, 111, 235)


class PlateBrowser(QWidget):
    """Browse the wells of a plate open in ``napari_viewer``.

    Parameters
    ----------
    napari_viewer
        The viewer (napari passes it when the widget is opened from the menu).
    plate
        The plate; default: the plate of the first mosaic layer in the viewer, or the
        next one opened.
    mosaic
        The mosaic shown (for placing wells and moving the camera); built when omitted.
    """

    def __init__(self, napari_viewer: napari.viewer.Viewer, plate: Plate | None = None, mosaic: PlateMosaic | None = None):
        super().__init__()
        self.viewer = napari_viewer
        self.plate: Plate | None = None
        self.mosaic: PlateMosaic | None = None
        self.opened: dict[tuple[str, int | str, int | None], list[Any]] = {}
        self._workers: list[Any] = []
        self._loading: set[tuple[str, int | str, int | None]] = set()

        self.status = QLabel("No plate: open a plate (drop it into the viewer).")
        self.status.setWordWrap(True)
        self.acquisition = QComboBox()
        self.field = QSpinBox()
        self.field.setMinimum(0)
        self.jump = QCheckBox("Move the camera to the opened well")
        self.jump.setChecked(True)
        self.grid = QTableWidget(0, 0)
        self.grid.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.grid.setSelectionMode(QAbstractItemView.SingleSelection)
        for header in (self.grid.horizontalHeader(), self.grid.verticalHeader()):
            header.setMinimumSectionSize(8)  # 24 or 48 columns fit a dock's width
            header.setSectionResizeMode(QHeaderView.Stretch)
        self.grid.setMinimumHeight(160)

        form = QFormLayout()
        form.addRow("Acquisition", self.acquisition)
        form.addRow("Field", self.field)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addLayout(form)
        layout.addWidget(self.jump)
        layout.addWidget(self.grid, stretch=1)

        self.grid.cellClicked.connect(self._cell_chosen)
        self.grid.cellActivated.connect(self._cell_chosen)  # Enter (and double-click)
        self.acquisition.currentIndexChanged.connect(self._selection_changed)
        self.field.valueChanged.connect(self._selection_changed)

        if plate is None:
            plate = self._plate_from_layers()
            self.viewer.layers.events.inserted.connect(self._layer_inserted)
        if plate is not None:
            self.set_plate(plate, mosaic)

    # ------------------------------------------------------------------ plate

    def _plate_from_layers(self) -> Plate | None:
        for layer in self.viewer.layers:
            info = layer.metadata.get("ngff", {}) if isinstance(layer.metadata, dict) else {}
            if info.get("kind") == "plate":
                try:
                    import ngff
                    from ngff.store import open_store
                    from ngff.reader import read_group

                    node = read_group(open_store(info["location"]), info.get("path", ""))
                    if isinstance(node, ngff.Plate):
                        return node
                except Exception as exc:
                    self.status.setText(f"The plate of layer {layer.name!r} cannot be opened: {exc}")
        return None

    def _layer_inserted(self, event: Any) -> None:
        if self.plate is None:
            plate = self._plate_from_layers()
            if plate is not None:
                self.set_plate(plate)

    def set_plate(self, plate: Plate, mosaic: PlateMosaic | None = None) -> None:
        """Show ``plate``'s wells (``mosaic``: the mosaic layers already displayed)."""
        from ngff.hcs import plate_mosaic, well_position

        self.plate = plate
        self.mosaic = mosaic if mosaic is not None else plate_mosaic(plate)
        rows, columns = plate.rows, plate.columns
        self.grid.clear()
        self.grid.setRowCount(len(rows))
        self.grid.setColumnCount(len(columns))
        self.grid.setVerticalHeaderLabels(list(rows))
        self.grid.setHorizontalHeaderLabels(list(columns))
        self.present: dict[tuple[int, int], str] = {}
        for ref in plate.wells:
            position = well_position(plate, ref)
            if position is not None:
                self.present.setdefault(position, ref.path)
        for r, row in enumerate(rows):
            for c, column in enumerate(columns):
                item = QTableWidgetItem("")
                path = self.present.get((r, c))
                item.setBackground(QBrush(_PRESENT if path else _MISSING))
                item.setToolTip(f"{row}{column}: " + ("present" if path else "no well"))
                if not path:
                    item.setFlags(item.flags() & ~Qt.ItemIsSelectable)
                self.grid.setItem(r, c, item)
        self.acquisition.blockSignals(True)
        self.acquisition.clear()
        self.acquisition.addItem("all", None)
        for acq in plate.acquisitions:
            label = f"{acq.id}" + (f": {acq.name}" if acq.name else "")
            if acq.start_time is not None:
                label += f" (start {acq.start_time})"
            self.acquisition.addItem(label, acq.id)
        self.acquisition.blockSignals(False)
        self.field.blockSignals(True)
        self.field.setMaximum(max((plate.metadata.field_count or 1) - 1, 0))
        self.field.setValue(0)
        self.field.blockSignals(False)
        wells = len(self.present)
        self.status.setText(
            f"{plate.name or 'Plate'}: {len(rows)} × {len(columns)}, {wells} well(s). "
            "Click a well (or use the arrow keys and Enter) to open it at full resolution."
        )

    def current_acquisition(self) -> int | None:
        return self.acquisition.currentData()

    # ------------------------------------------------------------------ opening

    def _cell_chosen(self, row: int, column: int) -> None:
        self.open_well(row, column)

    def open_well(self, row: int, column: int) -> Any:
        """Open the selected field of the well at grid cell (row, column) in a worker.

        Returns the worker (None when there is no well there or it is already open).
        """
        if self.plate is None:
            return None
        path = self.present.get((row, column))
        if path is None:
            self.status.setText(f"No well at {self.plate.rows[row]}{self.plate.columns[column]}.")
            return None
        key = (path, self.field.value(), self.current_acquisition())
        if key in self._loading:
            return None
        if key in self.opened and all(layer in self.viewer.layers for layer in self.opened[key]):
            self.move_camera(row, column)
            return None
        self._loading.add(key)
        from napari.qt.threading import create_worker

        plate, field, acquisition = self.plate, self.field.value(), self.current_acquisition()
        worker = create_worker(
            _load_well_layers,
            plate,
            path,
            field,
            acquisition,
            _progress={"desc": f"Opening well {path}"},
        )
        worker.returned.connect(lambda result: self._add_layers(key, row, column, result))
        worker.errored.connect(lambda exc: self._failed(key, exc))
        worker.finished.connect(lambda: self._workers.remove(worker) if worker in self._workers else None)
        self._workers.append(worker)
        self.status.setText(f"Opening well {path} (field {field})…")
        worker.start()
        return worker

    def _failed(self, key: tuple[Any, ...], exc: BaseException) -> None:
        self._loading.discard(key)
        message = f"napari-ngff: well {key[0]} cannot be opened: {exc}"
        self.status.setText(message)
        try:
            from napari.utils.notifications import show_error

            show_error(message)
        except Exception:
            _log.warning(message)

    def _add_layers(self, key: tuple[Any, ...], row: int, column: int, layer_data: list[Any]) -> None:
        from napari.layers import Layer

        self._loading.discard(key)
        offset = self.well_offset(row, column)
        added = []
        for data, meta, kind in layer_data:
            meta = dict(meta)
            translate = list(meta.get("translate") or [0.0] * 2)
            translate[-2] += offset[0]
            translate[-1] += offset[1]
            meta["translate"] = tuple(translate)
            layer = Layer.create(data, meta, kind)
            self.viewer.add_layer(layer)
            added.append(layer)
        self.opened[key] = added
        self._raise_well_names()
        item = self.grid.item(row, column)
        if item is not None:
            item.setBackground(QBrush(_OPENED))
        self.status.setText(f"Opened well {key[0]} (field {key[1]}): {len(added)} layer(s).")
        self.move_camera(row, column)

    def _raise_well_names(self) -> None:
        """Keep the plate's well names above the layers just opened."""
        for index, layer in enumerate(list(self.viewer.layers)):
            info = layer.metadata.get("ngff", {}) if isinstance(layer.metadata, dict) else {}
            if info.get("kind") == "plate-wells" and self.plate is not None and info.get("location") == str(self.plate.location):
                self.viewer.layers.move(index, len(self.viewer.layers))
                return

    # ------------------------------------------------------------------ geometry

    def well_offset(self, row: int, column: int) -> tuple[float, float]:
        """World (y, x) offset from the first tile to the tile of grid cell (row, column)."""
        if self.mosaic is None:
            return 0.0, 0.0
        y, x = self.mosaic.origin(row, column)
        sy, sx = self.mosaic.scale[-2:]
        return float(y * sy), float(x * sx)

    def well_extent(self) -> tuple[float, float]:
        """World (height, width) of one tile."""
        if self.mosaic is None:
            return 1.0, 1.0
        ty, tx = self.mosaic.tile_shape[-2:]
        sy, sx = self.mosaic.scale[-2:]
        return float(ty * sy), float(tx * sx)

    def move_camera(self, row: int, column: int) -> None:
        """Centre the camera on a well's tile and zoom to it (when ``jump`` is checked)."""
        if not self.jump.isChecked() or self.mosaic is None:
            return
        oy, ox = self.well_offset(row, column)
        ty, tx = self.mosaic.template.translations[self.mosaic.level][-2:]
        sy, sx = self.mosaic.scale[-2:]
        hy, hx = self.well_extent()
        cy = oy + ty - 0.5 * sy + hy / 2
        cx = ox + tx - 0.5 * sx + hx / 2
        scene = getattr(self.viewer, "scene", None)  # napari >= 0.9; before, viewer.camera
        camera = scene.camera if scene is not None else self.viewer.camera
        centre = list(camera.center)
        centre[-2], centre[-1] = cy, cx
        camera.center = tuple(centre)
        try:
            height, width = self.viewer._canvas_size
            camera.zoom = 0.9 * min(height / hy, width / hx)
        except Exception:  # no canvas size known (headless): keep the zoom
            pass

    # ------------------------------------------------------------------ selectors

    def _selection_changed(self, *_: Any) -> None:
        """Re-tile the mosaic layers with the chosen field and acquisition."""
        if self.plate is None:
            return
        from ngff import NgffError
        from ngff.hcs import plate_mosaic

        try:
            mosaic = plate_mosaic(self.plate, field=self.field.value(), acquisition=self.current_acquisition())
        except NgffError as exc:
            self.status.setText(str(exc))
            return
        self.mosaic = mosaic
        from .._plate import EAGER_BYTES

        pixels = mosaic.read() if mosaic.nbytes <= EAGER_BYTES else mosaic.data  # as when opened
        channel_axis = mosaic._channel_axis
        for layer in self.viewer.layers:
            info = layer.metadata.get("ngff", {}) if isinstance(layer.metadata, dict) else {}
            if info.get("kind") != "plate" or info.get("location") != str(self.plate.location):
                continue
            channel = info.get("channel")
            data = pixels
            if channel_axis is not None and channel is not None:
                data = data[(slice(None),) * channel_axis + (channel,)]
            if tuple(data.shape) == tuple(layer.data.shape):
                layer.data = data
        self.status.setText(
            f"Mosaic: field {self.field.value()}"
            + (f", acquisition {self.current_acquisition()}" if self.current_acquisition() is not None else "")
        )


def _load_well_layers(plate: Plate, well_path: str, field: int, acquisition: int | None) -> list[Any]:
    """Layer data of a well's field and its labels (runs in a worker thread)."""
    from ngff import NgffError
    from ngff.hcs import field_refs

    from .._reader import _image_with_labels

    row, column = well_path.split("/")[-2:]
    well = plate.well(row, column)
    refs = field_refs(well, acquisition)
    if not 0 <= field < len(refs):
        raise NgffError(
            f"well {well_path} has {len(refs)} field(s)" + (f" in acquisition {acquisition}" if acquisition is not None else "")
            + f"; there is no field {field}",
            location=f"{plate.location}/{well_path}",
        )
    image = well.fields[well.field_paths.index(refs[field].path)]
    prefix = f"{row}{column} f{refs[field].path}: "
    return _image_with_labels(image, prefix=prefix)
