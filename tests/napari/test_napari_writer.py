"""The writer contribution: ``viewer.layers.save(path, plugin="napari-ngff")``.

Stores opened with the reader and saved to a new path round-trip (pixels and metadata);
layers made in napari carry their scale, translation, units, axis names, colours,
contrast limits and label colours/features into a valid OME-Zarr.
"""

from __future__ import annotations

import builders
import numpy as np
import pytest
from viewer_helpers import PLUGIN

import ngff
from napari_ngff._options import ExportOptions
from napari_ngff._writer import ExportCancelled, write_layers


def _assert_same_image(a: ngff.Image, b: ngff.Image) -> None:
    assert a.dims == b.dims
    assert [x.type for x in a.axes] == [x.type for x in b.axes]
    assert [x.unit for x in a.axes] == [x.unit for x in b.axes]
    assert [lvl.shape for lvl in a.levels] == [lvl.shape for lvl in b.levels]
    for la, lb in zip(a.levels, b.levels):
        assert la.dtype == lb.dtype
    np.testing.assert_array_equal(a.levels[0].compute(), b.levels[0].compute())
    assert np.allclose(a.scales, b.scales)
    assert np.allclose(a.translations[0], b.translations[0])
    assert a.name == b.name


@pytest.mark.parametrize("builder", ["v04", "v05-sharded", "v03", "v01-flat"])
@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_open_save_round_trip(viewer, tmp_path, builder, version, monkeypatch):
    monkeypatch.setattr(
        "napari_ngff._writer.export_defaults", lambda: ExportOptions(version=version)
    )
    root = tmp_path / "source.zarr"
    root.mkdir()
    builders.IMAGE_BUILDERS[builder](root)
    viewer.open(str(root), plugin=PLUGIN)
    out = tmp_path / "copy.ome.zarr"
    written = viewer.layers.save(str(out), plugin=PLUGIN)
    assert written == [str(out)]
    report = ngff.validate(out)
    assert report.ok, report.problems
    source, copy = ngff.read(root), ngff.read(out)
    assert copy.version == version
    _assert_same_image(source, copy)
    if source.channels:
        for a, b in zip(source.channels, copy.channels):
            assert (a.label, a.color, a.window, a.active) == (b.label, b.color, b.window, b.active)
    assert list(source.labels) == list(copy.labels)
    for name in source.labels:
        la, lb = source.labels[name], copy.labels[name]
        _assert_same_image(la, lb)
        assert la.image_label.colors == lb.image_label.colors
        assert [dict(p) for p in la.image_label.properties] == [
            dict(p) for p in lb.image_label.properties
        ]


def test_save_selected_channel_only(viewer, tmp_path):
    root = tmp_path / "source.zarr"
    root.mkdir()
    builders.build_v04(root)
    layers = viewer.open(str(root), plugin=PLUGIN)
    viewer.layers.selection = {layers[1]}
    out = tmp_path / "gfp.ome.zarr"
    viewer.layers.save(str(out), selected=True, plugin=PLUGIN)
    copy = ngff.read(out)
    assert copy.dims == ("t", "c", "z", "y", "x") and copy.shape[1] == 1
    assert [c.label for c in copy.channels] == ["GFP"]
    assert list(copy.labels) == []
    np.testing.assert_array_equal(
        copy.levels[0].compute()[:, 0], ngff.read(root).levels[0].compute()[:, 1]
    )


def test_save_new_layers(viewer, tmp_path):
    from napari.utils.colormaps import DirectLabelColormap

    rng = np.random.default_rng(1)
    red = rng.integers(0, 4000, (6, 40, 48), dtype=np.uint16)
    cyan = rng.integers(0, 4000, (6, 40, 48), dtype=np.uint16)
    cells = np.zeros((6, 40, 48), dtype=np.uint32)
    cells[:, 5:15, 5:20] = 1
    cells[:, 20:35, 25:45] = 2
    common = {
        "scale": (2.0, 0.5, 0.5),
        "translate": (1.0, -2.0, 3.0),
        "axis_labels": ("z", "y", "x"),
        "units": ("micrometer", "micrometer", "nanometer"),
    }
    viewer.add_image(red, name="red", colormap="red", contrast_limits=(100, 3000), **common)
    viewer.add_image(
        cyan, name="cyan", colormap="cyan", contrast_limits=(0, 2000), visible=False, **common
    )
    colormap = DirectLabelColormap(
        color_dict={1: [1, 0, 0, 1], 2: [0, 0, 1, 0.5], None: [0, 0, 0, 0]}
    )
    viewer.add_labels(
        cells,
        name="cells",
        colormap=colormap,
        features={"index": [1, 2], "kind": ["round", "square"]},
        **common,
    )
    out = tmp_path / "new.ome.zarr"
    assert viewer.layers.save(str(out), plugin=PLUGIN) == [str(out)]
    assert ngff.validate(out).ok
    image = ngff.read(out)
    assert image.dims == ("c", "z", "y", "x")
    assert [a.unit for a in image.axes] == [None, "micrometer", "micrometer", "nanometer"]
    assert image.scales[0] == pytest.approx((1.0, 2.0, 0.5, 0.5))
    assert image.translations[0] == pytest.approx((0.0, 1.0, -2.0, 3.0))
    np.testing.assert_array_equal(image.levels[0].compute(), np.stack([red, cyan]))
    assert [(c.label, c.color, c.window.start, c.window.end, c.active) for c in image.channels] == [
        ("red", "FF0000", 100.0, 3000.0, True),
        ("cyan", "00FFFF", 0.0, 2000.0, False),
    ]
    label = image.labels["cells"]
    np.testing.assert_array_equal(label.levels[0].compute(), cells)
    assert [(c.value, c.rgba) for c in label.image_label.colors] == [
        (1, (255, 0, 0, 255)),
        (2, (0, 0, 255, 128)),
    ]
    assert [dict(p) for p in label.image_label.properties] == [
        {"label-value": 1, "kind": "round"},
        {"label-value": 2, "kind": "square"},
    ]
    # and it opens again as the same layers
    viewer.layers.clear()
    layers = viewer.open(str(out), plugin=PLUGIN)
    assert [layer.name for layer in layers] == ["red", "cyan", "cells"]
    assert [str(u) for u in layers[0].units] == ["micrometer", "micrometer", "nanometer"]


