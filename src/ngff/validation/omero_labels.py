"""Rules of ``omero`` (rendering settings), ``labels`` (label list) and ``image-label``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..spec import Spec
from .report import Findings, join_path
from .values import is_dict, is_int, is_list, is_number, is_str, short, type_name
from .versions import check_object_version

__all__ = ["check_image_label", "check_labels_list", "check_omero"]

_HEX6 = re.compile(r"[0-9A-Fa-f]{6}")
_WINDOW_KEYS = ("min", "max", "start", "end")
# Optional channel fields the schemas type-check.
_CHANNEL_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "label": (is_str, "a string"),
    "family": (is_str, "a string"),
    "active": (lambda v: isinstance(v, bool), "a boolean"),
}


def check_omero(value: Any, spec: Spec, f: Findings, path: str = "omero") -> int | None:
    """Check ``omero``; return the number of channels listed (None when unusable)."""
    if not is_dict(value):
        f.error(path, "omero.type", f"'omero' MUST be an object, found {type_name(value)}")
        return None
    if "channels" not in value:
        f.error(
            path,
            "omero.channels-missing",
            "'omero', if present, MUST contain the field \"channels\"",
        )
        return None
    channels = value["channels"]
    cpath = join_path(path, "channels")
    if not is_list(channels):
        f.error(
            cpath,
            "omero.channels-type",
            f"'channels' MUST be an array, found {type_name(channels)}",
        )
        return None
    for i, channel in enumerate(channels):
        _check_channel(channel, spec, f, join_path(cpath, i))
    return len(channels)


def _check_channel(channel: Any, spec: Spec, f: Findings, path: str) -> None:
    if not is_dict(channel):
        f.error(
            path, "omero.channel-type", f"a channel MUST be an object, found {type_name(channel)}"
        )
        return
    if "color" not in channel:
        f.error(path, "omero.color-missing", 'each channel MUST contain the field "color"')
    else:
        color = channel["color"]
        if not is_str(color):
            f.error(
                join_path(path, "color"),
                "omero.color-type",
                f"'color' MUST be a string, found {type_name(color)}",
            )
        elif spec.omero_color_hex and not _HEX6.fullmatch(color):
            f.error(
                join_path(path, "color"),
                "omero.color",
                f"'color' MUST be \"a string of 6 hexadecimal digits\" (RGB); found {color!r}",
            )
    if "window" not in channel:
        f.error(path, "omero.window-missing", 'each channel MUST contain the field "window"')
    else:
        window = channel["window"]
        wpath = join_path(path, "window")
        if not is_dict(window):
            f.error(
                wpath, "omero.window-type", f"'window' MUST be an object, found {type_name(window)}"
            )
        else:
            for key in _WINDOW_KEYS:
                if key not in window:
                    f.error(
                        wpath,
                        "omero.window-field-missing",
                        f"'window' MUST contain the field {key!r}",
                    )
                elif not is_number(window[key]):
                    f.error(
                        join_path(wpath, key),
                        "omero.window-value",
                        f"window {key!r} MUST be a number, found {short(window[key])}",
                    )
    for key, (check, what) in _CHANNEL_TYPES.items():
        if key in channel and not check(channel[key]):
            f.error(
                join_path(path, key),
                "omero.channel-field-type",
                f"channel {key!r} MUST be {what} (schema)",
            )


def check_labels_list(value: Any, f: Findings, path: str = "labels") -> list[str]:
    """Check the ``labels`` key of a labels group; return the listed paths."""
    if not is_list(value):
        f.error(
            path, "labels.type", f"'labels' MUST be a JSON array of paths, found {type_name(value)}"
        )
        return []
    paths = []
    for i, item in enumerate(value):
        if not is_str(item) or not item.strip("/"):
            f.error(
                join_path(path, i),
                "labels.item-type",
                f"each label path MUST be a non-empty string, found {short(item)}",
            )
        else:
            paths.append(item)
    if len(set(paths)) != len(paths):
        f.warn(path, "labels.unique", "a label path is listed twice")
    return paths


def check_image_label(value: Any, spec: Spec, f: Findings, path: str = "image-label") -> None:
    """Check an ``image-label`` object."""
    if not is_dict(value):
        f.error(path, "label.type", f"'image-label' MUST be an object, found {type_name(value)}")
        return
    check_object_version(value, spec, f, path, "image-label")
    if "colors" not in value:
        f.warn(path, "label.colors-missing", "'image-label' SHOULD contain a `colors` key")
    else:
        _check_colors(value["colors"], f, join_path(path, "colors"))
    if "properties" in value:
        _check_properties(value["properties"], f, join_path(path, "properties"))
    if "source" in value:
        source = value["source"]
        spath = join_path(path, "source")
        if not is_dict(source):
            f.error(
                spath,
                "label.source-type",
                f"'source' MUST be a JSON object, found {type_name(source)}",
            )
        elif "image" in source and not is_str(source["image"]):
            f.error(
                join_path(spath, "image"),
                "label.source-image-type",
                "'source.image' MUST be a string (a relative path)",
            )


def _check_label_value(item: dict[str, Any], f: Findings, path: str) -> Any:
    """Check ``label-value`` of a colors/properties entry; return it when it is an integer."""
    if "label-value" not in item:
        f.error(path, "label.label-value-missing", "each entry MUST contain the `label-value` key")
        return None
    value = item["label-value"]
    if not is_int(value):
        f.error(
            join_path(path, "label-value"),
            "label.label-value-type",
            f"`label-value` MUST be an integer, found {short(value)}",
        )
        return None
    return int(value)


def _check_colors(colors: Any, f: Findings, path: str) -> None:
    if not is_list(colors):
        f.error(
            path,
            "label.colors-type",
            f"`colors` MUST be a list of JSON objects, found {type_name(colors)}",
        )
        return
    if not colors:
        f.error(
            path,
            "label.colors-empty",
            "`colors` MUST describe at least one label value (schema minItems 1)",
        )
    seen: set[int] = set()
    for i, item in enumerate(colors):
        where = join_path(path, i)
        if not is_dict(item):
            f.error(
                where,
                "label.colors-item-type",
                f"a color MUST be a JSON object, found {type_name(item)}",
            )
            continue
        value = _check_label_value(item, f, where)
        if value is not None:
            if value in seen:
                f.error(
                    where,
                    "label.colors-unique",
                    f'"All the values under the `label-value` key MUST be unique"; {value} repeats',
                )
            seen.add(value)
        if "rgba" in item:
            rgba = item["rgba"]
            if not (
                is_list(rgba) and len(rgba) == 4 and all(is_int(c) and 0 <= c <= 255 for c in rgba)
            ):
                f.error(
                    join_path(where, "rgba"),
                    "label.rgba",
                    f'`rgba` MUST be "an array of four integers between 0 and 255"; found {short(rgba)}',
                )


def _check_properties(properties: Any, f: Findings, path: str) -> None:
    if not is_list(properties):
        f.error(
            path,
            "label.properties-type",
            f"`properties` MUST be a list of JSON objects, found {type_name(properties)}",
        )
        return
    if not properties:
        f.error(
            path,
            "label.properties-empty",
            "`properties` MUST describe at least one label value (schema minItems 1)",
        )
    for i, item in enumerate(properties):
        where = join_path(path, i)
        if not is_dict(item):
            f.error(
                where,
                "label.properties-item-type",
                f"a property entry MUST be a JSON object, found {type_name(item)}",
            )
            continue
        _check_label_value(item, f, where)
