"""``ngff.update_region``: a region edit gives exactly the store a full rewrite gives.

Every test writes a tiny pyramid with ``ngff.write``, edits a region in place, and
compares every level with a fresh ``ngff.write`` of the edited array; files of chunks
whose content did not change must keep their bytes and their mtime.
"""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

import ngff
from ngff import atomic
from ngff.errors import NgffError, StoreError, StoreLockedError
from ngff.locking import LOCK_NAME, StoreLock
from ngff.update import downsampling_method, recover, update_region


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Hash and mtime of every file below ``root``."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            out[path.relative_to(root).as_posix()] = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
    return out


def levels(location) -> list[np.ndarray]:
    return [np.asarray(level.compute()) for level in ngff.read(location).levels]


def write(data, path, **options):
    options.setdefault("chunks", 16)
    options.setdefault("scale_factors", [2, 4, 8])
    return ngff.write(data, path, overwrite=True, **options)


CASES = [
    # (version, shards, method, dtype)
    ("0.5", None, None, np.uint16),
    ("0.5", 2, None, np.uint16),
    ("0.4", None, "mean", np.uint8),
    ("0.5", None, "mode", np.int32),
    ("0.5", None, "nearest", np.float32),
    ("0.4", None, "max", np.uint16),
    ("0.5", None, "min", np.int16),
]


@pytest.mark.parametrize("version, shards, method, dtype", CASES)
def test_region_update_equals_full_rewrite(tmp_path, version, shards, method, dtype):
    rng = np.random.default_rng(7)
    data = (rng.random((37, 70, 90)) * 200).astype(dtype)
    path = tmp_path / "img.zarr"
    write(data, path, version=version, shards=shards, method=method)
    # Regions at the borders exercise the mirrored taps; an interior one the plain case.
    regions = [
        (slice(0, 5), slice(0, 9), slice(81, 90)),
        (slice(30, 37), slice(62, 70), slice(0, 3)),
        (slice(11, 20), slice(33, 47), slice(40, 41)),
    ]
    expected = data.copy()
    for region in regions:
        before = snapshot(path)
        new = (rng.random(expected[region].shape) * 200).astype(dtype)
        result = update_region(path, region, new)
        expected[region] = new
        after = snapshot(path)
        changed = {k for k in after if before.get(k) != after[k]} | (set(before) - set(after))
        assert changed == set(result.keys), "only the files reported were touched"
        assert result.bytes_written > 0
        assert result.method == (method or "gaussian")
    reference = tmp_path / "ref.zarr"
    write(expected, reference, version=version, shards=shards, method=method)
    for k, (got, want) in enumerate(zip(levels(path), levels(reference))):
        np.testing.assert_array_equal(got, want, err_msg=f"level {k}")
    assert not (path / LOCK_NAME).exists() and not (path / atomic.JOURNAL_NAME).exists()
    assert ngff.validate(path).ok


def test_channels_and_unchanged_values(tmp_path):
    """A 4-D czyx image: channels are never mixed; rewriting equal values writes nothing."""
    rng = np.random.default_rng(1)
    data = rng.integers(0, 4000, (2, 9, 40, 40), dtype=np.uint16)
    path = tmp_path / "c.zarr"
    write(data, path, scale_factors=[2, 4])
    before = snapshot(path)
    result = update_region(path, (slice(0, 2), slice(0, 9), slice(0, 20)), data[:, :, :20])
    assert result.keys == [] and snapshot(path) == before
    region = (1, slice(2, 4), slice(5, 9), slice(30, 40))
    update_region(path, region, 99)
    expected = data.copy()
    expected[region] = 99
    reference = tmp_path / "r.zarr"
    write(expected, reference, scale_factors=[2, 4])
    for got, want in zip(levels(path), levels(reference)):
        np.testing.assert_array_equal(got, want)
    # Channel 0 of every level is untouched.
    for got, old in zip(levels(path), levels(tmp_path / "c.zarr")):
        np.testing.assert_array_equal(got[0], old[0])


