"""Rules of the transitional ``bioformats2raw.layout`` and ``series`` metadata (0.4+)."""

from __future__ import annotations

from typing import Any

from .report import Findings, join_path
from .values import is_list, is_number, is_str, short, type_name

__all__ = ["check_layout", "check_series"]


def check_layout(value: Any, f: Findings, path: str = "bioformats2raw.layout") -> None:
    """``bioformats2raw.layout``: "MUST have the value "3"" (a number in the schema)."""
    if not (is_number(value) and value == 3):
        f.error(
            path,
            "bf2raw.layout",
            f'"bioformats2raw.layout" MUST have the value 3, found {short(value)}',
        )


def check_series(value: Any, f: Findings, path: str = "series") -> list[str]:
    """``series``: "MUST be a list of string objects, each of which is a path to an image group"."""
    if not is_list(value):
        f.error(
            path, "series.type", f'"series" MUST be a list of strings, found {type_name(value)}'
        )
        return []
    paths = []
    for i, item in enumerate(value):
        if not is_str(item):
            f.error(
                join_path(path, i),
                "series.item-type",
                f"each series entry MUST be a string path, found {short(item)}",
            )
        else:
            paths.append(item)
    return paths
