"""Reading ZIP archives (``.ozx``, ``.zip``) through their central directory, safely.

:class:`Archive` parses the end records and the central directory of an archive held by
a :class:`Source` (a local file, or an HTTP(S) URL read with range requests, see
:mod:`ngff.remote`) and serves entry bytes, whole or in ranges, without extracting
anything.  Every number read from the archive is checked before it is used, so a hostile
or broken archive gives a :class:`~ngff.errors.StoreError` naming the rule broken:

- entry names with ``..``, absolute paths, drive letters, backslashes or NUL bytes;
  duplicate names;
- entries whose data runs past the next entry or into the central directory (overlap),
  offsets outside the file, local headers that disagree with the central directory;
- truncated archives and central directories, split (multi-disk) archives;
- compressed entries whose sizes lie (more output than declared, impossible ratios),
  CRC mismatches, encryption, unknown compression methods.

RFC-9 specifics: the archive comment is parsed as UTF-8 JSON (a trailing NUL of early
drafts is tolerated; a comment that is not JSON is noted in :attr:`Archive.problems`,
not an error — the comment is only recommended), ``ome.version`` and
``ome.zipFile.centralDirectory.jsonFirst`` are exposed, and all metadata documents are
fetched in one read when they precede the data (as ``jsonFirst`` archives guarantee).
"""

from __future__ import annotations

import json
import os
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import StoreError
from . import records as R

__all__ = ["Archive", "Entry", "Source", "FileSource", "check_name", "METADATA_NAMES"]

#: Names of Zarr metadata documents (v3 and v2).
METADATA_NAMES = frozenset({"zarr.json", ".zattrs", ".zgroup", ".zarray", ".zmetadata"})
#: DEFLATE cannot compress better than about 1032:1; more is a lying size.
_MAX_DEFLATE_RATIO = 1032
#: Upper bound of a metadata block read in one go.
_MAX_METADATA_BLOCK = 64 << 20
_LOCAL_EXTRA_GUESS = 64
_INFLATED_CACHE_BYTES = 128 << 20


class Source(Protocol):
    """Random-access bytes of one archive file."""

    #: display form of the location, for messages
    location: str
    #: total size in bytes
    size: int
    #: how many bytes to read at the end of the file to find the end records
    tail_hint: int

    def read(self, start: int, end: int, *, limit: int | None = None, floor: int = 0) -> bytes:
        """Bytes ``start:end``; :class:`StoreError` when the file is shorter.

        ``floor:limit`` bounds any read-ahead a source may do (the entry's bytes).
        """
        ...

    def close(self) -> None:
        """Release the file or connections."""
        ...


class FileSource:
    """A local archive file read with ``pread`` (thread-safe, no shared file position)."""

    def __init__(self, path: str | os.PathLike[str]):
        self.location = os.fspath(path)
        try:
            self._fd = os.open(self.location, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except OSError as exc:
            raise StoreError(f"cannot open: {exc.strerror or exc}", location=self.location) from exc
        self.size = os.fstat(self._fd).st_size
        self.tail_hint = R.EOCD.size + R.MAX_COMMENT + R.ZIP64_LOCATOR.size + R.ZIP64_EOCD.size
        self.path = self.location

    def fileno(self) -> int:
        return self._fd

    def read(self, start: int, end: int, *, limit: int | None = None, floor: int = 0) -> bytes:
        if start < 0 or end > self.size or end < start:
            raise StoreError(
                f"bytes {start}:{end} lie outside the {self.size}-byte file (truncated archive?)",
                location=self.location,
                rule="ZIP: offsets within the archive",
            )
        try:
            data = os.pread(self._fd, end - start, start)
        except OSError as exc:
            raise StoreError(f"cannot read: {exc.strerror or exc}", location=self.location) from exc
        if len(data) != end - start:
            raise StoreError("short read: the file shrank while open", location=self.location)
        return data

    def close(self) -> None:
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass


@dataclass(slots=True)
class Entry:
    """One file of the archive, as its central directory header describes it."""

    name: str
    method: int
    flags: int
    crc: int
    compressed_size: int
    size: int
    header_offset: int
    #: position in the central directory
    order: int
    #: bytes of the name as stored (the local header must repeat them)
    raw_name: bytes
    #: end of the space this entry may occupy (next header or the central directory)
    limit: int = 0
    #: absolute offset of the entry's data, once its local header was read
    data_offset: int | None = None


def check_name(name: str) -> str | None:
    """Why ``name`` is not a safe relative entry name, or None when it is."""
    if not name:
        return "an empty entry name"
    if "\\" in name:
        return "a backslash in the entry name"
    if "\x00" in name:
        return "a NUL byte in the entry name"
    if name.startswith("/"):
        return "an absolute entry name"
    if len(name) >= 2 and name[1] == ":" and name[0].isalpha():
        return "a drive letter in the entry name"
    parts = name.rstrip("/").split("/")
    if any(p in ("", ".", "..") for p in parts):
        return "an empty, '.' or '..' path component in the entry name"
    return None


def _u16(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 2], "little")


