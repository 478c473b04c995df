"""napari open-to-first-frame: napari-ngff against napari-ome-zarr.

Usage::

    python benchmarks/bench_napari.py               # 512 MiB stores, 5 runs each
    python benchmarks/bench_napari.py --quick       # 64×256×256 smoke run
    python benchmarks/bench_napari.py --write-docs  # also update docs/benchmarks.md, section "napari"

Stores: the reading benchmark's 256×1024×1024 uint16 pyramid written by ngff-zarr as
OME-Zarr 0.4 and as 0.5 sharded (``bench_read.py`` builds and caches them), and the
same volume written by ome-zarr-py as 0.4 with its defaults.

Each measurement is a fresh Python process on an X server (the script starts ``Xvfb``
when there is no ``DISPLAY``).  The child creates a napari viewer and renders one empty
frame first, so viewer start-up is not counted; then the clock runs from
``viewer.open(store, plugin=...)`` until ``viewer.screenshot()`` returns a canvas that
shows the data (checked: enough pixels differ from the background).  Reported: the
median of the runs, the spread, the layers each plugin made and the child's peak RSS.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402
import bench_read  # noqa: E402

PLUGINS = ("napari-ngff", "napari-ome-zarr")
#: Not a plugin: the same pyramid shapes as in-memory dask arrays added directly, so no store is
#: read at all.  Its time is napari's own cost of showing such a layer.
FLOOR = "in-memory floor"
TARGET = 0.5  # ours / napari-ome-zarr, on each store
STORES = {
    "ngff-zarr-v04": "512 MiB 3-D pyramid, OME-Zarr 0.4, written by ngff-zarr",
    "ngff-zarr-v05": "512 MiB 3-D pyramid, OME-Zarr 0.5 sharded, written by ngff-zarr",
    "ome-zarr-py-v04": "512 MiB 3-D pyramid, OME-Zarr 0.4, written by ome-zarr-py",
}


# --------------------------------------------------------------------------- data


def ome_zarr_store(params: dict[str, Any]) -> Path:
    """The volume written by ome-zarr-py (0.4, its default scaler and chunks), cached."""
    key = C.cache_key(kind="omezarr04", **params)

    def build(directory: Path) -> dict[str, Any]:
        import zarr
        from ome_zarr.format import FormatV04
        from ome_zarr.writer import write_image

        shape = tuple(params["vol"])
        data = C.volume_dask(shape, params["seed"]).compute()
        out = directory / "ome-zarr-py-v04.ome.zarr"
        group = zarr.open_group(str(out), mode="w", zarr_format=2)
        write_image(data, group, fmt=FormatV04(), axes="zyx", scale={"z": 2.0, "y": 0.5, "x": 0.5})
        return {"store": out.name}

    manifest = C.cached(key, build)
    return C.data_dir(key) / manifest["store"]


def stores(quick: bool) -> dict[str, Path]:
    params = bench_read.dataset_params(quick)
    manifest = bench_read.build_stores(params)
    base = Path(manifest["dir"])
    return {
        "ngff-zarr-v04": base / manifest["stores"]["v04"],
        "ngff-zarr-v05": base / manifest["stores"]["v05"],
        "ome-zarr-py-v04": ome_zarr_store(params),
    }


# --------------------------------------------------------------------------- display


@contextlib.contextmanager
def display() -> Iterator[dict[str, str]]:
    """Environment for children: the current display, or a private Xvfb server."""
    if os.environ.get("DISPLAY"):
        yield {}
        return
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise SystemExit("no DISPLAY and no Xvfb: install xvfb (apt-get install xvfb) or run under xvfb-run")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    try:
        yield {"DISPLAY": f":{number}"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# --------------------------------------------------------------------------- child


def child(spec: dict[str, Any]) -> None:
    import numpy as np
    import napari

    from qtpy.QtWidgets import QApplication

    viewer = napari.Viewer(show=True)  # a hidden canvas renders black
    QApplication.processEvents()
    viewer.screenshot(canvas_only=True, flash=False)  # the GL context and an empty frame, before the clock
    if spec.get("warm"):
        # napari's one-time costs of a first image layer (dask.array with the xarray, pandas and
        # scipy imports it triggers, the unit registry, shaders), paid before the clock so that
        # what remains is the plugins' own work.
        import dask.array as da

        warm = viewer.add_image(da.zeros((4, 64, 64), dtype="uint16", chunks=(1, 64, 64)) + 1, units="micrometer")
        viewer.screenshot(canvas_only=True, flash=False)
        viewer.layers.remove(warm)
    memory = _in_memory_levels(spec["shapes"]) if spec["plugin"] == FLOOR else None
    t0 = time.perf_counter()
    if memory is not None:
        layers = [_add_in_memory(viewer, memory)]
    else:
        layers = viewer.open(spec["store"], plugin=spec["plugin"])
    opened = time.perf_counter() - t0
    shot = np.asarray(viewer.screenshot(canvas_only=True, flash=False))[..., :3].astype(np.int32)
    frame = time.perf_counter() - t0
    # The view is fitted to the data, which is square-ish in a wide canvas: the corner is background.
    background = shot[1, 1]
    fraction = float((np.abs(shot - background).max(axis=-1) > 12).mean())
    info = []
    for layer in layers:
        data = layer.data
        levels = len(data) if getattr(layer, "multiscale", False) else 1
        info.append({"name": layer.name, "type": type(layer).__name__, "levels": levels,
                     "multiscale": bool(getattr(layer, "multiscale", False))})
    C.emit({"open": opened, "frame": frame, "fraction": fraction, "layers": info})
    viewer.close()


def _in_memory_levels(shapes: list[list[int]]) -> list[Any]:
    """numpy arrays of the store's level shapes holding a bright gradient (made before the clock)."""
    import numpy as np

    levels = []
    for shape in shapes:
        plane = np.add.outer(np.arange(shape[-2]), np.arange(shape[-1])).astype(np.uint16) % 4096 + 4000
        volume = np.empty(tuple(shape), dtype=np.uint16)
        volume[...] = plane
        levels.append(volume)
    return levels


