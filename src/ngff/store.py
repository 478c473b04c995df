"""Where data lives: local directories, zip files and fsspec URLs.

This is the only module that knows about storage.  :func:`open_store` turns a location
into a :class:`Store`, which reads raw metadata documents (``zarr.json``, ``.zattrs``,
``.zarray``) and opens Zarr arrays from documents already read, so each metadata file
is fetched once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InvalidMetadataError, MissingArrayError, StoreError

__all__ = ["Store", "NodeDocument", "open_store", "join", "enable_fast_codecs", "put_json", "OutputDirectory"]

ZARR_JSON = "zarr.json"
ZATTRS = ".zattrs"
ZGROUP = ".zgroup"
ZARRAY = ".zarray"



def join(*parts: str) -> str:
    """Join store keys with ``/``, dropping empty parts and normalising ``.``/``..``."""
    out: list[str] = []
    for part in parts:
        for piece in str(part).replace("\\", "/").split("/"):
            if piece in ("", "."):
                continue
            if piece == "..":
                if out:
                    out.pop()
                continue
            out.append(piece)
    return "/".join(out)


_fast_codecs_checked = False


def enable_fast_codecs() -> bool:
    """Use the Rust ``zarrs`` codec pipeline when it is importable.

    zarr-python's own pipeline stays in place when ``zarrs`` is missing.  The choice
    is process-wide (zarr's configuration is global) and made once.

    Returns
    -------
    bool
        True when the zarrs pipeline is active.
    """
    global _fast_codecs_checked
    import zarr

    if not _fast_codecs_checked:
        _fast_codecs_checked = True
        if os.environ.get("NGFF_NO_ZARRS") != "1":
            try:
                import zarrs  # noqa: F401
            except ImportError:
                pass
            else:
                zarr.config.set({"codec_pipeline.path": "zarrs.ZarrsCodecPipeline"})
    return zarr.config.get("codec_pipeline.path", "").startswith("zarrs")


@dataclass(frozen=True)
class NodeDocument:
    """The raw metadata of one Zarr node.

    Attributes
    ----------
    path
        Key prefix of the node inside the store ("" for the root).
    zarr_format
        2 or 3.
    node_type
        ``"group"`` or ``"array"``.
    attributes
        User attributes (``.zattrs`` or ``zarr.json`` ``attributes``).
    document
        The full ``zarr.json`` (v3) or ``.zarray`` (v2 arrays; ``{}`` for v2 groups).
    """

    path: str
    zarr_format: int
    node_type: str
    attributes: Mapping[str, Any]
    document: Mapping[str, Any]


class Store:
    """A location opened for reading OME-Zarr.

    Parameters
    ----------
    location
        Display form of the location (used in messages).
    zarr_store
        The zarr store giving access to the keys.
    root
        Local directory backing the store, when there is one (fast path for metadata).
    """

    def __init__(self, location: str, zarr_store: Any, root: Path | None = None):
        self.location = location
        self.zarr_store = zarr_store
        self.root = root
        self._consolidated: dict[str, NodeDocument] | None = None

    def __repr__(self) -> str:
        return f"Store({self.location!r})"

    def where(self, key: str = "") -> str:
        """Human form of a key inside this store, for messages."""
        return f"{self.location.rstrip('/')}/{key}" if key else self.location

    # ------------------------------------------------------------------ raw keys

    def get(self, key: str) -> bytes | None:
        """Bytes stored under ``key``, or None when there is no such key."""
        if self.root is not None:
            try:
                return (self.root / key).read_bytes()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                return None
            except OSError as exc:
                raise StoreError(f"cannot read: {exc.strerror or exc}", location=self.where(key)) from exc
        from zarr.core.buffer import default_buffer_prototype
        from zarr.core.sync import sync

        try:
            buffer = sync(self.zarr_store.get(key, prototype=default_buffer_prototype()))
        except FileNotFoundError:
            return None
        except Exception as exc:  # network and backend errors
            raise StoreError(f"cannot read: {exc}", location=self.where(key)) from exc
        return None if buffer is None else buffer.to_bytes()

    def json(self, key: str) -> dict[str, Any] | None:
        """The JSON object stored under ``key``, or None when the key is absent.

        Raises
        ------
        InvalidMetadataError
            When the key holds something that is not a JSON object.
        """
        raw = self.get(key)
        if raw is None:
            return None
        try:
            doc = json.loads(raw)
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidMetadataError(f"malformed JSON: {exc}", location=self.where(key)) from exc
        if not isinstance(doc, dict):
            raise InvalidMetadataError(
                f"expected a JSON object, found {type(doc).__name__}", location=self.where(key)
            )
        return doc

    def list_dir(self, prefix: str) -> list[str]:
        """Names directly below ``prefix`` (sorted); empty when unknown."""
        if self.root is not None:
            try:
                return sorted(p.name for p in (self.root / prefix).iterdir())
            except OSError:
                return []
        from zarr.core.sync import sync

        async def collect() -> list[str]:
            return [name async for name in self.zarr_store.list_dir(prefix)]

        try:
            return sorted(set(sync(collect())))
        except Exception:
            return []

    # ------------------------------------------------------------------ nodes

    def consolidated(self) -> dict[str, NodeDocument]:
        """Node documents from the root's consolidated metadata (v3 inline or v2 ``.zmetadata``).

        Consolidated metadata lets a reader skip one request per node, which matters
        for remote stores; it is read once and trusted as zarr-python does.
        """
        if self._consolidated is None:
            self._consolidated = {}
            root = self.json(ZARR_JSON)
            inline = root.get("consolidated_metadata") if root else None
            if isinstance(inline, dict) and isinstance(inline.get("metadata"), dict):
                for key, doc in inline["metadata"].items():
                    if isinstance(doc, dict) and doc.get("node_type") in ("group", "array"):
                        attrs = doc.get("attributes") or {}
                        if isinstance(attrs, dict):
                            self._consolidated[join(key)] = NodeDocument(
                                join(key), 3, doc["node_type"], attrs, doc
                            )
            elif root is None:
                zmeta = self.json(".zmetadata")
                entries = zmeta.get("metadata") if zmeta else None
                if isinstance(entries, dict):
                    self._consolidated.update(_v2_consolidated(entries))
        return self._consolidated

    def node(self, path: str) -> NodeDocument | None:
        """The metadata of the node at ``path`` (v3 preferred over v2), or None."""
        path = join(path)
        if path and path in self.consolidated():
            return self._consolidated[path]  # type: ignore[index]
        doc = self.json(join(path, ZARR_JSON))
        if doc is not None and doc.get("zarr_format") == 3:
            node_type = doc.get("node_type")
            if node_type not in ("group", "array"):
                raise InvalidMetadataError(
                    f"'node_type' must be 'group' or 'array', found {node_type!r}",
                    location=self.where(join(path, ZARR_JSON)),
                    rule="Zarr v3 core: node_type",
                )
            attrs = doc.get("attributes") or {}
            if not isinstance(attrs, dict):
                raise InvalidMetadataError(
                    "'attributes' must be a JSON object", location=self.where(join(path, ZARR_JSON))
                )
            return NodeDocument(path, 3, node_type, attrs, doc)
        zarray = self.json(join(path, ZARRAY))
        zattrs = self.json(join(path, ZATTRS))
        if zarray is not None:
            return NodeDocument(path, 2, "array", zattrs or {}, zarray)
        if zattrs is not None or self.get(join(path, ZGROUP)) is not None:
            return NodeDocument(path, 2, "group", zattrs or {}, {})
        return None

    def open_array(self, node: NodeDocument, *, dimension_separator: str = "/"):
        """Open a ``zarr.Array`` from an already read array document.

        Parameters
        ----------
        node
            The array's metadata, from :meth:`node`.
        dimension_separator
            Chunk key separator for Zarr v2 arrays whose ``.zarray`` does not say
            (0.1 wrote flat ``.`` keys, later versions nested ``/`` keys).

        Raises
        ------
        InvalidMetadataError
            When zarr cannot interpret the array document.
        """
        import zarr
        from zarr.core.array import AsyncArray
        from zarr.storage import StorePath

        enable_fast_codecs()
        if node.zarr_format == 2:
            meta: dict[str, Any] = dict(node.document)
            meta.setdefault("dimension_separator", dimension_separator)
            meta["zarr_format"] = 2
            meta["attributes"] = dict(node.attributes)
            key = join(node.path, ZARRAY)
        else:
            meta = dict(node.document)
            key = join(node.path, ZARR_JSON)
        try:
            if _big_endian_v2(meta):
                # The zarrs pipeline refuses non-native byte order in Zarr v2 arrays;
                # zarr-python's own pipeline reads them.
                with zarr.config.set({"codec_pipeline.path": "zarr.core.codec_pipeline.BatchedCodecPipeline"}):
                    async_array = AsyncArray(metadata=meta, store_path=StorePath(self.zarr_store, node.path))
            else:
                async_array = AsyncArray(metadata=meta, store_path=StorePath(self.zarr_store, node.path))
        except Exception as exc:  # zarr raises many kinds for bad metadata
            raise InvalidMetadataError(f"not a usable Zarr array: {exc}", location=self.where(key)) from exc
        return zarr.Array(async_array)

    def chunk_files(self, path: str) -> Any:
        """Where :mod:`ngff.chunkread` may read the chunk files of the array at ``path``
        directly: its local folder, STORED entries of a local archive, or None."""
        if self.root is not None:
            return self.root / path
        archive = getattr(self, "archive", None)
        if archive is not None:
            from .ozx.chunks import archive_files

            return archive_files(archive, path)
        return None

    def require_array(self, path: str, *, dimension_separator: str = "/"):
        """Open the array at ``path``; :class:`MissingArrayError` when there is none."""
        node = self.node(path)
        if node is None:
            raise MissingArrayError("no Zarr array here", location=self.where(path))
        if node.node_type != "array":
            raise MissingArrayError("expected a Zarr array, found a group", location=self.where(path))
        return self.open_array(node, dimension_separator=dimension_separator)


def _big_endian_v2(meta: Mapping[str, Any]) -> bool:
    dtype = meta.get("dtype")
    return meta.get("zarr_format") == 2 and isinstance(dtype, str) and dtype.startswith(">")


def _v2_consolidated(entries: dict[str, Any]) -> dict[str, NodeDocument]:
    nodes: dict[str, NodeDocument] = {}
    for key, doc in entries.items():
        if not isinstance(doc, dict):
            continue
        head, _, name = key.rpartition("/")
        if name == ZARRAY:
            attrs = entries.get(join(head, ZATTRS))
            nodes[join(head)] = NodeDocument(join(head), 2, "array", attrs if isinstance(attrs, dict) else {}, doc)
        elif name == ZGROUP and join(head) not in nodes:
            attrs = entries.get(join(head, ZATTRS))
            nodes[join(head)] = NodeDocument(join(head), 2, "group", attrs if isinstance(attrs, dict) else {}, {})
    return nodes


def open_store(location: str | os.PathLike[str] | Store) -> Store:
    """Open a location for reading.

    Parameters
    ----------
    location
        A local directory, a ``.zip``/``.ozx`` file, a URL (``https://``, ``s3://``, …
        through fsspec) or an already opened :class:`Store`.

    Raises
    ------
    StoreError
        When the location does not exist or cannot be opened.
    """
    if isinstance(location, Store):
        return location
    text = os.fspath(location)
    if "://" in text and not text.startswith("file://"):
        return _open_url(text)
    if text.startswith("file://"):
        text = text[len("file://") :]
    path = Path(text).expanduser()
    if not path.exists():
        raise StoreError("no such file or directory", location=str(path))
    if path.is_file():
        return _open_zip(path)
    import zarr.storage

    return Store(str(path), zarr.storage.LocalStore(path, read_only=True), root=path.resolve())


def _open_zip(path: Path) -> Store:
    # Our own central-directory reader (ngff.ozx): checked, lazy, partial reads.
    from .ozx import open_store as open_archive_store

    return open_archive_store(str(path))


def _open_url(url: str) -> Store:
    import zarr.storage

    from . import ozx, remote

    if ozx.is_archive_path(url):
        return ozx.open_store(url)
    if remote.is_http(url):  # our HTTP store: range requests, retries, clear errors
        return remote.open_http_store(url)

    try:
        store = zarr.storage.FsspecStore.from_url(url.rstrip("/"), read_only=True)
    except ImportError as exc:
        raise StoreError(f"the fsspec backend for this URL is not installed: {exc}", location=url) from exc
    except Exception as exc:
        raise StoreError(f"cannot open: {exc}", location=url) from exc
    return Store(url, store)


# --------------------------------------------------------------------------- writing


def _local_path(location: str | os.PathLike[str], what: str) -> Path:
    text = os.fspath(location)
    if text.startswith("file://"):
        text = text[len("file://") :]
    elif "://" in text:
        raise StoreError(f"{what} to URLs is not supported yet; write locally and upload", location=text)
    return Path(text).expanduser().absolute()


def put_json(root: Path, key: str, document: Mapping[str, Any]) -> None:
    """Write a JSON document under ``root/key`` atomically (temporary file, then rename)."""
    target = root / key
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        temporary.write_text(json.dumps(document, indent=2, allow_nan=False))
        os.replace(temporary, target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise StoreError(f"cannot write: {exc.strerror or exc}", location=str(target)) from exc


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one atomic step (Linux ``renameat2``); False if unavailable."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


class OutputDirectory:
    """A new store written beside its destination and moved into place when complete.

    An interrupted or failed write leaves the destination as it was: the new store
    only replaces it (and an old store is only removed) once everything is written.

    Parameters
    ----------
    location
        Destination directory.
    overwrite
        Whether an existing destination may be replaced.
    protect
        Locations being read from; replacing one of them (or a folder holding one) is
        refused even with ``overwrite``.
    """

    def __init__(self, location: str | os.PathLike[str], *, overwrite: bool, protect: Sequence[str] = ()):
        import uuid

        self.final = _local_path(location, "writing")
        for source in protect:
            if "://" in source:
                continue
            src = Path(source).absolute().resolve()
            final = self.final.resolve()
            if src == final or final in src.parents or src in final.parents:
                raise StoreError(
                    "refusing to write over the store the data is read from; choose another destination",
                    location=str(self.final),
                    rule="never overwrite the input",
                )
        if self.final.exists() and not overwrite:
            raise StoreError(
                "the destination exists; pass overwrite=True to replace it", location=str(self.final)
            )
        self.path = self.final.with_name(f".{self.final.name}.ngff-tmp-{uuid.uuid4().hex[:8]}")
        try:
            self.path.mkdir(parents=True)
        except OSError as exc:
            raise StoreError(f"cannot create: {exc.strerror or exc}", location=str(self.path)) from exc

    def zarr_store(self):
        """A zarr store writing into the temporary directory."""
        import zarr.storage

        return zarr.storage.LocalStore(self.path)

    def commit(self) -> None:
        """Move the finished store into place (replacing an old one last)."""
        import shutil

        if self.final.exists() and _exchange(self.path, self.final):
            shutil.rmtree(self.path, ignore_errors=True)  # now holds the old store
            return
        old = None
        if self.final.exists():
            old = self.final.with_name(f".{self.final.name}.ngff-old-{self.path.name[-8:]}")
            os.replace(self.final, old)
        os.replace(self.path, self.final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        """Remove the partial store."""
        import shutil

        shutil.rmtree(self.path, ignore_errors=True)
