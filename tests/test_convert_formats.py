"""Conversion of the formats beyond plain TIFF/npy, with their metadata mapped.

Files are made here: tifffile writes OME-TIFF (colours, time increment, multi-series,
sub-IFD pyramids) and ImageJ hyperstacks (LUT colours); imageio writes PNG, JPEG, BMP
and GIF; bioio reads an OME-TIFF through its ome-tiff plugin (the mapping layer vendor
plugins share).  After conversion the pixels must be equal and the metadata right.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import ngff
from ngff.cli import app
from ngff.convert import open_source, series_count
from ngff.convert.registry import READERS, ReaderEntry, choose_reader

tifffile = pytest.importorskip("tifffile")

runner = CliRunner()


def _data(shape, dtype="uint16", seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, min(np.iinfo(np.dtype(dtype)).max, 4000), size=shape).astype(dtype)


def _valid(path: Path) -> None:
    report = ngff.validate(path)
    assert report.ok, [f"{p.path} {p.rule}: {p.message}" for p in report.problems]


def _color(rgb: tuple[int, int, int]) -> int:
    """OME's signed 32-bit RGBA integer."""
    value = (rgb[0] << 24) | (rgb[1] << 16) | (rgb[2] << 8) | 255
    return value - 2**32 if value >= 2**31 else value


# --------------------------------------------------------------------------- OME-TIFF


def test_ome_tiff_colours_time_and_units(tmp_path: Path) -> None:
    data = _data((4, 2, 3, 40, 50))  # T Z C Y X
    tifffile.imwrite(
        tmp_path / "t.ome.tif",
        data,
        ome=True,
        photometric="minisblack",
        metadata={
            "axes": "TZCYX",
            "PhysicalSizeX": 0.2,
            "PhysicalSizeXUnit": "nm",
            "PhysicalSizeY": 0.3,
            "PhysicalSizeYUnit": "nm",
            "PhysicalSizeZ": 1.5,
            "PhysicalSizeZUnit": "µm",
            "TimeIncrement": 2.5,
            "TimeIncrementUnit": "ms",
            "Channel": {"Name": ["DAPI", "GFP", "RFP"], "Color": [_color((0, 0, 255)), _color((0, 255, 0)), _color((255, 0, 0))]},
        },
    )
    image = ngff.convert(tmp_path / "t.ome.tif", tmp_path / "t.zarr", chunks=16)
    assert image.dims == ("t", "c", "z", "y", "x")
    np.testing.assert_array_equal(image.levels[0].compute(), data.transpose(0, 2, 1, 3, 4))
    scale = dict(zip(image.dims, image.scales[0]))
    assert scale == {"t": 2.5, "c": 1.0, "z": 1.5, "y": 0.3, "x": 0.2}
    units = {a.name: a.unit for a in image.axes}
    assert units == {"t": "millisecond", "c": None, "z": "micrometer", "y": "nanometer", "x": "nanometer"}
    assert [c.label for c in image.omero.channels] == ["DAPI", "GFP", "RFP"]
    assert [c.color for c in image.omero.channels] == ["0000FF", "00FF00", "FF0000"]
    _valid(tmp_path / "t.zarr")


def _pyramid_tiff(path: Path, data: np.ndarray, levels: int, mark: bool, shrink=lambda a: a[..., ::2, ::2]) -> None:
    """Sub-IFD pyramid; with ``mark`` the lower levels hold constant k (proving they were copied)."""
    with tifffile.TiffWriter(path, bigtiff=True) as tif:
        tif.write(
            data,
            subifds=levels,
            tile=(32, 32),
            photometric="minisblack",
            metadata={"axes": "CYX", "PhysicalSizeX": 0.5, "PhysicalSizeY": 0.5, "Channel": {"Name": ["a", "b"]}},
        )
        level = data
        for k in range(1, levels + 1):
            level = shrink(level)
            tif.write(np.full_like(level, k) if mark else level, subfiletype=1, tile=(32, 32), photometric="minisblack")


