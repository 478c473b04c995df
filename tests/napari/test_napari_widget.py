"""The export dock widget, driven through its child widgets (no clicking)."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from viewer_helpers import PLUGIN

import ngff
from napari_ngff import _options
from napari_ngff._options import ExportOptions, export_defaults, parse_chunks, parse_shards
from napari_ngff._widgets.export import ExportWidget


def _volume(viewer):
    data = (np.arange(8 * 64 * 64).reshape(8, 64, 64) % 1000).astype(np.uint16)
    return viewer.add_image(
        data, name="vol", scale=(2.0, 0.5, 0.5), units="micrometer", axis_labels=("z", "y", "x")
    )


def _wait(qtbot, widget, timeout=60_000):
    qtbot.waitUntil(lambda: not widget.running, timeout=timeout)


def test_dock_widget_from_manifest(viewer):
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Export to OME-Zarr")
    assert isinstance(widget, ExportWidget)


def test_export_writes_a_valid_store(viewer, qtbot, tmp_path, monkeypatch):
    infos = []
    monkeypatch.setattr("napari.utils.notifications.show_info", infos.append)
    layer = _volume(viewer)
    labels = viewer.add_labels(
        (np.asarray(layer.data) > 500).astype(np.uint8),
        name="mask",
        scale=(2.0, 0.5, 0.5),
        units="micrometer",
    )
    widget = ExportWidget(viewer, defaults=ExportOptions())
    assert widget.layers.value == [labels]  # the viewer's selection (the layer added last)
    widget.layers.value = [layer, labels]
    out = tmp_path / "export.ome.zarr"
    widget.destination.value = out
    widget.version.value = "0.4"
    assert not widget.shards.enabled  # Zarr v2 cannot shard
    widget.chunks.value = "4,32,32"
    widget.codec.value = "zstd"
    widget.codec_level.value = 3
    widget.method.value = "mean"
    widget.levels.value = 2
    worker = widget.export()
    assert worker is not None and widget.running
    assert not widget.export_button.enabled and widget.cancel_button.enabled
    _wait(qtbot, widget)
    assert widget.status.value == f"wrote {out}"
    assert infos and str(out) in infos[-1]
    report = ngff.validate(out)
    assert report.ok, report.problems
    image = ngff.read(out)
    assert image.version == "0.4"
    # two levels; z (spacing 2) is spared while y and x (0.5) are halved
    assert [lvl.shape for lvl in image.levels] == [(8, 64, 64), (8, 32, 32)]
    zarray = json.loads((out / "0" / ".zarray").read_text())
    assert zarray["chunks"] == [4, 32, 32]
    assert zarray["compressor"]["id"] == "zstd" and zarray["compressor"]["level"] == 3
    assert image.multiscale.type == "mean"
    assert list(image.labels) == ["mask"]
    assert widget.export_button.enabled and not widget.cancel_button.enabled


def test_export_sharded_05(viewer, qtbot, tmp_path):
    _volume(viewer)
    widget = ExportWidget(viewer, defaults=ExportOptions())
    out = tmp_path / "sharded"  # the suffix is added
    widget.destination.value = out
    widget.chunks.value = "16"
    widget.shards.value = "2"
    widget.export()
    _wait(qtbot, widget)
    final = tmp_path / "sharded.ome.zarr"
    assert ngff.validate(final).ok
    doc = json.loads((final / "0" / "zarr.json").read_text())
    assert doc["codecs"][0]["name"] == "sharding_indexed"
    assert doc["codecs"][0]["configuration"]["chunk_shape"] == [8, 16, 16]


def test_cancel_leaves_nothing(viewer, qtbot, tmp_path, monkeypatch):
    """Cancel while the writer is inside a progress callback: nothing stays on disk."""
    from napari_ngff._widgets import export as module

    gate = threading.Event()
    real = module.write_layers

    def gated(path, layer_data, *, progress, **kwargs):
        def slow(stage, done, total):
            gate.wait(30)
            progress(stage, done, total)

        return real(path, layer_data, progress=slow, **kwargs)

    monkeypatch.setattr(module, "write_layers", gated)
    infos = []
    monkeypatch.setattr("napari.utils.notifications.show_info", infos.append)
    _volume(viewer)
    widget = ExportWidget(viewer, defaults=ExportOptions(chunks=16))
    out = tmp_path / "cancelled.ome.zarr"
    widget.destination.value = out
    widget.export()
    widget.cancel_button.changed.emit(True)  # what a click does
    gate.set()
    _wait(qtbot, widget)
    assert widget.status.value == "cancelled: nothing was written"
    assert infos and "cancelled" in infos[-1]
    assert list(tmp_path.iterdir()) == []


def test_errors_are_shown_not_raised(viewer, qtbot, tmp_path, monkeypatch):
    errors = []
    monkeypatch.setattr("napari.utils.notifications.show_error", errors.append)
    _volume(viewer)
    widget = ExportWidget(viewer, defaults=ExportOptions())
    widget.destination.value = tmp_path / "bad.ome.zarr"
    widget.chunks.value = "zero"
    assert widget.export() is None
    assert "whole number" in errors[-1]
    widget.chunks.value = ""
    widget.codec.value = "gzip"
    widget.codec_level.value = 22  # gzip goes to 9
    widget.export()
    _wait(qtbot, widget)
    assert widget.status.value.startswith("failed:")
    assert "gzip level" in errors[-1]
    assert list(tmp_path.iterdir()) == []


def test_defaults_come_from_the_manifest_configuration(viewer):
    manifest = _options._manifest_defaults()
    assert manifest == {
        "version": "0.5",
        "chunks": "",
        "shards": "none",
        "codec": "blosc-zstd",
        "codec_level": -1,
        "method": "auto",
        "levels": 0,
    }
    widget = ExportWidget(viewer)
    assert (
        widget.export_options() == ExportOptions()
    )  # napari's settings start at the manifest's defaults


def test_defaults_follow_the_users_settings(monkeypatch):
    monkeypatch.setattr(
        _options,
        "_settings_values",
        lambda: {
            "version": "0.4",
            "chunks": "64",
            "shards": "auto",
            "codec": "zstd",
            "codec_level": 7,
            "method": "nearest",
            "levels": 3,
        },
    )
    options = export_defaults()
    assert options == ExportOptions(
        version="0.4",
        chunks=64,
        shards="auto",
        codec="zstd",
        codec_level=7,
        method="nearest",
        levels=3,
    )
    assert options.effective_shards is None  # 0.4 cannot shard
    assert options.codec_spec == "zstd:7"


def test_settings_failure_falls_back_to_the_manifest(monkeypatch):
    def broken():
        raise RuntimeError("no settings")

    monkeypatch.setattr(_options, "_settings_values", broken)
    assert export_defaults() == ExportOptions()


@pytest.mark.parametrize(
    "text, dims, expected",
    [
        ("", None, None),
        ("auto", None, None),
        ("128", None, 128),
        ("32,256,256", None, {"z": 32, "y": 256, "x": 256}),
        ("256,256", ("c", "z", "y", "x"), {"y": 256, "x": 256}),
        ("z=8, x=64", None, {"z": 8, "x": 64}),
        (" Planes ", None, "planes"),
    ],
)
def test_parse_chunks(text, dims, expected):
    assert parse_chunks(text, dims) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("none", None), ("", None), ("auto", "auto"), ("4", 4), ("y=2,x=2", {"y": 2, "x": 2})],
)
def test_parse_shards(text, expected):
    assert parse_shards(text) == expected


@pytest.mark.parametrize("bad", ["0", "-3", "x", "1,2,3,4"])
def test_parse_chunks_rejects(bad):
    with pytest.raises(ValueError):
        parse_chunks(bad)
