"""Writing benchmark: ``ngff.write`` against ngff-zarr and ome-zarr-py.

Usage::

    python benchmarks/bench_write.py               # 256×1024×1024 uint16 (512 MiB), 4 levels
    python benchmarks/bench_write.py --quick       # smoke run: 64×256×256
    python benchmarks/bench_write.py --big         # also ours alone on a >= 4 GiB memory-mapped input
    python benchmarks/bench_write.py --write-docs  # also update docs/benchmarks.md, section "Writing"

Each writer runs in a fresh child process per measurement, on the same input (a
``.npy`` of the synthetic volume, loaded into memory before the clock starts), with its
own defaults for method, chunks and codec, for OME-Zarr 0.4 and 0.5 sharded (128³ chunks,
2×2×2 chunks per shard for the peers; ``shards="auto"`` for ours).  Reported: wall time of
the write call, the child's peak RSS (input included: the same 512 MiB for everyone),
bytes on disk, and ratios ours / peer.  Every store is read back and its level 0 compared
with the input (checksum).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402

WRITERS = ("ngff", "ngff-zarr", "ome-zarr-py")
VERSIONS = ("0.4", "0.5")
CHILD_SCRIPT = __file__
TARGETS = {"ngff-zarr": 0.2, "ome-zarr-py": 0.5}  # time ratios from the issue
RSS_TARGET = 0.5  # x ngff-zarr's peak RSS
BIG_SHAPE = (512, 2048, 2048)  # 4 GiB of uint16


def input_npy(shape: tuple[int, ...], seed: int = 0) -> Path:
    """The synthetic volume as a cached ``.npy`` file (written slab by slab)."""
    key = C.cache_key(kind="npy", vol=list(shape), seed=seed, gen=C.GENERATOR_VERSION)

    def build(directory: Path) -> dict[str, Any]:
        import numpy as np

        path = directory / "volume.npy"
        out = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint16, shape=shape)
        for z0 in range(0, shape[0], 16):
            out[z0 : z0 + 16] = C.volume_slab(shape, z0, min(shape[0], z0 + 16), seed)
        out.flush()
        del out
        return {"file": "volume.npy"}

    manifest = C.cached(key, build)
    return C.data_dir(key) / manifest["file"]


# --------------------------------------------------------------------------- child


def _write_ngff(data, out: str, version: str) -> None:
    import ngff

    ngff.write(data, out, version=version, shards="auto" if version == "0.5" else None,
               scale={"z": 2.0, "y": 0.5, "x": 0.5}, scale_factors=[2, 4, 8], overwrite=True)


def _write_ngff_zarr(data, out: str, version: str) -> None:
    import ngff_zarr as nz

    image = nz.to_ngff_image(data, dims=("z", "y", "x"), scale={"z": 2.0, "y": 0.5, "x": 0.5})
    multiscales = nz.to_multiscales(image, scale_factors=[2, 4, 8])
    if version == "0.5":
        nz.to_ngff_zarr(out, multiscales, version="0.5", chunks_per_shard=2)
    else:
        nz.to_ngff_zarr(out, multiscales, version="0.4")


def _write_ome_zarr(data, out: str, version: str) -> None:
    import zarr
    from ome_zarr.format import FormatV04, FormatV05
    from ome_zarr.writer import write_image

    fmt = FormatV05() if version == "0.5" else FormatV04()
    group = zarr.open_group(out, mode="w", zarr_format=3 if version == "0.5" else 2)
    options = {"chunks": (128, 128, 128)}
    if version == "0.5":
        options["shards"] = (256, 256, 256)
    write_image(data, group, scale_factors=(2, 4, 8), fmt=fmt, axes="zyx", storage_options=options,
                scale={"z": 2.0, "y": 0.5, "x": 0.5})


WRITE = {"ngff": _write_ngff, "ngff-zarr": _write_ngff_zarr, "ome-zarr-py": _write_ome_zarr}


def _read_back(out: str):
    """Level 0 of a written store (through ngff's reader, which reads all three writers' stores)."""
    import numpy as np

    import ngff

    return np.asarray(ngff.read(out).levels[0].compute())


def child(spec: dict[str, Any]) -> None:
    import numpy as np

    data = np.load(spec["input"], mmap_mode="r" if spec.get("mmap") else None)
    out = spec["out"]
    shutil.rmtree(out, ignore_errors=True)
    import dask

    with dask.config.set(num_workers=2):
        with C.Timer() as t:
            WRITE[spec["writer"]](data, out, spec["version"])
    result: dict[str, Any] = {"write": t.seconds}
    peak = C.peak_rss_self()
    if spec.get("check", True):
        result["checksum"] = C.checksum(_read_back(out))
    result["bytes"] = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
    result["_peak_write"] = peak
    C.emit(result)


# --------------------------------------------------------------------------- parent


def run(args: argparse.Namespace) -> int:
    shape = C.QUICK_SHAPE if args.quick else C.FULL_SHAPE
    npy = input_npy(tuple(shape))
    reference = C.reference_checksums(shape, [])["full"]
    work = C.data_dir("write-output")
    info = C.machine_info()
    print(f"machine: {C.describe_machine(info)}")
    print(f"input: {npy} ({tuple(shape)} uint16)")
    results: dict[tuple[str, str], dict[str, C.Samples]] = {}
    failures = []
    for repeat in range(args.repeats):
        for version in VERSIONS:
            for writer in args.writers:
                out = str(work / f"{writer}-{version}.zarr")
                spec = {"writer": writer, "version": version, "input": str(npy), "out": out}
                res = C.run_child([CHILD_SCRIPT, "--child", json.dumps(spec)], timeout=args.timeout)
                if not res.ok:
                    failures.append(f"{writer} {version}: {res.stderr[-2000:]}")
                    print(f"  {writer} {version} FAILED: {res.stderr.strip().splitlines()[-1] if res.stderr.strip() else res.returncode}")
                    continue
                if res.data["checksum"] != reference:
                    failures.append(f"{writer} {version}: level 0 differs from the input")
                slot = results.setdefault((writer, version), {})
                for metric, value in (("time", res.data["write"]), ("rss", res.data["_peak_write"]),
                                      ("bytes", res.data["bytes"])):
                    slot.setdefault(metric, C.Samples()).add(value)
                print(f"  run {repeat + 1}: {writer:12s} {version}  {res.data['write']:7.2f} s  "
                      f"peak {C.fmt_bytes(res.data['_peak_write'])}  disk {C.fmt_bytes(res.data['bytes'])}", flush=True)
    rows = []
    verdicts = []
    for version in VERSIONS:
        ours = results.get(("ngff", version))
        for writer in args.writers:
            cell = results.get((writer, version))
            if not cell:
                continue
            t, r, b = (cell[m].median for m in ("time", "rss", "bytes"))
            ratio_t = ratio_r = ratio_b = None
            if ours and writer != "ngff":
                ratio_t = ours["time"].median / t
                ratio_r = ours["rss"].median / r
                ratio_b = ours["bytes"].median / b
                target = TARGETS[writer]
                verdicts.append(f"{version} time vs {writer}: {ratio_t:.2f} (target <= {target}) "
                                f"{'PASS' if ratio_t <= target else 'FAIL'}")
                if writer == "ngff-zarr":
                    verdicts.append(f"{version} peak RSS vs ngff-zarr: {ratio_r:.2f} (target <= {RSS_TARGET}) "
                                    f"{'PASS' if ratio_r <= RSS_TARGET else 'FAIL'}")
                    verdicts.append(f"{version} bytes vs ngff-zarr: {ratio_b:.2f} (target <= 1) "
                                    f"{'PASS' if ratio_b <= 1 else 'FAIL'}")
            rows.append([version, writer, C.fmt_seconds(t), C.fmt_bytes(r), C.fmt_bytes(b),
                         C.fmt_ratio(ratio_t), C.fmt_ratio(ratio_r), C.fmt_ratio(ratio_b)])
    table = C.markdown_table(["version", "writer", "time", "peak RSS", "on disk", "ours/this time",
                              "ours/this RSS", "ours/this bytes"], rows)
    print(table)
    print("\n".join(verdicts))
    big_text = ""
    if args.big:
        big_text = run_big(args)
        print(big_text)
    if failures:
        print("FAILURES:\n" + "\n".join(failures))
    if args.write_docs:
        body = (f"Measured {_dt.date.today().isoformat()} on {C.describe_machine(info)}; "
                f"`python benchmarks/bench_write.py{' --big' if args.big else ''}`, median of {args.repeats} runs.\n"
                f"Input: {' × '.join(map(str, shape))} uint16 synthetic volume (smooth structure plus noise), "
                "4 levels (factors 2, 4, 8), each writer with its own defaults.\n\n"
                + table + "\n\n" + "\n".join(f"- {v}" for v in verdicts) + ("\n\n" + big_text if big_text else ""))
        C.update_docs_section(Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md", "Writing", body)
    return 1 if failures else 0


def run_big(args: argparse.Namespace) -> str:
    npy = input_npy(BIG_SHAPE)
    out = str(C.data_dir("write-output") / "ngff-big.zarr")
    spec = {"writer": "ngff", "version": "0.5", "input": str(npy), "out": out, "mmap": True, "check": False}
    res = C.run_child([CHILD_SCRIPT, "--child", json.dumps(spec)], timeout=args.timeout)
    if not res.ok:
        return f"big input FAILED: {res.stderr[-2000:]}"
    shutil.rmtree(out, ignore_errors=True)
    size = 2 * BIG_SHAPE[0] * BIG_SHAPE[1] * BIG_SHAPE[2]
    peak = res.data["_peak_write"]
    return (f"Big input: {' × '.join(map(str, BIG_SHAPE))} uint16 ({C.fmt_bytes(size)}) memory-mapped `.npy` → 0.5 sharded, "
            f"4 levels: {res.data['write']:.1f} s, peak RSS {C.fmt_bytes(peak)} "
            f"(target < 1 GiB: {'PASS' if peak < 2**30 else 'FAIL'}).")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--big", action="store_true", help="also write a >= 4 GiB memory-mapped input (ours only)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--writers", nargs="+", default=list(WRITERS), choices=WRITERS)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
