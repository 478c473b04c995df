"""Shared helpers for the ``ngff`` benchmarks (reading, writing, napari).

Nothing here imports ``ngff`` or a peer library at module level: the benchmark
parents only orchestrate, every measurement runs in a fresh child process
(:func:`run_child`) so that zarr configuration, codec pipelines, thread pools and
caches never leak from one library into another.

Contents
--------
Synthetic data
    :func:`volume_slab`, :func:`volume_plane`, :func:`volume_dask`,
    :func:`reference_checksums` — a deterministic uint16 3-D volume (smooth
    low-frequency structure plus seeded noise) generated slab by slab, so generation
    is fast and memory-light and any plane can be recomputed on its own.
Cache
    :func:`data_dir`, :func:`cached` — stores are written once into
    ``benchmarks/_data/<key>/`` (git-ignored) and reused while the key matches.
Child processes
    :func:`run_child`, :func:`emit`, :class:`Timer` — run a measurement in a
    fresh interpreter and collect its JSON result plus its peak RSS (the kernel's
    high-water mark of the child's address space, so it covers the whole child lifetime).
Statistics and output
    :func:`median`, :func:`fmt_seconds`, :func:`fmt_bytes`, :func:`markdown_table`,
    :func:`machine_info`, :func:`update_docs_section`.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "_data"
DOCS_FILE = REPO_DIR / "docs" / "benchmarks.md"

#: Bump when the generator's formula changes, so old caches are not reused.
GENERATOR_VERSION = 1

# --------------------------------------------------------------------------- data

FULL_SHAPE = (256, 1024, 1024)
QUICK_SHAPE = (64, 256, 256)

# Low-frequency structure: a sum of separable products of sines.  Each term is
# (amplitude, (cycles_z, cycles_y, cycles_x), (phase_z, phase_y, phase_x)); cycles are
# per full axis length, so the picture is the same at every size.
_TERMS = (
    (1800.0, (1.0, 2.0, 3.0), (0.3, 1.1, 0.7)),
    (1200.0, (3.0, 5.0, 4.0), (1.9, 0.2, 2.4)),
    (700.0, (7.0, 11.0, 13.0), (0.5, 2.8, 1.3)),
    (350.0, (17.0, 23.0, 19.0), (2.2, 0.9, 0.1)),
)
_BASE = 6000.0
_NOISE_SIGMA = 40.0


def _axis_sines(n: int, start: int, stop: int, cycles: float, phase: float) -> np.ndarray:
    i = np.arange(start, stop, dtype=np.float64)
    return np.sin(2.0 * np.pi * cycles * i / n + phase).astype(np.float32)


def volume_slab(shape: Sequence[int], z0: int, z1: int, seed: int = 0) -> np.ndarray:
    """Planes ``z0:z1`` of the synthetic volume of ``shape`` (a uint16 array).

    Deterministic: the noise of plane ``z`` comes from ``numpy.random.default_rng((seed, z))``,
    so a slab's content does not depend on how the volume is cut into slabs.
    """
    nz, ny, nx = (int(s) for s in shape)
    out = np.full((z1 - z0, ny, nx), _BASE, dtype=np.float32)
    for amp, (cz, cy, cx), (pz, py, px) in _TERMS:
        sz = _axis_sines(nz, z0, z1, cz, pz) * np.float32(amp)
        sy = _axis_sines(ny, 0, ny, cy, py)
        sx = _axis_sines(nx, 0, nx, cx, px)
        yx = sy[:, None] * sx[None, :]
        out += sz[:, None, None] * yx[None, :, :]
    for k, z in enumerate(range(z0, z1)):
        rng = np.random.default_rng((seed, z))
        noise = rng.standard_normal((ny, nx), dtype=np.float32)
        noise *= np.float32(_NOISE_SIGMA)
        out[k] += noise
    np.clip(out, 0, 65535, out=out)
    return np.rint(out, out=out).astype(np.uint16)


def volume_plane(shape: Sequence[int], z: int, seed: int = 0) -> np.ndarray:
    """Plane ``z`` of the synthetic volume (2-D uint16)."""
    return volume_slab(shape, z, z + 1, seed)[0]


def volume_dask(shape: Sequence[int], seed: int = 0, slab: int = 16):
    """The synthetic volume as a lazy dask array of z-slabs (``slab`` planes each)."""
    import dask
    import dask.array as da

    nz, ny, nx = shape
    parts = []
    for z0 in range(0, nz, slab):
        z1 = min(nz, z0 + slab)
        block = dask.delayed(volume_slab)(tuple(shape), z0, z1, seed)
        parts.append(da.from_delayed(block, shape=(z1 - z0, ny, nx), dtype=np.uint16))
    return da.concatenate(parts, axis=0)


def checksum(array: np.ndarray) -> str:
    """A content checksum of an array: CRC-32 of its C-order bytes, plus shape and dtype."""
    a = np.ascontiguousarray(array)
    return f"{a.dtype.str}{list(a.shape)}:{zlib.crc32(memoryview(a).cast('B')):08x}"


def reference_checksums(
    shape: Sequence[int], planes: Iterable[int], seed: int = 0, slab: int = 16
) -> dict[str, str]:
    """Checksums of the whole volume (``"full"``) and of the given z planes (``"z<N>"``).

    The whole-volume CRC is accumulated slab by slab in C order, so it equals
    :func:`checksum` of the assembled array without ever holding it.
    """
    nz = shape[0]
    crc = 0
    for z0 in range(0, nz, slab):
        crc = zlib.crc32(
            memoryview(volume_slab(shape, z0, min(nz, z0 + slab), seed)).cast("B"), crc
        )
    out = {"full": f"{np.dtype(np.uint16).str}{list(shape)}:{crc:08x}"}
    for z in planes:
        out[f"z{z}"] = checksum(volume_plane(shape, z, seed))
    return out


# --------------------------------------------------------------------------- cache


def cache_key(**params: Any) -> str:
    """A readable, stable cache directory name for ``params``."""
    readable = "-".join(f"{k}{_short(v)}" for k, v in params.items())
    digest = hashlib.sha1(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{readable}-{digest}"[:120]


def _short(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return "x".join(_short(v) for v in value)
    return str(value).replace("/", "_").replace(" ", "")


def data_dir(key: str) -> Path:
    return DATA_DIR / key


def cached(
    key: str, build: Callable[[Path], dict[str, Any]], *, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Return the manifest of cache entry ``key``, building it first when missing.

    ``build(directory)`` fills an empty directory and returns a JSON-able manifest; it
    is written last (``manifest.json``), so an interrupted build is redone next time.
    """
    directory = data_dir(key)
    manifest_path = directory / "manifest.json"
    if manifest_path.exists():
        return json.loads(manifest_path.read_text())
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    log(f"building benchmark data in {directory} (once; cached afterwards)")
    t0 = time.perf_counter()
    manifest = build(directory)
    manifest.setdefault("build_seconds", round(time.perf_counter() - t0, 1))
    manifest_path.write_text(json.dumps(manifest, indent=2))
    log(f"  built in {manifest['build_seconds']} s")
    return manifest


