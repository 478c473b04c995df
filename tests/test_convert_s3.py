"""``s3://`` outputs through fsspec, against a local S3 server (moto)."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

import ngff

pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def s3(monkeypatch):
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for key, value in {
        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint,
    }.items():
        monkeypatch.setenv(key, value)
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint})
    if not fs.exists("bucket"):  # moto keeps its buckets per process, across servers
        fs.mkdir("bucket")
    for key in fs.ls("bucket"):
        fs.rm(key, recursive=True)
    yield fs
    s3fs.S3FileSystem.clear_instance_cache()
    server.stop()


def test_convert_to_s3(tmp_path: Path, s3, monkeypatch) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    monkeypatch.setenv("NGFF_STAGING_DIR", str(staging))
    data = np.random.default_rng(0).integers(0, 999, (3, 40, 50)).astype("uint16")
    np.save(tmp_path / "in.npy", data)
    image = ngff.convert(tmp_path / "in.npy", "s3://bucket/a.ome.zarr", chunks=16, shards="auto")
    assert image.location == "s3://bucket/a.ome.zarr"
    np.testing.assert_array_equal(image.levels[0].compute(), data)
    assert s3.exists("bucket/a.ome.zarr/zarr.json") and s3.exists("bucket/a.ome.zarr/0/zarr.json")
    assert ngff.validate("s3://bucket/a.ome.zarr").ok
    with pytest.raises(ngff.StoreError, match="destination exists"):
        ngff.convert(tmp_path / "in.npy", "s3://bucket/a.ome.zarr")
    # overwrite with another layout: the old store's objects are gone
    image = ngff.convert(tmp_path / "in.npy", "s3://bucket/a.ome.zarr", version="0.4", levels=1, overwrite=True)
    keys = {k.split("a.ome.zarr/", 1)[1] for k in s3.find("bucket/a.ome.zarr")}
    assert "zarr.json" not in keys and ".zattrs" in keys and not any(k.startswith("1/") for k in keys)
    np.testing.assert_array_equal(ngff.read("s3://bucket/a.ome.zarr").levels[0].compute(), data)
    assert list(staging.iterdir()) == []  # the local staging copies are removed


def test_unknown_protocol_is_a_clear_error(tmp_path: Path) -> None:
    np.save(tmp_path / "in.npy", np.zeros((8, 8), "uint8"))
    with pytest.raises(ngff.NgffError, match="nosuchproto"):
        ngff.convert(tmp_path / "in.npy", "nosuchproto://bucket/x.zarr")


def test_cli_convert_to_s3(tmp_path: Path, s3) -> None:
    from typer.testing import CliRunner

    from ngff.cli import app

    data = np.arange(30 * 40, dtype="uint16").reshape(30, 40)
    np.save(tmp_path / "in.npy", data)
    result = CliRunner().invoke(app, ["convert", str(tmp_path / "in.npy"), "s3://bucket/cli.ome.zarr", "--chunks", "16"])
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(ngff.read("s3://bucket/cli.ome.zarr").levels[0].compute(), data)
    result = CliRunner().invoke(app, ["convert", str(tmp_path / "in.npy"), "s3://bucket/cli.ome.zarr"])
    assert result.exit_code == 2 and "destination exists" in result.output
