"""Reading benchmark: ``ngff`` against ngff-zarr and ome-zarr-py.

Usage::

    python benchmarks/bench_read.py             # full size: 256×1024×1024 uint16 (512 MiB)
    python benchmarks/bench_read.py --quick     # smoke run: 64×256×256
    python benchmarks/bench_read.py --write-docs   # also update docs/benchmarks.md, section "Reading"

What is measured (see benchmarks/README.md for the methodology): for each store
(OME-Zarr 0.4 / Zarr v2 and OME-Zarr 0.5 / Zarr v3 sharded, both written by ngff-zarr)
and each reader, in a fresh child process per measurement:

* ``open``  — from the call into the library until the level-0 dask array exists;
* ``plane`` — ``level0[z].compute()`` for the middle z plane;
* ``full``  — ``level0.compute()``, all of level 0;

with dask's threaded scheduler on 2 workers, plus each child's peak RSS.  Every
result is checked against checksums computed from the data generator itself.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

READERS = ("ngff", "ngff-zarr", "ome-zarr-py")
OURS = "ngff"
PEERS = tuple(r for r in READERS if r != OURS)
OPS = ("plane", "full")
TARGET_RATIO = 0.5  # the issue: ours <= 0.5 x the faster peer, for the plane and the full read
WORKERS = 2
CHILD_SCRIPT = __file__  # the script a child runs with ``--child SPEC``

STORES = {
    "v04": "OME-Zarr 0.4 (Zarr v2)",
    "v05": "OME-Zarr 0.5 (Zarr v3, sharded)",
}


# --------------------------------------------------------------------------- data


def dataset_params(quick: bool) -> dict[str, Any]:
    shape = C.QUICK_SHAPE if quick else C.FULL_SHAPE
    return {
        "vol": list(shape),
        "seed": 0,
        "chunks": 64 if quick else 128,
        "cps": 2,  # chunks per shard along each axis (0.5 store)
        "sf": [2, 4, 8],
        "gen": C.GENERATOR_VERSION,
    }


def build_stores(params: dict[str, Any]) -> dict[str, Any]:
    key = C.cache_key(**params)

    def build(directory: Path) -> dict[str, Any]:
        import ngff_zarr as nz

        shape = tuple(params["vol"])
        plane = shape[0] // 2
        volume = C.volume_dask(shape, params["seed"])
        image = nz.to_ngff_image(
            volume, dims=("z", "y", "x"), scale={"z": 2.0, "y": 0.5, "x": 0.5}, name="benchmark"
        )
        multiscales = nz.to_multiscales(
            image, scale_factors=list(params["sf"]), chunks=params["chunks"]
        )
        paths = {"v04": directory / "v04.ome.zarr", "v05": directory / "v05-sharded.ome.zarr"}
        timings = {}
        t0 = time.perf_counter()
        nz.to_ngff_zarr(str(paths["v04"]), multiscales, version="0.4")
        timings["v04"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        nz.to_ngff_zarr(
            str(paths["v05"]), multiscales, version="0.5", chunks_per_shard=params["cps"]
        )
        timings["v05"] = round(time.perf_counter() - t0, 1)
        print("  computing reference checksums from the generator …", flush=True)
        return {
            "params": params,
            "plane": plane,
            "stores": {k: str(p.relative_to(directory)) for k, p in paths.items()},
            "layout": {k: _describe_level0(p) for k, p in paths.items()},
            "write_seconds": timings,
            "reference": C.reference_checksums(shape, [plane], params["seed"]),
            "ngff_zarr": C.package_versions(["ngff-zarr"])["ngff-zarr"],
        }

    manifest = C.cached(key, build)
    manifest["dir"] = str(C.data_dir(key))
    return manifest


def _describe_level0(store: Path) -> dict[str, Any]:
    """Chunks, shards and codecs of level 0, read from the raw metadata."""
    root = store / "zarr.json"
    if root.exists():
        attrs = json.loads(root.read_text())["attributes"]["ome"]
        path = attrs["multiscales"][0]["datasets"][0]["path"]
        doc = json.loads((store / path / "zarr.json").read_text())
        codecs = doc["codecs"]
        shard = doc["chunk_grid"]["configuration"]["chunk_shape"]
        if codecs and codecs[0]["name"] == "sharding_indexed":
            cfg = codecs[0]["configuration"]
            return {
                "shape": doc["shape"],
                "chunks": cfg["chunk_shape"],
                "shards": shard,
                "codecs": cfg["codecs"],
            }
        return {"shape": doc["shape"], "chunks": shard, "shards": None, "codecs": codecs}
    attrs = json.loads((store / ".zattrs").read_text())
    path = attrs["multiscales"][0]["datasets"][0]["path"]
    doc = json.loads((store / path / ".zarray").read_text())
    return {
        "shape": doc["shape"],
        "chunks": doc["chunks"],
        "shards": None,
        "codecs": [doc["compressor"]],
    }


def _codec_text(layout: dict[str, Any]) -> str:
    names = []
    for codec in layout["codecs"]:
        if not codec:
            continue
        name = codec.get("name") or codec.get("id")
        cfg = codec.get("configuration") or codec
        if name in ("bytes", "transpose"):
            continue
        detail = ",".join(
            f"{k}={cfg[k]}" for k in ("cname", "level", "shuffle", "clevel") if k in cfg
        )
        names.append(f"{name}({detail})" if detail else name)
    return "+".join(names) or "raw"


# --------------------------------------------------------------------------- child


def _open_ngff(path: str):
    import ngff

    return ngff.read(path).levels[0]


def _open_ngff_zarr(path: str):
    import ngff_zarr

    return ngff_zarr.from_ngff_zarr(path).images[0].data


def _open_ome_zarr(path: str):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    location = parse_url(path, mode="r")
    nodes = list(Reader(location)())
    return nodes[0].data[0]


OPENERS = {"ngff": _open_ngff, "ngff-zarr": _open_ngff_zarr, "ome-zarr-py": _open_ome_zarr}
IMPORTS = {
    "ngff": ("ngff", "ngff.reader"),
    "ngff-zarr": ("ngff_zarr",),
    "ome-zarr-py": ("ome_zarr.io", "ome_zarr.reader"),
}


def child(spec: dict[str, Any]) -> None:
    """One measurement in a fresh interpreter: import, open, read, verify, report."""
    import gc
    import importlib

    t0 = time.perf_counter()
    import dask
    import dask.array  # common to all readers: not charged to anyone's open
    import numpy as np
    import zarr

    for module in IMPORTS[spec["reader"]]:
        importlib.import_module(module)
    dask.config.set(scheduler="threads", num_workers=spec["workers"])
    # dask's first compute in a process pays one-time costs that belong to no reader
    # (it imports `distributed`, if installed, to look for a client: ~0.4 s here).
    dask.array.ones(4, chunks=2).sum().compute()
    # Settle the garbage collector's debt from the imports now; otherwise the first full
    # collection lands at random inside a timed step (100-200 ms here).
    gc.collect()
    import_s = time.perf_counter() - t0
    rss_opened = None

    opener = OPENERS[spec["reader"]]
    with C.Timer() as t_open:
        level0 = opener(spec["store"])
    with C.Timer() as t_reopen:  # metadata parsing alone, without first-use imports
        opener(spec["store"])
    rss_opened = C.current_rss()
    out: dict[str, Any] = {
        "import": import_s,
        "open": t_open.seconds,
        "open_cold": import_s + t_open.seconds,
        "reopen": t_reopen.seconds,
        "rss_opened": rss_opened,
        "type": f"{type(level0).__module__}.{type(level0).__name__}",
        "shape": list(level0.shape),
        "dtype": str(level0.dtype),
        "chunksize": list(getattr(level0, "chunksize", ())),
        "npartitions": getattr(level0, "npartitions", None),
        "codec_pipeline": zarr.config.get("codec_pipeline.path"),
    }
    cpu0 = time.process_time()
    if spec["op"] == "plane":
        with C.Timer() as t_read:
            data = level0[spec["z"]].compute()
    else:
        with C.Timer() as t_read:
            data = level0.compute()
    out[f"cpu_{spec['op']}"] = time.process_time() - cpu0  # all threads of the process
    data = np.asarray(data)
    out[spec["op"]] = t_read.seconds
    out["checksum"] = C.checksum(data)
    C.emit(out)


# --------------------------------------------------------------------------- parent


def run(args: argparse.Namespace) -> int:
    params = dataset_params(args.quick)
    manifest = build_stores(params)
    base = Path(manifest["dir"])
    z = manifest["plane"] if args.plane is None else args.plane
    if not 0 <= z < manifest["params"]["vol"][0]:
        print(f"--plane {z} is outside the volume (0 … {manifest['params']['vol'][0] - 1})")
        return 1
    stores = [s for s in STORES if s in args.stores]
    readers = [r for r in READERS if r in args.readers]
    plane_ref = manifest["reference"].get(f"z{z}") or C.checksum(
        C.volume_plane(manifest["params"]["vol"], z, manifest["params"]["seed"])
    )
    expected = {"plane": plane_ref, "full": manifest["reference"]["full"]}
    manifest["plane"] = z
    info = C.machine_info()
    print(
        f"machine: {C.describe_machine(info)}; load average {', '.join(f'{x:.2f}' for x in info['load'])}"
    )
    for s in stores:
        lay = manifest["layout"][s]
        print(
            f"store {s}: {base / manifest['stores'][s]}  shape {lay['shape']} chunks {lay['chunks']}"
            f" shards {lay['shards']} codecs {_codec_text(lay)}"
        )

    def measure(reader: str, store: str, op: str) -> C.ChildResult:
        spec = {
            "reader": reader,
            "store": str(base / manifest["stores"][store]),
            "op": op,
            "z": z,
            "workers": WORKERS,
        }
        return C.run_child([CHILD_SCRIPT, "--child", json.dumps(spec)], timeout=args.timeout)

    # Warm-up: one untimed full read per store so every timed run sees the same warm page cache.
    print("warm-up (untimed) …", flush=True)
    for s in stores:
        for r in readers:
            res = measure(r, s, "full")
            if not res.ok:
                print(f"  {r} on {s} failed:\n{res.stderr[-3000:]}")
                return 1

    samples: dict[tuple[str, str, str], C.Samples] = {}
    details: dict[tuple[str, str], dict[str, Any]] = {}
    failures: list[str] = []

    def add(store: str, reader: str, metric: str, value: float | None) -> None:
        samples.setdefault((store, reader, metric), C.Samples()).add(value)

    started = time.perf_counter()
    for rep in range(args.repeat):
        for s in stores:
            for op in (o for o in OPS if o in args.ops):
                order = (
                    readers[rep % len(readers) :] + readers[: rep % len(readers)]
                )  # interleave, rotate
                for r in order:
                    res = measure(r, s, op)
                    if not res.ok:
                        failures.append(
                            f"{r} {s} {op}: exit {res.returncode}\n{res.stderr[-2000:]}"
                        )
                        continue
                    d = res.data
                    if d["checksum"] != expected[op]:
                        failures.append(
                            f"{r} {s} {op}: WRONG DATA checksum {d['checksum']} != {expected[op]}"
                        )
                    add(s, r, op, d[op])
                    add(s, r, f"cpu_{op}", d[f"cpu_{op}"])
                    add(s, r, "open", d["open"])
                    add(s, r, "open_cold", d["open_cold"])
                    add(s, r, "reopen", d["reopen"])
                    add(s, r, "rss_opened", d["rss_opened"])
                    add(s, r, "import", d["import"])
                    add(s, r, f"rss_{op}", res.peak_rss)
                    details[(s, r)] = {
                        k: d[k] for k in ("type", "chunksize", "npartitions", "codec_pipeline")
                    }
        done = rep + 1
        elapsed = time.perf_counter() - started
        print(f"  repetition {done}/{args.repeat} done ({elapsed:.0f} s)", flush=True)

    report = render(manifest, stores, readers, samples, details, failures, info, args)
    print()
    print(report["terminal"])
    if args.json:
        Path(args.json).write_text(json.dumps(report["raw"], indent=2))
    if args.write_docs:
        C.update_docs_section(C.DOCS_FILE, "Reading", report["docs"])
        print(f"\nwrote section 'Reading' of {C.DOCS_FILE}")
    if failures:
        print("\nFAILURES:\n" + "\n".join(failures))
        return 1
    return 2 if args.strict and not report["all_pass"] else 0


def render(manifest, stores, readers, samples, details, failures, info, args) -> dict[str, Any]:
    z = manifest["plane"]
    shape = manifest["params"]["vol"]
    labels = {
        "open_cold": "import + open",
        "open": "open (first call)",
        "reopen": "open (again)",
        "plane": f"read plane z={z}",
        "full": "read all of level 0",
    }
    time_rows, rss_rows, cpu_rows, verdicts = [], [], [], []
    all_pass = True
    for s in stores:
        for metric in ("open_cold", "open", "reopen", "plane", "full"):
            med = {r: samples.get((s, r, metric), C.Samples()).median for r in readers}
            peers = [med[p] for p in PEERS if p in med and med[p] is not None]
            fastest = min(peers) if peers else None
            ratio = med.get(OURS) / fastest if med.get(OURS) and fastest else None
            if metric in OPS and ratio is not None:
                ok = ratio <= TARGET_RATIO
                all_pass &= ok
                verdict = "PASS" if ok else "FAIL"
                target = f"≤ {TARGET_RATIO:.2f}×"
                verdicts.append(
                    f"{verdict}  {STORES[s]}, {labels[metric]}: ours/fastest peer = {ratio:.2f}× (target ≤ {TARGET_RATIO}×)"
                )
            else:
                verdict, target = "", "—"
            time_rows.append(
                [
                    s,
                    labels[metric],
                    *(C.fmt_seconds(med[r]) for r in readers),
                    C.fmt_ratio(ratio),
                    target,
                    verdict,
                ]
            )
        for op in OPS:
            med = {r: samples.get((s, r, f"rss_{op}"), C.Samples()).median for r in readers}
            rss_rows.append([s, labels[op], *(C.fmt_bytes(med[r]) for r in readers)])
            cpu = {r: samples.get((s, r, f"cpu_{op}"), C.Samples()).median for r in readers}
            peers = [cpu[p] for p in PEERS if cpu.get(p) is not None]
            ratio = cpu[OURS] / min(peers) if cpu.get(OURS) and peers else None
            cpu_rows.append(
                [s, labels[op], *(C.fmt_seconds(cpu[r]) for r in readers), C.fmt_ratio(ratio)]
            )
    time_table = C.markdown_table(
        ["store", "operation", *readers, "ours / fastest peer", "target", "result"],
        time_rows,
        "ll" + "r" * (len(readers) + 1) + "ll",
    )
    cpu_table = C.markdown_table(
        ["store", "operation", *(f"{r} CPU" for r in readers), "ours / fastest peer"],
        cpu_rows,
        "ll" + "r" * (len(readers) + 1),
    )
    rss_table = C.markdown_table(
        ["store", "child process", *(f"{r} peak RSS" for r in readers)],
        rss_rows,
        "ll" + "r" * len(readers),
    )
    imp = {
        r: C.median([v for s in stores for v in samples.get((s, r, "import"), C.Samples()).values])
        for r in readers
    }
    base_rss = {
        r: C.median(
            [v for s in stores for v in samples.get((s, r, "rss_opened"), C.Samples()).values]
        )
        for r in readers
    }
    extra_rows = [[r, C.fmt_seconds(imp[r]), C.fmt_bytes(base_rss[r])] for r in readers]
    extra_table = C.markdown_table(
        ["reader", "import (+ numpy, dask, zarr, dask warm-up)", "RSS after open"],
        extra_rows,
        "lrr",
    )
    chunk_rows = [
        [
            s,
            r,
            "×".join(map(str, d["chunksize"])),
            d["npartitions"],
            d["type"],
            d["codec_pipeline"] if r != "ngff-zarr" else "zarrista (zarrs)",
        ]
        for (s, r), d in sorted(details.items())
    ]
    chunk_table = C.markdown_table(
        ["store", "reader", "dask chunks", "tasks", "level-0 type", "codec pipeline"], chunk_rows
    )
    layout_lines = [
        f"- `{s}`: {STORES[s]}; level 0 chunks {'×'.join(map(str, manifest['layout'][s]['chunks']))}"
        + (
            f", shards {'×'.join(map(str, manifest['layout'][s]['shards']))}"
            if manifest["layout"][s]["shards"]
            else ""
        )
        + f", {_codec_text(manifest['layout'][s])}"
        for s in stores
    ]
    verified = (
        "all results matched the generator's checksums"
        if not failures
        else f"{len(failures)} FAILURES (see run output)"
    )
    date = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    cmd = (
        "python benchmarks/bench_read.py"
        + (" --quick" if args.quick else "")
        + (f" --repeat {args.repeat}" if args.repeat != 5 else "")
        + (f" --plane {args.plane}" if args.plane is not None else "")
    )
    header = (
        f"{'×'.join(map(str, shape))} uint16 volume ({C.fmt_bytes(2 * shape[0] * shape[1] * shape[2])}), 4-level pyramid "
        f"written by ngff-zarr {manifest['ngff_zarr']}; median of {args.repeat} runs, each in a fresh process; "
        f"dask threaded scheduler, {WORKERS} workers; warm page cache; {verified}."
    )
    versions = C.package_versions(
        ["zarr", "zarrs", "dask", "numpy", "ngff-zarr", "zarrista", "ome-zarr"]
    )
    terminal = "\n\n".join(
        [
            header,
            time_table,
            "\n".join(verdicts),
            cpu_table,
            rss_table,
            extra_table,
            chunk_table,
        ]
    )
    docs = "\n".join(
        [
            f"Run on {date} with `{cmd} --write-docs`.",
            "",
            (
                f"Machine: {C.describe_machine(info)} — shared and noisy, so every number is a median "
                f"of repeated runs; load average at start {', '.join(f'{x:.2f}' for x in info['load'])}."
            ),
            f"Versions: {', '.join(f'{k} {v}' for k, v in versions.items())}.",
            "",
            header,
            "",
            *layout_lines,
            "",
            "Times (median):",
            "",
            time_table,
            "",
            "Targets (the issue: ours ≤ 0.5 × the faster peer, for the plane and the full read):",
            "",
            *(f"- {v}" for v in verdicts),
            "",
            "CPU time of the read (all threads of the process; less sensitive than wall time to other load on the machine):",
            "",
            cpu_table,
            "",
            "Peak resident memory of each child process (interpreter and imports included):",
            "",
            rss_table,
            "",
            "Import time and resident memory once level 0 is open (the baseline inside the peak figures above):",
            "",
            extra_table,
            "",
            "How each reader exposes level 0:",
            "",
            chunk_table,
            "",
            "Methodology: [benchmarks/README.md](../benchmarks/README.md).",
        ]
    )
    raw = {
        "date": date,
        "machine": info,
        "manifest": manifest,
        "samples": {"|".join(k): v.values for k, v in samples.items()},
        "details": {"|".join(k): v for k, v in details.items()},
        "failures": failures,
    }
    return {"terminal": terminal, "docs": docs, "raw": raw, "all_pass": all_pass}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="small data (64×256×256) for a smoke run"
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs per measurement (median reported; default 5)"
    )
    parser.add_argument(
        "--plane", type=int, metavar="Z", help="z of the plane to read (default: the middle one)"
    )
    parser.add_argument(
        "--write-docs", action="store_true", help="update section 'Reading' of docs/benchmarks.md"
    )
    parser.add_argument("--json", metavar="PATH", help="also save the raw samples as JSON")
    parser.add_argument(
        "--ops",
        nargs="+",
        default=list(OPS),
        choices=OPS,
        help="operations to time (default: both)",
    )
    parser.add_argument("--readers", nargs="+", default=list(READERS), choices=READERS)
    parser.add_argument("--stores", nargs="+", default=list(STORES), choices=list(STORES))
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per child process")
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 2 when a target is missed"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(json.loads(args.child))
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
