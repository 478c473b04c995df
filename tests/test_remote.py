"""Remote stores over a loopback HTTP server with Range support (started and stopped here).

The server (``tests/http_range_server.py``) counts requests, so the tests assert how
many a read needs: opening a sharded ``.ozx`` and reading one plane takes a handful;
metadata is fetched once; pixels come by byte ranges.  Injected 503s are retried; 404s,
timeouts and persistent failures are a clear :class:`~ngff.errors.StoreError`.
"""

from __future__ import annotations

import numpy as np
import pytest

import ngff
import ngff.ozx
import ngff.remote
from http_range_server import RangeServer
from ngff.errors import NgffError, StoreError


def _volume() -> np.ndarray:
    rng = np.random.default_rng(3)
    z, y, x = np.indices((16, 128, 128))
    return ((z * 7 + y * 3 + x) % 4000 + rng.integers(0, 30, size=z.shape)).astype("uint16")


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A sharded pyramid (plane-friendly layout) as a directory and as .ozx, served over HTTP."""
    folder = tmp_path_factory.mktemp("served")
    data = _volume()
    ngff.write(data, folder / "image.ome.zarr", chunks={"z": 4, "y": 32, "x": 32}, shards={"z": 1, "y": 4, "x": 4}, scale_factors=[2])
    ngff.write_labels(folder / "image.ome.zarr", "cells", (data > 2000).astype("uint8"))
    ngff.ozx.pack(folder / "image.ome.zarr", folder / "image.ozx")
    with RangeServer(folder) as server:
        yield {"data": data, "server": server, "folder": folder}


@pytest.fixture
def server(published):
    server = published["server"]
    server.reset()
    server.fail.clear()
    server.delay = 0.0
    yield server
    server.fail.clear()
    server.delay = 0.0


@pytest.fixture
def quick_settings(monkeypatch):
    """Short timeouts and backoff so that failure tests stay fast."""
    monkeypatch.setattr(ngff.remote.settings, "timeout", 0.5)
    monkeypatch.setattr(ngff.remote.settings, "backoff", 0.01)
    monkeypatch.setattr(ngff.remote.settings, "retries", 2)
    return ngff.remote.settings


def test_remote_ozx_open_and_plane_in_a_handful_of_requests(published, server):
    image = ngff.read(server.url("image.ozx"))  # default settings: 256 KiB tail, 1 MiB blocks
    opened = server.count
    assert opened <= 2, server.log  # end of file (central directory), then every zarr.json at once
    assert all(r is not None for _, r in server.log), "no whole-archive download"
    plane = image.levels[0][7].compute()
    np.testing.assert_array_equal(plane, published["data"][7])
    assert server.count <= 10, server.log
    assert server.count - opened <= 3, server.log  # shard index + one read-ahead span of the shard


def test_default_ozx_layout_a_plane_per_level_in_a_few_requests(tmp_path):
    """``ngff.write(data, "x.ozx")`` with no layout options: a plane of any level costs an
    index read and one or two ranged reads, where cubic shards cost two per shard crossed."""
    data = np.random.default_rng(8).integers(0, 4000, (32, 512, 512), dtype=np.uint16)  # barely compressible
    ngff.write(data, tmp_path / "default.ozx")
    ngff.ozx.pack(ngff.write(data, tmp_path / "cubes.ome.zarr", chunks=64, shards=2).location, tmp_path / "cubes.ozx")
    counts = {}
    with RangeServer(tmp_path) as server:
        for name in ("default.ozx", "cubes.ozx"):
            server.reset()
            image = ngff.read(server.url(name))
            opened = server.count
            assert opened <= 2, server.log
            per_level = []
            for level in image.levels[:3]:
                before = server.count
                middle = level.shape[0] // 2
                factor = data.shape[0] // level.shape[0]
                plane = level[middle].compute()
                assert plane.shape == level.shape[1:]
                if factor == 1:
                    np.testing.assert_array_equal(plane, data[middle])
                per_level.append(server.count - before)
            counts[name] = (opened, per_level)
    opened, per_level = counts["default.ozx"]
    assert all(n <= 3 for n in per_level), counts  # shard index + the plane's chunks
    assert opened + per_level[0] <= 5, counts
    assert sum(counts["cubes.ozx"][1]) > sum(per_level), counts


def test_remote_plane_reads_a_fraction_of_the_archive(published, server, monkeypatch):
    for name, value in (("block_size", 4096), ("readahead", 16384), ("tail_bytes", 8192)):
        monkeypatch.setattr(ngff.remote.settings, name, value)
    image = ngff.read(server.url("image.ozx"))
    server.reset()
    np.testing.assert_array_equal(image.levels[0][6].compute(), published["data"][6])
    size = (published["folder"] / "image.ozx").stat().st_size
    assert sum(_span(r) for _, r in server.log) < size / 2, server.log


def _span(header: str | None) -> int:
    first, last = header.removeprefix("bytes=").split("-")
    return int(last) - int(first) + 1 if first and last else int(last or 0)


def test_remote_ozx_full_pyramid_and_labels(published, server):
    image = ngff.read(server.url("image.ozx"))
    local = ngff.read(published["folder"] / "image.ozx")
    for ours, theirs in zip(image.levels, local.levels):
        np.testing.assert_array_equal(ours.compute(), theirs.compute())
    np.testing.assert_array_equal(image.labels["cells"].levels[0].compute(), published["data"] > 2000)


def test_remote_directory_metadata_once_and_ranged_pixels(published, server):
    image = ngff.read(server.url("image.ome.zarr"))
    metadata = [path for path, _ in server.log]
    assert len(metadata) == len(set(metadata)), f"a metadata document was fetched twice: {metadata}"
    server.reset()
    np.testing.assert_array_equal(image.levels[0][3].compute(), published["data"][3])
    assert server.log and all(r is not None for _, r in server.log), server.log  # byte ranges only
    assert server.count <= 4, server.log


def test_injected_503s_are_retried(published, server, quick_settings):
    server.fail["image.ozx"] = [503, 503]
    image = ngff.read(server.url("image.ozx"))
    assert [p for p, _ in server.log[:3]] == ["image.ozx"] * 3  # two failures, then the answer
    shard = "image.ome.zarr/0/c/1/0/0"  # planes 4..7
    server.fail[shard] = [503]
    direct = ngff.read(server.url("image.ome.zarr"))
    np.testing.assert_array_equal(direct.levels[0][5].compute(), published["data"][5])
    assert sum(1 for p, _ in server.log if p == shard) >= 2
    np.testing.assert_array_equal(image.levels[0][5].compute(), published["data"][5])


def test_persistent_failure_is_a_store_error(published, server, quick_settings):
    image = ngff.read(server.url("image.ome.zarr"))
    server.fail["image.ome.zarr/0/c/2/0/0"] = [500] * 10
    with pytest.raises(StoreError) as info:
        image.levels[0][9].compute()
    assert "HTTP 500" in str(info.value) and "attempts" in str(info.value)


def test_404_is_a_clear_error(server, quick_settings):
    for name in ("missing.ozx", "missing.ome.zarr"):
        with pytest.raises(StoreError) as info:
            ngff.read(server.url(name))
        assert "404" in str(info.value) and server.url(name) in str(info.value)
    asked = [p for p, _ in server.log if p.startswith("missing")]
    assert len(asked) <= 4, asked  # not retried: a 404 is permanent


def test_timeout_is_a_clear_error(server, quick_settings):
    server.delay = 1.0
    with pytest.raises(StoreError, match="timed out.*attempts"):
        ngff.read(server.url("image.ozx"))


def test_connection_refused_is_immediate():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(StoreError, match="cannot connect"):
        ngff.read(f"http://127.0.0.1:{port}/image.ozx")


def test_server_without_range_support(published, tmp_path):
    with RangeServer(published["folder"], ranges=False) as plain:
        image = ngff.read(plain.url("image.ozx"))
        np.testing.assert_array_equal(image.levels[0][2].compute(), published["data"][2])
        np.testing.assert_array_equal(image.levels[0].compute(), published["data"])
        assert plain.count == 1, plain.log  # downloaded once, then sliced here


def test_fsspec_memory_ozx(published):
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    fs.pipe("/ngff-remote-test/image.ozx", (published["folder"] / "image.ozx").read_bytes())
    try:
        image = ngff.read("memory://ngff-remote-test/image.ozx")
        np.testing.assert_array_equal(image.levels[0].compute(), published["data"])
    finally:
        fs.rm("/ngff-remote-test", recursive=True)
    with pytest.raises(NgffError, match="no such archive"):
        ngff.read("memory://ngff-remote-test/none.ozx")


def test_block_cache_fetches_each_block_once():
    """Concurrent readers of the same range share one request."""
    import threading

    calls = []

    class Client(ngff.remote.HttpClient):
        def get(self, url, *, start=None, end=None, suffix=None, missing_ok=False):
            calls.append((start, end))
            threading.Event().wait(0.05)
            body = bytes(range(256)) * 40
            return body[start:end], len(body)

    client = Client(ngff.remote.Settings(block_size=1024, readahead=0))
    reader = ngff.remote.RangeReader("http://x/y", client, ngff.remote.BlockCache(1024, 1 << 20), size=10240)
    results = []
    threads = [threading.Thread(target=lambda: results.append(reader.read(100, 3000))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == (bytes(range(256)) * 40)[100:3000] for r in results) and len(results) == 4
    fetched = sorted(calls)
    assert fetched == [(0, 3072)], fetched


def test_remote_v04_directory(tmp_path):
    data = _volume()[:8]
    ngff.write(data, tmp_path / "old.ome.zarr", version="0.4", chunks=32)
    with RangeServer(tmp_path) as server:
        image = ngff.read(server.url("old.ome.zarr"))
        assert image.version == "0.4"
        np.testing.assert_array_equal(image.levels[0].compute(), data)
        metadata = [p for p, r in server.log if r is None and p.rsplit("/", 1)[-1].startswith((".z", "zarr.json"))]
        assert len(metadata) == len(set(metadata)), metadata


def test_connections_are_kept_alive(published, server):
    image = ngff.read(server.url("image.ome.zarr"))
    image.levels[0].compute()
    image.labels["cells"].levels[0].compute()
    assert server.count >= 12, server.log
    assert len(set(server.peers)) <= server.count // 2, "a new connection for almost every request"
