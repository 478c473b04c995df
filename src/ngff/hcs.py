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

:func:`plate_mosaic` tiles one field of every well into a single dask array.  With
``uniform=True`` (the default) only the first well that has the field is opened: the
other wells are taken to share its field path and level array metadata, so each tile
task reads its well's pixels straight from ``<well>/<field>/<level>`` with the first
well's array document — no well, field or array metadata of the other wells is read,
neither when the mosaic is built nor when it is computed.  ``uniform=False`` opens every
well's field (metadata only, in threads) and pads all tiles to the largest.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field as dataclass_field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InvalidMetadataError, MissingArrayError, NgffError, StoreError
from .hcs_ozx import plate_edit  # adding many fields to an .ozx plate with one rewrite
from .model import (
    Acquisition,
    FieldRef,
    GroupMetadata,
    Image,
    LazySequence,
    Plate,
    PlateMetadata,
    Well,
    WellMetadata,
    WellRef,
)
from .spec import OME_KEYS, Spec, detect_version, get_spec
from .store import NodeDocument, OutputDirectory, Store, join, open_store

if TYPE_CHECKING:
    import dask.array

__all__ = [
    "write_plate",
    "write_well_image",
    "plate_edit",
    "plate_mosaic",
    "PlateMosaic",
    "well_position",
    "field_refs",
    "row_names",
    "column_names",
]

_log = logging.getLogger(__name__)
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


def well_position(plate: Plate | PlateMetadata, ref: WellRef) -> tuple[int, int] | None:
    """(row, column) grid index of a well: from its path's names, else its indices.

    The path is what locates the data, so where path and indices disagree (a broken
    plate) the path wins; None when neither places the well on the grid.
    """
    meta = plate.metadata if isinstance(plate, Plate) else plate
    parts = ref.path.strip("/").split("/")
    if len(parts) >= 2:
        row, column = parts[-2], parts[-1]
        if row in meta.rows and column in meta.columns:
            return meta.rows.index(row), meta.columns.index(column)
        if column in meta.rows and row in meta.columns:  # written column/row
            return meta.rows.index(column), meta.columns.index(row)
    if ref.row_index is not None and ref.column_index is not None:
        if 0 <= ref.row_index < len(meta.rows) and 0 <= ref.column_index < len(meta.columns):
            return ref.row_index, ref.column_index
    return None


def field_refs(well: Well | WellMetadata, acquisition: int | None = None) -> tuple[FieldRef, ...]:
    """The fields of a well, only those of ``acquisition`` when given."""
    meta = well.metadata if isinstance(well, Well) else well
    if acquisition is None:
        return meta.images
    return tuple(ref for ref in meta.images if ref.acquisition == acquisition)


def _pick_field(well: Well, field: int | str, acquisition: int | None) -> str | None:
    """The path of a well's field: ``field`` is an index (into the acquisition's fields) or a path."""
    refs = field_refs(well, acquisition)
    if isinstance(field, str):
        return field if any(r.path == field for r in refs) else None
    return refs[field].path if -len(refs) <= field < len(refs) else None


# --------------------------------------------------------------------------- mosaic