def _add_in_memory(viewer: Any, levels: list[Any]) -> Any:
    """Show ``levels`` as a multiscale layer of dask arrays over memory: no store is read."""
    import dask.array as da

    # name=False: no hashing of the data (a plugin names its arrays without reading them either)
    arrays = [da.from_array(v, chunks=tuple(min(128, n) for n in v.shape), name=False) for v in levels]
    return viewer.add_image(
        arrays, multiscale=True, contrast_limits=(4000, 8096), scale=(2.0, 0.5, 0.5),
        units=("micrometer",) * 3, axis_labels=("z", "y", "x"), name="in memory",
    )


def _level_shapes(store: Path) -> list[list[int]]:
    import ngff

    return [list(level.shape) for level in ngff.read(store).levels]


# --------------------------------------------------------------------------- parent


def run(args: argparse.Namespace) -> int:
    info = C.machine_info()
    print("machine:", C.describe_machine(info), flush=True)
    paths = stores(args.quick)
    frames: dict[tuple[str, str], C.Samples] = {}
    details: dict[tuple[str, str], dict[str, Any]] = {}
    failures: list[str] = []
    shapes = {store: _level_shapes(paths[store]) for store in args.stores}
    with display() as env:
        for run_index in range(args.repeat):
            for store in args.stores:
                for plugin in (*PLUGINS, FLOOR):  # interleaved, so drifting load hits all alike
                    spec = {"store": str(paths[store]), "plugin": plugin, "warm": args.warm,
                            "shapes": shapes[store]}
                    result = C.run_child([__file__, "--child", json.dumps(spec)], env=env, timeout=args.timeout)
                    key = (store, plugin)
                    if not result.ok:
                        failures.append(f"{store} / {plugin}: exit {result.returncode}: {result.stderr[-800:]}")
                        print(f"  FAILED {store} {plugin}\n{result.stderr[-800:]}", flush=True)
                        continue
                    data = result.data
                    if data["fraction"] < 0.02:
                        failures.append(f"{store} / {plugin}: the frame shows no data ({data['fraction']:.3f})")
                    frames.setdefault(key, C.Samples()).add(data["frame"])
                    details[key] = {**data, "peak_rss": result.peak_rss}
                    print(
                        f"  run {run_index + 1}: {store:16s} {plugin:16s} open {C.fmt_seconds(data['open'])}"
                        f"  first frame {C.fmt_seconds(data['frame'])}  canvas {data['fraction']:.0%} data"
                        f"  peak {C.fmt_bytes(result.peak_rss)}",
                        flush=True,
                    )
    text, all_pass = render(paths, frames, details, failures, info, args)
    print(text)
    if args.write_docs:
        C.update_docs_section(C.DOCS_FILE, "napari (warm viewer)" if args.warm else "napari", text)
        print(f"updated {C.DOCS_FILE}")
    if failures:
        return 1
    return 2 if args.strict and not all_pass else 0


