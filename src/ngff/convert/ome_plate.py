"""HCS plate layouts of OME-TIFF files: OME-XML ``Plate`` → an OME-Zarr plate.

An OME-TIFF written by a screening system describes its plate in the OME-XML::

    <Plate Rows="2" Columns="3" RowNamingConvention="letter" ColumnNamingConvention="number">
      <Well Row="0" Column="1">
        <WellSample Index="0"><ImageRef ID="Image:0"/></WellSample>
      </Well>
      <PlateAcquisition ID="PlateAcquisition:0" StartTime="2024-05-01T10:00:00">
        <WellSampleRef ID="WellSample:0"/>
      </PlateAcquisition>
    </Plate>

:func:`plate_layout` reads that into a :class:`PlateLayout` (checked: every ``ImageRef``
names an image of the file, no two wells share a position, every position lies on the
plate); :func:`convert_plate` writes it with :func:`ngff.write_plate` and converts each
``WellSample``'s image as one field of its well with :func:`ngff.write_well_image`, one
image at a time exactly like a single series (so memory stays bounded).

The plate is built beside the destination and moved into place when complete: a failed
conversion leaves the destination as it was.
"""

from __future__ import annotations

import logging
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import NgffError
from ..model import Plate

__all__ = ["PlateField", "PlateLayout", "PlateWell", "convert_plate", "parse_plate_xml", "plate_layout"]

_log = logging.getLogger(__name__)
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_TRAILING_NUMBER = re.compile(r"(\d+)$")


@dataclass(frozen=True)
class PlateField:
    """One field of view: a series of the file, and its acquisition id (or None)."""

    series: int
    acquisition: int | None = None


@dataclass(frozen=True)
class PlateWell:
    """A well at 0-based ``(row, column)`` with its fields, in ``WellSample`` ``Index`` order."""

    row: int
    column: int
    fields: tuple[PlateField, ...]


@dataclass(frozen=True)
class PlateLayout:
    """A plate described by OME-XML, ready for :func:`ngff.write_plate`.

    ``acquisitions`` are mappings with the spec's keys (``id``, ``name``,
    ``description``, ``starttime``/``endtime`` in epoch milliseconds,
    ``maximumfieldcount``).
    """

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    wells: tuple[PlateWell, ...]
    acquisitions: tuple[dict[str, Any], ...] = ()
    name: str | None = None
    #: Number of ``Image`` elements of the OME-XML (series ``i`` is the ``i``-th).
    image_count: int = 0


# --------------------------------------------------------------------------- parsing


def _local(tag: str) -> str:
    """An element's name without its namespace (OME-XML schemas of every year)."""
    return tag.rsplit("}", 1)[-1]


def _children(element: ET.Element, name: str) -> Iterator[ET.Element]:
    return (child for child in element if _local(child.tag) == name)


def _count(value: str | None, what: str, location: str) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        number = int(value)
    except ValueError:
        raise NgffError(
            f"Plate {what} {value!r} is not an integer", location=location, rule=f"OME Plate/@{what} is a positive integer"
        ) from None
    if number < 1:
        raise NgffError(
            f"Plate {what} {number} is not positive", location=location, rule=f"OME Plate/@{what} is a positive integer"
        )
    return number


def _index(element: ET.Element, attribute: str, what: str, location: str) -> int:
    value = element.get(attribute)
    try:
        number = int(value) if value is not None else -1
    except ValueError:
        number = -1
    if number < 0:
        raise NgffError(
            f"{what} {element.get('ID') or '(no ID)'} has {attribute}={value!r}, not a non-negative integer",
            location=location,
            rule=f"OME {what}/@{attribute} is a non-negative integer",
        )
    return number


def _names(count: int, convention: str | None, default: str) -> tuple[str, ...]:
    """Row or column names after an OME naming convention (``letter``: A, B, ...; ``number``: 1, 2, ...)."""
    from ..hcs import column_names, row_names

    kind = (convention or default).strip().lower()
    return row_names(count) if kind == "letter" else column_names(count)


