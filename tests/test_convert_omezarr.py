"""``ngff convert`` of OME-Zarr stores: into an archive for serving, to another version,
layout or codec; metadata, labels and the stored pyramid come along; the input is never
touched."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import ngff
import ngff.ozx
from ngff.cli import app
from ngff.errors import NgffError
from ngff.summary import array_layout

runner = CliRunner()


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def cubes(tmp_path_factory) -> Path:
    """A 0.5 image in cubic shards, with OMERO channels, RFC-4 orientation and labels."""
    folder = tmp_path_factory.mktemp("cubes")
    rng = np.random.default_rng(1)
    data = rng.integers(0, 3000, (2, 40, 200, 300), dtype=np.uint16)
    location = folder / "in.ome.zarr"
    ngff.write(
        data, location, dims="czyx", scale={"z": 2, "y": 0.5, "x": 0.5}, units="micrometer",
        channels=["DAPI", "GFP"], chunks=32, shards=2, orientation="RAS",
    )
    ngff.write_labels(location, "cells", (data[0] > 2500).astype(np.uint8), colors={1: (255, 0, 0, 255)})
    return location


def test_store_into_an_archive_keeps_pixels_metadata_labels(cubes, tmp_path):
    before = _digest(cubes)
    out = ngff.convert(cubes, tmp_path / "served.ozx")
    source = ngff.read(cubes)
    assert out.version == "0.5" and out.dims == source.dims
    assert [lv.shape for lv in out.levels] == [lv.shape for lv in source.levels]
    for ours, theirs in zip(out.levels, source.levels):  # lower levels copied, not recomputed
        np.testing.assert_array_equal(ours.compute(), theirs.compute())
    assert [c.label for c in out.channels] == ["DAPI", "GFP"]
    assert out.axes == source.axes  # units and orientation
    assert out.scales == source.scales
    labels = out.labels["cells"]
    for ours, theirs in zip(labels.levels, source.labels["cells"].levels):
        np.testing.assert_array_equal(ours.compute(), theirs.compute())
    assert [c.rgba for c in labels.image_label.colors] == [(255, 0, 0, 255)]
    layout = array_layout(ngff.ozx.open_store(tmp_path / "served.ozx").node("0"))
    assert layout["chunks"][1] == layout["shards"][1] == 16  # the archives' planes layout
    assert ngff.validate(tmp_path / "served.ozx", strict=True).ok
    assert _digest(cubes) == before


def test_other_layout_codec_and_levels(cubes, tmp_path):
    out = ngff.convert(cubes, tmp_path / "small.ome.zarr", chunks=64, codec="zstd", levels=2)
    assert len(out.levels) == 2
    np.testing.assert_array_equal(out.levels[0].compute(), ngff.read(cubes).levels[0].compute())
    layout = array_layout(ngff.store.open_store(tmp_path / "small.ome.zarr").node("0"))
    assert layout["chunks"] == [1, 40, 64, 64] and layout["shards"] is None
    assert any(c.startswith("zstd") for c in layout["codecs"])
    assert len(out.labels["cells"].levels) == 2  # labels follow the new pyramid


def test_refusals_leave_the_input_alone(cubes, tmp_path):
    before = _digest(cubes)
    with pytest.raises(NgffError, match="names its own axes"):
        ngff.convert(cubes, tmp_path / "x.ozx", dims="czyx")
    with pytest.raises(NgffError, match="series"):
        ngff.convert(cubes, tmp_path / "x.ozx", series=1)
    with pytest.raises(NgffError, match="store the data is read from|overwrite"):
        ngff.convert(cubes, cubes, overwrite=True)
    plate = tmp_path / "plate.ome.zarr"
    ngff.write_plate(plate, rows=1, columns=1, wells=["A/1"])
    with pytest.raises(NgffError, match="plate"):
        ngff.convert(plate, tmp_path / "p.ozx")
    assert not (tmp_path / "x.ozx").exists() and not (tmp_path / "p.ozx").exists()
    assert _digest(cubes) == before


def test_plain_directory_is_still_refused(tmp_path):
    (tmp_path / "folder").mkdir()
    with pytest.raises(NgffError, match="without Zarr metadata"):
        ngff.convert(tmp_path / "folder", tmp_path / "out.ome.zarr")


def test_cli_converts_a_store(cubes, tmp_path):
    result = runner.invoke(app, ["convert", str(cubes), str(tmp_path / "cli.ozx")])
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(ngff.read(tmp_path / "cli.ozx").levels[1].compute(), ngff.read(cubes).levels[1].compute())


def test_upgrade_an_ome_zarr_py_04_store(tmp_path):
    pytest.importorskip("ome_zarr")
    import zarr
    from ome_zarr.format import FormatV04
    from ome_zarr.writer import write_image, write_labels

    image = np.random.default_rng(2).integers(0, 255, (2, 8, 64, 48), dtype=np.uint8)
    labels = (image[:1] > 200).astype(np.uint16)
    location = tmp_path / "old.ome.zarr"
    group = zarr.open_group(str(location), mode="w", zarr_format=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_image(image, group, scale_factors=[2, 4], fmt=FormatV04(), axes="czyx", storage_options={"chunks": (1, 4, 16, 16)})
        write_labels(labels, group, name="cells", fmt=FormatV04(), axes="czyx", scale_factors=[2, 4])
    before = _digest(location)
    source = ngff.read(location)
    assert source.version == "0.4"
    out = ngff.convert(location, tmp_path / "new.ome.zarr", version="0.5", shards="auto")
    assert out.version == "0.5"
    assert [lv.shape for lv in out.levels] == [lv.shape for lv in source.levels]
    for ours, theirs in zip(out.levels, source.levels):
        np.testing.assert_array_equal(ours.compute(), theirs.compute())
    np.testing.assert_array_equal(out.labels["cells"].levels[0].compute(), source.labels["cells"].levels[0].compute())
    assert ngff.validate(tmp_path / "new.ome.zarr", strict=True).ok
    assert _digest(location) == before
