"""Statistics (and, when small, the values) of a region of one pyramid level."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import NgffError
from ..model import Image
from .render import level_index

__all__ = ["MAX_REGION_ELEMENTS", "MAX_VALUES", "parse_slice", "region_statistics"]

#: Largest region read at once (elements): 16 Mi, 64 MiB of float32.
MAX_REGION_ELEMENTS = 2**24
#: Largest number of values a caller may ask to receive.
MAX_VALUES = 4096


def parse_slice(text: int | str | list[Any], size: int, axis: str, where: str) -> slice | int:
    """``5``, ``"5"``, ``"0:64"``, ``"::2"``, ``":"`` or ``[0, 64]`` as an index on an axis of ``size``."""
    if isinstance(text, bool):
        raise NgffError(
            f"axis {axis!r}: expected an index or 'start:stop', got {text!r}", location=where
        )
    if isinstance(text, list):
        if not 1 <= len(text) <= 3:
            raise NgffError(
                f"axis {axis!r}: expected [start, stop] or [start, stop, step], got {text}",
                location=where,
            )
        text = ":".join("" if v is None else str(v) for v in text) + (":" if len(text) == 1 else "")
    if isinstance(text, int):
        parts: list[str] = [str(text)]
    else:
        parts = [p.strip() for p in str(text).split(":")]
    try:
        numbers = [int(p) if p else None for p in parts]
    except ValueError:
        raise NgffError(
            f"axis {axis!r}: expected an index or 'start:stop[:step]', got {text!r}", location=where
        ) from None
    if len(numbers) == 1:
        value = numbers[0]
        if value is None or not -size <= value < size:
            raise NgffError(
                f"axis {axis!r}: index {text!r} is out of range for size {size}", location=where
            )
        return value % size
    if len(numbers) > 3:
        raise NgffError(f"axis {axis!r}: too many ':' in {text!r}", location=where)
    start, stop, *rest = numbers
    step = rest[0] if rest else None
    if step is not None and step < 1:
        raise NgffError(f"axis {axis!r}: the step must be positive, got {step}", location=where)
    chosen = slice(start, stop, step)
    if len(range(*chosen.indices(size))) == 0:
        raise NgffError(f"axis {axis!r}: {text!r} selects nothing of size {size}", location=where)
    return chosen


def region_statistics(
    image: Image,
    *,
    level: int = 0,
    slices: Mapping[str, Any] | None = None,
    max_values: int = 256,
    bins: int = 16,
) -> dict[str, Any]:
    """Read a region and describe it.

    Parameters
    ----------
    image
        The image.
    level
        Pyramid level (0 is full resolution; negative counts from the coarsest).
    slices
        Per axis name, an index or ``"start:stop[:step]"``; axes left out are read whole.
    max_values
        Return the values themselves when the region has at most this many elements.
    bins
        Number of histogram bins between the minimum and the maximum.

    Returns
    -------
    dict
        ``level``, ``dims`` (the axes kept), ``shape``, ``dtype``, ``selection``,
        ``min``, ``max``, ``mean``, ``std``, ``nan_count``, ``histogram`` (``counts`` and
        ``edges``) and ``values`` (nested lists, or None when the region is larger).

    Raises
    ------
    NgffError
        For an unknown axis, a bad or empty selection, or a region above
        :data:`MAX_REGION_ELEMENTS` elements.
    """
    import math

    import numpy as np

    chosen = level_index(image, level)
    array = image.levels[chosen]
    where = f"{image.location.rstrip('/')}/{image.path}".rstrip("/") + f" level {chosen}"
    slices = dict(slices or {})
    unknown = set(slices) - set(image.dims)
    if unknown:
        raise NgffError(
            f"unknown axes {sorted(unknown)}; the axes are {list(image.dims)}", location=where
        )
    if not 0 <= max_values <= MAX_VALUES:
        raise NgffError(f"max_values must be between 0 and {MAX_VALUES}, got {max_values}")
    if not 1 <= bins <= 256:
        raise NgffError(f"bins must be between 1 and 256, got {bins}")
    index = []
    selection = {}
    for name, size in zip(image.dims, array.shape):
        pick = parse_slice(slices[name], size, name, where) if name in slices else slice(None)
        index.append(pick)
        selection[name] = (
            pick
            if isinstance(pick, int)
            else ":".join(
                "" if v is None else str(v) for v in (pick.start, pick.stop, pick.step)
            ).rstrip(":")
            or ":"
        )
    region = array[tuple(index)]
    elements = math.prod(region.shape)
    if elements > MAX_REGION_ELEMENTS:
        raise NgffError(
            f"the region has {elements:,} elements, more than the {MAX_REGION_ELEMENTS:,} read at once; "
            "select fewer pixels or use a coarser level",
            location=where,
        )
    values = np.asarray(region.compute())
    data = values.astype(np.float64) if values.dtype.kind in "biuf" else None
    if data is None:
        raise NgffError(f"statistics of {values.dtype} data are not supported", location=where)
    finite = data[np.isfinite(data)]
    stats: dict[str, Any] = {"min": None, "max": None, "mean": None, "std": None}
    histogram: dict[str, Any] = {"counts": [], "edges": []}
    if finite.size:
        low, high = float(finite.min()), float(finite.max())
        stats = {"min": low, "max": high, "mean": float(finite.mean()), "std": float(finite.std())}
        counts, edges = np.histogram(
            finite, bins=bins, range=(low, high) if high > low else (low, low + 1)
        )
        histogram = {"counts": counts.tolist(), "edges": edges.tolist()}
    return {
        "level": chosen,
        "dims": [name for name, pick in zip(image.dims, index) if not isinstance(pick, int)],
        "shape": [int(n) for n in values.shape],
        "dtype": str(values.dtype),
        "selection": selection,
        **stats,
        "nan_count": int(data.size - finite.size),
        "histogram": histogram,
        "values": _json_values(values) if values.size <= max_values else None,
    }


def _json_values(values: Any) -> Any:
    import numpy as np

    if values.dtype.kind == "f":
        # JSON has no NaN or infinity.
        return np.where(np.isfinite(values), values, None).tolist()
    return values.tolist()
