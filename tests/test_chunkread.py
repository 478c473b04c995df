"""Partial chunk reads (ngff.chunkread) must give exactly zarr's pixels.

Every test compares against zarr-python (or the numpy source data); the fast path is
asserted to be taken where it should be, so a silent fallback cannot hide a bug.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import zarr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zarr.codecs import BloscCodec, BytesCodec, GzipCodec, ShardingCodec, ZstdCodec

import ngff
from ngff import chunkread
from ngff.chunkread import ChunkReader, chunk_reader
from ngff.errors import StoreError
from ngff.reader import _Level
from ngff.store import enable_fast_codecs, open_store

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

FAST_CODECS = {"zstd", "blosc-zstd", "blosc-lz4", "blosc-noshuffle", "blosc-small-blocks", "none"}


class CountingFallback:
    """The zarr fallback of a ChunkReader, counting how often it is used."""

    def __init__(self, level: _Level):
        self.level = level
        self.calls = 0

    def __getitem__(self, index):
        self.calls += 1
        return self.level[index]


def open_pair(directory: Path, key: str = "", dimension_separator: str = "/"):
    """(zarr array as ngff opens it, ChunkReader or None, counting fallback).

    The array (reference and fallback) uses zarr-python's own codec pipeline: zarrs
    0.2.3 fails on some edge reads of partial shards ("incompatible offset", e.g.
    ``array[0]`` of shape (1, 1, 3), shards (1, 1, 2)) whichever reader sits above.
    """
    enable_fast_codecs()
    store = open_store(directory)
    node = store.node(key)
    with zarr.config.set({"codec_pipeline.path": "zarr.core.codec_pipeline.BatchedCodecPipeline"}):
        array = store.open_array(node, dimension_separator=dimension_separator)
    fallback = CountingFallback(_Level(array, store.where(key)))
    reader = chunk_reader(array, store.where(key), store.root / key if key else store.root, fallback)
    return array, reader, fallback


def same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


# --------------------------------------------------------------------------- writing with zarr


def v3_compressors(codec: str, itemsize: int):
    shuffle = "bitshuffle" if itemsize > 1 else "shuffle"
    return {
        "zstd": (ZstdCodec(level=1),),
        "blosc-zstd": (BloscCodec(cname="zstd", clevel=3, shuffle=shuffle, typesize=itemsize),),
        "blosc-lz4": (BloscCodec(cname="lz4", clevel=5, shuffle="shuffle", typesize=itemsize),),
        "blosc-noshuffle": (BloscCodec(cname="lz4", clevel=1, shuffle="noshuffle", typesize=itemsize),),
        "blosc-small-blocks": (BloscCodec(cname="zstd", clevel=1, shuffle=shuffle, typesize=itemsize, blocksize=64),),
        "none": (),
        "gzip": (GzipCodec(level=1),),
    }[codec]


def v2_compressor(codec: str, itemsize: int):
    from numcodecs import GZip, Blosc, Zstd

    return {
        "zstd": Zstd(level=1),
        "blosc-zstd": Blosc(cname="zstd", clevel=3, shuffle=Blosc.BITSHUFFLE),
        "blosc-lz4": Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE),
        "blosc-noshuffle": Blosc(cname="lz4", clevel=1, shuffle=Blosc.NOSHUFFLE),
        "blosc-small-blocks": Blosc(cname="zstd", clevel=1, shuffle=Blosc.BITSHUFFLE, blocksize=64),
        "none": None,
        "gzip": GZip(level=1),
    }[codec]


@st.composite
def stores(draw):
    ndim = draw(st.integers(1, 4))
    shape = tuple(draw(st.integers(1, 12 if ndim < 4 else 6)) for _ in range(ndim))
    chunks = tuple(draw(st.integers(1, n + 2)) for n in shape)
    version = draw(st.sampled_from([2, 3]))
    codec = draw(st.sampled_from(sorted(FAST_CODECS | {"gzip"})))
    dtype = draw(st.sampled_from(["uint8", "uint16", "int32", "float32", ">u2", ">f4"]))
    if version == 3 and dtype.startswith(">"):
        dtype = draw(st.sampled_from(["uint16", "float32"]))  # big-endian v3: see test_big_endian_v3
    sharded = version == 3 and draw(st.booleans())
    shard_factors = tuple(draw(st.integers(1, 3)) for _ in range(ndim)) if sharded else None
    index_location = draw(st.sampled_from(["end", "start"]))
    separator = draw(st.sampled_from(["/", "."]))
    key_encoding = draw(st.sampled_from(["default", "v2"])) if version == 3 else "v2"
    fill = draw(st.sampled_from([0, 7]))
    kind = draw(st.sampled_from(["arange", "random", "constant"]))
    partial = draw(st.booleans())  # leave some chunks unwritten (fill value)
    return dict(
        shape=shape,
        chunks=chunks,
        version=version,
        codec=codec,
        dtype=dtype,
        shard_factors=shard_factors,
        index_location=index_location,
        separator=separator,
        key_encoding=key_encoding,
        fill=fill,
        kind=kind,
        partial=partial,
        seed=draw(st.integers(0, 2**16)),
    )


def write_zarr(directory: Path, p: dict) -> np.ndarray:
    rng = np.random.default_rng(p["seed"])
    dtype = np.dtype(p["dtype"])
    n = math.prod(p["shape"])
    if p["kind"] == "arange":
        data = (np.arange(n) % 251).astype(dtype).reshape(p["shape"])
    elif p["kind"] == "random":
        data = rng.integers(0, 120, size=p["shape"]).astype(dtype)
    else:
        data = np.full(p["shape"], 3, dtype=dtype)
    itemsize = dtype.itemsize
    kwargs = dict(shape=p["shape"], dtype=dtype, fill_value=p["fill"], zarr_format=p["version"])
    if p["version"] == 2:
        kwargs.update(
            chunks=p["chunks"],
            compressors=v2_compressor(p["codec"], itemsize),
            chunk_key_encoding={"name": "v2", "separator": p["separator"]},
        )
    else:
        encoding = {"name": p["key_encoding"], "separator": p["separator"]}
        compressors = v3_compressors(p["codec"], itemsize)
        if p["shard_factors"]:
            shards = tuple(c * f for c, f in zip(p["chunks"], p["shard_factors"]))
            serializer = ShardingCodec(
                chunk_shape=p["chunks"],
                codecs=[BytesCodec(), *compressors],
                index_location=p["index_location"],
            )
            kwargs.update(chunks=shards, serializer=serializer, compressors=None, chunk_key_encoding=encoding)
        else:
            kwargs.update(chunks=p["chunks"], compressors=compressors, chunk_key_encoding=encoding)
    array = zarr.create_array(str(directory), **kwargs)
    if p["partial"]:
        box = tuple(slice(0, max(1, n // 2)) for n in p["shape"])
        array[box] = data[box]
        expected = np.full(p["shape"], p["fill"], dtype=dtype)
        expected[box] = data[box]
        return expected
    array[...] = data
    return data


def axis_selection(draw, n: int, c: int):
    """An index along one axis: mostly inside one chunk, sometimes anything."""
    kind = draw(st.sampled_from(["int", "int", "in-chunk", "in-chunk", "in-chunk", "any", "step", "negative"]))
    if kind == "int":
        return draw(st.integers(0, n - 1))
    if kind == "negative":
        return draw(st.integers(-n, -1))
    if kind == "in-chunk":
        k = draw(st.integers(0, (n - 1) // c))
        lo, hi = k * c, min(n, (k + 1) * c)
        start = draw(st.integers(lo, hi - 1))
        stop = draw(st.integers(start + 1, hi))
        return slice(start, stop)
    if kind == "step":
        return slice(draw(st.integers(0, n - 1)), None, draw(st.integers(2, 3)))
    start = draw(st.integers(0, n - 1))
    return slice(start, draw(st.integers(start + 1, n)))


@st.composite
def selections(draw, shape, chunks):
    sel = tuple(axis_selection(draw, n, c) for n, c in zip(shape, chunks))
    if draw(st.integers(0, 4)) == 0:  # dask may pass fewer indices than axes
        sel = sel[: draw(st.integers(1, len(sel)))]
    return sel


def expect_fast(reader: ChunkReader, sel) -> bool:
    """Whether the fast path must decode ``sel`` itself (no zarr fallback)."""
    return reader._plan(sel) is not None


@settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=stores(), data=st.data())
def test_matches_zarr(p, data):
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "array.zarr"
        expected = write_zarr(directory, p)
        array, reader, fallback = open_pair(directory, dimension_separator=p["separator"])
        assert same(array[...], expected)
        supported = p["codec"] in FAST_CODECS and not p["dtype"].startswith(">")
        assert (reader is not None) == supported, p
        if reader is None:
            return
        assert reader.shape == array.shape and reader.dtype == array.dtype and reader.ndim == array.ndim
        inner = tuple(array.chunks)
        for _ in range(5):
            sel = data.draw(selections(p["shape"], inner))
            before = fallback.calls
            fast = expect_fast(reader, sel)
            got = reader[sel]
            assert same(got, array[sel]), (p, sel)
            assert same(got, expected[sel]), (p, sel)
            assert (fallback.calls == before) == fast, (p, sel)
        # every single-element read of the first and last row goes through one path
        # or the other and must agree
        for z in {0, p["shape"][0] - 1}:
            assert same(reader[z], expected[z]), (p, z)


def test_fast_path_taken_for_planes(tmp_path):
    """A plane inside a chunk never goes to zarr, for every store layout."""
    data = (np.arange(8 * 12 * 10) * 7 % 65521).astype("uint16").reshape(8, 12, 10)
    layouts = [
        dict(zarr_format=2, chunks=(4, 5, 4), compressors=v2_compressor("zstd", 2)),
        dict(zarr_format=2, chunks=(4, 5, 4), compressors=v2_compressor("blosc-zstd", 2),
             chunk_key_encoding={"name": "v2", "separator": "."}),
        dict(zarr_format=3, chunks=(4, 5, 4), compressors=v3_compressors("blosc-zstd", 2)),
        dict(zarr_format=3, chunks=(4, 5, 4), compressors=v3_compressors("none", 2)),
        dict(zarr_format=3, chunks=(8, 10, 8), shards=None,
             serializer=ShardingCodec(chunk_shape=(4, 5, 4), codecs=[BytesCodec(), ZstdCodec()], index_location="start"),
             compressors=None),
        dict(zarr_format=3, chunks=(4, 5, 4), shards=(8, 10, 8), compressors=v3_compressors("blosc-lz4", 2)),
    ]
    for i, kwargs in enumerate(layouts):
        kwargs = {k: v for k, v in kwargs.items() if v is not None or k != "shards"}
        array = zarr.create_array(str(tmp_path / f"a{i}"), shape=data.shape, dtype=data.dtype, **kwargs)
        array[...] = data
        _, reader, fallback = open_pair(tmp_path / f"a{i}")
        assert reader is not None, kwargs
        for z in range(data.shape[0]):
            for y in range(0, 12, 5):
                assert same(reader[z, y : y + 5, 4:8], data[z, y : y + 5, 4:8]), (kwargs, z, y)
            assert same(reader[z, 3, 5], data[z, 3, 5])
        assert fallback.calls == 0, kwargs


def test_big_blosc_chunks_every_plane(tmp_path):
    """Multi-block blosc chunks: item ranges start mid-block and cross block bounds."""
    rng = np.random.default_rng(1)
    data = (rng.integers(0, 50, size=(40, 33, 31)) + np.arange(31)).astype("uint16")
    for version, compressor in [
        (2, v2_compressor("blosc-small-blocks", 2)),
        (3, BloscCodec(cname="zstd", clevel=1, shuffle="bitshuffle", typesize=2, blocksize=1024)),
        (3, BloscCodec(cname="lz4", clevel=1, shuffle="shuffle", typesize=4, blocksize=512)),  # typesize ≠ itemsize
        (3, BloscCodec(cname="blosclz", clevel=0, shuffle="noshuffle", typesize=2)),  # memcpyed
    ]:
        path = tmp_path / f"b{version}-{id(compressor)}"
        array = zarr.create_array(str(path), shape=data.shape, dtype=data.dtype, chunks=(20, 33, 31),
                                  compressors=compressor, zarr_format=version)
        array[...] = data
        _, reader, fallback = open_pair(path)
        for z in range(40):
            assert same(reader[z], data[z]), (compressor, z)
            assert same(reader[z, 7:9], data[z, 7:9])
            assert same(reader[z, 32, 30], data[z, 32, 30])
        assert same(reader[3:17], data[3:17])
        assert fallback.calls == 0


def test_big_endian_and_other_fallbacks(tmp_path):
    data = np.arange(4 * 6, dtype=">u2").reshape(4, 6)
    a = zarr.create_array(str(tmp_path / "be2"), shape=data.shape, dtype=">u2", chunks=(2, 3), zarr_format=2)
    a[...] = data
    assert open_pair(tmp_path / "be2")[1] is None
    b = zarr.create_array(str(tmp_path / "be3"), shape=data.shape, dtype="uint16", chunks=(2, 3),
                          serializer=BytesCodec(endian="big"), compressors=None)
    b[...] = data
    assert open_pair(tmp_path / "be3")[1] is None
    c = zarr.create_array(str(tmp_path / "F"), shape=data.shape, dtype="uint16", chunks=(2, 3), zarr_format=2,
                          order="F")
    c[...] = data
    assert zarr.open_array(str(tmp_path / "F")).metadata.order == "F"
    assert open_pair(tmp_path / "F")[1] is None
    from numcodecs import Delta

    d = zarr.create_array(str(tmp_path / "filters"), shape=data.shape, dtype="uint16", chunks=(2, 3),
                          zarr_format=2, filters=[Delta(dtype="u2")])
    d[...] = data
    assert open_pair(tmp_path / "filters")[1] is None
    e = zarr.create_array(str(tmp_path / "transpose"), shape=data.shape, dtype="uint16", chunks=(2, 3),
                          filters=[zarr.codecs.TransposeCodec(order=(1, 0))])
    e[...] = data
    assert open_pair(tmp_path / "transpose")[1] is None
    # no local directory: zarr reads everything
    array, _, fallback = open_pair(tmp_path / "transpose")
    assert chunk_reader(array, "x", None, fallback) is None


def test_big_endian_v3(tmp_path):
    data = np.arange(4 * 6, dtype="float32").reshape(4, 6)
    a = zarr.create_array(str(tmp_path / "a"), shape=data.shape, dtype="float32", chunks=(2, 3),
                          serializer=BytesCodec(endian="big"), compressors=ZstdCodec())
    a[...] = data
    array, reader, _ = open_pair(tmp_path / "a")
    assert reader is None
    level = ngff.reader._to_dask(array, "a", tmp_path / "a")
    assert same(level[1].compute(), data[1])


def test_missing_chunks_and_empty_inner_chunks_give_fill(tmp_path):
    for i, kwargs in enumerate([
        dict(chunks=(2, 3), zarr_format=2, compressors=v2_compressor("zstd", 4)),
        dict(chunks=(2, 3), compressors=v3_compressors("blosc-zstd", 4)),
        dict(chunks=(2, 3), shards=(4, 6), compressors=v3_compressors("zstd", 4)),
    ]):
        path = tmp_path / f"m{i}"
        array = zarr.create_array(str(path), shape=(8, 12), dtype="float32", fill_value=-2.5, **kwargs)
        array[0:2, 0:3] = 1.0  # one inner chunk of the first shard: the rest of it is empty
        _, reader, fallback = open_pair(path)
        expected = np.full((8, 12), -2.5, dtype="float32")
        expected[0:2, 0:3] = 1.0
        for z in range(8):
            for y in range(0, 12, 3):
                assert same(reader[z, y : y + 3], expected[z, y : y + 3]), (kwargs, z, y)
        assert fallback.calls == 0


# --------------------------------------------------------------------------- through ngff.write / ngff.read


@st.composite
def ngff_stores(draw):
    version = draw(st.sampled_from(["0.4", "0.5"]))
    shape = (draw(st.integers(2, 9)), draw(st.integers(3, 20)), draw(st.integers(3, 20)))
    chunks = tuple(draw(st.integers(1, n)) for n in shape)
    shards = draw(st.sampled_from([None, 2, 3])) if version == "0.5" else None
    codec = draw(st.sampled_from(["blosc-zstd", "blosc-lz4", "zstd", "none", "gzip", "lz4"]))
    dtype = draw(st.sampled_from(["uint8", "uint16", "int32", "float32"]))
    return version, shape, chunks, shards, codec, dtype, draw(st.integers(0, 1000))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=ngff_stores(), data=st.data())
def test_ngff_read_matches_written(params, data):
    version, shape, chunks, shards, codec, dtype, seed = params
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 100, size=shape).astype(dtype)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "img.ome.zarr")
        ngff.write(values, path, version=version, chunks=chunks, shards=shards, codec=codec, dims="zyx")
        level = ngff.read(path).levels[0]
        for z in range(shape[0]):
            assert same(level[z].compute(), values[z]), (params, z)
        for _ in range(4):
            sel = data.draw(selections(shape, level.chunksize))
            assert same(level[sel].compute(), values[sel]), (params, sel)
        assert same(level.compute(), values)


def small_image(tmp_path, **kwargs):
    values = (np.arange(6 * 16 * 16) % 1000).astype("uint16").reshape(6, 16, 16)
    path = tmp_path / "img.ome.zarr"
    ngff.write(values, path, chunks=(4, 8, 8), dims="zyx", **kwargs)
    return path, values


@pytest.mark.parametrize("kwargs", [dict(version="0.4"), dict(version="0.5"), dict(version="0.5", shards=2),
                                    dict(version="0.4", codec="zstd"), dict(version="0.5", codec="zstd", shards=2)])
def test_dask_reads_use_the_fast_path(tmp_path, monkeypatch, kwargs):
    path, values = small_image(tmp_path, **kwargs)
    level = ngff.read(path).levels[0]
    calls = []
    original = ChunkReader._read
    monkeypatch.setattr(ChunkReader, "_read", lambda self, *a: calls.append(a) or original(self, *a))
    for z in range(6):
        assert same(level[z].compute(), values[z])
    assert len(calls) == 6 * 4  # every plane: one partial decode per chunk it touches
    # other dask operations: fancy indices, steps, reductions, whole-chunk reads
    assert same(level[[1, 4]].compute(), values[[1, 4]])
    assert same(level[:, [0, 9, 15]].compute(), values[:, [0, 9, 15]])
    assert same(level[::2, 3::3].compute(), values[::2, 3::3])
    assert same(level[values > 500].compute(), values[values > 500])
    assert same(level[2:5, 7:9].compute(), values[2:5, 7:9])
    assert same(level[-1, -3].compute(), values[-1, -3])
    assert level.sum().compute() == values.sum()
    assert same(level.compute(), values)


@pytest.mark.parametrize("kwargs", [dict(version="0.4", codec="zstd"), dict(version="0.4"),
                                    dict(version="0.5", codec="blosc-lz4"), dict(version="0.5", shards=2, codec="zstd"),
                                    dict(version="0.5", shards=2)])
def test_corrupted_chunk_is_store_error(tmp_path, kwargs):
    path, values = small_image(tmp_path, **kwargs)
    level_dir = path / "0"
    files = sorted(p for p in level_dir.rglob("*") if p.is_file() and not p.name.startswith((".z", "zarr.json")))
    target = files[0]
    raw = bytearray(target.read_bytes())
    if kwargs.get("shards"):
        raw[: len(raw) // 2] = os.urandom(len(raw) // 2)  # the chunk data; the index at the end stays valid
    else:
        raw[:] = os.urandom(len(raw))
    target.write_bytes(bytes(raw))
    key = target.relative_to(level_dir).as_posix()
    level = ngff.read(path).levels[0]
    with pytest.raises(StoreError) as info:
        level[0].compute()
    assert key.replace("/", ".") in str(info.value).replace("/", ".")


@pytest.mark.parametrize("kwargs", [dict(version="0.4", codec="zstd"), dict(version="0.5", shards=2)])
def test_truncated_chunk_is_store_error(tmp_path, kwargs):
    path, values = small_image(tmp_path, **kwargs)
    files = sorted(p for p in (path / "0").rglob("*") if p.is_file() and not p.name.startswith((".z", "zarr.json")))
    raw = files[0].read_bytes()
    files[0].write_bytes(raw[:10] if not kwargs.get("shards") else raw[-40:])
    level = ngff.read(path).levels[0]
    with pytest.raises(StoreError):
        level[1].compute()


def test_blosc_header_checks():
    from numcodecs import Blosc

    data = np.arange(1000, dtype="uint16").tobytes()
    encoded = Blosc(cname="zstd", shuffle=Blosc.BITSHUFFLE, blocksize=256).encode(data)
    assert bytes(chunkread._blosc_range(encoded, 2000, 100, 600)) == data[100:600]
    assert bytes(chunkread._blosc_range(encoded, 2000, 0, 2000)) == data
    with pytest.raises(ValueError):
        chunkread._blosc_range(encoded, 4000, 0, 8)
    with pytest.raises(ValueError):
        chunkread._blosc_range(encoded[:-3], 2000, 0, 8)
    bad = bytearray(encoded)
    bad[16:20] = (10**6).to_bytes(4, "little")
    with pytest.raises(ValueError):
        chunkread._blosc_range(bytes(bad), 2000, 0, 8)
    # odd byte ranges (not multiples of the blosc typesize) decode fully, then slice
    assert bytes(chunkread._blosc_range(encoded, 2000, 3, 9)) == data[3:9]


def test_zstd_prefix():
    import zstandard

    data = os.urandom(5000) + bytes(5000)
    encoded = zstandard.ZstdCompressor().compress(data)
    assert bytes(chunkread._zstd_prefix(encoded, 7000)) == data[:7000]
    with pytest.raises(ValueError):
        chunkread._zstd_prefix(encoded[:100], 7000)
