"""The reader contribution in a real napari viewer: every OME-Zarr version, labels,
plates, collections, stores written by ome-zarr-py and ngff-zarr, broken stores, and
``get_reader``'s strictness.  Screenshots check that the data really renders."""

from __future__ import annotations

import json
import warnings

import builders
import numpy as np
import pytest
from viewer_helpers import PLUGIN, background, canvas, data_fraction

import ngff
from napari_ngff._reader import get_reader


def _image_axes(expected) -> list[int]:
    return [i for i, a in enumerate(expected.axes) if a.type != "channel"]


def _channel_count(expected) -> int:
    dims = expected.dims
    return expected.shape[dims.index("c")] if "c" in dims else 1


def _last_color(layer) -> str:
    rgb = np.asarray(layer.colormap.colors)[-1][:3]
    return "".join(f"{round(float(v) * 255):02X}" for v in rgb)


# --------------------------------------------------------------------------- every version


@pytest.mark.parametrize("builder", sorted(builders.IMAGE_BUILDERS))
def test_open_every_version(viewer, tmp_path, builder):
    root = tmp_path / "image.zarr"
    root.mkdir()
    expected = builders.IMAGE_BUILDERS[builder](root)
    layers = viewer.open(str(root), plugin=PLUGIN)

    images = [layer for layer in layers if layer._type_string == "image"]
    labels = [layer for layer in layers if layer._type_string == "labels"]
    assert len(images) == _channel_count(expected)
    assert [layer.name for layer in labels] == list(expected.labels)
    keep = _image_axes(expected)
    c_axis = expected.dims.index("c") if "c" in expected.dims else None
    for c, layer in enumerate(images):
        # one layer per channel, every level sliced from the store's dask levels
        assert layer.multiscale is (len(expected.levels) > 1)
        levels = layer.data if layer.multiscale else [layer.data]
        assert len(levels) == len(expected.levels)
        for level, want in zip(levels, expected.levels):
            want_c = np.take(want, c, axis=c_axis) if c_axis is not None else want
            np.testing.assert_array_equal(np.asarray(level), want_c)
        assert tuple(layer.scale) == pytest.approx([expected.scales[0][i] for i in keep])
        assert tuple(layer.translate) == pytest.approx([expected.translations[0][i] for i in keep])
        assert tuple(layer.axis_labels) == tuple(expected.dims[i] for i in keep)
        assert [str(u) for u in layer.units] == [expected.axes[i].unit or "pixel" for i in keep]
        info = layer.metadata["ngff"]
        assert info["kind"] == "image" and info["version"] == expected.version
        assert info["level_paths"] == list(expected.level_paths)
        assert info["channel"] == (c if c_axis is not None else None)
        if expected.channels:
            channel = expected.channels[c]
            assert layer.name == channel["label"]
            assert _last_color(layer) == channel["color"]
            assert tuple(layer.contrast_limits) == (
                channel["window"]["start"],
                channel["window"]["end"],
            )
            assert layer.visible is channel["active"]
        else:
            # no OMERO: limits from the data of the coarsest level
            want = expected.levels[-1]
            want = np.take(want, c, axis=c_axis) if c_axis is not None else want
            assert tuple(layer.contrast_limits) == (float(want.min()), float(want.max()))
    for layer in labels:
        want = expected.labels[layer.name]
        assert layer.visible is False  # labels of an image open hidden
        np.testing.assert_array_equal(
            np.asarray(layer.data[0] if layer.multiscale else layer.data),
            np.squeeze(want.levels[0], axis=want.dims.index("c"))
            if "c" in want.dims
            else want.levels[0],
        )
        colors = {c["label-value"]: np.array(c["rgba"]) / 255 for c in builders.LABEL_COLORS}
        for value, rgba in colors.items():
            np.testing.assert_allclose(layer.colormap.color_dict[value], rgba, atol=1e-6)
        assert list(layer.features["index"]) == [
            p["label-value"] for p in builders.LABEL_PROPERTIES
        ]
        assert list(layer.features["class"]) == [p["class"] for p in builders.LABEL_PROPERTIES]