def test_pyramidal_ome_tiff_levels_are_reused(tmp_path: Path) -> None:
    data = _data((2, 130, 200))
    _pyramid_tiff(tmp_path / "p.ome.tif", data, levels=2, mark=True)
    source = open_source(tmp_path / "p.ome.tif")
    assert [lv.shape for lv in source.levels] == [(2, 65, 100), (2, 33, 50)]  # ceil-rounded
    source.close()
    for version, shards in (("0.5", "auto"), ("0.4", None)):
        out = tmp_path / f"p{version}.zarr"
        image = ngff.convert(tmp_path / "p.ome.tif", out, version=version, shards=shards, chunks=32)
        assert [lv.shape for lv in image.levels] == [(2, 130, 200), (2, 65, 100), (2, 32, 50)]
        np.testing.assert_array_equal(image.levels[0].compute(), data)
        # copied, not recomputed: the file's marker levels come through unchanged
        assert np.unique(image.levels[1].compute()).tolist() == [1]
        assert np.unique(image.levels[2].compute()).tolist() == [2]
        assert [s[1:] for s in image.scales] == [(0.5, 0.5), (1.0, 1.0), (2.0, 2.0)]
        _valid(out)
    # into an archive (its "planes" layout): still copied
    image = ngff.convert(tmp_path / "p.ome.tif", tmp_path / "p.ozx")
    assert [lv.shape for lv in image.levels] == [(2, 130, 200), (2, 65, 100), (2, 32, 50)]
    assert np.unique(image.levels[2].compute()).tolist() == [2]
    np.testing.assert_array_equal(image.levels[0].compute(), data)
    # asked not to (or asked for other levels): computed by the writer
    image = ngff.convert(tmp_path / "p.ome.tif", tmp_path / "c.zarr", reuse_levels=False, chunks=32)
    assert len(np.unique(image.levels[1].compute())) > 2
    image = ngff.convert(tmp_path / "p.ome.tif", tmp_path / "d.zarr", levels=2, chunks=32)
    assert len(image.levels) == 2 and len(np.unique(image.levels[1].compute())) > 2


def test_incompatible_pyramid_is_recomputed(tmp_path: Path) -> None:
    data = _data((2, 131, 201))
    # a lower level that is no integer downsampling (131 -> 100): the writer builds its own
    _pyramid_tiff(tmp_path / "q.ome.tif", data, levels=1, mark=True, shrink=lambda a: a[..., :100, :100])
    image = ngff.convert(tmp_path / "q.ome.tif", tmp_path / "q.zarr", chunks=32)
    assert image.levels[1].shape[1:] == (65, 100)
    assert len(np.unique(image.levels[1].compute())) > 2


def test_multi_series_all_is_a_collection(tmp_path: Path) -> None:
    first, second = _data((3, 40, 50), "uint8"), _data((5, 30, 20), seed=1)
    with tifffile.TiffWriter(tmp_path / "ms.ome.tif") as tif:
        tif.write(first, metadata={"axes": "CYX", "Channel": {"Name": ["a", "b", "c"]}}, photometric="minisblack")
        tif.write(second, metadata={"axes": "ZYX", "PhysicalSizeZ": 3.0}, photometric="minisblack")
    assert series_count(tmp_path / "ms.ome.tif") == 2
    steps: list[tuple[int, int]] = []
    collection = ngff.convert(tmp_path / "ms.ome.tif", tmp_path / "ms.zarr", series="all", chunks=16, progress=lambda d, t: steps.append((d, t)))
    assert isinstance(collection, ngff.Collection)
    assert collection.series_paths == ("0", "1")
    a, b = collection.images["0"], collection.images["1"]
    np.testing.assert_array_equal(a.levels[0].compute(), first)
    np.testing.assert_array_equal(b.levels[0].compute(), second)
    assert [c.label for c in a.omero.channels] == ["a", "b", "c"]
    assert b.scales[0][0] == 3.0
    assert (tmp_path / "ms.zarr" / "OME" / "METADATA.ome.xml").read_text().lstrip().startswith("<?xml")
    assert steps and steps[-1][0] == steps[-1][1] and all(d <= t for d, t in steps)
    _valid(tmp_path / "ms.zarr")
    one = ngff.convert(tmp_path / "ms.ome.tif", tmp_path / "one.zarr", series="1")
    np.testing.assert_array_equal(one.levels[0].compute(), second)


