"""Tests of :func:`ngff.read`: every OME-Zarr version and layout, exact pixels, lazy access.

The stores are written by :mod:`builders` with plain zarr-python and JSON (never by
``ngff``), so each test compares the reader against independent ground truth.  Stores
from other tools and the official conformance material are read in the last sections.

A few tests document reader bugs that were reported and are not fixed yet; their names
end in ``_BUG`` and their docstrings say what is expected.  They fail until the fix lands
(deliberately not ``xfail``).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import builders as B
import numpy as np
import pytest

import ngff
from ngff.errors import (
    InvalidMetadataError,
    MissingArrayError,
    NgffError,
    NotOmeZarrError,
    StoreError,
    UnsupportedVersionError,
)

# --------------------------------------------------------------------------- helpers


def _normalized_chunks(chunks, shape):
    from dask.array.core import normalize_chunks

    return normalize_chunks(tuple(chunks), tuple(shape))


def assert_image_matches(img, exp: B.Expected, *, pixels: bool = True) -> None:
    """Everything the reader reports about an image equals what the builder wrote."""
    assert isinstance(img, ngff.Image), type(img)
    assert img.version == exp.version
    assert img.dims == exp.dims
    assert tuple(a.name for a in img.axes) == exp.dims
    assert tuple(a.type for a in img.axes) == tuple(a.type for a in exp.axes)
    assert tuple(a.unit for a in img.axes) == tuple(a.unit for a in exp.axes)
    assert img.name == exp.name
    assert img.path == exp.group
    assert tuple(img.level_paths) == tuple(exp.level_paths)
    assert len(img.levels) == len(exp.levels)
    assert img.shape == exp.shape
    assert np.dtype(img.dtype).newbyteorder("=") == np.dtype(exp.dtype).newbyteorder("=")
    assert len(img.scales) == len(img.translations) == len(exp.levels)
    for i, (level, expected) in enumerate(zip(img.levels, exp.levels)):
        assert level.shape == expected.shape, f"level {i}"
        # dask chunks are the stored chunks (inner chunks of shards), clipped at the edges
        assert level.chunks == _normalized_chunks(exp.chunks[i], expected.shape), f"level {i}"
        assert img.scales[i] == pytest.approx(exp.scales[i]), f"scale of level {i}"
        assert img.translations[i] == pytest.approx(exp.translations[i]), (
            f"translation of level {i}"
        )
        assert len(img.scales[i]) == len(img.translations[i]) == len(exp.dims)
        if pixels:
            got = level.compute()
            np.testing.assert_array_equal(got, expected, err_msg=f"pixels of level {i}")


def assert_error(exc_info, cls, location, *words):
    """The error is ``cls``, names ``location`` and says each of ``words``."""
    err = exc_info.value
    assert isinstance(err, cls), f"{type(err).__name__}: {err}"
    text = str(err)
    assert str(location) in text, f"location {location} not in {text!r}"
    for word in words:
        assert word.lower() in text.lower(), f"{word!r} not in {text!r}"


def _edit_json(path: Path, edit) -> None:
    doc = json.loads(path.read_text())
    result = edit(doc)
    path.write_text(json.dumps(doc if result is None else result))


def _zip_dir(src: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_STORED) as zf:
        for p in sorted(src.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(src).as_posix())
    return dest


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build each image store once per module (read-only tests share them)."""
    cache: dict[str, B.Expected] = {}

    def get(key: str) -> B.Expected:
        if key not in cache:
            cache[key] = B.IMAGE_BUILDERS[key](
                tmp_path_factory.mktemp(key.replace(" ", "_")) / "img.zarr"
            )
        return cache[key]

    return get


# --------------------------------------------------------------------------- images, every version


@pytest.mark.parametrize("key", sorted(B.IMAGE_BUILDERS))
def test_image_levels_metadata_and_pixels(built, key):
    exp = built(key)
    img = ngff.read(exp.path)
    # big-endian v2 pixels: see test_big_endian_v2_values_BUG (one failing test per bug)
    assert_image_matches(img, exp, pixels=key != "big-endian")
    assert img.location == str(exp.path)


@pytest.mark.parametrize("key", ["v01-flat", "v05-sharded"])
def test_read_accepts_str_and_pathlike(built, key):
    exp = built(key)
    assert ngff.read(str(exp.path)).shape == exp.shape
    assert ngff.read(exp.path).shape == exp.shape


def test_v01_uses_flat_chunk_keys_without_dimension_separator(built):
    exp = built("v01-flat")
    zarray = json.loads((exp.path / "0" / ".zarray").read_text())
    assert "dimension_separator" not in zarray
    assert (exp.path / "0" / "0.0.0.0.0").is_file()  # flat key really on disk
    img = ngff.read(exp.path)
    assert img.dims == ("t", "c", "z", "y", "x")
    assert [a.type for a in img.axes] == ["time", "channel", "space", "space", "space"]
    np.testing.assert_array_equal(img.levels[0].compute(), exp.levels[0])


@pytest.mark.parametrize("key", ["v02-nested", "v02-no-separator"])
def test_v02_nested_chunk_keys(built, key):
    exp = built(key)
    assert (exp.path / "0" / "0" / "0" / "0" / "0" / "0").is_file()  # nested key on disk
    img = ngff.read(exp.path)
    assert img.version == "0.2"
    np.testing.assert_array_equal(img.levels[1].compute(), exp.levels[1])


def test_v03_string_axes_types_inferred(built):
    img = ngff.read(built("v03").path)
    assert img.dims == ("c", "z", "y", "x")
    assert [a.type for a in img.axes] == ["channel", "space", "space", "space"]
    assert all(a.unit is None for a in img.axes)


def test_v04_custom_dataset_paths_and_units(built):
    exp = built("v04")
    img = ngff.read(exp.path)
    assert img.level_paths == ("scale0/image", "scale1/image", "scale2/image")
    assert [a.unit for a in img.axes] == ["second", None, "micrometer", "micrometer", "micrometer"]
    assert img.multiscale.type == "nearest"


def test_v05_sharded_dask_chunks_are_inner_chunks(built):
    exp = built("v05-sharded")
    doc = json.loads((exp.path / "s0" / "zarr.json").read_text())
    assert doc["codecs"][0]["name"] == "sharding_indexed"
    inner = tuple(doc["codecs"][0]["configuration"]["chunk_shape"])
    outer = tuple(doc["chunk_grid"]["configuration"]["chunk_shape"])
    assert inner != outer
    img = ngff.read(exp.path)
    assert tuple(c[0] for c in img.levels[0].chunks) == inner
    assert img.levels[0].chunks == _normalized_chunks(inner, exp.shape)


