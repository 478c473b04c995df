"""A JSON-ready description of an OME-Zarr node, for ``ngff info`` and the MCP server.

:func:`summarize` reads metadata only — never pixel data — and returns plain ``dict``,
``list``, ``str``, number, bool and ``None`` values, so the result can be passed to
:func:`json.dumps` as is.  Every summary has the same top-level keys whatever the node
kind; keys that do not apply to a kind are ``None``.

Chunking, sharding and codecs are taken from the Zarr array documents (``zarr.json`` /
``.zarray``) rather than from the opened arrays, because those documents say what is
stored (outer shard shape, inner chunk shape, codec levels) while the opened arrays only
expose the shape zarr reads in.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import NgffError
from .model import Collection, Image, Plate, Well
from .store import NodeDocument, Store, join, open_store

__all__ = ["summarize", "codec_label", "array_layout", "orientation_code", "disk_usage"]

Node = Image | Plate | Well | Collection

#: The keys every summary has, in display order.
SUMMARY_KEYS: tuple[str, ...] = (
    "kind",
    "location",
    "path",
    "version",
    "name",
    "dims",
    "axes",
    "levels",
    "channels",
    "labels",
    "image_label",
    "plate",
    "well",
    "collection",
    "orientation_code",
    "bytes_on_disk",
)

# Blosc's shuffle as Zarr v2 (numcodecs) stores it.
_BLOSC_SHUFFLE = {-1: "autoshuffle", 0: "noshuffle", 1: "shuffle", 2: "bitshuffle"}

# The letter of the direction each RFC-4 value points *towards* (nibabel/Slicer "RAS+"
# convention: "left-to-right" means coordinates grow towards the Right).  Only the three
# classic patient axes have letters; quadruped terms such as "rostral-to-caudal" do not.
_ORIENTATION_LETTER = {
    "left-to-right": "R",
    "right-to-left": "L",
    "posterior-to-anterior": "A",
    "anterior-to-posterior": "P",
    "inferior-to-superior": "S",
    "superior-to-inferior": "I",
}


def summarize(
    location_or_node: str | os.PathLike[str] | Store | Node, *, measure: bool = True
) -> dict[str, Any]:
    """Describe an OME-Zarr node as a JSON-serialisable dictionary.

    Parameters
    ----------
    location_or_node
        A location (path, ``.ozx`` file, URL, opened :class:`~ngff.store.Store`) or a node
        already returned by :func:`ngff.read`.
    measure
        Add up the file sizes of a local store for ``bytes_on_disk``; False skips the
        directory walk (which can be slow on stores with millions of chunk files).

    Returns
    -------
    dict
        Keys ``kind`` (``"image"``, ``"label"``, ``"plate"``, ``"well"`` or
        ``"collection"``), ``location``, ``path``, ``version``, ``name``, ``dims``,
        ``axes``, ``levels``, ``channels``, ``labels``, ``image_label``, ``plate``,
        ``well``, ``collection``, ``orientation_code`` and ``bytes_on_disk``; those that do
        not apply to the kind are ``None``.

    Raises
    ------
    NgffError
        When the location cannot be read or holds no OME-Zarr.
    """
    if isinstance(location_or_node, (Image, Plate, Well, Collection)):
        node = location_or_node
        store = open_store(node.location)
    else:
        from .reader import read_group

        store = open_store(location_or_node)
        node = read_group(store, "")
    out: dict[str, Any] = dict.fromkeys(SUMMARY_KEYS)
    out.update(location=node.location, path=node.path, version=node.version)
    if isinstance(node, Image):
        out.update(_image(store, node))
    elif isinstance(node, Plate):
        out.update(kind="plate", name=node.name, plate=_plate(node))
    elif isinstance(node, Well):
        out.update(kind="well", well=_well(node))
    else:
        out.update(kind="collection", collection=_collection(store, node))
    out["bytes_on_disk"] = disk_usage(store, node.path) if measure else None
    return out


# --------------------------------------------------------------------------- images


def _image(store: Store, image: Image) -> dict[str, Any]:
    return {
        "kind": "label" if image.is_label else "image",
        "name": image.name,
        "dims": list(image.dims),
        "axes": [
            {"name": a.name, "type": a.type, "unit": a.unit, "orientation": a.orientation}
            for a in image.axes
        ],
        "levels": _levels(store, image),
        "channels": [_channel(c) for c in image.channels],
        "labels": None if image.is_label else _labels(store, image),
        "image_label": _image_label(image) if image.is_label else None,
        "orientation_code": orientation_code(image.axes),
    }


def _levels(store: Store, image: Image) -> list[dict[str, Any]]:
    levels = []
    for i, level_path in enumerate(image.level_paths):
        array = image.levels[i]  # shape and dtype as zarr interpreted them; no data is read
        document = store.node(join(image.path, level_path))
        layout = array_layout(document) if document is not None else _UNKNOWN_LAYOUT
        levels.append(
            {
                "path": level_path,
                "shape": [int(n) for n in array.shape],
                "dtype": str(array.dtype),
                **layout,
                "scale": [_number(v) for v in image.scales[i]],
                "translation": [_number(v) for v in image.translations[i]],
            }
        )
    return levels


def _channel(channel: Any) -> dict[str, Any]:
    window = channel.window
    return {
        "label": channel.label,
        "color": channel.color,
        "window": None
        if window is None
        else {k: _number(getattr(window, k)) for k in ("min", "max", "start", "end")},
        "active": channel.active,
    }


def _labels(store: Store, image: Image) -> dict[str, Any]:
    """Short summaries of the image's label images (metadata of each label only)."""
    try:
        names = list(image.labels)
    except NgffError as exc:
        return {"error": str(exc)}
    out: dict[str, Any] = {}
    for name in names:
        try:
            label = image.labels[name]
        except NgffError as exc:
            out[name] = {"error": str(exc)}
            continue
        out[name] = {
            "dims": list(label.dims),
            "shape": [int(n) for n in label.shape],
            "dtype": str(label.dtype),
            "levels": len(label.levels),
            "colors": len(label.image_label.colors) if label.image_label else 0,
        }
    return out