def _epoch_ms(value: str | None, what: str, location: str) -> int | None:
    """An ``xsd:dateTime`` as integer epoch milliseconds (UTC when it has no zone), as the
    spec's examples use; unreadable or pre-1970 times are dropped with a warning."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # fromisoformat takes at most 6 fraction digits; OME writers may give more.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        _log.warning("ngff: %s: PlateAcquisition %s %r is not a date-time; left out", location, what, value)
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    ms = round(moment.timestamp() * 1000)
    if ms < 0:
        _log.warning("ngff: %s: PlateAcquisition %s %r is before 1970; left out", location, what, value)
        return None
    return ms


def _acquisition_ids(elements: list[ET.Element]) -> list[int]:
    """Integer ids of PlateAcquisitions: the number ending their OME ID (``PlateAcquisition:3``)
    when those are unique, else their order."""
    numbers = []
    for element in elements:
        match = _TRAILING_NUMBER.search(element.get("ID") or "")
        numbers.append(int(match.group(1)) if match else None)
    if all(n is not None for n in numbers) and len(set(numbers)) == len(numbers):
        return [int(n) for n in numbers]  # type: ignore[arg-type]
    return list(range(len(elements)))


def parse_plate_xml(xml: str, location: str) -> PlateLayout | None:
    """The first plate an OME-XML document describes, or None when it has none.

    Parameters
    ----------
    xml
        The OME-XML text (an OME-TIFF's first ImageDescription).
    location
        The file it comes from, named in errors.

    Raises
    ------
    NgffError
        When a ``WellSample`` references an image the document does not hold, two wells
        share a position, a well lies outside the plate's ``Rows``/``Columns``, or a
        ``WellSample`` of a plate with several acquisitions belongs to none.
    """
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        _log.warning("ngff: %s: the OME-XML does not parse (%s); no plate layout read", location, exc)
        return None
    plates = list(_children(root, "Plate"))
    if not plates:
        return None
    if len(plates) > 1:
        _log.warning("ngff: %s: the OME-XML describes %d plates; converting the first", location, len(plates))
    plate = plates[0]
    # Series i of the file is the i-th Image of the OME-XML (as tifffile reads them).
    series_of = {image.get("ID"): i for i, image in enumerate(_children(root, "Image"))}

    acquisition_elements = list(_children(plate, "PlateAcquisition"))
    acquisition_ids = _acquisition_ids(acquisition_elements)
    acquisitions: list[dict[str, Any]] = []
    acquisition_of: dict[str, int] = {}  # WellSample ID -> acquisition id
    for element, acq_id in zip(acquisition_elements, acquisition_ids):
        entry: dict[str, Any] = {"id": acq_id}
        if element.get("Name"):
            entry["name"] = element.get("Name")
        description = next(_children(element, "Description"), None)
        if description is not None and (description.text or "").strip():
            entry["description"] = description.text.strip()  # type: ignore[union-attr]
        for key, attribute in (("starttime", "StartTime"), ("endtime", "EndTime")):
            ms = _epoch_ms(element.get(attribute), attribute, location)
            if ms is not None:
                entry[key] = ms
        maximum = element.get("MaximumFieldCount")
        if maximum is not None and maximum.strip().isdigit() and int(maximum) > 0:
            entry["maximumfieldcount"] = int(maximum)
        acquisitions.append(entry)
        for ref in _children(element, "WellSampleRef"):
            acquisition_of.setdefault(ref.get("ID") or "", acq_id)

    n_rows = _count(plate.get("Rows"), "Rows", location)
    n_columns = _count(plate.get("Columns"), "Columns", location)
    raw_wells = []
    seen: dict[tuple[int, int], str] = {}
    for well in _children(plate, "Well"):
        row = _index(well, "Row", "Well", location)
        column = _index(well, "Column", "Well", location)
        well_id = well.get("ID") or f"at Row={row} Column={column}"
        if (row, column) in seen:
            raise NgffError(
                f"Wells {seen[row, column]} and {well_id} are both at Row={row} Column={column}",
                location=location,
                rule="a plate holds one well per position (wells MUST be unique)",
            )
        seen[row, column] = well_id
        for limit, value, what in ((n_rows, row, "Row"), (n_columns, column, "Column")):
            if limit is not None and value >= limit:
                raise NgffError(
                    f"Well {well_id} has {what}={value}, outside the plate's {limit} {what.lower()}s "
                    f"(0 to {limit - 1})",
                    location=location,
                    rule=f"a Well's {what} lies within the Plate's {what}s",
                )
        samples = []
        for order, sample in enumerate(_children(well, "WellSample")):
            ref = next(_children(sample, "ImageRef"), None)
            if ref is None:
                continue  # a position without an image: nothing to convert
            image_id = ref.get("ID")
            if image_id not in series_of:
                raise NgffError(
                    f"WellSample {sample.get('ID') or order} of Well {well_id} references image "
                    f"{image_id!r}, which the file does not hold",
                    location=location,
                    rule="each WellSample ImageRef MUST name an Image of the file",
                )
            acq = acquisition_of.get(sample.get("ID") or "")
            if acq is None and len(acquisitions) == 1:
                acq = acquisitions[0]["id"]
            if acq is None and len(acquisitions) > 1:
                raise NgffError(
                    f"WellSample {sample.get('ID') or order} of Well {well_id} belongs to none of the "
                    f"plate's {len(acquisitions)} PlateAcquisitions",
                    location=location,
                    rule="with several acquisitions, each field MUST name its acquisition",
                )
            index = _index(sample, "Index", "WellSample", location) if sample.get("Index") is not None else order
            samples.append((index, order, PlateField(series_of[image_id], acq)))
        if samples:
            samples.sort(key=lambda item: (item[0], item[1]))
            raw_wells.append(PlateWell(row, column, tuple(f for _, _, f in samples)))
    if not raw_wells:
        _log.warning("ngff: %s: the OME-XML plate has no well with an image; no plate layout read", location)
        return None
    rows = _names(n_rows or max(w.row for w in raw_wells) + 1, plate.get("RowNamingConvention"), "letter")
    columns = _names(
        n_columns or max(w.column for w in raw_wells) + 1, plate.get("ColumnNamingConvention"), "number"
    )
    return PlateLayout(
        rows=rows,
        columns=columns,
        wells=tuple(sorted(raw_wells, key=lambda w: (w.row, w.column))),
        acquisitions=tuple(acquisitions),
        name=plate.get("Name") or None,
        image_count=len(series_of),
    )


def plate_layout(input: str | os.PathLike[str]) -> PlateLayout | None:
    """The plate layout of an OME-TIFF file, or None when it is not a plate (or not an OME-TIFF).

    Raises
    ------
    NgffError
        When the file's plate layout breaks a rule (see :func:`parse_plate_xml`), or a
        WellSample references an image beyond the file's series.
    """
    path = Path(input)
    try:
        with open(path, "rb") as handle:
            if handle.read(4) not in _TIFF_MAGIC:
                return None
    except OSError:
        return None  # globs, directories, missing files: the ordinary path reports them
    try:
        import tifffile

        with tifffile.TiffFile(path) as tif:
            xml = tif.ome_metadata if tif.is_ome else None
            count = len(tif.series)
    except Exception:  # noqa: BLE001 - tifffile missing or a broken TIFF: the ordinary path reports it
        return None
    if not xml:
        return None
    layout = parse_plate_xml(xml, str(path))
    if layout is not None and layout.image_count != count:
        # tifffile leaves out Images without pixel data here (e.g. files missing from a
        # multi-file set): which series holds which Image is then unknown.
        raise NgffError(
            f"the OME-XML describes {layout.image_count} images but the file holds pixels of "
            f"{count}, so the plate's images cannot be matched to series (convert one with --series N)",
            location=str(path),
            rule="each WellSample ImageRef MUST name an Image of the file",
        )
    return layout


# --------------------------------------------------------------------------- conversion


def convert_plate(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    layout: PlateLayout,
    *,
    dims: Any = None,
    scale: Any = None,
    units: Any = None,
    levels: int | None = None,
    reuse_levels: bool = True,
    **write_options: Any,
) -> Plate:
    """Write ``layout`` as an OME-Zarr plate, each field converted from its series of ``input``.

    Parameters
    ----------
    input
        The OME-TIFF file.
    output
        Destination directory of the plate.
    layout
        What :func:`plate_layout` read from the file.
    dims, scale, units, levels, reuse_levels
        As for :func:`ngff.convert`, applied to every field.
    **write_options
        :func:`ngff.write` options for every field; ``version``, ``overwrite``,
        ``progress`` (one bar over all fields) and ``name`` (the plate's) apply to the
        plate as a whole.

    Returns
    -------
    Plate
        The written plate, opened lazily.

    Raises
    ------
    NgffError
        For unreadable series and invalid options; the destination is left as it was.
    """
    from ..hcs import write_plate, write_well_image
    from ..reader import read
    from ..store import OutputDirectory
    from . import write_arguments
    from .source import open_source

    version = write_options.pop("version", "0.5")
    overwrite = bool(write_options.pop("overwrite", False))
    progress = write_options.pop("progress", None)
    name = write_options.pop("name", None) or layout.name
    fields = [(well, k, f) for well in layout.wells for k, f in enumerate(well.fields)]
    target = OutputDirectory(output, overwrite=overwrite, protect=[os.fspath(input)])
    try:
        write_plate(
            target.path,
            rows=layout.rows,
            columns=layout.columns,
            wells=[(w.row, w.column) for w in layout.wells],
            acquisitions=list(layout.acquisitions),
            name=name,
            version=version,
            overwrite=True,  # the (empty) temporary directory
        )
        for number, (well, k, f) in enumerate(fields):

            def step(done: int, total: int, number: int = number) -> None:
                if progress is not None:  # field by field, as one bar
                    progress(number * total + done, len(fields) * total)

            source = open_source(input, series=f.series, dims=dims, reader="tiff")
            try:
                data, options = write_arguments(
                    source, scale=scale, units=units, levels=levels, reuse_levels=reuse_levels,
                    write_options={**write_options, "progress": step},
                )
                try:
                    write_well_image(
                        target.path, well.row, well.column, k, data, acquisition=f.acquisition, **options
                    )
                except OSError as exc:
                    raise NgffError(f"cannot read the input: {exc}", location=os.fspath(input)) from exc
            finally:
                source.close()
        target.commit()
    except BaseException:
        target.abort()
        raise
    plate = read(target.final)
    assert isinstance(plate, Plate)
    return plate
