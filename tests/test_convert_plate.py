"""OME-TIFF files describing an HCS plate convert into OME-Zarr plates (ngff.convert.ome_plate)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import ngff
from ngff.cli import app
from ngff.errors import NgffError

tifffile = pytest.importorskip("tifffile")

runner = CliRunner()

#: 2x3 plate, 4 wells of 2 fields: (row, column) -> series of field 0 and field 1 (WellSample Index order).
WELLS = {(0, 0): (1, 0), (0, 2): (2, 3), (1, 1): (5, 4), (1, 2): (6, 7)}
N_SERIES = 8
SHAPE = (2, 16, 24)  # c, y, x


def _pixels(series: int) -> np.ndarray:
    rng = np.random.default_rng(series)
    return rng.integers(1, 60000, size=SHAPE, dtype=np.uint16)


def _plate_xml(acquisitions: int = 2, wells: dict | None = None, rows: int = 2, columns: int = 3,
               image_ref: str | None = None) -> str:
    """A Plate element; the WellSamples are listed in reverse Index order to check the ordering."""
    wells = WELLS if wells is None else wells
    parts = [
        (
            f'<Plate ID="Plate:0" Name="screen 7" Rows="{rows}" Columns="{columns}" '
            'RowNamingConvention="letter" ColumnNamingConvention="number">'
        )
    ]
    sample = 0
    samples_of_field: dict[int, list[str]] = {0: [], 1: []}
    for w, ((row, column), series) in enumerate(wells.items()):
        parts.append(f'<Well ID="Well:{w}" Row="{row}" Column="{column}">')
        listed = []
        for index, s in enumerate(series):
            ref = image_ref if image_ref is not None and w == 1 and index == 1 else f"Image:{s}"
            listed.append(
                f'<WellSample ID="WellSample:{sample}" Index="{2 * w + index}">'
                f'<ImageRef ID="{ref}"/></WellSample>'
            )
            samples_of_field[index].append(f"WellSample:{sample}")
            sample += 1
        parts.extend(reversed(listed))
        parts.append("</Well>")
    if acquisitions == 1:
        refs = "".join(f'<WellSampleRef ID="{i}"/>' for i in samples_of_field[0] + samples_of_field[1])
        parts.append(
            '<PlateAcquisition ID="PlateAcquisition:0" Name="run" MaximumFieldCount="2" '
            f'StartTime="2024-05-01T10:00:00">{refs}</PlateAcquisition>'
        )
    elif acquisitions == 2:
        for k, (start, end) in enumerate(
            [("2024-05-01T10:00:00", "2024-05-01T10:30:00.250Z"), ("2024-05-02T10:00:00+02:00", None)]
        ):
            refs = "".join(f'<WellSampleRef ID="{i}"/>' for i in samples_of_field[k])
            attrs = f'StartTime="{start}"' + (f' EndTime="{end}"' if end else "")
            parts.append(
                f'<PlateAcquisition ID="PlateAcquisition:{k + 1}" Name="t{k}" MaximumFieldCount="1" {attrs}>'
                f"<Description>day {k}</Description>{refs}</PlateAcquisition>"
            )
    parts.append("</Plate>")
    return "".join(parts)


def _plate_tiff(tmp_path: Path, plate_xml: str, name: str = "plate.ome.tif") -> Path:
    """A multi-series OME-TIFF (tifffile) whose OME-XML is given a Plate element."""
    path = tmp_path / name
    with tifffile.TiffWriter(path, ome=True) as tw:
        for s in range(N_SERIES):
            tw.write(
                _pixels(s),
                metadata={
                    "axes": "CYX",
                    "PhysicalSizeX": 0.5,
                    "PhysicalSizeY": 0.25,
                    "PhysicalSizeXUnit": "µm",
                    "PhysicalSizeYUnit": "nm",
                    "Channel": {"Name": ["DAPI", "GFP"]},
                    "Name": f"image {s}",
                },
            )
    xml = tifffile.tiffcomment(path)
    at = xml.index("<Image ")  # the OME schema puts Plate before Image
    tifffile.tiffcomment(path, (xml[:at] + plate_xml + xml[at:]).encode("utf-8"))
    return path


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ngff.Plate]:
    tmp = tmp_path_factory.mktemp("plate")
    source = _plate_tiff(tmp, _plate_xml(acquisitions=2))
    result = ngff.convert(source, tmp / "plate.ome.zarr")
    return tmp / "plate.ome.zarr", result


def test_plate_layout_rows_columns_wells(converted) -> None:
    location, result = converted
    plate = ngff.read(location)
    assert isinstance(result, ngff.Plate) and isinstance(plate, ngff.Plate)
    assert plate.rows == ("A", "B") and plate.columns == ("1", "2", "3")
    assert plate.name == "screen 7"
    assert {(w.path, w.row_index, w.column_index) for w in plate.wells} == {
        ("A/1", 0, 0), ("A/3", 0, 2), ("B/2", 1, 1), ("B/3", 1, 2)
    }
    assert plate.metadata.field_count == 2


def test_plate_acquisitions(converted) -> None:
    plate = ngff.read(converted[0])
    acqs = {a.id: a for a in plate.acquisitions}
    assert sorted(acqs) == [1, 2]
    assert acqs[1].name == "t0" and acqs[2].name == "t1"
    assert acqs[1].description == "day 0"
    assert acqs[1].start_time == 1714557600000  # 2024-05-01T10:00:00 UTC in epoch ms
    assert acqs[1].end_time == 1714559400250
    assert acqs[2].start_time == 1714636800000  # 10:00 at +02:00 is 08:00 UTC
    assert acqs[2].end_time is None
    assert acqs[1].maximum_field_count == acqs[2].maximum_field_count == 1


def test_fields_pixels_scale_units_channels(converted) -> None:
    plate = ngff.read(converted[0])
    for (row, column), series in WELLS.items():
        well = plate.well(row, column)
        assert well.field_paths == ("0", "1")
        assert well.acquisitions == (1, 2)
        for k, s in enumerate(series):
            image = well.fields[k]
            np.testing.assert_array_equal(np.asarray(image.levels[0]), _pixels(s))
            assert image.dims == ("c", "y", "x")
            assert image.scales[0][1:] == (0.25, 0.5)
            assert [a.unit for a in image.axes[1:]] == ["nanometer", "micrometer"]
            assert [c.label for c in image.channels] == ["DAPI", "GFP"]
            assert image.name == f"image {s}"


def test_plate_validates(converted) -> None:
    report = ngff.validate(converted[0])
    assert report.ok, report


def test_mosaic_puts_each_field_in_its_cell(converted) -> None:
    plate = ngff.read(converted[0])
    _, h, w = SHAPE
    for k in (0, 1):
        mosaic = np.asarray(plate.mosaic(level=0, field=k))
        assert mosaic.shape == (2, 2 * h, 3 * w)
        for r in range(2):
            for c in range(3):
                cell = mosaic[:, r * h : (r + 1) * h, c * w : (c + 1) * w]
                if (r, c) in WELLS:
                    np.testing.assert_array_equal(cell, _pixels(WELLS[r, c][k]))
                else:
                    assert not cell.any()  # no well there: fill


def test_one_acquisition_and_version_04(tmp_path: Path) -> None:
    source = _plate_tiff(tmp_path, _plate_xml(acquisitions=1))
    plate = ngff.convert(source, tmp_path / "p.ome.zarr", version="0.4", name="renamed")
    assert isinstance(plate, ngff.Plate) and plate.version == "0.4"
    assert plate.name == "renamed"
    (acq,) = plate.acquisitions
    assert (acq.id, acq.name, acq.maximum_field_count, acq.start_time) == (0, "run", 2, 1714557600000)
    assert plate.well("B", "3").acquisitions == (0, 0)
    assert ngff.validate(tmp_path / "p.ome.zarr").ok


def test_no_acquisitions_number_rows(tmp_path: Path) -> None:
    xml = _plate_xml(acquisitions=0).replace('RowNamingConvention="letter"', 'RowNamingConvention="number"')
    xml = xml.replace('ColumnNamingConvention="number"', 'ColumnNamingConvention="letter"')
    plate = ngff.convert(_plate_tiff(tmp_path, xml), tmp_path / "p.ome.zarr")
    assert plate.rows == ("1", "2") and plate.columns == ("A", "B", "C")
    assert plate.acquisitions == ()
    well = plate.well(1, 1)
    assert well.path.endswith("2/B") and well.acquisitions == (None, None)
    np.testing.assert_array_equal(np.asarray(well.fields[0].levels[0]), _pixels(5))


def test_series_option_converts_one_image(tmp_path: Path) -> None:
    source = _plate_tiff(tmp_path, _plate_xml())
    image = ngff.convert(source, tmp_path / "one.ome.zarr", series=3)
    assert isinstance(image, ngff.Image)
    np.testing.assert_array_equal(np.asarray(image.levels[0]), _pixels(3))
    collection = ngff.convert(source, tmp_path / "all.ome.zarr", series="all")
    assert len(collection.images) == N_SERIES


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (_plate_xml(image_ref="Image:99"), "references image 'Image:99'"),
        (_plate_xml(wells={(0, 0): (0, 1), (0, 2): (2, 3)}, columns=2), "Column=2, outside the plate's 2 columns"),
        (_plate_xml(wells={(0, 0): (0, 1), (2, 1): (2, 3)}), "Row=2, outside the plate's 2 rows"),
    ],
    ids=["missing-image", "column-outside", "row-outside"],
)
def test_layout_errors(tmp_path: Path, xml: str, message: str) -> None:
    source = _plate_tiff(tmp_path, xml)
    out = tmp_path / "p.ome.zarr"
    with pytest.raises(NgffError, match=message) as info:
        ngff.convert(source, out)
    assert str(source) in str(info.value) and "rule:" in str(info.value)
    assert not out.exists() and not list(tmp_path.glob(".p.ome.zarr*"))


def test_image_without_pixels_is_refused(tmp_path: Path) -> None:
    """An Image with no pixel data in the file shifts tifffile's series: refused, not mismatched."""
    ghost = (
        '<Image ID="Image:8"><Pixels ID="Pixels:8" DimensionOrder="XYCZT" Type="uint16" SizeX="24" '
        'SizeY="16" SizeC="1" SizeZ="1" SizeT="1"/></Image>'
    )
    source = _plate_tiff(tmp_path, _plate_xml(image_ref="Image:8"))
    xml = tifffile.tiffcomment(source)
    tifffile.tiffcomment(source, xml.replace("</OME>", ghost + "</OME>").encode("utf-8"))
    with pytest.raises(NgffError, match="describes 9 images but the file holds pixels of 8"):
        ngff.convert(source, tmp_path / "p.ome.zarr")