def test_v05_dimension_names_present_in_arrays(built):
    exp = built("v05-unsharded")
    for p in exp.level_paths:
        doc = json.loads((exp.path / p / "zarr.json").read_text())
        assert doc["dimension_names"] == list(exp.dims)


def test_big_endian_v2_values_BUG(built):
    """Big-endian ``>u2`` Zarr v2 levels must compute to the stored values.

    Bug: with the zarrs codec pipeline enabled by ngff, computing raises
    ``RuntimeError: Non-native byte order not supported`` (zarrs/pipeline.py read());
    expected: the exact values (e.g. by falling back to zarr-python's pipeline for
    non-native dtypes).
    """
    exp = built("big-endian")
    assert json.loads((exp.path / "0" / ".zarray").read_text())["dtype"] == ">u2"
    img = ngff.read(exp.path)
    for level, expected in zip(img.levels, exp.levels):
        np.testing.assert_array_equal(level.compute(), expected)
    assert int(exp.levels[0].max()) > 255  # both bytes matter


def test_big_endian_v3_bytes_codec(built):
    exp = built("big-endian-v3")
    img = ngff.read(exp.path)
    for level, expected in zip(img.levels, exp.levels):
        np.testing.assert_array_equal(level.compute(), expected)


def test_levels_are_dask_arrays_with_distinct_names(built):
    import dask.array as da

    exp = built("v04")
    a, b = ngff.read(exp.path), ngff.read(exp.path)
    assert all(isinstance(level, da.Array) for level in a.levels)
    assert len({level.name for level in a.levels}) == len(a.levels)
    # dask slicing works lazily and gives the same values as numpy slicing
    np.testing.assert_array_equal(
        b.levels[0][1, :, 1:3, ::2].compute(), exp.levels[0][1, :, 1:3, ::2]
    )


# --------------------------------------------------------------------------- transforms


def test_scale_translation_composition_by_hand(tmp_path):
    """Dataset scale s, translation t, then multiscale-level S, T: S*s and S*t + T."""
    root = tmp_path / "t.zarr"
    B.write_v2_array(root / "0", np.zeros((4, 6, 8), "u1"), (4, 6, 8))
    B.write_v2_array(root / "1", np.zeros((2, 3, 4), "u1"), (2, 3, 4))
    axes = [
        {"name": "z", "type": "space"},
        {"name": "y", "type": "space"},
        {"name": "x", "type": "space"},
    ]
    B.write_v2_group(
        root,
        {
            "multiscales": [
                {
                    "version": "0.4",
                    "axes": axes,
                    "datasets": [
                        {
                            "path": "0",
                            "coordinateTransformations": [
                                {"type": "scale", "scale": [1.0, 0.5, 0.5]},
                                {"type": "translation", "translation": [0.0, 1.0, 2.0]},
                            ],
                        },
                        {
                            "path": "1",
                            "coordinateTransformations": [
                                {"type": "scale", "scale": [2.0, 1.0, 1.0]}
                            ],
                        },
                    ],
                    "coordinateTransformations": [
                        {"type": "scale", "scale": [2.0, 3.0, 4.0]},
                        {"type": "translation", "translation": [10.0, 20.0, 30.0]},
                    ],
                }
            ]
        },
    )
    img = ngff.read(root)
    assert img.scales[0] == pytest.approx((2.0, 1.5, 2.0))
    assert img.translations[0] == pytest.approx((10.0, 23.0, 38.0))
    assert img.scales[1] == pytest.approx((4.0, 3.0, 4.0))
    assert img.translations[1] == pytest.approx((10.0, 20.0, 30.0))


def test_outer_scale_only_and_identity_transform(tmp_path):
    root = tmp_path / "t.zarr"
    B.write_v2_array(root / "0", np.zeros((4, 6), "u1"), (4, 6))
    B.write_v2_group(
        root,
        {
            "multiscales": [
                {
                    "version": "0.4",
                    "axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
                    "datasets": [
                        {
                            "path": "0",
                            "coordinateTransformations": [{"type": "scale", "scale": [0.5, 0.25]}],
                        }
                    ],
                    "coordinateTransformations": [{"type": "scale", "scale": [4.0, 4.0]}],
                }
            ]
        },
    )
    img = ngff.read(root)
    assert img.scales == ((2.0, 1.0),)
    assert img.translations == ((0.0, 0.0),)


@pytest.mark.parametrize("key", ["v01-flat", "v03"])
def test_pre_04_scales_from_shape_ratio(built, key):
    exp = built(key)
    img = ngff.read(exp.path)
    assert img.scales == tuple(tuple(s) for s in exp.scales)
    assert all(t == (0.0,) * len(exp.dims) for t in img.translations)


def test_transform_longer_than_axes_is_invalid(tmp_path):
    exp = B.build_image(tmp_path / "img.zarr", n_levels=2)
    ndim = len(exp.dims)
    _edit_json(
        exp.path / ".zattrs",
        lambda d: d["multiscales"][0]["datasets"][1]["coordinateTransformations"][0].update(
            scale=[2.0] * (ndim + 1)
        ),
    )
    with pytest.raises(InvalidMetadataError) as info:
        ngff.read(exp.path)
    assert_error(info, InvalidMetadataError, exp.path, "scale")


def test_short_transform_is_padded_in_front(tmp_path):
    # Lenient reading: the official 0.4 suite accepts a scale without leading t/c values.
    exp = B.build_image(tmp_path / "img.zarr", n_levels=2)
    ndim = len(exp.dims)
    _edit_json(
        exp.path / ".zattrs",
        lambda d: d["multiscales"][0]["datasets"][1]["coordinateTransformations"][0].update(
            scale=[3.0, 5.0]
        ),
    )
    img = ngff.read(exp.path)
    assert len(img.scales[1]) == ndim
    # the builder adds a multiscale-level scale (4 along y and x) after the dataset one
    assert img.scales[1][-2:] == pytest.approx((3.0 * B.OUTER_SCALE[-2], 5.0 * B.OUTER_SCALE[-1]))


# --------------------------------------------------------------------------- several multiscales


def _two_multiscales(tmp_path) -> B.Expected:
    exp = B.build_image(tmp_path / "two.zarr", n_levels=3, name="full")

    def add(doc):
        second = json.loads(json.dumps(doc["multiscales"][0]))
        second["name"] = "coarse"
        second["datasets"] = second["datasets"][1:]
        doc["multiscales"].append(second)

    _edit_json(exp.path / ".zattrs", add)
    return exp


