"""High-content screening: write plates and wells, and tile a plate into one lazy mosaic.

Layout (all versions)::

    plate.zarr/            plate metadata: rows, columns, wells, acquisitions, field_count
        B/                 row group (plain, no OME keys)
            3/             well metadata: images (fields) and their acquisition
                0/         a field of view: an ordinary multiscale image

:func:`write_plate` creates the hierarchy and its metadata; :func:`write_well_image`
adds one field of view (every :func:`ngff.write` option applies) and updates the well
and plate metadata — ``wells``, ``field_count`` and each acquisition's
``maximumfieldcount`` — under a lock on the plate directory, metadata last.

:func:`plate_mosaic` (in :mod:`ngff.mosaic`, re-exported here) tiles one field of
every well into a single lazy dask array.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InvalidMetadataError, NgffError, StoreError
from .hcs_ozx import plate_edit  # adding many fields to an .ozx plate with one rewrite
from .model import (
    Acquisition,
    FieldRef,
    GroupMetadata,
    Image,
    Plate,
    PlateMetadata,
    WellMetadata,
    WellRef,
)
from .mosaic import PlateMosaic, field_refs, plate_mosaic, well_position
from .spec import OME_KEYS, Spec, get_spec
from .store import OutputDirectory, Store, open_store

__all__ = [
    "PlateMosaic",
    "column_names",
    "field_refs",
    "plate_edit",
    "plate_mosaic",
    "row_names",
    "well_position",
    "write_plate",
    "write_well_image",
]

_ALNUM = re.compile(r"[A-Za-z0-9]+")


# --------------------------------------------------------------------------- names


def row_names(rows: int | Iterable[str | int]) -> tuple[str, ...]:
    """Row names: a count becomes ``A``, ``B``, … ``Z``, ``AA``, ``AB``, …; names are kept."""
    if isinstance(rows, int) and not isinstance(rows, bool):
        return tuple(_letters(i) for i in range(rows))
    return tuple(str(r) for r in rows)


def column_names(columns: int | Iterable[str | int]) -> tuple[str, ...]:
    """Column names: a count becomes ``1``, ``2``, …; names are kept."""
    if isinstance(columns, int) and not isinstance(columns, bool):
        return tuple(str(i + 1) for i in range(columns))
    return tuple(str(c) for c in columns)


def _letters(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(ord("A") + rest) + out
    return out


def _check_names(names: Sequence[str], what: str, location: str) -> None:
    if not names:
        raise NgffError(f"a plate needs at least one {what}", location=location, rule=f"plate {what}s minItems 1")
    lowered: dict[str, str] = {}
    for name in names:
        if not _ALNUM.fullmatch(name):
            raise NgffError(
                f"{what} name {name!r} is not alphanumeric",
                location=location,
                rule=f"a {what} name MUST contain only alphanumeric characters",
            )
        if name.lower() in lowered:
            raise NgffError(
                f"{what} names {lowered[name.lower()]!r} and {name!r} collide "
                "(duplicates, or equal on case-insensitive file systems)",
                location=location,
                rule=f"{what} names MUST NOT be duplicates; collisions on case-insensitive file systems SHOULD be avoided",
            )
        lowered[name.lower()] = name


def _resolve(value: str | int, names: Sequence[str], what: str, location: str) -> str:
    """A row/column name from a name or a 0-based index."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if not 0 <= int(value) < len(names):
            raise NgffError(
                f"the plate has {len(names)} {what}s; {what} index {value} is out of range", location=location
            )
        return names[int(value)]
    text = str(value)
    if text not in names:
        raise NgffError(f"the plate has no {what} named {text!r} ({what}s: {', '.join(names)})", location=location)
    return text


def _well_names(well: str | Sequence[Any], rows: Sequence[str], columns: Sequence[str], location: str) -> tuple[str, str]:
    if isinstance(well, str):
        parts = well.strip("/").split("/")
        if len(parts) != 2:
            raise NgffError(
                f"a well is named 'row/column', got {well!r}",
                location=location,
                rule="a well path MUST be a row name, '/', and a column name",
            )
        row, column = parts
    else:
        row, column = well
    return _resolve(row, rows, "row", location), _resolve(column, columns, "column", location)