def test_bad_well_index(tmp_path: Path) -> None:
    xml = _plate_xml().replace('Row="1" Column="1"', 'Row="-1" Column="1"')
    with pytest.raises(NgffError, match=r"Well Well:2 has Row='-1'.*Well/@Row is a non-negative integer"):
        ngff.convert(_plate_tiff(tmp_path, xml), tmp_path / "p.ome.zarr")


def test_duplicate_well_position(tmp_path: Path) -> None:
    xml = _plate_xml().replace('Row="1" Column="1"', 'Row="0" Column="0"')
    with pytest.raises(NgffError, match=r"both at Row=0 Column=0.*wells MUST be unique") as info:
        ngff.convert(_plate_tiff(tmp_path, xml), tmp_path / "p.ome.zarr")
    assert str(tmp_path / "plate.ome.tif") in str(info.value)


def test_failed_conversion_keeps_existing_output(tmp_path: Path) -> None:
    out = tmp_path / "p.ome.zarr"
    out.mkdir()
    (out / "keep.txt").write_text("old")
    with pytest.raises(NgffError):
        ngff.convert(_plate_tiff(tmp_path, _plate_xml(image_ref="Image:42")), out, overwrite=True)
    assert (out / "keep.txt").read_text() == "old"


def test_cli_convert_plate_then_info(tmp_path: Path) -> None:
    source = _plate_tiff(tmp_path, _plate_xml())
    out = tmp_path / "cli.ome.zarr"
    result = runner.invoke(app, ["convert", str(source), str(out)])
    assert result.exit_code == 0, result.output
    assert "plate" in result.output
    info = runner.invoke(app, ["info", str(out), "--json"])
    assert info.exit_code == 0, info.output
    summary = json.loads(info.stdout)
    assert summary["kind"] == "plate"
    assert summary["plate"]["rows"] == ["A", "B"] and summary["plate"]["columns"] == ["1", "2", "3"]
    assert summary["plate"]["wells"] == 4 and summary["plate"]["fields_per_well"] == 2
    bad = runner.invoke(app, ["convert", str(_plate_tiff(tmp_path, _plate_xml(image_ref="Image:9"), "bad.ome.tif")),
                              str(tmp_path / "bad.ome.zarr")])
    assert bad.exit_code == 2 and "Image:9" in bad.output


