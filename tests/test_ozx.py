"""RFC-9 ``.ozx`` archives: structure of what we write, lazy reads, round trips, interop.

Structure is checked twice: with Python's :mod:`zipfile` (an independent ZIP reader) and
by parsing the raw records here with :mod:`struct` (entry order in the local headers and
in the central directory, STORED, ZIP64 extra fields and end records, the comment).
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

import ngff
import ngff.ozx
from ngff.errors import NgffError, StoreError, UnsupportedVersionError

COMMENT = {"ome": {"version": "0.5", "zipFile": {"centralDirectory": {"jsonFirst": True}}}}


def _volume(shape=(2, 24, 96, 80), dtype="uint16") -> np.ndarray:
    rng = np.random.default_rng(7)
    base = np.indices(shape).sum(axis=0) * 3
    return (base + rng.integers(0, 50, size=shape)).astype(dtype)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A sharded 0.5 image with a label image as a directory, and packed as .ozx."""
    folder = tmp_path_factory.mktemp("ozx")
    data = _volume()
    directory = folder / "image.ome.zarr"
    ngff.write(data, directory, dims="czyx", chunks=16, shards=2, scale_factors=[2, 4])
    labels = (data[0] > 200).astype("uint8")
    ngff.write_labels(directory, "cells", labels)
    archive = ngff.ozx.pack(directory, folder / "image.ozx")
    return {"data": data, "labels": labels, "dir": directory, "ozx": archive}


# --------------------------------------------------------------------------- raw records


def _raw_records(path: Path) -> dict:
    """Every record of an archive, parsed here with struct (independently of ngff.ozx)."""
    blob = path.read_bytes()
    eocd = blob.rfind(b"PK\x05\x06")
    (_, disk, cd_disk, n_disk, n_total, cd_size, cd_offset, comment_len) = struct.unpack_from("<IHHHHIIH", blob, eocd)
    comment = blob[eocd + 22 : eocd + 22 + comment_len]
    locator = struct.unpack_from("<IIQI", blob, eocd - 20)
    z64 = struct.unpack_from("<IQHHIIQQQQ", blob, locator[2])
    central, position = [], z64[9]
    for _ in range(z64[7]):
        f = struct.unpack_from("<IHHHHHHIIIHHHHHII", blob, position)
        name = blob[position + 46 : position + 46 + f[10]].decode()
        extra = blob[position + 46 + f[10] : position + 46 + f[10] + f[11]]
        central.append({"fields": f, "name": name, "extra": extra})
        position += 46 + f[10] + f[11] + f[12]
    local = []
    for c in central:
        offset = struct.unpack_from("<QQQ", c["extra"], 4)[2]
        f = struct.unpack_from("<IHHHHHIIIHH", blob, offset)
        name = blob[offset + 30 : offset + 30 + f[9]].decode()
        extra = blob[offset + 30 + f[9] : offset + 30 + f[9] + f[10]]
        local.append({"offset": offset, "fields": f, "name": name, "extra": extra})
    return {
        "eocd": (disk, cd_disk, n_disk, n_total, cd_size, cd_offset),
        "comment": comment,
        "locator": locator,
        "zip64": z64,
        "central": central,
        "local": local,
        "end": position,
    }


def _is_json(name: str) -> bool:
    return name.rsplit("/", 1)[-1] == "zarr.json"


def test_entry_order_is_rfc9_in_local_headers_and_central_directory(written):
    raw = _raw_records(written["ozx"])
    names = [c["name"] for c in raw["central"]]
    assert names[0] == "zarr.json"
    kinds = [_is_json(n) for n in names]
    assert kinds == sorted(kinds, reverse=True), "every zarr.json precedes every other entry"
    depths = [n.count("/") for n in names if _is_json(n)]
    assert depths == sorted(depths), "zarr.json files are breadth-first"
    expected = sorted(p.relative_to(written["dir"]).as_posix() for p in written["dir"].rglob("*") if p.is_file())
    assert sorted(names) == expected
    # the file order of local headers is the central directory order
    offsets = [entry["offset"] for entry in raw["local"]]
    assert offsets == sorted(offsets)
    assert [entry["name"] for entry in raw["local"]] == names
    assert names == ngff.ozx.entry_order(expected)


