"""Build an HCS plate from per-well image files, as microscopes export them.

A pattern names the parts of each file name, e.g. ``"{row}{column}_f{field}_c{channel}.tif"``
matches ``B03_f1_cDAPI.tif``.  Placeholders:

``{row}``
    Row letters (``A`` … ``P``, ``AA`` …), upper-cased.
``{column}``
    Column number; leading zeros dropped (``03`` → column ``3``).
``{field}``
    Field of view (any digits).  Fields are stored as ``0``, ``1``, … in their
    numeric order within each well.
``{channel}``
    Channel name; files of one field with different channels are stacked along ``c``
    (channels in natural order; the names become the OMERO channel labels).
``{z}``, ``{t}``
    Plane and time point numbers, stacked along ``z`` and ``t``.
``{acquisition}``
    Acquisition (run) number; each becomes a plate acquisition.
``*``
    Any text.

Files are read with :func:`ngff.convert.open_source` (TIFF, OME-TIFF, ``.npy``, PNG, …);
each field is written with :func:`ngff.hcs.write_well_image`.  The plate is built in a
hidden sibling of the destination and moved into place when complete.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import NgffError
from .model import Plate

__all__ = ["build_plate", "parse_pattern", "match_files", "PlateFile", "PLATE_FORMATS"]

#: Standard plate formats: wells -> (rows, columns).
PLATE_FORMATS: Mapping[int, tuple[int, int]] = {
    6: (2, 3),
    12: (3, 4),
    24: (4, 6),
    48: (6, 8),
    96: (8, 12),
    384: (16, 24),
    1536: (32, 48),
}

_PLACEHOLDERS = {
    "row": r"[A-Za-z]{1,2}",
    "column": r"\d+",
    "field": r"\d+",
    "channel": r".+?",
    "z": r"\d+",
    "t": r"\d+",
    "acquisition": r"\d+",
}
_TOKEN = re.compile(r"\{(\w+)\}|\*")


@dataclass(frozen=True)
class PlateFile:
    """One input file and what its name says."""

    path: Path
    row: str
    column: str
    field: int
    channel: str | None = None
    z: int | None = None
    t: int | None = None
    acquisition: int | None = None


def parse_pattern(pattern: str) -> re.Pattern[str]:
    """A regular expression for a file name pattern (see the module docstring).

    Raises
    ------
    NgffError
        For an unknown or repeated placeholder, or a pattern without ``{row}`` and
        ``{column}``.
    """
    out, seen, last = [], set(), 0
    for m in _TOKEN.finditer(pattern):
        out.append(re.escape(pattern[last : m.start()]))
        last = m.end()
        if m.group(0) == "*":
            out.append(r".*?")
            continue
        name = m.group(1)
        if name not in _PLACEHOLDERS:
            raise NgffError(
                f"unknown placeholder {{{name}}} in pattern {pattern!r}; known: "
                + ", ".join(f"{{{k}}}" for k in _PLACEHOLDERS),
                rule="plate build pattern",
            )
        if name in seen:
            raise NgffError(f"placeholder {{{name}}} appears twice in {pattern!r}", rule="plate build pattern")
        seen.add(name)
        out.append(f"(?P<{name}>{_PLACEHOLDERS[name]})")
    out.append(re.escape(pattern[last:]))
    if not {"row", "column"} <= seen:
        raise NgffError(f"pattern {pattern!r} needs {{row}} and {{column}}", rule="plate build pattern")
    return re.compile("".join(out) + r"\Z")


def match_files(files: Iterable[str | os.PathLike[str]], pattern: str) -> tuple[list[PlateFile], list[Path]]:
    """Split files into those the pattern matches (parsed) and the others.

    A pattern with a ``/`` is matched against the end of the whole path, otherwise
    against the file name.
    """
    regex = parse_pattern(pattern)
    matched, skipped = [], []
    for item in files:
        path = Path(item)
        text = path.as_posix() if "/" in pattern else path.name
        m = None
        if "/" in pattern:
            for start in [0] + [i + 1 for i, ch in enumerate(text) if ch == "/"]:
                m = regex.match(text, start)
                if m:
                    break
        else:
            m = regex.match(text)
        if m is None:
            skipped.append(path)
            continue
        groups = m.groupdict()

        def number(key: str) -> int | None:
            return int(groups[key]) if groups.get(key) is not None else None

        matched.append(
            PlateFile(
                path=path,
                row=groups["row"].upper(),
                column=str(int(groups["column"])),
                field=number("field") or 0,
                channel=groups.get("channel"),
                z=number("z"),
                t=number("t"),
                acquisition=number("acquisition"),
            )
        )
    return matched, skipped


def _natural(text: str) -> list[Any]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def _row_index(name: str) -> int:
    index = 0
    for ch in name:
        index = index * 26 + (ord(ch) - ord("A") + 1)
    return index - 1


def _grid(files: Sequence[PlateFile], rows: int | Sequence[str] | None, columns: int | Sequence[str] | None, wells_format: int | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    from .hcs import column_names, row_names

    if wells_format is not None:
        if wells_format not in PLATE_FORMATS:
            raise NgffError(
                f"unknown plate format {wells_format}; known: {', '.join(map(str, PLATE_FORMATS))}",
                rule="plate format",
            )
        rows, columns = PLATE_FORMATS[wells_format]
    if rows is None:
        rows = 1 + max(_row_index(f.row) for f in files)
    if columns is None:
        columns = max(int(f.column) for f in files)
    row_list, column_list = row_names(rows), column_names(columns)
    for f in files:
        if f.row not in row_list or f.column not in column_list:
            raise NgffError(
                f"{f.path.name} is well {f.row}{f.column}, outside the plate's {len(row_list)} rows × {len(column_list)} columns",
                location=str(f.path),
                rule="plate grid",
            )
    return row_list, column_list


def _stack(group: Sequence[PlateFile], location: str) -> tuple[np.ndarray, tuple[str, ...], dict[str, Any], list[str] | None]:
    """One field's pixels from its files, stacked along t, c and z; its dims and metadata."""
    from .convert import open_source

    axes = [("t", "t"), ("c", "channel"), ("z", "z")]
    keys: dict[str, list[Any]] = {}
    for dim, attr in axes:
        values = {getattr(f, attr) for f in group}
        if values != {None}:
            keys[dim] = sorted(values, key=lambda v: _natural(str(v)))
    stacked = [dim for dim, _ in axes if dim in keys]
    by_key: dict[tuple[Any, ...], PlateFile] = {}
    for f in group:
        key = tuple(getattr(f, attr) for dim, attr in axes if dim in keys)
        if key in by_key:
            raise NgffError(
                f"{f.path.name} and {by_key[key].path.name} are the same plane of field {f.field}",
                location=location,
                rule="one file per well, field, channel, z and t",
            )
        by_key[key] = f
    first = None
    planes: dict[tuple[Any, ...], np.ndarray] = {}
    meta: dict[str, Any] = {}
    file_dims: tuple[str, ...] = ()
    for key, f in by_key.items():
        source = open_source(f.path)
        try:
            data = np.asarray(source.data[tuple(slice(None) for _ in source.dims)])
            if first is None:
                first = (data.shape, data.dtype)
                file_dims = tuple(source.dims)
                meta = {"scale": source.scale, "units": source.units}
                file_channels = source.channels
            elif (data.shape, data.dtype) != first:
                raise NgffError(
                    f"{f.path.name} is {data.shape} {data.dtype}, other files of the field {first[0]} {first[1]}",
                    location=str(f.path),
                    rule="the files of a field have one shape and dtype",
                )
        finally:
            source.close()
        planes[key] = data
    clash = [d for d in stacked if d in file_dims]
    if clash:
        raise NgffError(
            f"the pattern stacks {clash} but the files already have such an axis ({''.join(file_dims)})",
            location=location,
            rule="plate build pattern",
        )
    shape = [len(keys[d]) for d in stacked]
    assert first is not None
    out = np.zeros((*shape, *first[0]), dtype=first[1])
    for key, data in planes.items():
        index = tuple(keys[d].index(v) for d, v in zip(stacked, key))
        out[index] = data
    dims = tuple(stacked) + file_dims
    rank = {"t": 0, "c": 1, "z": 2, "y": 3, "x": 4}  # OME-Zarr axis order
    order = sorted(range(len(dims)), key=lambda i: rank.get(dims[i], 1))
    out = np.transpose(out, order)
    dims = tuple(dims[i] for i in order)
    channels = [str(v) for v in keys["c"]] if "c" in keys else (file_channels if "c" in file_dims else None)
    return out, dims, meta, channels


