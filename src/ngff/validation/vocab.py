"""Controlled vocabularies of the spec: units, axis types, orientations, label dtypes."""

from __future__ import annotations

from typing import Any

__all__ = [
    "INTEGER_DTYPES",
    "KNOWN_AXIS_TYPES",
    "ORIENTATION_TERMS",
    "PROPOSED_ORIENTATION_TERMS",
    "SPACE_UNITS",
    "TIME_UNITS",
    "dtype_name",
    "is_integer_dtype",
]

#: Space units "valid units according to UDUNITS-2" listed by the 0.4/0.5 axes section.
SPACE_UNITS = frozenset(
    [
        "angstrom",
        "attometer",
        "centimeter",
        "decimeter",
        "exameter",
        "femtometer",
        "foot",
        "gigameter",
        "hectometer",
        "inch",
        "kilometer",
        "megameter",
        "meter",
        "micrometer",
        "mile",
        "millimeter",
        "nanometer",
        "parsec",
        "petameter",
        "picometer",
        "terameter",
        "yard",
        "yoctometer",
        "yottameter",
        "zeptometer",
        "zettameter",
    ]
)

#: Time units listed by the 0.4/0.5 axes section.
TIME_UNITS = frozenset(
    [
        "attosecond",
        "centisecond",
        "day",
        "decisecond",
        "exasecond",
        "femtosecond",
        "gigasecond",
        "hectosecond",
        "hour",
        "kilosecond",
        "megasecond",
        "microsecond",
        "millisecond",
        "minute",
        "nanosecond",
        "petasecond",
        "picosecond",
        "second",
        "terasecond",
        "yoctosecond",
        "yottasecond",
        "zeptosecond",
        "zettasecond",
    ]
)

#: Axis types the spec names; others are "custom axis types" (allowed).
KNOWN_AXIS_TYPES = ("space", "time", "channel")

#: The 18 orientation values of RFC-4 (ome/ngff @ 66b6ff1).
ORIENTATION_TERMS = frozenset(
    [
        "left-to-right",
        "right-to-left",
        "anterior-to-posterior",
        "posterior-to-anterior",
        "inferior-to-superior",
        "superior-to-inferior",
        "dorsal-to-ventral",
        "ventral-to-dorsal",
        "dorsal-to-palmar",
        "palmar-to-dorsal",
        "dorsal-to-plantar",
        "plantar-to-dorsal",
        "rostral-to-caudal",
        "caudal-to-rostral",
        "cranial-to-caudal",
        "caudal-to-cranial",
        "proximal-to-distal",
        "distal-to-proximal",
    ]
)

#: The six extra terms of the pending 24-term proposal (ome/ngff#528): not yet adopted.
PROPOSED_ORIENTATION_TERMS = frozenset(
    [
        "superficial-to-deep",
        "deep-to-superficial",
        "apex-to-base",
        "base-to-apex",
        "apical-to-basal",
        "basal-to-apical",
    ]
)

#: "one of [uint8, int8, uint16, int16, uint32, int32, uint64, int64]" (0.5 labels).
INTEGER_DTYPES = frozenset(
    ["uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64"]
)


def dtype_name(document: Any, zarr_format: int) -> str | None:
    """The data type of an array document as a plain name (``uint16``), when known.

    Parameters
    ----------
    document
        The ``.zarray`` (v2) or ``zarr.json`` (v3) document.
    zarr_format
        2 or 3.
    """
    if not isinstance(document, dict):
        return None
    if zarr_format == 3:
        raw = document.get("data_type")
        return raw if isinstance(raw, str) else None
    raw = document.get("dtype")
    if not isinstance(raw, str):
        return None  # structured dtypes (lists) have no plain name
    # Zarr v2 dtypes are numpy type strings: byte order, kind, item size ("<u2").
    text = raw.lstrip("<>|=")
    kinds = {"u": "uint", "i": "int", "f": "float", "b": "bool", "c": "complex"}
    if len(text) >= 2 and text[0] in kinds and text[1:].isdigit():
        if text[0] == "b":
            return "bool"
        bits = int(text[1:]) * 8
        return f"{kinds[text[0]]}{bits}"
    return raw


def is_integer_dtype(name: str | None) -> bool:
    """True for the eight integer data types labels may use."""
    return name in INTEGER_DTYPES
