"""``ngff plate build``: plates from per-well image files named by a pattern."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import ngff
from ngff import NgffError
from ngff.plate_build import build_plate, match_files, parse_pattern

tifffile = pytest.importorskip("tifffile")


def _plane(well: int, field: int, channel: int, z: int = 0) -> np.ndarray:
    y, x = np.indices((16, 24))
    return (well * 1000 + field * 100 + channel * 10 + z + (x + y) % 7).astype(np.uint16)


@pytest.fixture
def exported(tmp_path):
    """Files as a microscope exports them: A01, A02, B03; 2 fields; DAPI and GFP; plus noise."""
    folder = tmp_path / "export"
    folder.mkdir()
    wells = {"A01": 1, "A02": 2, "B03": 3}
    for name, w in wells.items():
        for f in (1, 2):
            for c, channel in enumerate(("DAPI", "GFP")):
                tifffile.imwrite(folder / f"{name}_f{f}_c{channel}.tif", _plane(w, f, c))
    (folder / "thumbs.db").write_bytes(b"x")
    (folder / "notes.txt").write_text("not an image")
    return folder, wells


def test_pattern_parsing():
    regex = parse_pattern("{row}{column}_f{field}_c{channel}.tif")
    m = regex.match("B03_f2_cGFP.tif")
    assert m and m.group("row") == "B" and m.group("column") == "03" and m.group("channel") == "GFP"
    assert regex.match("B03_f2_cGFP.tiff") is None
    with pytest.raises(NgffError, match="unknown placeholder"):
        parse_pattern("{row}{col}.tif")
    with pytest.raises(NgffError, match="twice"):
        parse_pattern("{row}{column}{row}.tif")
    with pytest.raises(NgffError, match="needs"):
        parse_pattern("{field}.tif")
    files, skipped = match_files(["x/a01_f1_cDAPI.tif", "x/other.tif"], "{row}{column}_f{field}_c{channel}.tif")
    assert [(f.row, f.column, f.field, f.channel) for f in files] == [("A", "1", 1, "DAPI")]
    assert skipped == [Path("x/other.tif")]


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_build_plate(exported, tmp_path, version):
    folder, wells = exported
    out = tmp_path / "plate.ome.zarr"
    plate = build_plate(
        out,
        sorted(folder.iterdir()),
        "{row}{column}_f{field}_c{channel}.tif",
        wells_format=24,
        version=version,
        scale={"y": 0.65, "x": 0.65},
        units="micrometer",
    )
    assert plate.version == version and plate.name == "plate"
    assert plate.rows == ("A", "B", "C", "D") and len(plate.columns) == 6
    assert [w.path for w in plate.wells] == ["A/1", "A/2", "B/3"]
    assert plate.metadata.field_count == 2
    for name, w in wells.items():
        well = plate.well(name[0], str(int(name[1:])))
        assert well.field_paths == ("0", "1")
        for k, f in enumerate((1, 2)):
            image = well.fields[k]
            assert image.dims == ("c", "y", "x")
            assert [c.label for c in image.channels] == ["DAPI", "GFP"]
            assert image.scales[0][1:] == (0.65, 0.65)
            expected = np.stack([_plane(w, f, 0), _plane(w, f, 1)])
            np.testing.assert_array_equal(np.asarray(image.levels[0]), expected)
    assert ngff.validate(out).ok


def test_build_plate_z_and_acquisitions(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    for acq in (0, 1):
        for z in (0, 1, 2):
            tifffile.imwrite(folder / f"run{acq}" f"_C5_z{z}.tif", _plane(acq + 1, 0, 0, z))
    plate = build_plate(tmp_path / "p.zarr", folder.glob("*.tif"), "run{acquisition}_{row}{column}_z{z}.tif")
    assert plate.rows == tuple("ABC") and plate.columns == tuple(str(i) for i in range(1, 6))
    assert [a.id for a in plate.acquisitions] == [0, 1]
    well = plate.well("C", "5")
    assert well.acquisitions == (0, 1)
    image = well.fields[1]
    assert image.dims == ("z", "y", "x")
    np.testing.assert_array_equal(np.asarray(image.levels[0]), np.stack([_plane(2, 0, 0, z) for z in range(3)]))
    assert ngff.validate(tmp_path / "p.zarr").ok


def test_build_plate_errors_leave_nothing(exported, tmp_path):
    folder, _ = exported
    out = tmp_path / "plate.zarr"
    with pytest.raises(NgffError, match="no file matches"):
        build_plate(out, sorted(folder.iterdir()), "{row}{column}.png")
    with pytest.raises(NgffError, match="outside"):
        build_plate(out, sorted(folder.iterdir()), "{row}{column}_f{field}_c{channel}.tif", rows=1)
    tifffile.imwrite(folder / "A01_f1_cRFP.tif", np.zeros((8, 8), np.uint16))  # another shape
    with pytest.raises(NgffError, match="shape"):
        build_plate(out, sorted(folder.iterdir()), "{row}{column}_f{field}_c{channel}.tif")
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".plate.zarr")]


def test_build_plate_same_plane_twice(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    tifffile.imwrite(folder / "A1_x.tif", _plane(1, 0, 0))
    tifffile.imwrite(folder / "A1_y.tif", _plane(1, 0, 0))
    with pytest.raises(NgffError, match="same plane"):
        build_plate(tmp_path / "p.zarr", sorted(folder.iterdir()), "{row}{column}_*.tif")


def test_cli_plate_build_and_info(exported, tmp_path):
    from typer.testing import CliRunner

    from ngff.cli import app

    folder, _ = exported
    out = tmp_path / "cli.ome.zarr"
    runner = CliRunner()
    files = [str(p) for p in sorted(folder.glob("*.tif"))]
    result = runner.invoke(
        app,
        ["plate", "build", str(out), *files, "--pattern", "{row}{column}_f{field}_c{channel}.tif", "--wells", "96",
         "--scale", "y=0.5,x=0.5", "--units", "micrometer", "--name", "screen", "--version", "0.4"],
    )
    assert result.exit_code == 0, result.output
    assert "8 × 12 plate, 3 well(s)" in result.stdout
    plate = ngff.read(out)
    assert plate.name == "screen" and plate.version == "0.4"
    again = runner.invoke(app, ["plate", "build", str(out), *files, "--pattern", "{row}{column}_f{field}_c{channel}.tif"])
    assert again.exit_code == 2 and "exists" in again.output
    bad = runner.invoke(app, ["plate", "build", str(tmp_path / "x.zarr"), *files, "--pattern", "{nope}.tif"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    info = runner.invoke(app, ["info", str(out)])
    assert info.exit_code == 0
    assert "8 rows × 12 columns, 3 of 96 wells present" in info.stdout
    assert "field image: c 2 × y 16 × x 24, uint16" in info.stdout
    summary = json.loads(runner.invoke(app, ["info", str(out), "--json"]).stdout)
    assert summary["plate"]["first_well"]["image"]["shape"] == [2, 16, 24]