def test_untouched_chunks_keep_bytes_and_mtime(tmp_path):
    data = np.zeros((64, 64), dtype=np.uint8)
    path = tmp_path / "z.zarr"
    write(data, path, chunks=16, scale_factors=[2])
    data[16:32, 16:32] = np.arange(256, dtype=np.uint8).reshape(16, 16)
    write(data, path, chunks=16, scale_factors=[2])
    before = snapshot(path)
    result = update_region(path, (slice(20, 24), slice(20, 24)), 255)
    after = snapshot(path)
    changed = sorted(k for k in after if before.get(k) != after[k])
    # One level-0 chunk; in level 1 the region maps inside chunk (0, 0) even with the gaussian's halo.
    assert changed == sorted(result.keys) == ["0/c/1/1", "1/c/0/0"]


def test_update_a_coarser_level_regenerates_below_only(tmp_path):
    from ngff.pyramid import reduce_block

    rng = np.random.default_rng(3)
    data = rng.integers(0, 255, (32, 48), dtype=np.uint8)
    path = tmp_path / "l.zarr"
    write(data, path, chunks=8, scale_factors=[2, 4])
    old0, old1, _ = levels(path)
    update_region(path, (slice(3, 9), slice(10, 20)), 0, level=1)
    new0, new1, new2 = levels(path)
    np.testing.assert_array_equal(new0, old0)
    expected1 = old1.copy()
    expected1[3:9, 10:20] = 0
    np.testing.assert_array_equal(new1, expected1)
    want2 = reduce_block(expected1, (2, 2), "gaussian", (0, 0), [(0, 8), (0, 12)], expected1.shape)
    np.testing.assert_array_equal(new2, want2)


def test_label_image_update(tmp_path):
    image = tmp_path / "img.zarr"
    write(np.zeros((16, 32, 32), np.uint16), image)
    labels = np.zeros((16, 32, 32), np.uint32)
    ngff.write_labels(image, "cells", labels, colors={1: (255, 0, 0, 255)})
    result = update_region(image / "labels" / "cells", (slice(2, 6), slice(0, 8), slice(0, 8)), 5)
    assert result.method == "mode"
    read = ngff.read(image).labels["cells"]
    assert read.levels[0][2:6, :8, :8].compute().min() == 5
    assert set(np.unique(read.levels[1].compute())) <= {0, 5}
    assert read.image_label.colors[0].value == 1  # metadata untouched


@pytest.mark.parametrize(
    "region, data, rule",
    [
        ((slice(0, 4), slice(0, 4), slice(0, 4), slice(0, 1)), 1, "region"),
        ((slice(4, 2),), 1, "region"),
        ((slice(0, 8, 2),), 1, "region"),
        ((slice(0, 2), slice(0, 2), slice(0, 2)), np.ones((3, 3, 3), np.uint16), "region"),
        ((slice(0, 2),), np.full((2, 16, 16), 0.5), "dtype"),
        ((slice(0, 2),), np.full((2, 16, 16), 70000, np.int64), "dtype"),
        (("a",), 1, "region"),
    ],
)
def test_bad_input_raises_and_changes_nothing(tmp_path, region, data, rule):
    path = tmp_path / "b.zarr"
    write(np.ones((8, 16, 16), np.uint16), path)
    before = snapshot(path)
    with pytest.raises(NgffError) as info:
        update_region(path, region, data)
    assert info.value.rule == rule and str(path) in str(info.value)
    assert snapshot(path) == before
    with pytest.raises(NgffError, match="level 9"):
        update_region(path, (slice(0, 1),), 1, level=9)
    with pytest.raises(NgffError):
        update_region(tmp_path / "missing.zarr", (slice(0, 1),), 1)


