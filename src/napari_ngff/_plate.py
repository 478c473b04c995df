"""A lazy overview mosaic of an HCS plate.

The mosaic tiles the first field of every well at the coarsest level of the first
well's first field, on a rows × columns grid; missing wells are zeros.  Only the first
well is opened up front (for shape, dtype, axes and rendering); every other well is
opened by its dask task, the first time napari draws that part of the mosaic.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from typing import TYPE_CHECKING, Any

import numpy as np

from ._layers import PROVENANCE_KEY, LayerData, image_layers, store_name

if TYPE_CHECKING:
    from ngff import Image, Plate

__all__ = ["plate_layers", "plate_mosaic"]

_log = logging.getLogger(__name__)


def _grid_position(plate: Plate, ref: Any) -> tuple[int, int] | None:
    """(row, column) of a well: its indices, else its path's names looked up in the plate."""
    if ref.row_index is not None and ref.column_index is not None:
        return int(ref.row_index), int(ref.column_index)
    parts = ref.path.strip("/").split("/")
    if len(parts) >= 2 and parts[-2] in plate.rows and parts[-1] in plate.columns:
        return plate.rows.index(parts[-2]), plate.columns.index(parts[-1])
    return None


def _fit(block: np.ndarray, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """Crop or zero-pad ``block`` to ``shape`` (wells are not guaranteed uniform)."""
    out = np.zeros(shape, dtype=dtype)
    if block.ndim != len(shape):
        return out
    region = tuple(slice(0, min(a, b)) for a, b in zip(block.shape, shape))
    out[region] = block[region]
    return out


def _load_tile(
    plate: Plate, well_path: str, level_path: str, shape: tuple[int, ...], dtype: np.dtype
) -> np.ndarray:
    """Pixels of a well's first field at the mosaic level (zeros when unreadable)."""
    try:
        field = plate.load_well(well_path).fields[0]
        if level_path in field.level_paths:
            level = field.levels[field.level_paths.index(level_path)]
        else:  # the level whose shape is nearest the tile's
            level = min(field.levels, key=lambda a: sum(abs(n - m) for n, m in zip(a.shape, shape)))
        return _fit(np.asarray(level.compute()), shape, dtype)
    except Exception as exc:  # one bad well must not break the whole overview
        _log.warning("napari-ngff: plate well %s could not be read: %s", well_path, exc)
        return np.zeros(shape, dtype=dtype)


def plate_mosaic(plate: Plate) -> tuple[Any, Image, int]:
    """The lazy mosaic, the first well's first field (its template) and the level used.

    Raises
    ------
    ngff.NgffError
        When the plate has no wells or its first well has no field.
    """
    import dask
    import dask.array as da

    from ngff import NgffError

    refs = [ref for ref in plate.wells if _grid_position(plate, ref) is not None]
    if not refs:
        raise NgffError("the plate lists no wells on its grid", location=plate.location)
    first = plate.load_well(refs[0].path)
    if not len(first.fields):
        raise NgffError(
            "the plate's first well has no field of view",
            location=f"{plate.location}/{refs[0].path}",
        )
    template = first.fields[0]
    level_index = len(template.levels) - 1
    tile_shape = tuple(int(n) for n in template.levels[level_index].shape)
    dtype = np.dtype(template.dtype)
    level_path = template.level_paths[level_index]
    by_cell = {_grid_position(plate, ref): ref for ref in refs}
    n_rows = max(len(plate.rows), 1 + max(r for r, _ in by_cell))  # type: ignore[misc]
    n_cols = max(len(plate.columns), 1 + max(c for _, c in by_cell))  # type: ignore[misc]
    load = dask.delayed(_load_tile, pure=True)
    token = uuid.uuid4().hex  # keys unique to this mosaic
    rows = []
    for r in range(n_rows):
        tiles = []
        for c in range(n_cols):
            ref = by_cell.get((r, c))
            if ref is None:
                tiles.append(da.zeros(tile_shape, dtype=dtype, chunks=tile_shape))
            else:
                task = load(
                    plate,
                    ref.path,
                    level_path,
                    tile_shape,
                    dtype,
                    dask_key_name=f"ngff-well-{token}-{r}-{c}",
                )
                tiles.append(da.from_delayed(task, shape=tile_shape, dtype=dtype))
        rows.append(da.concatenate(tiles, axis=-1))
    return da.concatenate(rows, axis=-2), template, level_index


def plate_layers(plate: Plate) -> list[LayerData]:
    """Image layers (one per channel) of a plate's overview mosaic."""
    mosaic, template, k = plate_mosaic(plate)
    overview = dataclasses.replace(
        template,
        levels=[mosaic],
        level_paths=(template.level_paths[k],),
        scales=(template.scales[k],),
        translations=(template.translations[k],),
        labels={},
    )
    name = plate.name or store_name(plate.location, plate.path)
    # Contrast limits from one well, not the whole mosaic (which would open every well).
    layers = image_layers(overview, name=name, range_source=template.levels[k])
    for _, meta, _ in layers:
        meta["metadata"][PROVENANCE_KEY].update(
            kind="plate", path=plate.path, version=plate.version, field=template.path
        )
    return layers
