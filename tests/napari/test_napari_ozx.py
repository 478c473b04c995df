"""napari and RFC-9 ``.ozx``: opening archives and URLs, saving to ``.ozx``.

An ``.ozx`` (local, or over a loopback HTTP server) must give the same layers as the
directory store it was packed from — names, kinds, scales, colours, pixels — and what
napari renders must be the same picture; saving layers to ``x.ozx`` writes an RFC-9
archive that reads back to the same image.
"""

from __future__ import annotations

import numpy as np
import pytest
from viewer_helpers import PLUGIN, canvas, data_fraction

import ngff
import ngff.ozx
from http_range_server import RangeServer
from napari_ngff._options import ExportOptions


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    folder = tmp_path_factory.mktemp("napari-ozx")
    c, z, y, x = np.indices((2, 8, 96, 96))
    data = ((y * 20 + x * 5 + z) * (c + 1) % 3000).astype("uint16")
    directory = folder / "cells.ome.zarr"
    ngff.write(data, directory, dims="czyx", channels=["DAPI", "GFP"], chunks=32, shards=2)
    labels = np.zeros((8, 96, 96), "uint8")
    labels[:, 20:60, 30:70] = 3
    ngff.write_labels(directory, "nuclei", labels, colors={3: (255, 0, 0, 255)})
    ngff.ozx.pack(directory, folder / "cells.ozx")
    return {"dir": directory, "ozx": folder / "cells.ozx", "folder": folder, "data": data}


def _layers(viewer, location):
    viewer.layers.clear()
    viewer.open(str(location), plugin=PLUGIN)
    return [
        (type(layer).__name__, layer.name, tuple(layer.scale), np.asarray(layer.data[-1] if layer.multiscale else layer.data))
        for layer in viewer.layers
    ]


def _same_layers(a, b):
    assert [(kind, name, scale) for kind, name, scale, _ in a] == [(kind, name, scale) for kind, name, scale, _ in b]
    for (_, _, _, x), (_, _, _, y) in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_ozx_opens_like_the_directory(viewer, stores):
    directory = _layers(viewer, stores["dir"])
    shot_dir = canvas(viewer)
    archive = _layers(viewer, stores["ozx"])
    shot_ozx = canvas(viewer)
    _same_layers(directory, archive)
    assert [kind for kind, *_ in archive] == ["Image", "Image", "Labels"]
    assert [name for _, name, *_ in archive][:2] == ["DAPI", "GFP"]
    assert data_fraction(shot_ozx, shot_ozx[1, 1]) > 0.05  # something is drawn
    assert np.abs(shot_ozx - shot_dir).max() <= 2  # and it is the same picture


def test_url_opens_like_the_directory(viewer, stores):
    directory = _layers(viewer, stores["dir"])
    with RangeServer(stores["folder"]) as server:
        from napari_ngff._reader import get_reader

        assert get_reader(server.url("cells.ozx")) is not None
        assert get_reader(server.url("nothing.ozx")) is None
        remote = _layers(viewer, server.url("cells.ozx"))
        remote_dir = _layers(viewer, server.url("cells.ome.zarr"))
        shot = canvas(viewer)
    _same_layers(directory, remote)
    _same_layers(directory, remote_dir)
    assert data_fraction(shot, shot[1, 1]) > 0.05


def test_save_to_ozx(viewer, stores, tmp_path, monkeypatch):
    monkeypatch.setattr("napari_ngff._writer.export_defaults", lambda: ExportOptions(version="0.5"))
    _layers(viewer, stores["dir"])
    out = tmp_path / "saved.ozx"
    written = viewer.layers.save(str(out), plugin=PLUGIN)
    assert written == [str(out)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved.ozx"]  # no staging left
    archive = ngff.ozx.open_archive(out)
    assert archive.problems == [] and archive.json_first and archive.order[0] == "zarr.json"
    saved, source = ngff.read(out), ngff.read(stores["dir"])
    np.testing.assert_array_equal(saved.levels[0].compute(), source.levels[0].compute())
    assert [c.label for c in saved.channels] == ["DAPI", "GFP"]
    np.testing.assert_array_equal(saved.labels["nuclei"].levels[0].compute(), source.labels["nuclei"].levels[0].compute())
    from ngff.summary import array_layout

    layout = array_layout(ngff.ozx.open_store(out).node(saved.level_paths[0]))  # the archives' "planes" default
    height, width = saved.levels[0].shape[-2:]
    assert layout["shards"][-3] == layout["chunks"][-3], layout  # one chunk deep
    assert layout["shards"][-2] >= height and layout["shards"][-1] >= width, layout  # a whole plane
    monkeypatch.setattr("napari_ngff._writer.export_defaults", lambda: ExportOptions(version="0.4"))
    with pytest.raises(Exception, match="0.5"):  # RFC-9 archives hold 0.5 only
        viewer.layers.save(str(tmp_path / "old.ozx"), plugin=PLUGIN)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved.ozx"]
