"""Plate benchmark: napari open-to-first-frame of an HCS plate, napari-ngff vs napari-ome-zarr.

Usage::

    python benchmarks/bench_plate.py                 # 384- and 96-well plates
    python benchmarks/bench_plate.py --quick         # 24-well smoke run
    python benchmarks/bench_plate.py --write-docs    # also update docs/benchmarks.md, section "Plates"

Data: plates written by ome-zarr-py (``write_plate_metadata``, ``write_well_metadata``,
``write_image`` with its defaults: 5 levels, one chunk per level, zstd), OME-Zarr 0.4 by
default (``--version 0.5`` for Zarr v3): 16×24 wells (384) and 8×12 (96), every well
present, 2 fields per well, 2 channels, 1024×1024 uint16 per field.  Built once into
``--cache`` (default ``/tmp/ngff-bench-cache``), outside the repository.

Measured in a fresh child process per run, for each plugin: a shown napari viewer is
created first (not timed); then the time from ``viewer.open(plate, plugin=...)`` to the
first rendered frame — ``viewer.open`` returns, then ``viewer.screenshot(canvas_only=True)``
draws the canvas (napari's slicing is synchronous, so the frame holds the data).  The
frame is checked to show data (not just background).  A separate run of each child under
``strace`` counts the store reads made between those two points: every ``open``/``openat``
of a path inside the plate (metadata documents, chunk files, absent keys probed,
directory listings).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

PLUGINS = ("napari-ngff", "napari-ome-zarr")
OURS = "napari-ngff"
TARGET_RATIO = 0.3  # the issue: ours <= 0.3 x napari-ome-zarr on the 384-well plate
DEFAULT_CACHE = Path("/tmp/ngff-bench-cache")
CHILD_SCRIPT = __file__

PLATES = {
    "384": {"rows": 16, "columns": 24},
    "96": {"rows": 8, "columns": 12},
    "24": {"rows": 4, "columns": 6},
}


# --------------------------------------------------------------------------- data


def plate_params(kind: str, version: str, quick: bool) -> dict[str, Any]:
    size = 256 if quick else 1024
    return {
        "plate": kind,
        **PLATES[kind],
        "fields": 2,
        "channels": 2,
        "size": size,
        "version": version,
        "writer": "ome-zarr-py",
        "gen": 1,
    }


def _field_pixels(size: int, channels: int, well: int, field: int) -> Any:
    """A field of view: smooth per-channel structure, brightness varying by well, plus noise."""
    import numpy as np

    y = np.linspace(0, 2 * np.pi, size, dtype=np.float32)
    out = np.empty((channels, size, size), dtype=np.uint16)
    rng = np.random.default_rng((well, field))
    for c in range(channels):
        base = 1500 + 800 * (well % 7) + 300 * c
        pattern = np.sin((c + 2) * y)[:, None] * np.cos((field + 3) * y)[None, :]
        values = base + 900 * pattern + rng.standard_normal((size, size), dtype=np.float32) * 40
        out[c] = np.clip(values, 0, 65535).astype(np.uint16)
    return out


def _write_rows(path: str, params: dict[str, Any], row_indices: list[int]) -> None:
    """Write the wells of some rows (one worker process of the build)."""
    import zarr
    from ome_zarr.format import FormatV04, FormatV05
    from ome_zarr.writer import write_image, write_well_metadata

    fmt = FormatV05() if params["version"] == "0.5" else FormatV04()
    root = zarr.open_group(path, mode="a", zarr_format=fmt.zarr_format)
    for r in row_indices:
        row = root.require_group(C_row(r))
        for c in range(params["columns"]):
            well = row.require_group(str(c + 1))
            write_well_metadata(well, [str(f) for f in range(params["fields"])], fmt=fmt)
            for f in range(params["fields"]):
                data = _field_pixels(params["size"], params["channels"], r * params["columns"] + c, f)
                write_image(data, well.require_group(str(f)), axes="cyx", fmt=fmt)


def C_row(index: int) -> str:
    return chr(ord("A") + index)


def build_plate(params: dict[str, Any], log=print) -> dict[str, Any]:
    key = C.cache_key(**params)

    def build(directory: Path) -> dict[str, Any]:
        import zarr
        from concurrent.futures import ProcessPoolExecutor
        from ome_zarr.format import FormatV04, FormatV05
        from ome_zarr.writer import write_plate_metadata

        fmt = FormatV05() if params["version"] == "0.5" else FormatV04()
        path = directory / "plate.ome.zarr"
        root = zarr.open_group(str(path), mode="w", zarr_format=fmt.zarr_format)
        rows = [C_row(r) for r in range(params["rows"])]
        columns = [str(c + 1) for c in range(params["columns"])]
        wells = [f"{r}/{c}" for r in rows for c in columns]
        write_plate_metadata(root, rows, columns, wells, fmt=fmt, name=f"bench-{params['plate']}", field_count=params["fields"])
        chunks = [list(range(params["rows"]))[i::2] for i in range(2)]
        with ProcessPoolExecutor(max_workers=2) as pool:
            list(pool.map(_write_rows, [str(path)] * 2, [params] * 2, chunks))
        return {"path": str(path), "params": params, "wells": len(wells)}

    return C.cached(key, build, log=log)


# --------------------------------------------------------------------------- child


def child(spec: dict[str, Any]) -> None:
    import numpy as np

    import napari
    from qtpy.QtWidgets import QApplication

    viewer = napari.Viewer(show=True)
    for _ in range(5):
        QApplication.processEvents()
    background = viewer.screenshot(canvas_only=True)
    if spec.get("warm"):
        # A viewer that has shown an image before: napari's one-time costs of its first image
        # layer (importing xarray/pandas and scipy.ndimage, building pint's registry) are paid.
        warm = viewer.add_image(np.zeros((64, 64), np.uint16), contrast_limits=(0, 1), units=("micrometer",) * 2)
        viewer.screenshot(canvas_only=True)
        viewer.layers.remove(warm)
        for _ in range(5):
            QApplication.processEvents()
    draws: list[tuple[float, float, int, bool]] = []  # (wall, cpu, layers, any points layer)

    def drawn(event: Any = None) -> None:
        layers = list(viewer.layers)
        draws.append(
            (time.perf_counter(), time.process_time(), len(layers), any(type(l).__name__ == "Points" for l in layers))
        )

    # After the scene has been drawn (vispy calls callbacks connected "last" after its own).
    viewer.window._qt_viewer.canvas._scene_canvas.events.draw.connect(drawn, position="last")
    marks = spec.get("marks")
    if marks:
        open(marks + ".start", "w").close()
    t0, c0 = time.perf_counter(), time.process_time()
    layers = viewer.open(spec["path"], plugin=spec["plugin"])
    t_open = time.perf_counter() - t0
    if not any(n for _, _, n, _ in draws):  # napari drew nothing yet: draw now
        viewer.window._qt_viewer.canvas._scene_canvas.update()
        deadline = time.perf_counter() + 60
        while not any(n for _, _, n, _ in draws) and time.perf_counter() < deadline:
            QApplication.processEvents()
    first = next(d for d in draws if d[2])
    if marks:
        open(marks + ".end", "w").close()
    # Decorations drawn after the first frame (our well names): until they are on screen.
    names = None
    if spec["plugin"] == OURS:
        deadline = time.perf_counter() + 30
        while not any(p for *_, p in draws) and time.perf_counter() < deadline:
            QApplication.processEvents()
        names = next((d[0] - t0 for d in draws if d[3]), None)
    frame = viewer.screenshot(canvas_only=True)
    # Docked widgets may resize the canvas: compare with the empty canvas's colour.
    colour = background[1, 1, :3]  # a corner: the centre of an empty canvas shows napari's logo
    differs = np.any(frame[..., :3] != colour, axis=-1)
    C.emit(
        {
            "open": t_open,
            "first_frame": first[0] - t0,
            "cpu": first[1] - c0,  # all threads: less sensitive to other load than wall time
            "names_shown": names,
            "dask_array_imported": "dask.array" in sys.modules,
            "data_fraction": float(differs.mean()),
            "layers": [f"{type(layer).__name__}:{layer.name}" for layer in layers],
        }
    )
    viewer.close()


# --------------------------------------------------------------------------- counting


def count_reads(plugin: str, path: str, env: dict[str, str]) -> dict[str, int] | None:
    """Store reads between ``viewer.open`` and the first frame, counted with strace."""
    with tempfile.TemporaryDirectory() as tmp:
        marks = os.path.join(tmp, "mark")
        trace = os.path.join(tmp, "trace")
        spec = json.dumps({"plugin": plugin, "path": path, "marks": marks})
        argv = ["strace", "-f", "-qq", "-e", "trace=open,openat", "-o", trace, sys.executable, CHILD_SCRIPT, "--child", spec]
        proc = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            print(proc.stderr[-2000:], file=sys.stderr)
            return None
        return _parse_trace(Path(trace).read_text(), marks, path)


_OPEN = re.compile(r'^(\d+)\s+open(?:at)?\((?:AT_FDCWD|\d+), "([^"]+)", ([A-Z_|]+)')
_RESULT = re.compile(r"=\s*(-?\d+)")
_RESUMED = re.compile(r"^(\d+)\s+<\.\.\. open(?:at)? resumed>")


def _opens(text: str):
    """(path, flags, result) of every open/openat, joining strace's unfinished/resumed halves."""
    pending: dict[str, tuple[str, str]] = {}
    for line in text.splitlines():
        m = _OPEN.search(line)
        if m is not None:
            pid, path, flags = m.groups()
            if "<unfinished" in line:
                pending[pid] = (path, flags)
                continue
            r = _RESULT.search(line[m.end():])
            yield path, flags, int(r.group(1)) if r else -1
            continue
        m = _RESUMED.search(line)
        if m is not None and m.group(1) in pending:
            path, flags = pending.pop(m.group(1))
            r = _RESULT.search(line)
            yield path, flags, int(r.group(1)) if r else -1


