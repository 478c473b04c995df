"""``ngff.write(..., backend="tensorstore")``: the same stores as the default backend.

Identical pixels at every level, identical OME metadata, and array metadata equal once
the defaults each library leaves implicit are filled in; clear errors for what
tensorstore cannot write, with nothing left on disk.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ngff

pytest.importorskip("tensorstore")


def _data(shape=(2, 24, 70, 90), dtype="uint16") -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.integers(0, 3000, size=shape).astype(dtype)


def _normalised(doc: dict[str, Any]) -> dict[str, Any]:
    """Array metadata with the defaults zarr-python writes and tensorstore omits (or the reverse)."""
    doc = json.loads(json.dumps(doc))
    if doc.get("zarr_format") == 3:
        if doc.get("attributes") == {}:
            del doc["attributes"]
        if doc.get("storage_transformers") == []:
            del doc["storage_transformers"]
        cke = doc.get("chunk_key_encoding", {})
        if cke.get("name") == "default":
            cke.setdefault("configuration", {}).setdefault("separator", "/")

        def codecs(items: list[dict[str, Any]]) -> None:
            for codec in items:
                config = codec.get("configuration", {})
                if codec["name"] == "sharding_indexed":
                    config.setdefault("index_location", "end")
                    codecs(config["codecs"])
                    codecs(config["index_codecs"])
                if codec["name"] == "blosc" and config.get("shuffle") == "noshuffle":
                    config.pop("typesize", None)  # meaningless without shuffling

        codecs(doc.get("codecs", []))
    return doc


def _array_docs(root: Path, version: str, levels: int) -> list[dict[str, Any]]:
    name = "zarr.json" if version == "0.5" else ".zarray"
    return [_normalised(json.loads((root / str(k) / name).read_text())) for k in range(levels)]


def _group_doc(root: Path, version: str) -> dict[str, Any]:
    doc = json.loads((root / ("zarr.json" if version == "0.5" else ".zattrs")).read_text())
    return doc


@pytest.mark.parametrize(
    "version,shards,codec",
    [
        ("0.5", "auto", "blosc-zstd"),
        ("0.5", 2, "zstd:5"),
        ("0.5", None, "gzip"),
        ("0.5", "auto", "lz4"),
        ("0.5", None, "none"),
        ("0.4", None, "blosc-lz4"),
        ("0.4", None, "zstd"),
        ("0.4", None, "gzip:1"),
    ],
)
def test_same_store_as_the_default_backend(tmp_path: Path, version: str, shards: Any, codec: str) -> None:
    data = _data()
    options = {"version": version, "shards": shards, "codec": codec, "chunks": 16, "channels": ["a", "b"], "scale": {"y": 0.5, "x": 0.5}, "name": "img"}
    ours = ngff.write(data, tmp_path / "zarr.ome.zarr", **options)
    ts = ngff.write(data, tmp_path / "ts.ome.zarr", backend="tensorstore", **options)
    assert len(ts.levels) == len(ours.levels) > 1
    for a, b in zip(ours.levels, ts.levels):
        np.testing.assert_array_equal(a.compute(), b.compute())
    assert _array_docs(tmp_path / "zarr.ome.zarr", version, len(ours.levels)) == _array_docs(
        tmp_path / "ts.ome.zarr", version, len(ts.levels)
    )
    assert _group_doc(tmp_path / "zarr.ome.zarr", version) == _group_doc(tmp_path / "ts.ome.zarr", version)
    report = ngff.validate(tmp_path / "ts.ome.zarr")
    assert report.ok, report.problems


def test_other_dtypes_and_labels_image(tmp_path: Path) -> None:
    for dtype in ("uint8", "int32", "float32"):
        data = _data((40, 50), "uint8").astype(dtype)
        ours = ngff.write(data, tmp_path / f"a{dtype}.zarr", shards="auto", chunks=16)
        ts = ngff.write(data, tmp_path / f"b{dtype}.zarr", shards="auto", chunks=16, backend="tensorstore")
        for a, b in zip(ours.levels, ts.levels):
            np.testing.assert_array_equal(a.compute(), b.compute())
        assert ts.dtype == np.dtype(dtype)


@pytest.mark.parametrize(
    "options,needle",
    [
        ({"version": "0.4", "codec": "lz4"}, "cannot write codec 'lz4' to Zarr v2"),
        ({"codec": "codec-object"}, "takes codec names"),
        ({"backend": "nosuch"}, "unknown backend 'nosuch'"),
    ],
)
def test_unsupported_combinations(tmp_path: Path, options: dict[str, Any], needle: str) -> None:
    if options.get("codec") == "codec-object":
        from zarr.codecs import ZstdCodec

        options = {"codec": ZstdCodec(level=1)}
    options.setdefault("backend", "tensorstore")
    with pytest.raises(ngff.NgffError, match=needle):
        ngff.write(_data((20, 20)), tmp_path / "x.ome.zarr", **options)
    assert list(tmp_path.iterdir()) == []  # nothing left, not even the staging directory


def test_convert_with_tensorstore(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ngff.cli import app

    data = _data((3, 30, 40))
    np.save(tmp_path / "in.npy", data)
    result = CliRunner().invoke(app, ["convert", str(tmp_path / "in.npy"), str(tmp_path / "o.zarr"), "--backend", "tensorstore", "--shards", "auto", "--chunks", "16"])
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(ngff.read(tmp_path / "o.zarr").levels[0].compute(), data)


def test_tensorstore_array_pickles_as_its_spec(tmp_path: Path) -> None:
    import pickle

    from ngff.backends.tensorstore import TensorStoreArray

    image = ngff.write(_data((30, 40)), tmp_path / "p.zarr", chunks=16, backend="tensorstore")
    spec = {"driver": "zarr3", "kvstore": {"driver": "file", "path": str(tmp_path / "p.zarr" / "0")}}
    array = TensorStoreArray(spec, (30, 40), np.dtype("uint16"))
    blob = pickle.dumps(array)
    assert len(blob) < 1000
    again = pickle.loads(blob)
    np.testing.assert_array_equal(again[2:5, 3:9], image.levels[0][2:5, 3:9].compute())
    again[0:16, 0:16] = np.ones((16, 16), "uint16")
    assert int(ngff.read(tmp_path / "p.zarr").levels[0][:16, :16].sum().compute()) == 256