def _bright_square_store(path, version: str):
    """A 2-channel 3-D image: a quarter-bright background, a bright square in the middle."""
    data = np.full((2, 4, 64, 64), 250, dtype=np.uint16)
    data[:, :, 24:40, 24:40] = 1000
    ngff.write(
        data,
        path,
        dims="czyx",
        scale={"z": 1.0, "y": 0.5, "x": 0.5},
        units={"y": "micrometer", "x": "micrometer"},
        channels=[
            {"label": "magenta", "color": "FF00FF", "window": (0, 1000)},
            {"label": "green", "color": "00FF00", "window": (0, 1000)},
        ],
        version=version,
        chunks=16,
    )
    return data


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_screenshot_shows_the_data(viewer, tmp_path, version):
    path = tmp_path / "square.ome.zarr"
    _bright_square_store(path, version)
    bg = background(viewer)
    layers = viewer.open(str(path), plugin=PLUGIN)
    assert [layer.name for layer in layers] == ["magenta", "green"]
    assert [str(u) for u in layers[0].units] == ["pixel", "micrometer", "micrometer"]
    shot = canvas(viewer)
    # magenta + green add up to grey: a quarter-bright image with a white square
    grey = shot.max(axis=-1) - shot.min(axis=-1) < 10
    level = shot.mean(axis=-1)
    dim = grey & (np.abs(level - 64) < 12)
    bright = grey & (level > 240)
    assert data_fraction(shot, bg) > 0.3  # the image fills much of the canvas
    assert dim.mean() > 0.25
    assert 0.02 < bright.mean() < dim.mean() / 4  # the square is 1/16 of the image
    h, w = shot.shape[:2]
    assert bright[
        h // 2 - 3 : h // 2 + 3, w // 2 - 3 : w // 2 + 3
    ].all()  # brighter where the data is
    assert (np.abs(shot[1, 1] - bg) <= 12).all()  # outside the image: background


@pytest.mark.parametrize("builder", ["v01-flat", "v03", "v05-sharded", "big-endian"])
def test_builder_stores_render(viewer, tmp_path, builder):
    root = tmp_path / "image.zarr"
    root.mkdir()
    builders.IMAGE_BUILDERS[builder](root)
    bg = background(viewer)
    viewer.open(str(root), plugin=PLUGIN)
    for layer in viewer.layers:
        layer.visible = layer._type_string == "image"
    assert data_fraction(canvas(viewer), bg) > 0.05


def test_label_image_opens_visible_with_colors(viewer, tmp_path):
    root = tmp_path / "image.zarr"
    root.mkdir()
    expected = builders.build_v04(root)
    layers = viewer.open(str(root / "labels" / "cells"), plugin=PLUGIN)
    assert len(layers) == 1
    (layer,) = layers
    assert layer._type_string == "labels"
    assert layer.visible is True  # what was asked for is shown
    assert layer.name == "cells"
    assert layer.multiscale and len(layer.data) == len(expected.labels["cells"].levels)
    np.testing.assert_allclose(
        layer.colormap.color_dict[2], np.array([0, 255, 0, 128]) / 255, atol=1e-6
    )
    assert layer.metadata["ngff"]["kind"] == "label"
    bg = background(viewer)
    assert data_fraction(canvas(viewer), bg) > 0.05


def test_labels_group_opens_every_label(viewer, tmp_path):
    root = tmp_path / "image.zarr"
    root.mkdir()
    builders.build_v04(root)
    layers = viewer.open(str(root / "labels"), plugin=PLUGIN)
    assert [(layer.name, layer._type_string, layer.visible) for layer in layers] == [
        ("cells", "labels", True),
        ("nuclei", "labels", True),
    ]