@dataclass(frozen=True, eq=False)
class PlateMosaic:
    """A plate tiled into one lazy array, and where each well lies in it.

    Attributes
    ----------
    data
        Dask array with the template's axes; y and x hold ``rows × columns`` tiles.
        Chunks: one tile along y and x, one channel along c.  Built on first access
        (:meth:`read` needs no dask at all).
    template
        The field the tile layout was taken from (the first well having the field);
        its dask levels are made on first access.
    level
        Index of the level used, into ``template.levels``.
    tile_shape
        Shape of one tile (with the channel selection applied), gaps excluded.
    gap
        Fill pixels between neighbouring tiles.
    cells
        ``{well_path: (row_index, column_index)}`` of the wells present.
    channels
        Indices of the channels kept (None when the image has no channel axis).
    fill, dtype
        Value of missing wells and gaps; the pixels' data type.
    """

    template: Image
    level: int
    tile_shape: tuple[int, ...]
    gap: int
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: Mapping[str, tuple[int, int]] = dataclass_field(default_factory=dict)
    channels: tuple[int, ...] | None = None
    fill: Any = 0
    dtype: np.dtype = dataclass_field(default=np.dtype("uint8"))
    _source: Any = dataclass_field(default=None, repr=False)
    _field_path: str = dataclass_field(default="", repr=False)
    _channel_axis: int | None = dataclass_field(default=None, repr=False)

    @functools.cached_property
    def data(self) -> dask.array.Array:
        """The mosaic as a lazy dask array (built on first access; imports dask)."""
        return _assemble(
            self._source,
            self.cells,
            self._field_path,
            self.tile_shape,
            self._channel_axis,
            self.channels,
            len(self.rows),
            len(self.columns),
            self.gap,
        )

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the whole mosaic."""
        out = list(self.tile_shape)
        for axis, n in ((-2, len(self.rows)), (-1, len(self.columns))):
            out[axis] = n * self.tile_shape[axis] + max(n - 1, 0) * self.gap
        return tuple(out)

    @property
    def nbytes(self) -> int:
        """Size of the whole mosaic in memory."""
        return math.prod(self.shape) * self.dtype.itemsize

    def read(self, workers: int | None = None) -> np.ndarray:
        """The whole mosaic as a numpy array, its tiles read by a pool of threads.

        Much cheaper than computing :attr:`data` with dask for a mosaic of many small
        tiles (one task per well, no graph): use it for overviews that fit in memory.
        """
        from concurrent.futures import ThreadPoolExecutor

        out = np.full(self.shape, self.fill, dtype=self.dtype)
        axis = self._channel_axis
        selection: list[Any] = [slice(0, n) for n in self.tile_shape]
        take = None
        if axis is not None and self.channels is not None:
            lo, hi = min(self.channels), max(self.channels) + 1
            selection[axis] = slice(lo, hi)
            if tuple(self.channels) != tuple(range(lo, hi)):
                take = [c - lo for c in self.channels]
        read_shape = tuple(s.stop - s.start for s in selection)

        def one(item: tuple[str, tuple[int, int]]) -> None:
            well_path, (r, c) = item
            tile = _read_tile(self._source, well_path, self._field_path, tuple(selection), read_shape)
            if take is not None:
                tile = np.take(tile, take, axis=axis)
            y, x = self.origin(r, c)
            out[..., y : y + self.tile_shape[-2], x : x + self.tile_shape[-1]] = tile

        with ThreadPoolExecutor(max_workers=workers or min(16, 4 * (os.cpu_count() or 1))) as pool:
            list(pool.map(one, self.cells.items()))
        return out

    @property
    def pitch(self) -> tuple[int, int]:
        """Mosaic pixels from one tile's origin to the next, along y and x."""
        return self.tile_shape[-2] + self.gap, self.tile_shape[-1] + self.gap

    def origin(self, row: int, column: int) -> tuple[int, int]:
        """Mosaic pixel (y, x) where the tile of grid cell (row, column) starts."""
        py, px = self.pitch
        return row * py, column * px

    @property
    def scale(self) -> tuple[float, ...]:
        """Per-axis scale of the mosaic's pixels (the template level's)."""
        return self.template.scales[self.level]


@dataclass(frozen=True)
class _TileSource:
    """What a tile task needs to read one well's tile (picklable, no open arrays)."""

    store: Store
    plate_path: str
    document: NodeDocument | None  # the template level's array document (uniform mode)
    layout: Mapping[str, Any] | None  # its chunk layout, for direct local reads
    separator: str
    level: int
    level_path: str
    field: int | str
    acquisition: int | None
    dtype: np.dtype
    fill: Any
    plate: Plate | None  # to open a well properly (non-uniform mode, or fallback)


