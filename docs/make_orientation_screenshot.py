"""Render the Orientation dock widget with its on-canvas letters (run under a display).

Usage::

    xvfb-run -a python docs/make_orientation_screenshot.py

Writes a small head-like phantom (an ellipsoid with a nose pointing anterior and a marker
on the subject's left) with RAS orientation, opens it with the napari-ngff reader, docks
the Orientation widget and saves ``docs/images/napari-orientation.png``.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")  # keep backend deprecation toasts out of the picture

import napari
import numpy as np

import ngff

OUT = Path(__file__).resolve().parent / "images"


def phantom(shape=(48, 96, 80)) -> np.ndarray:
    """z (inferior->superior), y (posterior->anterior), x (left->right) head phantom."""
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    cz, cy, cx = (n / 2 for n in shape)
    head = ((z - cz) / (0.45 * shape[0])) ** 2 + ((y - cy) / (0.4 * shape[1])) ** 2 + ((x - cx) / (0.4 * shape[2])) ** 2
    volume = np.where(head <= 1, 600, 0).astype(np.uint16)
    volume[head <= 0.7] = 300  # "brain"
    nose = ((y - 0.9 * shape[1]) / 6.0) ** 2 + ((x - cx) / 5.0) ** 2 + ((z - cz) / 8.0) ** 2 <= 1
    volume[nose] = 900  # anterior (high y)
    marker = ((x - 0.2 * shape[2]) / 4.0) ** 2 + ((y - cy) / 4.0) ** 2 + ((z - cz) / 20.0) ** 2 <= 1
    volume[marker] = 1200  # the subject's left (low x in RAS)
    return volume


def main() -> None:
    from napari_ngff._widgets.orientation import OrientationWidget

    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "head.ome.zarr"
        ngff.write(phantom(), store, scale=(2.0, 2.0, 2.0), units="millimeter", orientation="RAS", name="head")
        viewer = napari.Viewer(show=True)
        viewer.window.resize(1100, 700)
        viewer.open(str(store), plugin="napari-ngff")
        _, widget = viewer.window.add_plugin_dock_widget("napari-ngff", "Orientation")
        assert isinstance(widget, OrientationWidget)
        viewer.camera.orientation2d = ("up", "right")  # radiological habit: anterior up
        widget.update_letters()
        for _ in range(20):
            napari.qt.get_qapp().processEvents()
        viewer.reset_view()
        from qtpy.QtWidgets import QApplication

        for toast in QApplication.topLevelWidgets() + viewer.window._qt_window.findChildren(object):
            if type(toast).__name__ == "NapariQtNotification":  # the backend deprecation toast
                toast.close()
        for _ in range(20):
            napari.qt.get_qapp().processEvents()
        viewer.screenshot(str(OUT / "napari-orientation.png"), canvas_only=False, flash=False)
        viewer.close()


if __name__ == "__main__":
    main()