def _image_label(image: Image) -> dict[str, Any]:
    meta = image.image_label
    assert meta is not None
    return {"colors": len(meta.colors), "properties": len(meta.properties), "source": meta.source}


# --------------------------------------------------------------------------- array documents

_UNKNOWN_LAYOUT: dict[str, Any] = {"chunks": None, "shards": None, "codecs": None}


def array_layout(node: NodeDocument) -> dict[str, Any]:
    """Chunks, shards and codecs of a Zarr array from its metadata document.

    Parameters
    ----------
    node
        The array's :class:`~ngff.store.NodeDocument`.

    Returns
    -------
    dict
        ``chunks`` (the inner chunk shape for sharded arrays), ``shards`` (the shard
        shape, or None when unsharded) and ``codecs`` (labels such as
        ``"blosc(zstd,5,bitshuffle)"``; for sharded arrays the codecs inside a shard).
        Values that the document does not state are None.
    """
    doc = node.document
    if node.zarr_format == 2:
        chunks = doc.get("chunks")
        codecs: list[str] = []
        for spec in doc.get("filters") or []:
            if isinstance(spec, Mapping):
                codecs.append(codec_label(str(spec.get("id")), spec))
        compressor = doc.get("compressor")
        if isinstance(compressor, Mapping):
            codecs.append(codec_label(str(compressor.get("id")), compressor))
        return {"chunks": _int_list(chunks), "shards": None, "codecs": codecs}
    grid = doc.get("chunk_grid")
    outer = _config(grid).get("chunk_shape") if isinstance(grid, Mapping) else None
    chain = [c for c in doc.get("codecs") or [] if isinstance(c, Mapping)]
    sharding = next((c for c in chain if c.get("name") == "sharding_indexed"), None)
    if sharding is None:
        return {"chunks": _int_list(outer), "shards": None, "codecs": _v3_codecs(chain)}
    inner = _config(sharding)
    return {
        "chunks": _int_list(inner.get("chunk_shape")),
        "shards": _int_list(outer),
        "codecs": _v3_codecs([c for c in inner.get("codecs") or [] if isinstance(c, Mapping)]),
    }


def _v3_codecs(chain: Sequence[Mapping[str, Any]]) -> list[str]:
    return [codec_label(str(c.get("name")), _config(c)) for c in chain]