def _direct(source: _TileSource, well_path: str, field_path: str, selection: tuple) -> np.ndarray:
    """A well's pixels read with the template's array document (no metadata of the well read)."""
    doc = source.document
    assert doc is not None
    path = join(source.plate_path, well_path, field_path, source.level_path)
    node = NodeDocument(path, doc.zarr_format, "array", doc.attributes, doc.document)
    layout = source.layout
    if layout is not None and source.store.root is not None:
        coords = []
        for sel, c in zip(selection, layout["chunks"]):
            k = sel.start // c
            if (sel.stop - 1) // c != k:
                break
            coords.append(k)
        else:  # the tile lies in one chunk: read and decode it here, without zarr's overhead
            chunk = _read_chunk(layout, Path(source.store.root) / path, tuple(coords))
            local = tuple(slice(sel.start - k * c, sel.stop - k * c) for sel, k, c in zip(selection, coords, layout["chunks"]))
            return chunk[local]
    if source.store.root is not None and not _has_array_document(Path(source.store.root) / path):
        raise _NoField(path)
    array = source.store.open_array(node, dimension_separator=source.separator)
    return np.asarray(array[selection])


def _chunk_layout(document: NodeDocument, separator: str) -> dict[str, Any] | None:
    """How to find and decode a chunk of an array from its document, or None (zarr reads it).

    Covers what plates are written with: C order, native little-endian numbers, no
    filters and no sharding, one compressor (any numcodecs codec for Zarr v2; zstd,
    blosc or gzip for v3).
    """
    doc = document.document
    try:
        if document.zarr_format == 2:
            dtype = np.dtype(doc["dtype"])
            if doc.get("order", "C") != "C" or doc.get("filters") or dtype.byteorder == ">" or dtype.fields:
                return None
            compressor = doc.get("compressor")
            return {
                "chunks": tuple(int(c) for c in doc["chunks"]),
                "dtype": dtype,
                "codec": dict(compressor) if compressor else None,
                "prefix": "",
                "separator": doc.get("dimension_separator") or separator,
                "fill": doc.get("fill_value"),
            }
        grid = doc.get("chunk_grid") or {}
        if grid.get("name") != "regular" or doc.get("storage_transformers"):
            return None
        codecs = list(doc.get("codecs") or [])
        if not codecs or codecs[0].get("name") != "bytes":
            return None
        if (codecs[0].get("configuration") or {}).get("endian", "little") != "little" or len(codecs) > 2:
            return None
        codec = None
        if len(codecs) == 2:
            name = codecs[1].get("name")
            if name not in ("zstd", "blosc", "gzip"):
                return None
            codec = {"id": name}
        dtype = np.dtype(doc["data_type"])
        encoding = doc.get("chunk_key_encoding") or {"name": "default"}
        config = encoding.get("configuration") or {}
        default = encoding.get("name") == "default"
        return {
            "chunks": tuple(int(c) for c in grid["configuration"]["chunk_shape"]),
            "dtype": dtype,
            "codec": codec,
            "prefix": "c" if default else "",
            "separator": config.get("separator", "/" if default else "."),
            "fill": doc.get("fill_value"),
        }
    except (KeyError, TypeError, ValueError):
        return None


class _NoField(Exception):
    """A well lacks the field (or level) the mosaic shows."""


def _has_array_document(directory: Path) -> bool:
    return any((directory / name).is_file() for name in ("zarr.json", ".zarray"))


def _read_chunk(layout: Mapping[str, Any], directory: Path, coords: tuple[int, ...]) -> np.ndarray:
    """Chunk ``coords`` of the array stored in ``directory``, decoded (fill value if absent)."""
    key = layout["separator"].join(str(k) for k in coords)
    if layout["prefix"]:
        key = layout["prefix"] + layout["separator"] + key
    shape, dtype = layout["chunks"], layout["dtype"]
    try:
        raw = (directory / key).read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        if not _has_array_document(directory):
            raise _NoField(str(directory)) from None  # the well has no such field: mosaic fill
        fill = layout["fill"]  # an unwritten chunk of an existing array
        return np.full(shape, 0 if fill is None else fill, dtype=dtype)
    if layout["codec"] is not None:
        import numcodecs

        raw = numcodecs.get_codec(dict(layout["codec"])).decode(raw)
    return np.frombuffer(raw, dtype=dtype, count=math.prod(shape)).reshape(shape)


