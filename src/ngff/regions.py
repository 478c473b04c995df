"""The pyramid engine: one pass over the input, one dask task per region.

A *pass* reads a source (the input data, or an already written level) region by
region.  Each task reads its region once (plus the few pixels of context the filter
needs), computes in memory every level the region can produce, and writes those
levels' finished shards (or chunks).  A level can be produced by a region when the
region maps onto whole write units of that level; levels too coarse for that are made
by a further pass whose source is the last level written - a fraction of the data.

Regions are sized to a memory budget, so peak memory is about ``workers x region``
whatever the image size.  Because every level is rounded to its dtype before the next
is computed, and image borders are padded at every level, the result does not depend
on how the image was cut into regions.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .pyramid import halo, reduce_block
from .shardwrite import shard_writer, write_block

__all__ = ["LevelPlan", "PassPlan", "plan_passes", "run_passes", "DEFAULT_REGION_BYTES"]

#: Uncompressed bytes of one region (per task); two tasks run at once on two cores.
#: 32 MiB keeps peak memory low while still producing two levels per pass for 128³ chunks.
DEFAULT_REGION_BYTES = 32 * 2**20
#: Most a region may read beyond itself (context for the filters of the levels below),
#: as a multiple of its size along an axis, before a pass leaves the remaining levels to
#: another pass (see :func:`plan_passes`).
MAX_CONTEXT = 1.5


@dataclass
class LevelPlan:
    """One pyramid level: shape, absolute factors, chunking, and its array once created."""

    shape: tuple[int, ...]
    factors: tuple[int, ...]
    chunks: tuple[int, ...]
    shards: tuple[int, ...] | None = None
    array: Any = None
    writer: Any = None  # a shardwrite.ShardWriter when whole shards can be streamed to disk


@dataclass
class PassPlan:
    """Levels written from one source, region by region."""

    source_level: int | None  # None: the input data
    levels: list[int]
    region: tuple[int, ...]
    source_shape: tuple[int, ...] = ()
    source_factors: tuple[int, ...] = ()

    def regions(self) -> list[tuple[int, ...]]:
        """Start index of every region, in C order."""
        ranges = [range(0, n, r) for n, r in zip(self.source_shape, self.region)]
        return list(itertools.product(*ranges))


@dataclass
class _Progress:
    total: int
    callback: Callable[[int, int], None] | None
    done: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    cancelled: threading.Event = field(default_factory=threading.Event)
    running: int = 0
    idle: threading.Condition = field(default_factory=threading.Condition)

    def settle(self) -> None:
        """Stop tasks that have not started and wait for the running ones to finish."""
        self.cancelled.set()
        with self.idle:
            self.idle.wait_for(lambda: self.running == 0)

    def step(self) -> None:
        if self.callback is None:
            return
        with self.lock:
            self.done += 1
            done = self.done
        self.callback(done, self.total)


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def _grow(
    unit: Sequence[int],
    limit: Sequence[int],
    growable: Sequence[bool],
    itemsize: int,
    budget: int,
    first: Sequence[int] = (),
) -> list[int]:
    """Double a region along growable axes (``first`` ones, then the smallest) while it
    fits the budget."""
    region = [min(u, n) if n else u for u, n in zip(unit, limit)]
    while True:
        candidates = [d for d in range(len(region)) if growable[d] and region[d] < limit[d]]
        candidates.sort(key=lambda d: (d not in first, region[d]))
        for d in candidates:
            trial = list(region)
            trial[d] = min(region[d] * 2, limit[d]) if region[d] * 2 < limit[d] else limit[d]
            if trial[d] < limit[d] and trial[d] % unit[d]:
                continue
            if math.prod(trial) * itemsize <= budget:
                region = trial
                break
        else:
            return region


def plan_passes(
    levels: list[LevelPlan],
    *,
    itemsize: int,
    sharded: bool,
    shard0: tuple[int, ...] | None,
    growable: Sequence[bool],
    budget: int | None = None,
    grow_first: Sequence[int] = (),
    method: str | None = None,
) -> list[PassPlan]:
    """Split the pyramid into passes and fix every level's shard shape.

    Parameters
    ----------
    levels
        Level 0 first; ``shards`` are filled in for sharded arrays.
    itemsize
        Bytes per pixel (for the region budget).
    sharded
        Whether the arrays are sharded (Zarr v3).
    shard0
        Shard shape requested for level 0, or None for automatic.
    growable
        Axes along which a region may extend beyond one unit (the space axes).
    budget
        Uncompressed bytes of one region (default :data:`DEFAULT_REGION_BYTES`).
    grow_first
        Axes a region grows along before the others (the plane's, for the ``"planes"``
        layout, so that lower levels' shards cover whole planes too).
    method
        Downsampling method: when given, a pass stops taking levels once the context
        (halo) they need would make a region read more than :data:`MAX_CONTEXT` times
        its own size along an axis it does not span - thin regions (16-plane slabs)
        then get their lower levels from a later pass over a written level, instead of
        re-reading and re-filtering wide borders of level 0.
    """
    budget = DEFAULT_REGION_BYTES if budget is None else budget
    passes: list[PassPlan] = []
    remaining = list(range(len(levels)))
    source: int | None = None
    while remaining:
        src_shape = levels[0].shape if source is None else levels[source].shape
        src_factors = (1,) * len(src_shape) if source is None else levels[source].factors
        first = levels[remaining[0]]
        step = tuple(f // s for f, s in zip(first.factors, src_factors))
        if source is None and shard0 is not None:
            unit = list(shard0)
        else:
            unit = [c * s for c, s in zip(first.chunks, step)]
        region = tuple(_grow(unit, src_shape, growable, itemsize, budget, grow_first))
        included = []
        for k in remaining:
            level = levels[k]
            rel = tuple(f // s for f, s in zip(level.factors, src_factors))
            fits = all(
                r >= n or (r % q == 0 and (r // q) % c == 0)
                for r, n, q, c in zip(region, src_shape, rel, level.chunks)
            )
            if not fits:
                break
            if method is not None and included and _context_ratio(
                [levels[j].factors for j in [*included, k]], src_factors, region, src_shape, method
            ) > MAX_CONTEXT:
                break
            if sharded:
                if k == 0 and shard0 is not None:
                    level.shards = tuple(shard0)
                else:
                    level.shards = tuple(
                        _round_up(m, c) if r >= n else r // q
                        for r, n, q, c, m in zip(region, src_shape, rel, level.chunks, level.shape)
                    )
            included.append(k)
        passes.append(
            PassPlan(
                source_level=source,
                levels=included,
                region=region,
                source_shape=tuple(src_shape),
                source_factors=tuple(src_factors),
            )
        )
        remaining = remaining[len(included):]
        source = included[-1]
    return passes


def _halos(steps: Sequence[Sequence[int]], method: str) -> tuple[list[list[int]], list[int]]:
    """Context (halo) per axis that each level of a pass must carry so that the levels
    below it can be filtered, and what the source must carry; ``steps`` are the factors
    from each level to the next (from the source to the pass's first level first)."""
    per_level: list[list[int]] = [[] for _ in steps]
    below = [0] * len(steps[0]) if steps else []
    for i in range(len(steps) - 1, -1, -1):  # from the coarsest level of the pass upwards
        per_level[i] = below
        below = [s * h + halo(method, s) for s, h in zip(steps[i], below)]
    return per_level, below


def _context_ratio(
    factors: list[tuple[int, ...]], source_factors: tuple[int, ...], region: Sequence[int], shape: Sequence[int], method: str
) -> float:
    """Largest ``(region + 2 * halo) / region`` over the axes a region does not span, for a
    pass writing levels of ``factors`` from a source of ``source_factors``."""
    previous, steps = tuple(source_factors), []
    for f in factors:
        steps.append(tuple(a // b for a, b in zip(f, previous)))
        previous = f
    _, source_halo = _halos(steps, method)
    ratios = [(r + 2 * h) / r for r, h, n in zip(region, source_halo, shape) if 0 < r < n]
    return max(ratios, default=1.0)


def read_region(source: Any, index: tuple[slice, ...], dtype: np.dtype) -> np.ndarray:
    """Pixels of ``source[index]`` as a numpy array of ``dtype`` (numpy, zarr or dask).

    Regions of a memory-mapped input are copied out and their pages released at once,
    so a larger-than-memory file does not accumulate in the process's resident memory.
    """
    part = source[index]
    if hasattr(part, "compute"):
        part = part.compute(scheduler="sync")
    if isinstance(source, np.memmap):
        block = np.array(part, dtype=dtype, copy=True)
        _release_pages(source, index)
        return block
    return np.asarray(part).astype(dtype, copy=False)


def _release_pages(array: np.memmap, index: tuple[slice, ...]) -> None:
    """Drop this process's mapping of the pages a region of ``array`` spans."""
    import mmap

    mapping = getattr(array, "_mmap", None)
    if mapping is None or not hasattr(mapping, "madvise") or not array.flags.c_contiguous:
        return
    first = [s.start or 0 for s in index]
    last = [(s.stop if s.stop is not None else n) - 1 for s, n in zip(index, array.shape)]
    if any(b < a for a, b in zip(first, last)):
        return
    base = np.frombuffer(mapping, dtype=np.uint8).ctypes.data
    origin = array.ctypes.data - base
    lo = origin + int(np.ravel_multi_index(first, array.shape)) * array.itemsize
    hi = origin + (int(np.ravel_multi_index(last, array.shape)) + 1) * array.itemsize
    page = mmap.PAGESIZE
    lo -= lo % page
    hi = min(len(mapping), -(-hi // page) * page)
    try:
        mapping.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
    except (OSError, ValueError):
        pass  # releasing is an optimisation; reading stays correct without it


def _process_region(
    start: tuple[int, ...],
    plan: PassPlan,
    levels: list[LevelPlan],
    source: Any,
    dtype: np.dtype,
    method: str,
) -> None:
    """Read one region of the pass's source and write every level of the pass from it."""
    n_src = plan.source_shape
    stop = tuple(min(s + r, n) for s, r, n in zip(start, plan.region, n_src))
    prev = plan.source_factors
    steps = []
    for level_index in plan.levels:
        steps.append(tuple(f // p for f, p in zip(levels[level_index].factors, prev)))
        prev = levels[level_index].factors
    per_level, source_halo = _halos(steps, method)

    # Read the region and its context, clamped to the image: filters mirror at borders.
    lo = [max(s - h, 0) for s, h in zip(start, source_halo)]
    hi = [min(e + h, n) for e, h, n in zip(stop, source_halo, n_src)]
    block = read_region(source, tuple(slice(a, b) for a, b in zip(lo, hi)), dtype)
    block_start, block_size = lo, n_src

    for i, level_index in enumerate(plan.levels):
        level = levels[level_index]
        rel = tuple(f // p for f, p in zip(level.factors, plan.source_factors))
        out_start = [s // q for s, q in zip(start, rel)]
        out_stop = [e // q if e < n else m for e, q, n, m in zip(stop, rel, n_src, level.shape)]
        context = per_level[i]
        lo = [max(s - h, 0) for s, h in zip(out_start, context)]
        hi = [min(e + h, m) for e, h, m in zip(out_stop, context, level.shape)]
        block = reduce_block(block, steps[i], method, block_start, list(zip(lo, hi)), block_size)
        block_start, block_size = lo, level.shape
        inner = tuple(slice(s - a, e - a) for s, e, a in zip(out_start, out_stop, lo))
        target = tuple(slice(s, e) for s, e in zip(out_start, out_stop))
        write_block(level.array, target, block[inner], level.writer)


def run_passes(
    passes: list[PassPlan],
    levels: list[LevelPlan],
    source: Any,
    dtype: np.dtype,
    method: str,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Execute the passes in order; the regions of a pass run as parallel dask tasks.

    The active dask scheduler is used (threads by default; a ``dask.distributed``
    client when one is active).
    """
    import dask

    counter = _Progress(total=sum(len(p.regions()) for p in passes), callback=progress)
    for level in levels:
        if level.array is not None and level.writer is None:
            level.writer = shard_writer(level.array)
    client = _active_client()
    for plan in passes:
        src = source if plan.source_level is None else levels[plan.source_level].array
        if hasattr(src, "dask"):  # hide a dask input from delayed, or it would be computed whole
            src = _Opaque(src)
        if client is not None:
            # On a cluster, count finished tasks here: nothing unpicklable travels.
            from distributed import as_completed

            tasks = [
                dask.delayed(_process_region, pure=False)(start, plan, levels, src, dtype, method)
                for start in plan.regions()
            ]
            for future in as_completed(client.compute(tasks)):
                future.result()
                counter.step()
        else:
            _compute_cancellable(
                [
                    dask.delayed(_run_one, pure=False)(start, plan, levels, src, dtype, method, counter)
                    for start in plan.regions()
                ],
                counter,
            )


def _compute_cancellable(tasks: list[Any], counter: _Progress) -> None:
    """``dask.compute(*tasks)`` that an interrupt (Ctrl-C) stops cleanly.

    The computation runs in a helper thread while this one waits.  On an interrupt the
    tasks not yet started return at once, and the ones running are waited for, so no
    task is still writing into the store when the caller removes it.
    """
    import dask

    failure: list[BaseException] = []

    def compute() -> None:
        try:
            dask.compute(*tasks)
        except BaseException as exc:  # handed to the waiting thread
            failure.append(exc)
            # dask raises the first failure while other tasks still run: let them end
            # before the caller removes the store they write into.
            counter.settle()

    worker = threading.Thread(target=compute, name="ngff-write", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.05)
    except BaseException:
        counter.settle()
        worker.join()
        raise
    if failure:
        raise failure[0]


def _run_one(start, plan, levels, source, dtype, method, counter) -> None:
    with counter.idle:
        if counter.cancelled.is_set():
            return
        counter.running += 1
    try:
        _process_region(start, plan, levels, source, dtype, method)
        _trim_heap()
        counter.step()
    finally:
        with counter.idle:
            counter.running -= 1
            counter.idle.notify_all()


def _trim_heap() -> None:
    """Hand freed region buffers back to the OS (glibc keeps them per thread otherwise)."""
    global _malloc_trim
    if _malloc_trim is None:
        import ctypes
        import ctypes.util

        try:
            _malloc_trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim: Any = None


class _Opaque:
    """A dask array hidden from ``dask.delayed``: each task computes only its own region."""

    def __init__(self, array: Any):
        self.array = array

    def __getitem__(self, index: Any) -> Any:
        return self.array[index]


def _active_client() -> Any:
    """The ``dask.distributed`` client ``dask.compute`` would use, or None."""
    import sys

    if "distributed" not in sys.modules:  # no cluster can be active without it imported
        return None
    try:
        from distributed import default_client

        client = default_client()
    except (ImportError, ValueError):
        return None
    import dask.base

    return client if dask.base.get_scheduler() == client.get else None