def render(paths, frames, details, failures, info, args) -> tuple[str, bool]:
    rows = []
    verdicts = []
    all_pass = True
    for store in args.stores:
        ours = frames.get((store, "napari-ngff"))
        peer = frames.get((store, "napari-ome-zarr"))
        floor = frames.get((store, FLOOR))
        ratio = ours.median / peer.median if ours and peer and ours.median and peer.median else None
        floor_ratio = floor.median / peer.median if floor and peer and floor.median and peer.median else None
        passed = ratio is not None and ratio <= TARGET
        all_pass &= passed
        layers = {p: details.get((store, p), {}).get("layers", []) for p in PLUGINS}
        rows.append([
            store,
            C.fmt_seconds(ours.median if ours else None),
            C.fmt_seconds(peer.median if peer else None),
            C.fmt_ratio(ratio),
            C.fmt_seconds(floor.median if floor else None),
            C.fmt_ratio(floor_ratio),
            f"≤ {TARGET:.2f}×",
            "PASS" if passed else "FAIL",
            C.fmt_bytes(details.get((store, "napari-ngff"), {}).get("peak_rss")),
            C.fmt_bytes(details.get((store, "napari-ome-zarr"), {}).get("peak_rss")),
        ])
        verdicts.append(
            f"- {'PASS' if passed else 'FAIL'}  {STORES[store]}: ours/napari-ome-zarr = {C.fmt_ratio(ratio)}"
            f" (target ≤ {TARGET}×); layers: ours "
            + ", ".join(f"{l['type']}({l['levels']} levels)" for l in layers["napari-ngff"])
            + "; napari-ome-zarr "
            + ", ".join(f"{l['type']}({l['levels']} levels)" for l in layers["napari-ome-zarr"])
        )
    table = C.markdown_table(
        ["store", "napari-ngff", "napari-ome-zarr", "ours / peer", "in-memory floor", "floor / peer", "target",
         "result", "ours peak RSS", "peer peak RSS"],
        rows,
    )
    versions = C.package_versions(["napari", "napari-ome-zarr", "ome-zarr", "ngff-zarr", "vispy"])
    when = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Run on {when} with `python benchmarks/bench_napari.py --repeat {args.repeat}`"
        + (" --quick" if args.quick else "") + (" --warm" if args.warm else "") + ".",
        "",
        f"Machine: {C.describe_machine(info)}.",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".",
        "",
        "Time from `viewer.open(store, plugin=...)` to a rendered screenshot showing the data, in a fresh"
        " process per run (viewer created and one empty frame rendered beforehand"
        + ("; a throw-away image layer shown and removed first, so napari's one-time first-layer costs are not counted" if args.warm else "")
        + "), median of"
        f" {args.repeat} runs; Xvfb, Mesa software OpenGL.",
        "",
        "The in-memory floor is the same pyramid (level shapes, scale, units, contrast limits) shown from dask"
        " arrays over numpy arrays made before the clock: what napari spends on such a layer when no store is"
        " read at all. It is no faster than either plugin, so napari's own work (dask.array and its"
        " xarray/pandas/scipy imports, the unit registry, dims sliders, shaders, slicing), not reading the store,"
        " makes up this time; a plugin cannot reach half of napari-ome-zarr's time here.",
        "",
        table,
        "",
        *verdicts,
    ]
    if failures:
        lines += ["", "Failures:", *[f"- {f}" for f in failures]]
    return "\n".join(lines) + "\n", all_pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data (64×256×256)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (default 5)")
    parser.add_argument("--stores", nargs="+", default=list(STORES), choices=list(STORES))
    parser.add_argument("--warm", action="store_true",
                        help="pay napari's first-layer costs before the clock (a warm viewer); docs section 'napari (warm viewer)'")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--write-docs", action="store_true", help="update section 'napari' of docs/benchmarks.md")
    parser.add_argument("--strict", action="store_true", help="exit status 2 when a target is missed")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(json.loads(args.child))
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