def test_second_writer_gets_a_clear_error(tmp_path):
    path = tmp_path / "w.zarr"
    write(np.zeros((8, 16, 16), np.uint8), path)
    before = snapshot(path)
    # Another process holds the lock.
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from pathlib import Path
            from ngff.locking import StoreLock
            with StoreLock(Path({str(path)!r})):
                print("locked", flush=True)
                sys.stdin.readline()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreLockedError, match=f"process {holder.pid}") as info:
            update_region(path, (slice(0, 2),), 3)
        assert info.value.rule == "one writer per store"
        with pytest.raises(StoreLockedError):
            ngff.write_labels(path, "x", np.zeros((8, 16, 16), np.uint8))
        assert {k: v for k, v in snapshot(path).items() if k != LOCK_NAME} == before
    finally:
        holder.communicate("\n", timeout=20)
    # The holder is gone: the lock is free again, even if its file were left behind.
    (path / LOCK_NAME).write_text("{}")
    update_region(path, (slice(0, 2),), 3)
    assert levels(path)[0][:2].min() == 3


def test_lock_is_per_store_root(tmp_path):
    path = tmp_path / "s.zarr"
    write(np.zeros((8, 16, 16), np.uint16), path)
    ngff.write_labels(path, "cells", np.zeros((8, 16, 16), np.uint8))
    with StoreLock(path), pytest.raises(StoreLockedError):
        update_region(path / "labels" / "cells", (slice(0, 1),), 1)


def test_readers_see_old_or_new_chunks(tmp_path):
    path = tmp_path / "r.zarr"
    write(np.zeros((16, 64, 64), np.uint16), path, chunks=(16, 32, 32), scale_factors=[2])
    stop = threading.Event()
    seen: set[int] = set()
    errors: list[str] = []

    def reader():
        level = ngff.read(path).levels[0][:, :32, :32]  # ngff's chunk reader opens files by name
        while not stop.is_set():
            block = np.asarray(level.compute(scheduler="sync"))
            values = np.unique(block)
            if values.size != 1:
                errors.append(f"mixed chunk {values}")
            seen.update(values.tolist())

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for value in range(1, 9):
            update_region(path, (slice(None), slice(0, 32), slice(0, 32)), value)
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert len(seen) > 1


def _fail_after(count: int, error: OSError):
    real = os.write
    calls = {"n": 0}

    def fake(fd, data):
        calls["n"] += 1
        if calls["n"] > count:
            raise error
        return real(fd, data)

    return fake


@pytest.mark.parametrize(
    "error, words",
    [(OSError(errno.ENOSPC, "No space left on device"), "disk is full"), (PermissionError(errno.EACCES, "Permission denied"), "permission denied")],
)
def test_disk_full_or_permission_denied_leaves_the_store_intact(tmp_path, monkeypatch, error, words):
    path = tmp_path / "d.zarr"
    data = np.random.default_rng(0).integers(0, 100, (16, 48, 48), dtype=np.uint16)
    write(data, path)
    before = snapshot(path)
    monkeypatch.setattr(atomic.os, "write", _fail_after(2, error))
    with pytest.raises(StoreError, match=words) as info:
        update_region(path, (slice(0, 16), slice(0, 40), slice(0, 40)), 5)
    assert str(path) in str(info.value)
    monkeypatch.undo()
    assert snapshot(path) == before  # no staged file, no journal, no lock left behind
    np.testing.assert_array_equal(levels(path)[0], data)


