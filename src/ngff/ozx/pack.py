"""Writing RFC-9 OME-Zarr zip files (``.ozx``) from directory stores, and back.

:func:`pack` streams a finished directory store into an archive with our own ZIP
writer (not :mod:`zipfile`, whose entry order and ZIP64 use we cannot pin down), so
that every rule of RFC-9 holds by construction:

- the archive root is the hierarchy root (the directory's ``zarr.json``);
- ``zarr.json`` at the root is the first entry, every other ``zarr.json`` follows in
  breadth-first order (by depth, then path), then all other files (sorted, so each
  array's chunks or shards stay together) — in the entries and the central directory;
- entries are STORED (Zarr codecs already compress) and carry ZIP64 records (local
  and central extra fields, ZIP64 end record and locator) whatever their size;
- one volume, no nested ``.zip``/``.ozx`` entries;
- the archive comment is ``{"ome": {"version": ..., "zipFile": {"centralDirectory":
  {"jsonFirst": true}}}}`` in UTF-8 JSON.

Memory stays bounded: files are copied in 1 MiB pieces and the CRC-32 of each entry
is patched into its local header after its data.  The archive is written to a hidden
file beside the destination and renamed into place when complete, so an interrupted
pack leaves nothing half-written at the destination.
"""

from __future__ import annotations

import json
import os
import time
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ..errors import StoreError, UnsupportedVersionError
from . import records as R
from .archive import Archive, FileSource, check_name

__all__ = ["pack", "unpack", "staged", "edit", "archive_comment", "entry_order"]

_PIECE = 1 << 20
_MADE_BY = (3 << 8) | R.VERSION_ZIP64  # Unix, ZIP spec 4.5
_FILE_MODE = 0o100644 << 16


def archive_comment(version: str = "0.5") -> bytes:
    """The RFC-9 archive comment for an archive whose ``zarr.json`` files come first."""
    document = {"ome": {"version": version, "zipFile": {"centralDirectory": {"jsonFirst": True}}}}
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


def entry_order(names: list[str]) -> list[str]:
    """RFC-9 order: root ``zarr.json``, other ``zarr.json`` breadth-first, then the rest."""
    jsons = [n for n in names if n.rsplit("/", 1)[-1] == "zarr.json"]
    rest = [n for n in names if n.rsplit("/", 1)[-1] != "zarr.json"]
    jsons.sort(key=lambda n: (n.count("/"), n))
    rest.sort(key=lambda n: n.split("/"))
    return jsons + rest


