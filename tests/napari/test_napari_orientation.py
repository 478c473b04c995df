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
    data = np.zeros((2, 16, 48, 64), np.uint16)
    data[:, :, 8:40, 8:56] = 1000  # a bright block, dark border
    target = tmp_path / "head.ome.zarr"
    ngff.write(data, target, dims="czyx", scale={"z": 2.0, "y": 1.0, "x": 1.0}, orientation=orientation)
    ngff.write_labels(target, "mask", (data[0] > 0).astype(np.uint8))
    return target


def _yellow(shot: np.ndarray) -> np.ndarray:
    return (shot[..., 0] > 180) & (shot[..., 1] > 180) & (shot[..., 2] < 90)


def _yellow_in(shot: np.ndarray, edge: str) -> int:
    h, w = shot.shape[:2]
    mask = _yellow(shot)
    part = {
        "left": mask[h // 3 : 2 * h // 3, : w // 3],
        "right": mask[h // 3 : 2 * h // 3, 2 * w // 3 :],
        "top": mask[: h // 3, w // 3 : 2 * w // 3],
        "bottom": mask[2 * h // 3 :, w // 3 : 2 * w // 3],
    }[edge]
    return int(part.sum())


def _level0(layer) -> np.ndarray:
    return np.asarray(layer.data[0] if layer.multiscale else layer.data)


def _screenshot(viewer) -> np.ndarray:
    viewer.reset_view()
    return np.asarray(viewer.screenshot(canvas_only=True, flash=False))[..., :3].astype(int)


def test_dock_widget_from_manifest(viewer):
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Orientation")
    assert isinstance(widget, OrientationWidget)


def test_set_save_reopen_and_letters(viewer, qtbot, tmp_path):
    target = _store(tmp_path)
    layers = viewer.open(str(target), plugin=PLUGIN)
    image = layers[0]
    assert ORIENTATION_KEY not in image.metadata  # no orientation in the store yet
    widget = OrientationWidget(viewer)
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
    assert list(viewer.layers[LETTERS_LAYER].features["letter"]) == ["A", "P", "L", "R"]
    shot = _screenshot(viewer)
    for edge in ("left", "right", "top", "bottom"):
        assert _yellow_in(shot, edge) > 10, edge

    # The view turns to the z-x plane: the letters follow (z S/I vertical).
    viewer.dims.order = (1, 0, 2)
    assert widget.shown_letters == {"top": "I", "bottom": "S", "left": "L", "right": "R"}
    shot = _screenshot(viewer)
    assert _yellow_in(shot, "top") > 10 and _yellow_in(shot, "left") > 10
    viewer.dims.order = (0, 1, 2)

    # In 3-D the six faces get their letters.
    viewer.dims.ndisplay = 3
    assert sorted(viewer.layers[LETTERS_LAYER].features["letter"]) == ["A", "I", "L", "P", "R", "S"]
    viewer.dims.ndisplay = 2
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


def test_bad_choice_is_refused_without_writing(viewer, tmp_path):
    target = _store(tmp_path, orientation="RAS")
    before = (target / "zarr.json").read_bytes()
    layers = viewer.open(str(target), plugin=PLUGIN)
    widget = OrientationWidget(viewer)
    widget.layer.value = layers[0]
    widget.axis_1.value = "left-to-right"  # y and x both on left/right
    assert widget.save() is None
    assert "same anatomical axis" in widget.status.value
    assert (target / "zarr.json").read_bytes() == before
