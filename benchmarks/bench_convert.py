"""Conversion benchmark: a ≥ 4 GiB BigTIFF → OME-Zarr 0.5 sharded, and writer backends.

Two parts, each measurement in a fresh child process (wall time, peak RSS):

``convert``
    A 512 × 2048 × 2048 uint16 BigTIFF (4 GiB, the benchmarks' synthetic volume,
    written slab by slab by tifffile into ``--tmp``, default ``/tmp``, and deleted
    afterwards) converted to OME-Zarr 0.5 with sharding by the two command lines:
    ``ngff convert big.tif out.ome.zarr --shards auto`` and
    ``ngff-zarr -i big.tif -o out.ome.zarr --ome-zarr-version 0.5 --chunks-per-shard 2``
    (each with its default pyramid and codec).  Each CLI runs inside the child through
    its console-script entry point, so the child's peak RSS is the CLI's.  Level 0 of both
    outputs is checked against the generator on sampled planes.
    Target: ours ≤ 0.25 × ngff-zarr's time, with peak RSS ≤ 1 GiB.

``backends``
    The writing benchmark's input (256 × 1024 × 1024 uint16, 512 MiB ``.npy``, see
    ``bench_write.py``) written by ``ngff.write`` with ``backend="zarr"`` and
    ``backend="tensorstore"``, 0.4 and 0.5 sharded, the same 4 levels; median of
    ``--repeats`` interleaved runs, pixels compared with the input.

``python benchmarks/bench_convert.py [--part convert|backends|all] [--quick] [--write-docs]``
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

CHILD_SCRIPT = __file__
BIG_SHAPE = (512, 2048, 2048)  # 4 GiB of uint16
QUICK_BIG_SHAPE = (64, 1024, 1024)
TIME_TARGET = 0.25  # x ngff-zarr
RSS_TARGET = 2**30


def _planes(shape: tuple[int, ...]) -> list[int]:
    return [0, shape[0] // 2, shape[0] - 1]


def write_bigtiff(path: Path, shape: tuple[int, ...]) -> None:
    """The synthetic volume as an uncompressed BigTIFF, 16 planes in memory at a time."""
    import tifffile

    def slabs():
        for z0 in range(0, shape[0], 16):
            yield from C.volume_slab(shape, z0, min(shape[0], z0 + 16))

    with tifffile.TiffWriter(path, bigtiff=True) as tif:
        tif.write(slabs(), shape=shape, dtype="uint16", photometric="minisblack", metadata={"axes": "ZYX"})


# --------------------------------------------------------------------------- child


def _run_console_script(name: str, argv: list[str]) -> None:
    """Run a console script (``ngff``, ``ngff-zarr``) in this process, as its command line does."""
    from importlib.metadata import entry_points

    (entry,) = [e for e in entry_points(group="console_scripts") if e.name == name]
    main = entry.load()
    sys.argv = [name, *argv]
    try:
        result = main()
    except SystemExit as exc:
        result = exc.code
    if result not in (None, 0):
        raise SystemExit(f"{name} exited with {result}")


def child(spec: dict[str, Any]) -> None:
    out = spec["out"]
    shutil.rmtree(out, ignore_errors=True)
    result: dict[str, Any] = {}
    if spec["part"] == "convert":
        argv = (
            ["convert", spec["input"], out, "--shards", "auto"]
            if spec["tool"] == "ngff"
            else ["-i", spec["input"], "-o", out, "--ome-zarr-version", "0.5", "--chunks-per-shard", "2", "-q"]
        )
        with C.Timer() as t:
            _run_console_script(spec["tool"], argv)
    else:
        import dask
        import numpy as np

        import ngff

        data = np.load(spec["input"], mmap_mode="r")
        with dask.config.set(num_workers=2), C.Timer() as t:
            ngff.write(data, out, version=spec["version"], shards="auto" if spec["version"] == "0.5" else None,
                       scale_factors=[2, 4, 8], backend=spec["tool"], overwrite=True)
    result["seconds"] = t.seconds
    result["_peak_write"] = C.peak_rss_self()
    import numpy as np

    import ngff

    image = ngff.read(out)
    level0 = image.levels[0]
    result["levels"] = len(image.levels)
    result["checksums"] = {str(z): C.checksum(np.asarray(level0[z].compute())) for z in spec["planes"]}
    result["bytes"] = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
    C.emit(result)


# --------------------------------------------------------------------------- parent


def run_convert(args: argparse.Namespace, info: dict[str, Any]) -> tuple[str, bool]:
    shape = QUICK_BIG_SHAPE if args.quick else BIG_SHAPE
    tmp = Path(args.tmp) / f"ngff-bench-convert-{os.getpid()}"
    tmp.mkdir(parents=True)
    try:
        tif = tmp / "big.tif"
        print(f"writing {tif} ({' × '.join(map(str, shape))} uint16) ...", flush=True)
        with C.Timer() as t:
            write_bigtiff(tif, shape)
        print(f"  {C.fmt_bytes(tif.stat().st_size)} in {t.seconds:.0f} s", flush=True)
        planes = _planes(shape)
        reference = {str(z): C.checksum(C.volume_plane(shape, z)) for z in planes}
        results: dict[str, Any] = {}
        failures = []
        for tool in args.tools:
            spec = {"part": "convert", "tool": tool, "input": str(tif), "out": str(tmp / f"{tool}.ome.zarr"), "planes": planes}
            res = C.run_child([CHILD_SCRIPT, "--child", json.dumps(spec)], timeout=args.timeout)
            shutil.rmtree(spec["out"], ignore_errors=True)
            if not res.ok:
                failures.append(f"{tool}: {res.stderr.strip()[-1500:] or res.returncode}")
                print(f"  {tool} FAILED: {failures[-1]}", flush=True)
                continue
            if res.data["checksums"] != reference:
                failures.append(f"{tool}: level 0 differs from the input")
            results[tool] = res.data
            print(f"  {tool:10s} {res.data['seconds']:8.1f} s  peak {C.fmt_bytes(res.data['_peak_write'])}  "
                  f"{res.data['levels']} levels  disk {C.fmt_bytes(res.data['bytes'])}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the 4 GiB input never stays behind
    rows, verdicts = [], []
    ours = results.get("ngff")
    for tool, r in results.items():
        ratio = ours["seconds"] / r["seconds"] if ours and tool != "ngff" else None
        rows.append([tool, C.fmt_seconds(r["seconds"]), C.fmt_bytes(r["_peak_write"]), str(r["levels"]),
                     C.fmt_bytes(r["bytes"]), C.fmt_ratio(ratio)])
        if ratio is not None:
            verdicts.append(f"time vs ngff-zarr: {ratio:.2f} (target <= {TIME_TARGET}) {'PASS' if ratio <= TIME_TARGET else 'FAIL'}")
    if ours:
        verdicts.append(f"our peak RSS: {C.fmt_bytes(ours['_peak_write'])} (target <= 1 GiB) "
                        f"{'PASS' if ours['_peak_write'] <= RSS_TARGET else 'FAIL'}")
    text = (f"Input: {' × '.join(map(str, shape))} uint16 BigTIFF ({C.fmt_bytes(2 * shape[0] * shape[1] * shape[2])}, "
            "uncompressed, written by tifffile) → OME-Zarr 0.5 sharded, each command line with its defaults.\n\n"
            + C.markdown_table(["command", "time", "peak RSS", "levels", "on disk", "ours/this time"], rows, "lrrrrr")
            + "\n\n" + "\n".join(f"- {v}" for v in verdicts)
            + ("\n\nFAILURES: " + "; ".join(failures) if failures else ""))
    return text, not failures


def run_backends(args: argparse.Namespace, info: dict[str, Any]) -> tuple[str, bool]:
    from bench_write import input_npy

    shape = C.QUICK_SHAPE if args.quick else C.FULL_SHAPE
    npy = input_npy(tuple(shape))
    planes = _planes(shape)
    reference = {str(z): C.checksum(C.volume_plane(shape, z)) for z in planes}
    work = C.data_dir("convert-backends-output")
    cells: dict[tuple[str, str], dict[str, C.Samples]] = {}
    failures = []
    for repeat in range(args.repeats):
        for version in ("0.4", "0.5"):
            order = ["zarr", "tensorstore"] if repeat % 2 == 0 else ["tensorstore", "zarr"]
            for backend in order:
                spec = {"part": "backends", "tool": backend, "version": version, "input": str(npy),
                        "out": str(work / f"{backend}-{version}.zarr"), "planes": planes}
                res = C.run_child([CHILD_SCRIPT, "--child", json.dumps(spec)], timeout=args.timeout)
                if not res.ok:
                    failures.append(f"{backend} {version}: {res.stderr.strip()[-1500:]}")
                    continue
                if res.data["checksums"] != reference:
                    failures.append(f"{backend} {version}: pixels differ from the input")
                slot = cells.setdefault((backend, version), {})
                for metric, value in (("time", res.data["seconds"]), ("rss", res.data["_peak_write"]), ("bytes", res.data["bytes"])):
                    slot.setdefault(metric, C.Samples()).add(value)
                print(f"  run {repeat + 1}: {backend:11s} {version}  {res.data['seconds']:6.2f} s  "
                      f"peak {C.fmt_bytes(res.data['_peak_write'])}", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    rows = []
    for version in ("0.4", "0.5"):
        base = cells.get(("zarr", version))
        for backend in ("zarr", "tensorstore"):
            cell = cells.get((backend, version))
            if not cell:
                continue
            ratio = cell["time"].median / base["time"].median if base else None
            rows.append([version, backend, C.fmt_seconds(cell["time"].median), C.fmt_bytes(cell["rss"].median),
                         C.fmt_bytes(cell["bytes"].median), C.fmt_ratio(ratio)])
    text = (f"Input: the writing benchmark's {' × '.join(map(str, shape))} uint16 volume (memory-mapped `.npy`), "
            f"4 levels (factors 2, 4, 8), 0.5 with `shards=\"auto\"`; median of {args.repeats} interleaved runs.\n\n"
            + C.markdown_table(["version", "backend", "time", "peak RSS", "on disk", "time / zarr backend"], rows, "llrrrr")
            + ("\n\nFAILURES: " + "; ".join(failures) if failures else ""))
    return text, not failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--part", choices=("convert", "backends", "all"), default="all")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--tools", nargs="+", default=["ngff", "ngff-zarr"], choices=("ngff", "ngff-zarr"))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--tmp", default="/tmp", help="where the BigTIFF and outputs go (deleted after)")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return 0
    info = C.machine_info()
    print(f"machine: {C.describe_machine(info)}; load average {os.getloadavg()}")
    parts, ok = [], True
    if args.part in ("convert", "all"):
        text, good = run_convert(args, info)
        print(text)
        parts.append("### BigTIFF → OME-Zarr 0.5, ours vs the ngff-zarr command line\n\n" + text)
        ok &= good
    if args.part in ("backends", "all"):
        text, good = run_backends(args, info)
        print(text)
        parts.append("### Writer backends: zarr vs tensorstore\n\n" + text)
        ok &= good
    if args.write_docs:
        body = (f"Measured {_dt.date.today().isoformat()} on {C.describe_machine(info)}; "
                f"`python benchmarks/bench_convert.py --part {args.part}`.\n\n" + "\n\n".join(parts))
        C.update_docs_section(C.DOCS_FILE, "Conversion", body)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
