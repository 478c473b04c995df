"""Tests of :mod:`ngff.summary`: the JSON description behind ``ngff info``."""

from __future__ import annotations

import dataclasses
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

import ngff
from ngff.errors import StoreError
from ngff.model import Axis
from ngff.summary import SUMMARY_KEYS, codec_label, orientation_code, summarize


@pytest.fixture(scope="module")
def fixtures(conformance_dir: Path) -> Path:
    """Third-party stores of the shared conformance folder (``conformance_dir``: conftest.py)."""
    return conformance_dir / "fixtures"


# --------------------------------------------------------------------------- a sharded v3 image


def write_sharded_image(root: Path) -> Path:
    """A 0.5 image with two sharded levels (inner chunks 1×8×8, shards 2×16×16, zstd 3)."""
    import numpy as np
    import zarr
    from zarr.codecs import ZstdCodec

    group = zarr.open_group(root, mode="w", zarr_format=3)
    group.attrs["ome"] = {
        "version": "0.5",
        "multiscales": [
            {
                "name": "sharded",
                "axes": [
                    {
                        "name": "z",
                        "type": "space",
                        "unit": "micrometer",
                        "orientation": {"type": "anatomical", "value": "inferior-to-superior"},
                    },
                    {
                        "name": "y",
                        "type": "space",
                        "unit": "micrometer",
                        "orientation": {"type": "anatomical", "value": "posterior-to-anterior"},
                    },
                    {
                        "name": "x",
                        "type": "space",
                        "unit": "micrometer",
                        "orientation": {"type": "anatomical", "value": "left-to-right"},
                    },
                ],
                "datasets": [
                    {
                        "path": "s0",
                        "coordinateTransformations": [{"type": "scale", "scale": [2.0, 0.5, 0.5]}],
                    },
                    {
                        "path": "s1",
                        "coordinateTransformations": [
                            {"type": "scale", "scale": [2.0, 1.0, 1.0]},
                            {"type": "translation", "translation": [0.0, 0.25, 0.25]},
                        ],
                    },
                ],
            }
        ],
    }
    for name, shape in (("s0", (4, 32, 32)), ("s1", (4, 16, 16))):
        array = group.create_array(
            name,
            shape=shape,
            dtype="uint16",
            chunks=(1, 8, 8),
            shards=(2, 16, 16),
            compressors=ZstdCodec(level=3),
            dimension_names=("z", "y", "x"),
        )
        array[:] = np.arange(np.prod(shape), dtype="uint16").reshape(shape)
    return root


@pytest.fixture
def sharded(tmp_path: Path) -> Path:
    return write_sharded_image(tmp_path / "sharded.ome.zarr")


# --------------------------------------------------------------------------- images


def test_v01_image(fixtures: Path) -> None:
    summary = summarize(fixtures / "ome_ome-zarr-py/tests/data/v1")
    assert tuple(summary) == SUMMARY_KEYS
    assert summary["kind"] == "image"
    assert summary["version"] == "0.1"
    assert summary["path"] == ""
    assert summary["dims"] == ["t", "c", "z", "y", "x"]
    assert [a["type"] for a in summary["axes"]] == ["time", "channel", "space", "space", "space"]
    (level,) = summary["levels"]
    assert level == {
        "path": "0",
        "shape": [1, 2, 1, 16, 16],
        "dtype": "uint8",
        "chunks": [1, 2, 1, 128, 128],  # as the .zarray says, even though larger than the shape
        "shards": None,
        "codecs": ["blosc(lz4,5,shuffle)"],
        "scale": [1.0] * 5,
        "translation": [0.0] * 5,
    }
    assert summary["labels"] == {}
    assert summary["plate"] is None and summary["well"] is None and summary["collection"] is None
    json.dumps(summary, allow_nan=False)