def test_entries_are_stored_with_zip64_records(written):
    raw = _raw_records(written["ozx"])
    for c, entry in zip(raw["central"], raw["local"]):
        method, csize, usize, offset_field = c["fields"][4], c["fields"][8], c["fields"][9], c["fields"][16]
        assert method == 0, f"{c['name']} is compressed"
        assert (csize, usize, offset_field) == (0xFFFFFFFF,) * 3
        header_id, length, real_usize, real_csize, real_offset = struct.unpack_from("<HHQQQ", c["extra"])
        assert (header_id, length) == (1, 24)
        assert real_usize == real_csize == (written["dir"] / c["name"]).stat().st_size
        assert real_offset == entry["offset"]
        assert entry["fields"][3] == 0 and entry["fields"][7:9] == (0xFFFFFFFF, 0xFFFFFFFF)
        assert struct.unpack_from("<HHQQ", entry["extra"]) == (1, 16, real_usize, real_csize)
        assert c["fields"][2] >= 45 and entry["fields"][1] >= 45  # version needed: ZIP64
    disk, cd_disk, n_disk, n_total, cd_size, cd_offset = raw["eocd"]
    assert (disk, cd_disk) == (0, 0)
    assert (n_disk, n_total, cd_size, cd_offset) == (0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    assert raw["locator"][0] == 0x07064B50 and raw["locator"][3] == 1  # one disk
    assert raw["zip64"][0] == 0x06064B50
    assert raw["zip64"][7] == len(raw["central"])
    assert raw["zip64"][9] + raw["zip64"][8] == raw["locator"][2] == raw["end"]


def test_comment_and_zipfile_agree(written):
    with zipfile.ZipFile(written["ozx"]) as z:
        assert json.loads(z.comment.decode("utf-8")) == COMMENT
        assert z.testzip() is None  # every CRC checks out
        assert all(info.compress_type == zipfile.ZIP_STORED for info in z.infolist())
        for info in z.infolist():
            assert z.read(info) == (written["dir"] / info.filename).read_bytes()
    archive = ngff.ozx.open_archive(written["ozx"])
    assert archive.version == "0.5" and archive.json_first and archive.zip64
    assert archive.problems == []


def test_read_matches_directory(written):
    image = ngff.read(written["ozx"])
    reference = ngff.read(written["dir"])
    assert image.version == "0.5" and image.shape == written["data"].shape
    assert [lvl.shape for lvl in image.levels] == [lvl.shape for lvl in reference.levels]
    assert image.levels[0].chunksize == reference.levels[0].chunksize
    for ours, theirs in zip(image.levels, reference.levels):
        np.testing.assert_array_equal(ours.compute(), theirs.compute())
    np.testing.assert_array_equal(image.labels["cells"].levels[0].compute(), written["labels"])
    assert image.scales == reference.scales


def test_read_is_lazy_and_partial(written, monkeypatch):
    """Opening reads the tail and one metadata block; a plane reads a fraction of the file."""
    reads: list[tuple[int, int]] = []
    original = ngff.ozx.FileSource.read

    def spy(self, start, end, **bounds):
        reads.append((start, end))
        return original(self, start, end, **bounds)

    entries = ngff.ozx.open_archive(written["ozx"]).entries.values()
    first_data = min(e.header_offset for e in entries if not e.name.endswith("zarr.json"))
    monkeypatch.setattr(ngff.ozx.FileSource, "read", spy)
    image = ngff.read(written["ozx"])
    assert len(reads) <= 2, reads  # end records + central directory, then every zarr.json at once
    assert reads[-1][1] <= first_data  # the metadata read stops before the first shard
    reads.clear()
    plane = image.levels[0][1, 5, :16, :16].compute()
    np.testing.assert_array_equal(plane, written["data"][1, 5, :16, :16])
    size = written["ozx"].stat().st_size
    assert sum(b - a for a, b in reads) < size / 10


def test_write_ozx_directly(tmp_path):
    data = _volume((40, 120, 100), "uint8")
    image = ngff.write(data, tmp_path / "direct.ozx", scale={"z": 2.0})
    assert isinstance(image, ngff.Image) and image.location.endswith("direct.ozx")
    np.testing.assert_array_equal(ngff.read(tmp_path / "direct.ozx").levels[0].compute(), data)
    assert image.name == "direct"
    with zipfile.ZipFile(tmp_path / "direct.ozx") as z:
        level0 = json.loads(z.read("0/zarr.json"))
        assert level0["codecs"][0]["name"] == "sharding_indexed"  # sharded by default (RFC-9 SHOULD)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["direct.ozx"]  # no staging left


def test_write_ozx_refuses_04_and_existing(tmp_path):
    data = _volume((8, 32, 32), "uint8")
    with pytest.raises(UnsupportedVersionError, match="0.5"):
        ngff.write(data, tmp_path / "old.ozx", version="0.4")
    assert list(tmp_path.iterdir()) == []
    ngff.write(data, tmp_path / "a.ozx")
    before = (tmp_path / "a.ozx").read_bytes()
    with pytest.raises(StoreError, match="exists"):
        ngff.write(data + 1, tmp_path / "a.ozx")
    assert (tmp_path / "a.ozx").read_bytes() == before
    ngff.write(data + 1, tmp_path / "a.ozx", overwrite=True)
    np.testing.assert_array_equal(ngff.read(tmp_path / "a.ozx").levels[0].compute(), data + 1)
    image = ngff.read(tmp_path / "a.ozx")
    with pytest.raises(StoreError, match="read from"):
        ngff.write(image, tmp_path / "a.ozx", overwrite=True)
    with pytest.raises(StoreError, match="URLs"):
        ngff.write(data, "https://example.org/x.ozx")


def test_failed_write_leaves_nothing(tmp_path):
    data = _volume((8, 32, 32), "uint8")

    def boom(done, total):
        raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError):
        ngff.write(data, tmp_path / "x.ozx", progress=boom)
    assert list(tmp_path.iterdir()) == []