def test_multiscale_layer_keeps_its_levels(viewer, tmp_path):
    base = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)
    viewer.add_image(
        [base, base[::2, ::2], base[::4, ::4], base[::8, ::8]], multiscale=True, name="pyr"
    )
    out = tmp_path / "pyr.ome.zarr"
    viewer.layers.save(str(out), plugin=PLUGIN)
    image = ngff.read(out)
    assert [lvl.shape for lvl in image.levels] == [(64, 64), (32, 32), (16, 16), (8, 8)]
    assert image.dims == ("y", "x")
    assert image.channels[0].label == "pyr"


def test_images_of_different_shapes_go_to_sibling_stores(viewer, tmp_path):
    viewer.add_image(np.ones((16, 16), dtype=np.uint8), name="small")
    viewer.add_image(np.ones((8, 32, 32), dtype=np.uint8), name="big one")
    out = tmp_path / "mixed.ome.zarr"
    written = viewer.layers.save(str(out), plugin=PLUGIN)
    assert written == [str(out), str(tmp_path / "mixed-big_one.ome.zarr")]
    assert ngff.read(written[0]).shape == (16, 16)
    assert ngff.read(written[1]).shape == (8, 32, 32)


def test_labels_only(viewer, tmp_path):
    cells = np.zeros((20, 20), dtype=np.int32)
    cells[5:10, 5:10] = 3
    viewer.add_labels(cells, name="cells")
    out = tmp_path / "labels.ome.zarr"
    viewer.layers.save(str(out), plugin=PLUGIN)
    assert ngff.validate(out).ok
    image = ngff.read(out)
    np.testing.assert_array_equal(image.levels[0].compute(), cells)
    np.testing.assert_array_equal(image.labels["cells"].levels[0].compute(), cells)


def test_refuses_to_overwrite_the_source(viewer, tmp_path):
    root = tmp_path / "source.ome.zarr"
    root.mkdir()
    builders.build_v04(root)
    viewer.open(str(root), plugin=PLUGIN)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    with pytest.raises(ngff.NgffError, match="read from this store"):
        viewer.layers.save(str(root), plugin=PLUGIN)
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def test_cancel_from_progress_leaves_nothing(tmp_path):
    data = np.zeros((8, 256, 256), dtype=np.uint16)
    meta = {
        "name": "img",
        "scale": (1, 1, 1),
        "translate": (0, 0, 0),
        "axis_labels": ("z", "y", "x"),
    }
    calls = []

    def progress(stage, done, total):
        calls.append((stage, done, total))
        raise ExportCancelled(stage)

    out = tmp_path / "cancelled.ome.zarr"
    with pytest.raises(ExportCancelled):
        write_layers(
            out, [(data, meta, "image")], options=ExportOptions(chunks=64), progress=progress
        )
    assert calls
    assert list(tmp_path.iterdir()) == []  # no store, no staging or temporary folder


def test_rgb_is_refused(tmp_path):
    rgb = np.zeros((8, 8, 3), dtype=np.uint8)
    with pytest.raises(ngff.NgffError, match="RGB"):
        write_layers(tmp_path / "rgb.ome.zarr", [(rgb, {"name": "photo", "rgb": True}, "image")])
    assert list(tmp_path.iterdir()) == []


def test_layer_with_its_own_channel_axis(viewer, tmp_path):
    data = np.arange(3 * 16 * 16, dtype=np.uint8).reshape(3, 16, 16)
    viewer.add_image(data, name="stack", axis_labels=("c", "y", "x"), colormap="green")
    out = tmp_path / "stack.ome.zarr"
    viewer.layers.save(str(out), plugin=PLUGIN)
    image = ngff.read(out)
    assert image.dims == ("c", "y", "x")
    np.testing.assert_array_equal(image.levels[0].compute(), data)
    assert [(c.label, c.color) for c in image.channels] == [
        (f"stack [{i}]", "00FF00") for i in range(3)
    ]
