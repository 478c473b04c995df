"""Plates in a real napari viewer: the mosaic with well names, and the Plate browser dock
widget (click or keyboard on a well opens its field at full resolution with its labels)."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import Qt
from viewer_helpers import PLUGIN, background, canvas, data_fraction

import ngff
from napari_ngff._widgets.plate_browser import PlateBrowser

CHANNELS = [{"label": "DAPI", "color": "0000FF"}, {"label": "GFP", "color": "00FF00"}]
WELLS = {"A/1": 1, "A/3": 2, "B/2": 3}


def _field(well: int, field: int) -> np.ndarray:
    c, y, x = np.indices((2, 64, 64))
    return (2000 * well + 500 * field + 100 * c + (x + y) % 32).astype(np.uint16)


@pytest.fixture(scope="module")
def plate_path(tmp_path_factory):
    """A 2×3 plate, 3 wells, 2 acquisitions (field 0: acquisition 0, field 1: acquisition 1);
    field B/2/0 has a label image."""
    root = tmp_path_factory.mktemp("plates") / "screen.ome.zarr"
    ngff.write_plate(root, rows=2, columns=3, wells=list(WELLS), acquisitions=[{"id": 0, "name": "day 1"}, {"id": 1, "name": "day 2"}], name="screen")
    for path, w in WELLS.items():
        r, c = path.split("/")
        for f in (0, 1):
            ngff.write_well_image(root, r, c, f, _field(w, f), acquisition=f, dims="cyx", channels=CHANNELS, scale={"y": 0.5, "x": 0.5}, units="micrometer")
    labels = np.zeros((64, 64), np.uint8)
    labels[10:30, 10:30] = 1
    ngff.write_labels(root / "B" / "2" / "0", "cells", labels, dims="yx")
    return root


def _browser(viewer) -> PlateBrowser:
    found = [w for w in viewer.window.dock_widgets.values() if isinstance(w, PlateBrowser)]
    assert len(found) == 1
    return found[0]


def _open(viewer, qtbot, plate_path):
    layers = viewer.open(str(plate_path), plugin=PLUGIN)
    # the well names follow the first frame
    qtbot.waitUntil(lambda: any(l.name == "screen wells" for l in viewer.layers), timeout=10_000)
    return layers


def test_drop_plate_shows_mosaic_names_and_browser(viewer, qtbot, plate_path):
    layers = _open(viewer, qtbot, plate_path)
    assert [layer.name for layer in layers] == ["DAPI", "GFP"]
    dapi = layers[0]
    assert dapi.colormap.colors[-1][:3] == pytest.approx((0, 0, 1))
    first = ngff.read(plate_path).well("A", "1").fields[0]
    k = len(first.levels) - 1
    tile = np.asarray(first.levels[k])
    ty, tx = tile.shape[1:]
    assert dapi.data.shape == (2 * ty, 3 * tx)
    np.testing.assert_array_equal(np.asarray(dapi.data)[:ty, :tx], tile[0])
    assert not np.asarray(dapi.data)[ty:, :tx].any()  # B/1 is missing
    names = viewer.layers["screen wells"]
    assert list(names.features["well"]) == ["A1", "A3", "B2"]
    np.testing.assert_allclose(names.scale, first.scales[k][1:])
    browser = _browser(viewer)
    assert (browser.grid.rowCount(), browser.grid.columnCount()) == (2, 3)
    present = {(r, c) for r in range(2) for c in range(3) if browser.grid.item(r, c).toolTip().endswith("present")}
    assert present == {(0, 0), (0, 2), (1, 1)}
    assert [browser.acquisition.itemText(i) for i in range(browser.acquisition.count())] == ["all", "0: day 1", "1: day 2"]
    assert data_fraction(canvas(viewer), background(viewer)) > 0.1


def test_click_a_well_opens_its_field_over_its_tile(viewer, qtbot, plate_path):
    _open(viewer, qtbot, plate_path)
    browser = _browser(viewer)
    before = len(viewer.layers)
    rect = browser.grid.visualItemRect(browser.grid.item(1, 1))  # B2
    qtbot.mouseClick(browser.grid.viewport(), Qt.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: len(viewer.layers) >= before + 3, timeout=15_000)
    new = {layer.name: layer for layer in list(viewer.layers)[before - 1 :]}
    assert {"B2 f0: DAPI", "B2 f0: GFP", "B2 f0: cells"} <= set(new)
    dapi, cells = new["B2 f0: DAPI"], new["B2 f0: cells"]
    np.testing.assert_array_equal(np.asarray(dapi.data[0] if dapi.multiscale else dapi.data), _field(3, 0)[0])
    assert type(cells).__name__ == "Labels"
    # placed over the B2 tile of the mosaic: tile origin (row 1, column 1) in world units
    oy, ox = browser.well_offset(1, 1)
    h, w = browser.well_extent()
    assert (oy, ox) == pytest.approx((h, w))
    assert tuple(dapi.translate) == pytest.approx((oy, ox))
    assert tuple(cells.translate) == pytest.approx((oy, ox))
    # the camera moved to the well; the names stay on top
    camera = viewer.scene.camera if hasattr(viewer, "scene") else viewer.camera
    assert tuple(camera.center[-2:]) == pytest.approx((oy + h / 2 - 0.25, ox + w / 2 - 0.25), abs=0.5)
    assert viewer.layers[-1].name == "screen wells"
    cells.visible = True
    shot = canvas(viewer)
    assert data_fraction(shot, background(viewer)) > 0.1


def test_keyboard_and_acquisition_selector(viewer, qtbot, plate_path):
    _open(viewer, qtbot, plate_path)
    browser = _browser(viewer)
    browser.acquisition.setCurrentIndex(2)  # acquisition 1: field 0 of it is path "1"
    # the mosaic now shows acquisition 1's fields
    dapi = viewer.layers["DAPI"]
    first = ngff.read(plate_path).well("A", "1").fields[1]
    tile = np.asarray(first.levels[-1])[0]
    np.testing.assert_array_equal(np.asarray(dapi.data)[: tile.shape[0], : tile.shape[1]], tile)
    before = len(viewer.layers)
    browser.grid.setFocus()
    browser.grid.setCurrentCell(0, 2)  # A3
    qtbot.keyClick(browser.grid, Qt.Key_Return)
    qtbot.waitUntil(lambda: any(l.name == "A3 f1: GFP" for l in viewer.layers), timeout=15_000)
    gfp = viewer.layers["A3 f1: GFP"]
    np.testing.assert_array_equal(np.asarray(gfp.data[0] if gfp.multiscale else gfp.data), _field(2, 1)[1])
    # a missing well opens nothing
    browser.open_well(1, 0)
    assert "No well" in browser.status.text()
    assert len(viewer.layers) == before + 2


def test_browser_from_the_menu_waits_for_a_plate(make_napari_viewer, qtbot, plate_path):
    viewer = make_napari_viewer()
    browser = PlateBrowser(viewer)
    assert browser.plate is None and "No plate" in browser.status.text()
    viewer.open(str(plate_path), plugin=PLUGIN)
    assert browser.plate is not None and browser.plate.name == "screen"
    assert browser.grid.rowCount() == 2
