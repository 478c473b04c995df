"""Painting in a real viewer, saving with the Save edits widget, reopening the store."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from viewer_helpers import PLUGIN, canvas

import ngff
from napari_ngff._edits import MARKER, provenance
from napari_ngff._widgets.save_edits import SAVE_KEY, SaveEditsWidget

SHAPE = (8, 64, 64)
CHUNKS = 16


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    return {
        p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _store(tmp_path: Path, with_labels: bool = True) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 3000, SHAPE, dtype=np.uint16)
    path = tmp_path / "img.ome.zarr"
    ngff.write(image, path, chunks=CHUNKS, scale_factors=[2, 4], scale={"z": 2.0, "y": 0.5, "x": 0.5})
    labels = np.zeros(SHAPE, np.uint16)
    labels[:, 40:60, 40:60] = 3
    if with_labels:
        ngff.write_labels(path, "cells", labels, colors={3: (0, 0, 255, 255), 7: (255, 0, 0, 255)})
    return path, labels


def _changed_chunks(label_path: Path, old_levels, image) -> set[str]:
    """Store keys of the chunks whose values differ between ``old_levels`` and ``image``."""
    import itertools

    import zarr

    keys = set()
    for k, (old, level) in enumerate(zip(old_levels, image.levels)):
        new = level.compute()
        chunks = zarr.open_array(label_path / str(k), mode="r").chunks
        ranges = [range(-(-n // c)) for n, c in zip(new.shape, chunks)]
        for index in itertools.product(*ranges):
            box = tuple(slice(i * c, (i + 1) * c) for i, c in zip(index, chunks))
            if not np.array_equal(old[box], new[box]):
                keys.add(f"labels/cells/{k}/c/" + "/".join(map(str, index)))
    return keys


def _wait(qtbot, widget):
    qtbot.waitUntil(lambda: not widget.running, timeout=60_000)
    assert widget.last_error is None, widget.last_error


def _paint(viewer, layer, z, y, x, value, size=5):
    viewer.dims.current_step = (z, *viewer.dims.current_step[1:])
    layer.brush_size = size
    layer.selected_label = value
    layer.paint((z, y, x), value)


def test_paint_save_reopen_updates_every_level_only(viewer, qtbot, tmp_path):
    path, labels = _store(tmp_path)
    viewer.open(path, plugin=PLUGIN)
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Save edits")
    assert isinstance(widget, SaveEditsWidget)
    opened = next(layer for layer in viewer.layers if type(layer).__name__ == "Labels")
    assert opened.multiscale and not opened.editable
    viewer.layers.selection.active = opened
    layer = widget.edit_selected()
    assert layer is not None, widget.status.value
    assert layer.editable and not layer.multiscale
    assert provenance(layer)["path"] == "labels/cells"
    assert not widget.tracker.dirty_layers()  # swapping in the copy is no edit

    _paint(viewer, layer, 2, 10, 12, 7)
    assert layer.name.endswith(MARKER)
    assert "cells" in widget.dirty.value
    # What napari renders: the painted red disc is on the canvas.
    for other in viewer.layers:
        other.visible = other is layer
    shot = canvas(viewer)
    assert ((shot[..., 0] > 150) & (shot[..., 2] < 80)).any()

    # Closing the viewer now asks first (and stays open when the answer is no).
    asked = []
    widget.confirm_close = lambda names: asked.append(names) or False
    window = viewer.window._qt_window
    window.close()
    assert asked == [["cells"]] and window.isVisible()

    before = snapshot(path)
    old_levels = [level.compute() for level in ngff.read(path).labels["cells"].levels]
    box = widget.tracker.box(layer)
    assert box[0] == slice(2, 3) and box[1].start >= 7 and box[1].stop <= 14
    widget.save()
    _wait(qtbot, widget)
    assert not layer.name.endswith(MARKER) and not widget.tracker.dirty_layers()

    expected = labels.copy()
    expected[np.asarray(layer.data) == 7] = 7
    assert (expected == 7).sum() > 10
    reopened = ngff.read(path).labels["cells"]
    reference = tmp_path / "ref.zarr"
    ngff.write(expected, reference, chunks=CHUNKS, scale_factors=[2, 4], method="mode")
    for got, want in zip(reopened.levels, ngff.read(reference).levels):
        np.testing.assert_array_equal(got.compute(), want.compute())
    assert (reopened.levels[1].compute() == 7).any()

    # Exactly the chunk files whose pixels changed were rewritten; every other file kept
    # its bytes and its mtime.
    after = snapshot(path)
    changed = {k for k in after if before.get(k) != after[k]}
    assert changed == _changed_chunks(path / "labels" / "cells", old_levels, reopened)
    assert "labels/cells/0/c/0/0/0" in changed and len(changed) >= 2
    assert all(before[k] == after[k] for k in before if k not in changed)

    # The key binding saves too.
    from napari.utils.key_bindings import KeyBinding

    _paint(viewer, layer, 5, 30, 30, 7, size=3)
    viewer.keymap[KeyBinding.from_str(SAVE_KEY)](viewer)
    assert widget.running
    _wait(qtbot, widget)
    assert ngff.read(path).labels["cells"].levels[0][5, 30, 30].compute() == 7
    assert not widget.tracker.dirty_layers()


def test_new_labels_layer_goes_into_the_image_labels_group(viewer, qtbot, tmp_path):
    from napari.utils.colormaps import DirectLabelColormap

    path, _ = _store(tmp_path, with_labels=False)
    viewer.open(path, plugin=PLUGIN)
    colormap = DirectLabelColormap(color_dict={0: np.zeros(4), 4: np.array([0.0, 1.0, 0.0, 1.0]), None: np.zeros(4)})
    drawn = viewer.add_labels(np.zeros(SHAPE, np.uint8), name="nuclei", scale=(2.0, 0.5, 0.5), colormap=colormap)
    widget = SaveEditsWidget(viewer)
    _paint(viewer, drawn, 1, 20, 20, 4)
    assert drawn.name == "nuclei" + MARKER
    widget.save()
    _wait(qtbot, widget)
    image = ngff.read(path)
    assert list(image.labels) == ["nuclei"]
    label = image.labels["nuclei"]
    assert label.levels[0][1, 20, 20].compute() == 4
    assert [(c.value, c.rgba) for c in label.image_label.colors] == [(4, (0, 255, 0, 255))]
    assert provenance(drawn)["path"] == "labels/nuclei"
    # Further strokes now update the stored label image in place.
    _paint(viewer, drawn, 6, 50, 50, 4)
    before = snapshot(path)
    widget.save()
    _wait(qtbot, widget)
    assert ngff.read(path).labels["nuclei"].levels[0][6, 50, 50].compute() == 4
    changed = {k for k, v in snapshot(path).items() if before.get(k) != v}
    assert changed and all(k.startswith("labels/nuclei/") for k in changed)


def test_image_layer_changes_are_saved(viewer, qtbot, tmp_path):
    """A script replaces level 0 of an opened image layer: the save writes only the difference."""
    path, _ = _store(tmp_path, with_labels=False)
    viewer.open(path, plugin=PLUGIN)
    layer = next(layer for layer in viewer.layers if type(layer).__name__ == "Image")
    widget = SaveEditsWidget(viewer)
    levels = list(layer.data)
    edited = np.asarray(levels[0]).copy()
    edited[3, 5:9, 5:9] = 0
    before = snapshot(path)
    layer.data = [edited, *levels[1:]]
    assert layer.name.endswith(MARKER)
    widget.save()
    _wait(qtbot, widget)
    stored = ngff.read(path)
    np.testing.assert_array_equal(stored.levels[0].compute(), edited)
    changed = {k for k, v in snapshot(path).items() if before.get(k) != v}
    assert "0/c/0/0/0" in changed and "0/c/0/3/3" not in changed
    assert all(k.split("/")[0] in ("0", "1", "2") for k in changed)


def test_save_without_a_store_reports(viewer, monkeypatch):
    errors = []
    monkeypatch.setattr("napari.utils.notifications.show_error", errors.append)
    widget = SaveEditsWidget(viewer)
    drawn = viewer.add_labels(np.zeros((5, 7), np.uint8), name="plain")
    drawn.paint((2, 3), 1)
    assert widget.save() is None
    assert errors and "no image opened from an OME-Zarr store" in errors[0]
    widget.tracker.clear(drawn)


def test_channel_split_layers_map_to_the_stored_axes():
    """A layer of channel 1 of a czyx image saves into region (1, z, y, x) of the store."""
    from napari_ngff._edits import _store_region, _with_channel

    prov = {"channel": 1, "axes": [{"name": "c", "type": "channel"}, {"name": "z", "type": "space"},
                                   {"name": "y", "type": "space"}, {"name": "x", "type": "space"}]}
    box = (slice(0, 2), slice(3, 5), slice(4, 9))
    assert _store_region(prov, box) == (slice(1, 2), *box)
    assert _with_channel(prov, np.zeros((2, 2, 5))).shape == (1, 2, 2, 5)
    assert _store_region({"channel": None, "axes": prov["axes"][1:]}, box) == box