def test_imagej_lut_colours(tmp_path: Path) -> None:
    data = _data((3, 2, 30, 40), "uint8")  # Z C Y X
    luts = []
    for rgb in ((255, 0, 255), (0, 255, 255)):
        lut = np.zeros((3, 256), "uint8")
        for i, v in enumerate(rgb):
            lut[i] = np.linspace(0, v, 256).astype("uint8")
        luts.append(lut)
    tifffile.imwrite(
        tmp_path / "ij.tif", data, imagej=True, resolution=(1 / 0.4, 1 / 0.4),
        metadata={"axes": "ZCYX", "spacing": 2.0, "unit": "um", "LUTs": luts},
    )
    image = ngff.convert(tmp_path / "ij.tif", tmp_path / "ij.zarr", chunks=16)
    assert image.dims == ("c", "z", "y", "x")
    np.testing.assert_array_equal(image.levels[0].compute(), data.transpose(1, 0, 2, 3))
    assert [c.color for c in image.omero.channels] == ["FF00FF", "00FFFF"]
    assert dict(zip(image.dims, image.scales[0]))["z"] == 2.0
    assert {a.name: a.unit for a in image.axes}["x"] == "micrometer"


# --------------------------------------------------------------------------- glob series


def test_glob_series_of_planes_and_time_points(tmp_path: Path) -> None:
    planes = _data((12, 30, 40))
    folder = tmp_path / "planes"
    folder.mkdir()
    for z in range(12):  # natural order: z2 before z10
        tifffile.imwrite(folder / f"img_z{z}.ome.tif", planes[z], metadata={"axes": "YX", "PhysicalSizeX": 0.25, "PhysicalSizeY": 0.25})
    image = ngff.convert(str(folder / "img_z*.ome.tif"), tmp_path / "z.zarr", chunks=8)
    assert image.dims == ("z", "y", "x")
    np.testing.assert_array_equal(image.levels[0].compute(), planes)
    assert image.scales[0][1:] == (0.25, 0.25)
    _valid(tmp_path / "z.zarr")
    # files holding z stacks become time points
    stacks = _data((3, 4, 20, 24), seed=2)
    for t in range(3):
        tifffile.imwrite(tmp_path / f"t{t}.tif", stacks[t], photometric="minisblack")
    image = ngff.convert(str(tmp_path / "t?.tif"), tmp_path / "t.zarr", chunks=8)
    assert image.dims == ("t", "z", "y", "x")
    np.testing.assert_array_equal(image.levels[0].compute(), stacks)
    # the CLI takes the pattern too, with dims naming the stacked axis
    result = runner.invoke(app, ["convert", str(tmp_path / "t?.tif"), str(tmp_path / "c.zarr"), "--dims", "czyx", "--chunks", "8"])
    assert result.exit_code == 0, result.output
    assert ngff.read(tmp_path / "c.zarr").dims == ("c", "z", "y", "x")


def test_glob_errors(tmp_path: Path) -> None:
    with pytest.raises(ngff.StoreError, match="no files match"):
        ngff.convert(str(tmp_path / "none*.tif"), tmp_path / "x.zarr")
    tifffile.imwrite(tmp_path / "a1.tif", _data((10, 10)))
    tifffile.imwrite(tmp_path / "a2.tif", _data((10, 12)))
    with pytest.raises(ngff.NgffError, match="differs from the first file"):
        ngff.convert(str(tmp_path / "a*.tif"), tmp_path / "x.zarr")
    assert not (tmp_path / "x.zarr").exists()


# --------------------------------------------------------------------------- imageio


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".jpg", ".gif"])
def test_2d_formats(tmp_path: Path, suffix: str) -> None:
    iio = pytest.importorskip("imageio.v3")
    rgb = _data((36, 44, 3), "uint8")
    path = tmp_path / f"pic{suffix}"
    if suffix == ".gif":
        frames = _data((3, 36, 44, 3), "uint8")
        iio.imwrite(path, frames)
        expected = iio.imread(path, index=None)  # GIF quantises colours: compare with what it stores
        image = ngff.convert(path, tmp_path / "o.zarr", chunks=16)
        assert image.dims == ("t", "c", "y", "x")
        np.testing.assert_array_equal(image.levels[0].compute(), expected.transpose(0, 3, 1, 2))
        return
    iio.imwrite(path, rgb)
    expected = iio.imread(path)  # JPEG is lossy
    image = ngff.convert(path, tmp_path / "o.zarr", chunks=16)
    assert image.dims == ("c", "y", "x")
    np.testing.assert_array_equal(image.levels[0].compute(), expected.transpose(2, 0, 1))
    assert [c.label for c in image.omero.channels] == ["red", "green", "blue"]
    assert [c.color for c in image.omero.channels] == ["FF0000", "00FF00", "0000FF"]
    _valid(tmp_path / "o.zarr")


