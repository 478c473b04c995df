"""Downsampling for multiscale pyramids, evaluated only where the output samples.

Each method reduces an integer factor per axis.  ``gaussian`` uses a separable tent
(linear) kernel of width ``2 * factor`` centred on each output pixel - for factor 2 the
4-tap binomial ``[1, 3, 3, 1] / 8`` - computed with strided slices at the output
positions only, never as a full-resolution convolution.  It needs ``factor - 1`` input
pixels of context (halo) on each side; the other methods need none.  Beyond the image
border the input is mirrored, so results do not depend on how an image is cut into
blocks.  Integer images of up to 16 bits accumulate in exact integer arithmetic.

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


def _taps(method: str, factor: int) -> list[tuple[int, int]]:
    """(offset from ``factor * i``, integer weight) pairs of a separable method."""
    if factor == 1 or method == "nearest":
        return [(0, 1)]
    if method in ("mean", "min", "max"):
        return [(j, 1) for j in range(factor)]
    if method == "gaussian":
        # Tent of width 2*factor centred on the output pixel, scaled to integers:
        # factor 2 gives the binomial 1-3-3-1.
        taps = [(j, 2 * factor - abs(2 * j + 1 - factor)) for j in range(1 - factor, 2 * factor - 1)]
        return [(j, w) for j, w in taps if w > 0]
    raise ValueError(method)


def _mirror(index: np.ndarray, size: int) -> np.ndarray:
    """Reflect indices about the image border (no edge repeat); 0 for 1-pixel axes."""
    if size == 1:
        return np.zeros_like(index)
    period = 2 * (size - 1)
    index = np.abs(index) % period
    return np.where(index >= size, period - index, index)


def _span(first: int, step: int, count: int, in_size: int) -> tuple[int, int]:
    """Outputs ``[lo, hi)`` whose sample ``first + step * i`` lies inside the image."""
    lo = min(count, max(0, -(-(-first) // step))) if first < 0 else 0
    hi = max(lo, min(count, -(-(in_size - first) // step)))
    return lo, hi


def _sample(block: np.ndarray, axis: int, first: int, step: int, count: int, in_start: int, in_size: int):
    """Input samples ``first + step * i`` (image indices), ``i < count``, along ``axis``.

    Returns ``(lo, hi, view, edges)``: a strided view for the outputs ``lo:hi`` that
    sample inside the image, and ``(i, values)`` pairs for the few outputs whose sample
    falls beyond the border, mirrored back into the image.
    """
    lo, hi = _span(first, step, count, in_size)
    index = [slice(None)] * block.ndim
    view = None
    if hi > lo:
        a = first + step * lo - in_start
        b = first + step * (hi - 1) - in_start
        if a < 0 or b >= block.shape[axis]:
            raise ValueError("the block does not cover the filter's support")
        index[axis] = slice(a, b + 1, step)
        view = block[tuple(index)]
    edges = []
    for i in [*range(0, lo), *range(hi, count)]:
        source = int(_mirror(np.array([first + step * i]), in_size)[0]) - in_start
        if not 0 <= source < block.shape[axis]:
            raise ValueError("the block does not cover the filter's support")
        index[axis] = slice(source, source + 1)
        edges.append((i, block[tuple(index)]))
    return lo, hi, view, edges


def _accumulator(dtype: np.dtype, total_weight: int) -> np.dtype:
    """Exact integer accumulation when sums cannot overflow; float otherwise."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        bound = max(abs(int(info.min)), int(info.max)) * total_weight
        if bound < 2**31:
            return np.dtype(np.int32)
        if bound < 2**63 and dtype.itemsize <= 4:
            return np.dtype(np.int64)
    return np.dtype(np.float64) if dtype.itemsize >= 4 else np.dtype(np.float32)


