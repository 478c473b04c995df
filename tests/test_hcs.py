"""HCS core: write_plate / write_well_image, lazy reading, the plate mosaic, HCS validation."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import ngff
from ngff import NgffError
from ngff.hcs import column_names, plate_mosaic, row_names, well_position

sys.path.insert(0, str(Path(__file__).resolve().parent))
import builders  # noqa: E402

VERSIONS = ["0.4", "0.5"]


def _field(value: int, shape=(2, 32, 48)) -> np.ndarray:
    """A field whose pixels encode (value, channel, y, x) so tiles can be told apart."""
    c, y, x = np.indices(shape)
    return (value * 1000 + c * 100 + (y + x) % 50).astype(np.uint16)


def _plate_doc(root: Path) -> dict:
    path = root / "zarr.json"
    if path.exists():
        return json.loads(path.read_text())["attributes"]["ome"]["plate"]
    return json.loads((root / ".zattrs").read_text())["plate"]


def _well_doc(root: Path) -> dict:
    path = root / "zarr.json"
    if path.exists():
        return json.loads(path.read_text())["attributes"]["ome"]["well"]
    return json.loads((root / ".zattrs").read_text())["well"]


@pytest.fixture(params=VERSIONS)
def written(request, tmp_path):
    """A 2×3 plate: wells A/1 (2 fields), B/3 (1 field); A/2 added later (1 field)."""
    version = request.param
    root = tmp_path / "plate.ome.zarr"
    ngff.write_plate(
        root,
        rows=["A", "B"],
        columns=3,
        wells=["A/1", ("B", 2)],
        acquisitions=[{"id": 0, "name": "run", "starttime": 1_700_000_000_000, "endtime": 1_700_000_100_000}],
        name="screen",
        version=version,
    )
    values = {("A", "1", "0"): 1, ("A", "1", "1"): 2, ("B", "3", "0"): 3, ("A", "2", "0"): 4}
    for (r, c, f), v in values.items():
        ngff.write_well_image(root, r, c, f, _field(v), dims="cyx", scale={"y": 0.5, "x": 0.5}, units="micrometer", channels=["DAPI", "GFP"])
    return version, root, values


# --------------------------------------------------------------------------- writing


def test_names():
    assert row_names(3) == ("A", "B", "C")
    assert row_names(28)[-2:] == ("AA", "AB")
    assert column_names(3) == ("1", "2", "3")
    assert column_names(["01", 2]) == ("01", "2")


def test_written_metadata(written):
    version, root, _ = written
    plate = ngff.read(root)
    assert isinstance(plate, ngff.Plate) and plate.version == version
    assert plate.rows == ("A", "B") and plate.columns == ("1", "2", "3")
    assert [(w.path, w.row_index, w.column_index) for w in plate.wells] == [
        ("A/1", 0, 0),
        ("B/3", 1, 2),
        ("A/2", 0, 1),  # added by write_well_image
    ]
    assert plate.metadata.field_count == 2
    (acq,) = plate.acquisitions
    assert (acq.id, acq.name, acq.maximum_field_count) == (0, "run", 2)
    assert (acq.start_time, acq.end_time) == (1_700_000_000_000, 1_700_000_100_000)
    well = plate.well("A", "1")
    assert well.field_paths == ("0", "1") and well.acquisitions == (0, 0)
    doc = _plate_doc(root)
    assert ("version" in doc) == (version == "0.4")  # 0.5: only ome.version
    assert doc["wells"][2] == {"path": "A/2", "rowIndex": 0, "columnIndex": 1}


def test_written_pixels_and_transforms(written):
    _, root, values = written
    plate = ngff.read(root)
    for (r, c, f), v in values.items():
        image = plate.well(r, c).fields[int(f)]
        np.testing.assert_array_equal(np.asarray(image.levels[0]), _field(v))
        assert image.scales[0] == (1.0, 0.5, 0.5)
        assert [ch.label for ch in image.channels] == ["DAPI", "GFP"]
        assert image.name == f"{r}/{c}/{f}"


def test_written_plate_is_valid(written):
    _, root, _ = written
    report = ngff.validate(root)
    assert report.ok, report.problems
    assert not report.errors and not report.warnings


def test_written_plate_valid_under_official_schemas(written, conformance_dir):
    _, root, _ = written
    report = ngff.validate(root, schemas=conformance_dir / "spec", strict=True)
    assert report.ok, [p for p in report.problems if p.severity != "note"]


def test_empty_plate_reports_its_empty_wells(tmp_path):
    plate = ngff.write_plate(tmp_path / "p.zarr", rows=1, columns=2, wells=["A/1"])
    assert len(plate.well("A", "1").fields) == 0
    report = ngff.validate(tmp_path / "p.zarr")
    assert "well.images-empty" in {p.rule for p in report.errors}


def test_other_attributes_survive_updates(tmp_path):
    root = tmp_path / "p.zarr"
    ngff.write_plate(root, rows=1, columns=1, wells=["A/1"], version="0.5")
    doc = json.loads((root / "zarr.json").read_text())
    doc["attributes"]["ome"]["_creator"] = {"name": "someone"}
    doc["attributes"]["lab"] = "x"
    (root / "zarr.json").write_text(json.dumps(doc))
    ngff.write_well_image(root, "A", "1", 0, _field(1))
    attrs = json.loads((root / "zarr.json").read_text())["attributes"]
    assert attrs["lab"] == "x" and attrs["ome"]["_creator"] == {"name": "someone"}
    assert attrs["ome"]["plate"]["field_count"] == 1


def test_several_acquisitions_require_one_per_field(tmp_path):
    root = tmp_path / "p.zarr"
    ngff.write_plate(root, rows=1, columns=1, wells=["A/1"], acquisitions=[0, 1])
    before = (root / "A" / "1" / "zarr.json").read_bytes()
    with pytest.raises(NgffError, match="acquisition"):
        ngff.write_well_image(root, "A", "1", 0, _field(1))
    assert (root / "A" / "1" / "zarr.json").read_bytes() == before
    ngff.write_well_image(root, "A", "1", 0, _field(1), acquisition=0)
    ngff.write_well_image(root, "A", "1", 1, _field(2), acquisition=1)
    ngff.write_well_image(root, "A", "1", 2, _field(3), acquisition=1)
    ngff.write_well_image(root, "A", "1", 3, _field(4), acquisition=7)  # a new acquisition
    plate = ngff.read(root)
    assert {a.id: a.maximum_field_count for a in plate.acquisitions} == {0: 1, 1: 2, 7: 1}
    assert plate.well(0, 0).acquisitions == (0, 1, 1, 7)
    assert plate.metadata.field_count == 4
    assert ngff.validate(root).ok


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"rows": ["A", "a"], "columns": 1, "wells": []}, "collide"),
        ({"rows": ["A-1"], "columns": 1, "wells": []}, "alphanumeric"),
        ({"rows": 1, "columns": 1, "wells": ["A/1", "A/1"]}, "twice"),
        ({"rows": 1, "columns": 1, "wells": ["A/2"]}, "no column"),
        ({"rows": 1, "columns": 1, "wells": ["A1"]}, "row/column"),
        ({"rows": 1, "columns": 1, "wells": [], "acquisitions": [{"id": -1}]}, "acquisition id"),
        ({"rows": 1, "columns": 1, "wells": [], "acquisitions": [{"id": 0, "starttime": 1.5}]}, "starttime"),
        ({"rows": 1, "columns": 1, "wells": [], "field_count": 0}, "field_count"),
        ({"rows": 1, "columns": 1, "wells": [], "version": "0.3"}, "0.3"),
    ],
)
def test_write_plate_refuses_bad_input(tmp_path, kwargs, message):
    with pytest.raises(NgffError, match=message):
        ngff.write_plate(tmp_path / "p.zarr", **kwargs)
    assert not (tmp_path / "p.zarr").exists()


def test_write_well_image_refuses_bad_input(written):
    version, root, _ = written
    before = _plate_doc(root)
    with pytest.raises(NgffError, match="no row"):
        ngff.write_well_image(root, "C", "1", 0, _field(1))
    with pytest.raises(NgffError, match="out of range"):
        ngff.write_well_image(root, 0, 9, 0, _field(1))
    with pytest.raises(NgffError, match="alphanumeric"):
        ngff.write_well_image(root, "A", "1", "f-1", _field(1))
    other = "0.5" if version == "0.4" else "0.4"
    with pytest.raises(NgffError, match="consistent"):
        ngff.write_well_image(root, "A", "1", 5, _field(1), version=other)
    with pytest.raises(NgffError, match="exists"):  # the field is there already
        ngff.write_well_image(root, "A", "1", 0, _field(9))
    with pytest.raises(NgffError):
        ngff.write_well_image(root, "A", "1", 5, np.zeros((2, 3, 4, 5, 6, 7)))
    assert _plate_doc(root) == before
    np.testing.assert_array_equal(np.asarray(ngff.read(root).well("A", "1").fields[0].levels[0]), _field(1))
    with pytest.raises(NgffError, match="not a plate"):
        ngff.write_well_image(root / "A" / "1" / "0", "A", "1", 0, _field(1))


def test_overwrite_a_field(written):
    _, root, _ = written
    ngff.write_well_image(root, "A", "1", 0, _field(7), overwrite=True)
    plate = ngff.read(root)
    assert plate.well("A", "1").field_paths == ("0", "1")
    np.testing.assert_array_equal(np.asarray(plate.well("A", "1").fields[0].levels[0]), _field(7))


def test_concurrent_writers_keep_every_field(tmp_path):
    """Fields written by several threads at once all end up in the metadata (plate lock)."""
    from concurrent.futures import ThreadPoolExecutor

    root = tmp_path / "p.zarr"
    ngff.write_plate(root, rows=2, columns=2, wells=["A/1"], version="0.5")
    jobs = [(r, c, f) for r in "AB" for c in "12" for f in range(2)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda j: ngff.write_well_image(root, j[0], j[1], j[2], _field(1, (1, 8, 8))), jobs))
    plate = ngff.read(root)
    assert sorted(w.path for w in plate.wells) == ["A/1", "A/2", "B/1", "B/2"]
    for w in plate.wells:
        assert sorted(plate.well(*w.path.split("/")).field_paths) == ["0", "1"]
    assert ngff.validate(root).ok


# --------------------------------------------------------------------------- mosaic


def test_mosaic_values(written):
    _, root, values = written
    plate = ngff.read(root)
    mosaic = plate_mosaic(plate, level=0)
    assert mosaic.shape == (2, 64, 144) and mosaic.data.shape == mosaic.shape
    data = np.asarray(mosaic.data)
    np.testing.assert_array_equal(mosaic.read(), data)
    for (r, c, f), v in values.items():
        if f != "0":
            continue
        y, x = mosaic.origin(plate.rows.index(r), plate.columns.index(c))
        np.testing.assert_array_equal(data[:, y : y + 32, x : x + 48], _field(v))
    assert not data[:, 32:, :96].any()  # B/1 and B/2 are missing: fill
    assert mosaic.cells == {"A/1": (0, 0), "B/3": (1, 2), "A/2": (0, 1)}


def test_plate_mosaic_method_and_options(written):
    _, root, _ = written
    plate = ngff.read(root)
    coarse = plate.mosaic()  # the coarsest level
    template = plate.well("A", "1").fields[0]
    tile = template.levels[-1].shape
    assert coarse.shape == (2, 2 * tile[1], 3 * tile[2])
    np.testing.assert_array_equal(np.asarray(coarse)[:, : tile[1], : tile[2]], np.asarray(template.levels[-1]))
    second = plate_mosaic(plate, level=0, field=1, channels=["GFP"], gap=4, fill=9)
    data = np.asarray(second.data)
    assert data.shape == (1, 32 * 2 + 4, 48 * 3 + 8)
    np.testing.assert_array_equal(data[:, :32, :48], _field(2)[1:])
    assert (data[:, 32:36, :] == 9).all()  # the gap
    assert (data[:, 36:, :] == 9).all()  # no well of row B has a second field
    np.testing.assert_array_equal(second.read(), data)
    by_path = plate_mosaic(plate, level=0, field="1")
    np.testing.assert_array_equal(np.asarray(by_path.data)[:, :32, :48], _field(2))
    with pytest.raises(NgffError, match="level"):
        plate_mosaic(plate, level=5)
    with pytest.raises(NgffError, match="no well"):
        plate_mosaic(plate, field=3)
    with pytest.raises(NgffError, match="channel"):
        plate_mosaic(plate, channels=["RFP"])


def test_mosaic_reads_only_the_first_well_metadata(written, monkeypatch):
    """Uniform wells: tiles are read without any well, field or array document of the others."""
    _, root, _ = written
    plate = ngff.read(root)
    mosaic = plate_mosaic(plate, level=0)
    read_keys: list[str] = []
    original = plate.store.get
    monkeypatch.setattr(plate.store, "get", lambda key: read_keys.append(key) or original(key))
    loaded = []
    object.__setattr__(plate, "load_well", lambda path: loaded.append(path))
    mosaic.read()
    np.asarray(mosaic.data)
    assert loaded == []
    assert not [k for k in read_keys if k.endswith(("zarr.json", ".zattrs", ".zarray", ".zgroup"))]


def test_mosaic_heterogeneous_wells(tmp_path):
    root = tmp_path / "p.zarr"
    ngff.write_plate(root, rows=1, columns=2, wells=["A/1", "A/2"], version="0.4")
    ngff.write_well_image(root, "A", "1", 0, _field(1, (2, 16, 16)), dims="cyx", scale_factors=[])
    ngff.write_well_image(root, "A", "2", 0, _field(2, (2, 24, 20)), dims="cyx", scale_factors=[])
    plate = ngff.read(root)
    padded = plate_mosaic(plate, level=0, uniform=False)
    assert padded.tile_shape == (2, 24, 20)
    data = padded.read()
    np.testing.assert_array_equal(data[:, :16, :16], _field(1, (2, 16, 16)))
    assert not data[:, 16:24, :20].any() and not data[:, :24, 16:20].any()
    np.testing.assert_array_equal(data[:, :, 20:], _field(2, (2, 24, 20)))
    np.testing.assert_array_equal(np.asarray(padded.data), data)
    # uniform: the first well's shape; the larger well is cropped (documented)
    cropped = plate_mosaic(plate, level=0).read()
    assert cropped.shape == (2, 16, 32)
    np.testing.assert_array_equal(cropped[:, :, 16:], _field(2, (2, 24, 20))[:, :16, :16])


def test_mosaic_multi_acquisition_builder_plate(tmp_path):
    """The reader suite's plate (0.4 and 0.5 layouts): field 0 is acquisition 0, field 1 acquisition 1."""
    for version in VERSIONS:
        root = tmp_path / f"plate{version}.zarr"
        root.mkdir()
        exp = builders.build_plate(root, version=version)
        plate = ngff.read(root)
        for acquisition, k in ((0, 0), (1, 1)):
            mosaic = plate_mosaic(plate, level=0, acquisition=acquisition)
            data = np.asarray(mosaic.data)
            for well_path, r, c in exp.wells:
                y, x = mosaic.origin(r, c)
                want = exp.fields[well_path][k].levels[0]
                np.testing.assert_array_equal(data[:, y : y + want.shape[1], x : x + want.shape[2]], want)
            np.testing.assert_array_equal(mosaic.read(), data)