def test_16_bit_png_and_content_beats_extension(tmp_path: Path) -> None:
    iio = pytest.importorskip("imageio.v3")
    gray = _data((30, 20), "uint16")
    iio.imwrite(tmp_path / "g.png", gray)
    (tmp_path / "g.png").rename(tmp_path / "mislabelled.tif")  # PNG content, TIFF name
    image = ngff.convert(tmp_path / "mislabelled.tif", tmp_path / "g.zarr")
    assert image.dims == ("y", "x") and image.dtype == np.uint16
    np.testing.assert_array_equal(image.levels[0].compute(), gray)


# --------------------------------------------------------------------------- bioio


def test_bioio_mapping_layer(tmp_path: Path) -> None:
    pytest.importorskip("bioio")
    pytest.importorskip("bioio_ome_tiff")
    data = _data((2, 3, 4, 32, 40))  # T C Z Y X
    tifffile.imwrite(
        tmp_path / "v.ome.tif", data, ome=True, photometric="minisblack",
        metadata={
            "axes": "TCZYX", "PhysicalSizeX": 0.5, "PhysicalSizeY": 0.5, "PhysicalSizeZ": 2.0,
            "TimeIncrement": 3.0,
            "Channel": {"Name": ["a", "b", "c"], "Color": [_color((255, 0, 0)), _color((0, 255, 0)), _color((0, 0, 255))]},
        },
    )
    image = ngff.convert(tmp_path / "v.ome.tif", tmp_path / "v.zarr", reader="bioio", chunks=16)
    assert image.dims == ("t", "c", "z", "y", "x")
    np.testing.assert_array_equal(image.levels[0].compute(), data)
    assert dict(zip(image.dims, image.scales[0])) == {"t": 3.0, "c": 1.0, "z": 2.0, "y": 0.5, "x": 0.5}
    assert {a.name: a.unit for a in image.axes}["x"] == "micrometer"
    assert [c.label for c in image.omero.channels] == ["a", "b", "c"]
    assert [c.color for c in image.omero.channels] == ["FF0000", "00FF00", "0000FF"]
    # singleton axes are dropped; the pickled source reopens with the same plugin
    tifffile.imwrite(tmp_path / "s.ome.tif", data[:1, :1, :1], ome=True, metadata={"axes": "TCZYX"})
    source = open_source(tmp_path / "s.ome.tif", reader="bioio")
    assert source.dims == ("y", "x") and source.data.shape == (32, 40)
    import pickle

    np.testing.assert_array_equal(pickle.loads(pickle.dumps(source.data))[:5, :5], data[0, 0, 0, :5, :5])


def test_vendor_file_without_its_plugin_names_it(tmp_path: Path) -> None:
    pytest.importorskip("bioio")
    (tmp_path / "scan.nd2").write_bytes(b"\x00" * 64)
    with pytest.raises(ngff.NgffError, match="bioio-nd2"):
        ngff.convert(tmp_path / "scan.nd2", tmp_path / "x.zarr")
    assert not (tmp_path / "x.zarr").exists()


# --------------------------------------------------------------------------- choosing readers


def test_unknown_format_lists_the_extras(tmp_path: Path) -> None:
    (tmp_path / "x.weird").write_bytes(b"nothing known")
    with pytest.raises(ngff.NgffError) as info:
        ngff.convert(tmp_path / "x.weird", tmp_path / "x.zarr")
    message = str(info.value)
    for needle in ("TIFF", "PNG", "[convert]", "napari-ngff[bioio]", "bioio-nd2"):
        assert needle in message, message
    result = runner.invoke(app, ["convert", str(tmp_path / "x.weird"), str(tmp_path / "x.zarr")])
    assert result.exit_code == 2 and "napari-ngff[bioio]" in result.output


