"""Stores written by ``ngff.write`` / ``ngff.write_labels``, checked by everyone else.

Every store of the round-trip matrix must be

* valid under our validator, also with ``strict=True`` (all SHOULDs the writer can
  meet are met when it is given a name and units),
* valid under the official JSON schemas of the shared conformance folder (plain and
  strict schemas),
* accepted by ``ome-zarr-models``, and
* read back by ``ome-zarr-py`` and ``ngff-zarr`` with the same pixels at every level
  and the same level shapes, scales and translations as ``ngff.read`` - which in turn
  must be the pyramid geometry the writer promises (floor-divided shapes,
  pixel-centre aligned translations).

The matrix covers 2-D to 5-D, odd shapes, four dtypes and big-endian input, for 0.4,
0.5 and sharded 0.5, in few-kilobyte stores: each version variant meets every dtype
and every shape (a Latin-square cover rather than the full product, to stay fast).
"""

from __future__ import annotations

import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ngff

pytestmark = pytest.mark.interop

zarr = pytest.importorskip("zarr")
ome_zarr_models = pytest.importorskip("ome_zarr_models")
ngff_zarr = pytest.importorskip("ngff_zarr")
ome_zarr_io = pytest.importorskip("ome_zarr.io")
ome_zarr_reader = pytest.importorskip("ome_zarr.reader")

DTYPES = ["uint8", "uint16", "int32", "float32", ">u2"]
#: (dims, shape) - 2-D to 5-D, odd sizes, a single-plane channel axis, a 1001-wide x.
SHAPES = [
    ("yx", (47, 61)),
    ("zyx", (9, 40, 33)),
    ("czyx", (1, 3, 97, 1001)),
    ("tzyx", (2, 5, 33, 40)),
    ("tczyx", (2, 2, 3, 31, 29)),
]
#: (version, shards)
VARIANTS = [("0.4", None), ("0.5", None), ("0.5", "auto")]
UNITS = {"t": "second", "z": "micrometer", "y": "micrometer", "x": "micrometer"}
SCALE = {"t": 1.5, "c": 1.0, "z": 2.0, "y": 0.5, "x": 0.25}
TRANSLATION = {"t": 0.0, "c": 0.0, "z": -3.0, "y": 10.0, "x": 0.125}


@dataclass(frozen=True)
class Case:
    dims: str
    shape: tuple[int, ...]
    dtype: str
    version: str
    shards: Any

    @property
    def id(self) -> str:
        shard = f"-shards_{self.shards}" if self.shards else ""
        return f"{self.dims}-{'x'.join(map(str, self.shape))}-{self.dtype.replace('>', 'be')}-v{self.version}{shard}"


CASES = [
    Case(dims, shape, DTYPES[(i + j) % len(DTYPES)], version, shards)
    for i, (dims, shape) in enumerate(SHAPES)
    for j, (version, shards) in enumerate(VARIANTS)
]


