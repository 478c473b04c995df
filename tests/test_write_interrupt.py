"""A write killed at any moment never leaves a readable but wrong store.

``ngff convert`` runs in a real subprocess and is killed with SIGKILL - no cleanup
code runs - after a seeded random delay.  Afterwards the destination either does not
exist, or reads back complete and identical to an uninterrupted conversion.  Writes
go to a hidden sibling directory that is renamed into place when complete; such
leftovers are tolerated, but they must be hidden, must not be the destination, and
must not look like a finished store unless they are one (the OME metadata is
written last).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import ngff

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

SEED = 20240611
TRIALS = 5
OVERWRITE_TRIALS = 2
SHAPE = (40, 320, 320)  # 8 MiB of uint16: a few tenths of a second of writing here
DEST = "out.ome.zarr"


def _ngff() -> list[str]:
    """The installed ``ngff`` console script (what users run), else ``python -m ngff.cli``.

    (Under ``python -m``, CPython 3.11 sometimes reports a handled Ctrl-C as death by
    SIGINT - exit status -2 - although the command exits 130; the console script
    never does.)
    """
    beside = Path(sys.executable).with_name("ngff")
    found = str(beside) if beside.exists() else shutil.which("ngff")
    return [found] if found else [sys.executable, "-m", "ngff.cli"]


def _command(src: Path, dest: Path, *extra: str) -> list[str]:
    return [*_ngff(), "convert", str(src), str(dest), "--chunks", "32", *extra]


def _temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(f".{DEST}.")]


def _levels(path: Path) -> list[np.ndarray]:
    return [level.compute() for level in ngff.read(path).levels]


def _metadata(path: Path) -> dict:
    return json.loads((path / "zarr.json").read_text())["attributes"]


def _assert_complete(path: Path, reference: Path) -> None:
    ours, ref = _levels(path), _levels(reference)
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        np.testing.assert_array_equal(a, b)
    assert _metadata(path) == _metadata(reference)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> tuple[Path, Path, float]:
    """The input, an uninterrupted conversion (in-process) and how long its writing took."""
    from ngff.convert import convert

    folder = tmp_path_factory.mktemp("interrupt")
    rng = np.random.default_rng(SEED)
    data = (rng.integers(0, 3000, size=SHAPE) + np.indices(SHAPE).sum(axis=0)).astype(np.uint16)
    np.save(folder / "input.npy", data)
    reference = folder / "reference" / DEST
    reference.parent.mkdir()
    ngff.write(np.zeros((16, 16), np.uint8), folder / "warm-up.zarr")  # imports out of the timing
    start = time.monotonic()
    convert(folder / "input.npy", reference, chunks=32)  # what the command line does
    duration = time.monotonic() - start
    np.testing.assert_array_equal(ngff.read(reference).levels[0].compute(), data)
    return folder / "input.npy", reference, duration


def _kill_while_writing(command: list[str], folder: Path, delay: float) -> bool:
    """Run ``command``; once its temporary store appears, SIGKILL it after ``delay`` seconds.

    Returns True when the process was killed (False: it had finished by then).  Waiting
    for the temporary makes the delay independent of the interpreter's start-up time.
    """
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and not _temporaries(folder) and time.monotonic() < deadline:
            time.sleep(0.002)
        try:
            proc.wait(timeout=delay)
            return False
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
    finally:
        if proc.poll() is None:  # pragma: no cover - only on a failure above
            proc.kill()
            proc.wait()


def _check_leftovers(folder: Path, reference: Path) -> None:
    for leftover in _temporaries(folder):
        assert leftover.name.startswith(".") and leftover.name != DEST
        try:
            image = ngff.read(leftover)
        except ngff.NgffError:
            continue  # incomplete: no OME metadata yet, not a store
        # Metadata is written last: a temporary that opens as an image is a complete one.
        assert image.levels, leftover
        _assert_complete(leftover, reference)


def test_sigkill_never_leaves_a_partial_destination(tmp_path: Path, prepared) -> None:
    src, reference, duration = prepared
    rng = random.Random(SEED)
    interrupted_mid_write = 0
    outcomes = []
    for trial in range(TRIALS):
        folder = tmp_path / f"trial{trial}"
        folder.mkdir()
        dest = folder / DEST
        # From the first moment of writing to a little after it would end.
        delay = rng.uniform(0.0, 1.2) * duration
        killed = _kill_while_writing(_command(src, dest), folder, delay)
        if dest.exists():
            _assert_complete(dest, reference)
        else:
            assert killed, "an uninterrupted conversion must create the destination"
            with pytest.raises(ngff.NgffError):
                ngff.read(dest)
            interrupted_mid_write += bool(_temporaries(folder))
        outcomes.append((round(delay, 3), killed, dest.exists()))
        _check_leftovers(folder, reference)
    assert interrupted_mid_write >= 1, (
        f"no trial was killed while writing; the test proved nothing: {outcomes}"
    )


def test_sigkill_during_overwrite_keeps_old_or_new(tmp_path: Path, prepared) -> None:
    """Killed while replacing a store: the old store, the new one - never a mixture."""
    src, reference, duration = prepared
    old_data = np.full((8, 40, 40), 7, dtype=np.uint16)
    rng = random.Random(SEED + 1)
    for trial in range(OVERWRITE_TRIALS):
        folder = tmp_path / f"trial{trial}"
        folder.mkdir()
        dest = folder / DEST
        ngff.write(old_data, dest, chunks=32)
        delay = rng.uniform(0.2, 1.0) * duration
        _kill_while_writing(_command(src, dest, "--overwrite"), folder, delay)
        if not dest.exists():
            # Only possible between the two renames of the swap; the old store survives beside it.
            olds = [p for p in folder.iterdir() if ".ngff-old-" in p.name]
            assert olds, "the old store vanished"
            continue
        levels = _levels(dest)
        if levels[0].shape == old_data.shape:
            np.testing.assert_array_equal(levels[0], old_data)
        else:
            _assert_complete(dest, reference)


def test_ctrl_c_is_a_clean_error(tmp_path: Path, prepared) -> None:
    """SIGINT (Ctrl-C) mid-write: exit 130, one red line, no destination."""
    src, reference, duration = prepared
    dest = tmp_path / DEST
    proc = subprocess.Popen(
        _command(src, dest), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while proc.poll() is None and not _temporaries(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.002)
    time.sleep(0.2 * duration)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:  # finished before the signal arrived
        _assert_complete(dest, reference)
        return
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "interrupted" in lines[0], err
    if dest.exists():  # the signal came after the store was moved into place
        assert "complete" in lines[0], err
        _assert_complete(dest, reference)
    else:
        assert "nothing was written" in lines[0], err
    # Running tasks are waited for before the temporary store is removed, so nothing is left.
    assert _temporaries(tmp_path) == [], _temporaries(tmp_path)