def test_missing_well_group_is_fill(written):
    """A well listed by the plate but absent on disk shows as fill, never as an error."""
    import shutil

    _, root, _ = written
    shutil.rmtree(root / "B" / "3")
    plate = ngff.read(root)
    data = plate_mosaic(plate, level=0).read()
    assert not data[:, 32:, 96:].any()


def test_conformance_plate_with_contradicting_indices(conformance_dir):
    """BioImageTools plate-01: indices contradict paths; the mosaic places wells by path."""
    root = conformance_dir / "fixtures" / "BioImageTools_ome-zarr-examples" / "data" / "valid" / "plate-01.zarr"
    plate = ngff.read(root)
    positions = {ref.path: well_position(plate, ref) for ref in plate.wells}
    assert positions == {"A/1": (0, 0), "A/2": (0, 1), "B/1": (1, 0), "B/2": (1, 1)}
    mosaic = plate_mosaic(plate)
    data = np.asarray(mosaic.data)
    for path, (r, c) in positions.items():
        field = plate.well(*path.split("/")).fields[0]
        tile = np.asarray(field.levels[mosaic.level])
        y, x = mosaic.origin(r, c)
        np.testing.assert_array_equal(data[..., y : y + tile.shape[-2], x : x + tile.shape[-1]], tile)
    rules = {p.rule for p in ngff.validate(root).errors}
    assert rules == {"well.path-matches-indices"}


