"""HCS plates in RFC-9 ``.ozx`` archives: ``write_plate`` packs, ``write_well_image`` repacks safely."""

from __future__ import annotations

import importlib
import zipfile
from pathlib import Path

import numpy as np
import pytest

import ngff
import ngff.hcs
import ngff.ozx
from ngff.errors import NgffError, StoreError, StoreLockedError, UnsupportedVersionError
from ngff.locking import StoreLock

packer = importlib.import_module("ngff.ozx.pack")  # the module; ngff.ozx.pack is the function


def _field(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 4000, size=(32, 32)).astype("uint16")


def _plate(path: Path) -> ngff.Plate:
    return ngff.write_plate(path, rows=1, columns=2, wells=["A/1", "A/2"], name="screen", acquisitions=[0])


def _add(path: Path, column: str, field: int, seed: int) -> ngff.Image:
    return ngff.write_well_image(path, "A", column, field, _field(seed), dims="yx", units=["micrometer"] * 2)


def _assert_rfc9(path: Path) -> None:
    report = ngff.ozx.check_archive(path)
    assert report["problems"] == [] and report["json_first"] and report["zip64"] and report["version"] == "0.5"
    archive = ngff.ozx.open_archive(path)
    try:
        assert archive.order[0] == "zarr.json"
        assert archive.order == ngff.ozx.entry_order(list(archive.order))  # zarr.json breadth-first, then data
    finally:
        archive.close()
    with zipfile.ZipFile(path) as z:  # an independent ZIP reader agrees: all STORED, same order
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_STORED}
        assert [i.filename for i in z.infolist()] == ngff.ozx.entry_order([i.filename for i in z.infolist()])
        assert z.testzip() is None