def _read_tile(source: _TileSource, well_path: str, field_path: str, selection: tuple, out_shape: tuple[int, ...]) -> np.ndarray:
    """One tile: the well's pixels at the mosaic level, cropped or padded to ``out_shape``."""
    block = None
    if source.document is not None:
        try:
            block = _direct(source, well_path, field_path, selection)
        except _NoField:
            return np.full(out_shape, source.fill, dtype=source.dtype)
        except Exception as exc:  # wells that are not like the first: open them properly
            _log.debug("ngff: direct tile read of %s failed (%s); opening the well", well_path, exc)
            block = None
    if block is None and source.plate is not None:
        try:
            block = _read_well_level(source, well_path, selection)
        except Exception as exc:  # one bad well must not break the whole mosaic
            _log.warning("ngff: plate well %s could not be read: %s", well_path, exc)
            block = None
    out = np.full(out_shape, source.fill, dtype=source.dtype)
    if block is not None and block.ndim == len(out_shape):
        region = tuple(slice(0, min(a, b)) for a, b in zip(block.shape, out_shape))
        out[region] = block[region]
    return out


def _read_well_level(source: _TileSource, well_path: str, selection: tuple) -> np.ndarray | None:
    assert source.plate is not None
    well = source.plate.load_well(well_path)
    path = _pick_field(well, source.field, source.acquisition)
    if path is None:
        return None
    image = well.fields[well.field_paths.index(path)]
    level = min(source.level if source.level >= 0 else len(image.levels) + source.level, len(image.levels) - 1)
    return np.asarray(image.levels[max(level, 0)][selection].compute(scheduler="sync"))


def plate_mosaic(
    plate: Plate,
    *,
    level: int = -1,
    field: int | str = 0,
    acquisition: int | None = None,
    channels: Sequence[int | str] | None = None,
    gap: int = 0,
    fill: float = 0,
    uniform: bool = True,
) -> PlateMosaic:
    """Tile one field of every well of a plate into one lazy dask array.

    Parameters
    ----------
    plate
        An opened plate.
    level
        Resolution level (index into the field's levels; -1: the coarsest).
    field
        Which field of each well: an index into the well's fields (of ``acquisition``
        when given) or a field path.
    acquisition
        Take fields of this acquisition only (e.g. one time point of a time series).
    channels
        Channel indices or OMERO labels to keep (default: all).
    gap
        Pixels of ``fill`` between neighbouring wells.
    fill
        Value of missing wells and gaps.
    uniform
        Take every well to be laid out like the first (the usual case): only the first
        well is opened.  False opens every well's field metadata (threads) and pads
        the tiles to the largest well.

    Returns
    -------
    PlateMosaic
        ``.data`` is the dask array; nothing but the first well's metadata has been
        read (``uniform=True``).

    Raises
    ------
    NgffError
        When no well has the field asked for.
    """
    if gap < 0:
        raise NgffError(f"gap must be >= 0, got {gap}", location=plate.location)
    store = plate.store if plate.store is not None else open_store(plate.location)
    cells: dict[str, tuple[int, int]] = {}
    for ref in plate.wells:
        position = well_position(plate, ref)
        if position is not None and position not in cells.values():
            cells[ref.path] = position
    template, template_path, shapes, dtype = _template(plate, cells, field, acquisition)
    n_levels = len(template.levels)
    if not -n_levels <= level < n_levels:
        raise NgffError(f"level {level} does not exist; the fields have {n_levels} levels", location=template.location)
    level = level % n_levels
    dims = template.dims
    channel_axis = next((i for i, a in enumerate(template.axes) if a.type == "channel"), None)
    count = shapes[0][channel_axis] if channel_axis is not None else 0
    kept = _channel_indices(template, channel_axis, count, channels)
    tile = list(shapes[level])
    if channel_axis is not None and kept is not None:
        tile[channel_axis] = len(kept)
    document = layout = None
    spec = get_spec(template.version)
    if uniform:
        document = store.node(join(template.path, template.level_paths[level]))
        if document is None or document.node_type != "array":
            document = None
        else:
            layout = _chunk_layout(document, spec.dimension_separator)
    else:
        tile = _largest_tile(plate, cells, field, acquisition, level, tile, channel_axis)
    source = _TileSource(
        store=store,
        plate_path=plate.path,
        document=document,
        layout=layout,
        separator=spec.dimension_separator,
        level=level,
        level_path=template.level_paths[level],
        field=field,
        acquisition=acquisition,
        dtype=dtype,
        fill=fill,
        plate=plate,
    )
    return PlateMosaic(
        template=template,
        level=level,
        tile_shape=tuple(tile),
        gap=gap,
        rows=plate.rows,
        columns=plate.columns,
        cells=cells,
        channels=kept,
        fill=fill,
        dtype=dtype,
        _source=source,
        _field_path=template_path,
        _channel_axis=channel_axis,
    )


