"""Label images share their image's chunk and shard grid; I/O failures are clean NgffErrors."""

from __future__ import annotations

import errno

import numpy as np
import pytest

import ngff
from ngff.store import open_store
from ngff.summary import array_layout


def _layout(location, path):
    return array_layout(open_store(location).node(path))


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_labels_inherit_the_image_chunks_and_shards(tmp_path, version):
    rng = np.random.default_rng(3)
    image = rng.integers(0, 500, (2, 24, 150, 170)).astype(np.uint16)
    loc = tmp_path / "img.ome.zarr"
    shards = {"y": 2, "x": 2} if version == "0.5" else None
    ngff.write(image, loc, dims="czyx", chunks={"z": 8, "y": 32, "x": 48}, shards=shards, version=version)
    labels = (image[0] > 250).astype(np.uint16)
    written = ngff.write_labels(loc, "cells", labels)
    np.testing.assert_array_equal(written.levels[0].compute(), labels)
    n_levels = len(ngff.read(loc).levels)
    assert len(written.levels) == n_levels
    for k in range(n_levels):
        img = _layout(loc, str(k))
        lab = _layout(loc, f"labels/cells/{k}")
        assert lab["chunks"] == img["chunks"][1:], (k, img, lab)  # the channel axis dropped
        if version == "0.5":
            assert lab["shards"] == img["shards"][1:], (k, img, lab)
        else:
            assert lab["shards"] is None
    assert ngff.validate(loc).ok


def test_explicit_label_layout_wins_over_the_image(tmp_path):
    image = np.zeros((16, 96, 96), np.uint8)
    loc = tmp_path / "img.ome.zarr"
    ngff.write(image, loc, chunks=32, shards=3)
    ngff.write_labels(loc, "a", np.ones((16, 96, 96), np.uint8), chunks=16, shards=None)
    assert _layout(loc, "labels/a/0")["chunks"] == [16, 16, 16]
    ngff.write_labels(loc, "b", np.ones((16, 96, 96), np.uint8), chunks=16, shards=2)
    assert _layout(loc, "labels/b/0")["shards"] == [16, 32, 32]


def test_disk_errors_become_store_errors_and_leave_nothing(tmp_path, monkeypatch):
    from ngff import shardwrite

    def full(self, chunk):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shardwrite.ShardWriter, "encode_chunk", full)
    dest = tmp_path / "out.ome.zarr"
    with pytest.raises(ngff.StoreError, match="No space left on device") as info:
        ngff.write(np.ones((8, 64, 64), np.uint16), dest, shards="auto")
    assert str(dest) in str(info.value)
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == []  # the temporary store is gone too


def test_float_images_with_nan_and_inf_get_finite_windows(tmp_path):
    data = np.linspace(-2.0, 5.0, 4 * 32 * 32, dtype=np.float32).reshape(4, 32, 32)
    data[0, :4, :4] = np.nan
    data[1, 5, 5] = np.inf
    data[2, 6, 6] = -np.inf
    dest = tmp_path / "nan.ome.zarr"
    image = ngff.write(data, dest)
    window = image.omero.channels[0].window
    assert np.isfinite([window.start, window.end]).all() and window.start < window.end
    back = image.levels[0].compute()
    np.testing.assert_array_equal(np.isnan(back), np.isnan(data))
    assert ngff.validate(dest).ok
    allnan = ngff.write(np.full((8, 8), np.nan, np.float32), tmp_path / "allnan.ome.zarr")
    assert (allnan.omero.channels[0].window.start, allnan.omero.channels[0].window.end) == (0.0, 1.0)
