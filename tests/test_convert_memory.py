"""A BigTIFF larger than the memory limit set for the converter converts within it.

The converter runs in a child process under a resident-memory limit smaller than the
file: a watchdog thread ends the child as soon as its resident set exceeds the limit,
and the peak (``VmHWM``, the kernel's high-water mark) is checked afterwards too.  Pixels are then compared with
the file plane by plane.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import ngff

tifffile = pytest.importorskip("tifffile")

SHAPE = (64, 1024, 2048)  # uint16: 256 MiB
LIMIT_MIB = 224

CHILD = textwrap.dedent(
    """
    import os, sys, threading, time

    limit = int(sys.argv[3]) * 2**20

    def resident() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def watchdog() -> None:
        while True:
            if resident() > limit:
                print(f"over the limit: {resident() // 2**20} MiB", flush=True)
                os._exit(3)
            time.sleep(0.005)

    threading.Thread(target=watchdog, daemon=True).start()
    import ngff, ngff.regions
    ngff.regions.DEFAULT_REGION_BYTES = 4 * 2**20  # the converter's budget per region
    # cheap codec and filter: the test is about memory, not compression
    ngff.convert(sys.argv[1], sys.argv[2], shards="auto", chunks=64, codec="blosc-lz4", method="nearest", levels=2)
    # VmHWM, not ru_maxrss: Linux seeds ru_maxrss at exec with the parent's peak
    with open("/proc/self/status") as f:
        peak = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
    print(f"peak {peak // 2**20} MiB", flush=True)
    sys.exit(0 if peak <= limit else 4)
    """
)


def _plane(z: int) -> np.ndarray:
    y, x = np.indices(SHAPE[1:], dtype=np.uint16)
    return (y * 3 + x * 5 + z * 7).astype(np.uint16)


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_bigtiff_larger_than_the_limit_converts_within_it(tmp_path: Path) -> None:
    path = tmp_path / "big.tif"
    with tifffile.TiffWriter(path, bigtiff=True) as tif:
        tif.write((_plane(z) for z in range(SHAPE[0])), shape=SHAPE, dtype="uint16", photometric="minisblack")
    size_mib = path.stat().st_size / 2**20
    assert size_mib > LIMIT_MIB + 16, "the file must be larger than the converter's limit"
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(tmp_path / "out.ome.zarr"), str(LIMIT_MIB)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr[-2000:])
    image = ngff.read(tmp_path / "out.ome.zarr")
    assert image.shape == SHAPE and len(image.levels) > 1
    for z in (0, 31, 63):
        np.testing.assert_array_equal(np.asarray(image.levels[0][z]), _plane(z))
    assert ngff.validate(tmp_path / "out.ome.zarr").ok
