"""JSON value predicates shared by the rule modules.

JSON has no separate integer type and Python's ``bool`` is an ``int``; these helpers
answer the questions the spec asks ("an integer", "a number", "a string") the way
JSON Schema does: ``true`` is not a number, ``1.0`` is an integer.
"""

from __future__ import annotations

import math
import reprlib
from typing import Any, TypeGuard

__all__ = ["is_dict", "is_int", "is_list", "is_number", "is_str", "short", "type_name"]


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring, _REPR.maxother = 3, 6, 4, 50, 50


def is_int(value: Any) -> bool:
    """True for JSON integers (``1`` and ``1.0``; not ``true``)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value) and value.is_integer()


def is_number(value: Any) -> bool:
    """True for JSON numbers (not booleans)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_str(value: Any) -> TypeGuard[str]:
    """True for JSON strings."""
    return isinstance(value, str)


def is_list(value: Any) -> TypeGuard[list[Any]]:
    """True for JSON arrays."""
    return isinstance(value, list)


def is_dict(value: Any) -> TypeGuard[dict[str, Any]]:
    """True for JSON objects."""
    return isinstance(value, dict)


def type_name(value: Any) -> str:
    """The JSON type name of a value, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def short(value: Any, limit: int = 60) -> str:
    """A short printable form of a value, for messages (bounded work for huge values)."""
    text = _REPR.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
