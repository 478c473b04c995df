"""RFC-9 single-file OME-Zarr: ``.ozx`` ZIP archives, written and read by our own code.

- :func:`pack` / :func:`unpack` — directory store to archive and back (streamed,
  atomic, checked); :func:`staged` and :func:`edit` wrap writers so that they produce
  or change archives; :func:`write_ozx` is what ``ngff.write(..., "x.ozx")`` runs.
- :func:`open_archive` — the parsed central directory of a local file or a URL
  (:class:`~ngff.ozx.archive.Archive`); :func:`open_store` — an ngff
  :class:`~ngff.store.Store` over it for :func:`ngff.read` (nothing is extracted:
  metadata in one read, pixels by ranged reads of STORED entries).

See ``docs/ozx.md``.  Importing this package imports neither zarr nor numpy.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..errors import NotOmeZarrError, StoreError
from .archive import Archive, Entry, FileSource, check_name
from .pack import archive_comment, edit, entry_order, pack, staged, unpack

if TYPE_CHECKING:
    from ..store import Store

__all__ = [
    "Archive",
    "Entry",
    "FileSource",
    "archive_comment",
    "archive_layout",
    "check_archive",
    "check_name",
    "edit",
    "entry_order",
    "is_archive_path",
    "open_archive",
    "open_store",
    "pack",
    "staged",
    "unpack",
    "write_ozx",
]

_ARCHIVE_SUFFIXES = (".ozx", ".zip")


def is_archive_path(location: str | os.PathLike[str]) -> bool:
    """True when ``location`` names a ZIP archive by its extension (``.ozx``, ``.zip``)."""
    text = os.fspath(location).rstrip("/").split("?", 1)[0].lower()
    return text.endswith(_ARCHIVE_SUFFIXES)


def open_archive(location: str | os.PathLike[str]) -> Archive:
    """Parse the central directory of a local archive or one at a URL.

    Raises
    ------
    StoreError
        When the file cannot be read or is not a safe, well-formed ZIP archive.
    """
    text = os.fspath(location)
    if "://" in text and not text.startswith("file://"):
        from .. import remote

        source = remote.HttpSource(text) if remote.is_http(text) else remote.FsspecSource(text)
    else:
        source = FileSource(text[len("file://") :] if text.startswith("file://") else text)
    try:
        return Archive(source)
    except BaseException:
        source.close()
        raise


def check_archive(location: str | os.PathLike[str]) -> dict[str, Any]:
    """RFC-9 properties of an archive and every recommendation it departs from.

    Returns
    -------
    dict
        ``location``, ``entries``, ``version`` (from the comment), ``json_first``,
        ``zip64`` and ``problems`` (messages naming the rule; empty for our archives).

    Raises
    ------
    StoreError
        When the archive cannot be read or is not a safe, well-formed ZIP archive.
    """
    from .records import STORED

    opened = open_archive(location)
    try:
        problems = list(opened.problems)
        root = opened.root_problem()
        if root:
            problems.insert(0, root)
        compressed = [n for n in opened.order if opened.entries[n].method != STORED]
        if compressed:
            problems.append(f"{len(compressed)} compressed entries (RFC-9: ZIP-level compression SHOULD be disabled)")
        if not opened.zip64:
            problems.append("no ZIP64 records (RFC-9: ZIP64 SHOULD be used)")
        nested = [n for n in opened.order if n.lower().endswith((".zip", ".ozx"))]
        if nested:
            problems.append(f"nested archives {nested[:3]} (RFC-9: SHALL NOT be embedded in a parent hierarchy)")
        if not os.fspath(location).lower().endswith(".ozx"):
            problems.append("the name does not end with .ozx (RFC-9 SHOULD)")
        return {
            "location": opened.location,
            "entries": len(opened.entries),
            "version": opened.version,
            "json_first": opened.json_first,
            "zip64": opened.zip64,
            "problems": problems,
        }
    finally:
        opened.close()


def open_store(location: str | os.PathLike[str]) -> Store:
    """An ngff store over an archive (local path or URL) for :func:`ngff.read`.

    The root of the archive must be the root of the hierarchy (RFC-9); every metadata
    document is read in one request when they precede the data.
    """
    from ..store import Store
    from .zarrstore import ArchiveStore

    text = os.fspath(location)
    archive = open_archive(text)
    problem = archive.root_problem()
    if problem is not None:
        archive.close()
        raise NotOmeZarrError(problem, location=text, rule="RFC-9: archive root = OME-Zarr root")
    for note in archive.problems:
        if note.startswith("the archive comment"):  # present but unusable: say so, read on (RFC-9 SHOULD)
            import warnings

            from ..errors import ArchiveWarning

            warnings.warn(f"{text}: {note}", ArchiveWarning, stacklevel=3)
    remote = "://" in text and not text.startswith("file://")
    archive.prefetch_metadata()
    store = Store(text, ArchiveStore(archive, threaded=remote))
    store.archive = archive  # type: ignore[attr-defined]  # for fast local chunk reads
    store.default_version = archive.version  # type: ignore[attr-defined]  # the comment's ome.version
    return store


def archive_layout(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with the layout defaults of images written into archives.

    ``shards=None`` becomes ``"auto"`` (RFC-9: sharding SHOULD be used) and ``False``
    unsharded; without ``chunks``, the ``"planes"`` layout (:mod:`ngff.chunking`).
    """
    out = dict(options)
    shards = out.get("shards")
    out["shards"] = "auto" if shards is None else (None if shards is False else shards)
    if out.get("chunks") is None:
        out["chunks"] = "planes"
    return out


