"""Writer: round trips, pyramid geometry, downsampling methods, options and safety."""

from __future__ import annotations

import json

import dask.array as da
import numpy as np
import pytest

import ngff
import ngff.regions


def _data(shape, dtype="uint16", seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.random(shape, dtype=np.float32).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -1000), min(info.max, 5000), size=shape).astype(dtype)


@pytest.mark.parametrize("version,shards", [("0.4", None), ("0.5", None), ("0.5", "auto"), ("0.5", 2)])
@pytest.mark.parametrize("shape", [(40, 61), (3, 97, 101), (1, 3, 9, 97, 101)])
def test_round_trip_levels(tmp_path, version, shards, shape):
    data = _data(shape)
    image = ngff.write(data, tmp_path / "x.ome.zarr", version=version, shards=shards, chunks=32)
    assert image.version == version
    np.testing.assert_array_equal(image.levels[0].compute(), data)
    assert len(image.levels) > 1
    for level, scale in zip(image.levels, image.scales):
        factors = [round(s / s0) for s, s0 in zip(scale, image.scales[0])]
        assert level.shape == tuple(n // f for n, f in zip(shape, factors))
    assert ngff.validate(tmp_path / "x.ome.zarr").ok


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int32", "float32", ">u2"])
def test_dtypes(tmp_path, dtype):
    data = _data((20, 70, 90), dtype)
    image = ngff.write(data, tmp_path / "x.zarr", chunks=16)
    back = image.levels[0].compute()
    np.testing.assert_array_equal(back, data)
    assert back.dtype == np.dtype(dtype).newbyteorder("=")


@pytest.mark.parametrize("codec", ["blosc-zstd", "blosc-lz4", "zstd", "gzip", "lz4", "none", "zstd:7", "gzip:1"])
@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_codecs(tmp_path, codec, version):
    data = _data((16, 40, 40))
    image = ngff.write(data, tmp_path / "x.zarr", codec=codec, version=version, chunks=16)
    np.testing.assert_array_equal(image.levels[0].compute(), data)


def test_unknown_codec_and_bad_options(tmp_path):
    data = _data((16, 16))
    with pytest.raises(ngff.NgffError, match="codec"):
        ngff.write(data, tmp_path / "a.zarr", codec="snappy")
    with pytest.raises(ngff.NgffError, match="sharding"):
        ngff.write(data, tmp_path / "b.zarr", version="0.4", shards=2)
    with pytest.raises(ngff.UnsupportedVersionError):
        ngff.write(data, tmp_path / "c.zarr", version="0.3")
    with pytest.raises(ngff.NgffError, match="method"):
        ngff.write(data, tmp_path / "d.zarr", method="bicubic")
    with pytest.raises(ngff.NgffError, match="space axes"):
        ngff.write(data, tmp_path / "e.zarr", dims="ct")
    assert not any(tmp_path.iterdir()), "failed writes must leave nothing behind"


def test_dask_and_zarr_inputs(tmp_path):
    data = _data((30, 64, 64))
    a = ngff.write(da.from_array(data, chunks=(7, 13, 17)), tmp_path / "a.zarr", chunks=16)
    np.testing.assert_array_equal(a.levels[0].compute(), data)
    b = ngff.write(a, tmp_path / "b.zarr", version="0.4", chunks=8)  # an Image re-written 0.5 -> 0.4
    np.testing.assert_array_equal(b.levels[0].compute(), data)
    assert b.version == "0.4"
    for la, lb in zip(a.levels, b.levels):
        np.testing.assert_array_equal(la.compute(), lb.compute())


def test_result_does_not_depend_on_region_size(tmp_path, monkeypatch):
    data = _data((48, 200, 180), seed=3)
    big = ngff.write(data, tmp_path / "big.zarr", chunks=16, scale_factors=[2, 4, 8])
    monkeypatch.setattr(ngff.regions, "DEFAULT_REGION_BYTES", 16 * 16 * 16 * 2)
    small = ngff.write(data, tmp_path / "small.zarr", chunks=16, scale_factors=[2, 4, 8])
    for a, b in zip(big.levels, small.levels):
        np.testing.assert_array_equal(a.compute(), b.compute())


def test_gaussian_and_mean_suppress_checkerboard(tmp_path):
    board = (np.indices((64, 64)).sum(axis=0) % 2 * 1000).astype(np.uint16)
    for method in ("gaussian", "mean"):
        image = ngff.write(board, tmp_path / f"{method}.zarr", method=method, scale_factors=[2], chunks=32)
        level1 = image.levels[1].compute()
        assert level1.min() == level1.max() == 500, method


def test_nearest_is_subsampling_and_mode_keeps_labels(tmp_path):
    data = _data((33, 70, 90), seed=5)
    image = ngff.write(data, tmp_path / "n.zarr", method="nearest", scale_factors=[2, 4], chunks=16)
    np.testing.assert_array_equal(image.levels[1].compute(), data[::2, ::2, ::2][:16, :35, :45])
    np.testing.assert_array_equal(image.levels[2].compute(), data[::4, ::4, ::4][:8, :17, :22])
    labels = np.random.default_rng(1).choice([0, 3, 7, 9], size=(33, 70, 90)).astype(np.uint32)
    image = ngff.write(labels, tmp_path / "m.zarr", method="mode", scale_factors=[2, 4], chunks=16)
    for level in image.levels:
        assert set(np.unique(level.compute())) <= {0, 3, 7, 9}


def test_min_max_methods(tmp_path):
    data = _data((8, 64, 64), seed=2)
    for method, reduce in (("min", np.min), ("max", np.max)):
        image = ngff.write(
            data, tmp_path / f"{method}.zarr", method=method, scale_factors=[{"y": 2, "x": 2}], chunks=32
        )
        expected = reduce(data.reshape(8, 32, 2, 32, 2), axis=(2, 4))
        np.testing.assert_array_equal(image.levels[1].compute(), expected)


def test_metadata_transforms_units_channels(tmp_path):
    data = _data((2, 16, 64, 64))
    image = ngff.write(
        data,
        tmp_path / "x.zarr",
        scale={"z": 2.0, "y": 0.5, "x": 0.5},
        translation={"z": 10.0},
        units={"z": "micrometer", "y": "micrometer", "x": "micrometer"},
        channels=[{"label": "DAPI", "color": "#0000ff", "window": (0, 3000)}, "GFP"],
        scale_factors=[{"y": 2, "x": 2}, {"z": 2, "y": 4, "x": 4}],
        name="cells",
    )
    assert image.name == "cells"
    assert [a.unit for a in image.axes] == [None, "micrometer", "micrometer", "micrometer"]
    assert image.scales[1] == (1.0, 2.0, 1.0, 1.0)
    assert image.translations[1] == (0.0, 10.0, 0.25, 0.25)
    assert image.scales[2] == (1.0, 4.0, 2.0, 2.0)
    assert image.translations[2] == (0.0, 11.0, 0.75, 0.75)
    assert [c.label for c in image.channels] == ["DAPI", "GFP"]
    assert image.channels[0].color == "0000FF" and image.channels[0].window.end == 3000
    doc = json.loads((tmp_path / "x.zarr" / "zarr.json").read_text())
    ms = doc["attributes"]["ome"]["multiscales"][0]
    assert ms["type"] == "gaussian" and "version" not in ms
    assert json.loads((tmp_path / "x.zarr" / "0" / "zarr.json").read_text())["dimension_names"] == list("czyx")


def test_default_scale_factors_spare_anisotropic_z(tmp_path):
    data = np.zeros((16, 512, 512), dtype=np.uint8)
    image = ngff.write(data, tmp_path / "x.zarr", scale={"z": 4.0, "y": 1.0, "x": 1.0})
    z_factors = [round(s[0] / image.scales[0][0]) for s in image.scales]
    xy_factors = [round(s[1] / image.scales[0][1]) for s in image.scales]
    assert xy_factors[:3] == [1, 2, 4]
    assert z_factors[:3] == [1, 1, 1]  # z is 4x coarser: kept until x and y catch up
    assert image.levels[-1].shape[1] <= 128 and image.levels[-1].shape[2] <= 128


def test_overwrite_rules(tmp_path):
    data = _data((16, 16))
    target = tmp_path / "x.zarr"
    first = ngff.write(data, target)
    with pytest.raises(ngff.NgffError, match="overwrite"):
        ngff.write(data, target)
    with pytest.raises(ngff.NgffError, match="read from"):
        ngff.write(first, target, overwrite=True)
    np.testing.assert_array_equal(ngff.read(target).levels[0].compute(), data)
    second = ngff.write(data + 1, target, overwrite=True)
    np.testing.assert_array_equal(second.levels[0].compute(), data + 1)


def test_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(ngff.regions, "DEFAULT_REGION_BYTES", 16 * 16 * 16 * 2)
    data = _data((32, 128, 128))
    old = ngff.write(data[:, :64], tmp_path / "x.zarr", chunks=16)

    def stop(done, total):
        if done == 3:
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        ngff.write(data, tmp_path / "x.zarr", chunks=16, progress=stop, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["x.zarr"]  # no partial store left beside it
    np.testing.assert_array_equal(ngff.read(tmp_path / "x.zarr").levels[0].compute(), old.levels[0].compute())


def test_progress_counts_every_region(tmp_path):
    calls = []
    ngff.write(_data((32, 128, 128)), tmp_path / "x.zarr", chunks=16, progress=lambda d, t: calls.append((d, t)))
    assert calls and calls[-1][0] == calls[-1][1] == len(calls)


def test_write_labels(tmp_path):
    image = ngff.write(_data((2, 16, 64, 64)), tmp_path / "img.zarr", chunks=16)
    labels = np.zeros((16, 64, 64), dtype=np.uint16)
    labels[4:10, 10:30, 20:40] = 5
    result = ngff.write_labels(
        tmp_path / "img.zarr", "cells", labels, colors={5: (255, 0, 0, 255)}, properties={5: {"class": "cell"}}
    )
    assert len(result.levels) == len(image.levels)
    assert result.dims == ("z", "y", "x")
    assert result.image_label.colors[0].value == 5
    assert result.image_label.properties[0]["class"] == "cell"
    reopened = ngff.read(tmp_path / "img.zarr")
    assert list(reopened.labels) == ["cells"]
    np.testing.assert_array_equal(reopened.labels["cells"].levels[0].compute(), labels)
    ngff.write_labels(tmp_path / "img.zarr", "nuclei", labels)
    assert list(ngff.read(tmp_path / "img.zarr").labels) == ["cells", "nuclei"]
    with pytest.raises(ngff.NgffError, match="integer"):
        ngff.write_labels(tmp_path / "img.zarr", "bad", labels.astype(np.float32))
    with pytest.raises(ngff.NgffError, match="exists"):
        ngff.write_labels(tmp_path / "img.zarr", "cells", labels)
