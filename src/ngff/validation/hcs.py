"""Rules of high-content screening metadata: ``plate`` and ``well``.

Quotes are from the 0.4/0.5 "plate" and "well" sections.  What needs the store (wells
and fields existing, acquisitions referenced by wells) is checked by the walk in
:mod:`ngff.validation.store`, from the :class:`PlateInfo`/:class:`WellInfo` returned here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..spec import Spec
from .report import Findings, join_path
from .values import is_dict, is_int, is_list, is_str, short, type_name
from .versions import check_object_version

__all__ = ["PlateInfo", "WellInfo", "check_plate", "check_well", "check_field_counts"]

_ALNUM = re.compile(r"[A-Za-z0-9]+")


@dataclass(frozen=True)
class PlateInfo:
    """What the store walk needs from a plate.

    Attributes
    ----------
    wells
        Well paths (strings) in order.
    rows
        Row names in order.
    acquisitions
        Acquisition ids defined by the plate (None when it has no ``acquisitions`` list).
    field_count
        The plate's valid ``field_count``, if any.
    maximum_field_counts
        ``(acquisition id, maximumfieldcount)`` of the acquisitions giving a valid one.
    """

    wells: tuple[str, ...]
    rows: tuple[str, ...]
    acquisitions: frozenset[int] | None
    field_count: int | None = None
    maximum_field_counts: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class WellInfo:
    """Fields of a well: ``(path, acquisition or None)`` pairs, in order."""

    images: tuple[tuple[str, int | None], ...]


# ---------------------------------------------------------------------------- plate


def check_plate(value: Any, spec: Spec, f: Findings, path: str = "plate") -> PlateInfo | None:
    """Check a ``plate`` object."""
    if not is_dict(value):
        f.error(path, "plate.type", f"'plate' MUST be an object, found {type_name(value)}")
        return None
    check_object_version(value, spec, f, path, "plate")
    if "name" not in value:
        f.warn(path, "plate.name-missing", "the plate SHOULD contain a `name`")
    elif not is_str(value["name"]):
        f.error(join_path(path, "name"), "plate.name-type", "the plate `name` MUST be a string")
    if "field_count" not in value:
        # A SHOULD, but the official strict suites accept plates without one.
        f.note(path, "plate.field-count-missing", "the plate SHOULD contain a `field_count`")
    elif not (is_int(value["field_count"]) and value["field_count"] > 0):
        f.error(
            join_path(path, "field_count"),
            "plate.field-count",
            f"`field_count` MUST be a positive integer, found {short(value['field_count'])}",
        )
    acquisitions = _check_acquisitions(value, f, path)
    rows = _check_names(value, "rows", spec, f, path)
    columns = _check_names(value, "columns", spec, f, path)
    wells = _check_wells(value, spec, f, path, rows, columns)
    count = value.get("field_count")
    return PlateInfo(
        wells=wells,
        rows=tuple(n for n in rows if n is not None),
        acquisitions=acquisitions,
        field_count=int(count) if is_int(count) and count > 0 else None,
        maximum_field_counts=_maximum_field_counts(value.get("acquisitions")),
    )


def _maximum_field_counts(raw: Any) -> tuple[tuple[int, int], ...]:
    if not is_list(raw):
        return ()
    out = []
    for acq in raw:
        if is_dict(acq) and is_int(acq.get("id")) and is_int(acq.get("maximumfieldcount")):
            if acq["maximumfieldcount"] > 0:
                out.append((int(acq["id"]), int(acq["maximumfieldcount"])))
    return tuple(out)


def check_field_counts(plate: PlateInfo, wells: Mapping[str, WellInfo], f: Findings) -> None:
    """``field_count`` and each ``maximumfieldcount`` against the fields the wells list.

    ``field_count`` is "the maximum number of fields per view across all wells": a well
    with more fields contradicts it (an error).  ``maximumfieldcount`` is "the maximum
    number of fields of view for the acquisition"; read per well (the 0.4 example gives
    each well that many fields of each acquisition), a well exceeding it is a warning,
    since the text does not say per well or per plate.
    """
    if plate.field_count is not None:
        for path, info in wells.items():
            if len(info.images) > plate.field_count:
                f.error(
                    "plate.field_count",
                    "plate.field-count-exceeded",
                    f"`field_count` {plate.field_count} is defined as the maximum number of fields per well, "
                    f"but well {path!r} lists {len(info.images)}",
                )
    for acquisition, maximum in plate.maximum_field_counts:
        for path, info in wells.items():
            count = sum(1 for _, a in info.images if a == acquisition)
            if count > maximum:
                f.warn(
                    "plate.acquisitions",
                    "plate.acquisition-maximumfieldcount-exceeded",
                    f"acquisition {acquisition} has `maximumfieldcount` {maximum}, "
                    f"but well {path!r} lists {count} of its fields",
                )


def _check_acquisitions(plate: dict[str, Any], f: Findings, path: str) -> frozenset[int] | None:
    if "acquisitions" not in plate:
        return None
    raw = plate["acquisitions"]
    apath = join_path(path, "acquisitions")
    if not is_list(raw):
        f.error(
            apath,
            "plate.acquisitions-type",
            f"`acquisitions` MUST be a list, found {type_name(raw)}",
        )
        return None
    ids: set[int] = set()
    for i, acq in enumerate(raw):
        where = join_path(apath, i)
        if not is_dict(acq):
            f.error(
                where,
                "plate.acquisition-type",
                f"an acquisition MUST be a JSON object, found {type_name(acq)}",
            )
            continue
        if "id" not in acq:
            f.error(where, "plate.acquisition-id-missing", "each acquisition MUST contain an `id`")
        elif not (is_int(acq["id"]) and acq["id"] >= 0):
            f.error(
                join_path(where, "id"),
                "plate.acquisition-id",
                f"an acquisition `id` MUST be an integer >= 0, found {short(acq['id'])}",
            )
        elif int(acq["id"]) in ids:
            f.error(
                join_path(where, "id"),
                "plate.acquisition-id-unique",
                f"acquisition ids MUST be unique; {acq['id']} repeats",
            )
        else:
            ids.add(int(acq["id"]))
        if "name" not in acq:
            f.warn(
                where, "plate.acquisition-name-missing", "each acquisition SHOULD contain a `name`"
            )
        elif not is_str(acq["name"]):
            f.error(
                join_path(where, "name"),
                "plate.acquisition-name-type",
                "an acquisition `name` MUST be a string",
            )
        if "maximumfieldcount" not in acq:
            f.warn(
                where,
                "plate.acquisition-maximumfieldcount-missing",
                "each acquisition SHOULD contain a `maximumfieldcount`",
            )
        elif not (is_int(acq["maximumfieldcount"]) and acq["maximumfieldcount"] > 0):
            f.error(
                join_path(where, "maximumfieldcount"),
                "plate.acquisition-maximumfieldcount",
                f"`maximumfieldcount` MUST be a positive integer, found {short(acq['maximumfieldcount'])}",
            )
        if "description" in acq and not is_str(acq["description"]):
            f.error(
                join_path(where, "description"),
                "plate.acquisition-description-type",
                "an acquisition `description` MUST be a string",
            )
        for key in ("starttime", "endtime"):
            if key in acq and not (is_int(acq[key]) and acq[key] >= 0):
                f.error(
                    join_path(where, key),
                    "plate.acquisition-time",
                    f"`{key}` MUST be an integer epoch timestamp (>= 0), found {short(acq[key])}",
                )
    return frozenset(ids)


def _check_names(
    plate: dict[str, Any], key: str, spec: Spec, f: Findings, path: str
) -> list[str | None]:
    """Check ``rows`` or ``columns``; return the names (None for unusable entries)."""
    what = key[:-1]
    kpath = join_path(path, key)
    if key not in plate:
        f.error(path, f"plate.{key}-missing", f"the plate MUST contain a `{key}` key")
        return []
    raw = plate[key]
    if not is_list(raw):
        f.error(
            kpath,
            f"plate.{key}-type",
            f"`{key}` MUST be a list of JSON objects, found {type_name(raw)}",
        )
        return []
    if not raw:
        f.error(
            kpath,
            f"plate.{key}-empty",
            f"each {what} in the physical plate MUST be defined (schema minItems 1)",
        )
    names: list[str | None] = []
    lowered: dict[str, str] = {}
    for i, item in enumerate(raw):
        where = join_path(kpath, i)
        name = item.get("name") if is_dict(item) else None
        if not is_dict(item) or "name" not in item:
            f.error(
                where, f"plate.{what}-name-missing", f"each {what} object MUST contain a `name`"
            )
            names.append(None)
            continue
        if not is_str(name):
            f.error(
                join_path(where, "name"),
                f"plate.{what}-name-type",
                f"a {what} `name` MUST be a string, found {type_name(name)}",
            )
            names.append(None)
            continue
        if spec.plate_names_alphanumeric and not _ALNUM.fullmatch(name):
            f.error(
                join_path(where, "name"),
                f"plate.{what}-name",
                f"a {what} `name` MUST contain only alphanumeric characters; found {name!r}",
            )
        if name in names:
            f.error(
                join_path(where, "name"),
                f"plate.{what}-name-unique",
                f"a {what} `name` MUST NOT be a duplicate; {name!r} repeats",
            )
        elif name.lower() in lowered:
            f.warn(
                join_path(where, "name"),
                f"plate.{what}-name-case",
                f"care SHOULD be taken to avoid collisions on case-insensitive filesystems: {name!r} vs {lowered[name.lower()]!r}",
            )
        lowered.setdefault(name.lower(), name)
        names.append(name)
    return names


def _check_wells(
    plate: dict[str, Any],
    spec: Spec,
    f: Findings,
    path: str,
    rows: list[str | None],
    columns: list[str | None],
) -> tuple[str, ...]:
    wpath = join_path(path, "wells")
    if "wells" not in plate:
        f.error(path, "plate.wells-missing", "the plate MUST contain a `wells` key")
        return ()
    raw = plate["wells"]
    if not is_list(raw):
        f.error(
            wpath,
            "plate.wells-type",
            f"`wells` MUST be a list of JSON objects, found {type_name(raw)}",
        )
        return ()
    if not raw:
        f.error(
            wpath, "plate.wells-empty", "`wells` MUST list at least one well (schema minItems 1)"
        )
    paths: list[str] = []
    for i, well in enumerate(raw):
        where = join_path(wpath, i)
        if not is_dict(well):
            f.error(
                where, "plate.well-type", f"a well MUST be a JSON object, found {type_name(well)}"
            )
            continue
        well_path = well.get("path")
        if "path" not in well:
            f.error(where, "plate.well-path-missing", "each well object MUST contain a `path`")
        elif not is_str(well_path):
            f.error(
                join_path(where, "path"),
                "plate.well-path-type",
                f"a well `path` MUST be a string, found {type_name(well_path)}",
            )
            well_path = None
        elif well_path in paths:
            f.error(
                join_path(where, "path"),
                "plate.well-path-unique",
                f"the well {well_path!r} is listed twice",
            )
        else:
            paths.append(well_path)
        if spec.well_indices:
            indices = _check_indices(well, f, where)
            if is_str(well_path):
                _check_well_path(well_path, indices, spec, f, where, rows, columns)
    return tuple(paths)


def _check_indices(well: dict[str, Any], f: Findings, path: str) -> tuple[int | None, int | None]:
    out: list[int | None] = []
    for key in ("rowIndex", "columnIndex"):
        if key not in well:
            f.error(path, "plate.well-index-missing", f"each well object MUST contain a `{key}`")
            out.append(None)
        elif not (is_int(well[key]) and well[key] >= 0):
            f.error(
                join_path(path, key),
                "plate.well-index",
                f"`{key}` MUST be a 0-based integer, found {short(well[key])}",
            )
            out.append(None)
        else:
            out.append(int(well[key]))
    return out[0], out[1]


def _check_well_path(
    well_path: str,
    indices: tuple[int | None, int | None],
    spec: Spec,
    f: Findings,
    path: str,
    rows: list[str | None],
    columns: list[str | None],
) -> None:
    where = join_path(path, "path")
    parts = well_path.split("/")
    if len(parts) != 2 or not all(_ALNUM.fullmatch(p) for p in parts):
        f.error(
            where,
            "well.path-format",
            "a well `path` MUST consist of a row name, a file separator (`/`) and a column name, with no "
            f"additional leading or trailing directories; found {well_path!r}",
        )
        return
    first, second = parts
    if first in rows and second in columns:
        row, column = first, second
    elif first in columns and second in rows:
        message = f'the well `path` MUST be `row/column` "in that order"; {well_path!r} names the column first'
        if spec.well_path_order_enforced:
            f.error(where, "well.path-order", message)
        else:
            f.note(
                where,
                "well.path-order",
                message + " (accepted: the official 0.4 test suite writes paths so)",
            )
        row, column = second, first
    else:
        f.error(
            where,
            "well.path-names",
            f"the well `path` {well_path!r} does not name a row and a column of the plate",
        )
        return
    expected = (rows.index(row), columns.index(column))
    for key, given, want in zip(("rowIndex", "columnIndex"), indices, expected):
        if given is not None and given != want:
            f.error(
                join_path(path, key),
                "well.path-matches-indices",
                f'"The `rowIndex`, `columnIndex`, and `path` MUST all refer to the same row/column pair"; '
                f"{well_path!r} is at {key} {want}, found {given}",
            )


# ---------------------------------------------------------------------------- well


def check_well(value: Any, spec: Spec, f: Findings, path: str = "well") -> WellInfo | None:
    """Check a ``well`` object."""
    if not is_dict(value):
        f.error(path, "well.type", f"'well' MUST be an object, found {type_name(value)}")
        return None
    check_object_version(value, spec, f, path, "well")
    ipath = join_path(path, "images")
    if "images" not in value:
        f.error(path, "well.images-missing", "the well MUST contain an `images` key")
        return None
    raw = value["images"]
    if not is_list(raw):
        f.error(
            ipath,
            "well.images-type",
            f"`images` MUST be a list of JSON objects, found {type_name(raw)}",
        )
        return None
    if not raw:
        f.error(
            ipath,
            "well.images-empty",
            "`images` MUST list the fields of view of the well (schema minItems 1)",
        )
    images: list[tuple[str, int | None]] = []
    for i, image in enumerate(raw):
        where = join_path(ipath, i)
        if not is_dict(image):
            f.error(
                where, "well.image-type", f"a field MUST be a JSON object, found {type_name(image)}"
            )
            continue
        acquisition = image.get("acquisition")
        if "acquisition" in image and not is_int(acquisition):
            f.error(
                join_path(where, "acquisition"),
                "well.acquisition-type",
                f"`acquisition` MUST be an integer, found {short(acquisition)}",
            )
            acquisition = None
        if "path" not in image:
            f.error(where, "well.image-path-missing", "each image object MUST contain a `path`")
            continue
        image_path = image["path"]
        if not is_str(image_path):
            f.error(
                join_path(where, "path"),
                "well.image-path-type",
                f"a field `path` MUST be a string, found {type_name(image_path)}",
            )
            continue
        if not _ALNUM.fullmatch(image_path):
            f.error(
                join_path(where, "path"),
                "well.image-path",
                f"a field `path` MUST contain only alphanumeric characters; found {image_path!r}",
            )
        if any(p == image_path for p, _ in images):
            f.error(
                join_path(where, "path"),
                "well.image-path-unique",
                f"a field `path` MUST NOT be a duplicate; {image_path!r} repeats",
            )
            continue
        images.append((image_path, int(acquisition) if acquisition is not None else None))
    return WellInfo(images=tuple(images))