def test_unpack_restores_the_directory(written, tmp_path):
    out = ngff.ozx.unpack(written["ozx"], tmp_path / "back.ome.zarr")
    ours = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    theirs = {p.relative_to(written["dir"]).as_posix(): p.read_bytes() for p in written["dir"].rglob("*") if p.is_file()}
    assert ours == theirs
    with pytest.raises(StoreError, match="exists"):
        ngff.ozx.unpack(written["ozx"], out)


def test_pack_refuses_v2_nested_archives_and_links(tmp_path):
    data = _volume((8, 32, 32), "uint8")
    ngff.write(data, tmp_path / "v04.ome.zarr", version="0.4")
    with pytest.raises(UnsupportedVersionError, match="Zarr v2"):
        ngff.ozx.pack(tmp_path / "v04.ome.zarr", tmp_path / "v04.ozx")
    ngff.write(data, tmp_path / "v05.ome.zarr")
    (tmp_path / "v05.ome.zarr" / "inner.ozx").write_bytes(b"PK")
    with pytest.raises(StoreError, match="SHALL NOT be embedded"):
        ngff.ozx.pack(tmp_path / "v05.ome.zarr", tmp_path / "v05.ozx")
    (tmp_path / "v05.ome.zarr" / "inner.ozx").unlink()
    (tmp_path / "v05.ome.zarr" / "link").symlink_to(tmp_path / "v04.ome.zarr" / ".zattrs")
    with pytest.raises(StoreError, match="regular file"):
        ngff.ozx.pack(tmp_path / "v05.ome.zarr", tmp_path / "v05.ozx")
    assert not (tmp_path / "v05.ozx").exists()
    assert not any(p.name.startswith(".v05.ozx") for p in tmp_path.iterdir())
    (tmp_path / "empty").mkdir()
    with pytest.raises(StoreError, match="no zarr.json"):
        ngff.ozx.pack(tmp_path / "empty", tmp_path / "none.ozx")


