"""Plate mosaics: one field of every well of a plate tiled into one lazy dask array.

:func:`plate_mosaic` builds the mosaic.  With ``uniform=True`` (the default) only the
first well that has the field is opened: the other wells are taken to share its field
path and level array metadata, so each tile task reads its well's pixels straight from
``<well>/<field>/<level>`` with the first well's array document — no well, field or
array metadata of the other wells is read, neither when the mosaic is built nor when it
is computed.  ``uniform=False`` opens every well's field (metadata only, in threads) and
pads all tiles to the largest.  :func:`well_position` and :func:`field_refs` locate wells
in the grid and fields in a well.  Writing plates is :mod:`ngff.hcs`.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InvalidMetadataError, MissingArrayError, NgffError
from .model import FieldRef, Image, LazySequence, Plate, PlateMetadata, Well, WellMetadata, WellRef
from .spec import get_spec
from .store import NodeDocument, Store, join, open_store

if TYPE_CHECKING:
    import dask.array

__all__ = ["PlateMosaic", "field_refs", "plate_mosaic", "well_position"]

_log = logging.getLogger(__name__)


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

    _node, spec, meta = reader._group(store, path, version)
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