# --------------------------------------------------------------------------- child processes

_RESULT_MARKER = "@@BENCH-RESULT@@ "


@dataclass
class ChildResult:
    """What a child process reported.

    Attributes
    ----------
    data
        The JSON object the child passed to :func:`emit` (``{}`` when it failed).
    peak_rss
        Peak resident set size of the child in bytes (see :func:`peak_rss_self`).
    wall
        Wall-clock seconds from spawn to exit (includes interpreter start and imports).
    returncode, stderr
        Exit status and captured standard error (for diagnosing failures).
    """

    data: dict[str, Any]
    peak_rss: int
    wall: float
    returncode: int
    stderr: str = ""
    stdout: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and bool(self.data)


def run_child(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> ChildResult:
    """Run ``python <argv...>`` in a fresh interpreter and collect its result.

    The child reports with :func:`emit`, which adds its peak RSS: the kernel's
    high-water mark of the child's address space over its whole life, so nothing
    has to be sampled.
    """
    import tempfile

    full_env = dict(os.environ)
    full_env.setdefault("PYTHONHASHSEED", "0")
    if env:
        full_env.update(env)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, *argv], stdout=out, stderr=err, env=full_env, cwd=cwd, text=True
        )
        deadline = None if timeout is None else t0 + timeout
        while True:
            # wait4 reaps the child and returns its rusage (a fallback for peak RSS).
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG if deadline else 0)
            if pid:
                break
            if time.perf_counter() > deadline:  # type: ignore[operator]
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    data: dict[str, Any] = {}
    for line in stdout.splitlines():
        if line.startswith(_RESULT_MARKER):
            data = json.loads(line[len(_RESULT_MARKER) :])
    # The child's own high-water mark (see peak_rss_self); wait4's ru_maxrss is only a
    # fallback for children that died before reporting (it includes the parent's peak).
    reported = int(data.pop("_peak_rss", 0)) if data else 0
    peak = reported or int(usage.ru_maxrss) * (1 if sys.platform == "darwin" else 1024)
    return ChildResult(data, peak, wall, proc.returncode, stderr, stdout)


