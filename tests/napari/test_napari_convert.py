"""napari and conversion: a TIFF opened with napari's own reader and saved through our
writer keeps the layers' scale and channel metadata; the Export widget converts a file
chosen on disk without loading it into the viewer."""

from __future__ import annotations

import numpy as np
import pytest
from viewer_helpers import PLUGIN, background, canvas, data_fraction

import ngff
from napari_ngff._options import ExportOptions
from napari_ngff._widgets.export import ExportWidget

tifffile = pytest.importorskip("tifffile")


def _hyperstack(path) -> np.ndarray:
    z, y, x = np.indices((6, 48, 64))
    data = np.stack([(x * 40 + z) % 4000, (y * 60 + z) % 4000]).astype(np.uint16)  # C Z Y X
    tifffile.imwrite(
        path, data.transpose(1, 0, 2, 3), imagej=True, resolution=(1 / 0.4, 1 / 0.4),
        metadata={"axes": "ZCYX", "spacing": 2.0, "unit": "um"},
    )
    return data


def test_tiff_opened_by_napari_saved_by_us_keeps_scale_and_channels(viewer, tmp_path) -> None:
    data = _hyperstack(tmp_path / "ij.tif")
    # napari's built-in reader gives pixels only; the user supplies channels and scale
    layers = viewer.open(
        tmp_path / "ij.tif", plugin="napari", channel_axis=1, scale=(2.0, 0.4, 0.4),
        name=["DAPI", "GFP"], colormap=["blue", "green"], units="micrometer",
    )
    assert [layer.name for layer in layers] == ["DAPI", "GFP"]
    out = tmp_path / "saved.ome.zarr"
    written = viewer.layers.save(str(out), plugin=PLUGIN)  # every layer: the two channels
    assert written == [str(out)]
    image = ngff.read(out)
    assert image.dims == ("c", "z", "y", "x")
    np.testing.assert_array_equal(image.levels[0].compute(), data)
    assert dict(zip(image.dims, image.scales[0])) == {"c": 1.0, "z": 2.0, "y": 0.4, "x": 0.4}
    assert {a.name: a.unit for a in image.axes}["x"] == "micrometer"
    assert [c.label for c in image.omero.channels] == ["DAPI", "GFP"]
    assert [c.color for c in image.omero.channels] == ["0000FF", "00FF00"]


def test_export_widget_converts_a_file_without_loading_it(viewer, qtbot, tmp_path) -> None:
    data = _hyperstack(tmp_path / "ij.tif")
    bg = background(viewer)
    widget = ExportWidget(viewer, defaults=ExportOptions())
    widget.source_file.value = tmp_path / "ij.tif"
    out = tmp_path / "converted.ome.zarr"
    widget.destination.value = out
    widget.chunks.value = "16"
    worker = widget.export()
    assert worker is not None
    qtbot.waitUntil(lambda: not widget.running, timeout=60_000)
    assert widget.status.value == f"wrote {out}", widget.status.value
    assert len(viewer.layers) == 0  # never loaded into the viewer
    image = ngff.read(out)
    np.testing.assert_array_equal(image.levels[0].compute(), data)
    assert dict(zip(image.dims, image.scales[0]))["z"] == 2.0  # the file's own metadata
    assert {a.name: a.unit for a in image.axes}["y"] == "micrometer"
    # what was written renders when opened
    viewer.open(str(out), plugin=PLUGIN)
    assert len(viewer.layers) == 2
    assert data_fraction(canvas(viewer), bg) > 0.05
    # a missing file is refused before anything starts
    widget.source_file.value = tmp_path / "nope.tif"
    assert widget.export() is None and "no such file" in widget.status.value