def _acquisition(item: Any, location: str) -> Acquisition:
    if isinstance(item, Acquisition):
        acq = item
    elif isinstance(item, Mapping):
        known = {"id", "name", "maximumfieldcount", "description", "starttime", "endtime"}
        unknown = set(item) - known
        if unknown:
            raise NgffError(f"unknown acquisition keys {sorted(unknown)}; known: {sorted(known)}", location=location)
        if "id" not in item:
            raise NgffError("an acquisition needs an 'id'", location=location, rule="each acquisition MUST contain an id")
        acq = Acquisition(
            id=item["id"],
            name=item.get("name"),
            maximum_field_count=item.get("maximumfieldcount"),
            description=item.get("description"),
            start_time=item.get("starttime"),
            end_time=item.get("endtime"),
        )
    elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
        acq = Acquisition(id=int(item))
    else:
        raise NgffError(f"an acquisition is an id, a mapping or an ngff.Acquisition, got {item!r}", location=location)
    if not isinstance(acq.id, (int, np.integer)) or isinstance(acq.id, bool) or acq.id < 0:
        raise NgffError(f"acquisition id {acq.id!r} is not an integer >= 0", location=location, rule="acquisition id MUST be an integer >= 0")
    for key, value in (("maximumfieldcount", acq.maximum_field_count),):
        if value is not None and (not isinstance(value, (int, np.integer)) or value < 1):
            raise NgffError(f"{key} {value!r} is not a positive integer", location=location, rule=f"{key} MUST be a positive integer")
    for key, value in (("starttime", acq.start_time), ("endtime", acq.end_time)):
        if value is not None and (not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0):
            raise NgffError(f"{key} {value!r} is not an integer epoch timestamp", location=location, rule=f"{key} MUST be an integer >= 0")
    return Acquisition(
        id=int(acq.id),
        name=acq.name,
        maximum_field_count=None if acq.maximum_field_count is None else int(acq.maximum_field_count),
        description=acq.description,
        start_time=None if acq.start_time is None else int(acq.start_time),
        end_time=None if acq.end_time is None else int(acq.end_time),
    )


# --------------------------------------------------------------------------- group documents