def _reduce_axis(
    values: np.ndarray,
    axis: int,
    factor: int,
    method: str,
    in_start: int,
    in_size: int,
    out_range: tuple[int, int],
    accumulator: np.dtype,
) -> tuple[np.ndarray, int]:
    """Reduce one axis; returns the unnormalised result and its weight sum."""
    out_start, out_stop = out_range
    count = out_stop - out_start
    taps = _taps(method, factor)

    def region(i0: int, i1: int) -> tuple[slice, ...]:
        index = [slice(None)] * values.ndim
        index[axis] = slice(i0, i1)
        return tuple(index)

    def sample(offset: int):
        return _sample(values, axis, factor * out_start + offset, factor, count, in_start, in_size)

    if len(taps) == 1:
        lo, hi, view, edges = sample(taps[0][0])
        if not edges:
            return view, 1
        parts = [e for i, e in edges if i < lo] + ([view] if view is not None else []) + [e for i, e in edges if i >= hi]
        return np.concatenate(parts, axis=axis), 1
    shape = list(values.shape)
    shape[axis] = count
    is_extreme = method in ("min", "max")
    out = np.empty(shape, dtype=values.dtype if is_extreme else accumulator)
    combine = np.minimum if method == "min" else np.maximum
    scratch = None
    for n, (offset, weight) in enumerate(taps):
        lo, hi, view, edges = sample(offset)
        pieces = [(lo, hi, view)] if view is not None else []
        pieces += [(i, i + 1, e) for i, e in edges]
        for i0, i1, part in pieces:
            target = out[region(i0, i1)]
            if n == 0:
                if weight != 1 and not is_extreme:
                    np.multiply(part, weight, out=target, casting="unsafe")
                else:
                    np.copyto(target, part, casting="unsafe")
            elif is_extreme:
                combine(target, part, out=target)
            elif weight == 1:
                np.add(target, part, out=target, casting="unsafe")
            else:
                if scratch is None or scratch.shape != target.shape:
                    scratch = np.empty_like(target)
                np.multiply(part, weight, out=scratch, casting="unsafe")
                target += scratch
    return out, 1 if is_extreme else sum(w for _, w in taps)


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


def _finish(values: np.ndarray, divisor: int, dtype: np.dtype) -> np.ndarray:
    """Divide out the weights and return to the image dtype (integers rounded, clipped)."""
    if values.dtype.kind in "iu" and dtype.kind in "iu":
        if divisor != 1:
            values = (values + divisor // 2) // divisor  # round half up, exactly
        if values.dtype != dtype:
            info = np.iinfo(dtype)
            values = np.clip(values, info.min, info.max).astype(dtype)
        return values
    if divisor != 1:
        values = values / values.dtype.type(divisor)
    if values.dtype == dtype:
        return values
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    if dtype.kind == "b":
        return values >= 0.5
    return values.astype(dtype)


def reduce_block(
    block: np.ndarray,
    factors: Sequence[int],
    method: str,
    in_start: Sequence[int],
    out_range: Sequence[tuple[int, int]],
    in_size: Sequence[int] | None = None,
) -> np.ndarray:
    """Downsample a block to the requested output index range.

    Parameters
    ----------
    block
        Input pixels; ``block[0, 0, ...]`` is at input index ``in_start``.  It must hold
        every pixel inside the image that the outputs need (the halo).
    factors
        Integer reduction factor per axis.
    method
        One of :data:`METHODS`.
    in_start
        Input index of the block's first pixel, per axis.
    out_range
        ``(start, stop)`` output indices to compute, per axis.
    in_size
        Size of the whole input image per axis; filter taps beyond it are mirrored
        back into the image.  Default: the block's end.

    Returns
    -------
    numpy.ndarray
        The reduced block, in the input's dtype (integers rounded and clipped).
    """
    if method not in METHODS:
        raise ValueError(f"unknown downsampling method {method!r}")
    if in_size is None:
        in_size = [s + n for s, n in zip(in_start, block.shape)]
    if method == "mode":
        if all(f == 1 for f in factors):
            index = tuple(slice(lo - s, hi - s) for (lo, hi), s in zip(out_range, in_start))
            return block[index]
        return _mode(block, factors, in_start, out_range)
    total = 1
    for f in factors:
        total *= sum(w for _, w in _taps(method, f))
    accumulator = _accumulator(block.dtype, total)
    # Work in slabs along the first axis: the wide intermediate sums then stay a few
    # MiB (cache-friendly, and peak memory is the block plus its output, not 3x).
    lo, hi = out_range[0]
    row_bytes = max(1, block.nbytes // max(1, block.shape[0])) * accumulator.itemsize // block.itemsize
    rows = max(1, _SLAB_BYTES // (row_bytes * factors[0]))
    if hi - lo <= rows:
        return _reduce_separable(block, factors, method, in_start, out_range, in_size, accumulator)
    shape = [b - a for a, b in out_range]
    out = np.empty(shape, dtype=block.dtype)
    for start in range(lo, hi, rows):
        stop = min(hi, start + rows)
        part = [(start, stop), *out_range[1:]]
        out[start - lo : stop - lo] = _reduce_separable(block, factors, method, in_start, part, in_size, accumulator)
    return out


#: Target size of the intermediate sums of one slab of a reduction.
_SLAB_BYTES = 4 * 2**20


def _reduce_separable(
    block: np.ndarray,
    factors: Sequence[int],
    method: str,
    in_start: Sequence[int],
    out_range: Sequence[tuple[int, int]],
    in_size: Sequence[int],
    accumulator: np.dtype,
) -> np.ndarray:
    out, divisor = block, 1
    for axis, factor in enumerate(factors):
        out, weight = _reduce_axis(
            out, axis, factor, method, in_start[axis], in_size[axis], out_range[axis], accumulator
        )
        divisor *= weight
    return _finish(out, divisor, block.dtype)