def test_missing_reader_package_names_its_extra(tmp_path: Path, monkeypatch) -> None:
    fake = ReaderEntry("fake", (".fake",), "ngff.convert.image_reader:open_image", requires=("no_such_package_xyz",), extra="fakeextra", describe="Fake")
    monkeypatch.setattr("ngff.convert.registry.READERS", [*READERS, fake])
    (tmp_path / "a.fake").write_bytes(b"abc")
    with pytest.raises(ngff.NgffError, match=r"needs no_such_package_xyz.*napari-ngff\[fakeextra\]"):
        ngff.convert(tmp_path / "a.fake", tmp_path / "x.zarr")
    with pytest.raises(ngff.NgffError, match="unknown reader 'nope'"):
        ngff.convert(tmp_path / "a.fake", tmp_path / "x.zarr", reader="nope")


def test_reader_choice_by_content_then_extension(tmp_path: Path) -> None:
    tiff = tmp_path / "a.dat"
    tifffile.imwrite(tiff, _data((8, 8)))
    assert choose_reader(tiff, tiff.read_bytes()[:512]).name == "tiff"
    assert choose_reader(tmp_path / "b.png", b"").name == "imageio"
    assert choose_reader(tmp_path / "c.czi", b"ZISRAWFILE").name == "bioio"
    assert choose_reader(tmp_path / "c.npy", b"\x93NUMPY").name == "npy"


# --------------------------------------------------------------------------- command line


def test_cli_series_all_reader_and_backend(tmp_path: Path) -> None:
    with tifffile.TiffWriter(tmp_path / "m.tif") as tif:
        tif.write(_data((20, 30), "uint8"))
        tif.write(_data((2, 20, 30), "uint8", seed=3), photometric="minisblack")
    result = runner.invoke(app, ["convert", str(tmp_path / "m.tif"), str(tmp_path / "all.zarr"), "--series", "all"])
    assert result.exit_code == 0, result.output
    assert "collection of 2 series" in result.output
    assert ngff.read(tmp_path / "all.zarr").series_paths == ("0", "1")
    result = runner.invoke(app, ["convert", str(tmp_path / "m.tif"), str(tmp_path / "b.zarr"), "--series", "x"])
    assert result.exit_code == 2 and "--series x" in result.output
    result = runner.invoke(app, ["convert", str(tmp_path / "m.tif"), str(tmp_path / "r.zarr"), "--reader", "tiff", "--series", "1"])
    assert result.exit_code == 0, result.output
    assert ngff.read(tmp_path / "r.zarr").shape == (2, 20, 30)


def test_bioio_scenes_are_series(tmp_path: Path) -> None:
    pytest.importorskip("bioio")
    pytest.importorskip("bioio_ome_tiff")
    first, second = _data((2, 30, 40), "uint8"), _data((3, 20, 24), "uint8", seed=5)
    with tifffile.TiffWriter(tmp_path / "scenes.ome.tif") as tif:
        tif.write(first, metadata={"axes": "CYX"}, photometric="minisblack")
        tif.write(second, metadata={"axes": "ZYX"}, photometric="minisblack")
    assert series_count(tmp_path / "scenes.ome.tif", reader="bioio") == 2
    collection = ngff.convert(tmp_path / "scenes.ome.tif", tmp_path / "s.zarr", series="all", reader="bioio")
    assert collection.series_paths == ("0", "1")
    np.testing.assert_array_equal(collection.images["0"].levels[0].compute(), first)
    np.testing.assert_array_equal(collection.images["1"].levels[0].compute(), second)
    with pytest.raises(ngff.NgffError, match="series 2 requested"):
        ngff.convert(tmp_path / "scenes.ome.tif", tmp_path / "x.zarr", series=2, reader="bioio")


def test_contiguous_tiffs_are_memory_mapped_in_either_byte_order(tmp_path: Path) -> None:
    data = _data((3, 40, 50))
    for order in ("<", ">"):
        path = tmp_path / f"c{order == '>'}.tif"
        tifffile.imwrite(path, data, byteorder=order, photometric="minisblack")
        source = open_source(path)
        assert isinstance(source.data._open(), np.memmap)  # uncompressed, contiguous: mapped
        source.close()
        image = ngff.convert(path, tmp_path / f"c{order == '>'}.zarr", chunks=16)
        assert image.dtype == np.uint16
        np.testing.assert_array_equal(image.levels[0].compute(), data)
