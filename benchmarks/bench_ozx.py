"""Single-file and remote reading benchmark: directory store vs ``.ozx`` vs ``.ozx`` over HTTP.

Usage::

    python benchmarks/bench_ozx.py               # 256×1024×1024 uint16 (512 MiB), 3 repetitions
    python benchmarks/bench_ozx.py --quick       # smoke run: 64×256×256
    python benchmarks/bench_ozx.py --write-docs  # also update docs/benchmarks.md, section "Single-file and remote stores"

A sharded OME-Zarr 0.5 pyramid is written by ``ngff.write`` in two layouts:

* ``ozx-default`` — ``ngff.write(volume, "image.ozx")`` with no layout option: the
  ``"planes"`` layout that archives get by default (16×256×256 chunks, shards one chunk
  deep covering the plane); the archive is unpacked (:func:`ngff.ozx.unpack`) for the
  directory store;
* ``cubes`` — the directory default (128³ chunks, ``shards="auto"``: 256³ shards), packed
  into an archive (:func:`ngff.ozx.pack`); shown for comparison, not judged.

Both containers are served by a loopback HTTP server with byte-range support that counts
requests (``tests/http_range_server.py``).  Each measurement runs in a fresh child process
(dask threads, 2 workers) and is checked against checksums from the data generator:

* ``plane`` — open the location and read the middle z plane of level 0;
* ``full``  — open the location and read all of level 0.

Targets (issue 6), judged on ``ozx-default``: local ``.ozx`` time <= 1.2 x the directory's
(plane and full); opening a remote ``.ozx`` and reading one plane in <= 10 HTTP requests.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import _common as C

WORKERS = 2
TARGET_LOCAL_RATIO = 1.2
TARGET_REQUESTS = 10
CHILD_SCRIPT = __file__
STORES = {
    "dir": "directory store",
    "ozx": "local .ozx",
    "http-ozx": ".ozx over HTTP",
    "http-dir": "directory over HTTP",
}
OPS = ("plane", "full")


#: ``ngff.write`` options of each layout, and whether the targets judge it
LAYOUTS: dict[str, dict[str, Any]] = {
    "ozx-default": {},
    "cubes": {"shards": "auto"},
}
JUDGED = ("ozx-default",)


def dataset_params(quick: bool, layout: str) -> dict[str, Any]:
    shape = C.QUICK_SHAPE if quick else C.FULL_SHAPE
    return {"vol": list(shape), "seed": 0, "layout": layout, "gen": C.GENERATOR_VERSION, "what": "ozx-3"}


def layout_options(params: dict[str, Any]) -> dict[str, Any]:
    """``ngff.write`` options of a layout."""
    return dict(LAYOUTS[params["layout"]])


def build(params: dict[str, Any]) -> dict[str, Any]:
    key = C.cache_key(**params)

    def make(directory: Path) -> dict[str, Any]:
        import ngff
        import ngff.ozx

        shape = tuple(params["vol"])
        plane = shape[0] // 2
        volume = C.volume_dask(shape, params["seed"])
        store = directory / "image.ome.zarr"
        archive = directory / "image.ozx"
        options = layout_options(params)
        metadata = {"dims": "zyx", "scale": {"z": 2.0, "y": 0.5, "x": 0.5}}
        t0 = time.perf_counter()
        if params["layout"] == "ozx-default":  # the archive as users get it, then its directory twin
            ngff.write(volume, archive, **metadata, **options)
            written = time.perf_counter() - t0
            t0 = time.perf_counter()
            ngff.ozx.unpack(archive, store)
        else:
            ngff.write(volume, store, **metadata, **options)
            written = time.perf_counter() - t0
            t0 = time.perf_counter()
            ngff.ozx.pack(store, archive)
        packed = time.perf_counter() - t0
        doc = json.loads((store / "0" / "zarr.json").read_text())
        return {
            "params": params,
            "plane": plane,
            "write_seconds": round(written, 2),
            "pack_seconds": round(packed, 2),
            "packing": "unpacked" if params["layout"] == "ozx-default" else "packed",
            "archive_bytes": (directory / "image.ozx").stat().st_size,
            "shard_shape": doc["chunk_grid"]["configuration"]["chunk_shape"],
            "chunk_shape": doc["codecs"][0]["configuration"]["chunk_shape"],
            "reference": C.reference_checksums(shape, [plane], params["seed"]),
        }

    manifest = C.cached(key, make)
    manifest["dir"] = str(C.data_dir(key))
    return manifest


def child(spec: dict[str, Any]) -> None:
    import gc

    import dask
    import dask.array
    import numpy as np

    import ngff

    dask.config.set(scheduler="threads", num_workers=spec["workers"])
    dask.array.ones(4, chunks=2).sum().compute()
    gc.collect()
    with C.Timer() as t_all:
        image = ngff.read(spec["location"])
        level0 = image.levels[0]
        data = level0[spec["z"]].compute() if spec["op"] == "plane" else level0.compute()
    C.emit({"seconds": t_all.seconds, "checksum": C.checksum(np.asarray(data))})


def run(args: argparse.Namespace) -> int:
    info = C.machine_info()
    print(f"machine: {C.describe_machine(info)}")
    sections, passed, failures = [], True, []
    for layout in args.layouts:
        text, ok, failed = run_layout(args, layout)
        sections.append(text)
        passed &= ok or layout not in JUDGED
        failures += failed
    header = (
        f"`python benchmarks/bench_ozx.py{' --quick' if args.quick else ''}` on {C.describe_machine(info)}; "
        f"median of {args.repeat} runs, each in a fresh process (dask threads, {WORKERS} workers), "
        "open included; requests counted by the loopback server (127.0.0.1, Range support); "
        f"targets (judged on {', '.join(f'`{j}`' for j in JUDGED)}): local `.ozx` <= {TARGET_LOCAL_RATIO} x the "
        f"directory, remote `.ozx` open + one plane <= {TARGET_REQUESTS} requests."
    )
    report = "\n\n".join([header, *sections])
    print()
    print(report)
    if args.write_docs:
        C.update_docs_section(C.DOCS_FILE, "Single-file and remote stores", report)
        print(f"\nwrote section 'Single-file and remote stores' of {C.DOCS_FILE}")
    if failures:
        print("\nFAILURES:\n" + "\n".join(failures))
        return 1
    return 0 if passed else (2 if args.strict else 0)


def run_layout(args: argparse.Namespace, layout: str) -> tuple[str, bool, list[str]]:
    from http_range_server import RangeServer

    params = dataset_params(args.quick, layout)
    manifest = build(params)
    base = Path(manifest["dir"])
    z = manifest["plane"]
    expected = {"plane": manifest["reference"][f"z{z}"], "full": manifest["reference"]["full"]}
    print(
        f"layout {layout}: {manifest['params']['vol']} uint16, shards {manifest['shard_shape']}, chunks "
        f"{manifest['chunk_shape']}; archive {C.fmt_bytes(manifest['archive_bytes'])}"
    )
    samples: dict[tuple[str, str], C.Samples] = {}
    requests: dict[tuple[str, str], list[int]] = {}
    failures: list[str] = []
    with RangeServer(base) as server:
        locations = {
            "dir": str(base / "image.ome.zarr"),
            "ozx": str(base / "image.ozx"),
            "http-ozx": server.url("image.ozx"),
            "http-dir": server.url("image.ome.zarr"),
        }

        def measure(store: str, op: str) -> tuple[C.ChildResult, int]:
            spec = {"location": locations[store], "op": op, "z": z, "workers": WORKERS}
            server.reset()
            result = C.run_child([CHILD_SCRIPT, "--child", json.dumps(spec)], timeout=args.timeout)
            return result, server.count

        print("  warm-up (untimed) …", flush=True)
        for store in STORES:
            result, _ = measure(store, "full")
            if not result.ok:
                return f"{store} failed", False, [f"{layout} {store}: {result.stderr[-3000:]}"]
        for rep in range(args.repeat):
            for op in OPS:
                for store in STORES:
                    result, count = measure(store, op)
                    if not result.ok:
                        failures.append(f"{layout} {store} {op}: exit {result.returncode}\n{result.stderr[-2000:]}")
                        continue
                    if result.data["checksum"] != expected[op]:
                        failures.append(f"{layout} {store} {op}: WRONG DATA")
                    samples.setdefault((store, op), C.Samples()).add(result.data["seconds"])
                    samples.setdefault((store, f"rss_{op}"), C.Samples()).add(result.peak_rss)
                    requests.setdefault((store, op), []).append(count)
            print(f"  repetition {rep + 1}/{args.repeat} done", flush=True)
    text, ok = render(manifest, samples, requests, layout)
    return text, ok, failures


def render(manifest, samples, requests, layout) -> tuple[str, bool]:
    def med(store: str, metric: str) -> float | None:
        s = samples.get((store, metric))
        return s.median if s else None

    rows = []
    for store, label in STORES.items():
        row = [label]
        for op in OPS:
            seconds = med(store, op)
            ratio = seconds / med("dir", op) if seconds and med("dir", op) else None
            counts = requests.get((store, op)) or [0]
            row += [
                C.fmt_seconds(seconds),
                C.fmt_ratio(ratio),
                str(max(counts)) if store.startswith("http") else "–",
                C.fmt_bytes(med(store, f"rss_{op}")),
            ]
        rows.append(row)
    table = C.markdown_table(
        ["store", "open+plane", "vs dir", "requests", "peak RSS", "open+full", "vs dir", "requests", "peak RSS"],
        rows,
    )
    checks = []
    passed = True
    for op in OPS:
        ratio = (med("ozx", op) or 0) / (med("dir", op) or 1)
        ok = ratio <= TARGET_LOCAL_RATIO
        passed &= ok
        checks.append(f"- local `.ozx` {op}: {ratio:.2f} x the directory (target <= {TARGET_LOCAL_RATIO}): **{'PASS' if ok else 'FAIL'}**")
    plane_requests = max(requests.get(("http-ozx", "plane")) or [10**9])
    ok = plane_requests <= TARGET_REQUESTS
    passed &= ok
    checks.append(
        f"- remote `.ozx` open + one plane: {plane_requests} requests (target <= {TARGET_REQUESTS}): **{'PASS' if ok else 'FAIL'}**"
    )
    if layout not in JUDGED:
        checks = [f"{line.replace('**PASS**', 'pass').replace('**FAIL**', 'miss')} (not judged)" for line in checks]
    options = layout_options(manifest["params"])
    written = ", ".join(f"{k}={v!r}" for k, v in options.items())
    target = '"image.ozx"' if layout == "ozx-default" else '"image.ome.zarr"'
    text = "\n".join(
        [
            f"### Layout `{layout}`",
            "",
            f"{manifest['params']['vol']} uint16 written by `ngff.write(volume, {target}{', ' + written if written else ''})`: "
            f"level-0 shards {manifest['shard_shape']} of chunks {manifest['chunk_shape']}; archive "
            f"{C.fmt_bytes(manifest['archive_bytes'])} ({manifest.get('packing', 'packed')} in {manifest['pack_seconds']} s "
            f"after a {manifest['write_seconds']} s write).",
            "",
            table,
            "",
            *checks,
        ]
    )
    return text, passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small volume (smoke run)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    parser.add_argument("--layouts", nargs="+", default=list(LAYOUTS), choices=list(LAYOUTS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(json.loads(args.child))
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
