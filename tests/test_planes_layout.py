"""The ``"planes"`` layout: chunks a few planes deep, shards one chunk deep covering whole
planes on every level, written in one pass; the default of ``.ozx`` archives.
"""

from __future__ import annotations

import numpy as np
import pytest

import ngff
import ngff.ozx
import ngff.regions
import ngff.writer
from ngff.chunking import plane_chunks, plane_level_chunks, plane_shards
from ngff.errors import NgffError
from ngff.store import open_store
from ngff.summary import array_layout

MIB = 1 << 20
ZYX = ["space", "space", "space"]


def _levels(location):
    store = open_store(location)
    return [array_layout(store.node(str(k))) for k in range(len(ngff.read(location).levels))]


def test_plane_chunks_depth_fits_whole_planes_in_the_budget():
    assert plane_chunks((256, 1024, 1024), ZYX, 2, 32 * MIB) == (16, 256, 256)
    assert plane_chunks((256, 1024, 1024), ZYX, 4, 32 * MIB) == (8, 256, 256)  # float32: 8 planes fit
    assert plane_chunks((300, 4096, 4096), ZYX, 1, 32 * MIB) == (2, 256, 256)
    assert plane_chunks((5, 100, 60), ZYX, 2, 32 * MIB) == (5, 100, 60)  # clamped to the shape
    assert plane_chunks((3, 40, 8192, 8192), ["channel", "space", "space", "space"], 2, 32 * MIB) == (1, 1, 256, 256)
    assert plane_chunks((9000, 9000), ["space", "space"], 1, 32 * MIB) == (512, 512)


def test_plane_shards_cover_the_plane_or_split_it_evenly():
    assert plane_shards((16, 256, 256), (256, 1024, 1024), ZYX, 2, 32 * MIB) == (16, 1024, 1024)
    assert plane_shards((16, 256, 256), (256, 1000, 700), ZYX, 2, 32 * MIB) == (16, 1024, 768)
    # 8192² uint16 planes are 128 MiB: the shard is a quarter of a plane
    assert plane_shards((1, 256, 256), (40, 8192, 8192), ZYX, 2, 32 * MIB) == (1, 4096, 4096)
    assert plane_shards((512, 512), (9000, 9000), ["space", "space"], 1, 32 * MIB) == (4608, 4608)


def test_plane_level_chunks_span_the_same_level0_planes():
    shapes = [(256, 1024, 1024), (128, 512, 512), (64, 256, 256), (32, 128, 128), (16, 64, 64)]
    factors = [(1, 1, 1), (2, 2, 2), (4, 4, 4), (8, 8, 8), (16, 16, 16)]
    assert plane_level_chunks((16, 256, 256), shapes, factors, ZYX) == [
        (16, 256, 256), (8, 256, 256), (4, 256, 256), (2, 128, 128), (1, 64, 64)
    ]
    # anisotropic z kept at full resolution: the depth stays
    assert plane_level_chunks((16, 256, 256), [(64, 1024, 1024), (64, 512, 512)], [(1, 1, 1), (1, 2, 2)], ZYX) == [
        (16, 256, 256), (16, 256, 256)
    ]