def test_write_labels_into_ozx_keeps_rfc9_layout(tmp_path):
    data = _volume((16, 64, 64), "uint8")
    ngff.write(data, tmp_path / "img.ozx")
    ngff.write_labels(tmp_path / "img.ozx", "mask", (data > 100).astype("uint8"))
    image = ngff.read(tmp_path / "img.ozx")
    np.testing.assert_array_equal(image.labels["mask"].levels[0].compute(), (data > 100).astype("uint8"))
    archive = ngff.ozx.open_archive(tmp_path / "img.ozx")
    assert archive.problems == [] and archive.json_first
    assert archive.order == ngff.ozx.entry_order(list(archive.order))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["img.ozx"]


def test_staged_packs_any_writer_output(tmp_path):
    data = _volume((8, 32, 32), "uint8")
    with ngff.ozx.staged(tmp_path / "s.ozx") as folder:
        ngff.write(data, folder / "anything.ome.zarr")
    np.testing.assert_array_equal(ngff.read(tmp_path / "s.ozx").levels[0].compute(), data)
    with pytest.raises(ValueError):
        with ngff.ozx.staged(tmp_path / "t.ozx") as folder:
            ngff.write(data, folder / "partial.ome.zarr")
            raise ValueError("writer failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.ozx"]


# --------------------------------------------------------------------------- tolerant reading


def _zip_copy(src: Path, dst: Path, *, comment: bytes | None, compression=zipfile.ZIP_STORED, shuffle=False):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression=compression) as zout:
        infos = zin.infolist()
        if shuffle:
            infos = infos[::-1]
        for info in infos:
            zout.writestr(info.filename, zin.read(info))
        if comment is not None:
            zout.comment = comment


@pytest.mark.parametrize(
    "comment, version, problem",
    [
        (json.dumps(COMMENT).encode() + b"\x00", "0.5", None),  # early drafts: NUL-terminated
        (b"", None, "no archive comment"),
        (b"OZX0001 not json", None, "not UTF-8 JSON"),
        (b'{"ome": {"version": 5}}', None, "not a string"),
    ],
)
def test_comment_variants_are_tolerated(written, tmp_path, comment, version, problem):
    path = tmp_path / "variant.ozx"
    _zip_copy(written["ozx"], path, comment=comment)
    archive = ngff.ozx.open_archive(path)
    assert archive.version == version
    if problem is None:
        assert archive.problems == [] and archive.json_first
    else:
        assert any(problem in p for p in archive.problems), archive.problems
    np.testing.assert_array_equal(ngff.read(path).levels[0].compute(), written["data"])


def test_deflated_and_shuffled_archives_are_read(written, tmp_path):
    path = tmp_path / "deflated.zip"
    _zip_copy(written["ozx"], path, comment=json.dumps(COMMENT).encode(), compression=zipfile.ZIP_DEFLATED, shuffle=True)
    archive = ngff.ozx.open_archive(path)
    assert not archive.json_first  # the claim is checked, not trusted
    assert any("jsonFirst" in p for p in archive.problems)
    image = ngff.read(path)
    np.testing.assert_array_equal(image.levels[0].compute(), written["data"])
    np.testing.assert_array_equal(image.labels["cells"].levels[0].compute(), written["labels"])


def test_hierarchy_in_a_subfolder_is_named(written, tmp_path):
    path = tmp_path / "rootnotzarr.ozx"
    with zipfile.ZipFile(written["ozx"]) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            zout.writestr(f"somedirectory/{info.filename}", zin.read(info))
    with pytest.raises(NgffError, match="somedirectory"):
        ngff.read(path)


# --------------------------------------------------------------------------- interop


