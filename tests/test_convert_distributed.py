"""Conversion on a ``dask.distributed`` LocalCluster gives the same store as threaded.

Worker *processes* (not threads): each region task unpickles the file source and the
level arrays and opens the file itself, as on a real cluster.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

import ngff
import ngff.regions
from ngff.cli import app

distributed = pytest.importorskip("distributed")
tifffile = pytest.importorskip("tifffile")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as cluster:
        yield cluster


@pytest.fixture
def small_regions(monkeypatch):
    # Regions are planned in the client: many small tasks for a small file.
    monkeypatch.setattr(ngff.regions, "DEFAULT_REGION_BYTES", 16 * 32 * 32 * 2)


def _data(shape, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 3000, size=shape) + np.indices(shape).sum(axis=0)).astype("uint16")


def _attrs(path: Path) -> Any:
    v3 = path / "zarr.json"
    return json.loads(v3.read_text())["attributes"] if v3.exists() else json.loads((path / ".zattrs").read_text())


def _same(a: Path, b: Path) -> None:
    ia, ib = ngff.read(a), ngff.read(b)
    assert len(ia.levels) == len(ib.levels) >= 2
    for la, lb in zip(ia.levels, ib.levels):
        np.testing.assert_array_equal(la.compute(scheduler="sync"), lb.compute(scheduler="sync"))
    assert _attrs(a) == _attrs(b)


def _on_cluster(cluster, run) -> set[str]:
    """Run ``run()`` with an active Client; the workers that ran tasks."""
    with distributed.Client(cluster) as client, distributed.get_task_stream(client) as stream:
        run()
    assert stream.data and all(task["status"] == "OK" for task in stream.data)
    return {task["worker"] for task in stream.data}


@pytest.mark.parametrize("version,shards,backend", [("0.5", "auto", "zarr"), ("0.4", None, "zarr"), ("0.5", "auto", "tensorstore")])
def test_ome_tiff_on_cluster_equals_threaded(tmp_path, cluster, small_regions, version, shards, backend) -> None:
    if backend == "tensorstore":
        pytest.importorskip("tensorstore")
    data = _data((2, 6, 96, 120))
    tifffile.imwrite(
        tmp_path / "in.ome.tif", data, ome=True, tile=(32, 32), compression="zlib", photometric="minisblack",
        metadata={"axes": "CZYX", "PhysicalSizeX": 0.3, "PhysicalSizeY": 0.3, "Channel": {"Name": ["a", "b"]}},
    )
    options = {"version": version, "shards": shards, "chunks": 32, "backend": backend}
    ngff.convert(tmp_path / "in.ome.tif", tmp_path / "threaded.zarr", **options)
    workers = _on_cluster(cluster, lambda: ngff.convert(tmp_path / "in.ome.tif", tmp_path / "cluster.zarr", **options))
    assert len(workers) >= 1
    _same(tmp_path / "threaded.zarr", tmp_path / "cluster.zarr")
    np.testing.assert_array_equal(ngff.read(tmp_path / "cluster.zarr").levels[0].compute(), data)


def test_stored_pyramid_and_glob_on_cluster(tmp_path, cluster, small_regions) -> None:
    data = _data((2, 128, 160))
    with tifffile.TiffWriter(tmp_path / "p.ome.tif") as tif:
        tif.write(data, subifds=1, tile=(32, 32), photometric="minisblack", metadata={"axes": "CYX"})
        tif.write(data[:, ::2, ::2], subfiletype=1, tile=(32, 32), photometric="minisblack")
    ngff.convert(tmp_path / "p.ome.tif", tmp_path / "pt.zarr", shards="auto", chunks=32)
    _on_cluster(cluster, lambda: ngff.convert(tmp_path / "p.ome.tif", tmp_path / "pc.zarr", shards="auto", chunks=32))
    _same(tmp_path / "pt.zarr", tmp_path / "pc.zarr")
    np.testing.assert_array_equal(ngff.read(tmp_path / "pc.zarr").levels[1].compute(), data[:, ::2, ::2])
    for z in range(5):
        tifffile.imwrite(tmp_path / f"plane{z}.tif", data[0, z * 20 : z * 20 + 40])
    pattern = str(tmp_path / "plane*.tif")
    ngff.convert(pattern, tmp_path / "gt.zarr", chunks=16)
    _on_cluster(cluster, lambda: ngff.convert(pattern, tmp_path / "gc.zarr", chunks=16))
    _same(tmp_path / "gt.zarr", tmp_path / "gc.zarr")


def test_cli_workers_and_scheduler(tmp_path, cluster) -> None:
    data = _data((4, 64, 80))
    tifffile.imwrite(tmp_path / "s.tif", data, photometric="minisblack")
    runner = CliRunner()
    result = runner.invoke(app, ["convert", str(tmp_path / "s.tif"), str(tmp_path / "t.zarr"), "--chunks", "16"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["convert", str(tmp_path / "s.tif"), str(tmp_path / "w.zarr"), "--chunks", "16", "--workers", "1"])
    assert result.exit_code == 0, result.output
    _same(tmp_path / "t.zarr", tmp_path / "w.zarr")
    result = runner.invoke(
        app, ["convert", str(tmp_path / "s.tif"), str(tmp_path / "c.zarr"), "--chunks", "16", "--scheduler", cluster.scheduler_address]
    )
    assert result.exit_code == 0, result.output
    _same(tmp_path / "t.zarr", tmp_path / "c.zarr")
    result = runner.invoke(app, ["convert", str(tmp_path / "s.tif"), str(tmp_path / "x.zarr"), "--workers", "0"])
    assert result.exit_code == 2 and "--workers 0" in result.output
    assert not (tmp_path / "x.zarr").exists()