def test_multiscale_chosen_by_name_or_index(tmp_path):
    exp = _two_multiscales(tmp_path)
    assert ngff.read(exp.path).name == "full"
    for wanted in ("coarse", 1):
        img = ngff.read(exp.path, multiscale=wanted)
        assert img.name == "coarse"
        assert img.level_paths == ("1", "2")
        np.testing.assert_array_equal(img.levels[0].compute(), exp.levels[1])
    assert ngff.read(exp.path, multiscale=0).name == "full"


@pytest.mark.parametrize("wanted", ["nope", 2, -1])
def test_unknown_multiscale_is_an_ngff_error(tmp_path, wanted):
    exp = _two_multiscales(tmp_path)
    with pytest.raises(NgffError) as info:
        ngff.read(exp.path, multiscale=wanted)
    assert_error(info, NgffError, exp.path)
    assert "full" in str(info.value) and "coarse" in str(info.value)


# --------------------------------------------------------------------------- channels (omero)


@pytest.mark.parametrize("key", ["v04", "v05-sharded"])
def test_omero_channels(built, key):
    exp = built(key)
    img = ngff.read(exp.path)
    assert len(img.channels) == len(exp.channels) == 2
    for channel, want in zip(img.channels, exp.channels):
        assert channel.label == want["label"]
        assert channel.color == want["color"]
        assert channel.active is want["active"]
        assert channel.inverted is want["inverted"]
        assert channel.family == want["family"]
        assert channel.coefficient == want["coefficient"]
        w = want["window"]
        assert (
            channel.window.min,
            channel.window.max,
            channel.window.start,
            channel.window.end,
        ) == (
            w["min"],
            w["max"],
            w["start"],
            w["end"],
        )
    assert img.omero.name == "omero-image"
    assert img.omero.id == 1
    assert img.omero.rdefs == {"model": "color"}


def test_image_without_omero_has_no_channels(built):
    img = ngff.read(built("v03").path)
    assert img.channels == ()
    assert img.omero is None


def test_name_falls_back_to_omero_name(tmp_path):
    exp = B.build_image(tmp_path / "img.zarr", n_levels=1, name=None)
    img = ngff.read(exp.path)
    assert img.name == "omero-None"


# --------------------------------------------------------------------------- labels


@pytest.mark.parametrize(
    "key",
    [
        "v04",
        "v04-consolidated",
        "v04-plain-paths",
        "v05-sharded",
        "v05-unsharded-consolidated-nested-paths",
    ],
)
def test_labels_mapping_and_label_images(built, key):
    exp = built(key)
    img = ngff.read(exp.path)
    assert sorted(img.labels) == sorted(exp.labels)
    assert len(img.labels) == len(exp.labels)
    assert not img.is_label
    for name, lexp in exp.labels.items():
        label = img.labels[name]
        assert_image_matches(label, lexp)
        assert label.is_label
        assert label.version == exp.version
        assert np.issubdtype(label.dtype, np.integer)
        assert [(c.value, c.rgba) for c in label.image_label.colors] == [
            (c["label-value"], tuple(c["rgba"])) for c in B.LABEL_COLORS
        ]
        assert [dict(p) for p in label.image_label.properties] == B.LABEL_PROPERTIES
        assert label.image_label.source == "../../"
        assert dict(label.labels) == {}  # label images have no labels of their own
    assert img.labels[next(iter(exp.labels))] is img.labels[next(iter(exp.labels))]  # cached


def test_labels_missing_key_behaves_like_a_mapping(built):
    img = ngff.read(built("v04").path)
    assert "nope" not in img.labels
    assert img.labels.get("nope") is None
    with pytest.raises(KeyError):
        img.labels["nope"]


def test_image_without_labels_group(built):
    assert dict(ngff.read(built("v03").path).labels) == {}


def test_labels_group_read_directly_is_a_collection(built):
    exp = built("v04")
    labels = ngff.read(exp.path / "labels")
    assert isinstance(labels, ngff.Collection)
    assert labels.series_paths == ("cells", "nuclei")
    assert_image_matches(
        labels.images["nuclei"], _rebase(exp.labels["nuclei"], exp.path / "labels", "nuclei")
    )


def test_label_image_read_directly(built):
    exp = built("v05-sharded")
    label = ngff.read(exp.path / "labels" / "cells")
    assert label.is_label
    assert_image_matches(label, _rebase(exp.labels["cells"], exp.path / "labels" / "cells"))


def _rebase(exp: B.Expected, new_root: Path, group: str = "") -> B.Expected:
    """The same expectation seen from a store opened elsewhere (a sub-group, an archive)."""
    import dataclasses

    return dataclasses.replace(exp, path=new_root, group=group)


def test_labels_are_opened_lazily(tmp_path):
    """Listing labels reads only labels/.zattrs; a broken label fails only when accessed."""
    exp = B.build_v04(tmp_path / "img.zarr")
    first = exp.labels["nuclei"].level_paths[0]
    shutil.rmtree(exp.path / "labels" / "nuclei" / first)
    img = ngff.read(exp.path)
    assert list(img.labels) == ["cells", "nuclei"]
    assert_image_matches(img.labels["cells"], exp.labels["cells"], pixels=False)
    with pytest.raises(MissingArrayError) as info:
        img.labels["nuclei"]
    assert_error(info, MissingArrayError, exp.path / "labels" / "nuclei" / first)


def test_labels_listing_is_deferred(tmp_path, monkeypatch):
    exp = B.build_v04(tmp_path / "img.zarr")
    seen = _record_node_paths(monkeypatch)
    img = ngff.read(exp.path)
    assert not any(p.startswith("labels") for p in seen), seen
    assert list(img.labels) == ["cells", "nuclei"]
    assert "labels" in seen
    assert not any(p.startswith("labels/") for p in seen), seen


# --------------------------------------------------------------------------- laziness


def _record_node_paths(monkeypatch) -> list[str]:
    """Record every node path the reader asks the store for."""
    from ngff.store import Store

    seen: list[str] = []
    original = Store.node

    def node(self, path):
        seen.append(path)
        return original(self, path)

    monkeypatch.setattr(Store, "node", node)
    return seen


@pytest.mark.parametrize("key", ["v02-nested", "v04", "v05-sharded"])
def test_read_reads_no_pixel_data(tmp_path, key):
    """Corrupt every chunk: reading metadata and building levels still works."""
    exp = B.IMAGE_BUILDERS[key](tmp_path / "img.zarr")
    for level_path in exp.level_paths:
        for chunk in B.chunk_files(exp.path / level_path):
            chunk.write_bytes(b"\xff not a chunk \x00" * 3)
    img = ngff.read(exp.path)
    assert [level.shape for level in img.levels] == [lvl.shape for lvl in exp.levels]
    assert img.scales[0] == pytest.approx(exp.scales[0])