def _parse_trace(text: str, marks: str, root: str) -> dict[str, int]:
    counts = {"total": 0, "metadata": 0, "chunks": 0, "absent": 0, "listings": 0}
    inside = False
    root = os.path.realpath(root)
    for path, flags, result in _opens(text):
        if path == marks + ".start":
            inside = True
            continue
        if path == marks + ".end":
            break
        if not inside or not os.path.realpath(path).startswith(root):
            continue
        counts["total"] += 1
        name = os.path.basename(path)
        if result < 0:
            counts["absent"] += 1
        elif "O_DIRECTORY" in flags:
            counts["listings"] += 1
        elif name in ("zarr.json", ".zattrs", ".zarray", ".zgroup", ".zmetadata"):
            counts["metadata"] += 1
        else:
            counts["chunks"] += 1
    return counts


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="a 24-well plate of 256² fields")
    parser.add_argument("--plates", default=None, help="comma-separated: 384,96 (default) or 24 (--quick)")
    parser.add_argument("--version", default="0.4", choices=("0.4", "0.5"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache", default=str(DEFAULT_CACHE))
    parser.add_argument("--no-count", action="store_true", help="skip the strace read count")
    parser.add_argument("--warm", action="store_true", help="a viewer that has shown an image before (see docs)")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--json", help="write the raw results here")
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return 0
    C.DATA_DIR = Path(args.cache)
    kinds = (args.plates or ("24" if args.quick else "384,96")).split(",")
    env = {"QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "xcb")}
    if not os.environ.get("DISPLAY"):
        print("needs a display: run under xvfb-run -a", file=sys.stderr)
        return 2
    results: dict[str, Any] = {"machine": C.machine_info(), "plates": {}, "warm": args.warm}
    failed = False
    for kind in kinds:
        manifest = build_plate(plate_params(kind, args.version, args.quick))
        path = manifest["path"]
        # Warm the page cache (and each plugin's first-run caches) once, untimed.
        for plugin in PLUGINS:
            C.run_child([CHILD_SCRIPT, "--child", json.dumps({"plugin": plugin, "path": path})], env=env, timeout=1800)
        samples: dict[str, list[dict[str, Any]]] = {p: [] for p in PLUGINS}
        for rep in range(args.repeat):
            order = PLUGINS if rep % 2 == 0 else PLUGINS[::-1]
            for plugin in order:
                res = C.run_child(
                    [CHILD_SCRIPT, "--child", json.dumps({"plugin": plugin, "path": path, "warm": args.warm})],
                    env=env,
                    timeout=1800,
                )
                if not res.ok:
                    print(f"{plugin} failed on the {kind}-well plate:\n{res.stderr[-3000:]}", file=sys.stderr)
                    failed = True
                    continue
                res.data["peak_rss"] = res.peak_rss
                samples[plugin].append(res.data)
                print(f"  {kind}-well {plugin}: first frame {C.fmt_seconds(res.data['first_frame'])} "
                      f"(open {C.fmt_seconds(res.data['open'])}, data in {res.data['data_fraction']:.0%} of the canvas)")
        reads = {} if args.no_count else {p: count_reads(p, path, env) for p in PLUGINS}
        results["plates"][kind] = {"manifest": manifest, "samples": samples, "reads": reads}
    text = report(results, args)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    if args.write_docs:
        C.update_docs_section(C.DOCS_FILE, "Plates", text)
    return 1 if failed else 0


def report(results: dict[str, Any], args: Any) -> str:
    date = _dt.date.today().isoformat()
    versions = C.package_versions(["napari", "napari-ome-zarr", "ome-zarr"])
    lines = [
        f"Measured {date} on {C.describe_machine(results['machine'])}; "
        f"`xvfb-run -a python benchmarks/bench_plate.py --repeat {args.repeat}`, median of {args.repeat} runs, "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + ".",
        "",
        f"Plates written by ome-zarr-py (OME-Zarr {args.version}, `write_image` defaults: 5 levels, one chunk per "
        "level, zstd): every well present, 2 fields per well, 2 channels, 1024² uint16 per field. Each run is a "
        "fresh process with a shown viewer created beforehand; timed from `viewer.open(plate, plugin=...)` to the "
        "end of the first canvas draw showing a layer (wall and CPU time of the process). Store reads: files "
        "opened inside the plate between the same two points (strace; metadata documents, chunk files, absent "
        "keys probed, directory listings). napari-ngff adds the well names and the Plate browser right after "
        "that first frame (\"names\" column: until the names are drawn).",
        "",
    ]
    rows = []
    verdicts = []
    for kind, entry in results["plates"].items():
        med: dict[str, dict[str, float | None]] = {}
        for plugin in PLUGINS:
            s = entry["samples"][plugin]
            med[plugin] = {
                key: C.median([x[key] for x in s if x.get(key) is not None])
                for key in ("first_frame", "cpu", "open", "names_shown", "peak_rss")
            }
        peer = med["napari-ome-zarr"]
        for plugin in PLUGINS:
            m = med[plugin]
            reads = (entry["reads"] or {}).get(plugin)
            ours = plugin == OURS
            ratio = m["first_frame"] / peer["first_frame"] if ours and m["first_frame"] and peer["first_frame"] else None
            cpu_ratio = m["cpu"] / peer["cpu"] if ours and m["cpu"] and peer["cpu"] else None
            rows.append(
                [
                    f"{kind} wells",
                    plugin,
                    C.fmt_seconds(m["first_frame"]),
                    C.fmt_seconds(m["cpu"]),
                    C.fmt_seconds(m["names_shown"]) if ours else "—",
                    "—"
                    if not reads
                    else f"{reads['total']} ({reads['metadata']} metadata, {reads['chunks']} chunks, "
                    f"{reads['absent']} absent, {reads['listings']} listings)",
                    C.fmt_bytes(m["peak_rss"]),
                    C.fmt_ratio(ratio) if ours else "—",
                    C.fmt_ratio(cpu_ratio) if ours else "—",
                ]
            )
            if ours and ratio is not None:
                if kind == "384":
                    verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
                    verdicts.append(
                        f"- {kind}-well plate: ours / napari-ome-zarr = {ratio:.2f} wall, {cpu_ratio:.2f} CPU "
                        f"(target <= {TARGET_RATIO} wall) {verdict}"
                    )
                else:
                    verdicts.append(f"- {kind}-well plate: ours / napari-ome-zarr = {ratio:.2f} wall, {cpu_ratio:.2f} CPU")
    lines.append(
        C.markdown_table(
            ["plate", "plugin", "first frame", "CPU", "names", "store reads before the frame", "peak RSS", "ours/theirs", "CPU ours/theirs"],
            rows,
            "llrrrlrrr",
        )
    )
    lines.append("")
    lines.extend(verdicts)
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
