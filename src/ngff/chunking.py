"""Chunk shapes, shard shapes and pyramid scale factors.

Default chunk rule: 1 along time, channel and custom axes; along space axes 128 for
3-D images and 512 for 2-D images (256 KiB-4 MiB chunks for 8- and 16-bit data: large
enough for fast codecs, small enough for interactive viewing), clamped to the shape.

The ``"planes"`` layout (``chunks="planes"``, the default of ``.ozx`` archives) is made
for viewing planes, over a network above all: chunks 256 wide in y and x (512 for 2-D
images) and at most 16 planes deep, shards one chunk deep that cover a whole plane when
that fits the write region's budget.  One plane then lies in one shard per level, so a
remote reader needs one index read and one or two ranged reads for it.  Every level's
chunks are as many level-0 planes deep (a level halved in z has chunks half as deep), so
the region writer's first pass writes level 0 and the levels just below it from the same
slabs; the deepest levels, whose filters would need wide borders around a thin slab, come
from a later pass over a written level (see :func:`ngff.regions.plan_passes`).

Default scale factors: each level halves the space axes whose physical spacing is
not already much coarser than the finest one (so anisotropic z is kept until x and y
catch up), until the level fits in one chunk.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import NgffError

__all__ = [
    "PLANES",
    "default_scale_factors",
    "plane_chunks",
    "plane_level_chunks",
    "plane_shards",
    "resolve_chunks",
    "resolve_per_dim",
    "resolve_scale_factors",
    "split_plane_axes",
]

_SPACE_CHUNK = {1: 1024, 2: 512, 3: 128}

#: name of the plane-viewing layout (``chunks="planes"``)
PLANES = "planes"
_PLANE_SIDE = {2: 512, 3: 256}
_PLANE_DEPTH = 16


def resolve_per_dim(
    value: Any, dims: Sequence[str], what: str, default: Sequence[float] | None = None
) -> list[Any]:
    """One value per dim from a scalar, a sequence or a ``{dim: value}`` mapping."""
    if value is None:
        if default is None:
            raise NgffError(f"{what} is required")
        return list(default)
    if isinstance(value, Mapping):
        unknown = set(value) - set(dims)
        if unknown:
            raise NgffError(f"{what} names unknown axes {sorted(unknown)}; axes are {list(dims)}", rule=what)
        base = list(default) if default is not None else [None] * len(dims)
        return [value.get(d, base[i]) for i, d in enumerate(dims)]
    if isinstance(value, (str, bytes)):
        raise NgffError(f"{what} must be a number, a sequence or a mapping, got {value!r}", rule=what)
    if isinstance(value, Sequence) or hasattr(value, "__len__"):
        values = list(value)
        if len(values) != len(dims):
            raise NgffError(f"{what} has {len(values)} values for {len(dims)} axes {list(dims)}", rule=what)
        return values
    return [value] * len(dims)


def _default_chunk(shape: Sequence[int], types: Sequence[str | None]) -> list[int]:
    n_space = sum(t == "space" for t in types) or 1
    side = _SPACE_CHUNK.get(n_space, 64)
    return [min(side, n) if t == "space" else 1 for n, t in zip(shape, types)]


def resolve_chunks(
    chunks: Any, shape: Sequence[int], dims: Sequence[str], types: Sequence[str | None]
) -> tuple[int, ...]:
    """Chunk shape for an array: the default rule, an int, a sequence or a mapping.

    An int applies to the space axes (others keep 1); mapping entries override the
    default for the axes they name.  Every size is clamped to ``1..shape``.
    """
    default = _default_chunk(shape, types)
    if chunks is None:
        values = default
    elif isinstance(chunks, int) and not isinstance(chunks, bool):
        values = [chunks if t == "space" else d for t, d in zip(types, default)]
    else:
        values = resolve_per_dim(chunks, dims, "chunks", default)
    out = []
    for d, v, n in zip(dims, values, shape):
        if not isinstance(v, (int,)) or isinstance(v, bool) or v < 1:
            raise NgffError(f"chunk size of axis {d!r} must be a positive integer, got {v!r}", rule="chunks")
        out.append(max(1, min(int(v), max(n, 1))))
    return tuple(out)


def default_scale_factors(
    shape: Sequence[int], types: Sequence[str | None], spacing: Sequence[float], chunks: Sequence[int]
) -> list[tuple[int, ...]]:
    """Absolute per-axis factors of the levels below level 0 (see module docs)."""
    factors = [1] * len(shape)
    levels: list[tuple[int, ...]] = []
    space = [i for i, t in enumerate(types) if t == "space"]
    while True:
        current = [shape[i] // factors[i] for i in range(len(shape))]
        if all(current[i] <= chunks[i] for i in space):
            break
        physical = {i: spacing[i] * factors[i] for i in space if current[i] >= 2}
        if not physical:
            break
        finest = min(physical.values())
        step = [2 if i in physical and physical[i] <= 1.5 * finest else 1 for i in range(len(shape))]
        factors = [f * s for f, s in zip(factors, step)]
        levels.append(tuple(factors))
        if len(levels) >= 30:
            break
    return levels


def resolve_scale_factors(
    scale_factors: Any, dims: Sequence[str], types: Sequence[str | None], shape: Sequence[int]
) -> list[tuple[int, ...]]:
    """Absolute factors per level from explicit ints or ``{dim: factor}`` mappings.

    An int applies to every space axis.  Each level's factors must be multiples of
    the previous level's, and every level must keep at least one pixel per axis.
    """
    levels: list[tuple[int, ...]] = []
    previous = (1,) * len(dims)
    for i, item in enumerate(scale_factors):
        if isinstance(item, int) and not isinstance(item, bool):
            factors = tuple(item if t == "space" else 1 for t in types)
        else:
            values = resolve_per_dim(item, dims, f"scale_factors[{i}]", [1] * len(dims))
            factors = tuple(int(v) for v in values)
        if any(f < 1 for f in factors):
            raise NgffError(f"scale_factors[{i}] must be positive integers, got {factors}", rule="scale_factors")
        if any(f % p for f, p in zip(factors, previous)):
            raise NgffError(
                f"scale_factors[{i}] {factors} is not a multiple of the previous level's {previous} "
                "(factors are absolute, relative to level 0)",
                rule="scale_factors",
            )
        if any(n // f < 1 for n, f in zip(shape, factors)):
            raise NgffError(f"scale_factors[{i}] {factors} leaves no pixel of shape {tuple(shape)}", rule="scale_factors")
        levels.append(factors)
        previous = factors
    return levels


def split_plane_axes(types: Sequence[str | None]) -> tuple[list[int], list[int]]:
    """(depth axes, plane axes): the last two space axes form the plane (y, x)."""
    space = [i for i, t in enumerate(types) if t == "space"]
    return space[:-2], space[-2:]


def plane_chunks(shape: Sequence[int], types: Sequence[str | None], itemsize: int, budget: int) -> tuple[int, ...]:
    """Level-0 chunks of the ``"planes"`` layout (see module docs).

    The depth (z) is the largest power of two up to 16 for which that many whole planes
    fit ``budget`` bytes, so that a shard one chunk deep can cover the plane.
    """
    depth_axes, plane_axes = split_plane_axes(types)
    side = _PLANE_SIDE.get(len(depth_axes) + len(plane_axes), 256)
    out = [1] * len(shape)
    for i in plane_axes:
        out[i] = max(1, min(side, shape[i]))
    plane_bytes = itemsize * math.prod(shape[i] for i in plane_axes)
    depth = _PLANE_DEPTH
    while depth > 1 and depth * plane_bytes > budget:
        depth //= 2
    for i in depth_axes:
        out[i] = max(1, min(depth, shape[i]))
    return tuple(out)


def plane_level_chunks(
    chunks0: Sequence[int], shapes: Sequence[Sequence[int]], factors: Sequence[Sequence[int]], types: Sequence[str | None]
) -> list[tuple[int, ...]]:
    """Per-level chunks of the ``"planes"`` layout: each level's chunks span the same
    level-0 planes as level 0's (z depth divided by the level's z factor), and keep
    level 0's width in y and x; clamped to every level's shape."""
    depth_axes, plane_axes = split_plane_axes(types)
    levels = []
    for shape, f in zip(shapes, factors):
        chunk = []
        for i, (c, n) in enumerate(zip(chunks0, shape)):
            if i in depth_axes:
                c = max(1, c // f[i])
            chunk.append(max(1, min(c, max(n, 1))))
        levels.append(tuple(chunk))
    return levels


def plane_shards(
    chunks0: Sequence[int], shape: Sequence[int], types: Sequence[str | None], itemsize: int, budget: int
) -> tuple[int, ...]:
    """Level-0 shard shape (in pixels) of the ``"planes"`` layout.

    One chunk along every axis but the plane's; along y and x as many chunks as cover
    the plane, halved (the wider first) until the shard fits ``budget`` bytes.
    """
    _, plane_axes = split_plane_axes(types)
    counts = [1] * len(shape)
    for i in plane_axes:
        counts[i] = -(-shape[i] // chunks0[i])

    def nbytes() -> int:
        return itemsize * math.prod(c * k for c, k in zip(chunks0, counts))

    while nbytes() > budget and any(counts[i] > 1 for i in plane_axes):
        widest = max((i for i in plane_axes if counts[i] > 1), key=lambda i: counts[i] * chunks0[i])
        counts[widest] = -(-counts[widest] // 2)
    return tuple(c * k for c, k in zip(chunks0, counts))