@pytest.mark.parametrize("key", ["v04", "v05-sharded", "v05-unsharded"])
def test_corrupted_chunk_raises_ngff_error_BUG(tmp_path, key):
    """Computing a level whose chunks are garbage must raise an NgffError naming the array.

    Bug: the codec error escapes raw: ``OSError: Unknown frame descriptor`` (v2 blosc/zstd,
    v3 unsharded) or ``RuntimeError: failed to fill whole buffer`` (v3 sharded, zarrs);
    neither names the store or the array.  Expected: e.g. ``StoreError`` (or a dedicated
    subclass) "<store>/<level path>: cannot decode chunk …".
    """
    exp = B.IMAGE_BUILDERS[key](tmp_path / "img.zarr")
    for chunk in B.chunk_files(exp.path / exp.level_paths[0]):
        chunk.write_bytes(b"\xff not a chunk \x00" * 3)
    img = ngff.read(exp.path)
    with pytest.raises(NgffError) as info:
        img.levels[0].compute()
    assert str(exp.path) in str(info.value)


def test_missing_chunks_read_as_fill_value(tmp_path):
    """Absent chunks are legal Zarr: they read as the fill value (0)."""
    exp = B.build_v04(tmp_path / "img.zarr", labels=())
    for chunk in B.chunk_files(exp.path / exp.level_paths[2]):
        chunk.unlink()
    img = ngff.read(exp.path)
    np.testing.assert_array_equal(img.levels[2].compute(), np.zeros_like(exp.levels[2]))
    np.testing.assert_array_equal(img.levels[0].compute(), exp.levels[0])


def test_image_read_touches_only_its_own_nodes(tmp_path, monkeypatch):
    exp = B.build_v04(tmp_path / "img.zarr")
    seen = _record_node_paths(monkeypatch)
    ngff.read(exp.path)
    assert set(seen) == {"", *exp.level_paths}, seen


# --------------------------------------------------------------------------- consolidated metadata


@pytest.mark.parametrize(
    "key", ["v05-sharded-consolidated", "v05-unsharded-consolidated-nested-paths"]
)
def test_v3_inline_consolidated_metadata_is_used(tmp_path, key):
    """With inline consolidated metadata, no per-node zarr.json is needed below the root."""
    exp = B.IMAGE_BUILDERS[key](tmp_path / "img.zarr")
    assert "consolidated_metadata" in json.loads((exp.path / "zarr.json").read_text())
    for doc in exp.path.rglob("zarr.json"):
        if doc.parent != exp.path:
            doc.unlink()
    img = ngff.read(exp.path)
    assert_image_matches(img, exp)
    assert list(img.labels) == list(exp.labels)


def test_v2_consolidated_zmetadata_is_used(tmp_path):
    exp = B.build_v04(tmp_path / "img.zarr", consolidated=True)
    assert (exp.path / ".zmetadata").is_file()
    for doc in exp.path.rglob(".zarray"):
        doc.unlink()
    assert_image_matches(ngff.read(exp.path), exp)


@pytest.mark.parametrize("key", ["v04", "v05-sharded"])
def test_consolidated_and_plain_read_the_same(built, key):
    plain = ngff.read(built(key).path)
    cons = ngff.read(built(f"{key}-consolidated").path)
    assert (
        plain.dims == cons.dims
        and plain.scales == cons.scales
        and plain.translations == cons.translations
    )
    assert [lvl.chunks for lvl in plain.levels] == [lvl.chunks for lvl in cons.levels]


# --------------------------------------------------------------------------- 0.4 beside 0.5


def test_05_preferred_over_04_side_by_side(built):
    exp = built("v04-v05-side-by-side")
    assert (exp.path / ".zattrs").is_file() and (exp.path / ".zgroup").is_file()
    img = ngff.read(exp.path)
    assert img.version == "0.5"
    assert img.name == "preferred-0.5"
    assert_image_matches(img, exp)


def test_04_used_when_zarr_json_has_no_ome_metadata(tmp_path):
    exp = B.build_image(tmp_path / "img.zarr", version="0.4", n_levels=2, name="legacy")
    B.write_v3_group(exp.path, {"something": "else"})
    img = ngff.read(exp.path)
    assert img.version == "0.4"
    assert_image_matches(img, exp)


# --------------------------------------------------------------------------- other locations


@pytest.mark.parametrize("key", ["v04", "v05-sharded"])
def test_zip_store(tmp_path, key):
    """A zipped store (.zip / .ozx) reads like the directory (labels included)."""
    exp = B.IMAGE_BUILDERS[key](tmp_path / "img.zarr")
    archive = _zip_dir(exp.path, tmp_path / "img.ozx")
    img = ngff.read(archive)
    assert img.location == str(archive)
    assert_image_matches(img, _rebase(exp, archive))
    assert sorted(img.labels) == sorted(exp.labels)
    name = next(iter(exp.labels))
    assert_image_matches(
        img.labels[name], _rebase(exp.labels[name], archive, exp.labels[name].group)
    )