def _template(
    plate: Plate, cells: Mapping[str, tuple[int, int]], field: int | str, acquisition: int | None
) -> tuple[Image, str, list[tuple[int, ...]], np.dtype]:
    """The first well (in plate order) that has the field: its image, path, level shapes, dtype."""
    errors = []
    store = plate.store if plate.store is not None else open_store(plate.location)
    for well_path in cells:
        try:
            well = plate.load_well(well_path)
        except NgffError as exc:
            errors.append(str(exc))
            continue
        path = _pick_field(well, field, acquisition)
        if path is None:
            continue
        try:
            image, shapes, dtype = _open_field(store, join(well.path, path), well.version)
        except NgffError as exc:  # a broken first well: the next one may serve as template
            errors.append(str(exc))
            continue
        return image, path, shapes, dtype
    what = f"field {field!r}" + (f" of acquisition {acquisition}" if acquisition is not None else "")
    detail = f" ({errors[0]})" if errors else ""
    raise NgffError(f"no well of the plate has {what}{detail}", location=plate.location)


def _open_field(store: Store, path: str, version: str) -> tuple[Image, list[tuple[int, ...]], np.dtype]:
    """A field opened like :func:`ngff.reader.read_image`, but its dask levels made on first use.

    Also returns the level shapes and the dtype (from the Zarr arrays), so a mosaic can be
    planned — and its overview read — without importing dask.
    """
    from . import reader

    node, spec, meta = reader._group(store, path, version)
    where = store.where(path)
    if meta.kind not in ("image", "label"):
        raise InvalidMetadataError(
            "a well field that is not an image", location=where, rule="well images MUST be multiscale images"
        )
    ms = meta.multiscales[0]
    arrays = []
    for i, dataset in enumerate(ms.datasets):
        array_node = store.node(join(path, dataset.path))
        if array_node is None or array_node.node_type != "array":
            raise MissingArrayError(
                f"multiscales datasets[{i}] path {dataset.path!r} names no Zarr array",
                location=store.where(join(path, dataset.path)),
                rule="each dataset path MUST refer to a Zarr array",
            )
        arrays.append(store.open_array(array_node, dimension_separator=spec.dimension_separator))
    shapes = [tuple(int(n) for n in a.shape) for a in arrays]
    ndims = {len(shape) for shape in shapes}
    if len(ndims) != 1:
        raise InvalidMetadataError(f"levels have different dimensionalities {sorted(ndims)}", location=where)
    ndim = ndims.pop()
    if not ms.axes:
        ms = dataclasses.replace(ms, axes=spec.implied_axes(ndim))
    if len(ms.axes) != ndim:
        raise InvalidMetadataError(f"{len(ms.axes)} axes {ms.dims} but the arrays are {ndim}-D", location=where)
    scales, translations = reader._level_transforms(ms, shapes, where)

    def level(i: int) -> Any:
        key = join(path, ms.datasets[i].path)
        return reader._to_dask(arrays[i], store.where(key), None if store.root is None else store.root / key)

    image = Image(
        location=store.location,
        path=path,
        version=spec.version,
        multiscale=ms,
        levels=LazySequence(len(arrays), level),  # type: ignore[arg-type]
        level_paths=tuple(d.path for d in ms.datasets),
        scales=scales,
        translations=translations,
        omero=meta.omero,
        image_label=meta.image_label,
        labels=reader._labels_of(store, path, spec) if meta.image_label is None else {},
    )
    return image, shapes, np.dtype(arrays[0].dtype)


