"""Level arrays created and written by tensorstore (``ngff.write(..., backend="tensorstore")``).

The arrays get the same layout as the default backend's - chunk and shard shapes, the
codec and level, sharding with a little-endian ``bytes`` + ``crc32c`` index at the end,
``dimension_names`` in 0.5, ``/``-nested keys in 0.4 - so a store written either way
reads back to identical pixels and equivalent metadata.  Combinations tensorstore cannot
write raise :class:`~ngff.errors.NgffError` before anything is written: codec objects
(only codec names are translated), and stand-alone ``lz4`` in 0.4 (numcodecs' LZ4 has no
tensorstore driver).

The handle set on each level, :class:`TensorStoreArray`, pickles as its spec, so the
region tasks can run on a ``dask.distributed`` cluster (workers open the array again).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..codecs import parse_codec
from ..errors import NgffError

__all__ = ["TensorStoreArray", "array_spec", "create_arrays"]


def _tensorstore() -> Any:
    try:
        import tensorstore as ts
    except ImportError:
        raise NgffError(
            "the tensorstore backend needs tensorstore: pip install 'napari-ngff[tensorstore]'",
            rule="backend",
        ) from None
    return ts


def _v3_codecs(name: str, level: int, itemsize: int) -> list[dict[str, Any]]:
    shuffle = "bitshuffle" if itemsize > 1 else "shuffle"
    blosc = {"blosc-zstd": ("zstd", shuffle), "blosc-lz4": ("lz4", shuffle), "lz4": ("lz4", "noshuffle")}
    if name in blosc:
        cname, shuf = blosc[name]
        return [{"name": "blosc", "configuration": {"cname": cname, "clevel": level, "shuffle": shuf, "typesize": itemsize, "blocksize": 0}}]
    if name == "zstd":
        return [{"name": "zstd", "configuration": {"level": level, "checksum": False}}]
    if name == "gzip":
        return [{"name": "gzip", "configuration": {"level": level}}]
    return []


def _v2_compressor(name: str, level: int, itemsize: int) -> dict[str, Any] | None:
    shuffle = 2 if itemsize > 1 else 1  # numcodecs Blosc: BITSHUFFLE / SHUFFLE
    if name == "blosc-zstd":
        return {"id": "blosc", "cname": "zstd", "clevel": level, "shuffle": shuffle, "blocksize": 0}
    if name == "blosc-lz4":
        return {"id": "blosc", "cname": "lz4", "clevel": level, "shuffle": shuffle, "blocksize": 0}
    if name == "zstd":
        return {"id": "zstd", "level": level}
    if name == "gzip":
        return {"id": "gzip", "level": level}
    if name == "none":
        return None
    raise NgffError(
        f"the tensorstore backend cannot write codec {name!r} to Zarr v2 (OME-Zarr 0.4): tensorstore "
        "has no numcodecs LZ4; choose blosc-lz4, blosc-zstd, zstd, gzip or none, or backend='zarr'",
        rule="backend/codec",
    )


def array_spec(path: Path, plan: Any, dims: list[str], dtype: np.dtype, zarr_format: int, codec: Any) -> dict[str, Any]:
    """The tensorstore spec creating one level array like the default backend does."""
    choice = parse_codec(codec)
    if choice.objects:
        raise NgffError(
            "the tensorstore backend takes codec names (blosc-zstd, blosc-lz4, zstd, gzip, lz4, none), "
            "not codec objects; pass a name or use backend='zarr'",
            rule="backend/codec",
        )
    dtype = np.dtype(dtype)
    kvstore = {"driver": "file", "path": str(path)}
    if zarr_format == 3:
        little = {"name": "bytes", "configuration": {"endian": "little"}}
        inner = [little if dtype.itemsize > 1 else {"name": "bytes"}, *_v3_codecs(choice.name, choice.level, dtype.itemsize)]
        if plan.shards is not None:
            codecs = [
                {
                    "name": "sharding_indexed",
                    "configuration": {
                        "chunk_shape": list(plan.chunks),
                        "codecs": inner,
                        "index_codecs": [little, {"name": "crc32c"}],
                        "index_location": "end",
                    },
                }
            ]
            outer = list(plan.shards)
        else:
            codecs, outer = inner, list(plan.chunks)
        metadata = {
            "shape": list(plan.shape),
            "data_type": dtype.name,
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": outer}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": 0,
            "codecs": codecs,
            "dimension_names": list(dims),
        }
        return {"driver": "zarr3", "kvstore": kvstore, "metadata": metadata}
    metadata = {
        "shape": list(plan.shape),
        "chunks": list(plan.chunks),
        "dtype": dtype.str,
        "compressor": _v2_compressor(choice.name, choice.level, dtype.itemsize),
        "filters": None,
        "fill_value": 0,
        "order": "C",
        "dimension_separator": "/",
    }
    return {"driver": "zarr", "kvstore": kvstore, "metadata": metadata}


class TensorStoreArray:
    """A level array written through tensorstore: ``array[region] = block``, ``array[region]``.

    Pickles as its spec; the store is opened again on first use in each process.
    """

    def __init__(self, spec: dict[str, Any], shape: tuple[int, ...], dtype: np.dtype, store: Any = None):
        self.spec = spec
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.ndim = len(self.shape)
        self._store = store
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"spec": self.spec, "shape": self.shape, "dtype": self.dtype.str}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["spec"], tuple(state["shape"]), np.dtype(state["dtype"]))  # type: ignore[misc]

    def _handle(self) -> Any:
        with self._lock:
            if self._store is None:
                ts = _tensorstore()
                spec = {k: v for k, v in self.spec.items() if k != "metadata"}
                self._store = ts.open(spec, open=True, read=True, write=True).result()
            return self._store

    def __setitem__(self, index: Any, value: np.ndarray) -> None:
        self._handle()[index].write(np.ascontiguousarray(value, dtype=self.dtype)).result()

    def __getitem__(self, index: Any) -> np.ndarray:
        return np.asarray(self._handle()[index].read().result())


def create_arrays(root: Any, group_path: str, plans: list[Any], axes: Any, dtype: np.dtype, spec: Any, codec: Any) -> None:
    """Create every level's array through tensorstore; ``plan.array`` becomes a :class:`TensorStoreArray`."""
    ts = _tensorstore()
    base = Path(root) / group_path if group_path else Path(root)
    dims = [a.name for a in axes]
    specs = [array_spec(base / str(k), plan, dims, dtype, spec.zarr_format, codec) for k, plan in enumerate(plans)]
    for plan, array_spec_k in zip(plans, specs):  # all checked before any array is created
        try:
            store = ts.open(array_spec_k, create=True, delete_existing=True).result()
        except Exception as exc:  # tensorstore raises ValueError for specs it rejects
            raise NgffError(f"tensorstore cannot create this array: {exc}", location=str(base), rule="backend") from exc
        plan.array = TensorStoreArray(array_spec_k, plan.shape, dtype, store)