def test_plate_archive_round_trip(tmp_path):
    path = tmp_path / "plate.ozx"
    plate = _plate(path)
    assert isinstance(plate, ngff.Plate) and plate.version == "0.5"
    assert [w.path for w in plate.metadata.wells] == ["A/1", "A/2"]
    _assert_rfc9(path)
    image = _add(path, "1", 0, seed=1)
    assert image.location == str(path) and image.path == "A/1/0"
    np.testing.assert_array_equal(image.levels[0].compute(), _field(1))
    _add(path, "2", 0, seed=2)
    _add(path, "1", 1, seed=3)  # a second field in A/1

    plate = ngff.read(path)
    assert isinstance(plate, ngff.Plate) and plate.metadata.name == "screen"
    assert plate.metadata.field_count == 2
    assert plate.metadata.acquisitions[0].maximum_field_count == 2
    assert [f.path for f in plate.well("A", "1").metadata.images] == ["0", "1"]
    for column, index, seed in (("1", 0, 1), ("2", 0, 2), ("1", 1, 3)):
        pixels = plate.well("A", column).fields[index].levels[0].compute()
        np.testing.assert_array_equal(pixels, _field(seed))
    mosaic = ngff.hcs.plate_mosaic(plate).read()
    assert mosaic.shape == (32, 64)
    np.testing.assert_array_equal(mosaic[:, :32], _field(1))
    np.testing.assert_array_equal(mosaic[:, 32:], _field(2))

    report = ngff.validate(path)
    assert report.ok and not [p for p in report.problems if p.severity == "error"], report.problems
    assert not {r for r in report.rules() if r.startswith("rfc9.")}, report.problems  # sharded by default
    _assert_rfc9(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plate.ozx"]  # no staging folder, no lock left


def test_04_and_existing_archives_are_refused(tmp_path):
    with pytest.raises(UnsupportedVersionError, match="0.5"):
        ngff.write_plate(tmp_path / "old.ozx", rows=1, columns=2, wells=["A/1"], version="0.4")
    assert list(tmp_path.iterdir()) == []
    path = tmp_path / "plate.ozx"
    _plate(path)
    with pytest.raises(StoreError, match="exists"):
        _plate(path)
    ngff.write_plate(path, rows=2, columns=2, wells=["B/2"], overwrite=True)
    assert [w.path for w in ngff.read(path).metadata.wells] == ["B/2"]
    image = tmp_path / "image.ozx"  # an image archive is not a plate: refused, left as it was
    ngff.write(_field(1), image)
    before = image.read_bytes()
    with pytest.raises(NgffError, match="not a plate"):
        _add(image, "1", 0, seed=1)
    assert image.read_bytes() == before


def test_bad_plate_input_names_the_archive_and_writes_nothing(tmp_path):
    path = tmp_path / "plate.ozx"
    with pytest.raises(NgffError, match="listed twice") as info:
        ngff.write_plate(path, rows=1, columns=2, wells=["A/1", "A/1"])
    assert info.value.location == str(path)
    assert list(tmp_path.iterdir()) == []


def test_failed_field_leaves_the_previous_archive_intact(tmp_path, monkeypatch):
    path = tmp_path / "plate.ozx"
    _plate(path)
    _add(path, "1", 0, seed=1)
    before = path.read_bytes()

    with pytest.raises(NgffError) as info:  # refused inside the extracted copy: an unknown column
        ngff.write_well_image(path, "A", "9", 0, _field(2))
    assert str(info.value.location).startswith(str(path))  # names the archive, not the staging folder

    def broken(*args, **kwargs):
        raise StoreError("disk full (simulated)")

    # the pixels are written, then the metadata update fails: nothing is repacked
    monkeypatch.setattr(ngff.hcs, "_register_field", broken)
    with pytest.raises(StoreError, match="simulated"):
        _add(path, "2", 0, seed=2)
    monkeypatch.undo()

    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plate.ozx"]
    plate = ngff.read(path)
    assert plate.well("A", "2").metadata.images == ()
    np.testing.assert_array_equal(plate.well("A", "1").fields[0].levels[0].compute(), _field(1))
    _assert_rfc9(path)


def test_archive_lock_excludes_a_second_writer(tmp_path):
    path = tmp_path / "plate.ozx"
    _plate(path)
    before = path.read_bytes()
    lock = StoreLock(path.parent, str(path), name=f".{path.name}.ngff-lock").acquire()
    try:
        with pytest.raises(StoreLockedError):
            _add(path, "1", 0, seed=1)
    finally:
        lock.release()
    assert path.read_bytes() == before
    _add(path, "1", 0, seed=1)  # free again
    assert [f.path for f in ngff.read(path).well("A", "1").metadata.images] == ["0"]


def test_plate_edit_adds_many_fields_with_one_rewrite(tmp_path, monkeypatch):
    path = tmp_path / "plate.ozx"
    _plate(path)
    packs = []
    real_pack = packer.pack
    monkeypatch.setattr(packer, "pack", lambda *a, **k: packs.append(a) or real_pack(*a, **k))
    with ngff.hcs.plate_edit(path) as store:
        assert store.is_dir()
        for column, seed in (("1", 4), ("2", 5)):
            ngff.write_well_image(store, "A", column, 0, _field(seed), shards="auto")
    assert len(packs) == 1
    plate = ngff.read(path)
    for column, seed in (("1", 4), ("2", 5)):
        np.testing.assert_array_equal(plate.well("A", column).fields[0].levels[0].compute(), _field(seed))
    _assert_rfc9(path)

    with pytest.raises(RuntimeError), ngff.hcs.plate_edit(path) as store:  # a failing batch changes nothing
        ngff.write_well_image(store, "A", "1", 1, _field(6))
        raise RuntimeError("batch failed")
    assert len(packs) == 1
    assert [f.path for f in ngff.read(path).well("A", "1").metadata.images] == ["0"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plate.ozx"]


def test_archive_fields_get_the_planes_layout(tmp_path):
    from ngff.summary import array_layout

    path = tmp_path / "plate.ozx"
    _plate(path)
    stack = np.random.default_rng(4).integers(0, 4000, size=(40, 300, 600)).astype("uint16")
    image = ngff.write_well_image(path, "A", "1", 0, stack, dims="zyx")
    layout = array_layout(ngff.ozx.open_store(path).node("A/1/0/0"))
    assert layout["chunks"] == [16, 256, 256] and layout["shards"] == [16, 512, 768]  # one shard per 16 planes
    np.testing.assert_array_equal(image.levels[0][20].compute(), stack[20])