def _data(shape: tuple[int, ...], dtype: str, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        values = rng.normal(100.0, 30.0, size=shape).astype(dt)
    else:
        info = np.iinfo(dt)
        values = rng.integers(
            max(int(info.min), -30000), min(int(info.max), 60000), size=shape, endpoint=True
        )
        values = values.astype(dt)
    # A smooth ramp on top of the noise so the downsampled levels are not flat.
    ramp = np.indices(shape).sum(axis=0) % 50
    return (values + ramp.astype(dt)).astype(dt) if dt.kind != "f" else (values + ramp).astype(dt)


@dataclass
class Written:
    case: Case
    path: Path
    data: np.ndarray
    image: Any  # ngff.Image as read back


@pytest.fixture(scope="module", params=CASES, ids=[c.id for c in CASES])
def written(request, tmp_path_factory) -> Written:
    case: Case = request.param
    data = _data(case.shape, case.dtype, seed=zlib.crc32(case.id.encode()))
    path = tmp_path_factory.mktemp("interop") / f"{case.id}.ome.zarr"
    dims = tuple(case.dims)
    ngff.write(
        data,
        path,
        dims=dims,
        scale={d: SCALE[d] for d in dims},
        translation={d: TRANSLATION[d] for d in dims},
        units={d: UNITS[d] for d in dims if d in UNITS},
        name="matrix",
        version=case.version,
        shards=case.shards,
        chunks=16 if max(case.shape) < 512 else 64,  # small chunks, but not thousands of them
    )
    return Written(case, path, data, ngff.read(path))


# --------------------------------------------------------------------------- helpers


def _levels(image) -> list[np.ndarray]:
    return [np.asarray(level.compute()) for level in image.levels]


def _check_geometry(image, data: np.ndarray) -> None:
    """Level shapes and transforms are those of an integer-factor, centre-aligned pyramid."""
    s0, t0 = np.array(image.scales[0]), np.array(image.translations[0])
    assert image.levels[0].shape == data.shape
    previous = np.ones(len(s0), dtype=int)
    for level, scale, shift in zip(image.levels, image.scales, image.translations):
        factors = np.array(scale) / s0
        assert np.allclose(factors, np.round(factors)), factors
        f = np.round(factors).astype(int)
        assert np.all(f % previous == 0), (f, previous)  # each level refines the previous
        previous = f
        assert level.shape == tuple(n // q for n, q in zip(data.shape, f))
        assert np.allclose(shift, t0 + 0.5 * (f - 1) * s0)
    assert len(image.levels) > 1


def _transforms(
    datasets_meta: list[list[dict[str, Any]]],
) -> list[tuple[tuple[float, ...], tuple[float, ...]]]:
    """(scale, translation) per level from a list of coordinateTransformations lists."""
    out = []
    for transforms in datasets_meta:
        scale = translation = None
        for t in transforms:
            t = t if isinstance(t, dict) else t.model_dump()
            if t["type"] == "scale":
                scale = tuple(float(v) for v in t["scale"])
            elif t["type"] == "translation":
                translation = tuple(float(v) for v in t["translation"])
        assert scale is not None
        out.append((scale, translation or (0.0,) * len(scale)))
    return out


def _ours(image) -> list[tuple[tuple[float, ...], tuple[float, ...]]]:
    return [
        (tuple(map(float, s)), tuple(map(float, t)))
        for s, t in zip(image.scales, image.translations)
    ]


def _problems(report) -> list[str]:
    return [f"{p.severity} {p.path} {p.rule}: {p.message}" for p in report.problems]


def _ome_zarr_py_nodes(path: Path) -> list[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        location = ome_zarr_io.parse_url(str(path))
        assert location is not None, "ome-zarr-py does not recognise the store"
        return list(ome_zarr_reader.Reader(location)())


# --------------------------------------------------------------------------- the matrix


def test_pixels_and_geometry(written: Written) -> None:
    image = written.image
    assert image.version == written.case.version
    assert image.dims == tuple(written.case.dims)
    levels = _levels(image)
    np.testing.assert_array_equal(levels[0], written.data)
    assert levels[0].dtype == np.dtype(written.case.dtype).newbyteorder("=")
    _check_geometry(image, written.data)


def test_valid_under_our_validator(written: Written) -> None:
    report = ngff.validate(written.path)
    assert report.ok and not [p for p in report.problems if str(p.severity) == "error"], _problems(
        report
    )
    strict = ngff.validate(written.path, strict=True)
    # A name and units were given: every SHOULD the writer can meet must be met.
    assert strict.ok and not strict.problems, _problems(strict)


def test_valid_under_official_schemas(written: Written, conformance_dir: Path) -> None:
    spec = conformance_dir / "spec"
    for strict in (False, True):
        report = ngff.validate(written.path, schemas=spec, strict=strict)
        assert report.ok and not report.problems, (strict, _problems(report))


def test_ome_zarr_models(written: Written) -> None:
    group = zarr.open_group(str(written.path), mode="r")
    model = ome_zarr_models.open_ome_zarr(group)
    module = {"0.4": ome_zarr_models.v04, "0.5": ome_zarr_models.v05}[written.case.version]
    assert isinstance(model, module.image.Image), type(model)
    attrs = model.ome_attributes if written.case.version == "0.5" else model.attributes
    multiscale = attrs.multiscales[0]
    assert [a.name for a in multiscale.axes] == list(written.case.dims)
    assert [d.path for d in multiscale.datasets] == [
        str(k) for k in range(len(written.image.levels))
    ]
    assert _transforms([list(d.coordinateTransformations) for d in multiscale.datasets]) == _ours(
        written.image
    )


def test_ome_zarr_py(written: Written) -> None:
    nodes = _ome_zarr_py_nodes(written.path)
    node = nodes[0]
    assert len(node.data) == len(written.image.levels)
    ours = _levels(written.image)
    for theirs, mine in zip(node.data, ours):
        np.testing.assert_array_equal(np.asarray(theirs), mine)
    assert _transforms(node.metadata["coordinateTransformations"]) == _ours(written.image)
    assert [a["name"] for a in node.metadata["axes"]] == list(written.case.dims)


def test_ngff_zarr(written: Written) -> None:
    multiscales = ngff_zarr.from_ngff_zarr(str(written.path))
    images = multiscales.images
    assert len(images) == len(written.image.levels)
    ours = _levels(written.image)
    dims = list(written.case.dims)
    for k, (theirs, mine) in enumerate(zip(images, ours)):
        assert list(theirs.dims) == dims
        np.testing.assert_array_equal(np.asarray(theirs.data), mine)
        scale, translation = _ours(written.image)[k]
        assert tuple(float(theirs.scale[d]) for d in dims) == scale
        assert tuple(float(theirs.translation[d]) for d in dims) == translation
    units = images[0].axes_units or {}
    for d in dims:
        if d in UNITS:
            assert units.get(d) == UNITS[d]


# --------------------------------------------------------------------------- labels


@pytest.fixture(
    scope="module", params=VARIANTS, ids=[f"v{v}{'-sharded' if s else ''}" for v, s in VARIANTS]
)
def with_labels(request, tmp_path_factory) -> tuple[Path, np.ndarray, np.ndarray, str]:
    version, shards = request.param
    path = tmp_path_factory.mktemp("labels") / "image.ome.zarr"
    image = _data((2, 6, 45, 52), "uint16", seed=3)
    ngff.write(
        image,
        path,
        dims="czyx",
        scale={"z": 2.0, "y": 0.5, "x": 0.5},
        units={"z": "micrometer", "y": "micrometer", "x": "micrometer"},
        name="cells-image",
        channels=["dapi", "gfp"],
        version=version,
        shards=shards,
        chunks=16,
    )
    labels = np.zeros((6, 45, 52), dtype=np.uint32)
    labels[1:5, 5:25, 8:30] = 7
    labels[2:6, 20:44, 30:50] = 3
    ngff.write_labels(
        path,
        "cells",
        labels,
        colors={3: (255, 0, 0, 255), 7: (0, 128, 255, 200)},
        properties={3: {"class": "nucleus"}, 7: {"class": "cytoplasm"}},
        shards=shards,
        chunks=16,
    )
    return path, image, labels, version


def test_labels_valid(with_labels, conformance_dir: Path) -> None:
    path = with_labels[0]
    for strict in (False, True):
        report = ngff.validate(path, strict=strict)
        assert report.ok and not report.problems, _problems(report)
        report = ngff.validate(path, strict=strict, schemas=conformance_dir / "spec")
        assert report.ok and not report.problems, _problems(report)


def test_labels_ome_zarr_models(with_labels) -> None:
    path, _, _, version = with_labels
    module = {"0.4": ome_zarr_models.v04, "0.5": ome_zarr_models.v05}[version]
    listing = ome_zarr_models.open_ome_zarr(zarr.open_group(str(path / "labels"), mode="r"))
    assert isinstance(listing, module.labels.Labels), type(listing)
    label = ome_zarr_models.open_ome_zarr(zarr.open_group(str(path / "labels" / "cells"), mode="r"))
    # ome-zarr-models cannot tell 0.5 label images from images by metadata alone and
    # may return either; 0.4 has a dedicated ImageLabel model.
    expected = (
        (module.image_label.ImageLabel,)
        if version == "0.4"
        else (module.image_label.ImageLabel, module.image.Image)
    )
    assert isinstance(label, expected), type(label)
    model = module.image_label.ImageLabel.from_zarr(
        zarr.open_group(str(path / "labels" / "cells"), mode="r")
    )
    attrs = model.ome_attributes if version == "0.5" else model.attributes
    colors = {c.label_value: tuple(c.rgba) for c in attrs.image_label.colors}
    assert colors == {3: (255, 0, 0, 255), 7: (0, 128, 255, 200)}


def test_labels_ome_zarr_py(with_labels) -> None:
    path, image, labels, _ = with_labels
    nodes = _ome_zarr_py_nodes(path)
    np.testing.assert_array_equal(np.asarray(nodes[0].data[0]), image)
    label_nodes = [n for n in nodes if any(type(s).__name__ == "Label" for s in n.specs)]
    assert len(label_nodes) == 1, [n.specs for n in nodes]
    node = label_nodes[0]
    np.testing.assert_array_equal(np.asarray(node.data[0]), labels)
    ours = ngff.read(path).labels["cells"]
    assert [tuple(d.shape) for d in node.data] == [lvl.shape for lvl in ours.levels]
    for theirs, mine in zip(node.data, ours.levels):
        np.testing.assert_array_equal(np.asarray(theirs), mine.compute())
    assert _transforms(node.metadata["coordinateTransformations"]) == _ours(ours)
    assert set(node.metadata.get("color", {})) == {3, 7}
    # Label levels cover the image's: same number of levels, same physical grid.
    parent = ngff.read(path)
    assert len(ours.levels) == len(parent.levels)
    for k in range(len(parent.levels)):
        assert ours.scales[k] == parent.scales[k][1:]
        assert ours.translations[k] == parent.translations[k][1:]


def test_labels_ngff_zarr(with_labels) -> None:
    path, _, labels, _ = with_labels
    multiscales = ngff_zarr.from_ngff_zarr(str(path / "labels" / "cells"))
    np.testing.assert_array_equal(np.asarray(multiscales.images[0].data), labels)
    ours = ngff.read(path).labels["cells"]
    assert [tuple(i.data.shape) for i in multiscales.images] == [lvl.shape for lvl in ours.levels]


# --------------------------------------------------------------------------- defaults and strictness


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_defaults_meet_strict_shoulds(tmp_path: Path, version: str) -> None:
    """With no name, units or label colours given, the writer should still meet the SHOULDs it can.

    Units cannot be invented, and a missing unit stays a warning even under strict; a
    multiscale name and label colours could be defaulted by the writer.
    """
    path = tmp_path / "defaults.ome.zarr"
    ngff.write(_data((2, 5, 40, 40), "uint16"), path, version=version, chunks=16)
    ngff.write_labels(
        path, "seg", (np.arange(5 * 40 * 40).reshape(5, 40, 40) % 3).astype(np.uint8), chunks=16
    )
    report = ngff.validate(path, strict=True)
    left = {p.rule for p in report.problems}
    assert left <= {"axes.unit-missing"}, _problems(report)
    assert report.ok, _problems(report)
