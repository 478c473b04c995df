"""Reuse the pyramid a file already holds (pyramidal / sub-IFD OME-TIFF).

When every stored level is an integer downsampling of level 0 - level shape
``floor(shape0 / factor)`` or ``ceil(shape0 / factor)`` with factors on the space axes
only, growing from level to level - the levels are copied region by region instead of
being computed again (a ceil-rounded level loses its partial edge pixel, so that every
level has the writer's ``floor`` shape).  Otherwise :func:`stored_pyramid` returns None
and the writer builds the pyramid.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..model import TYPE_BY_NAME
from .source import FileArray, SourceImage

__all__ = ["StoredPyramid", "stored_pyramid"]


class StoredPyramid:
    """Level 0 of a file (array-like) that also carries the file's lower levels.

    :func:`ngff.write` copies the levels through :meth:`copy_levels` (instead of its
    downsampling passes) when handed one of these.
    """

    def __init__(self, levels: list[FileArray], factors: list[dict[str, int]]):
        self.levels = levels
        self.scale_factors = factors
        base = levels[0]
        self.shape, self.dtype, self.ndim = base.shape, base.dtype, base.ndim

    def __getitem__(self, index: Any) -> np.ndarray:
        return self.levels[0][index]

    def copy_levels(self, plans: list[Any], dtype: np.dtype, progress: Callable[[int, int], None] | None) -> None:
        """Write each stored level into its planned array, one shard-aligned region per task."""
        from ..regions import DEFAULT_REGION_BYTES, LevelPlan, PassPlan, _grow, run_passes

        jobs = []
        for plan, source in zip(plans, self.levels):
            unit = plan.shards or plan.chunks
            growable = [True] * len(unit)
            region = tuple(_grow(unit, plan.shape, growable, dtype.itemsize, DEFAULT_REGION_BYTES))
            one = LevelPlan(
                shape=plan.shape, factors=(1,) * len(plan.shape), chunks=plan.chunks, shards=plan.shards, array=plan.array
            )
            job = PassPlan(
                source_level=None, levels=[0], region=region, source_shape=plan.shape, source_factors=(1,) * len(plan.shape)
            )
            jobs.append((job, one, source))
        total = sum(len(job.regions()) for job, _, _ in jobs)
        done = 0
        for job, one, source in jobs:
            offset = done

            def step(k: int, _n: int, offset: int = offset) -> None:
                if progress is not None:
                    progress(offset + k, total)

            run_passes([job], [one], source, dtype, "nearest", step)
            done += len(job.regions())


def stored_pyramid(source: SourceImage) -> StoredPyramid | None:
    """The file's pyramid when the writer can use its levels as they are, else None."""
    if not source.levels:
        return None
    base = source.data.shape
    space = [TYPE_BY_NAME.get(d) == "space" for d in source.dims]
    factors: list[dict[str, int]] = []
    previous = [1] * len(base)
    for level in source.levels:
        if level.dtype != source.data.dtype or len(level.shape) != len(base):
            return None
        row = []
        for n0, n, is_space in zip(base, level.shape, space):
            if not is_space:
                if n != n0:
                    return None
                row.append(1)
                continue
            f = max(1, round(n0 / n)) if n else 0
            if f == 0 or n not in (n0 // f, -(-n0 // f)):
                return None  # a ceil-rounded level is copied without its extra edge pixel
            row.append(f)
        if any(f < p or f % p for f, p in zip(row, previous)) or row == previous:
            return None
        previous = row
        factors.append({d: f for d, f, s in zip(source.dims, row, space) if s})
    if math.prod(source.levels[-1].shape) == 0:
        return None
    return StoredPyramid([source.data, *source.levels], factors)