def _config(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    config = entry.get("configuration")
    return config if isinstance(config, Mapping) else {}


def codec_label(name: str, config: Mapping[str, Any]) -> str:
    """A short label of a codec and its main settings.

    Parameters
    ----------
    name
        Zarr v3 codec name or Zarr v2 (numcodecs) ``id``.
    config
        Its configuration (v3) or the whole codec object (v2).

    Returns
    -------
    str
        E.g. ``"blosc(zstd,5,bitshuffle)"``, ``"zstd(3)"``, ``"gzip(6)"``, ``"bytes"``,
        ``"transpose(2,1,0)"`` or just the name for codecs without notable settings.
    """
    name = name.removeprefix("numcodecs.")
    if name == "blosc":
        shuffle = config.get("shuffle")
        if isinstance(shuffle, int) and not isinstance(shuffle, bool):
            shuffle = _BLOSC_SHUFFLE.get(shuffle, shuffle)
        parts = [config.get("cname"), config.get("clevel"), shuffle]
        return f"blosc({','.join(str(p) for p in parts if p is not None)})"
    if name in ("zstd", "gzip", "zlib", "bz2", "lzma") and config.get("level") is not None:
        return f"{name}({config['level']})"
    if name == "bytes":
        # Little endian is the norm; only the unusual big endian is worth showing.
        return "bytes(big)" if config.get("endian") == "big" else "bytes"
    if name == "transpose" and isinstance(config.get("order"), list):
        return f"transpose({','.join(str(i) for i in config['order'])})"
    return name


# --------------------------------------------------------------------------- HCS and collections


def _plate(plate: Plate) -> dict[str, Any]:
    """Plate grid and wells from the plate metadata, plus the fields of the first well.

    Only the first well is opened: plates may hold thousands of wells, and writers give
    every well the same fields, so one well is representative.
    """
    meta = plate.metadata
    first: dict[str, Any] | None = None
    if meta.wells:
        ref = meta.wells[0]
        try:
            well = plate.load_well(ref.path)
            first = {"path": ref.path, "fields": len(well.metadata.images), "image": None}
            if well.metadata.images:
                image = well.fields[0]  # metadata only: the image shape of the plate's fields
                first["image"] = {
                    "path": well.field_paths[0],
                    "dims": list(image.dims),
                    "shape": [int(n) for n in image.shape],
                    "dtype": str(image.dtype),
                    "levels": len(image.levels),
                    "channels": [c.label for c in image.channels],
                }
        except NgffError as exc:
            first = {"path": ref.path, "error": str(exc)}
    return {
        "name": meta.name,
        "rows": list(meta.rows),
        "columns": list(meta.columns),
        "grid": [len(meta.rows), len(meta.columns)],
        "wells": len(meta.wells),
        "well_paths": [w.path for w in meta.wells],
        "field_count": meta.field_count,
        "fields_per_well": first.get("fields") if first else None,
        "first_well": first,
        "acquisitions": [
            {
                "id": a.id,
                "name": a.name,
                "maximum_field_count": a.maximum_field_count,
                "description": a.description,
                "start_time": a.start_time,
                "end_time": a.end_time,
            }
            for a in meta.acquisitions
        ],
    }


def _well(well: Well) -> dict[str, Any]:
    acquisitions = sorted({a for a in well.acquisitions if a is not None})
    return {
        "fields": len(well.field_paths),
        "field_paths": list(well.field_paths),
        "acquisitions": acquisitions,
    }


def _collection(store: Store, collection: Collection) -> dict[str, Any]:
    return {
        "type": _collection_type(store, collection.path),
        "series": list(collection.series_paths),
        "plate": _plate(collection.plate) if collection.plate is not None else None,
    }


def _collection_type(store: Store, path: str) -> str | None:
    """``"bioformats2raw"`` or ``"labels"``: which kind of group holds the series."""
    from .spec import detect_version, get_spec

    node = store.node(path)
    if node is None:
        return None
    try:
        version = detect_version(node.attributes, node.zarr_format)
        kind = get_spec(version).parse(node.attributes, store.where(path)).kind if version else None
    except NgffError:
        return None
    return {"collection": "bioformats2raw", "labels": "labels"}.get(kind or "")


# --------------------------------------------------------------------------- helpers


def orientation_code(axes: Sequence[Any]) -> str | None:
    """The letter code (e.g. ``"RAS"``) of the space axes' RFC-4 orientations.

    Letters are given in x, y, z order — the reverse of the stored ``z, y, x`` axis order —
    as anatomical codes conventionally are, each naming the direction coordinates grow
    towards.  None when a space axis has no orientation or one without a letter.
    """
    space = [a for a in axes if a.type == "space"]
    letters = [_ORIENTATION_LETTER.get(a.orientation or "") for a in reversed(space)]
    if not letters or None in letters:
        return None
    return "".join(letters)  # type: ignore[arg-type]


def disk_usage(store: Store, path: str = "") -> int | None:
    """Bytes stored under ``path``: file sizes of a local directory, or the zip file's size.

    None for remote stores, where listing every object would cost a request per chunk.
    """
    if store.root is not None:
        return _tree_size(store.root / path if path else store.root)
    local = Path(store.location)
    if "://" not in store.location and local.is_file():
        return local.stat().st_size
    return None


def _tree_size(top: Path) -> int:
    total = 0
    stack = [str(top)]
    while stack:  # os.scandir reuses the directory listing's stat data: much faster than rglob
        try:
            entries = os.scandir(stack.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
                except OSError:
                    continue
    return total


def _int_list(value: Any) -> list[int] | None:
    if isinstance(value, (list, tuple)) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return [int(v) for v in value]
    return None


def _number(value: Any) -> float | None:
    """A JSON-safe number: NaN and infinities (invalid JSON) become None."""
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value):
        return None
    return value
