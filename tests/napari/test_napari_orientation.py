"""The Orientation dock widget in a real viewer under Xvfb: set, save, reopen, letters on screen."""

from __future__ import annotations

import json

import numpy as np
from viewer_helpers import PLUGIN

import ngff
from napari_ngff._layers import ORIENTATION_KEY
from napari_ngff._widgets.orientation import LETTERS_LAYER, OrientationWidget, _camera
from ngff.orientation import code_of


def _store(tmp_path, orientation=None):
    data = np.zeros((16, 48, 64), np.uint16)
    data[:, 8:40, 8:56] = 1000  # a bright (grey) block, dark border
    target = tmp_path / "head.ome.zarr"
    ngff.write(data, target, dims="zyx", scale={"z": 2.0, "y": 1.0, "x": 1.0}, orientation=orientation)
    ngff.write_labels(target, "mask", (data > 0).astype(np.uint8))
    return target


def _yellow(shot: np.ndarray) -> np.ndarray:
    return (shot[..., 0] > 180) & (shot[..., 1] > 180) & (shot[..., 2] < 90)


def _letter_blobs(shot: np.ndarray) -> list[tuple[float, float]]:
    """(row, column) centres of the yellow letters drawn on the canvas."""
    from scipy import ndimage

    labels, count = ndimage.label(_yellow(shot), structure=np.ones((3, 3)))
    centres = ndimage.center_of_mass(labels > 0, labels, range(1, count + 1))
    sizes = ndimage.sum(labels > 0, labels, range(1, count + 1))
    return [c for c, n in zip(centres, sizes) if n >= 10]


def _assert_cross(shot: np.ndarray) -> None:
    """Four letters: one left, one right (same height), one top, one bottom (same column)."""
    blobs = _letter_blobs(shot)
    assert len(blobs) == 4, blobs
    left, right = min(blobs, key=lambda c: c[1]), max(blobs, key=lambda c: c[1])
    top, bottom = min(blobs, key=lambda c: c[0]), max(blobs, key=lambda c: c[0])
    assert len({left, right, top, bottom}) == 4, blobs
    assert abs(left[0] - right[0]) < 6 and abs(top[1] - bottom[1]) < 6, blobs
    assert left[1] < top[1] < right[1] and top[0] < left[0] < bottom[0], blobs


def _settle(qtbot, widget) -> None:
    """Let the widget's deferred redraw of the letters run."""
    qtbot.waitUntil(lambda: not widget.redrawing, timeout=5000)


def _level0(layer) -> np.ndarray:
    return np.asarray(layer.data[0] if layer.multiscale else layer.data)


def _screenshot(viewer) -> np.ndarray:
    viewer.reset_view()
    return np.asarray(viewer.screenshot(canvas_only=True, flash=False))[..., :3].astype(int)


def test_set_save_reopen_and_letters(viewer, qtbot, tmp_path):
    target = _store(tmp_path)
    layers = viewer.open(str(target), plugin=PLUGIN)
    image = layers[0]
    assert ORIENTATION_KEY not in image.metadata  # no orientation in the store yet
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Orientation")  # from the manifest
    assert isinstance(widget, OrientationWidget)
    widget.layer.value = image
    assert [b.label for b in (widget.axis_0, widget.axis_1, widget.axis_2)] == ["z", "y", "x"]
    assert widget.shown_letters == {} and LETTERS_LAYER not in viewer.layers

    # Per axis: x from the choice box; the rest from a preset, then x overridden.
    widget.set_preset("LPS")
    widget.axis_2.value = "left-to-right"
    assert widget.code.value == "RPS"
    assert widget.save() == str(target)
    assert "saved RPS" in widget.status.value

    # The store's metadata (image and label image) now carries it; pixels untouched.
    reread = ngff.read(target)
    assert code_of(reread.axes) == "RPS"
    assert code_of(reread.labels["mask"].axes) == "RPS"
    raw = json.loads((target / "zarr.json").read_text())["attributes"]["ome"]["multiscales"][0]["axes"]
    assert raw[-1]["orientation"] == {"type": "anatomical", "value": "left-to-right"}
    for layer in layers:  # every layer read from the image knows it
        assert layer.metadata[ORIENTATION_KEY]["x"] == "left-to-right"

    # Letters at the canvas edges for the z plane (y down, x right): x R at the right,
    # y P at the bottom (y grows towards posterior).
    assert widget.shown_letters == {"left": "L", "right": "R", "top": "A", "bottom": "P"}
    _settle(qtbot, widget)
    assert list(viewer.layers[LETTERS_LAYER].features["letter"]) == ["A", "P", "L", "R"]
    _assert_cross(_screenshot(viewer))

    # The view turns to the z-x plane: the letters follow (z S/I vertical).
    viewer.dims.order = (1, 0, 2)
    assert widget.shown_letters == {"top": "I", "bottom": "S", "left": "L", "right": "R"}
    _settle(qtbot, widget)
    _assert_cross(_screenshot(viewer))
    viewer.dims.order = (0, 1, 2)

    # In 3-D the six faces get their letters.
    viewer.dims.ndisplay = 3
    _settle(qtbot, widget)
    assert sorted(viewer.layers[LETTERS_LAYER].features["letter"]) == ["A", "I", "L", "P", "R", "S"]
    viewer.dims.ndisplay = 2
    _settle(qtbot, widget)
    assert len(viewer.layers[LETTERS_LAYER].data) == 4

    # A flipped camera swaps the sides on screen.
    _camera(viewer).orientation2d = ("up", "right")
    assert widget.shown_letters["top"] == "P" and widget.shown_letters["bottom"] == "A"
    _camera(viewer).orientation2d = ("down", "right")

    # Reopening in a fresh viewer gives the orientation in the layers' metadata.
    viewer.layers.clear()
    again = viewer.open(str(target), plugin=PLUGIN)
    assert again[0].metadata[ORIENTATION_KEY] == {
        "z": "inferior-to-superior",
        "y": "anterior-to-posterior",
        "x": "left-to-right",
    }
    widget.layer.reset_choices()
    widget.layer.value = again[0]
    assert widget.axis_1.value == "anterior-to-posterior" and widget.code.value == "RPS"


