"""Open OME-Zarr stores of every version lazily.

:func:`read` returns an :class:`~ngff.model.Image`, :class:`~ngff.model.Plate`,
:class:`~ngff.model.Well` or :class:`~ngff.model.Collection`.  Only metadata is read:
levels are dask arrays whose chunks are the stored chunks, label images and well fields
are opened when first accessed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import InvalidMetadataError, MissingArrayError, NgffError, NotOmeZarrError, StoreError
from .model import (
    Collection,
    GroupMetadata,
    Image,
    LazyMapping,
    LazySequence,
    Multiscale,
    Plate,
    Transform,
    Well,
)
from .spec import Spec, detect_version, get_spec, has_ome_keys
from .store import NodeDocument, Store, join, open_store

__all__ = ["read", "read_image", "read_group"]

Node = Image | Plate | Well | Collection


def read(location: str | os.PathLike[str] | Store, *, multiscale: str | int | None = None) -> Node:
    """Open an OME-Zarr location lazily.

    Parameters
    ----------
    location
        A directory store, a zip (``.ozx``) file or a URL.  It may point at any node
        of a hierarchy: an image, a label image, a plate, a well, a labels group or a
        bioformats2raw collection.
    multiscale
        Name or index of the multiscale to use when an image lists several
        (default: the first).

    Returns
    -------
    Image, Plate, Well or Collection
        A labels group opens as a :class:`Collection` of its label images.

    Raises
    ------
    NgffError
        ``StoreError`` when the location cannot be read, ``NotOmeZarrError`` when it
        holds no OME-Zarr metadata, ``InvalidMetadataError``, ``MissingArrayError`` or
        ``UnsupportedVersionError`` for broken or unknown content.
    """
    store = open_store(location)
    # An .ozx archive's comment names the version (RFC-9) for metadata that does not.
    return read_group(store, "", multiscale=multiscale, default_version=getattr(store, "default_version", None))


def _group(store: Store, path: str, default_version: str | None = None) -> tuple[NodeDocument, Spec, GroupMetadata]:
    """Read, version-detect and parse the OME metadata of the group at ``path``."""
    node = store.node(path)
    if node is None:
        raise NotOmeZarrError("no Zarr metadata (zarr.json, .zattrs or .zgroup) here", location=store.where(path))
    if node.node_type == "array":
        raise NotOmeZarrError("this is a Zarr array, not an OME-Zarr group", location=store.where(path))
    if node.zarr_format == 3 and not has_ome_keys(node.attributes):
        # 0.4 metadata beside an OME-less zarr.json: RFC-2 prefers 0.5 only when it exists.
        legacy = store.json(join(path, ".zattrs"))
        if legacy and has_ome_keys(legacy):
            node = NodeDocument(node.path, 2, "group", legacy, {})
    version = detect_version(node.attributes, node.zarr_format, default_version)
    if version is None:
        raise NotOmeZarrError("a Zarr group without OME-Zarr metadata", location=store.where(path))
    spec = get_spec(version, location=store.where(path))
    where = store.where(join(path, "zarr.json" if node.zarr_format == 3 else ".zattrs"))
    meta = spec.parse(node.attributes, where)
    return node, spec, meta


def read_group(
    store: Store, path: str, *, multiscale: str | int | None = None, default_version: str | None = None
) -> Node:
    """Open the OME-Zarr node at ``path`` of an opened store (see :func:`read`)."""
    node, spec, meta = _group(store, path, default_version)
    kind = meta.kind
    if kind == "plate":
        return _plate(store, path, spec, meta)
    if kind == "collection":
        return _collection(store, path, spec, meta)
    if kind == "well":
        return _well(store, path, spec, meta)
    if kind in ("image", "label"):
        return _image(store, path, spec, meta, multiscale)
    if kind == "labels":
        return _labels_collection(store, path, spec, meta)
    raise NotOmeZarrError(
        "the OME metadata here describes no image, plate, well or collection", location=store.where(path)
    )


def read_image(store: Store, path: str, *, default_version: str | None = None) -> Image:
    """Open the image at ``path``; :class:`NgffError` when something else is there."""
    node = read_group(store, path, default_version=default_version)
    if not isinstance(node, Image):
        raise InvalidMetadataError(
            f"expected an image here, found a {type(node).__name__.lower()}", location=store.where(path)
        )
    return node


# --------------------------------------------------------------------------- images


def _choose(multiscales: Sequence[Multiscale], wanted: str | int | None, where: str) -> Multiscale:
    if wanted is None:
        return multiscales[0]
    if isinstance(wanted, int):
        if 0 <= wanted < len(multiscales):
            return multiscales[wanted]
    else:
        for ms in multiscales:
            if ms.name == wanted:
                return ms
    names = [ms.name for ms in multiscales]
    raise NgffError(f"no multiscale {wanted!r} here (available: {names})", location=where)


def _image(store: Store, path: str, spec: Spec, meta: GroupMetadata, wanted: str | int | None) -> Image:
    where = store.where(path)
    ms = _choose(meta.multiscales, wanted, where)
    arrays = []
    for i, dataset in enumerate(ms.datasets):
        array_path = join(path, dataset.path)
        node = store.node(array_path)
        if node is None or node.node_type != "array":
            found = "nothing" if node is None else "a group"
            raise MissingArrayError(
                f"multiscales datasets[{i}] path {dataset.path!r} names {found}, not a Zarr array",
                location=store.where(array_path),
                rule="each dataset path MUST refer to a Zarr array",
            )
        arrays.append(store.open_array(node, dimension_separator=spec.dimension_separator))
    ndims = {a.ndim for a in arrays}
    if len(ndims) != 1:
        raise InvalidMetadataError(
            f"levels have different dimensionalities {sorted(ndims)}",
            location=where,
            rule="all datasets MUST have the same number of dimensions",
        )
    ndim = ndims.pop()
    if not ms.axes:
        ms = Multiscale(
            axes=spec.implied_axes(ndim),
            datasets=ms.datasets,
            transforms=ms.transforms,
            name=ms.name,
            type=ms.type,
            metadata=ms.metadata,
        )
    if len(ms.axes) != ndim:
        raise InvalidMetadataError(
            f"{len(ms.axes)} axes {ms.dims} but the arrays are {ndim}-D",
            location=where,
            rule="the number of axes MUST equal the dimensionality of the arrays",
        )
    shapes = [tuple(a.shape) for a in arrays]
    scales, translations = _level_transforms(ms, shapes, where)
    levels = [
        _to_dask(
            a,
            store.where(join(path, d.path)),
            store.chunk_files(join(path, d.path)),
        )
        for a, d in zip(arrays, ms.datasets)
    ]
    return Image(
        location=store.location,
        path=path,
        version=spec.version,
        multiscale=ms,
        levels=levels,
        level_paths=tuple(d.path for d in ms.datasets),
        scales=scales,
        translations=translations,
        omero=meta.omero,
        image_label=meta.image_label,
        labels=_labels_of(store, path, spec) if meta.image_label is None else {},
    )


#: More chunks than this along one axis is taken as corrupt metadata (dask would
#: build a tuple of that length).
_MAX_CHUNKS_PER_AXIS = 10_000_000


class _Level:
    """A zarr array as dask sees it, turning read failures into :class:`NgffError`."""

    def __init__(self, array: Any, where: str):
        self.array = array
        self.where = where
        self.shape = tuple(array.shape)
        self.dtype = array.dtype
        self.ndim = len(self.shape)

    def __getitem__(self, index: Any) -> Any:
        try:
            return self.array[index]
        except NgffError:
            raise
        except Exception as exc:  # codec and I/O errors from zarr, zarrs, numcodecs, fsspec
            raise StoreError(f"cannot read pixels {_describe(index)}: {exc}", location=self.where) from exc


def _describe(index: Any) -> str:
    if isinstance(index, tuple):
        return "[" + ", ".join(f"{s.start}:{s.stop}" if isinstance(s, slice) else str(s) for s in index) + "]"
    return str(index)


def _to_dask(array: Any, where: str, directory: Any = None):
    """A dask array over a zarr array, chunked like the stored (inner) chunks.

    When the array lies in a local ``directory`` and its codecs allow, dask reads
    through a :class:`~ngff.chunkread.ChunkReader`: dask then pushes selections
    (``level[z]``) into the getter (``fancy=True``) and only the needed part of a
    chunk is decoded.  Otherwise it reads whole chunks through zarr.
    """
    import dask.array as da

    from .chunkread import chunk_reader

    chunks = tuple(array.chunks)
    for n, c in zip(array.shape, chunks):
        if n < 0 or c < 1 or n > 2**62 or c > 2**62 or -(-n // c) > _MAX_CHUNKS_PER_AXIS:
            raise InvalidMetadataError(
                f"implausible array shape {tuple(array.shape)} with chunks {chunks}", location=where
            )
    level = _Level(array, where)
    fast = chunk_reader(array, where, directory, level)
    return da.from_array(
        level if fast is None else fast,
        chunks=chunks,
        name=f"ngff-{uuid.uuid4().hex}",
        lock=False,
        asarray=False,
        # dask fuses a later selection into a getter only when it is "fancy"; the
        # ChunkReader passes everything it does not decode itself to zarr.
        fancy=fast is not None,
        inline_array=True,
        meta=np.empty((0,) * len(chunks), dtype=array.dtype),
    )


def _vector(transforms: Sequence[Transform], kind: str, ndim: int, where: str) -> tuple[float, ...] | None:
    """The inline ``kind`` vector of a transform list, one value per axis.

    Short vectors (writers that left out leading time/channel axes; the official 0.4
    suite accepts one) are padded in front with the identity value.
    """
    for t in transforms:
        if t.type == kind and t.values is not None:
            if len(t.values) > ndim or not t.values:
                raise InvalidMetadataError(
                    f"a {kind} of length {len(t.values)} for {ndim} axes",
                    location=where,
                    rule=f"the length of a {kind} MUST equal the number of axes",
                )
            identity = 1.0 if kind == "scale" else 0.0
            return (identity,) * (ndim - len(t.values)) + tuple(t.values)
    return None


def _level_transforms(
    ms: Multiscale, shapes: list[tuple[int, ...]], where: str
) -> tuple[tuple[tuple[float, ...], ...], tuple[tuple[float, ...], ...]]:
    """Per-level scale and translation, composed with the multiscale-level transforms.

    Levels without a scale (0.1-0.3) get the shape ratio to level 0 on space axes.
    """
    ndim = len(ms.axes)
    outer_scale = _vector(ms.transforms, "scale", ndim, where) or (1.0,) * ndim
    outer_shift = _vector(ms.transforms, "translation", ndim, where) or (0.0,) * ndim
    scales, translations = [], []
    for dataset, shape in zip(ms.datasets, shapes):
        scale = _vector(dataset.transforms, "scale", ndim, where)
        if scale is None:
            scale = tuple(
                shapes[0][i] / shape[i] if ms.axes[i].type not in ("time", "channel") and shape[i] else 1.0
                for i in range(ndim)
            )
        shift = _vector(dataset.transforms, "translation", ndim, where) or (0.0,) * ndim
        scales.append(tuple(o * s for o, s in zip(outer_scale, scale)))
        translations.append(tuple(o * t + u for o, t, u in zip(outer_scale, shift, outer_shift)))
    return tuple(scales), tuple(translations)


def _labels_of(store: Store, image_path: str, spec: Spec) -> LazyMapping:
    """The image's label images, listed and opened only when first asked for."""
    labels_path = join(image_path, "labels")

    def names() -> tuple[str, ...]:
        node = store.node(labels_path)
        if node is None or node.node_type != "group":
            return ()
        version = detect_version(node.attributes, node.zarr_format, spec.version)
        if version is None:
            return ()
        meta = get_spec(version, location=store.where(labels_path)).parse(
            node.attributes, store.where(labels_path)
        )
        return meta.labels or ()

    def load(name: str) -> Image:
        return read_image(store, join(labels_path, name), default_version=spec.version)

    return LazyMapping(names, load)