@pytest.mark.parametrize(
    "relative, grid",
    [
        ("ome-zarr-models_ome-zarr-models-py/tests/data/examples/v04/hcs_example.ome.zarr", (1, 1)),
        ("tlambert03_yaozarrs/tests/data/v05/76-45.ome.zarr", (12, 32)),
        ("tlambert03_yaozarrs/tests/data/v04/2551.zarr", (8, 12)),
    ],
)
def test_metadata_only_fixture_plates(conformance_dir, relative, grid):
    """Real-world plate metadata without pixels: the plate reads; a mosaic needs one readable field."""
    plate = ngff.read(conformance_dir / "fixtures" / relative)
    assert (len(plate.rows), len(plate.columns)) == grid
    if grid == (1, 1):  # arrays present, chunks absent: the fill value
        mosaic = plate_mosaic(plate)
        assert mosaic.shape == (1, 2, 135, 320) and not mosaic.read().any()
    else:  # no field of any well has its arrays
        with pytest.raises(NgffError, match="no well of the plate has field 0"):
            plate_mosaic(plate)


# --------------------------------------------------------------------------- validation rules


def _plate_with_counts(root: Path, field_count: int, maximum: int) -> None:
    ngff.write_plate(root, rows=1, columns=1, wells=["A/1"], acquisitions=[0], version="0.4")
    for f in range(2):
        ngff.write_well_image(root, "A", "1", f, _field(f, (1, 8, 8)))
    attrs = json.loads((root / ".zattrs").read_text())
    attrs["plate"]["field_count"] = field_count
    attrs["plate"]["acquisitions"][0]["maximumfieldcount"] = maximum
    (root / ".zattrs").write_text(json.dumps(attrs))


