"""The streaming shard writer stores exactly what zarr would: same decoded pixels, same layout."""

from __future__ import annotations

import numpy as np
import pytest
import zarr
from zarr.codecs import BloscCodec, BytesCodec, Crc32cCodec, GzipCodec, ShardingCodec, ZstdCodec

from ngff import shardwrite
from ngff.shardwrite import shard_writer, write_block


def _make(tmp_path, name, *, shape, chunks, shards, dtype="uint16", compressors=None, fill_value=0, **kw):
    return zarr.create_array(
        store=str(tmp_path / "store"),
        name=name,
        shape=shape,
        chunks=chunks,
        shards=shards,
        dtype=dtype,
        compressors=compressors,
        fill_value=fill_value,
        zarr_format=3,
        **kw,
    )


CODECS = {
    "blosc-zstd": (BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle", typesize=2),),
    "blosc-lz4": (BloscCodec(cname="lz4", clevel=5, shuffle="shuffle", typesize=2),),
    "zstd": (ZstdCodec(level=3),),
    "zstd-checksum": (ZstdCodec(level=1, checksum=True),),
    "gzip": (GzipCodec(level=5),),
    "none": (),
}


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_streamed_shards_decode_like_zarr_writes(tmp_path, codec):
    rng = np.random.default_rng(1)
    shape = (37, 70, 91)  # partial shards and partial inner chunks on every axis
    data = rng.integers(0, 4000, shape).astype(np.uint16)
    data[:16, :32, :32] = 0  # an all-fill inner chunk: must be absent, as zarr leaves it
    ours = _make(tmp_path, "ours", shape=shape, chunks=(8, 16, 16), shards=(16, 32, 64), compressors=CODECS[codec])
    ref = _make(tmp_path, "ref", shape=shape, chunks=(8, 16, 16), shards=(16, 32, 64), compressors=CODECS[codec])
    writer = shard_writer(ours)
    assert writer is not None
    write_block(ours, tuple(slice(0, n) for n in shape), data, writer)
    ref[...] = data
    reopened = zarr.open_array(str(tmp_path / "store"), path="ours")
    np.testing.assert_array_equal(reopened[...], data)
    np.testing.assert_array_equal(reopened[...], ref[...])
    # Same set of shard files, and the streamed shards' indexes agree on which chunks exist.
    root = tmp_path / "store"
    ours_keys = sorted(p.relative_to(root / "ours").as_posix() for p in (root / "ours" / "c").rglob("*") if p.is_file())
    ref_keys = sorted(p.relative_to(root / "ref").as_posix() for p in (root / "ref" / "c").rglob("*") if p.is_file())
    assert ours_keys == ref_keys
    assert not list(root.rglob("*.part"))  # no temporary left behind


def test_empty_shard_is_not_stored_and_partial_block_goes_through_zarr(tmp_path):
    arr = _make(tmp_path, "a", shape=(64, 64), chunks=(16, 16), shards=(32, 32), compressors=CODECS["zstd"])
    writer = shard_writer(arr)
    zeros = np.zeros((32, 32), np.uint16)
    write_block(arr, (slice(0, 32), slice(0, 32)), zeros, writer)
    assert not (tmp_path / "store" / "a" / "c" / "0" / "0").exists()
    # A block that is not shard-aligned is merged by zarr (read-modify-write).
    ones = np.ones((10, 10), np.uint16)
    write_block(arr, (slice(5, 15), slice(40, 50)), ones, writer)
    expected = np.zeros((64, 64), np.uint16)
    expected[5:15, 40:50] = 1
    np.testing.assert_array_equal(arr[...], expected)


def test_index_at_start_and_no_checksum(tmp_path):
    sharding = ShardingCodec(
        chunk_shape=(8, 8),
        codecs=[BytesCodec(), ZstdCodec(level=1)],
        index_codecs=[BytesCodec()],
        index_location="start",
    )
    arr = zarr.create_array(
        store=str(tmp_path / "store"), shape=(20, 30), chunks=(16, 16), dtype="int32",
        serializer=sharding, compressors=None, fill_value=-1, zarr_format=3,
    )
    writer = shard_writer(arr)
    assert writer is not None and writer.index_at_start and not writer.index_checksum
    data = np.arange(600, dtype=np.int32).reshape(20, 30)
    write_block(arr, (slice(0, 20), slice(0, 30)), data, writer)
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "store"))[...], data)


def test_big_endian_input_and_float_nan_fill(tmp_path):
    arr = _make(tmp_path, "f", shape=(20, 20), chunks=(10, 10), shards=(20, 20), dtype="float32",
                compressors=CODECS["gzip"], fill_value=float("nan"))
    writer = shard_writer(arr)
    data = np.arange(400, dtype=">f4").reshape(20, 20)
    data[:10, :10] = np.nan
    write_block(arr, (slice(0, 20), slice(0, 20)), data, writer)
    back = zarr.open_array(str(tmp_path / "store"), path="f")[...]
    np.testing.assert_array_equal(np.isnan(back), np.isnan(data))
    np.testing.assert_array_equal(back[10:], data[10:].astype("<f4"))


def test_not_applicable_layouts_fall_back(tmp_path):
    unsharded = zarr.create_array(store=str(tmp_path / "u"), shape=(10,), chunks=(5,), dtype="uint8", zarr_format=3)
    assert shard_writer(unsharded) is None
    v2 = zarr.create_array(store=str(tmp_path / "v2"), shape=(10,), chunks=(5,), dtype="uint8", zarr_format=2)
    assert shard_writer(v2) is None
    memory = zarr.create_array(store=zarr.storage.MemoryStore(), shape=(10,), chunks=(5,), shards=(10,), dtype="uint8")
    assert shard_writer(memory) is None


def test_failed_shard_write_leaves_no_partial_file(tmp_path, monkeypatch):
    arr = _make(tmp_path, "x", shape=(32, 32), chunks=(16, 16), shards=(32, 32), compressors=CODECS["zstd"])
    writer = shard_writer(arr)
    write_block(arr, (slice(0, 32), slice(0, 32)), np.full((32, 32), 7, np.uint16), writer)
    before = (tmp_path / "store" / "x" / "c" / "0" / "0").read_bytes()
    calls = {"n": 0}
    real = shardwrite.ShardWriter.encode_chunk

    def failing(self, chunk):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return real(self, chunk)

    monkeypatch.setattr(shardwrite.ShardWriter, "encode_chunk", failing)
    with pytest.raises(OSError):
        write_block(arr, (slice(0, 32), slice(0, 32)), np.full((32, 32), 9, np.uint16), writer)
    assert (tmp_path / "store" / "x" / "c" / "0" / "0").read_bytes() == before  # old shard intact
    assert not list((tmp_path / "store").rglob("*.part"))