def test_sharded_v3_levels(sharded: Path) -> None:
    summary = summarize(sharded)
    assert summary["version"] == "0.5"
    assert summary["name"] == "sharded"
    s0, s1 = summary["levels"]
    assert s0["shape"] == [4, 32, 32] and s0["dtype"] == "uint16"
    assert s0["chunks"] == [1, 8, 8]
    assert s0["shards"] == [2, 16, 16]
    assert s0["codecs"] == ["bytes", "zstd(3)"]
    assert s1["scale"] == [2.0, 1.0, 1.0]
    assert s1["translation"] == [0.0, 0.25, 0.25]
    assert summary["orientation_code"] == "RAS"
    assert summary["axes"][2] == {
        "name": "x",
        "type": "space",
        "unit": "micrometer",
        "orientation": "left-to-right",
    }


def test_summary_of_node_equals_summary_of_location(sharded: Path) -> None:
    assert summarize(ngff.read(sharded)) == summarize(sharded)


def test_bytes_on_disk_directory(sharded: Path) -> None:
    files = [p for p in sharded.rglob("*") if p.is_file()]
    assert summarize(sharded)["bytes_on_disk"] == sum(p.stat().st_size for p in files)
    assert summarize(sharded, measure=False)["bytes_on_disk"] is None


# zarr 3.1's ZipStore must be opened before its first get(); ngff.store does not do that yet.
def test_bytes_on_disk_zip(sharded: Path, tmp_path: Path) -> None:
    files = [p for p in sharded.rglob("*") if p.is_file()]
    archive = tmp_path / "sharded.ozx"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
        for p in sorted(files):
            zf.write(p, p.relative_to(sharded).as_posix())
    summary = summarize(archive)
    assert summary["bytes_on_disk"] == archive.stat().st_size
    assert summary["levels"][0]["shards"] == [2, 16, 16]


def test_channels_and_labels(fixtures: Path) -> None:
    summary = summarize(fixtures / "ome_ome-ngff-validator/test_samples/invalid/missing_min.zarr")
    assert summary["dims"] == ["y", "x"]
    assert len(summary["levels"]) == 4
    assert summary["levels"][1]["scale"] == [2.0, 2.0]
    (channel,) = summary["channels"]
    assert channel["color"] == "FF0000" and channel["active"] is True
    assert set(channel["window"]) == {"min", "max", "start", "end"}
    assert summary["labels"] == {
        "coins": {
            "dims": ["y", "x"],
            "shape": [1624, 2272],
            "dtype": "int32",
            "levels": 4,
            "colors": 8,
        }
    }


def test_label_image_and_labels_collection(fixtures: Path) -> None:
    store = fixtures / "ome_ome-ngff-validator/test_samples/invalid/missing_min.zarr"
    label = summarize(store / "labels" / "coins")
    assert label["kind"] == "label"
    assert label["labels"] is None
    assert label["image_label"]["colors"] == 8
    collection = summarize(store / "labels")
    assert collection["kind"] == "collection"
    assert collection["collection"] == {"type": "labels", "series": ["coins"], "plate": None}


def test_v3_codecs_of_rfc4_fixture(fixtures: Path) -> None:
    summary = summarize(
        fixtures
        / "fideus-labs_ome-zarr-rfc4-validation/conformance/cases/SC-01_quadruped_valid.ome.zarr"
    )
    (level,) = summary["levels"]
    assert level["path"] == "scale0/image"
    assert (
        level["codecs"] == ["bytes"] and level["shards"] is None and level["chunks"] == [16, 16, 16]
    )
    assert summary["axes"][0]["orientation"] == "dorsal-to-ventral"
    assert summary["orientation_code"] is None  # quadruped terms have no letter code


# --------------------------------------------------------------------------- HCS


def test_plate_reads_only_the_first_well(fixtures: Path) -> None:
    plate = ngff.read(fixtures / "BioImageTools_ome-zarr-examples/data/valid/plate-01.zarr")
    opened: list[str] = []

    def counting(path: str) -> Any:
        opened.append(path)
        return plate.load_well(path)

    summary = summarize(dataclasses.replace(plate, load_well=counting))
    assert opened == ["A/1"]
    assert summary["kind"] == "plate"
    assert summary["version"] == "0.4"
    assert summary["name"] == "my_wonderful_plate"
    info = summary["plate"]
    assert info["rows"] == ["A", "B"] and info["columns"] == ["1", "2"]
    assert info["grid"] == [2, 2]
    assert info["wells"] == 4
    assert info["well_paths"] == ["A/1", "A/2", "B/1", "B/2"]
    assert info["fields_per_well"] == 1
    assert info["acquisitions"] == []
    assert summary["dims"] is None and summary["levels"] is None