def _attrs_with(existing: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """``existing`` attributes with the OME keys of ``new`` replaced, other keys kept."""
    out = dict(existing)
    for key, value in new.items():
        old = out.get(key)
        if isinstance(value, Mapping) and isinstance(old, Mapping) and key not in OME_KEYS:
            out[key] = _attrs_with(old, value)  # e.g. the 0.5 "ome" namespace
        else:
            out[key] = value
    return out


def _put_group(root: Path, path: str, spec: Spec, attrs: dict[str, Any]) -> None:
    from .writer import _put_group as put

    put(root, path, spec, attrs)


def _group_attrs(store: Store, path: str) -> dict[str, Any]:
    node = store.node(path)
    return dict(node.attributes) if node is not None and node.node_type == "group" else {}


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Exclusive lock on a plate directory, so concurrent writers update metadata in turn."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; single writer assumed
        yield
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError as exc:
        raise StoreError(f"cannot open the plate directory: {exc.strerror or exc}", location=str(directory)) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


# --------------------------------------------------------------------------- writing


def write_plate(
    location: str | os.PathLike[str],
    *,
    rows: int | Sequence[str],
    columns: int | Sequence[str | int],
    wells: Iterable[str | tuple[str | int, str | int]],
    acquisitions: Sequence[Any] | None = None,
    name: str | None = None,
    field_count: int | None = None,
    version: str = "0.5",
    overwrite: bool = False,
) -> Plate:
    """Create an empty plate: plate metadata, row groups and well groups.

    Fields of view are added with :func:`write_well_image`.  Until every listed well has
    a field, :func:`ngff.validate` reports the empty wells (a well's ``images`` needs at
    least one entry).

    Parameters
    ----------
    location
        Destination directory (e.g. ``"plate.ome.zarr"``), or an RFC-9 ``.ozx`` archive
        (0.5 only; written as a directory beside it, then packed).
    rows, columns
        Every row and column of the physical plate: names, or counts (16 rows become
        ``A`` … ``P``, 24 columns ``1`` … ``24``).
    wells
        The wells present, as ``"B/3"`` or ``(row, column)`` (names or 0-based indices).
    acquisitions
        Acquisitions (imaging runs): ids, mappings with the spec's keys (``id``,
        ``name``, ``maximumfieldcount``, ``description``, ``starttime``, ``endtime``)
        or :class:`~ngff.Acquisition` objects.
    name
        Plate name (SHOULD be given).
    field_count
        Maximum number of fields per well; default: maintained by
        :func:`write_well_image`.
    version
        ``"0.5"`` (Zarr v3) or ``"0.4"`` (Zarr v2).
    overwrite
        Replace an existing store at ``location``.

    Returns
    -------
    Plate
        The new plate, opened lazily.

    Raises
    ------
    NgffError
        For invalid names, wells or acquisitions; nothing is written then.
    """
    from .hcs_ozx import is_plate_archive, write_plate_ozx
    from .reader import read
    from .writer import _spec_for

    if is_plate_archive(location, new=True):  # RFC-9 archive: written as a directory, then packed
        return write_plate_ozx(
            location, write_plate, rows=rows, columns=columns, wells=wells, acquisitions=acquisitions,
            name=name, field_count=field_count, version=version, overwrite=overwrite,
        )
    where = os.fspath(location)
    spec = _spec_for(version)
    row_list, column_list = row_names(rows), column_names(columns)
    _check_names(row_list, "row", where)
    _check_names(column_list, "column", where)
    refs: list[WellRef] = []
    for item in wells:
        row, column = _well_names(item, row_list, column_list, where)
        ref = WellRef(f"{row}/{column}", row_list.index(row), column_list.index(column))
        if any(r.path == ref.path for r in refs):
            raise NgffError(f"well {ref.path!r} is listed twice", location=where, rule="wells MUST be unique")
        refs.append(ref)
    acqs = tuple(_acquisition(a, where) for a in acquisitions or ())
    if len({a.id for a in acqs}) != len(acqs):
        raise NgffError("acquisition ids repeat", location=where, rule="acquisition ids MUST be unique")
    if field_count is not None and (not isinstance(field_count, int) or field_count < 1):
        raise NgffError(f"field_count {field_count!r} is not a positive integer", location=where, rule="field_count MUST be a positive integer")
    meta = PlateMetadata(
        rows=row_list, columns=column_list, wells=tuple(refs), acquisitions=acqs, name=name, field_count=field_count
    )
    output = OutputDirectory(location, overwrite=overwrite)
    try:
        root = output.path
        for row in dict.fromkeys(ref.path.split("/")[0] for ref in refs):
            _put_group(root, row, spec, {})
        for ref in refs:
            _put_group(root, ref.path, spec, spec.dump(GroupMetadata(version=spec.version, well=WellMetadata(images=()))))
        _put_group(root, "", spec, spec.dump(GroupMetadata(version=spec.version, plate=meta)))
        output.commit()
    except BaseException:
        output.abort()
        raise
    plate = read(output.final)
    assert isinstance(plate, Plate)
    return plate


def write_well_image(
    plate_location: str | os.PathLike[str],
    row: str | int,
    column: str | int,
    field: str | int,
    data: Any,
    *,
    acquisition: int | None = None,
    overwrite: bool = False,
    **write_options: Any,
) -> Image:
    """Write one field of view into a well of a plate and update the metadata.

    The image is written with :func:`ngff.write` into ``<row>/<column>/<field>`` (in a
    hidden sibling first, moved into place when complete); then, under a lock on the
    plate directory, the well's ``images`` gain the field and the plate's ``wells``,
    ``field_count`` and acquisitions' ``maximumfieldcount`` are updated — the plate
    metadata last.  A well not listed by the plate yet is added to it.

    Parameters
    ----------
    plate_location
        A plate written by :func:`write_plate` (or by another tool, 0.4 or 0.5), a
        directory or an ``.ozx`` archive.  An archive is extracted, changed and repacked
        in one rename (arrays sharded by default), so each call rewrites it whole: to
        add many fields, use :func:`ngff.hcs.plate_edit` (one rewrite) or write a
        directory plate and ``ngff ozx pack`` it.
    row, column
        Names or 0-based indices of the well.
    field
        Path of the field inside the well (``0``, ``1``, … as int or str).
    data
        What :func:`ngff.write` accepts.
    acquisition
        Acquisition id of the field.  Required when the plate defines several; with
        one, that one is recorded.  An id the plate does not define yet is added to it.
    overwrite
        Replace an existing field of that path.
    **write_options
        Any option of :func:`ngff.write` (``dims``, ``scale``, ``units``, ``channels``,
        ``chunks``, ``shards``, ``codec``, ``method``, ``scale_factors``, ``name``,
        ``progress``...).  ``version`` must be the plate's, if given.

    Returns
    -------
    Image
        The written field, opened lazily.

    Raises
    ------
    NgffError
        For an unknown row or column, a bad field path, a missing acquisition, or a
        version other than the plate's; the plate is left unchanged then.
    """
    from .hcs_ozx import is_plate_archive, write_well_image_ozx
    from .reader import read_group
    from .writer import write

    if is_plate_archive(plate_location):  # .ozx: extracted, written, repacked (whole archive rewritten)
        return write_well_image_ozx(
            plate_location, write_well_image, row, column, field, data,
            acquisition=acquisition, overwrite=overwrite, **write_options,
        )
    store = open_store(plate_location)
    if store.root is None:
        raise StoreError("wells can only be added to a local directory store", location=store.location)
    plate = read_group(store, "")
    if not isinstance(plate, Plate):
        raise NgffError("not a plate (no plate metadata at this location)", location=store.location)
    spec = get_spec(plate.version)
    version = write_options.pop("version", plate.version)
    if version != plate.version:
        raise NgffError(
            f"the plate is OME-Zarr {plate.version}; a field cannot be written as {version}",
            location=store.location,
            rule="the OME-Zarr version MUST be consistent within a hierarchy",
        )
    from .writer import _spec_for

    _spec_for(plate.version)  # refuses plates of versions we do not write
    row_name = _resolve(row, plate.rows, "row", store.location)
    column_name = _resolve(column, plate.columns, "column", store.location)
    field_path = str(field)
    if not _ALNUM.fullmatch(field_path):
        raise NgffError(
            f"field path {field_path!r} is not alphanumeric",
            location=store.location,
            rule="a field path MUST contain only alphanumeric characters",
        )
    well_path = f"{row_name}/{column_name}"
    ids = [a.id for a in plate.acquisitions]
    if acquisition is None and len(ids) > 1:
        raise NgffError(
            f"the plate has acquisitions {ids}; say which one this field belongs to (acquisition=...)",
            location=store.where(well_path),
            rule="with several acquisitions, each field MUST name its acquisition",
        )
    if acquisition is None and len(ids) == 1:
        acquisition = ids[0]
    if acquisition is not None:
        _acquisition(acquisition, store.location)  # an integer >= 0
    write_options.setdefault("name", f"{well_path}/{field_path}")
    image = write(data, Path(store.root) / well_path / field_path, version=plate.version, overwrite=overwrite, **write_options)
    with _locked(Path(store.root)):
        _register_field(Path(store.root), spec, row_name, column_name, field_path, acquisition)
    return image


def _register_field(
    root: Path, spec: Spec, row: str, column: str, field_path: str, acquisition: int | None
) -> None:
    """Add a written field to its well's and the plate's metadata (plate last)."""
    store = open_store(root)  # fresh: another writer may have changed the metadata
    plate_attrs = _group_attrs(store, "")
    plate_meta = spec.parse(plate_attrs, store.where("")).plate
    if plate_meta is None:
        raise InvalidMetadataError("the plate metadata disappeared while writing", location=store.location)
    well_path = f"{row}/{column}"
    if store.node(row) is None:
        _put_group(root, row, spec, {})
    well_attrs = _group_attrs(store, well_path)
    well_meta = spec.parse(well_attrs, store.where(well_path)).well if well_attrs else None
    images = list(well_meta.images) if well_meta is not None else []
    entry = FieldRef(field_path, acquisition)
    index = next((i for i, ref in enumerate(images) if ref.path == field_path), None)
    if index is None:
        images.append(entry)
    else:
        images[index] = entry
    new_well = WellMetadata(images=tuple(images))
    _put_group(root, well_path, spec, _attrs_with(well_attrs, spec.dump(GroupMetadata(version=spec.version, well=new_well))))

    wells = list(plate_meta.wells)
    if not any(ref.path == well_path for ref in wells):
        wells.append(WellRef(well_path, plate_meta.rows.index(row), plate_meta.columns.index(column)))
    acquisitions = list(plate_meta.acquisitions)
    if acquisition is not None:
        count = sum(1 for ref in images if ref.acquisition == acquisition)
        found = next((i for i, a in enumerate(acquisitions) if a.id == acquisition), None)
        if found is None:
            acquisitions.append(Acquisition(id=acquisition, maximum_field_count=count))
        else:
            old = acquisitions[found]
            acquisitions[found] = Acquisition(
                id=old.id,
                name=old.name,
                maximum_field_count=max(old.maximum_field_count or 0, count),
                description=old.description,
                start_time=old.start_time,
                end_time=old.end_time,
            )
    new_plate = PlateMetadata(
        rows=plate_meta.rows,
        columns=plate_meta.columns,
        wells=tuple(wells),
        acquisitions=tuple(acquisitions),
        name=plate_meta.name,
        field_count=max(plate_meta.field_count or 0, len(images)),
    )
    _put_group(root, "", spec, _attrs_with(plate_attrs, spec.dump(GroupMetadata(version=spec.version, plate=new_plate))))


# --------------------------------------------------------------------------- reading helpers