def test_real_file_size_limit_in_a_child(tmp_path):
    """A real failing write (RLIMIT_FSIZE, the unprivileged stand-in for a full disk)."""
    path = tmp_path / "f.zarr"
    data = np.random.default_rng(0).integers(0, 60000, (16, 64, 64), dtype=np.uint16)
    write(data, path, codec="none", chunks=64)
    before = snapshot(path)
    script = textwrap.dedent(f"""
        import resource, signal, numpy as np, ngff
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
        try:
            ngff.update_region({str(path)!r}, (slice(0, 16),), np.full((16, 64, 64), 7, np.uint16))
        except ngff.NgffError as exc:
            print("NgffError:", exc)
        try:
            noise = np.random.default_rng(1).integers(0, 60000, (16, 64, 64)).astype(np.uint16)
            ngff.write_labels({str(path)!r}, "big", noise, codec="none")
        except ngff.NgffError as exc:
            print("labels NgffError:", exc)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert "NgffError:" in out.stdout and "file size limit" in out.stdout, out.stdout + out.stderr
    assert "labels NgffError:" in out.stdout and "nothing was written" in out.stdout, out.stdout + out.stderr
    assert snapshot(path) == before


def test_interrupted_commit_is_completed_by_recover(tmp_path, monkeypatch):
    path = tmp_path / "j.zarr"
    data = np.random.default_rng(0).integers(0, 100, (16, 48, 48), dtype=np.uint16)
    write(data, path)
    real = atomic._apply

    def crash(target, moves):
        moves = list(moves)
        real(target, moves[:1])
        raise KeyboardInterrupt  # as if killed after the first rename

    monkeypatch.setattr(atomic, "_apply", crash)
    with pytest.raises(KeyboardInterrupt):
        update_region(path, (slice(0, 16), slice(0, 40), slice(0, 40)), 5)
    monkeypatch.undo()
    assert atomic.pending(atomic.LocalTarget(path)) == "committed"
    assert recover(path) == "completed"
    expected = data.copy()
    expected[:, :40, :40] = 5
    reference = tmp_path / "ref.zarr"
    write(expected, reference)
    for got, want in zip(levels(path), levels(reference)):
        np.testing.assert_array_equal(got, want)
    assert recover(path) is None


def test_staged_files_of_an_uncommitted_update_are_removed(tmp_path, monkeypatch):
    path = tmp_path / "u.zarr"
    write(np.zeros((16, 48, 48), np.uint16), path)
    before = snapshot(path)
    monkeypatch.setattr(atomic.Transaction, "abort", lambda self: None)  # as if killed while staging
    monkeypatch.setattr(atomic.Transaction, "commit", lambda self: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        update_region(path, (slice(0, 8),), 9)
    monkeypatch.undo()
    assert any(atomic._TEMP_MARK in k for k in snapshot(path))
    assert recover(path) == "rolled back"
    assert snapshot(path) == before


def test_method_from_metadata():
    from ngff.model import Multiscale

    def ms(type_=None, meta=None):
        return Multiscale(axes=(), datasets=(), type=type_, metadata=meta)

    assert downsampling_method(ms("gaussian", {"method": "ngff.pyramid.max"}), False) == "max"
    assert downsampling_method(ms("local_mean"), False) == "mean"
    assert downsampling_method(ms("ITKWASM_GAUSSIAN"), False) == "gaussian"
    assert downsampling_method(ms("DASK_IMAGE_MODE"), True) == "mode"
    assert downsampling_method(ms(None), True) == "mode"
    assert downsampling_method(ms("something else"), False) == "gaussian"


def test_write_labels_remote_store_metadata_last(tmp_path):
    fsspec = pytest.importorskip("fsspec")
    local = tmp_path / "img.zarr"
    write(np.zeros((8, 32, 32), np.uint16), local, scale_factors=[2])
    fs = fsspec.filesystem("memory")
    fs.put(str(local), "/edits-test/img.zarr", recursive=True)
    url = "memory://edits-test/img.zarr"
    try:
        labels = np.zeros((8, 32, 32), np.uint8)
        labels[2:4, 5:9, 5:9] = 3
        written = ngff.write_labels(url, "cells", labels, colors={3: (0, 255, 0, 255)})
        assert np.array_equal(written.levels[0].compute(), labels)
        reopened = ngff.read(url)
        assert list(reopened.labels) == ["cells"]
        assert reopened.labels["cells"].image_label.colors[0].rgba == (0, 255, 0, 255)
        assert not any(".ngff-" in p for p in fs.find("/edits-test"))
        result = update_region(f"{url}/labels/cells", (slice(0, 1),), 7)
        assert result.keys and ngff.read(url).labels["cells"].levels[0][0].compute().min() == 7
    finally:
        fs.rm("/edits-test", recursive=True)


def test_write_labels_and_update_in_ozx(tmp_path):
    from ngff.ozx.pack import pack

    local = tmp_path / "img.zarr"
    write(np.zeros((8, 32, 32), np.uint16), local, scale_factors=[2])
    archive = tmp_path / "img.ozx"
    pack(local, archive)
    labels = np.zeros((8, 32, 32), np.uint8)
    labels[0, :4, :4] = 2
    ngff.write_labels(archive, "cells", labels)
    assert list(ngff.read(archive).labels) == ["cells"]
    update_region(archive, (slice(0, 2), slice(0, 4), slice(0, 4)), 9)
    assert ngff.read(archive).levels[0][:2, :4, :4].compute().min() == 9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["img.ozx", "img.zarr"]


def test_write_labels_rerun_completes_an_unlisted_leftover(tmp_path):
    path = tmp_path / "img.zarr"
    write(np.zeros((8, 16, 16), np.uint16), path, scale_factors=[2])
    labels = np.ones((8, 16, 16), np.uint8)
    ngff.write_labels(path, "a", labels)
    # As if killed after the label image was in place but before the labels list was written:
    import shutil

    shutil.copytree(path / "labels" / "a", path / "labels" / "b")
    (path / "labels" / ".b.ngff-tmp-deadbeef").mkdir()
    ngff.write_labels(path, "b", labels * 2)
    assert list(ngff.read(path).labels) == ["a", "b"]
    assert ngff.read(path).labels["b"].levels[0].compute().max() == 2
    assert not list((path / "labels").glob(".b.ngff-tmp-*"))
    with pytest.raises(StoreError, match="exists"):
        ngff.write_labels(path, "b", labels)


def test_recover_command(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from ngff.cli import app

    path = tmp_path / "c.zarr"
    write(np.zeros((16, 48, 48), np.uint16), path)
    real = atomic._apply

    def crash(target, moves):
        real(target, list(moves)[:1])
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic, "_apply", crash)
    with pytest.raises(KeyboardInterrupt):
        update_region(path, (slice(0, 16), slice(0, 40), slice(0, 40)), 5)
    monkeypatch.undo()
    assert not ngff.validate(path).ok
    result = CliRunner().invoke(app, ["recover", str(path)])
    assert result.exit_code == 0 and "completed an interrupted update" in result.output
    assert ngff.validate(path).ok and levels(path)[0][:, :40, :40].min() == 5
    result = CliRunner().invoke(app, ["recover", str(path)])
    assert result.exit_code == 0 and "nothing to recover" in result.output
    result = CliRunner().invoke(app, ["recover", str(tmp_path / "missing.zarr")])
    assert result.exit_code == 2


def test_sharded_edit_splices_shards_byte_identical_to_a_rewrite(tmp_path):
    """Shards are rebuilt from the old inner chunks' bytes plus the re-encoded ones."""
    rng = np.random.default_rng(11)
    data = rng.integers(0, 1000, (40, 70, 90), dtype=np.uint16)
    path = tmp_path / "s.zarr"
    write(data, path, shards=2)
    expected = data.copy()
    for region, value in [((slice(0, 5), slice(0, 5), slice(80, 90)), 0), ((slice(0, 32), slice(0, 32), slice(0, 32)), 0)]:
        result = update_region(path, region, value)
        expected[region] = value
    reference = tmp_path / "r.zarr"
    write(expected, reference, shards=2)
    for k, (got, want) in enumerate(zip(levels(path), levels(reference))):
        np.testing.assert_array_equal(got, want, err_msg=f"level {k}")
    mine, theirs = snapshot(path), snapshot(reference)
    assert set(mine) == set(theirs)  # the all-zero shard (0, 0, 0) of level 0 is gone in both
    assert "0/c/0/0/0" not in mine
    assert all(mine[k][0] == theirs[k][0] for k in mine if k.split("/")[0].isdigit())
    assert result.keys