def write_ozx(data: Any, location: str | os.PathLike[str], **options: Any) -> Any:
    """:func:`ngff.write` into an ``.ozx`` archive (0.5 only; sharded unless told otherwise).

    The pyramid is written as a directory store in a hidden folder beside the archive,
    then packed (:func:`pack`) and moved into place; the folder is removed afterwards.
    ``shards=None`` means ``"auto"`` here (RFC-9: sharding SHOULD be used); pass
    ``shards=False`` for unsharded arrays.  Without ``chunks`` the archive gets the
    ``"planes"`` layout (:mod:`ngff.chunking`): archives are made to be shared and
    served, and a plane of this layout costs a remote reader a couple of requests per
    level, where 128-cubed chunks in cubic shards cost two per shard the plane crosses.
    """
    from pathlib import Path

    from ..errors import UnsupportedVersionError
    from ..reader import read
    from ..writer import write

    version = options.pop("version", "0.5")
    if version != "0.5":
        raise UnsupportedVersionError(
            f"an .ozx archive holds OME-Zarr 0.5 (Zarr v3); version {version!r} cannot be zipped",
            location=os.fspath(location),
            rule="RFC-9 with OME-Zarr 0.5",
        )
    options = archive_layout(options)
    overwrite = bool(options.pop("overwrite", False))
    if "://" in os.fspath(location):
        raise StoreError("writing archives to URLs is not supported; write locally and upload", location=os.fspath(location))
    final = Path(os.fspath(location)).expanduser().absolute()
    source = getattr(data, "location", None)
    if overwrite and isinstance(source, str) and "://" not in source and Path(source).absolute() == final:
        raise StoreError(
            "refusing to write over the archive the data is read from; choose another destination",
            location=str(final),
            rule="never overwrite the input",
        )
    with staged(final, overwrite=overwrite) as folder:
        name = options.pop("name", None)
        if name is None:
            name = getattr(data, "name", None) or _stem(final)
        write(data, folder / "store.ome.zarr", version="0.5", name=name, **options)
    return read(final)


def _stem(path: Any) -> str:
    base = os.path.basename(os.fspath(path))
    for suffix in (".ozx", ".zarr", ".ome"):
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
    return base or "image"