# --------------------------------------------------------------------------- plates, collections


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_plate_mosaic(viewer, tmp_path, version):
    root = tmp_path / "plate.zarr"
    root.mkdir()
    expected = builders.build_plate(root, version=version)
    layers = viewer.open(str(root), plugin=PLUGIN)
    assert [layer.name for layer in layers] == ["DAPI", "GFP"]
    tile = expected.fields["A/1"][0].levels[-1]  # (c, y, x) at the coarsest level
    ty, tx = tile.shape[1:]
    rows, cols = len(expected.rows), len(expected.columns)
    for c, layer in enumerate(layers):
        assert layer.data.shape == (rows * ty, cols * tx)
        mosaic = np.asarray(layer.data)
        for well_path, r, col in expected.wells:
            want = expected.fields[well_path][0].levels[-1][c]
            np.testing.assert_array_equal(
                mosaic[r * ty : (r + 1) * ty, col * tx : (col + 1) * tx], want
            )
        # B/1 is not a well of this plate: zeros
        assert not mosaic[ty : 2 * ty, 0:tx].any()
        assert layer.metadata["ngff"]["kind"] == "plate"
        assert tuple(layer.scale) == pytest.approx(expected.fields["A/1"][0].scales[-1][1:])
    bg = background(viewer)
    assert data_fraction(canvas(viewer), bg) > 0.05


def test_plate_mosaic_opens_wells_lazily(tmp_path, monkeypatch):
    """The mosaic opens the first well only; the others' pixels are read without opening them."""
    from napari_ngff import _plate

    root = tmp_path / "plate.zarr"
    root.mkdir()
    builders.build_plate(root)
    plate = ngff.read(root)
    opened = []
    original = plate.load_well
    object.__setattr__(plate, "load_well", lambda path: opened.append(path) or original(path))
    mosaic, _, _ = _plate.plate_mosaic(plate)
    assert opened == ["A/1"]
    mosaic.compute()
    assert opened == ["A/1"]


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_bioformats2raw_collection(viewer, tmp_path, version):
    root = tmp_path / "collection.zarr"
    root.mkdir()
    expected = builders.build_bioformats2raw(root, version=version)
    layers = viewer.open(str(root), plugin=PLUGIN)
    names = [layer.name for layer in layers]
    assert names == ["0: DAPI", "0: GFP", "1: series-1"]
    # series overlap in space: only the first is shown (and GFP is inactive in OMERO)
    assert [layer.visible for layer in layers] == [True, False, False]
    np.testing.assert_array_equal(
        np.asarray(layers[2].data[0]), np.squeeze(expected.images["1"].levels[0], axis=1)
    )


def test_well_fields(viewer, tmp_path):
    root = tmp_path / "plate.zarr"
    root.mkdir()
    builders.build_plate(root)
    layers = viewer.open(str(root / "A" / "1"), plugin=PLUGIN)
    assert [layer.name for layer in layers] == ["0: DAPI", "0: GFP", "1: DAPI", "1: GFP"]
    assert [layer.visible for layer in layers] == [True, False, False, False]


# --------------------------------------------------------------------------- conformance fixtures


@pytest.mark.parametrize(
    "relative, n_layers",
    [
        ("ome_ome-zarr-py/tests/data/v1", 2),
        ("ome_ome-zarr-py/tests/data/v2", 2),
        ("BioImageTools_ome-zarr-examples/data/valid/image-01.zarr", None),
        ("BioImageTools_ome-zarr-examples/data/valid/image-02.zarr", None),
        ("BioImageTools_ome-zarr-examples/data/valid/image-03.zarr", None),
        ("BioImageTools_ome-zarr-examples/data/valid/image-04.zarr", None),
        ("BioImageTools_ome-zarr-examples/data/valid/plate-01.zarr", None),
        (
            "fideus-labs_ome-zarr-rfc4-validation/conformance/cases/SC-01_quadruped_valid.ome.zarr",
            None,
        ),
    ],
)
def test_conformance_fixtures_open(viewer, conformance_dir, relative, n_layers):
    path = _fixture(conformance_dir, relative)
    assert get_reader(str(path)) is not None
    layers = viewer.open(str(path), plugin=PLUGIN)
    assert layers, "a valid store gives layers"
    if n_layers is not None:
        assert len(layers) == n_layers
    for layer in layers:
        np.asarray(layer.data[-1] if layer.multiscale else layer.data)  # pixels readable