def _dos_time(seconds: float) -> tuple[int, int]:
    t = time.localtime(max(seconds, 315532800))  # DOS dates start in 1980
    return (t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec // 2), ((t.tm_year - 1980) << 9) | (t.tm_mon << 5) | t.tm_mday


class _Writer:
    """Entries appended one by one to a seekable file, then the directory and end records."""

    def __init__(self, out: BinaryIO, where: str):
        self.out = out
        self.where = where
        self.central: list[bytes] = []
        self.count = 0

    def add_file(self, name: str, path: Path) -> None:
        raw_name = name.encode("utf-8")
        flags = 0 if raw_name.isascii() else R.FLAG_UTF8
        stat = path.stat()
        size = stat.st_size
        dos_time, dos_date = _dos_time(stat.st_mtime)
        offset = self.out.tell()
        local_extra = R.ZIP64_EXTRA_ID.to_bytes(2, "little") + (16).to_bytes(2, "little") + size.to_bytes(8, "little") * 2
        header = R.LOCAL.pack(
            R.SIG_LOCAL, R.VERSION_ZIP64, flags, R.STORED, dos_time, dos_date, 0, R.MAX32, R.MAX32,
            len(raw_name), len(local_extra),
        )
        self.out.write(header + raw_name + local_extra)
        crc = 0
        copied = 0
        with open(path, "rb") as source:
            while True:
                piece = source.read(_PIECE)
                if not piece:
                    break
                crc = zlib.crc32(piece, crc)
                copied += len(piece)
                self.out.write(piece)
        if copied != size:
            raise StoreError(f"{name!r} changed size while being packed", location=str(path))
        end = self.out.tell()
        self.out.seek(offset + 14)  # the CRC-32 field of the local header
        self.out.write(crc.to_bytes(4, "little"))
        self.out.seek(end)
        central_extra = (
            R.ZIP64_EXTRA_ID.to_bytes(2, "little") + (24).to_bytes(2, "little")
            + size.to_bytes(8, "little") * 2 + offset.to_bytes(8, "little")
        )
        self.central.append(
            R.CENTRAL.pack(
                R.SIG_CENTRAL, _MADE_BY, R.VERSION_ZIP64, flags, R.STORED, dos_time, dos_date, crc,
                R.MAX32, R.MAX32, len(raw_name), len(central_extra), 0, 0, 0, _FILE_MODE, R.MAX32,
            )
            + raw_name
            + central_extra
        )
        self.count += 1

    def finish(self, comment: bytes) -> None:
        if len(comment) > R.MAX_COMMENT:
            raise StoreError("archive comment longer than 65535 bytes", location=self.where)
        cd_offset = self.out.tell()
        for record in self.central:
            self.out.write(record)
        cd_size = self.out.tell() - cd_offset
        zip64_at = self.out.tell()
        self.out.write(
            R.ZIP64_EOCD.pack(
                R.SIG_ZIP64_EOCD, R.ZIP64_EOCD.size - 12, _MADE_BY, R.VERSION_ZIP64, 0, 0,
                self.count, self.count, cd_size, cd_offset,
            )
        )
        self.out.write(R.ZIP64_LOCATOR.pack(R.SIG_ZIP64_LOCATOR, 0, zip64_at, 1))
        self.out.write(
            R.EOCD.pack(R.SIG_EOCD, 0, 0, R.MAX16, R.MAX16, R.MAX32, R.MAX32, len(comment)) + comment
        )


def _transient(name: str) -> bool:
    """ngff's own staging and temporary names (``.x.ngff-tmp-…``, ``.x.tmp-<pid>``…)."""
    return name.startswith(".") and any(tag in name for tag in (".ngff-tmp-", ".ngff-old-", ".ngff-dir-", ".tmp-"))


def _store_files(directory: Path) -> list[str]:
    """Relative names of every file under ``directory`` (checked: no links out, no archives)."""
    names = []
    for folder, subfolders, files in os.walk(directory):
        subfolders[:] = sorted(d for d in subfolders if not _transient(d))
        here = Path(folder)
        if ".ngff-lock" in files:
            raise StoreError(
                "a writer holds this store's lock (.ngff-lock): pack it when the write has finished "
                "(remove the file if no writer is running)",
                location=str(here),
                rule="pack complete stores only",
            )
        for name in sorted(files):
            if _transient(name):
                continue  # a writer's temporary file, not part of the store
            path = here / name
            relative = path.relative_to(directory).as_posix()
            if path.is_symlink() or not path.is_file():
                raise StoreError(
                    "not a regular file; an .ozx archive holds plain files only", location=str(path)
                )
            if relative.lower().endswith((".zip", ".ozx")):
                raise StoreError(
                    "a zip file inside the store",
                    location=str(path),
                    rule="RFC-9: OME-Zarr zip files SHALL NOT be embedded in a parent OME-Zarr hierarchy",
                )
            reason = check_name(relative)
            if reason is not None:
                raise StoreError(reason, location=str(path))
            names.append(relative)
    return names


def _root_version(directory: Path) -> str:
    root = directory / "zarr.json"
    if not root.is_file():
        if (directory / ".zattrs").is_file() or (directory / ".zgroup").is_file():
            raise UnsupportedVersionError(
                "this is a Zarr v2 (OME-Zarr <= 0.4) store; .ozx archives hold OME-Zarr 0.5 (Zarr v3): "
                "convert it first (ngff convert / ngff.write(..., version='0.5'))",
                location=str(directory),
                rule="RFC-9 with OME-Zarr 0.5",
            )
        raise StoreError(
            "no zarr.json at the root of the directory",
            location=str(directory),
            rule="RFC-9: the ZIP file MUST contain the OME-Zarr's root-level zarr.json",
        )
    try:
        document = json.loads(root.read_bytes())
    except (OSError, ValueError) as exc:
        raise StoreError(f"cannot read the root zarr.json: {exc}", location=str(root)) from exc
    ome = (document.get("attributes") or {}).get("ome") if isinstance(document, dict) else None
    version = ome.get("version") if isinstance(ome, dict) else None
    if not isinstance(version, str):
        raise StoreError(
            "the root zarr.json holds no OME-Zarr metadata (attributes.ome.version)",
            location=str(root),
            rule="RFC-9: the ZIP file MUST contain exactly one OME-Zarr hierarchy",
        )
    if version.split(".")[:2] < ["0", "5"]:
        raise UnsupportedVersionError(
            f"OME-Zarr {version} in a Zarr v3 store; .ozx archives hold OME-Zarr 0.5 or later",
            location=str(root),
        )
    return version


def _destination(archive: str | os.PathLike[str], overwrite: bool) -> Path:
    text = os.fspath(archive)
    if "://" in text:
        raise StoreError("writing archives to URLs is not supported; pack locally and upload", location=text)
    final = Path(text).expanduser().absolute()
    if final.is_dir():
        raise StoreError("the destination is a directory, not an archive file", location=str(final))
    if final.exists() and not overwrite:
        raise StoreError("the destination exists; pass overwrite=True to replace it", location=str(final))
    if not final.parent.is_dir():
        raise StoreError("the destination's folder does not exist", location=str(final.parent))
    return final


def pack(
    directory: str | os.PathLike[str],
    archive: str | os.PathLike[str],
    *,
    overwrite: bool = False,
) -> Path:
    """Pack an OME-Zarr 0.5 directory store into an RFC-9 ``.ozx`` archive.

    Parameters
    ----------
    directory
        A complete Zarr v3 directory store whose root ``zarr.json`` holds OME metadata
        (an image, a plate, a collection...).
    archive
        Destination file; RFC-9 recommends the ``.ozx`` extension.
    overwrite
        Replace an existing archive (only once the new one is complete).

    Returns
    -------
    Path
        The archive written.

    Raises
    ------
    StoreError, UnsupportedVersionError
        For a missing or Zarr v2 store, symbolic links, nested archives or I/O errors;
        the destination is then left as it was.
    """
    source = Path(os.fspath(directory)).expanduser().absolute()
    if not source.is_dir():
        raise StoreError("not a directory store", location=str(source))
    final = _destination(archive, overwrite)
    if final == source or source in final.parents:
        raise StoreError("the archive cannot be written inside the store it packs", location=str(final))
    version = _root_version(source)
    names = entry_order(_store_files(source))
    temporary = final.with_name(f".{final.name}.ngff-tmp-{uuid.uuid4().hex[:8]}")
    try:
        with open(temporary, "wb") as out:
            writer = _Writer(out, str(final))
            for name in names:
                writer.add_file(name, source / name)
            writer.finish(archive_comment(version))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, final)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise StoreError(f"cannot write the archive: {exc.strerror or exc}", location=str(final)) from exc
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return final


