"""Render screenshots of the plugin in use (run under a display, e.g. ``xvfb-run -a``).

Usage::

    xvfb-run -a python docs/make_screenshots.py

Writes the demo store, opens it in napari with the napari-ngff reader, and saves
screenshots to ``docs/images/``.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")  # keep backend deprecation toasts out of the pictures

import napari  # noqa: E402

import numpy as np  # noqa: E402

import ngff  # noqa: E402
from ngff.samples import synthetic_labels, synthetic_volume  # noqa: E402

OUT = Path(__file__).resolve().parent / "images"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "demo.ome.zarr"
        ngff.write(
            synthetic_volume((64, 256, 256)),
            store,
            scale={"z": 2.0, "y": 0.5, "x": 0.5},
            units="micrometer",
            channels=[{"label": n, "color": c} for n, c in (("red", "FF0000"), ("green", "00FF00"), ("blue", "0000FF"))],
            name="demo",
        )
        ngff.write_labels(store, "cells", synthetic_labels((64, 256, 256)))
        viewer = napari.Viewer(show=True)
        viewer.window.resize(1200, 800)
        viewer.open(str(store), plugin="napari-ngff")
        for layer in viewer.layers:
            if layer.name == "cells":
                layer.visible = True
        viewer.dims.set_point(1, 64.0)
        napari.qt.get_qapp().processEvents()
        image = viewer.screenshot(canvas_only=False, flash=False)
        from PIL import Image

        Image.fromarray(np.asarray(image)).save(OUT / "napari-demo.png")
        widget, _ = viewer.window.add_plugin_dock_widget("napari-ngff")
        napari.qt.get_qapp().processEvents()
        Image.fromarray(np.asarray(viewer.screenshot(canvas_only=False, flash=False))).save(OUT / "napari-export-widget.png")
        viewer.close()


if __name__ == "__main__":
    main()