def build_plate(
    output: str | os.PathLike[str],
    files: Iterable[str | os.PathLike[str]],
    pattern: str,
    *,
    rows: int | Sequence[str] | None = None,
    columns: int | Sequence[str] | None = None,
    wells_format: int | None = None,
    name: str | None = None,
    version: str = "0.5",
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    **write_options: Any,
) -> Plate:
    """Build a plate from image files named by ``pattern``.

    Parameters
    ----------
    output
        Destination plate directory.
    files
        Input files; those the pattern does not match are ignored.
    pattern
        File name pattern (see the module docstring).
    rows, columns
        The plate's rows and columns (counts or names); default: from ``wells_format``
        or up to the last row and column seen.
    wells_format
        A standard plate size (6, 12, 24, 48, 96, 384, 1536 wells) giving rows and columns.
    name
        Plate name (default: the output's name without suffixes).
    version
        ``"0.5"`` or ``"0.4"``.
    overwrite
        Replace an existing plate at ``output``.
    progress
        Called as ``progress(fields_done, fields_total)``.
    **write_options
        :func:`ngff.write` options for every field (``scale``, ``units``, ``chunks``,
        ``codec``...); the files' own pixel sizes and units are used otherwise.

    Returns
    -------
    Plate
        The plate, opened lazily.

    Raises
    ------
    NgffError
        When no file matches, files disagree, or a well lies outside the plate; the
        destination is left as it was.
    """
    from .hcs import write_plate, write_well_image
    from .reader import read
    from .store import OutputDirectory
    from .writer import _default_name

    matched, _ = match_files(files, pattern)
    if not matched:
        raise NgffError(f"no file matches the pattern {pattern!r}", location=os.fspath(output), rule="plate build pattern")
    row_list, column_list = _grid(matched, rows, columns, wells_format)
    wells: dict[tuple[str, str], list[PlateFile]] = {}
    for f in matched:
        wells.setdefault((f.row, f.column), []).append(f)
    ordered = sorted(wells, key=lambda rc: (row_list.index(rc[0]), column_list.index(rc[1])))
    acquisitions = sorted({f.acquisition for f in matched if f.acquisition is not None})
    plan: list[tuple[str, str, str, int | None, list[PlateFile]]] = []
    field_count = 0
    for row, column in ordered:
        fields: dict[tuple[int, int], list[PlateFile]] = {}
        for f in wells[(row, column)]:
            fields.setdefault((f.acquisition if f.acquisition is not None else -1, f.field), []).append(f)
        for index, (acq, _) in enumerate(sorted(fields)):
            plan.append((row, column, str(index), None if acq < 0 else acq, fields[(acq, _)]))
        field_count = max(field_count, len(fields))
    target = OutputDirectory(output, overwrite=overwrite)
    try:
        write_plate(
            target.path,
            rows=row_list,
            columns=column_list,
            wells=[f"{r}/{c}" for r, c in ordered],
            acquisitions=[{"id": a, "name": f"acquisition {a}"} for a in acquisitions] or None,
            name=name or _default_name(output),
            field_count=field_count,
            version=version,
            overwrite=True,
        )
        for done, (row, column, field_path, acq, group) in enumerate(plan):
            data, dims, meta, channels = _stack(group, f"{os.fspath(output)}/{row}/{column}/{field_path}")
            options = dict(write_options)
            if meta.get("scale") and "scale" not in options:
                options["scale"] = {d: v for d, v in meta["scale"].items() if d in dims}
            if meta.get("units") and "units" not in options:
                options["units"] = {d: v for d, v in meta["units"].items() if d in dims}
            if channels is not None and "channels" not in options:
                options["channels"] = channels
            write_well_image(target.path, row, column, field_path, data, acquisition=acq, dims=dims, **options)
            if progress is not None:
                progress(done + 1, len(plan))
        target.commit()
    except BaseException:
        target.abort()
        raise
    plate = read(target.final)
    assert isinstance(plate, Plate)
    return plate
