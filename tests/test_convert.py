"""``ngff.convert`` and ``ngff convert``: .npy, plain TIFF, OME-TIFF and ImageJ inputs.

Pixels must arrive transposed to OME-Zarr (t, c, z, y, x) order, and the file's
pixel sizes, units and channel names must land in the OME metadata.
"""

from __future__ import annotations

import pickle
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

import ngff
from ngff.cli import app
from ngff.convert import convert, level_factors, open_source

tifffile = pytest.importorskip("tifffile")

runner = CliRunner()


def _data(shape, dtype="uint16", seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.normal(size=shape).astype(dtype)
    return rng.integers(0, min(np.iinfo(np.dtype(dtype)).max, 5000), size=shape).astype(dtype)


def _valid(path: Path) -> None:
    report = ngff.validate(path)
    assert report.ok, [f"{p.severity} {p.path} {p.rule}: {p.message}" for p in report.problems]


def _units(image) -> dict[str, str | None]:
    return {a.name: a.unit for a in image.axes}


def _channel_labels(image) -> list[str | None]:
    return [c.label for c in image.omero.channels] if image.omero else []


def _assert_clean_error(result: Any, *needles: str) -> None:
    """Exit 2, one 'error:' line on stderr naming the problem, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]


# --------------------------------------------------------------------------- .npy


@pytest.mark.parametrize(
    "shape,dtype",
    [
        ((40, 56), "uint8"),
        ((5, 33, 47), "uint16"),
        ((2, 3, 20, 31), "int32"),
        ((2, 2, 3, 17, 19), "float32"),
    ],
)
def test_npy(tmp_path: Path, shape, dtype) -> None:
    data = _data(shape, dtype)
    np.save(tmp_path / "in.npy", data)
    image = convert(tmp_path / "in.npy", tmp_path / "out.ome.zarr", chunks=16)
    assert image.dims == tuple({2: "yx", 3: "zyx", 4: "czyx", 5: "tczyx"}[len(shape)])
    np.testing.assert_array_equal(image.levels[0].compute(), data)
    assert image.name == "in"
    _valid(tmp_path / "out.ome.zarr")


def test_npy_big_endian_and_fortran_order(tmp_path: Path) -> None:
    data = _data((6, 40, 50), ">u2")
    np.save(tmp_path / "be.npy", data)
    np.save(tmp_path / "f.npy", np.asfortranarray(data.astype("<i4")))
    be = convert(tmp_path / "be.npy", tmp_path / "be.zarr", chunks=16)
    np.testing.assert_array_equal(be.levels[0].compute(), data)
    assert be.dtype == np.dtype("uint16")
    f = convert(tmp_path / "f.npy", tmp_path / "f.zarr", chunks=16, version="0.4")
    np.testing.assert_array_equal(f.levels[0].compute(), data.astype("<i4"))


def test_npy_dims_name_file_axes_and_transpose(tmp_path: Path) -> None:
    data = _data((5, 3, 24, 28))  # stored z, c, y, x
    np.save(tmp_path / "zcyx.npy", data)
    image = convert(tmp_path / "zcyx.npy", tmp_path / "out.zarr", dims="zcyx", chunks=16)
    assert image.dims == ("c", "z", "y", "x")
    np.testing.assert_array_equal(image.levels[0].compute(), data.transpose(1, 0, 2, 3))
    image = convert(
        tmp_path / "zcyx.npy", tmp_path / "out2.zarr", dims=["t", "z", "x", "y"], chunks=16
    )
    assert image.dims == ("t", "z", "y", "x")
    np.testing.assert_array_equal(image.levels[0].compute(), data.transpose(0, 1, 3, 2))


def test_file_array_reads_regions_and_pickles_as_a_path(tmp_path: Path) -> None:
    data = _data((4, 3, 20, 30))
    np.save(tmp_path / "a.npy", data)
    source = open_source(tmp_path / "a.npy", dims="zcyx")
    expected = data.transpose(1, 0, 2, 3)
    array = source.data
    assert array.shape == expected.shape and array.dtype == expected.dtype and array.ndim == 4
    for index in [
        (slice(None),),
        (1, slice(2, 4)),
        (Ellipsis, slice(5, 9)),
        (-1, 0, slice(None, None, 2)),
        (),
    ]:
        np.testing.assert_array_equal(array[index], expected[index])
    np.testing.assert_array_equal(np.asarray(array), expected)
    np.testing.assert_array_equal(array.to_dask(chunks=(1, 2, 10, 10)).compute(), expected)
    blob = pickle.dumps(array)
    assert len(blob) < 2000, "the source must pickle as a recipe, not as its pixels"
    np.testing.assert_array_equal(pickle.loads(blob)[1:3, 2], expected[1:3, 2])
    source.close()


# --------------------------------------------------------------------------- TIFF


def test_plain_tiff_stack(tmp_path: Path) -> None:
    data = _data((7, 33, 41))
    tifffile.imwrite(tmp_path / "stack.tif", data, photometric="minisblack")
    assert (
        tifffile.TiffFile(tmp_path / "stack.tif").series[0].axes == "QYX"
    )  # no axis meaning in the file
    image = convert(tmp_path / "stack.tif", tmp_path / "out.zarr", chunks=16)
    assert image.dims == ("z", "y", "x")
    np.testing.assert_array_equal(image.levels[0].compute(), data)
    _valid(tmp_path / "out.zarr")
    # dims name the file's axes in stored order, replacing tifffile's letters
    image = convert(tmp_path / "stack.tif", tmp_path / "c.zarr", dims="cxy", chunks=16)
    assert image.dims == ("c", "y", "x")
    np.testing.assert_array_equal(image.levels[0].compute(), data.transpose(0, 2, 1))


def test_tiled_compressed_tiff_and_series(tmp_path: Path, monkeypatch) -> None:
    import ngff.regions

    # Many small regions: the writer's threads read tiles of one file concurrently.
    monkeypatch.setattr(ngff.regions, "DEFAULT_REGION_BYTES", 2 * 32 * 32)
    first = _data((70, 90), "uint8")
    second = _data((3, 50, 60), "uint16", seed=1)
    with tifffile.TiffWriter(tmp_path / "multi.tif") as tif:
        tif.write(first, tile=(32, 32), compression="zlib")
        tif.write(second, photometric="minisblack", tile=(16, 16), compression="zlib")
    a = convert(tmp_path / "multi.tif", tmp_path / "a.zarr", chunks=16)
    np.testing.assert_array_equal(a.levels[0].compute(), first)
    b = convert(tmp_path / "multi.tif", tmp_path / "b.zarr", series=1, chunks=16)
    np.testing.assert_array_equal(b.levels[0].compute(), second)
    with pytest.raises(ngff.NgffError, match="series 2"):
        convert(tmp_path / "multi.tif", tmp_path / "c.zarr", series=2)


def test_rgb_tiff_samples_become_channels(tmp_path: Path) -> None:
    data = _data((30, 40, 3), "uint8")
    tifffile.imwrite(tmp_path / "rgb.tif", data, photometric="rgb")
    image = convert(tmp_path / "rgb.tif", tmp_path / "out.zarr")
    assert image.dims == ("c", "y", "x")
    np.testing.assert_array_equal(image.levels[0].compute(), data.transpose(2, 0, 1))


def test_ome_tiff(tmp_path: Path) -> None:
    data = _data((5, 3, 40, 52))  # Z, C, Y, X
    tifffile.imwrite(
        tmp_path / "cells.ome.tif",
        data,
        ome=True,
        photometric="minisblack",
        metadata={
            "axes": "ZCYX",
            "PhysicalSizeX": 0.325,
            "PhysicalSizeY": 0.325,
            "PhysicalSizeZ": 2.5,
            "Channel": {"Name": ["DAPI", "GFP", "mCherry"]},
        },
    )
    image = convert(tmp_path / "cells.ome.tif", tmp_path / "cells.ome.zarr", chunks=16)
    assert image.dims == ("c", "z", "y", "x")
    np.testing.assert_array_equal(image.levels[0].compute(), data.transpose(1, 0, 2, 3))
    assert image.scales[0] == (1.0, 2.5, 0.325, 0.325)
    assert _units(image) == {"c": None, "z": "micrometer", "y": "micrometer", "x": "micrometer"}
    assert _channel_labels(image) == ["DAPI", "GFP", "mCherry"]
    report = ngff.validate(tmp_path / "cells.ome.zarr", strict=True)
    assert report.ok and not report.problems, report.problems  # name and units come from the file


def test_ome_tiff_units_and_time(tmp_path: Path) -> None:
    data = _data((4, 2, 30, 20))  # T, C, Y, X
    tifffile.imwrite(
        tmp_path / "t.ome.tif",
        data,
        ome=True,
        photometric="minisblack",
        metadata={
            "axes": "TCYX",
            "PhysicalSizeX": 120.0,
            "PhysicalSizeXUnit": "nm",
            "PhysicalSizeY": 130.0,
            "PhysicalSizeYUnit": "nm",
            "TimeIncrement": 0.5,
            "TimeIncrementUnit": "ms",
            "Channel": {"Name": ["a", "b"]},
        },
    )
    image = convert(tmp_path / "t.ome.tif", tmp_path / "t.zarr", chunks=16)
    assert image.dims == ("t", "c", "y", "x")
    np.testing.assert_array_equal(image.levels[0].compute(), data)
    assert image.scales[0] == (0.5, 1.0, 130.0, 120.0)
    assert _units(image) == {"t": "millisecond", "c": None, "y": "nanometer", "x": "nanometer"}


def test_imagej_hyperstack(tmp_path: Path) -> None:
    data = _data((2, 3, 4, 24, 30))  # T, Z, C, Y, X as ImageJ stores them
    tifffile.imwrite(
        tmp_path / "hyper.tif",
        data,
        imagej=True,
        resolution=(1 / 0.25, 1 / 0.2),
        metadata={"axes": "TZCYX", "spacing": 1.5, "unit": "um", "finterval": 2.0},
    )
    image = convert(tmp_path / "hyper.tif", tmp_path / "hyper.zarr", chunks=16)
    assert image.dims == ("t", "c", "z", "y", "x")
    np.testing.assert_array_equal(image.levels[0].compute(), data.transpose(0, 2, 1, 3, 4))
    assert np.allclose(image.scales[0], (2.0, 1.0, 1.5, 0.2, 0.25))
    assert _units(image) == {
        "t": "second",
        "c": None,
        "z": "micrometer",
        "y": "micrometer",
        "x": "micrometer",
    }
    _valid(tmp_path / "hyper.zarr")


def test_imagej_channel_labels(tmp_path: Path) -> None:
    data = _data((3, 20, 30))
    tifffile.imwrite(
        tmp_path / "c.tif",
        data,
        imagej=True,
        metadata={"axes": "CYX", "Labels": ["dapi", "gfp", "rfp"], "unit": "micron"},
    )
    image = convert(tmp_path / "c.tif", tmp_path / "c.zarr")
    assert image.dims == ("c", "y", "x")
    assert _channel_labels(image) == ["dapi", "gfp", "rfp"]
    assert _units(image) == {"c": None, "y": "micrometer", "x": "micrometer"}


def test_overrides_merge_with_the_file(tmp_path: Path) -> None:
    data = _data((5, 3, 20, 20))
    tifffile.imwrite(
        tmp_path / "o.ome.tif",
        data,
        ome=True,
        photometric="minisblack",
        metadata={"axes": "ZCYX", "PhysicalSizeX": 0.5, "PhysicalSizeY": 0.5, "PhysicalSizeZ": 3.0},
    )
    image = convert(
        tmp_path / "o.ome.tif", tmp_path / "a.zarr", scale={"z": 1.0}, units="um", name="renamed"
    )
    assert image.scales[0] == (1.0, 1.0, 0.5, 0.5)  # z overridden, y and x from the file
    assert _units(image) == {"c": None, "z": "micrometer", "y": "micrometer", "x": "micrometer"}
    assert image.name == "renamed"
    image = convert(
        tmp_path / "o.ome.tif", tmp_path / "b.zarr", scale=0.1, units={"z": "nanometer"}
    )
    assert image.scales[0] == (1.0, 0.1, 0.1, 0.1)
    assert _units(image)["z"] == "nanometer" and _units(image)["x"] == "micrometer"
    with pytest.raises(ngff.NgffError, match="unknown axes"):
        convert(tmp_path / "o.ome.tif", tmp_path / "c.zarr", scale={"q": 2.0})


# --------------------------------------------------------------------------- levels


def test_level_factors() -> None:
    assert level_factors((64, 64), "yx", (1, 1), 1) == []
    assert level_factors((64, 64), "yx", (1, 1), 3) == [{"y": 2, "x": 2}, {"y": 4, "x": 4}]
    # Anisotropic z (4x coarser) is spared until y and x catch up; c is never touched.
    assert level_factors((2, 16, 256, 256), "czyx", (1, 4, 1, 1), 4) == [
        {"z": 1, "y": 2, "x": 2},
        {"z": 1, "y": 4, "x": 4},
        {"z": 2, "y": 8, "x": 8},
    ]
    # An exhausted axis (3 planes) stops at 1 plane while y and x go on.
    assert level_factors((1, 3, 97, 1001), "czyx", (1, 1, 1, 1), 4) == [
        {"z": 2, "y": 2, "x": 2},
        {"z": 2, "y": 4, "x": 4},
        {"z": 2, "y": 8, "x": 8},
    ]
    with pytest.raises(ngff.NgffError, match="at most 3 levels"):
        level_factors((4, 4), "yx", (1, 1), 5)
    with pytest.raises(ngff.NgffError, match="positive"):
        level_factors((4, 4), "yx", (1, 1), 0)


def test_levels_option(tmp_path: Path) -> None:
    data = _data((1, 3, 97, 201))
    np.save(tmp_path / "odd.npy", data)
    image = convert(tmp_path / "odd.npy", tmp_path / "odd.zarr", levels=4, chunks=32)
    assert [lvl.shape for lvl in image.levels] == [
        (1, 3, 97, 201),
        (1, 1, 48, 100),
        (1, 1, 24, 50),
        (1, 1, 12, 25),
    ]
    image = convert(tmp_path / "odd.npy", tmp_path / "one.zarr", levels=1)
    assert len(image.levels) == 1
    with pytest.raises(ngff.NgffError, match="not both"):
        convert(tmp_path / "odd.npy", tmp_path / "x.zarr", levels=2, scale_factors=[2])


# --------------------------------------------------------------------------- errors


def test_api_errors(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not an image")
    np.save(tmp_path / "six.npy", np.zeros((1,) * 6, dtype=np.uint8))
    np.save(tmp_path / "ok.npy", np.zeros((4, 8, 8), dtype=np.uint8))
    (tmp_path / "broken.tif").write_bytes(b"II*\x00" + b"\x00" * 20)
    with pytest.raises(ngff.StoreError, match="no such file"):
        convert(tmp_path / "missing.npy", tmp_path / "a.zarr")
    with pytest.raises(ngff.NgffError, match="no reader"):
        convert(tmp_path / "notes.txt", tmp_path / "a.zarr")
    with pytest.raises(ngff.NgffError, match="2 to 5 axes"):
        convert(tmp_path / "six.npy", tmp_path / "a.zarr")
    with pytest.raises(ngff.NgffError, match="not a readable TIFF"):
        convert(tmp_path / "broken.tif", tmp_path / "a.zarr")
    with pytest.raises(ngff.NgffError, match="names 2 axes"):
        convert(tmp_path / "ok.npy", tmp_path / "a.zarr", dims="yx")
    with pytest.raises(ngff.NgffError, match="repeats"):
        convert(tmp_path / "ok.npy", tmp_path / "a.zarr", dims="xyx")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "broken.tif",
        "notes.txt",
        "ok.npy",
        "six.npy",
    ]


# --------------------------------------------------------------------------- command line


def test_cli_convert_options(tmp_path: Path) -> None:
    data = _data((2, 8, 64, 72))
    np.save(tmp_path / "in.npy", data)
    result = runner.invoke(
        app,
        [
            "convert", str(tmp_path / "in.npy"), str(tmp_path / "out.ome.zarr"),
            "--chunks", "z=4,y=16,x=16", "--shards", "z=1,y=2,x=2", "--levels", "3",
            "--scale", "z=2,y=0.5,x=0.5", "--units", "um", "--codec", "zstd:3", "--method", "mean",
            "--name", "cli",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stdout and "3 levels" in result.stdout
    image = ngff.read(tmp_path / "out.ome.zarr")
    assert image.version == "0.5" and image.name == "cli"
    np.testing.assert_array_equal(image.levels[0].compute(), data)
    assert image.scales[0] == (1.0, 2.0, 0.5, 0.5)
    assert image.scales[1] == (1.0, 2.0, 1.0, 1.0)
    assert _units(image) == {"c": None, "z": "micrometer", "y": "micrometer", "x": "micrometer"}
    # z (4x coarser than y and x) is spared by both halvings
    assert [lvl.shape for lvl in image.levels] == [(2, 8, 64, 72), (2, 8, 32, 36), (2, 8, 16, 18)]
    import zarr

    level0 = zarr.open_array(str(tmp_path / "out.ome.zarr" / "0"), mode="r")
    assert level0.chunks == (1, 4, 16, 16) and level0.shards == (1, 4, 32, 32)
    assert image.multiscale.type == "mean"
    report = ngff.validate(tmp_path / "out.ome.zarr", strict=True)
    assert report.ok and not report.problems, report.problems


@pytest.mark.parametrize(
    "args,chunks,shards,version",
    [
        # an int applies to every space axis (z included, clamped to the 4 planes)
        (["--chunks", "32"], (4, 32, 32), None, "0.5"),
        (["--chunks", "2,16,8", "--version", "0.4"], (2, 16, 8), None, "0.4"),
        (["--chunks", "16", "--shards", "auto"], (4, 16, 16), "auto", "0.5"),
        # 4 chunks per shard along space axes, clamped to the (x, y-transposed) 4 x 40 x 48 image
        (["--chunks", "16", "--shards", "4", "--dims", "zxy"], (4, 16, 16), (4, 48, 48), "0.5"),
        (["--chunks", "z=1,y=16,x=16", "--shards", "1,2,2"], (1, 16, 16), (1, 32, 32), "0.5"),
        # the plane-viewing layout: every plane of 48 x 40 fits one chunk, 4 planes deep
        (["--chunks", "planes", "--shards", "auto"], (4, 48, 40), (4, 48, 40), "0.5"),
    ],
)
def test_cli_chunk_forms(tmp_path: Path, args: list[str], chunks, shards, version: str) -> None:
    data = _data((4, 48, 40))
    np.save(tmp_path / "in.npy", data)
    result = runner.invoke(
        app, ["convert", str(tmp_path / "in.npy"), str(tmp_path / "out.zarr"), *args]
    )
    assert result.exit_code == 0, result.output
    import zarr

    image = ngff.read(tmp_path / "out.zarr")
    assert image.version == version
    level0 = zarr.open_array(str(tmp_path / "out.zarr" / "0"), mode="r")
    assert level0.chunks == chunks
    expected = data.transpose(0, 2, 1) if "zxy" in args else data
    np.testing.assert_array_equal(image.levels[0].compute(), expected)
    if shards == "auto":
        assert level0.shards is not None
    else:
        assert level0.shards == shards


def test_cli_convert_ome_tiff_and_overwrite(tmp_path: Path) -> None:
    data = _data((3, 2, 32, 32))
    tifffile.imwrite(
        tmp_path / "x.ome.tif",
        data,
        ome=True,
        photometric="minisblack",
        metadata={
            "axes": "ZCYX",
            "PhysicalSizeX": 0.5,
            "PhysicalSizeY": 0.5,
            "Channel": {"Name": ["a", "b"]},
        },
    )
    out = tmp_path / "x.ome.zarr"
    assert (
        runner.invoke(
            app, ["convert", str(tmp_path / "x.ome.tif"), str(out), "--version", "0.4"]
        ).exit_code
        == 0
    )
    again = runner.invoke(app, ["convert", str(tmp_path / "x.ome.tif"), str(out)])
    _assert_clean_error(again, "exists", "--overwrite")
    assert ngff.read(out).version == "0.4"
    result = runner.invoke(app, ["convert", str(tmp_path / "x.ome.tif"), str(out), "--overwrite"])
    assert result.exit_code == 0, result.output
    image = ngff.read(out)
    assert image.version == "0.5" and _channel_labels(image) == ["a", "b"]
    np.testing.assert_array_equal(image.levels[0].compute(), data.transpose(1, 0, 2, 3))


@pytest.mark.parametrize(
    "make,args,needles",
    [
        (None, ["missing.npy"], ["missing.npy", "no such file"]),
        ("txt", ["notes.txt"], ["no reader"]),
        ("npy", ["in.npy", "--dims", "yx"], ["names 2 axes", "has 3"]),
        ("npy", ["in.npy", "--dims", "zzx"], ["repeats"]),
        ("npy", ["in.npy", "--dims", "tcx"], ["space axes"]),
        ("npy", ["in.npy", "--chunks", "z=0"], ["--chunks"]),
        ("npy", ["in.npy", "--chunks", "big"], ["--chunks"]),
        ("npy", ["in.npy", "--chunks", "q=4"], ["unknown axes"]),
        ("npy", ["in.npy", "--shards", "x=2,x=3"], ["--shards"]),
        ("npy", ["in.npy", "--scale", "z=-1"], ["--scale"]),
        ("npy", ["in.npy", "--units", "z=1"], ["--units"]),
        ("npy", ["in.npy", "--levels", "0"], ["--levels"]),
        ("npy", ["in.npy", "--levels", "9"], ["at most"]),
        ("npy", ["in.npy", "--version", "0.3"], ["0.3"]),
        ("npy", ["in.npy", "--version", "0.4", "--shards", "2"], ["sharding"]),
        ("npy", ["in.npy", "--codec", "snappy"], ["codec"]),
        ("npy", ["in.npy", "--method", "bicubic"], ["method"]),
        ("tif", ["broken.tif"], ["not a readable TIFF"]),
    ],
)
def test_cli_errors(tmp_path: Path, make: str | None, args: list[str], needles: list[str]) -> None:
    if make == "txt":
        (tmp_path / "notes.txt").write_text("hello")
    elif make == "npy":
        np.save(tmp_path / "in.npy", _data((4, 16, 16)))
    elif make == "tif":
        (tmp_path / "broken.tif").write_bytes(b"II*\x00" + b"\xff" * 12)
    result = runner.invoke(
        app, ["convert", str(tmp_path / args[0]), str(tmp_path / "out.zarr"), *args[1:]]
    )
    _assert_clean_error(result, *needles)
    assert not (tmp_path / "out.zarr").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], (
        "no temporary left after an error"
    )


def _ngff() -> list[str]:
    """The installed ``ngff`` console script, else ``python -m ngff.cli``."""
    beside = Path(sys.executable).with_name("ngff")
    found = str(beside) if beside.exists() else shutil.which("ngff")
    return [found] if found else [sys.executable, "-m", "ngff.cli"]


def test_console_script_convert(tmp_path: Path) -> None:
    """Real runs of the installed ``ngff`` command: a conversion and an error."""
    data = _data((3, 2, 40, 50))  # Z, C, Y, X (ImageJ order)
    tifffile.imwrite(
        tmp_path / "in.tif",
        data,
        imagej=True,
        resolution=(2.0, 2.0),
        metadata={"axes": "ZCYX", "spacing": 2.0, "unit": "um"},
    )
    proc = subprocess.run(
        [*_ngff(), "convert", str(tmp_path / "in.tif"), str(tmp_path / "out.zarr"),
         "--levels", "2", "--chunks", "16"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stdout and "Traceback" not in proc.stderr
    image = ngff.read(tmp_path / "out.zarr")
    assert image.dims == ("c", "z", "y", "x") and len(image.levels) == 2
    assert image.scales[0] == (1.0, 2.0, 0.5, 0.5)
    np.testing.assert_array_equal(image.levels[0].compute(), data.transpose(1, 0, 2, 3))
    bad = subprocess.run(
        [*_ngff(), "convert", str(tmp_path / "nope.tif"), str(tmp_path / "x.zarr")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().startswith("error:") and len(bad.stderr.strip().splitlines()) == 1
