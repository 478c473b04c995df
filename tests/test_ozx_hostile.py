"""Hostile and broken archives: a clear NgffError, and nothing written outside the destination.

The corpus is generated here with a tiny raw ZIP builder (struct, independent of
``ngff.ozx``) so that every field can lie: names, offsets, sizes, disk numbers, CRCs,
comments.  Each archive is opened with :func:`ngff.read` and extracted with
:func:`ngff.ozx.unpack`; both must raise an :class:`~ngff.errors.NgffError` (never a raw
zip/OS/zlib error) and leave the file system as it was.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import ngff
import ngff.ozx
from ngff.errors import ArchiveWarning, NgffError

ROOT = json.dumps(
    {"zarr_format": 3, "node_type": "group", "attributes": {"ome": {"version": "0.5", "multiscales": []}}}
).encode()
COMMENT = b'{"ome":{"version":"0.5","zipFile":{"centralDirectory":{"jsonFirst":true}}}}'


@dataclass
class Item:
    name: str
    data: bytes
    method: int = 0
    #: what the headers claim (default: the truth)
    csize: int | None = None
    usize: int | None = None
    crc: int | None = None
    offset: int | None = None  # central directory's local header offset
    disk: int = 0
    payload: bytes | None = None  # bytes actually stored (default: data, deflated if method 8)
    extra: dict = field(default_factory=dict)


def build(items: list[Item], *, comment: bytes = COMMENT, disk: int = 0, entries: int | None = None) -> bytes:
    """A classic (non-ZIP64) archive whose headers say what the items say."""
    out = bytearray()
    central = bytearray()
    for item in items:
        payload = item.payload
        if payload is None:
            payload = item.data if item.method == 0 else _deflate(item.data)
        crc = zlib.crc32(item.data) if item.crc is None else item.crc
        csize = len(payload) if item.csize is None else item.csize
        usize = len(item.data) if item.usize is None else item.usize
        name = item.name.encode("utf-8")
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, item.method, 0, 33, crc, csize, usize, len(name), 0)
        out += name + payload
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x800, item.method, 0, 33, crc, csize, usize,
            len(name), 0, 0, item.disk, 0, 0, offset if item.offset is None else item.offset,
        ) + name
    cd_offset = len(out)
    out += central
    count = len(items) if entries is None else entries
    out += struct.pack("<IHHHHIIH", 0x06054B50, disk, disk, count, count, len(central), cd_offset, len(comment)) + comment
    return bytes(out)


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def _valid() -> list[Item]:
    return [Item("zarr.json", ROOT), Item("a/zarr.json", b'{"zarr_format": 3, "node_type": "group"}'), Item("a/data", b"x" * 300)]


def _bomb() -> list[Item]:
    # 2 MB of zeros deflate to ~2 KB; the header claims 1000 bytes
    zeros = b"\x00" * 2_000_000
    return [Item("zarr.json", ROOT), Item("bomb", zeros, method=8, usize=1000)]


def _truncated(cut: int) -> bytes:
    blob = build(_valid())
    return blob[:cut] if cut > 0 else blob[:cut]


CORPUS = {
    "dotdot": (build(_valid() + [Item("../evil.txt", b"pwned")]), "'..'"),
    "dotdot-inner": (build(_valid() + [Item("a/../../evil.txt", b"pwned")]), "'..'"),
    "absolute": (build(_valid() + [Item("/tmp/evil.txt", b"pwned")]), "absolute"),
    "backslash": (build(_valid() + [Item("..\\evil.txt", b"pwned")]), "backslash"),
    "drive": (build(_valid() + [Item("C:/evil.txt", b"pwned")]), "drive letter"),
    "duplicate": (build(_valid() + [Item("a/data", b"y" * 300)]), "duplicate"),
    "overlap": (build(_valid() + [Item("b/data", b"z" * 300, offset=0)]), "overlap"),
    "offset-past-directory": (build(_valid()[:2] + [Item("a/data", b"x" * 300, offset=10**6)]), "central directory"),
    "size-past-directory": (build(_valid()[:2] + [Item("a/data", b"x" * 300, csize=10**6, usize=10**6)]), "central directory"),
    "stored-sizes-lie": (build(_valid()[:2] + [Item("a/data", b"x" * 300, usize=10**5)]), "stored"),
    "zip-bomb-ratio": (build([Item("zarr.json", ROOT), Item("bomb", b"\x00" * 100_000, method=8, usize=4_000_000_000)]), "zip bomb"),
    "zip-bomb-output": (build(_bomb()), "more than its declared"),
    "crc": (build([Item("zarr.json", ROOT, crc=12345)] + _valid()[1:]), "CRC"),
    "truncated-half": (_truncated(-150), "end of central directory"),
    "truncated-tail": (_truncated(-5), "end of central directory"),
    "directory-cut": (build(_valid(), entries=9), "entries cannot fit|truncated"),
    "split": (build(_valid(), disk=1), "SHALL NOT be split"),
    "entry-on-other-disk": (build(_valid()[:2] + [Item("a/data", b"x" * 300, disk=2)]), "disk"),
    "unknown-method": (build([Item("zarr.json", ROOT, method=12, payload=b"BZh9junk")]), "compression method 12"),
    "not-a-zip": (b"just some bytes, not an archive" * 10, "not a ZIP archive"),
    "empty": (b"", "too short"),
}


@pytest.fixture
def sandbox(tmp_path):
    """A folder holding only the hostile archive; anything else appearing is a failure."""
    folder = tmp_path / "sandbox"
    folder.mkdir()
    return folder


def _snapshot(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_hostile_archive_is_a_clear_error(case, sandbox, tmp_path):
    blob, message = CORPUS[case]
    archive = sandbox / f"{case}.ozx"
    archive.write_bytes(blob)
    before = _snapshot(tmp_path)
    with pytest.raises(NgffError) as info:
        image = ngff.read(archive)
        for level in getattr(image, "levels", []):  # structural lies may surface at pixel reads
            level.compute()
    assert str(archive) in str(info.value)
    destination = sandbox / "out.ome.zarr"
    with pytest.raises(NgffError) as unpacked:
        ngff.ozx.unpack(archive, destination)
    import re

    assert re.search(message, str(unpacked.value)), str(unpacked.value)
    assert _snapshot(tmp_path) == before, "extraction left files behind"
    assert not destination.exists()
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/evil.txt").exists()


def test_valid_corpus_archive_is_read(sandbox):
    """The builder itself makes archives we accept (so the corpus errors are the lies)."""
    archive = sandbox / "valid.ozx"
    archive.write_bytes(build(_valid()))
    opened = ngff.ozx.open_archive(archive)
    assert opened.order == ["zarr.json", "a/zarr.json", "a/data"]
    assert opened.read("a/data", 10, 20) == b"x" * 10
    assert opened.version == "0.5" and not opened.zip64
    out = ngff.ozx.unpack(archive, sandbox / "out")
    assert (out / "a" / "data").read_bytes() == b"x" * 300
    bombless = sandbox / "deflated.ozx"
    bombless.write_bytes(build([Item("zarr.json", ROOT, method=8)]))
    assert ngff.ozx.open_archive(bombless).read("zarr.json") == ROOT


def test_non_json_comment_is_tolerated_but_reported(sandbox):
    archive = sandbox / "comment.ozx"
    archive.write_bytes(build(_valid(), comment=b"\xff\xfe not json"))
    opened = ngff.ozx.open_archive(archive)
    assert opened.version is None and not opened.json_first
    assert any("not UTF-8 JSON" in p for p in opened.problems)
    # reading goes on (RFC-9 makes the comment a SHOULD) with a warning naming the archive and the rule
    with pytest.warns(ArchiveWarning, match=r"comment\.ozx: the archive comment is not UTF-8 JSON \(RFC-9 SHOULD\)"):
        ngff.ozx.open_store(archive)
    report = ngff.validate(archive, strict=True)  # an error under strict validation
    assert not report.ok and any(p.rule == "rfc9.comment" for p in report.problems), report.problems


@pytest.mark.parametrize("cut", [0.25, 0.5, 0.9, 0.99])
def test_truncated_real_archive(tmp_path, cut):
    """An archive cut short anywhere (interrupted copy) is refused at open."""
    import numpy as np

    ngff.write(np.arange(8 * 32 * 32, dtype="uint16").reshape(8, 32, 32), tmp_path / "full.ozx")
    blob = (tmp_path / "full.ozx").read_bytes()
    cut_path = tmp_path / "cut.ozx"
    cut_path.write_bytes(blob[: int(len(blob) * cut)])
    with pytest.raises(NgffError, match="end of central directory|truncated"):
        ngff.read(cut_path)


def _real_archive(tmp_path_factory=None) -> bytes:
    items = _valid() + [Item("a/deflated", b"abc" * 200, method=8)]
    return build(items)


_BASE = _real_archive()


@pytest.mark.parametrize("seed", range(40))
def test_random_corruption_is_only_ever_an_ngff_error(seed, tmp_path):
    """Flipped bytes anywhere: reading and extracting fail cleanly (NgffError) or succeed."""
    import random

    rng = random.Random(seed)
    blob = bytearray(_BASE)
    for _ in range(rng.randint(1, 6)):
        position = rng.randrange(len(blob))
        blob[position] = rng.randrange(256)
    path = tmp_path / "fuzz.ozx"
    path.write_bytes(bytes(blob))
    before = _snapshot(tmp_path)
    try:
        archive = ngff.ozx.open_archive(path)
        for name in archive.names():
            archive.read(name)
            archive.read(name, 1, 7)
    except NgffError:
        pass
    try:
        ngff.ozx.unpack(path, tmp_path / "out")
    except NgffError:
        assert _snapshot(tmp_path) == before