def test_field_of_no_acquisition_is_refused(tmp_path: Path) -> None:
    xml = _plate_xml(acquisitions=2).replace('<WellSampleRef ID="WellSample:3"/>', "")
    with pytest.raises(NgffError, match=r"WellSample:3 of Well Well:1 belongs to none of the plate's 2"):
        ngff.convert(_plate_tiff(tmp_path, xml), tmp_path / "p.ome.zarr")


def test_parse_other_namespace_without_counts() -> None:
    from ngff.convert.ome_plate import PlateField, parse_plate_xml

    xml = (
        '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2013-06">'
        '<Plate Name="p"><Well Row="2" Column="4"><WellSample Index="7"><ImageRef ID="b"/></WellSample>'
        '<WellSample Index="3"><ImageRef ID="a"/></WellSample><WellSample Index="5"/></Well></Plate>'
        '<Image ID="a"/><Image ID="b"/></OME>'
    )
    layout = parse_plate_xml(xml, "x.ome.tif")
    assert layout is not None
    assert layout.rows == ("A", "B", "C") and layout.columns == ("1", "2", "3", "4", "5")
    (well,) = layout.wells
    assert (well.row, well.column) == (2, 4)
    assert well.fields == (PlateField(0), PlateField(1))  # Index 3 (image a) before Index 7 (image b)
    assert parse_plate_xml('<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="a"/></OME>', "y") is None