def unpack(
    archive: str | os.PathLike[str],
    directory: str | os.PathLike[str],
    *,
    overwrite: bool = False,
) -> Path:
    """Extract a ZIP archive (``.ozx`` or any OME-Zarr zip) into a directory store.

    Entry names are checked (no ``..``, absolute paths, backslashes or duplicates),
    sizes and CRCs verified and DEFLATE output bounded by the declared size; the files
    are written into a hidden folder beside ``directory`` that replaces it only when
    complete, so a hostile archive writes nothing outside (and nothing at) the
    destination.

    Returns
    -------
    Path
        The directory written.
    """
    from ..store import OutputDirectory

    path = Path(os.fspath(archive)).expanduser().absolute()
    if not path.is_file():
        raise StoreError("no such archive file", location=str(path))
    opened = Archive(FileSource(path))
    try:
        output = OutputDirectory(directory, overwrite=overwrite, protect=[str(path)])
        try:
            root = output.path.resolve()
            for name in opened.names():
                target = (output.path / name).resolve()
                if root not in target.parents:  # check_name already refused this; be sure
                    raise StoreError(f"entry {name!r} would land outside the destination", location=str(path))
                _extract(opened, name, target)
            for name in opened.directories:
                (output.path / name).mkdir(parents=True, exist_ok=True)
            output.commit()
        except BaseException:
            output.abort()
            raise
    finally:
        opened.close()
    return output.final


def _extract(opened: Archive, name: str, target: Path) -> None:
    entry = opened.entries[name]
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as out:
            if entry.method == R.STORED:
                offset, size = opened.data_span(name)  # type: ignore[misc]
                crc = 0
                for start in range(0, size, _PIECE):
                    piece = opened.source.read(offset + start, offset + min(size, start + _PIECE))
                    crc = zlib.crc32(piece, crc)
                    out.write(piece)
                if crc != entry.crc:
                    raise StoreError(
                        f"entry {name!r} fails its CRC-32 check (damaged archive)",
                        location=opened.location,
                        rule="ZIP: CRC-32",
                    )
            else:
                out.write(opened.read(name) or b"")  # inflated whole, bounded and checked
    except OSError as exc:
        raise StoreError(
            f"cannot extract {name!r}: {exc.strerror or exc} (a file and a folder of the same name?)",
            location=opened.location,
        ) from exc


@contextmanager
def staged(archive: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """A fresh directory to write a store into, packed into ``archive`` on success.

    The directory is hidden beside the archive and removed afterwards; when the block
    raises, nothing is packed and an existing archive is left as it was.  Writers of
    other kinds of hierarchy (plates, collections) use this to produce ``.ozx`` files::

        with ngff.ozx.staged("plate.ozx") as folder:
            write_plate(..., folder / "store.ome.zarr")   # any 0.5 writer
    """
    import shutil

    final = _destination(archive, overwrite)
    folder = final.with_name(f".{final.name}.ngff-dir-{uuid.uuid4().hex[:8]}")
    folder.mkdir()
    try:
        yield folder
        stores = [p for p in folder.iterdir() if p.is_dir()]
        if len(stores) != 1:
            raise StoreError(
                f"expected one store written into the staging folder, found {len(stores)}",
                location=str(folder),
                rule="RFC-9: the ZIP file MUST contain exactly one OME-Zarr hierarchy",
            )
        pack(stores[0], final, overwrite=overwrite)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def edit(archive: str | os.PathLike[str]) -> Iterator[Path]:
    """Change an ``.ozx`` archive through a directory store, then repack it atomically.

    Yields the extracted store (a hidden folder beside the archive).  When the block
    completes, the store is packed again and replaces the archive in one rename; when
    it raises, the archive is left untouched.  Costs one extraction and one pack.
    """
    import shutil

    path = Path(os.fspath(archive)).expanduser().absolute()
    folder = path.with_name(f".{path.name}.ngff-edit-{uuid.uuid4().hex[:8]}")
    folder.mkdir()
    try:
        store = unpack(path, folder / "store")
        yield store
        pack(store, path, overwrite=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