def test_planes_layout_shards_cover_planes_on_every_level(tmp_path, monkeypatch):
    # a 1 MiB region budget stands in for the 32 MiB default, so a small volume shows the layout
    monkeypatch.setattr(ngff.regions, "DEFAULT_REGION_BYTES", 1 * MIB)
    monkeypatch.setattr(ngff.writer, "DEFAULT_REGION_BYTES", 1 * MIB)
    passes = []
    real = ngff.regions.plan_passes

    def spy(*args, **kwargs):
        planned = real(*args, **kwargs)
        passes.append(planned)
        return planned

    monkeypatch.setattr(ngff.writer, "plan_passes", spy)
    rng = np.random.default_rng(5)
    data = rng.integers(0, 4000, (64, 256, 512), dtype=np.uint16)
    loc = tmp_path / "planes.ome.zarr"
    image = ngff.write(data, loc, chunks="planes", shards="auto")
    levels = _levels(loc)
    # 256 x 512 uint16 planes are 256 KiB: 4 planes fill the 1 MiB budget
    assert levels[0]["chunks"] == [4, 256, 256] and levels[0]["shards"] == [4, 256, 512]
    for k, layout in enumerate(levels):
        level_shape = image.levels[k].shape
        assert layout["shards"][1:] == [-(-n // c) * c for n, c in zip(level_shape[1:], layout["chunks"][1:])], (k, layout)
        assert layout["shards"][0] % layout["chunks"][0] == 0, (k, layout)  # whole chunks deep
    assert levels[1]["shards"][0] == levels[1]["chunks"][0]  # written with level 0: one chunk deep
    # the first pass writes the levels whose filter context stays small around a 4-plane
    # slab; the others come from a pass over a written level
    z_factors = [data.shape[0] // level.shape[0] for level in image.levels]
    assert z_factors == [1, 2, 4, 8, 16]
    assert passes[-1][0].levels == [0, 1]
    assert all(p.source_level is not None for p in passes[-1][1:])
    np.testing.assert_array_equal(image.levels[0].compute(), data)
    assert ngff.validate(loc, strict=True).ok


def test_ozx_default_is_the_planes_layout(tmp_path):
    rng = np.random.default_rng(6)
    data = rng.integers(0, 4000, (32, 512, 512), dtype=np.uint16)
    archive = tmp_path / "default.ozx"
    image = ngff.write(data, archive)
    level0 = array_layout(ngff.ozx.open_store(archive).node("0"))
    assert level0["chunks"] == [16, 256, 256]
    assert level0["shards"] == [16, 512, 512]  # one shard per 16 planes
    np.testing.assert_array_equal(image.levels[0][20].compute(), data[20])
    # an explicit layout is kept
    cubes = ngff.write(data, tmp_path / "cubes.ozx", chunks=64, shards=2)
    layout = array_layout(ngff.ozx.open_store(tmp_path / "cubes.ozx").node("0"))
    assert layout["chunks"] == [32, 64, 64] and layout["shards"] == [32, 128, 128]
    np.testing.assert_array_equal(cubes.levels[0].compute(), data)


def test_unknown_layout_name_is_a_clear_error(tmp_path):
    with pytest.raises(NgffError, match="not a layout"):
        ngff.write(np.zeros((4, 64, 64), np.uint8), tmp_path / "x.ome.zarr", chunks="cubes")
    assert not (tmp_path / "x.ome.zarr").exists()


def test_planes_layout_for_labels_and_v04(tmp_path):
    data = np.random.default_rng(7).integers(0, 3, (20, 300, 200), dtype=np.uint8)
    loc = tmp_path / "v04.ome.zarr"
    image = ngff.write(data, loc, version="0.4", chunks="planes")  # chunks only: Zarr v2 has no shards
    assert _levels(loc)[0]["chunks"] == [16, 256, 200]
    labels = ngff.write_labels(loc, "cells", data)
    np.testing.assert_array_equal(labels.levels[0].compute(), data)
    np.testing.assert_array_equal(image.levels[0].compute(), data)
    assert ngff.validate(loc).ok


def test_thin_regions_leave_deep_levels_to_a_later_pass():
    """A 16-plane slab would read 15 border planes on each side for 4 halvings; the pass
    stops where the context passes 1.5x the region, and the next pass reads a written level."""
    from ngff.model import Axis

    axes = tuple(Axis(n, type="space") for n in "zyx")
    plans = ngff.writer._level_plans((256, 1024, 1024), axes, [1, 1, 1], "planes", None, itemsize=2)
    shard0 = ngff.writer._shard0("auto", plans[0], axes, planes=True, itemsize=2)
    passes = ngff.regions.plan_passes(
        plans, itemsize=2, sharded=True, shard0=shard0, growable=[True] * 3, grow_first=[1, 2], method="gaussian"
    )
    assert [p.levels for p in passes] == [[0, 1, 2], [3, 4]]
    assert passes[1].source_level == 2
    for plan in passes:
        factors = [plans[k].factors for k in plan.levels]
        ratio = ngff.regions._context_ratio(factors, plan.source_factors, plan.region, plan.source_shape, "gaussian")
        assert ratio <= ngff.regions.MAX_CONTEXT
    # without the method (no context limit) one pass takes every level
    single = ngff.regions.plan_passes(plans, itemsize=2, sharded=True, shard0=shard0, growable=[True] * 3, grow_first=[1, 2])
    assert [p.levels for p in single] == [[0, 1, 2, 3, 4]]


@pytest.mark.parametrize("dtype", ["uint16", "float32"])
def test_planes_and_cubes_give_the_same_pyramid(tmp_path, dtype):
    rng = np.random.default_rng(9)
    data = (rng.random((64, 160, 200)) * 3000).astype(dtype)
    planes = ngff.write(data, tmp_path / "planes.ome.zarr", chunks="planes", shards="auto", scale_factors=[2, 4, 8])
    cubes = ngff.write(data, tmp_path / "cubes.ome.zarr", shards="auto", scale_factors=[2, 4, 8])
    for ours, theirs in zip(planes.levels, cubes.levels, strict=True):
        np.testing.assert_array_equal(ours.compute(), theirs.compute())