def _fixture(conformance_dir, relative):
    path = conformance_dir / "fixtures" / relative
    if not path.exists():  # fixture folder names vary in suffix
        matches = sorted(path.parent.glob(path.name + "*"))
        if not matches:
            pytest.fail(f"conformance fixture missing: {relative}")
        path = matches[0]
    return path


@pytest.mark.parametrize(
    "relative",
    [
        "BioImageTools_ome-zarr-examples/data/invalid/image-02.zarr",  # empty multiscales
        "BioImageTools_ome-zarr-examples/data/invalid/image-03.zarr",  # dataset path has no array
        "BioImageTools_ome-zarr-examples/data/invalid/image-04.zarr",  # level ndim differs from axes
        "ome_ome-ngff-validator/test_samples/invalid/invalid_version.zarr",
    ],
)
def test_broken_fixture_notifies_and_keeps_napari_working(
    viewer, conformance_dir, relative, monkeypatch
):
    shown = []
    monkeypatch.setattr("napari.utils.notifications.show_error", shown.append)
    path = _fixture(conformance_dir, relative)
    layers = viewer.open(str(path), plugin=PLUGIN)
    assert layers == []
    assert len(shown) == 1 and str(path) in shown[0]
    viewer.add_points([[1, 1]])  # napari is still fine
    assert len(viewer.layers) == 1