def _channel_indices(template: Image, axis: int | None, count: int, channels: Sequence[int | str] | None) -> tuple[int, ...] | None:
    if axis is None:
        if channels is not None:
            raise NgffError("the fields have no channel axis to select from", location=template.location)
        return None
    if channels is None:
        return tuple(range(count))
    labels = [c.label for c in template.channels]
    out = []
    for item in channels:
        if isinstance(item, str):
            if item not in labels:
                raise NgffError(f"no channel labelled {item!r} (channels: {labels})", location=template.location)
            out.append(labels.index(item))
        elif 0 <= int(item) < count:
            out.append(int(item))
        else:
            raise NgffError(f"channel index {item} is out of range (the fields have {count})", location=template.location)
    return tuple(out)


def _largest_tile(plate: Plate, cells: Mapping[str, tuple[int, int]], field: int | str, acquisition: int | None, level: int, tile: list[int], channel_axis: int | None) -> list[int]:
    """Tile shape covering every well's field at the level (opens every well, in threads)."""
    from concurrent.futures import ThreadPoolExecutor

    def shape_of(well_path: str) -> tuple[int, ...] | None:
        try:
            well = plate.load_well(well_path)
            path = _pick_field(well, field, acquisition)
            if path is None:
                return None
            image = well.fields[well.field_paths.index(path)]
            return tuple(image.levels[min(level, len(image.levels) - 1)].shape)
        except NgffError:
            return None

    with ThreadPoolExecutor(max_workers=8) as pool:
        shapes = [s for s in pool.map(shape_of, cells) if s is not None and len(s) == len(tile)]
    out = list(tile)
    for shape in shapes:
        for i, n in enumerate(shape):
            if i != channel_axis:
                out[i] = max(out[i], n)
    return out


def _assemble(
    source: _TileSource,
    cells: Mapping[str, tuple[int, int]],
    field_path: str,
    tile: tuple[int, ...],
    channel_axis: int | None,
    kept: tuple[int, ...] | None,
    n_rows: int,
    n_columns: int,
    gap: int,
):
    """The mosaic as one dask array built from a plain task graph (one task per tile)."""
    import uuid

    import dask.array as da
    from dask.highlevelgraph import HighLevelGraph

    ndim = len(tile)
    y_axis, x_axis = ndim - 2, ndim - 1
    by_cell = {position: path for path, position in cells.items()}
    name = f"ngff-plate-mosaic-{uuid.uuid4().hex}"

    def extent(n: int, size: int) -> tuple[int, ...]:
        return tuple(size + (gap if i < n - 1 else 0) for i in range(n))

    chunks: list[tuple[int, ...]] = []
    for axis, size in enumerate(tile):
        if axis == y_axis:
            chunks.append(extent(n_rows, size))
        elif axis == x_axis:
            chunks.append(extent(n_columns, size))
        elif axis == channel_axis:
            chunks.append((1,) * size)  # per-channel layers read only their channel
        else:
            chunks.append((size,))
    channel_blocks = range(len(chunks[channel_axis])) if channel_axis is not None else [None]
    layer: dict[Any, Any] = {}
    for r in range(n_rows):
        for c in range(n_columns):
            well_path = by_cell.get((r, c))
            for k in channel_blocks:
                index = []
                shape = []
                selection: list[Any] = []
                for axis in range(ndim):
                    if axis == y_axis:
                        index.append(r)
                        shape.append(chunks[axis][r])
                        selection.append(slice(0, tile[axis]))
                    elif axis == x_axis:
                        index.append(c)
                        shape.append(chunks[axis][c])
                        selection.append(slice(0, tile[axis]))
                    elif axis == channel_axis:
                        assert kept is not None and k is not None
                        index.append(k)
                        shape.append(1)
                        selection.append(slice(kept[k], kept[k] + 1))
                    else:
                        index.append(0)
                        shape.append(tile[axis])
                        selection.append(slice(0, tile[axis]))
                key = (name, *index)
                if well_path is None:
                    layer[key] = (np.full, tuple(shape), source.fill, source.dtype)
                else:
                    layer[key] = (_read_tile, source, well_path, field_path, tuple(selection), tuple(shape))
    graph = HighLevelGraph.from_collections(name, layer, dependencies=())
    return da.Array(graph, name, chunks=tuple(chunks), dtype=source.dtype, meta=np.empty((0,) * ndim, dtype=source.dtype))