def test_ngff_zarr_reads_our_archive(written):
    nz = pytest.importorskip("ngff_zarr")
    multiscales = nz.from_ngff_zarr(str(written["ozx"]))
    np.testing.assert_array_equal(np.asarray(multiscales.images[0].data), written["data"])
    assert len(multiscales.images) == len(ngff.read(written["ozx"]).levels)


def test_we_read_ngff_zarr_archives(tmp_path):
    nz = pytest.importorskip("ngff_zarr")
    data = _volume((24, 64, 64), "uint16")
    image = nz.to_ngff_image(data, dims=("z", "y", "x"), scale={"z": 2.0, "y": 1.0, "x": 1.0})
    multiscales = nz.to_multiscales(image, scale_factors=[2], chunks=16)
    path = tmp_path / "theirs.ozx"
    nz.to_ngff_zarr(str(path), multiscales, version="0.5")
    ours = ngff.read(path)
    assert ours.version == "0.5" and ours.dims == ("z", "y", "x")
    np.testing.assert_array_equal(ours.levels[0].compute(), data)
    np.testing.assert_array_equal(ours.levels[1].compute(), np.asarray(multiscales.images[1].data))
    assert ngff.ozx.open_archive(path).version == "0.5"


def test_plate_written_through_staged_reads_back(tmp_path):
    """Any 0.5 hierarchy packs: a plate written by ngff.write_plate inside ngff.ozx.staged."""
    field = _volume((4, 32, 32), "uint8")
    with ngff.ozx.staged(tmp_path / "plate.ozx") as folder:
        store = folder / "plate.ome.zarr"
        ngff.write_plate(store, rows=2, columns=3, wells=["A/1", "B/3"], name="screen")
        ngff.write_well_image(store, "A", "1", 0, field)
        ngff.write_well_image(store, "B", "3", 0, field + 1)
    plate = ngff.read(tmp_path / "plate.ozx")
    assert isinstance(plate, ngff.Plate)
    np.testing.assert_array_equal(plate.well("B", "3").fields[0].levels[0].compute(), field + 1)
    archive = ngff.ozx.open_archive(tmp_path / "plate.ozx")
    assert archive.problems == [] and archive.order[0] == "zarr.json"
    assert archive.order == ngff.ozx.entry_order(list(archive.order))