def peak_rss_self() -> int:
    """Peak RSS of the current process in bytes.

    On Linux this is ``VmHWM`` from ``/proc/self/status``: the high-water mark of this
    process's own address space.  ``getrusage``'s ``ru_maxrss`` is not used there
    because the kernel seeds it at ``exec`` with the *parent's* peak (the address
    space that fork copied), so a child of a large parent would report the parent's
    size.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(kib) * (1 if sys.platform == "darwin" else 1024)


def current_rss() -> int:
    """Current RSS of this process in bytes."""
    import psutil

    return int(psutil.Process().memory_info().rss)


def emit(data: dict[str, Any]) -> None:
    """Report a child's result to :func:`run_child` (call once, at the end)."""
    payload = dict(data)
    payload["_peak_rss"] = peak_rss_self()
    sys.stdout.write(_RESULT_MARKER + json.dumps(payload) + "\n")
    sys.stdout.flush()


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``."""

    def __enter__(self) -> Self:
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._t0


# --------------------------------------------------------------------------- statistics & output


@dataclass
class Samples:
    """Repeated measurements of one quantity."""

    values: list[float] = field(default_factory=list)

    def add(self, value: float | None) -> None:
        if value is not None:
            self.values.append(float(value))

    @property
    def median(self) -> float | None:
        return median(self.values)

    @property
    def spread(self) -> tuple[float, float] | None:
        return (min(self.values), max(self.values)) if self.values else None


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 1e-3:
        return f"{value * 1e6:.0f} µs"
    if value < 1.0:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"


def fmt_bytes(value: float | None) -> str:
    if value is None or value == 0:
        return "—"
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if value >= size:
            return f"{value / size:.{2 if unit == 'GiB' else 0}f} {unit}"
    return f"{value:.0f} B"


def fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def markdown_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], align: str | None = None
) -> str:
    """A GitHub-flavoured markdown table, padded so it also reads well in a terminal.

    ``align`` has one letter per column: ``l`` (default) or ``r``.
    """
    rows = [[str(c) for c in row] for row in rows]
    headers = [str(h) for h in headers]
    align = (align or "l" * len(headers)).ljust(len(headers), "l")
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]

    def line(cells: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(
                c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(cells, widths, align)
            )
            + " |"
        )

    rule = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if a == "r" else ("-" * (w + 2)) for w, a in zip(widths, align)
        )
        + "|"
    )
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def package_versions(names: Sequence[str]) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def machine_info() -> dict[str, Any]:
    """CPU, core count, memory, OS and Python of this machine."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import psutil

        mem = psutil.virtual_memory().total
    except ImportError:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 0
    return {
        "cpu": cpu,
        "cores": cores,
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def describe_machine(info: dict[str, Any] | None = None) -> str:
    info = info or machine_info()
    return (
        f"{info['cores']} cores ({info['cpu']}), {fmt_bytes(info['memory'])} RAM, "
        f"{info['os']}, Python {info['python']}"
    )


_DOCS_HEADER = """# Benchmarks

`ngff` against ngff-zarr and ome-zarr-py, measured in the same run on the same machine.
Each section below is written by its script in `benchmarks/` (run with `--write-docs`);
the methodology is in [benchmarks/README.md](../benchmarks/README.md).
"""


def update_docs_section(path: Path, heading: str, body: str) -> None:
    """Replace (or append) the level-2 section ``## heading`` of a markdown file.

    Other sections are kept as they are, so each benchmark owns only its own section.
    """
    title = f"## {heading}"
    text = path.read_text() if path.exists() else _DOCS_HEADER
    lines = text.splitlines()
    start = next((i for i, l in enumerate(lines) if l.strip() == title), None)
    section = [title, "", *body.strip("\n").splitlines(), ""]
    if start is None:
        while lines and not lines[-1].strip():
            lines.pop()
        lines += ["", *section]
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        lines[start:end] = section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines).rstrip("\n") + "\n")