def test_show_reoriented_to_ras_and_lps(viewer, tmp_path):
    target = _store(tmp_path, orientation="LPS")
    layers = viewer.open(str(target), plugin=PLUGIN)
    widget = OrientationWidget(viewer)
    widget.layer.value = layers[0]
    ras = widget.show_reoriented("RAS")
    assert ras.name.endswith("(RAS)")
    assert ras.metadata[ORIENTATION_KEY] == {
        "z": "inferior-to-superior",
        "y": "posterior-to-anterior",
        "x": "left-to-right",
    }
    source = _level0(layers[0])
    np.testing.assert_array_equal(_level0(ras), source[:, ::-1, ::-1])
    # Flipped axes run the other way: their coordinates are mirrored (x' = -x), as in
    # ngff.reorient, so each pixel keeps its anatomical position.
    before, after = np.asarray(layers[0].extent.world), np.asarray(ras.extent.world)
    np.testing.assert_allclose(after[:, 0], before[:, 0])
    np.testing.assert_allclose(after[:, 1:], -before[::-1, 1:])
    assert widget.layer.value is ras and widget.shown_letters["right"] == "R"
    lps = widget.show_reoriented("LPS")
    np.testing.assert_array_equal(_level0(lps), source)

    # Labels layers too.
    widget.layer.value = layers[1]
    mask = widget.show_reoriented("RAS")
    assert mask.__class__.__name__ == "Labels"
    np.testing.assert_array_equal(_level0(mask), _level0(layers[1])[:, ::-1, ::-1])

    # A choice breaking an RFC-4 MUST is refused and the store is left alone.
    before = (target / "zarr.json").read_bytes()
    widget.layer.value = layers[0]
    widget.axis_1.value = "left-to-right"  # y and x both on left/right
    assert widget.save() is None
    assert "same anatomical axis" in widget.status.value
    assert (target / "zarr.json").read_bytes() == before


def test_writer_writes_layer_orientation_back(viewer, tmp_path):
    from napari_ngff._writer import write_layers

    data = np.random.default_rng(0).integers(0, 100, size=(8, 16, 16)).astype(np.uint16)
    layer = viewer.add_image(data, name="vol", axis_labels=("z", "y", "x"))
    widget = OrientationWidget(viewer)
    widget.layer.value = layer
    widget.set_preset("LPI")
    assert widget.save() is None  # no store yet: kept in the layer's metadata
    assert layer.metadata[ORIENTATION_KEY]["z"] == "superior-to-inferior"
    out = tmp_path / "out.ome.zarr"
    write_layers(out, [layer.as_layer_data_tuple()])
    assert code_of(ngff.read(out).axes) == "LPI"
    # A layer without OME axis labels gets the names the writer gives it.
    plain = viewer.add_image(data[0], name="plane")
    widget.layer.value = plain
    assert [b.label for b in (widget.axis_0, widget.axis_1)] == ["y", "x"]
    widget.set_preset("RA")
    widget.save()
    write_layers(tmp_path / "plane.ome.zarr", [plain.as_layer_data_tuple()])
    assert code_of(ngff.read(tmp_path / "plane.ome.zarr").axes) == "RA"


def test_save_all_layers_skips_the_letters(viewer, qtbot, tmp_path):
    import pytest

    from ngff import NgffError

    target = _store(tmp_path, orientation="RAS")
    viewer.open(str(target), plugin=PLUGIN)
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Orientation")
    widget.layer.value = viewer.layers[0]
    _settle(qtbot, widget)
    assert LETTERS_LAYER in viewer.layers  # drawn for an oriented layer
    out = tmp_path / "all.ome.zarr"
    assert viewer.layers.save(str(out), plugin=PLUGIN) == [str(out)]  # every layer, letters included
    saved = ngff.read(out)
    assert code_of(saved.axes) == "RAS"
    np.testing.assert_array_equal(saved.levels[0].compute(), ngff.read(target).levels[0].compute())
    viewer.add_points([[1, 2, 3]], name="my spots")
    with pytest.raises(NgffError, match="'my spots' \\(points\\)"):
        viewer.layers.save(str(tmp_path / "refused.ome.zarr"), plugin=PLUGIN)
    assert not (tmp_path / "refused.ome.zarr").exists()