def test_field_count_exceeded_is_an_error(tmp_path):
    _plate_with_counts(tmp_path / "p.zarr", field_count=1, maximum=2)
    report = ngff.validate(tmp_path / "p.zarr")
    assert not report.ok
    assert {p.rule for p in report.errors} == {"plate.field-count-exceeded"}


def test_maximumfieldcount_exceeded_is_a_warning(tmp_path):
    _plate_with_counts(tmp_path / "p.zarr", field_count=2, maximum=1)
    report = ngff.validate(tmp_path / "p.zarr")
    assert report.ok
    assert "plate.acquisition-maximumfieldcount-exceeded" in {p.rule for p in report.warnings}
    assert not ngff.validate(tmp_path / "p.zarr", strict=True).ok


def test_field_that_is_not_an_image_is_an_error(written):
    _, root, _ = written
    field = root / "A" / "1" / "1"
    for name in ("zarr.json", ".zattrs"):
        doc_path = field / name
        if doc_path.exists():
            doc = json.loads(doc_path.read_text())
            if name == "zarr.json":
                doc["attributes"] = {}
            else:
                doc = {}
            doc_path.write_text(json.dumps(doc))
    rules = {p.rule for p in ngff.validate(root).errors}
    assert "field.no-multiscales" in rules


def test_summary_of_a_plate(written):
    from ngff.summary import summarize

    _, root, _ = written
    summary = summarize(root, measure=False)
    plate = summary["plate"]
    assert plate["grid"] == [2, 3] and plate["wells"] == 3 and plate["fields_per_well"] == 2
    image = plate["first_well"]["image"]
    assert image["dims"] == ["c", "y", "x"] and image["shape"] == [2, 32, 48]
    assert image["dtype"] == "uint16" and image["channels"] == ["DAPI", "GFP"]
    assert plate["acquisitions"][0]["start_time"] == 1_700_000_000_000