class Archive:
    """The central directory of a ZIP archive and access to its entries.

    Parameters
    ----------
    source
        Where the archive bytes are (:class:`FileSource` or an HTTP source).

    Raises
    ------
    StoreError
        When the archive is not a ZIP file, is truncated, split or hostile.
    """

    def __init__(self, source: Source):
        self.source = source
        self.location = source.location
        self.entries: dict[str, Entry] = {}
        #: entry names in central directory order
        self.order: list[str] = []
        #: names of directory entries (``name/``), which hold no data
        self.directories: set[str] = set()
        #: tolerated deviations (RFC-9 SHOULDs, odd comments), for reports
        self.problems: list[str] = []
        self.comment = b""
        self.ome: dict[str, Any] | None = None
        self.zip64 = False
        self._cache: dict[str, bytes] = {}
        self._inflated: dict[str, bytes] = {}  # recently inflated entries, oldest first
        self._lock = threading.Lock()
        # Remote archives skip one request per entry: an entry that exactly fills the
        # space up to the next header has its data at ``limit - size`` (checked against
        # the local headers read with the metadata; full reads check the CRC).
        self._infer_offsets = bool(getattr(source, "remote", False))
        self._parse()
        self.version: str | None = None
        #: the comment's ``jsonFirst`` once checked against the real order / as claimed
        self.json_first = self.json_first_claimed = False
        self._read_comment()
        self._check_order()

    def __repr__(self) -> str:
        return f"Archive({self.location!r}, {len(self.entries)} entries)"

    def close(self) -> None:
        self.source.close()

    def _error(self, message: str, rule: str = "ZIP: well-formed archive") -> StoreError:
        return StoreError(message, location=self.location, rule=rule)

    # ------------------------------------------------------------------ end records

    def _parse(self) -> None:
        size = self.source.size
        if size < R.EOCD.size:
            raise self._error(f"{size} bytes: too short for a ZIP archive (truncated?)")
        tail_start = max(0, size - max(self.source.tail_hint, R.EOCD.size))
        tail = self.source.read(tail_start, size)
        position = self._find_eocd(tail)
        if position is None:
            raise self._error(
                "no end of central directory record: not a ZIP archive, or a truncated one"
            )
        (_, disk, cd_disk, disk_entries, total, cd_size, cd_offset, comment_len) = R.EOCD.unpack_from(
            tail, position
        )
        eocd_at = tail_start + position
        self.comment = bytes(tail[position + R.EOCD.size : position + R.EOCD.size + comment_len])
        record_end = eocd_at  # where the central directory (or ZIP64 records) must end
        locator_at = eocd_at - R.ZIP64_LOCATOR.size
        has_locator = locator_at >= 0 and self._read_at(tail, tail_start, locator_at, 4) == R.SIG_ZIP64_LOCATOR.to_bytes(4, "little")
        if has_locator:
            self.zip64 = True
            raw = self._read_at(tail, tail_start, locator_at, R.ZIP64_LOCATOR.size)
            _, z_disk, z_offset, disks = R.ZIP64_LOCATOR.unpack(raw)
            if disks != 1 or z_disk != 0:
                raise self._error(
                    f"a split archive ({disks} parts)", rule="RFC-9: OME-Zarr zip files SHALL NOT be split into multiple parts"
                )
            if z_offset + R.ZIP64_EOCD.size > locator_at:
                raise self._error("the ZIP64 end record lies outside the archive (truncated?)")
            raw = self._read_at(tail, tail_start, z_offset, R.ZIP64_EOCD.size)
            (sig, _rest, _made, _needed, disk, cd_disk, disk_entries, total, cd_size, cd_offset) = R.ZIP64_EOCD.unpack(raw)
            if sig != R.SIG_ZIP64_EOCD:
                raise self._error("the ZIP64 locator points at no ZIP64 end record")
            record_end = z_offset
        elif R.MAX32 in (cd_size, cd_offset) or R.MAX16 in (total, disk_entries):
            raise self._error("ZIP64 values without a ZIP64 end record (truncated or damaged archive)")
        if disk != 0 or cd_disk != 0 or disk_entries != total:
            raise self._error(
                "a split archive (disk numbers are not 0)",
                rule="RFC-9: OME-Zarr zip files SHALL NOT be split into multiple parts",
            )
        if cd_offset + cd_size > record_end:
            raise self._error(
                f"the central directory ({cd_offset}+{cd_size} bytes) runs past its end record at {record_end} "
                "(truncated archive?)"
            )
        if total > cd_size // R.CENTRAL.size + 1:
            raise self._error(f"{total} entries cannot fit in a {cd_size}-byte central directory")
        self.cd_offset, self.cd_size = cd_offset, cd_size
        if cd_offset >= tail_start:
            directory = bytes(tail[cd_offset - tail_start : cd_offset - tail_start + cd_size])
        else:
            directory = self.source.read(cd_offset, cd_offset + cd_size)
        self._parse_directory(directory, total)

    @staticmethod
    def _find_eocd(tail: bytes) -> int | None:
        """Position of the end record: the last signature whose comment fits the tail."""
        signature = R.SIG_EOCD.to_bytes(4, "little")
        position = len(tail) - R.EOCD.size
        fallback = None
        while position >= 0:
            position = tail.rfind(signature, 0, position + 4)
            if position < 0:
                break
            comment_len = _u16(tail, position + 20)
            end = position + R.EOCD.size + comment_len
            if end == len(tail):
                return position
            if end < len(tail) and fallback is None:
                fallback = position  # trailing bytes after the comment: tolerated
            position -= 1
        return fallback

    def _read_at(self, tail: bytes, tail_start: int, at: int, n: int) -> bytes:
        if at >= tail_start and at + n <= tail_start + len(tail):
            return bytes(tail[at - tail_start : at - tail_start + n])
        if at < 0:
            raise self._error("an end record points before the start of the file")
        return self.source.read(at, at + n)

    # ------------------------------------------------------------------ central directory

    def _parse_directory(self, directory: bytes, total: int) -> None:
        position = 0
        entries: list[Entry] = []
        seen: set[str] = set()
        for index in range(total):
            if position + R.CENTRAL.size > len(directory):
                raise self._error(f"the central directory ends inside entry {index} (truncated)")
            fields = R.CENTRAL.unpack_from(directory, position)
            (sig, _made, _needed, flags, method, _time, _date, crc, csize, usize, name_len, extra_len,
             comment_len, disk, _internal, _external, offset) = fields
            if sig != R.SIG_CENTRAL:
                raise self._error(f"central directory entry {index} has a bad signature (damaged or truncated)")
            start = position + R.CENTRAL.size
            end = start + name_len + extra_len + comment_len
            if end > len(directory):
                raise self._error(f"central directory entry {index} runs past the directory (truncated)")
            raw_name = bytes(directory[start : start + name_len])
            extra = directory[start + name_len : start + name_len + extra_len]
            usize, csize, offset, disk = self._zip64_fields(extra, usize, csize, offset, disk, index)
            position = end
            try:
                name = raw_name.decode("utf-8")
            except UnicodeDecodeError:
                name = raw_name.decode("cp437")  # the ZIP default when the UTF-8 flag is unset
            reason = check_name(name)
            if reason is not None:
                raise self._error(f"{reason}: {name!r}", rule="safe entry names (no '..', absolute paths or backslashes)")
            if disk != 0:
                raise self._error(f"entry {name!r} starts on disk {disk}", rule="RFC-9: OME-Zarr zip files SHALL NOT be split into multiple parts")
            if flags & R.FLAG_ENCRYPTED:
                raise self._error(f"entry {name!r} is encrypted", rule="ZIP: encrypted entries are not supported")
            key = name.rstrip("/")
            if key in seen:
                raise self._error(f"duplicate entry name {name!r}", rule="ZIP: entry names are unique")
            seen.add(key)
            if method == R.STORED and csize != usize:
                raise self._error(
                    f"stored entry {name!r} declares {csize} stored but {usize} uncompressed bytes",
                    rule="ZIP: stored sizes agree",
                )
            if method == R.DEFLATED and usize > max(csize, 1) * _MAX_DEFLATE_RATIO:
                raise self._error(
                    f"entry {name!r} claims to inflate {csize} bytes to {usize} (zip bomb?)",
                    rule="ZIP: plausible compressed sizes",
                )
            if offset + R.LOCAL.size + name_len + csize > self.cd_offset:
                raise self._error(
                    f"entry {name!r} ({offset}+{csize} bytes) runs into the central directory at {self.cd_offset}",
                    rule="ZIP: entries lie before the central directory",
                )
            entry = Entry(name, method, flags, crc, csize, usize, offset, index, raw_name)
            if name.endswith("/"):
                self.directories.add(key)
                if csize:
                    raise self._error(f"directory entry {name!r} holds {csize} bytes")
                continue
            entries.append(entry)
        if position != len(directory):
            self.problems.append(f"{len(directory) - position} stray bytes after the central directory entries")
        by_offset = sorted(entries, key=lambda e: e.header_offset)
        for this, following in zip(by_offset, by_offset[1:] + [None]):
            limit = following.header_offset if following is not None else self.cd_offset
            minimum = R.LOCAL.size + len(this.raw_name) + this.compressed_size
            if this.header_offset + minimum > limit:
                other = repr(following.name) if following is not None else "the central directory"
                raise self._error(
                    f"entries {this.name!r} and {other} overlap", rule="ZIP: entries do not overlap"
                )
            this.limit = limit
        for entry in entries:
            self.entries[entry.name] = entry
            self.order.append(entry.name)

    def _zip64_fields(self, extra: bytes, usize: int, csize: int, offset: int, disk: int, index: int) -> tuple[int, int, int, int]:
        wanted = [usize == R.MAX32, csize == R.MAX32, offset == R.MAX32, disk == R.MAX16]
        if not any(wanted):
            return usize, csize, offset, disk
        position = 0
        while position + 4 <= len(extra):
            header_id, length = _u16(extra, position), _u16(extra, position + 2)
            body = extra[position + 4 : position + 4 + length]
            position += 4 + length
            if header_id != R.ZIP64_EXTRA_ID:
                continue
            values = [usize, csize, offset, disk]
            at = 0
            for i, (need, width) in enumerate(zip(wanted, (8, 8, 8, 4))):
                if not need:
                    continue
                if at + width > len(body):
                    raise self._error(f"central directory entry {index} has a short ZIP64 extra field")
                values[i] = int.from_bytes(body[at : at + width], "little")
                at += width
            self.zip64 = True
            return values[0], values[1], values[2], values[3]
        raise self._error(f"central directory entry {index} lacks the ZIP64 extra field its sizes need")

    # ------------------------------------------------------------------ comment and order

    def _read_comment(self) -> None:
        text = self.comment.rstrip(b"\x00")  # early RFC-9 drafts NUL-terminated the comment
        if not text.strip():
            self.problems.append("no archive comment (RFC-9: the comment SHOULD hold {'ome': {'version': ...}})")
            return
        try:
            document = json.loads(text.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            self.problems.append("the archive comment is not UTF-8 JSON (RFC-9 SHOULD); ignored")
            return
        if not isinstance(document, dict) or not isinstance(document.get("ome"), dict):
            self.problems.append("the archive comment has no 'ome' object (RFC-9 SHOULD); ignored")
            return
        self.ome = document["ome"]
        version = self.ome.get("version")
        if isinstance(version, str):
            self.version = version
        else:
            self.problems.append("the archive comment's ome.version is not a string (RFC-9 SHOULD)")
        zip_file = self.ome.get("zipFile")
        directory = zip_file.get("centralDirectory") if isinstance(zip_file, dict) else None
        flag = directory.get("jsonFirst") if isinstance(directory, dict) else None
        self.json_first = self.json_first_claimed = flag is True

    def _check_order(self) -> None:
        """Note where the archive departs from RFC-9's zarr.json-first, breadth-first order."""
        names = self.order
        jsons = [i for i, n in enumerate(names) if n.rsplit("/", 1)[-1] == "zarr.json"]
        others = [i for i, n in enumerate(names) if n.rsplit("/", 1)[-1] != "zarr.json"]
        ordered = not jsons or not others or max(jsons) < min(others)
        depths = [names[i].count("/") for i in jsons]
        breadth_first = depths == sorted(depths)
        root_first = bool(names) and names[0] == "zarr.json"
        if self.json_first and not (ordered and breadth_first):
            self.problems.append(
                "the comment claims jsonFirst but zarr.json entries are not first and breadth-first; not relied on"
            )
            self.json_first = False
        elif jsons and not (ordered and breadth_first and root_first):
            self.problems.append("zarr.json entries are not first and breadth-first in the central directory (RFC-9 SHOULD)")

    # ------------------------------------------------------------------ entries

    def names(self) -> Iterator[str]:
        return iter(self.order)

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def entry(self, name: str) -> Entry | None:
        return self.entries.get(name)

    def root_problem(self) -> str | None:
        """Why the archive root is not a Zarr hierarchy root (RFC-9 MUST), or None."""
        if any(n in self.entries for n in ("zarr.json", ".zattrs", ".zgroup", ".zarray")):
            return None
        tops = {n.split("/", 1)[0] for n in self.entries if "/" in n}
        nested = sorted(t for t in tops if f"{t}/zarr.json" in self.entries or f"{t}/.zattrs" in self.entries)
        if nested:
            return (
                f"no zarr.json at the archive root; the hierarchy sits in {nested[0]!r}/ "
                "(RFC-9: the root of the ZIP archive MUST correspond to the root of the OME-Zarr hierarchy)"
            )
        return "no zarr.json at the archive root (RFC-9: the ZIP file MUST contain the root-level zarr.json)"

    def _local_header(self, entry: Entry, buffer: bytes | None = None, buffer_start: int = 0) -> int:
        """The absolute data offset of ``entry``, from its local header (checked)."""
        if entry.data_offset is not None:
            return entry.data_offset
        fixed = R.LOCAL.size + len(entry.raw_name)
        if buffer is None and self._infer_offsets and not entry.flags & R.FLAG_DATA_DESCRIPTOR:
            inferred = entry.limit - entry.compressed_size
            if 0 <= inferred - entry.header_offset - fixed <= R.MAX16:
                entry.data_offset = inferred
                return inferred
        start = entry.header_offset
        if buffer is not None and start - buffer_start + fixed <= len(buffer):
            head = buffer[start - buffer_start : start - buffer_start + fixed + _LOCAL_EXTRA_GUESS]
        else:
            head = self.source.read(start, min(entry.limit, start + fixed + _LOCAL_EXTRA_GUESS), limit=entry.limit, floor=start)
        if len(head) < R.LOCAL.size:
            raise self._error(f"the local header of {entry.name!r} is cut short")
        (sig, _needed, _flags, method, _t, _d, _crc, _cs, _us, name_len, extra_len) = R.LOCAL.unpack_from(head, 0)
        if sig != R.SIG_LOCAL:
            raise self._error(f"no local header where the central directory puts {entry.name!r}", rule="ZIP: offsets point at local headers")
        if head[R.LOCAL.size : R.LOCAL.size + name_len] != entry.raw_name:
            raise self._error(
                f"the local header at {start} names another file than the central directory ({entry.name!r})",
                rule="ZIP: local headers agree with the central directory",
            )
        if method != entry.method:
            raise self._error(f"local and central headers of {entry.name!r} disagree on the compression method")
        data_offset = start + R.LOCAL.size + name_len + extra_len
        if data_offset + entry.compressed_size > entry.limit:
            raise self._error(
                f"the data of {entry.name!r} ({data_offset}+{entry.compressed_size}) overlaps the next entry at {entry.limit}",
                rule="ZIP: entries do not overlap",
            )
        entry.data_offset = data_offset
        return data_offset

    def prefetch_metadata(self) -> int:
        """Read every metadata document in one go when they precede all data.

        Returns the number of documents cached (0 when the layout does not allow it).
        """
        meta = [e for e in self.entries.values() if e.name.rsplit("/", 1)[-1] in METADATA_NAMES]
        if not meta:
            return 0
        rest = [e.header_offset for e in self.entries.values() if e.name.rsplit("/", 1)[-1] not in METADATA_NAMES]
        start = min(e.header_offset for e in meta)
        stop = min(rest) if rest else self.cd_offset
        if max(e.header_offset for e in meta) > stop or stop - start > _MAX_METADATA_BLOCK:
            return 0
        block = self.source.read(start, stop, limit=stop, floor=start)
        count = 0
        for entry in meta:
            data_offset = self._local_header(entry, block, start)
            if data_offset != entry.limit - entry.compressed_size:
                self._infer_offsets = False  # gaps between entries: read every local header
            raw = block[data_offset - start : data_offset - start + entry.compressed_size]
            with self._lock:
                self._cache[entry.name] = self._decode(entry, raw)
            count += 1
        return count

    def _decode(self, entry: Entry, raw: bytes) -> bytes:
        """The uncompressed bytes of a whole entry, checked against its size and CRC."""
        if entry.method == R.STORED:
            data = raw
        elif entry.method == R.DEFLATED:
            inflater = zlib.decompressobj(-15)
            try:
                data = inflater.decompress(raw, entry.size + 1)
            except zlib.error as exc:
                raise self._error(f"entry {entry.name!r} is not valid DEFLATE data: {exc}") from exc
            if len(data) > entry.size or inflater.unconsumed_tail:
                raise self._error(
                    f"entry {entry.name!r} inflates to more than its declared {entry.size} bytes (zip bomb?)",
                    rule="ZIP: plausible compressed sizes",
                )
        else:
            raise self._error(
                f"entry {entry.name!r} uses compression method {entry.method}; only STORED and DEFLATE are read",
                rule="RFC-9: ZIP-level compression SHOULD be disabled",
            )
        if len(data) != entry.size:
            raise self._error(f"entry {entry.name!r} holds {len(data)} bytes, its header says {entry.size}")
        if zlib.crc32(data) != entry.crc:
            raise self._error(f"entry {entry.name!r} fails its CRC-32 check (damaged archive)", rule="ZIP: CRC-32")
        return data

    def read(self, name: str, start: int | None = None, stop: int | None = None) -> bytes | None:
        """Bytes ``start:stop`` of entry ``name`` (whole entry by default), or None if absent.

        Stored entries are read partially; compressed ones are inflated whole (checked).
        """
        entry = self.entries.get(name)
        if entry is None:
            return None
        cached = self._cache.get(name)
        if cached is not None:
            return cached[start:stop] if (start, stop) != (None, None) else cached
        lo = 0 if start is None else max(0, min(start, entry.size))
        hi = entry.size if stop is None else max(lo, min(stop, entry.size))
        data_offset = self._local_header(entry)
        end = data_offset + entry.compressed_size
        if entry.method == R.STORED and (lo, hi) != (0, entry.size):
            return self.source.read(data_offset + lo, data_offset + hi, limit=end, floor=data_offset)
        if entry.method != R.STORED:
            with self._lock:
                data = self._inflated.get(name)
            if data is not None:
                return data[lo:hi]
        raw = self.source.read(data_offset, end, limit=end, floor=data_offset)
        data = self._decode(entry, raw)
        if entry.method != R.STORED and entry.size <= _INFLATED_CACHE_BYTES // 4:
            # zarr reads a shard's index and then each chunk: inflate a compressed shard once
            with self._lock:
                self._inflated[name] = data
                while sum(len(v) for v in self._inflated.values()) > _INFLATED_CACHE_BYTES:
                    self._inflated.pop(next(iter(self._inflated)))
        return data if (lo, hi) == (0, entry.size) else data[lo:hi]

    def data_span(self, name: str) -> tuple[int, int] | None:
        """Absolute ``(offset, size)`` of a STORED entry's bytes in the archive, or None."""
        entry = self.entries.get(name)
        if entry is None or entry.method != R.STORED:
            return None
        return self._local_header(entry), entry.size