def _labels_collection(store: Store, path: str, spec: Spec, meta: GroupMetadata) -> Collection:
    names = meta.labels or ()
    return Collection(
        location=store.location,
        path=path,
        version=spec.version,
        series_paths=tuple(names),
        images=LazyMapping(names, lambda n: read_image(store, join(path, n), default_version=spec.version)),
    )


# --------------------------------------------------------------------------- HCS and collections


def _well(store: Store, path: str, spec: Spec, meta: GroupMetadata) -> Well:
    assert meta.well is not None
    refs = meta.well.images
    return Well(
        location=store.location,
        path=path,
        version=spec.version,
        metadata=meta.well,
        fields=LazySequence(
            len(refs), lambda i: read_image(store, join(path, refs[i].path), default_version=spec.version)
        ),
    )


def _plate(store: Store, path: str, spec: Spec, meta: GroupMetadata) -> Plate:
    assert meta.plate is not None

    def load_well(well_path: str) -> Well:
        node = read_group(store, join(path, well_path), default_version=spec.version)
        if not isinstance(node, Well):
            raise InvalidMetadataError(
                "a plate well path that holds no well metadata",
                location=store.where(join(path, well_path)),
                rule="well groups MUST contain well metadata",
            )
        return node

    return Plate(
        location=store.location, path=path, version=spec.version, metadata=meta.plate, load_well=load_well, store=store
    )


def _collection(store: Store, path: str, spec: Spec, meta: GroupMetadata) -> Collection:
    series = _series_paths(store, path, spec)
    return Collection(
        location=store.location,
        path=path,
        version=spec.version,
        series_paths=series,
        images=LazyMapping(series, lambda s: read_image(store, join(path, s), default_version=spec.version)),
    )


def _series_paths(store: Store, path: str, spec: Spec) -> tuple[str, ...]:
    """Image paths of a bioformats2raw collection: ``OME/series`` or ``0``, ``1``, …"""
    ome_node = store.node(join(path, "OME"))
    if ome_node is not None:
        version = detect_version(ome_node.attributes, ome_node.zarr_format, spec.version) or spec.version
        series = get_spec(version).parse(ome_node.attributes, store.where(join(path, "OME"))).series
        if series:
            return series
    found = []
    index = 0
    while store.node(join(path, str(index))) is not None:
        found.append(str(index))
        index += 1
    return tuple(found)
