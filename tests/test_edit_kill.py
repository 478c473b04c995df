"""Edits killed at random moments (SIGKILL) leave the store as before, or complete.

A driver process imports ngff once and, for each seeded trial, copies a tiny template
store, forks a child that runs ``update_region`` (or ``write_labels`` into the image)
and SIGKILLs it after a seeded random delay (mostly within the operation's duration,
measured first; every fourth trial later).
Renames of the commit phase are slowed by a few milliseconds (a slow filesystem), so
some kills land between the journal's commit and its last rename.  Forking after the
imports keeps a trial in milliseconds; the driver never touches zarr
before forking, so no thread of zarr, zarrs or dask is running at fork time.

Afterwards, in this process, each store must read either exactly as before or exactly
as after (complete and valid), or - killed between the journal's commit and its last
rename - report the pending update in ``validate``; then re-running the operation
completes it: every level equals an uninterrupted run, and no lock, journal or staged
file remains.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import ngff
from ngff import atomic
from ngff.update import update_region

TRIALS = 56
SEED = 20261201
SHAPE = (16, 48, 48)
REGION = (slice(2, 11), slice(5, 33), slice(20, 48))


def _values() -> np.ndarray:
    return (np.arange(np.prod([s.stop - s.start for s in REGION])) % 251).astype(np.uint16).reshape(
        [s.stop - s.start for s in REGION]
    )


def _labels() -> np.ndarray:
    labels = np.zeros(SHAPE, np.uint8)
    labels[3:9, 10:30, 10:30] = 2
    return labels


DRIVER = textwrap.dedent(
    """
    import json, os, random, shutil, signal, sys, time
    import numpy as np
    import dask.array, zarr, zarr.storage  # preloaded: children only fork and run
    import ngff, ngff.atomic, ngff.reader, ngff.writer, ngff.update, ngff.pyramid, ngff.regions
    from test_edit_kill import REGION, _values, _labels

    template, workdir, trials, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

    # A slow filesystem: each rename of the commit phase takes a few ms, so some kills
    # land between the journal's commit and its last rename.
    _move = ngff.atomic.LocalTarget.move
    def slow_move(self, source, key):
        _move(self, source, key)
        time.sleep(0.004)
    ngff.atomic.LocalTarget.move = slow_move
    values, labels = _values(), _labels()

    def child(store, op):
        pid = os.fork()
        if pid == 0:
            try:
                if op == "update":
                    ngff.update.update_region(store, REGION, values)
                else:
                    ngff.write_labels(store, "drawn", labels, colors={2: (9, 9, 9, 255)})
                os._exit(0)
            except BaseException:
                os._exit(3)
        return pid

    def timed(op):
        store = os.path.join(workdir, f"calibrate-{op}.zarr")
        shutil.copytree(template, store)
        start = time.perf_counter()
        _, status = os.waitpid(child(store, op), 0)
        assert os.waitstatus_to_exitcode(status) == 0
        return time.perf_counter() - start

    durations = {op: timed(op) for op in ("update", "labels")}
    rng = random.Random(seed)
    out = []
    for i in range(trials):
        op = "labels" if i % 7 == 3 else "update"
        store = os.path.join(workdir, f"trial-{i:03d}.zarr")
        shutil.copytree(template, store)
        # Mostly within the operation; every fourth trial late (killed near the end, or
        # finished), so completed stores are covered even when the machine is slower
        # than during calibration.
        delay = rng.uniform(0.0, durations[op]) if i % 4 else rng.uniform(durations[op], 4 * durations[op])
        pid = child(store, op)
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        out.append({"store": store, "op": op, "delay": delay, "code": os.waitstatus_to_exitcode(status)})
    print(json.dumps({"durations": durations, "trials": out}))
    """
)


def _levels(location) -> list[np.ndarray]:
    return [np.asarray(level.compute()) for level in ngff.read(location).levels]


def _leftovers(root: Path) -> list[str]:
    return [
        p.name
        for p in root.rglob("*")
        if p.name in (atomic.JOURNAL_NAME, atomic.STAGING_NAME, ".ngff-lock") or atomic._TEMP_MARK in p.name or ".ngff-tmp-" in p.name
    ]


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    base = tmp_path_factory.mktemp("kill")
    template = base / "template.zarr"
    rng = np.random.default_rng(5)
    ngff.write(rng.integers(0, 4000, SHAPE, dtype=np.uint16), template, chunks=16, scale_factors=[2, 4])
    # The expected end states, from uninterrupted runs.
    done_update = base / "done-update.zarr"
    shutil.copytree(template, done_update)
    update_region(done_update, REGION, _values())
    done_labels = base / "done-labels.zarr"
    shutil.copytree(template, done_labels)
    ngff.write_labels(done_labels, "drawn", _labels(), colors={2: (9, 9, 9, 255)})
    out = subprocess.run(
        [sys.executable, "-c", DRIVER, str(template), str(base), str(TRIALS), str(SEED)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parent,
        env={**__import__("os").environ, "PYTHONPATH": str(Path(__file__).parent)},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "report": report,
        "before": _levels(template),
        "update": _levels(done_update),
        "labels": [level.compute() for level in ngff.read(done_labels).labels["drawn"].levels],
    }


def test_killed_edits_leave_the_store_before_or_complete_and_rerun_completes(killed):
    report = killed["report"]
    assert len(report["trials"]) >= 50
    outcomes = {"before": 0, "after": 0, "pending": 0}
    for i, trial in enumerate(report["trials"]):
        store = Path(trial["store"])
        if trial["op"] == "update":
            state = _levels(store)  # every chunk decodes: none is torn
            if all(np.array_equal(a, b) for a, b in zip(state, killed["before"])):
                outcomes["before"] += 1
            elif all(np.array_equal(a, b) for a, b in zip(state, killed["update"])):
                outcomes["after"] += 1
            else:
                # Killed between the journal's commit and its last rename: chunks of two
                # states, which validation reports until the update is completed.
                outcomes["pending"] += 1
                assert atomic.pending(atomic.LocalTarget(store)) == "committed", trial
                report_ = ngff.validate(store)
                assert not report_.ok and any(p.rule == "store.interrupted-update" for p in report_.problems)
            update_region(store, REGION, _values())  # the re-run
            for got, want in zip(_levels(store), killed["update"]):
                np.testing.assert_array_equal(got, want)
        else:
            image = ngff.read(store)
            np.testing.assert_array_equal(image.levels[0].compute(), killed["before"][0])
            if "drawn" in image.labels:
                outcomes["after"] += 1
            else:
                outcomes["before"] += 1
                assert not image.labels or "drawn" not in image.labels
                ngff.write_labels(store, "drawn", _labels(), colors={2: (9, 9, 9, 255)})  # the re-run
            for got, want in zip(ngff.read(store).labels["drawn"].levels, killed["labels"]):
                np.testing.assert_array_equal(got.compute(), want)
        if outcomes["pending"] or trial["op"] == "labels" or i % 3 == 0:
            assert ngff.validate(store).ok, trial  # (a sample: validation is the slow part)
        assert not _leftovers(store), (trial, _leftovers(store))
    killed_count = sum(t["code"] == -9 for t in report["trials"])
    print(f"outcomes {outcomes}, killed {killed_count} of {len(report['trials'])}")
    # The seeded delays span the operation: kills early, late, and runs that finished.
    assert killed_count >= 25, outcomes
    assert outcomes["before"] >= 5 and outcomes["after"] >= 2, outcomes
    assert sum(t["op"] == "labels" for t in report["trials"]) >= 7