def test_plate_with_acquisitions_and_its_well(fixtures: Path) -> None:
    root = (
        fixtures / "ome-zarr-models_ome-zarr-models-py/tests/data/examples/v04/hcs_example.ome.zarr"
    )
    plate = summarize(root)["plate"]
    assert plate["acquisitions"][0]["id"] == 0
    assert plate["acquisitions"][0]["name"].startswith("20200812")
    well = summarize(root / "B" / "03")
    assert well["kind"] == "well"
    assert well["well"]["fields"] == 1 and well["well"]["field_paths"] == ["0"]


def test_plate_with_unreadable_first_well(fixtures: Path) -> None:
    # Metadata-only real plate: the wells' groups are not stored.
    plate = summarize(fixtures / "tlambert03_yaozarrs/tests/data/v04/2551.zarr")["plate"]
    assert plate["wells"] == 96 and plate["grid"] == [8, 12]
    assert plate["fields_per_well"] is None
    assert "error" in plate["first_well"]
    assert plate["field_count"] == 6


# --------------------------------------------------------------------------- pieces


def test_missing_location_raises_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        summarize(tmp_path / "nothing.zarr")


@pytest.mark.parametrize(
    ("name", "config", "label"),
    [
        (
            "blosc",
            {"cname": "zstd", "clevel": 5, "shuffle": "bitshuffle", "typesize": 2},
            "blosc(zstd,5,bitshuffle)",
        ),
        (
            "blosc",
            {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 2, "blocksize": 0},
            "blosc(lz4,5,bitshuffle)",
        ),
        (
            "blosc",
            {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 0},
            "blosc(zstd,3,noshuffle)",
        ),
        ("zstd", {"level": 3, "checksum": False}, "zstd(3)"),
        ("gzip", {"level": 6}, "gzip(6)"),
        ("numcodecs.zlib", {"level": 1}, "zlib(1)"),
        ("bytes", {"endian": "little"}, "bytes"),
        ("bytes", {"endian": "big"}, "bytes(big)"),
        ("crc32c", {}, "crc32c"),
        ("transpose", {"order": [2, 1, 0]}, "transpose(2,1,0)"),
        ("delta", {"id": "delta", "dtype": "<u2"}, "delta"),
    ],
)
def test_codec_label(name: str, config: dict[str, Any], label: str) -> None:
    assert codec_label(name, config) == label


def test_v2_filters_come_before_the_compressor(tmp_path: Path) -> None:
    from ngff.store import NodeDocument
    from ngff.summary import array_layout

    doc = {
        "chunks": [8, 8],
        "compressor": {"id": "zstd", "level": 1},
        "filters": [{"id": "delta", "dtype": "<u2"}],
        "shape": [16, 16],
        "dtype": "<u2",
        "zarr_format": 2,
    }
    layout = array_layout(NodeDocument("0", 2, "array", {}, doc))
    assert layout == {"chunks": [8, 8], "shards": None, "codecs": ["delta", "zstd(1)"]}


def test_orientation_code() -> None:
    def axes(*values: str | None) -> list[Axis]:
        return [Axis("c", "channel")] + [
            Axis(n, "space", orientation=v) for n, v in zip("zyx", values, strict=True)
        ]

    assert (
        orientation_code(axes("inferior-to-superior", "posterior-to-anterior", "left-to-right"))
        == "RAS"
    )
    assert (
        orientation_code(axes("superior-to-inferior", "anterior-to-posterior", "right-to-left"))
        == "LPI"
    )
    assert orientation_code(axes(None, "posterior-to-anterior", "left-to-right")) is None
    assert orientation_code(axes("dorsal-to-ventral", "rostral-to-caudal", "left-to-right")) is None
    assert orientation_code([Axis("t", "time")]) is None