def test_pack_memory_is_bounded(tmp_path):
    """pack streams: packing a store with a 48 MiB shard allocates a few MiB at most."""
    import tracemalloc

    data = _volume((8, 32, 32), "uint8")
    store = tmp_path / "big.ome.zarr"
    ngff.write(data, store)
    big = store / "0" / "c" / "big-shard"
    with open(big, "wb") as f:
        for _ in range(48):
            f.write(np.random.default_rng(0).bytes(1 << 20))
    tracemalloc.start()
    try:
        ngff.ozx.pack(store, tmp_path / "big.ozx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"pack allocated {peak / 2**20:.1f} MiB"
    archive = ngff.ozx.open_archive(tmp_path / "big.ozx")
    assert archive.read("0/c/big-shard", 5 << 20, (5 << 20) + 16) == big.read_bytes()[5 << 20 : (5 << 20) + 16]


def test_cli_pack_check_unpack(written, tmp_path):
    from typer.testing import CliRunner

    from ngff.cli import app

    runner = CliRunner()
    out = tmp_path / "cli.ozx"
    result = runner.invoke(app, ["ozx", "pack", str(written["dir"]), str(out)])
    assert result.exit_code == 0, result.output
    assert ngff.ozx.open_archive(out).order == ngff.ozx.open_archive(written["ozx"]).order
    result = runner.invoke(app, ["ozx", "check", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["json_first"] and report["zip64"] and report["version"] == "0.5" and report["problems"] == []
    result = runner.invoke(app, ["ozx", "pack", str(written["dir"]), str(out)])
    assert result.exit_code == 2 and "exists" in result.output
    shuffled = tmp_path / "shuffled.zip"
    _zip_copy(out, shuffled, comment=None, compression=zipfile.ZIP_DEFLATED, shuffle=True)
    result = runner.invoke(app, ["ozx", "check", str(shuffled)])
    assert result.exit_code == 1
    assert "compressed entries" in result.output and "no archive comment" in result.output and ".ozx" in result.output
    result = runner.invoke(app, ["ozx", "unpack", str(out), str(tmp_path / "back.ome.zarr")])
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(ngff.read(tmp_path / "back.ome.zarr").levels[0].compute(), written["data"])
    (tmp_path / "junk.ozx").write_bytes(b"junk" * 100)
    result = runner.invoke(app, ["ozx", "unpack", str(tmp_path / "junk.ozx"), str(tmp_path / "junk")])
    assert result.exit_code == 2 and "not a ZIP archive" in result.output and "Traceback" not in result.output


def test_pack_skips_temporary_files_and_refuses_locked_stores(tmp_path):
    data = _volume((8, 32, 32), "uint8")
    store = tmp_path / "s.ome.zarr"
    ngff.write(data, store)
    (store / ".zarr.json.tmp-1234").write_text("{}")
    (store / ".0.ngff-tmp-abcd1234").mkdir()
    (store / ".0.ngff-tmp-abcd1234" / "junk").write_bytes(b"x")
    ngff.ozx.pack(store, tmp_path / "s.ozx")
    names = ngff.ozx.open_archive(tmp_path / "s.ozx").order
    assert not any("tmp" in n for n in names) and "zarr.json" in names
    (store / ".ngff-lock").write_text("1234")
    with pytest.raises(StoreError, match="lock"):
        ngff.ozx.pack(store, tmp_path / "t.ozx")
    assert not (tmp_path / "t.ozx").exists()


def test_zarr_v2_zip_of_other_tools_is_read(tmp_path):
    """Plain zips of 0.4 stores (zipfile, DEFLATE, no comment) open lazily too."""
    data = _volume((8, 48, 48), "uint16")
    ngff.write(data, tmp_path / "old.ome.zarr", version="0.4", chunks=16)
    path = tmp_path / "old.zarr.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for file in sorted((tmp_path / "old.ome.zarr").rglob("*")):
            if file.is_file():
                z.write(file, file.relative_to(tmp_path / "old.ome.zarr").as_posix())
    image = ngff.read(path)
    assert image.version == "0.4"
    np.testing.assert_array_equal(image.levels[0].compute(), data)
    report = ngff.ozx.check_archive(path)
    assert any("compressed" in p for p in report["problems"]) and any(".ozx" in p for p in report["problems"])


def test_validate_checks_rfc9_rules(written, tmp_path):
    report = ngff.validate(written["ozx"])
    assert not {r for r in report.rules() if r.startswith("rfc9.")}, report.problems
    misleading = tmp_path / "misleading.zip"  # shuffled and deflated, but the comment claims jsonFirst
    _zip_copy(written["ozx"], misleading, comment=json.dumps(COMMENT).encode(), compression=zipfile.ZIP_DEFLATED, shuffle=True)
    report = ngff.validate(misleading)
    rules = report.rules()
    assert "rfc9.json-first" in rules and not report.ok  # ozx-tck's "misleadingsort" is an error
    assert {"rfc9.stored", "rfc9.extension", "rfc9.root-first"} <= rules
    plain = tmp_path / "plain.ozx"
    _zip_copy(written["ozx"], plain, comment=b"")
    assert "rfc9.comment" in ngff.validate(plain).rules()
    assert "rfc9.zip64" in ngff.validate(plain).rules()  # zipfile writes small archives without ZIP64
    unsharded = tmp_path / "unsharded.ozx"
    ngff.write(_volume((8, 32, 32), "uint8"), unsharded, shards=False)
    assert "rfc9.sharding" in ngff.validate(unsharded).rules()
    assert ngff.validate(unsharded).ok  # SHOULDs are warnings
    assert not ngff.validate(unsharded, strict=True).ok
