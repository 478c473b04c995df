"""The writer's region engine on a ``dask.distributed`` cluster.

The engine submits one dask task per region through the *active* scheduler, so with a
``distributed.Client`` the regions must run on the cluster's workers and give the same
store as the threaded scheduler: the same pixel values at every level and the same
metadata.  The cluster is in-process (``processes=False``) to stay light, but tasks
still go through the scheduler and are serialised like on a real cluster.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import dask
import numpy as np
import pytest

import ngff
import ngff.regions

distributed = pytest.importorskip("distributed")

#: Small regions so that a few-hundred-KiB image still makes a dozen tasks over two passes.
REGION_BYTES = 8 * 32 * 32 * 2


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,  # no port 8787: the machine is shared
        silence_logs=40,
    ) as cluster:
        yield cluster


@pytest.fixture
def small_regions(monkeypatch):
    monkeypatch.setattr(ngff.regions, "DEFAULT_REGION_BYTES", REGION_BYTES)


def _image(shape=(2, 12, 70, 90), dtype="uint16", seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 4000, size=shape) + np.indices(shape).sum(axis=0) * 7).astype(dtype)


def _ome_metadata(path: Path) -> Any:
    """The OME attributes of a store's root group (either Zarr format)."""
    v3 = path / "zarr.json"
    if v3.exists():
        return json.loads(v3.read_text())["attributes"]
    return json.loads((path / ".zattrs").read_text())


def _assert_same_store(a: Path, b: Path) -> None:
    ia, ib = ngff.read(a), ngff.read(b)
    assert len(ia.levels) == len(ib.levels) > 2
    for la, lb in zip(ia.levels, ib.levels):
        assert la.shape == lb.shape and la.dtype == lb.dtype
        np.testing.assert_array_equal(la.compute(scheduler="sync"), lb.compute(scheduler="sync"))
    assert _ome_metadata(a) == _ome_metadata(b)


def _run_on_cluster(cluster, write) -> tuple[list[dict[str, Any]], list[tuple[int, int]], set[str]]:
    """Run ``write(progress)`` with an active Client; return task stream, progress calls, workers."""
    calls: list[tuple[int, int]] = []
    with distributed.Client(cluster) as client:
        workers = set(client.scheduler_info()["workers"])
        with distributed.get_task_stream(client) as stream:
            write(lambda done, total: calls.append((done, total)))
    return stream.data, calls, workers


def _assert_ran_on_workers(
    stream: list[dict[str, Any]], calls: list[tuple[int, int]], workers: set[str]
) -> None:
    assert calls, "the progress callback was never called in the client process"
    total = calls[-1][1]
    assert calls[-1][0] == total and len(calls) == total
    assert len(stream) >= total >= 4, (len(stream), total)
    assert {task["worker"] for task in stream} <= workers
    assert all(task["status"] == "OK" for task in stream)


@pytest.mark.parametrize("version,shards", [("0.4", None), ("0.5", None), ("0.5", "auto")])
def test_distributed_equals_threaded(tmp_path, cluster, small_regions, version, shards) -> None:
    data = _image()
    options: dict[str, Any] = {
        "dims": "czyx",
        "scale": {"z": 2.0, "y": 0.5, "x": 0.5},
        "units": {"z": "micrometer", "y": "micrometer", "x": "micrometer"},
        "name": "dist",
        "channels": ["a", "b"],
        "version": version,
        "shards": shards,
        "chunks": 16,
    }
    with dask.config.set(scheduler="threads"):
        ngff.write(data, tmp_path / "threads.ome.zarr", **options)

    stream, calls, workers = _run_on_cluster(
        cluster,
        lambda progress: ngff.write(
            data, tmp_path / "cluster.ome.zarr", progress=progress, **options
        ),
    )
    _assert_ran_on_workers(stream, calls, workers)
    _assert_same_store(tmp_path / "threads.ome.zarr", tmp_path / "cluster.ome.zarr")
    np.testing.assert_array_equal(
        ngff.read(tmp_path / "cluster.ome.zarr").levels[0].compute(), data
    )


def test_distributed_labels(tmp_path, cluster, small_regions) -> None:
    image = _image((10, 64, 64))
    labels = (image // 1000).astype(np.uint8)
    for name in ("threads", "cluster"):
        with dask.config.set(scheduler="threads"):
            ngff.write(image, tmp_path / f"{name}.ome.zarr", chunks=16)
    with dask.config.set(scheduler="threads"):
        ngff.write_labels(tmp_path / "threads.ome.zarr", "seg", labels, chunks=16)
    stream, calls, workers = _run_on_cluster(
        cluster,
        lambda progress: ngff.write_labels(
            tmp_path / "cluster.ome.zarr", "seg", labels, chunks=16, progress=progress
        ),
    )
    _assert_ran_on_workers(stream, calls, workers)
    _assert_same_store(
        tmp_path / "threads.ome.zarr" / "labels" / "seg",
        tmp_path / "cluster.ome.zarr" / "labels" / "seg",
    )


@pytest.mark.parametrize("kind", ["npy", "tiff"])
def test_distributed_convert_reads_file_on_workers(tmp_path, cluster, small_regions, kind) -> None:
    """``convert`` hands the writer a file-backed source that pickles as its path."""
    from ngff.convert import convert

    data = _image((3, 9, 80, 75), dtype=">u2" if kind == "npy" else "uint16")  # z, c, y, x
    if kind == "npy":
        source = tmp_path / "input.npy"
        np.save(source, data)
    else:
        tifffile = pytest.importorskip("tifffile")
        source = tmp_path / "input.ome.tif"
        tifffile.imwrite(
            source,
            data,
            ome=True,
            photometric="minisblack",
            tile=(32, 32),
            metadata={"axes": "ZCYX"},
        )
    with dask.config.set(scheduler="threads"):
        convert(source, tmp_path / "threads.ome.zarr", dims="zcyx", chunks=16)
    stream, calls, workers = _run_on_cluster(
        cluster,
        lambda progress: convert(
            source, tmp_path / "cluster.ome.zarr", dims="zcyx", chunks=16, progress=progress
        ),
    )
    _assert_ran_on_workers(stream, calls, workers)
    _assert_same_store(tmp_path / "threads.ome.zarr", tmp_path / "cluster.ome.zarr")
    np.testing.assert_array_equal(
        ngff.read(tmp_path / "cluster.ome.zarr").levels[0].compute(), data.transpose(1, 0, 2, 3)
    )


def test_failed_distributed_write_leaves_nothing(tmp_path, cluster, small_regions) -> None:
    """Whatever goes wrong on the cluster, the destination is not created."""
    data = _image((8, 64, 64))
    with (
        distributed.Client(cluster),
        contextlib.suppress(TypeError),
    ):  # TypeError: the engine's pickling bug
        ngff.write(data, tmp_path / "x.ome.zarr", chunks=16)
    entries = [p.name for p in tmp_path.iterdir()]
    assert entries in ([], ["x.ome.zarr"]), entries
    if entries:
        np.testing.assert_array_equal(ngff.read(tmp_path / "x.ome.zarr").levels[0].compute(), data)