def test_fields_stream_from_the_file_with_one_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each field reaches the writer as a lazy FileArray of its series (never loaded whole),
    and the progress callback runs once over the whole plate."""
    import ngff.hcs
    from ngff.convert.source import FileArray

    handed: list[tuple[str, str, int]] = []
    real = ngff.hcs.write_well_image

    def spy(plate_location, row, column, field, data, **options):
        assert isinstance(data, FileArray)
        handed.append((row, column, data.series))
        return real(plate_location, row, column, field, data, **options)

    monkeypatch.setattr(ngff.hcs, "write_well_image", spy)
    calls: list[tuple[int, int]] = []
    ngff.convert(_plate_tiff(tmp_path, _plate_xml()), tmp_path / "p.ome.zarr", progress=lambda d, t: calls.append((d, t)))
    assert sorted(handed) == sorted((r, c, s) for (r, c), series in WELLS.items() for s in series)
    totals = {t for _, t in calls}
    assert len(totals) == 1 and calls[-1][0] == calls[-1][1]
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_pyramidal_fields_keep_their_stored_levels(tmp_path: Path) -> None:
    path = tmp_path / "pyr.ome.tif"
    rng = np.random.default_rng(0)
    data = [rng.integers(1, 999, (2, 32, 48), dtype=np.uint16) for _ in range(N_SERIES)]
    with tifffile.TiffWriter(path, ome=True) as tw:
        for s in range(N_SERIES):
            tw.write(data[s], subifds=1, metadata={"axes": "CYX", "PhysicalSizeX": 0.5, "PhysicalSizeY": 0.5})
            tw.write(data[s][:, ::2, ::2], subfiletype=1)  # a stored level no downsampler would make
    xml = tifffile.tiffcomment(path)
    at = xml.index("<Image ")
    tifffile.tiffcomment(path, (xml[:at] + _plate_xml() + xml[at:]).encode("utf-8"))
    plate = ngff.convert(path, tmp_path / "p.ome.zarr")
    image = plate.well(0, 2).fields[1]  # A/3 field 1 is series 3
    assert [tuple(level.shape) for level in image.levels] == [(2, 32, 48), (2, 16, 24)]
    np.testing.assert_array_equal(np.asarray(image.levels[1]), data[3][:, ::2, ::2])
    assert image.scales[1][1:] == (1.0, 1.0)
