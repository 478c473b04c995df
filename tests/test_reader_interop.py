"""Stores written by other OME-Zarr libraries, read back by :func:`ngff.read`.

ome-zarr-py (0.4 ``FormatV04`` and 0.5 ``FormatV05``, with labels and an HCS plate) and
ngff-zarr (0.4 and 0.5, the latter sharded) write small images inside each test; ngff must
give the same pixels at every level as the writing library's own reader, and the same
metadata (dims, units, per-level scale and translation, label names and colours).
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import ngff

pytestmark = pytest.mark.interop

ome_zarr = pytest.importorskip("ome_zarr")
ngff_zarr = pytest.importorskip("ngff_zarr")

import zarr
from ome_zarr.format import FormatV04, FormatV05
from ome_zarr.io import parse_url
from ome_zarr.reader import Reader
from ome_zarr.writer import write_image, write_labels, write_plate_metadata, write_well_metadata

FORMATS = {"0.4": FormatV04, "0.5": FormatV05}

IMAGE = (np.arange(2 * 4 * 16 * 16, dtype=np.int64).reshape(2, 4, 16, 16) * 37 % 65521).astype(
    np.uint16
)
LABELS = ((np.arange(4 * 16 * 16).reshape(1, 4, 16, 16) // 7) % 5).astype(np.uint32)
UNITS = {"z": "micrometer", "y": "micrometer", "x": "micrometer"}
LABEL_COLORS = [
    {"label-value": 1, "rgba": [255, 0, 0, 255]},
    {"label-value": 3, "rgba": [0, 128, 255, 100]},
]


def _transforms(datasets_meta) -> tuple[list[tuple[float, ...]], list[tuple[float, ...]]]:
    """Per-level (scale, translation) from a list of coordinateTransformations lists."""
    scales, shifts = [], []
    for cts in datasets_meta:
        scale = next(t["scale"] for t in cts if t["type"] == "scale")
        shift = next(
            (t["translation"] for t in cts if t["type"] == "translation"), [0.0] * len(scale)
        )
        scales.append(tuple(float(v) for v in scale))
        shifts.append(tuple(float(v) for v in shift))
    return scales, shifts


def _assert_levels_close(actual, expected) -> None:
    """Per-level vectors equal within float tolerance (pytest.approx takes no nested sequences)."""
    assert len(actual) == len(expected), (actual, expected)
    for k, (got, want) in enumerate(zip(actual, expected)):
        assert tuple(got) == pytest.approx(tuple(want)), f"level {k}: {got} != {want}"


def _ome_zarr_nodes(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(Reader(parse_url(str(path)))())


def _assert_same_pixels(ngff_levels, other_levels) -> None:
    assert len(ngff_levels) == len(other_levels)
    for i, (ours, theirs) in enumerate(zip(ngff_levels, other_levels)):
        theirs = np.asarray(theirs)
        assert ours.shape == theirs.shape, f"level {i}"
        np.testing.assert_array_equal(ours.compute(), theirs, err_msg=f"level {i}")


# --------------------------------------------------------------------------- ome-zarr-py


@pytest.fixture(scope="module", params=["0.4", "0.5"])
def ome_zarr_py_image(request, tmp_path_factory):
    version = request.param
    fmt = FORMATS[version]()
    path = tmp_path_factory.mktemp(f"ome-zarr-py-{version}") / "image.ome.zarr"
    group = zarr.open_group(str(path), mode="w", zarr_format=fmt.zarr_format)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_image(
            IMAGE,
            group,
            scale_factors=[2, 4],
            fmt=fmt,
            axes="czyx",
            scale={"z": 2.0, "y": 0.5, "x": 0.5},
            axes_units=UNITS,
            storage_options={"chunks": (1, 2, 8, 8)},
        )
        write_labels(
            LABELS,
            group,
            name="cells",
            fmt=fmt,
            axes="czyx",
            scale_factors=[2, 4],
            label_metadata={"colors": LABEL_COLORS},
        )
    return version, path


def test_ome_zarr_py_image_pixels_and_metadata(ome_zarr_py_image):
    version, path = ome_zarr_py_image
    img = ngff.read(path)
    assert isinstance(img, ngff.Image)
    assert img.version == version
    node = _ome_zarr_nodes(path)[0]
    _assert_same_pixels(img.levels, node.data)
    np.testing.assert_array_equal(img.levels[0].compute(), IMAGE)
    axes = node.metadata["axes"]
    assert img.dims == tuple(a["name"] for a in axes) == ("c", "z", "y", "x")
    assert [a.type for a in img.axes] == [a.get("type") for a in axes]
    assert (
        [a.unit for a in img.axes]
        == [a.get("unit") for a in axes]
        == [None, "micrometer", "micrometer", "micrometer"]
    )
    scales, shifts = _transforms(node.metadata["coordinateTransformations"])
    _assert_levels_close(img.scales, scales)
    _assert_levels_close(img.translations, shifts)
    assert img.scales[0] == pytest.approx((1.0, 2.0, 0.5, 0.5))
    # storage_options chunks are the stored chunks, and dask follows them
    assert tuple(c[0] for c in img.levels[0].chunks) == (1, 2, 8, 8)


def test_ome_zarr_py_labels(ome_zarr_py_image):
    version, path = ome_zarr_py_image
    img = ngff.read(path)
    assert list(img.labels) == ["cells"]
    label = img.labels["cells"]
    assert label.is_label
    assert label.version == version
    assert label.image_label.source in (None, "../../")  # ome-zarr-py writes no "source"
    assert [(c.value, c.rgba) for c in label.image_label.colors] == [
        (c["label-value"], tuple(c["rgba"])) for c in LABEL_COLORS
    ]
    node = _ome_zarr_nodes(path / "labels" / "cells")[0]
    _assert_same_pixels(label.levels, node.data)
    np.testing.assert_array_equal(label.levels[0].compute(), LABELS)
    scales, shifts = _transforms(node.metadata["coordinateTransformations"])
    _assert_levels_close(label.scales, scales)
    _assert_levels_close(label.translations, shifts)


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_ome_zarr_py_plate(tmp_path, version):
    fmt = FORMATS[version]()
    path = tmp_path / "plate.ome.zarr"
    root = zarr.open_group(str(path), mode="w", zarr_format=fmt.zarr_format)
    wells = ["A/1", "B/2"]
    acquisitions = [{"id": 0, "name": "a0"}, {"id": 1, "name": "a1"}]
    fields = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_plate_metadata(
            root, ["A", "B"], ["1", "2"], wells, fmt=fmt, acquisitions=acquisitions, name="p"
        )
        for w, well_path in enumerate(wells):
            row, col = well_path.split("/")
            well_group = root.require_group(row).require_group(col)
            write_well_metadata(
                well_group,
                [{"path": "0", "acquisition": 0}, {"path": "1", "acquisition": 1}],
                fmt=fmt,
            )
            for f in range(2):
                data = (np.arange(2 * 8 * 8).reshape(2, 8, 8) + 100 * w + 10 * f).astype(np.uint8)
                fields[(well_path, f)] = data
                write_image(
                    data, well_group.require_group(str(f)), scale_factors=[2], fmt=fmt, axes="cyx"
                )
    plate = ngff.read(path)
    assert isinstance(plate, ngff.Plate)
    assert plate.version == version
    assert plate.name == "p"
    assert plate.rows == ("A", "B") and plate.columns == ("1", "2")
    assert [w.path for w in plate.wells] == wells
    assert [(a.id, a.name) for a in plate.acquisitions] == [(0, "a0"), (1, "a1")]
    for well_path in wells:
        well = plate.well(*well_path.split("/"))
        assert well.field_paths == ("0", "1")
        assert well.acquisitions == (0, 1)
        for f in range(2):
            field = well.fields[f]
            assert field.dims == ("c", "y", "x")
            np.testing.assert_array_equal(field.levels[0].compute(), fields[(well_path, f)])
            node = _ome_zarr_nodes(path / well_path / str(f))[0]
            _assert_same_pixels(field.levels, node.data)


# --------------------------------------------------------------------------- ngff-zarr

VOLUME = (np.arange(8 * 16 * 16, dtype=np.int64).reshape(8, 16, 16) * 101 % 65521).astype(np.uint16)


@pytest.fixture(scope="module", params=["0.4", "0.5"])
def ngff_zarr_image(request, tmp_path_factory):
    version = request.param
    path = tmp_path_factory.mktemp(f"ngff-zarr-{version}") / "image.ome.zarr"
    image = ngff_zarr.to_ngff_image(
        VOLUME,
        dims=["z", "y", "x"],
        scale={"z": 2.0, "y": 0.5, "x": 0.5},
        translation={"z": 1.0, "y": -3.0, "x": 4.0},
        axes_units=UNITS,
        name="volume",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        multiscales = ngff_zarr.to_multiscales(image, scale_factors=[2, 4], chunks=4)
        extra = {"chunks_per_shard": 2} if version == "0.5" else {}
        ngff_zarr.to_ngff_zarr(str(path), multiscales, version=version, **extra)
    return version, path


def test_ngff_zarr_pixels_and_metadata(ngff_zarr_image):
    version, path = ngff_zarr_image
    img = ngff.read(path)
    assert isinstance(img, ngff.Image)
    assert img.version == version
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = ngff_zarr.from_ngff_zarr(str(path))
    _assert_same_pixels(img.levels, [im.data for im in back.images])
    np.testing.assert_array_equal(img.levels[0].compute(), VOLUME)
    dims = tuple(back.images[0].dims)
    assert img.dims == dims == ("z", "y", "x")
    assert [a.type for a in img.axes] == ["space", "space", "space"]
    assert [a.unit for a in img.axes] == [UNITS[d] for d in dims]
    for i, im in enumerate(back.images):
        assert img.scales[i] == pytest.approx(tuple(im.scale[d] for d in dims)), f"level {i}"
        assert img.translations[i] == pytest.approx(tuple(im.translation[d] for d in dims)), (
            f"level {i}"
        )
    assert img.scales[0] == pytest.approx((2.0, 0.5, 0.5))
    assert img.translations[0] == pytest.approx((1.0, -3.0, 4.0))
    assert img.name == back.metadata.name


def test_ngff_zarr_dask_chunks_are_the_stored_inner_chunks(ngff_zarr_image):
    version, path = ngff_zarr_image
    img = ngff.read(path)
    for i, (level_path, level) in enumerate(zip(img.level_paths, img.levels)):
        if version == "0.5":
            doc = json.loads((path / level_path / "zarr.json").read_text())
            codec = doc["codecs"][0]
            assert codec["name"] == "sharding_indexed"  # chunks_per_shard=2 gave sharded levels
            inner = tuple(codec["configuration"]["chunk_shape"])
            if i == 0:  # (the coarsest level fits in one inner chunk)
                assert tuple(doc["chunk_grid"]["configuration"]["chunk_shape"]) != inner
        else:
            inner = tuple(json.loads((path / level_path / ".zarray").read_text())["chunks"])
        assert tuple(c[0] for c in level.chunks) == tuple(
            min(c, s) for c, s in zip(inner, level.shape)
        )


def test_ngff_zarr_consolidated_metadata_present(ngff_zarr_image):
    """ngff-zarr consolidates by default: ngff reads the same with or without it."""
    version, path = ngff_zarr_image
    if version == "0.5":
        assert "consolidated_metadata" in json.loads((path / "zarr.json").read_text())
    else:
        assert (path / ".zmetadata").is_file()
    img = ngff.read(path)
    assert [lvl.shape for lvl in img.levels] == [(8, 16, 16), (4, 8, 8), (2, 4, 4)]
