"""RFC-4 anatomical orientation of axes (an optional addition to 0.4/0.5 axis objects).

Quotes are from RFC-4 (ome/ngff @ 66b6ff1, state R1).  ``"orientation": null`` counts
as absent (a warning: writers should omit it).  The legacy ``anatomicalOrientation``
string key (the 2024 draft) is a warning; as readers take it for the value when there is
no ``orientation``, its value is held to the same rules.  The six terms of the pending
24-term proposal (ome/ngff#528) are warnings, other values errors.
"""

from __future__ import annotations

from typing import Any

from .report import Findings, join_path
from .values import is_dict, is_str, short
from .vocab import ORIENTATION_TERMS, PROPOSED_ORIENTATION_TERMS

__all__ = ["check_orientations"]


def _pair(term: str) -> frozenset[str]:
    """The anatomical direction pair of a term: ``left-to-right`` -> {left, right}."""
    head, _, tail = term.partition("-to-")
    return frozenset((head, tail))


def check_orientations(axes: list[Any], f: Findings, path: str) -> None:
    """Check the ``orientation`` fields of a list of axis objects.

    Parameters
    ----------
    axes
        The raw ``axes`` list (items that are not objects are ignored here).
    f
        Where findings go.
    path
        JSON path of the ``axes`` list.
    """
    oriented: dict[frozenset[str], str] = {}
    space_axes = 0
    space_oriented = 0
    for i, axis in enumerate(axes):
        if not is_dict(axis):
            continue
        where = join_path(path, i)
        is_space = axis.get("type") == "space"
        space_axes += is_space
        legacy = axis.get("anatomicalOrientation")
        if "anatomicalOrientation" in axis:
            f.warn(
                join_path(where, "anatomicalOrientation"),
                "orientation.legacy-key",
                "'anatomicalOrientation' is the superseded RFC-4 draft key; RFC-4 now uses an "
                "'orientation' object {type: 'anatomical', value: ...}",
            )
        raw = axis.get("orientation")
        if raw is None and legacy is not None:
            # Readers take the legacy string as the value: hold it to the same rules.
            if "orientation" in axis:
                f.warn(join_path(where, "orientation"), "orientation.null", "'orientation' is null; omit the key instead")
            raw = legacy if is_dict(legacy) else {"type": "anatomical", "value": legacy}
            opath = join_path(where, "anatomicalOrientation")
        elif "orientation" not in axis:
            continue
        else:
            opath = join_path(where, "orientation")
            if legacy is not None and is_dict(raw) and raw.get("value") != (
                legacy.get("value") if is_dict(legacy) else legacy
            ):
                f.warn(
                    join_path(where, "anatomicalOrientation"),
                    "orientation.legacy-conflict",
                    f"'anatomicalOrientation' {short(legacy)} disagrees with 'orientation'; "
                    "readers use 'orientation'",
                )
        if raw is None:
            # RFC-4 conformance suites treat null as absent; writers should omit the key.
            f.warn(
                opath,
                "orientation.null",
                "'orientation' is null; omit the key instead (treated as absent)",
            )
            continue
        if not is_space:
            f.error(
                opath,
                "orientation.non-space",
                'RFC-4: orientation "MUST only be used on spatial axes (axes with `type` field set '
                f'to "space")"; this axis has type {short(axis.get("type"))}',
            )
        if not is_dict(raw):
            f.error(
                opath, "orientation.structure", 'RFC-4: orientation "is structured as an object"'
            )
            continue
        kind = raw.get("type")
        if "type" not in raw:
            f.error(
                opath, "orientation.type-missing", 'RFC-4: orientation "MUST have a `type` field"'
            )
        elif kind != "anatomical":
            f.error(
                join_path(opath, "type"),
                "orientation.type",
                f'RFC-4: the only valid orientation type is "anatomical", found {short(kind)}',
            )
        if "value" not in raw:
            f.error(
                opath, "orientation.value-missing", 'RFC-4: orientation "MUST have a `value` field"'
            )
            continue
        value = raw["value"]
        vpath = join_path(opath, "value")
        if not is_str(value) or value not in ORIENTATION_TERMS | PROPOSED_ORIENTATION_TERMS:
            f.error(vpath, "orientation.value", f"not an RFC-4 orientation value: {short(value)}")
            continue
        if value in PROPOSED_ORIENTATION_TERMS:
            f.warn(
                vpath,
                "orientation.proposed-value",
                f"{value!r} is one of the six terms of the pending 24-term proposal (ome/ngff#528), "
                "not of the adopted RFC-4 text",
            )
        if is_space:
            space_oriented += 1
        pair = _pair(value)
        if pair in oriented:
            f.error(
                vpath,
                "orientation.duplicate-pair",
                'RFC-4: "A set of NGFF `axes` MUST only have one of the set" of a direction pair; '
                f"{value!r} repeats the direction of {oriented[pair]!r}",
            )
        else:
            oriented[pair] = value
    if 0 < space_oriented < space_axes:
        f.warn(
            path,
            "orientation.partial",
            f"{space_oriented} of {space_axes} space axes carry an orientation; orient all space axes or none",
        )