def test_damaged_zip_is_store_error(tmp_path):
    exp = B.build_image(tmp_path / "img.zarr", version="0.5", n_levels=1)
    archive = _zip_dir(exp.path, tmp_path / "img.ozx")
    archive.write_bytes(
        archive.read_bytes()[: len(archive.read_bytes()) // 2]
    )  # central directory gone
    with pytest.raises(StoreError) as info:
        ngff.read(archive)
    assert_error(info, StoreError, archive)


def test_file_url(built):
    exp = built("v05-unsharded")
    img = ngff.read("file://" + str(exp.path))
    for level, expected in zip(img.levels, exp.levels):
        np.testing.assert_array_equal(level.compute(), expected)


@pytest.mark.parametrize("key", ["v04", "v05-sharded"])
def test_fsspec_memory_url(built, key):
    """A non-local (fsspec) store goes through the URL code path: same pixels, same labels."""
    import uuid

    fsspec = pytest.importorskip("fsspec")
    exp = built(key)
    fs = fsspec.filesystem("memory")
    name = f"/ngff-test-{uuid.uuid4().hex}.zarr"
    fs.put(str(exp.path), name, recursive=True)
    try:
        url = f"memory://{name.lstrip('/')}"
        img = ngff.read(url)
        assert img.location == url
        assert_image_matches(img, _rebase(exp, Path(url)), pixels=True)
        assert sorted(img.labels) == sorted(exp.labels)
        label_name = next(iter(exp.labels))
        np.testing.assert_array_equal(
            img.labels[label_name].levels[0].compute(), exp.labels[label_name].levels[0]
        )
    finally:
        fs.rm(name, recursive=True)


def test_unknown_url_protocol_is_store_error():
    with pytest.raises(StoreError) as info:
        ngff.read("nosuchprotocol://bucket/image.zarr")
    assert_error(info, StoreError, "nosuchprotocol://bucket/image.zarr")


# --------------------------------------------------------------------------- plates and wells


@pytest.fixture(scope="module", params=["0.4", "0.5"])
def plate_store(request, tmp_path_factory) -> B.ExpectedPlate:
    return B.build_plate(
        tmp_path_factory.mktemp(f"plate{request.param}") / "plate.zarr", version=request.param
    )


def test_plate_metadata(plate_store):
    exp = plate_store
    plate = ngff.read(exp.path)
    assert isinstance(plate, ngff.Plate)
    assert plate.version == exp.version
    assert plate.name == exp.name
    assert plate.rows == exp.rows
    assert plate.columns == exp.columns
    assert [(w.path, w.row_index, w.column_index) for w in plate.wells] == list(exp.wells)
    assert plate.metadata.field_count == exp.field_count
    got = [
        (a.id, a.name, a.maximum_field_count, a.description, a.start_time, a.end_time)
        for a in plate.acquisitions
    ]
    want = [
        (
            a["id"],
            a.get("name"),
            a.get("maximumfieldcount"),
            a.get("description"),
            a.get("starttime"),
            a.get("endtime"),
        )
        for a in exp.acquisitions
    ]
    assert got == want


def test_plate_well_by_name_and_index(plate_store):
    exp = plate_store
    plate = ngff.read(exp.path)
    for well_path, row, col in exp.wells:
        r, c = well_path.split("/")
        by_name = plate.well(r, c)
        by_index = plate.well(row, col)
        assert isinstance(by_name, ngff.Well)
        assert by_name.path == by_index.path == well_path
        assert by_name.version == exp.version
        assert by_name.field_paths == exp.field_paths[well_path]
        assert by_name.acquisitions == exp.field_acquisitions[well_path]
        assert len(by_name.fields) == 2


def test_plate_well_fields_pixels(plate_store):
    exp = plate_store
    plate = ngff.read(exp.path)
    for well_path, _, _ in exp.wells:
        well = plate.well(*well_path.split("/"))
        for field, fexp in zip(well.fields, exp.fields[well_path]):
            assert_image_matches(field, fexp)
        assert well.fields[-1] is well.fields[1]  # negative index, cached
        assert len(well.fields[0:2]) == 2


def test_plate_unknown_well_is_an_ngff_error(plate_store):
    plate = ngff.read(plate_store.path)
    with pytest.raises(NgffError) as info:
        plate.well("B", "3")  # in the grid but not listed
    assert_error(info, NgffError, plate_store.path, "B/3")
    with pytest.raises(NgffError):
        plate.well("Z", "9")


def test_plate_well_index_out_of_range_BUG(plate_store):
    """``plate.well(7, 0)`` on a 2-row plate must raise an NgffError naming the plate.

    Bug: raw ``IndexError: tuple index out of range`` from ``Plate.well`` (model.py:
    ``self.rows[row]``).
    """
    plate = ngff.read(plate_store.path)
    with pytest.raises(NgffError) as info:
        plate.well(7, 0)
    assert str(plate_store.path) in str(info.value)


def test_well_and_field_read_directly(plate_store):
    exp = plate_store
    well = ngff.read(exp.path / "B" / "2")
    assert isinstance(well, ngff.Well)
    assert well.field_paths == ("0", "1")
    field = ngff.read(exp.path / "B" / "2" / "1")
    assert_image_matches(field, _rebase(exp.fields["B/2"][1], exp.path / "B" / "2" / "1"))


def test_plate_opens_no_well_or_field_until_asked(plate_store, monkeypatch):
    exp = plate_store
    seen = _record_node_paths(monkeypatch)
    plate = ngff.read(exp.path)
    assert seen == [""], seen
    well = plate.well("A", "3")
    assert seen == ["", "A/3"], seen  # the well group only, no field yet
    field = well.fields[1]
    assert "A/3/1" in seen and not any(p.startswith("A/3/0") for p in seen), seen
    assert not any(p.startswith(("A/1", "B/")) for p in seen), seen
    np.testing.assert_array_equal(field.levels[0].compute(), exp.fields["A/3"][1].levels[0])


def test_plate_with_deleted_field_reads_until_that_field(tmp_path):
    exp = B.build_plate(tmp_path / "plate.zarr", version="0.5")
    shutil.rmtree(exp.path / "A" / "1" / "1")
    shutil.rmtree(exp.path / "B" / "2")
    plate = ngff.read(exp.path)
    assert len(plate.wells) == 3
    well = plate.well("A", "1")
    assert len(well.fields) == 2
    assert_image_matches(well.fields[0], exp.fields["A/1"][0])
    with pytest.raises(NgffError) as info:
        well.fields[1]
    assert_error(info, NgffError, exp.path / "A" / "1" / "1")
    with pytest.raises(NgffError) as info:
        plate.well("B", "2")
    assert_error(info, NgffError, exp.path / "B" / "2")


def test_plate_well_without_well_metadata(tmp_path):
    exp = B.build_plate(tmp_path / "plate.zarr", version="0.4")
    (exp.path / "A" / "3" / ".zattrs").write_text("{}")
    plate = ngff.read(exp.path)
    with pytest.raises(NgffError) as info:
        plate.well("A", "3")
    assert_error(info, NgffError, exp.path / "A" / "3")


# --------------------------------------------------------------------------- bioformats2raw collections


@pytest.mark.parametrize("version", ["0.4", "0.5"])
@pytest.mark.parametrize("with_ome", [True, False], ids=["with-OME", "without-OME"])
def test_bioformats2raw_collection(tmp_path, version, with_ome):
    exp = B.build_bioformats2raw(tmp_path / "b2r.zarr", with_ome=with_ome, version=version)
    coll = ngff.read(exp.path)
    assert isinstance(coll, ngff.Collection)
    assert coll.version == version
    assert coll.series_paths == exp.series
    assert list(coll.images) == list(exp.series)
    for key, iexp in exp.images.items():
        assert_image_matches(coll.images[key], iexp)


def test_bioformats2raw_series_are_lazy(tmp_path):
    exp = B.build_bioformats2raw(tmp_path / "b2r.zarr", with_ome=True)
    shutil.rmtree(exp.path / "1" / "0")
    coll = ngff.read(exp.path)
    assert coll.series_paths == ("0", "1")
    assert coll.images["0"].shape == exp.images["0"].shape
    with pytest.raises(MissingArrayError) as info:
        coll.images["1"]
    assert_error(info, MissingArrayError, exp.path / "1")


def test_bioformats2raw_ome_series_order_is_used(tmp_path):
    exp = B.build_bioformats2raw(tmp_path / "b2r.zarr", with_ome=True)
    B.write_v2_group(exp.path / "OME", {"series": ["1", "0"]})
    coll = ngff.read(exp.path)
    assert coll.series_paths == ("1", "0")
    assert coll.images["1"].shape == exp.images["1"].shape


# --------------------------------------------------------------------------- errors


def test_missing_path_is_store_error(tmp_path):
    where = tmp_path / "does" / "not" / "exist.zarr"
    with pytest.raises(StoreError) as info:
        ngff.read(where)
    assert_error(info, StoreError, where)


def test_plain_file_is_store_error(tmp_path):
    where = tmp_path / "file.zarr"
    where.write_text("not a store")
    with pytest.raises(StoreError) as info:
        ngff.read(where)
    assert_error(info, StoreError, where)


def test_empty_directory_is_not_ome_zarr(tmp_path):
    with pytest.raises(NotOmeZarrError) as info:
        ngff.read(tmp_path)
    assert_error(info, NotOmeZarrError, tmp_path)


@pytest.mark.parametrize(
    "make",
    [
        lambda p: B.write_v2_group(p),
        lambda p: B.write_v2_group(p, {"title": "just a group"}),
        lambda p: B.write_v3_group(p, {"title": "just a group"}),
        lambda p: B.write_v3_group(p, {"ome": "not a mapping"}),
    ],
    ids=["v2-no-attrs", "v2-other-attrs", "v3-other-attrs", "v3-ome-string"],
)
def test_plain_zarr_group_is_not_ome_zarr(tmp_path, make):
    where = tmp_path / "g.zarr"
    make(where)
    with pytest.raises(NgffError) as info:
        ngff.read(where)
    assert isinstance(info.value, (NotOmeZarrError, InvalidMetadataError))
    assert_error(info, NgffError, where)


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_array_at_root_is_not_ome_zarr(tmp_path, version):
    exp = B.build_image(tmp_path / "img.zarr", version=version, n_levels=1)
    where = exp.path / exp.level_paths[0]
    with pytest.raises(NotOmeZarrError) as info:
        ngff.read(where)
    assert_error(info, NotOmeZarrError, where, "array")


@pytest.mark.parametrize(
    ("version", "doc", "content"),
    [
        ("0.4", ".zattrs", "{not json"),
        ("0.4", ".zattrs", ""),
        ("0.4", ".zattrs", "[1, 2, 3]"),
        ("0.4", ".zattrs", "\xff\xfe garbage"),
        ("0.5", "zarr.json", "{not json"),
        ("0.5", "zarr.json", '"a string"'),
        ("0.5", "zarr.json", '{"zarr_format": 3, "node_type": "group", "attributes": {"ome": '),
    ],
)
def test_malformed_json_is_invalid_metadata_naming_the_file(tmp_path, version, doc, content):
    exp = B.build_image(tmp_path / "img.zarr", version=version, n_levels=1)
    (exp.path / doc).write_text(content, encoding="latin-1")
    with pytest.raises(InvalidMetadataError) as info:
        ngff.read(exp.path)
    assert_error(info, InvalidMetadataError, exp.path / doc)


def test_malformed_array_json_is_invalid_metadata(tmp_path):
    exp = B.build_image(tmp_path / "img.zarr", version="0.5", n_levels=2)
    (exp.path / "1" / "zarr.json").write_text("{oops")
    with pytest.raises(InvalidMetadataError) as info:
        ngff.read(exp.path)
    assert_error(info, InvalidMetadataError, exp.path / "1" / "zarr.json")


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_unusable_array_metadata_is_invalid_metadata(tmp_path, version):
    exp = B.build_image(tmp_path / "img.zarr", version=version, n_levels=2)
    doc = exp.path / "1" / ("zarr.json" if version == "0.5" else ".zarray")
    _edit_json(
        doc,
        lambda d: d.update(shape="big", chunks=None) if version == "0.4" else d.update(shape="big"),
    )
    with pytest.raises(InvalidMetadataError) as info:
        ngff.read(exp.path)
    assert_error(info, InvalidMetadataError, exp.path / "1")


@pytest.mark.parametrize("version", ["0.4", "0.5"])
@pytest.mark.parametrize("remove", ["array", "metadata-only"])
def test_missing_dataset_is_missing_array(tmp_path, version, remove):
    exp = (
        B.build_v04(tmp_path / "img.zarr")
        if version == "0.4"
        else B.build_v05(tmp_path / "img.zarr")
    )
    target = exp.path / exp.level_paths[1]
    if remove == "array":
        shutil.rmtree(target)
    else:
        (target / ("zarr.json" if version == "0.5" else ".zarray")).unlink()
    with pytest.raises(MissingArrayError) as info:
        ngff.read(exp.path)
    assert_error(info, MissingArrayError, target, exp.level_paths[1])
    assert info.value.rule and "MUST" in info.value.rule


def test_dataset_path_is_a_group_is_missing_array(tmp_path):
    exp = B.build_image(tmp_path / "img.zarr", version="0.5", n_levels=2, paths=("a/b", "c/d"))
    B.write_v3_group(exp.path / "c")
    _edit_json(
        exp.path / "zarr.json",
        lambda d: d["attributes"]["ome"]["multiscales"][0]["datasets"][1].update(path="c"),
    )
    with pytest.raises(MissingArrayError) as info:
        ngff.read(exp.path)
    assert_error(info, MissingArrayError, exp.path / "c", "group")


@pytest.mark.parametrize("version", ["0.3", "0.4", "0.5"])
def test_axes_count_mismatch_is_invalid_metadata(tmp_path, version):
    if version == "0.3":
        exp = B.build_v03(tmp_path / "img.zarr")
        _edit_json(exp.path / ".zattrs", lambda d: d["multiscales"][0].update(axes=["y", "x"]))
    else:
        exp = B.build_image(
            tmp_path / "img.zarr", version=version, n_levels=1, outer=False, translation=False
        )
        key = "zarr.json" if version == "0.5" else ".zattrs"

        def drop(d):
            ms = (
                d["attributes"]["ome"]["multiscales"][0]
                if version == "0.5"
                else d["multiscales"][0]
            )
            ms["axes"] = ms["axes"][1:]
            ms["datasets"][0]["coordinateTransformations"][0]["scale"] = ms["datasets"][0][
                "coordinateTransformations"
            ][0]["scale"][1:]

        _edit_json(exp.path / key, drop)
    with pytest.raises(InvalidMetadataError) as info:
        ngff.read(exp.path)
    assert_error(info, InvalidMetadataError, exp.path, "axes")
    assert info.value.rule and "MUST" in info.value.rule


def test_levels_with_different_ndim_are_invalid(tmp_path):
    exp = B.build_image(tmp_path / "img.zarr", version="0.4", n_levels=2)
    B.write_v2_array(exp.path / "1", np.zeros((3, 4), "u2"), (3, 4))
    with pytest.raises(InvalidMetadataError) as info:
        ngff.read(exp.path)
    assert_error(info, InvalidMetadataError, exp.path)
    assert info.value.rule and "MUST" in info.value.rule


@pytest.mark.parametrize("version", ["0.9", "abc123", "1.0", "0.6"])
@pytest.mark.parametrize("zarr_format", [2, 3])
def test_unknown_version_is_unsupported(tmp_path, version, zarr_format):
    if zarr_format == 2:
        exp = B.build_image(tmp_path / "img.zarr", version="0.4", n_levels=1)
        _edit_json(exp.path / ".zattrs", lambda d: d["multiscales"][0].update(version=version))
    else:
        exp = B.build_image(tmp_path / "img.zarr", version="0.5", n_levels=1)
        _edit_json(exp.path / "zarr.json", lambda d: d["attributes"]["ome"].update(version=version))
    with pytest.raises(UnsupportedVersionError) as info:
        ngff.read(exp.path)
    assert_error(info, UnsupportedVersionError, exp.path, version)


@pytest.mark.parametrize(
    "attrs",
    [
        {"multiscales": []},
        {"multiscales": [{"version": "0.4", "axes": [], "datasets": []}]},
        {"multiscales": [{"version": "0.4", "datasets": [{"path": "0"}]}]},  # 0.4 without axes
        {
            "multiscales": [
                {"version": "0.4", "axes": [{"name": "y"}, {"name": "x"}], "datasets": [{}]}
            ]
        },
        {"multiscales": "nope"},
        {"multiscales": [42]},
        {"plate": "nope"},
        {"well": {"images": "nope"}},
        {"labels": "nope"},
    ],
    ids=repr,
)
def test_broken_ome_metadata_is_an_ngff_error(tmp_path, attrs):
    root = tmp_path / "bad.zarr"
    B.write_v2_array(root / "0", np.zeros((2, 2), "u1"), (2, 2))
    B.write_v2_group(root, attrs)
    with pytest.raises(NgffError) as info:
        node = ngff.read(root)
        # a lenient read is fine, but then using the node must not fail with a raw error
        if isinstance(node, ngff.Collection):
            [node.images[k] for k in node.images]
    assert str(root) in str(info.value)


def test_errors_share_one_family():
    for cls in (
        NotOmeZarrError,
        InvalidMetadataError,
        MissingArrayError,
        UnsupportedVersionError,
        StoreError,
    ):
        assert issubclass(cls, NgffError)
        assert getattr(ngff, cls.__name__) is cls
    err = InvalidMetadataError("bad thing", location="/x/y.zarr", rule="axes MUST …")
    assert str(err) == "/x/y.zarr: bad thing (rule: axes MUST …)"
    assert (err.location, err.rule, err.message) == ("/x/y.zarr", "axes MUST …", "bad thing")


# --------------------------------------------------------------------------- conformance fixtures


def test_conformance_ome_zarr_py_v1_v2_exact_pixels(reader_fixtures_dir):
    import zarr

    base = reader_fixtures_dir / "ome_ome-zarr-py" / "tests" / "data"
    for name, version in (("v1", "0.1"), ("v2", "0.2")):
        img = ngff.read(base / name)
        assert img.version == version
        assert img.dims == ("t", "c", "z", "y", "x")
        assert img.shape == (1, 2, 1, 16, 16)
        assert img.dtype == np.uint8
        direct = zarr.open_array(str(base / name / "0"), mode="r", zarr_format=2)[...]
        got = img.levels[0].compute()
        np.testing.assert_array_equal(got, direct)
        assert int(got.sum()) == 5235 and got.any()
        # chunk (128, 128) larger than the 16x16 array: one dask chunk per axis
        assert img.levels[0].chunks == ((1,), (2,), (1,), (16,), (16,))


@pytest.mark.parametrize("name", ["image-01", "image-02", "image-03", "image-04"])
def test_conformance_bioimagetools_valid_images(reader_fixtures_dir, name):
    import zarr

    root = (
        reader_fixtures_dir / "BioImageTools_ome-zarr-examples" / "data" / "valid" / f"{name}.zarr"
    )
    attrs = json.loads((root / ".zattrs").read_text())
    ms = attrs["multiscales"][0]
    img = ngff.read(root)
    assert img.version == "0.4"
    assert img.dims == tuple(a["name"] for a in ms["axes"])
    assert [a.unit for a in img.axes] == [a.get("unit") for a in ms["axes"]]
    assert list(img.labels) == []  # labels group lists no labels
    for i, dataset in enumerate(ms["datasets"]):
        direct = zarr.open_array(str(root / dataset["path"]), mode="r", zarr_format=2)
        assert img.levels[i].shape == direct.shape
        assert img.levels[i].chunks == _normalized_chunks(direct.chunks, direct.shape)
        assert img.scales[i] == tuple(dataset["coordinateTransformations"][0]["scale"])
        np.testing.assert_array_equal(img.levels[i].compute(), direct[...])


def test_conformance_bioimagetools_plate(reader_fixtures_dir):
    root = (
        reader_fixtures_dir / "BioImageTools_ome-zarr-examples" / "data" / "valid" / "plate-01.zarr"
    )
    plate = ngff.read(root)
    assert isinstance(plate, ngff.Plate)
    assert plate.name == "my_wonderful_plate"
    assert plate.rows == ("A", "B") and plate.columns == ("1", "2")
    # the reader goes by path, not by the (swapped) rowIndex/columnIndex of this fixture
    well = plate.well("A", "2")
    assert well.path == "A/2"
    field = well.fields[0]
    assert isinstance(field, ngff.Image)
    field.levels[0].compute()


@pytest.mark.parametrize(
    ("case", "orientations"),
    [
        (
            "SC-01_quadruped_valid",
            {"z": "dorsal-to-ventral", "y": "rostral-to-caudal", "x": "left-to-right"},
        ),
        ("SC-02_null_orientation", {"z": None, "y": "anterior-to-posterior", "x": "right-to-left"}),
        (
            "SC-03_channel_orientation",
            {"z": "inferior-to-superior", "y": "anterior-to-posterior", "x": "right-to-left"},
        ),
        ("SC-05_missing_value", {"z": None, "y": "anterior-to-posterior", "x": "right-to-left"}),
        ("SC-06_bad_type", {"y": "anterior-to-posterior", "x": "right-to-left"}),
        (
            "SC-07_duplicate_pair",
            {"z": "inferior-to-superior", "y": "left-to-right", "x": "right-to-left"},
        ),
    ],
)
def test_conformance_rfc4_orientation_read(reader_fixtures_dir, case, orientations):
    """The reader is lenient: invalid RFC-4 cases still read (validation is another job)."""
    import zarr

    root = (
        reader_fixtures_dir
        / "fideus-labs_ome-zarr-rfc4-validation"
        / "conformance"
        / "cases"
        / f"{case}.ome.zarr"
    )
    img = ngff.read(root)
    assert img.version == "0.5"
    assert img.level_paths == ("scale0/image",)
    by_name = {a.name: a.orientation for a in img.axes}
    for axis, value in orientations.items():
        assert by_name[axis] == value, axis
    direct = zarr.open_array(str(root / "scale0" / "image"), mode="r")
    assert img.dtype == np.float32
    np.testing.assert_array_equal(img.levels[0].compute(), direct[...])


def test_conformance_ome_zarr_models_hcs_example(reader_fixtures_dir):
    root = (
        reader_fixtures_dir
        / "ome-zarr-models_ome-zarr-models-py"
        / "tests"
        / "data"
        / "examples"
        / "v04"
        / "hcs_example.ome.zarr"
    )
    plate = ngff.read(root)
    assert isinstance(plate, ngff.Plate)
    assert plate.version == "0.4"
    assert plate.rows == ("B",) and plate.columns == ("03",)
    assert plate.acquisitions[0].name == "20200812-CardiomyocyteDifferentiation14-Cycle1"
    for well in (plate.well("B", "03"), plate.well(0, 0)):
        assert well.path == "B/03"
        assert well.field_paths == ("0",)
        field = well.fields[0]
        assert len(field.levels) == 5
        assert [lvl.shape for lvl in field.levels] == [
            (1, 2, 2160, 5120),
            (1, 2, 1080, 2560),
            (1, 2, 540, 1280),
            (1, 2, 270, 640),
            (1, 2, 135, 320),
        ]
        assert tuple(c[0] for c in field.levels[0].chunks) == (1, 1, 2160, 2560)
        assert field.dims == ("c", "z", "y", "x")
        assert field.scales[4] == pytest.approx((1.0, 1.0, 2.6, 2.6))
        assert field.channels[0].label == "DAPI" and field.channels[0].color == "00FFFF"
        assert field.dtype == np.uint16


@pytest.mark.parametrize(
    ("store", "errors"),
    [
        ("BioImageTools_ome-zarr-examples/data/invalid/image-01.zarr", (NotOmeZarrError,)),  # {}
        # empty multiscales: nothing to read (InvalidMetadataError would name the MUST better)
        (
            "BioImageTools_ome-zarr-examples/data/invalid/image-02.zarr",
            (NotOmeZarrError, InvalidMetadataError),
        ),
        (
            "BioImageTools_ome-zarr-examples/data/invalid/image-03.zarr",
            (MissingArrayError,),
        ),  # no .zarray
        (
            "BioImageTools_ome-zarr-examples/data/invalid/image-04.zarr",
            (InvalidMetadataError,),
        ),  # 2-D level
        (
            "ome_ome-ngff-validator/test_samples/invalid/invalid_version.zarr",
            (UnsupportedVersionError,),
        ),
    ],
)
def test_conformance_invalid_stores_raise_the_right_error(reader_fixtures_dir, store, errors):
    root = reader_fixtures_dir / store
    with pytest.raises(NgffError) as info:
        ngff.read(root)
    assert isinstance(info.value, errors), f"{type(info.value).__name__}: {info.value}"
    assert str(root) in str(info.value)


def test_conformance_lenient_reads(reader_fixtures_dir):
    """Stores that break a SHOULD/validator rule still read: dtype differing between levels,
    an omero window without ``min``."""
    warning = ngff.read(
        reader_fixtures_dir / "BioImageTools_ome-zarr-examples/data/warning/image-01.zarr"
    )
    assert len(warning.levels) == 2
    missing_min = ngff.read(
        reader_fixtures_dir / "ome_ome-ngff-validator/test_samples/invalid/missing_min.zarr"
    )
    attrs = json.loads(
        (
            reader_fixtures_dir
            / "ome_ome-ngff-validator/test_samples/invalid/missing_min.zarr/.zattrs"
        ).read_text()
    )
    window = attrs["omero"]["channels"][0]["window"]
    assert "min" not in window
    assert missing_min.channels[0].window.start == window["start"]
    assert missing_min.channels[0].window.end == window["end"]
    assert list(missing_min.labels) == ["coins"]
    assert missing_min.labels["coins"].is_label


def _real_world_stores(base: Path) -> list[Path]:
    root = base / "tlambert03_yaozarrs" / "tests" / "data"
    return sorted(p for sub in ("v04", "v05", "broken") for p in (root / sub).glob("*.zarr"))


def test_conformance_real_world_metadata_reads_or_raises_ngff_error(reader_fixtures_dir):
    """Metadata-only stores harvested from IDR/BIA (no chunks, often no array docs):
    reading them and walking to the first well/field/label/series gives a node or an NgffError."""
    stores = _real_world_stores(reader_fixtures_dir)
    assert stores
    outcomes = {}
    for store in stores:
        try:
            node = ngff.read(store)
            if isinstance(node, ngff.Plate) and node.wells:
                well = node.well(*node.wells[0].path.split("/")[-2:])
                if len(well.fields):
                    well.fields[0]
            elif isinstance(node, ngff.Collection):
                for key in list(node.images)[:1]:
                    node.images[key]
            elif isinstance(node, ngff.Image):
                for key in list(node.labels)[:1]:
                    node.labels[key]
            outcomes[store.name] = type(node).__name__
        except NgffError as exc:
            assert store.name in str(exc)
            outcomes[store.name] = type(exc).__name__
    assert len(outcomes) == len(stores)
