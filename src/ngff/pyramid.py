"""Downsampling for multiscale pyramids, evaluated only where the output samples.

Each method reduces an integer factor per axis.  ``gaussian`` uses a separable tent
(linear) kernel of width ``2 * factor`` centred on each output pixel - for factor 2 the
4-tap binomial ``[1, 3, 3, 1] / 8`` - computed with strided slices at the output
positions only, never as a full-resolution convolution.  It needs ``factor - 1`` input
pixels of context (halo) on each side; the other methods need none.

``mode`` (for labels) picks the most frequent value of each block, so it never invents
a label; ties go to the first value of the block in C order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["METHODS", "halo", "reduce_block", "default_method"]

METHODS = ("gaussian", "mean", "nearest", "mode", "min", "max")


def default_method(is_label: bool) -> str:
    """``mode`` for label images (never invents labels), ``gaussian`` otherwise."""
    return "mode" if is_label else "gaussian"


def halo(method: str, factor: int) -> int:
    """Input pixels of context needed on each side of a block for one reduction."""
    return factor - 1 if method == "gaussian" and factor > 1 else 0


def _taps(method: str, factor: int) -> list[tuple[int, float]]:
    """(offset from ``factor * i``, weight) pairs of a separable method."""
    if factor == 1:
        return [(0, 1.0)]
    if method == "nearest":
        return [(0, 1.0)]
    if method == "mean" or method in ("min", "max"):
        return [(j, 1.0 / factor) for j in range(factor)]
    if method == "gaussian":
        centre = factor / 2
        taps = [(j, max(0.0, 1.0 - abs(j + 0.5 - centre) / factor)) for j in range(1 - factor, 2 * factor - 1)]
        total = sum(w for _, w in taps)
        return [(j, w / total) for j, w in taps if w > 0]
    raise ValueError(method)


def _accumulator(dtype: np.dtype) -> np.dtype:
    if dtype.kind == "f" and dtype.itemsize >= 8:
        return np.dtype(np.float64)
    if dtype.kind in "iu" and dtype.itemsize >= 4:
        return np.dtype(np.float64)  # float32 cannot hold every 32-bit integer exactly
    return np.dtype(np.float32)


def _reduce_axis(
    block: np.ndarray, axis: int, factor: int, method: str, in_start: int, out_start: int, out_stop: int
) -> np.ndarray:
    """Reduce one axis; ``block[0]`` is input index ``in_start``, outputs ``out_start:out_stop``."""
    count = out_stop - out_start
    taps = _taps(method, factor)

    def take(offset: int) -> np.ndarray:
        first = factor * out_start + offset - in_start
        index = [slice(None)] * block.ndim
        index[axis] = slice(first, first + factor * (count - 1) + 1, factor)
        return block[tuple(index)]

    if method in ("min", "max") and factor > 1:
        combine = np.minimum if method == "min" else np.maximum
        out = take(taps[0][0]).copy()
        for offset, _ in taps[1:]:
            combine(out, take(offset), out=out)
        return out
    if len(taps) == 1:
        return take(taps[0][0])
    acc_type = _accumulator(block.dtype)
    out = take(taps[0][0]).astype(acc_type) * acc_type.type(taps[0][1])
    for offset, weight in taps[1:]:
        out += take(offset).astype(acc_type, copy=False) * acc_type.type(weight)
    return out


def _mode(block: np.ndarray, factors: Sequence[int], in_start: Sequence[int], out_range) -> np.ndarray:
    """Most frequent value of each ``factors`` block (first value wins ties)."""
    views = []
    for offsets in np.ndindex(*factors):
        index = []
        for d, (f, o) in enumerate(zip(factors, offsets)):
            first = f * out_range[d][0] + o - in_start[d]
            count = out_range[d][1] - out_range[d][0]
            index.append(slice(first, first + f * (count - 1) + 1, f))
        views.append(block[tuple(index)])
    best = views[0].copy()
    best_count = np.zeros(best.shape, dtype=np.uint16)
    for candidate in views:
        count = np.zeros(best.shape, dtype=np.uint16)
        for other in views:
            count += candidate == other
        better = count > best_count
        best[better] = candidate[better]
        best_count[better] = count[better]
    return best


def _to_dtype(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if values.dtype == dtype:
        return values
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        values = np.rint(values, out=values if values.dtype.kind == "f" else None)
        return np.clip(values, info.min, info.max).astype(dtype)
    if dtype.kind == "b":
        return values >= 0.5
    return values.astype(dtype)


def reduce_block(
    block: np.ndarray,
    factors: Sequence[int],
    method: str,
    in_start: Sequence[int],
    out_range: Sequence[tuple[int, int]],
) -> np.ndarray:
    """Downsample a block to the requested output index range.

    Parameters
    ----------
    block
        Input pixels; ``block[0, 0, ...]`` is at input index ``in_start``.  The block
        must cover every input pixel the outputs need, halo included.
    factors
        Integer reduction factor per axis.
    method
        One of :data:`METHODS`.
    in_start
        Input index of the block's first pixel, per axis.
    out_range
        ``(start, stop)`` output indices to compute, per axis.

    Returns
    -------
    numpy.ndarray
        The reduced block, in the input's dtype (integers rounded and clipped).
    """
    if method not in METHODS:
        raise ValueError(f"unknown downsampling method {method!r}")
    if method == "mode":
        if all(f == 1 for f in factors):
            index = tuple(slice(lo - s, hi - s) for (lo, hi), s in zip(out_range, in_start))
            return block[index]
        return _mode(block, factors, in_start, out_range)
    out = block
    for axis, factor in enumerate(factors):
        start = in_start[axis]
        lo, hi = out_range[axis]
        out = _reduce_axis(out, axis, factor, method, start, lo, hi)
    return _to_dtype(np.ascontiguousarray(out), block.dtype)