def test_corrupt_metadata_notifies(viewer, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr("napari.utils.notifications.show_error", shown.append)
    root = tmp_path / "bad.ome.zarr"
    root.mkdir()
    builders.write_v2_group(
        root, {"multiscales": [{"version": "0.4", "axes": "nonsense", "datasets": 7}]}
    )
    assert viewer.open(str(root), plugin=PLUGIN) == []
    assert len(shown) == 1 and "bad.ome.zarr" in shown[0]


def test_missing_array_notifies(viewer, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr("napari.utils.notifications.show_error", shown.append)
    root = tmp_path / "image.zarr"
    root.mkdir()
    expected = builders.build_v04(root, labels=())
    import shutil

    shutil.rmtree(root / expected.level_paths[1])
    assert viewer.open(str(root), plugin=PLUGIN) == []
    assert len(shown) == 1 and expected.level_paths[1] in shown[0]


def test_broken_label_keeps_the_image(viewer, tmp_path, monkeypatch):
    warned = []
    monkeypatch.setattr("napari.utils.notifications.show_warning", warned.append)
    root = tmp_path / "image.zarr"
    root.mkdir()
    builders.build_v04(root)
    (root / "labels" / "nuclei" / ".zattrs").write_text("{not json")
    layers = viewer.open(str(root), plugin=PLUGIN)
    assert [layer.name for layer in layers] == ["DAPI", "GFP", "cells"]
    assert len(warned) == 1 and "nuclei" in warned[0]


# --------------------------------------------------------------------------- other writers


@pytest.mark.interop
@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_store_written_by_ome_zarr_py(viewer, tmp_path, version):
    pytest.importorskip("ome_zarr")
    import zarr
    from ome_zarr.format import FormatV04, FormatV05
    from ome_zarr.writer import write_image, write_labels

    fmt = {"0.4": FormatV04, "0.5": FormatV05}[version]()
    image = (np.arange(2 * 4 * 32 * 32).reshape(2, 4, 32, 32) % 251).astype(np.uint8)
    cells = ((np.arange(4 * 32 * 32).reshape(1, 4, 32, 32) // 40) % 4).astype(np.uint32)
    path = tmp_path / "ome-zarr-py.ome.zarr"
    group = zarr.open_group(str(path), mode="w", zarr_format=fmt.zarr_format)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_image(
            image,
            group,
            scale_factors=[2],
            fmt=fmt,
            axes="czyx",
            scale={"z": 2.0, "y": 0.5, "x": 0.5},
            axes_units={"z": "micrometer", "y": "micrometer", "x": "micrometer"},
        )
        write_labels(
            cells,
            group,
            name="cells",
            fmt=fmt,
            axes="czyx",
            scale_factors=[2],
            label_metadata={"colors": [{"label-value": 1, "rgba": [255, 0, 0, 255]}]},
        )
    layers = viewer.open(str(path), plugin=PLUGIN)
    assert [layer._type_string for layer in layers] == ["image", "image", "labels"]
    assert layers[2].name == "cells"
    for c in range(2):
        np.testing.assert_array_equal(np.asarray(layers[c].data[0]), image[c])
        assert tuple(layers[c].scale) == pytest.approx((2.0, 0.5, 0.5))
        assert [str(u) for u in layers[c].units] == ["micrometer"] * 3
    np.testing.assert_array_equal(np.asarray(layers[2].data[0]), cells[0])
    np.testing.assert_allclose(layers[2].colormap.color_dict[1], [1, 0, 0, 1])
    layers[2].visible = True
    bg = background(viewer)
    assert data_fraction(canvas(viewer), bg) > 0.05


@pytest.mark.interop
@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_store_written_by_ngff_zarr(viewer, tmp_path, version):
    ngff_zarr = pytest.importorskip("ngff_zarr")
    volume = (np.arange(8 * 32 * 32).reshape(8, 32, 32) * 7 % 4001).astype(np.uint16)
    path = tmp_path / "ngff-zarr.ome.zarr"
    image = ngff_zarr.to_ngff_image(
        volume,
        dims=["z", "y", "x"],
        scale={"z": 2.0, "y": 0.5, "x": 0.5},
        translation={"z": 1.0, "y": -3.0, "x": 4.0},
        axes_units={"z": "micrometer", "y": "micrometer", "x": "micrometer"},
        name="volume",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        multiscales = ngff_zarr.to_multiscales(image, scale_factors=[2], chunks=16)
        ngff_zarr.to_ngff_zarr(str(path), multiscales, version=version)
    layers = viewer.open(str(path), plugin=PLUGIN)
    assert len(layers) == 1
    (layer,) = layers
    assert layer.name == "volume"
    assert layer.multiscale and len(layer.data) == 2
    np.testing.assert_array_equal(np.asarray(layer.data[0]), volume)
    assert tuple(layer.scale) == pytest.approx((2.0, 0.5, 0.5))
    assert tuple(layer.translate) == pytest.approx((1.0, -3.0, 4.0))
    coarsest = np.asarray(layer.data[-1])  # no OMERO: limits from the coarsest level
    assert tuple(layer.contrast_limits) == (float(coarsest.min()), float(coarsest.max()))
    bg = background(viewer)
    assert data_fraction(canvas(viewer), bg) > 0.05


# --------------------------------------------------------------------------- get_reader


def test_get_reader_declines_what_is_not_ome_zarr(tmp_path):
    import zarr

    plain = tmp_path / "plain.zarr"
    zarr.open_group(str(plain), mode="w", zarr_format=3).attrs["hello"] = "world"
    plain_v2 = tmp_path / "plain2.zarr"
    zarr.open_group(str(plain_v2), mode="w", zarr_format=2).attrs["hello"] = "world"
    array = tmp_path / "array.zarr"
    zarr.create_array(str(array), shape=(4, 4), dtype="u1")
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"\x89PNG")
    empty = tmp_path / "empty.zarr"
    empty.mkdir()
    garbage = tmp_path / "garbage.zarr"
    garbage.write_bytes(b"\x00\x01 not a zip")
    zip_garbage = tmp_path / "garbage.ozx"
    zip_garbage.write_bytes(b"PK\x03\x04 broken zip")
    bad_json = tmp_path / "badjson.zarr"
    bad_json.mkdir()
    (bad_json / "zarr.json").write_text("{nope")
    wrong_type = tmp_path / "wrongtype.zarr"
    wrong_type.mkdir()
    (wrong_type / "zarr.json").write_text(json.dumps([1, 2, 3]))
    for path in (
        plain,
        plain_v2,
        array,
        folder,
        empty,
        garbage,
        zip_garbage,
        bad_json,
        wrong_type,
        tmp_path / "missing.zarr",
    ):
        assert get_reader(str(path)) is None, path


@pytest.mark.parametrize(
    "value",
    [
        None,
        42,
        b"bytes",
        "",
        [],
        ["", None],
        "http://127.0.0.1:9/nothing.zarr",
        "s3://",
        "\x00\x01",
        "zip://x::nothing",
    ],
)
def test_get_reader_never_raises(value):
    assert get_reader(value) is None


def test_get_reader_accepts_every_kind(tmp_path):
    image = tmp_path / "image.zarr"
    image.mkdir()
    builders.build_v05(image)
    plate = tmp_path / "plate.zarr"
    plate.mkdir()
    builders.build_plate(plate)
    for path in (image, image / "labels", image / "labels" / "cells", plate, plate / "A" / "1"):
        assert get_reader(str(path)) is not None, path
    assert get_reader([str(image), str(plate)]) is not None
    assert get_reader([str(image), str(tmp_path)]) is None


def test_get_reader_reads_no_array(tmp_path, monkeypatch):
    from ngff.store import Store

    image = tmp_path / "image.zarr"
    image.mkdir()
    builders.build_v04(image)
    calls = []
    monkeypatch.setattr(Store, "open_array", lambda *a, **k: calls.append(a))
    assert get_reader(str(image)) is not None
    assert calls == []


def test_zip_store_opens(viewer, tmp_path):
    import zipfile

    root = tmp_path / "image.zarr"
    _bright_square_store(root, "0.5")
    ozx = tmp_path / "image.ozx"
    with zipfile.ZipFile(ozx, "w", compression=zipfile.ZIP_STORED) as archive:
        for file in sorted(root.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(root).as_posix())
    assert get_reader(str(ozx)) is not None
    layers = viewer.open(str(ozx), plugin=PLUGIN)
    assert [layer.name for layer in layers] == ["magenta", "green"]


# --------------------------------------------------------------------------- manifest


def test_npe2_validate_with_imports():
    import shutil
    import subprocess
    import sys

    npe2 = shutil.which("npe2")
    command = [npe2] if npe2 else [sys.executable, "-m", "npe2"]
    result = subprocess.run(
        [*command, "validate", PLUGIN, "--imports"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid" in (result.stdout + result.stderr).lower()


# --------------------------------------------------------------------------- URLs


@pytest.fixture
def http_root(tmp_path):
    """A loopback HTTP server over ``tmp_path`` (stopped after the test)."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path))
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_open_over_http(viewer, tmp_path, http_root, version):
    pytest.importorskip("aiohttp")
    root = tmp_path / "remote.ome.zarr"
    _bright_square_store(root, version)
    (tmp_path / "plain").mkdir()
    url = f"{http_root}/remote.ome.zarr"
    assert get_reader(url) is not None
    assert get_reader(f"{http_root}/plain") is None
    assert get_reader(f"{http_root}/missing.zarr") is None
    layers = viewer.open(url, plugin=PLUGIN)
    assert [layer.name for layer in layers] == ["magenta", "green"]
    assert layers[0].metadata["ngff"]["location"] == url
    np.testing.assert_array_equal(
        np.asarray(layers[0].data[0] if layers[0].multiscale else layers[0].data)[0, 30],
        [250] * 24 + [1000] * 16 + [250] * 24,
    )


def test_empty_labels_group_warns(viewer, tmp_path, monkeypatch):
    warned = []
    monkeypatch.setattr("napari.utils.notifications.show_warning", warned.append)
    root = tmp_path / "labels.zarr"
    root.mkdir()
    builders.write_v2_group(root, {"labels": []})
    assert viewer.open(str(root), plugin=PLUGIN) == []
    assert len(warned) == 1 and "holds no image" in warned[0]
