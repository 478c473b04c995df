"""Editing benchmark: ``ngff.update_region`` of a 64³ region against a full ``ngff.write``.

Usage::

    python benchmarks/bench_edit.py               # 256×1024×1024 uint16 (512 MiB), 4 levels
    python benchmarks/bench_edit.py --quick       # smoke run: 64×256×256 (16³ edit)
    python benchmarks/bench_edit.py --write-docs  # also update docs/benchmarks.md, section "Editing"

The store is the writing benchmark's pyramid (``bench_write.py``: the synthetic volume,
scale factors 2, 4, 8, ``ngff.write``'s default 128³ chunks), as OME-Zarr 0.4, 0.5,
0.5 sharded (``shards="auto"``, as in the writing benchmark), and 0.5 with 64³ chunks.  A 64³ region of level 0 is set to a constant (a painted
block), once inside one chunk ("aligned": 160:224, 544:608, 544:608) and once across
chunk borders ("unaligned": 100:164, 500:564, 300:364).

Each measurement runs in a fresh child process.  **edit**: a copy of the pristine store
is made before the clock starts; the child times ``update_region`` (which also
regenerates levels 1-3 there).  **rewrite**: the child loads the input, applies the same
edit in memory (before the clock) and times ``ngff.write(..., overwrite=True)`` of the
whole pyramid.  Bytes written are the child's ``write()`` system-call bytes during the
timed call (``wchar`` of ``/proc/self/io``: staged files, journal and all).  Both
results are read back and compared level by level (they must be identical).  Targets
from the issue: edit ≤ 1 % of the rewrite's bytes and ≤ 5 % of its time.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C
from bench_write import input_npy

CHILD_SCRIPT = __file__
#: Store layouts: name -> (version, shards, chunks) given to ``ngff.write`` (None: its default 128³ chunks).
LAYOUTS = {
    "0.4": ("0.4", None, None),
    "0.5": ("0.5", None, None),
    "0.5 sharded": ("0.5", "auto", None),
    "0.5 64³ chunks": ("0.5", None, 64),
}
BYTES_TARGET = 0.01
TIME_TARGET = 0.05
VALUE = 1000
NOTE = (
    "\n\nWhat bounds these numbers is the layout: an edit rewrites, on every level, each chunk (or shard) it "
    "touches, whole - a chunk is the unit of compression and of crash-safe replacement. One 128³ level-0 chunk "
    "of this noisy volume is 3.3 MiB, 0.9 % of the store, so the 1 % bytes target needs smaller chunks "
    "(64³ meets both targets for an aligned edit); 32 MiB auto shards cost a whole shard per level. "
    "See [edits.md](edits.md#performance)."
)


def regions(quick: bool) -> dict[str, list[list[int]]]:
    if quick:
        return {"aligned": [[40, 56], [136, 152], [136, 152]], "unaligned": [[25, 41], [125, 141], [75, 91]]}
    return {"aligned": [[160, 224], [544, 608], [544, 608]], "unaligned": [[100, 164], [500, 564], [300, 364]]}


def _options(layout: str) -> dict[str, Any]:
    version, shards, chunks = LAYOUTS[layout]
    return {"version": version, "shards": shards, "chunks": chunks, "scale": {"z": 2.0, "y": 0.5, "x": 0.5},
            "scale_factors": [2, 4, 8]}


def _wchar() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return 0


# --------------------------------------------------------------------------- child


def child(spec: dict[str, Any]) -> None:
    import dask
    import numpy as np

    import ngff

    box = tuple(slice(a, b) for a, b in spec["region"])
    with dask.config.set(num_workers=2):
        if spec["op"] == "edit":
            shape = tuple(b.stop - b.start for b in box)
            values = np.full(shape, VALUE, dtype=np.uint16)
            ngff.read(spec["out"])  # warm imports outside the clock, as the rewrite's load is
            before = _wchar()
            with C.Timer() as t:
                result = ngff.update_region(spec["out"], box, values)
            written = _wchar() - before
            extra = {"keys": len(result.keys), "chunk_bytes": result.bytes_written}
        else:
            data = np.load(spec["input"])
            data[box] = VALUE
            before = _wchar()
            with C.Timer() as t:
                ngff.write(data, spec["out"], overwrite=True, **_options(spec["layout"]))
            written = _wchar() - before
            extra = {}
    image = ngff.read(spec["out"])
    checks = [C.checksum(np.asarray(level.compute())) for level in image.levels]
    C.emit({"seconds": t.seconds, "written": written, "checksums": checks, "_peak": C.peak_rss_self(), **extra})


# --------------------------------------------------------------------------- parent


def pristine(npy: Path, layout: str, shape: tuple[int, ...]) -> Path:
    key = C.cache_key(kind="edit-store", vol=list(shape), layout=layout.replace(" ", "-").replace("³", ""), gen=C.GENERATOR_VERSION)

    def build(directory: Path) -> dict[str, Any]:
        import numpy as np

        import ngff

        ngff.write(np.load(npy), directory / "store.zarr", **_options(layout))
        return {"store": "store.zarr"}

    manifest = C.cached(key, build)
    return C.data_dir(key) / manifest["store"]


def run(args: argparse.Namespace) -> int:
    shape = tuple(C.QUICK_SHAPE if args.quick else C.FULL_SHAPE)
    npy = input_npy(shape)
    work = C.data_dir("edit-output")
    info = C.machine_info()
    print(f"machine: {C.describe_machine(info)}")
    results: dict[tuple[str, str, str], dict[str, C.Samples]] = {}
    extras: dict[tuple[str, str], dict[str, Any]] = {}
    failures = []
    for repeat in range(args.repeats):
        for version in LAYOUTS:
            source = pristine(npy, version, shape)
            store_bytes = sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
            for name, region in regions(args.quick).items():
                sums = {}
                for op in ("edit", "rewrite"):
                    out = work / f"{version.replace(' ', '-').replace('³', '')}-{name}-{op}.zarr"
                    shutil.rmtree(out, ignore_errors=True)
                    if op == "edit":
                        shutil.copytree(source, out)
                    spec = {"op": op, "layout": version, "region": region, "input": str(npy), "out": str(out)}
                    res = C.run_child([CHILD_SCRIPT, "--child", json.dumps(spec)], timeout=args.timeout)
                    if not res.ok:
                        failures.append(f"{version} {name} {op}: {res.stderr[-2000:]}")
                        print(f"  {version} {name} {op} FAILED")
                        continue
                    sums[op] = res.data["checksums"]
                    slot = results.setdefault((version, name, op), {})
                    for metric in ("seconds", "written", "_peak"):
                        slot.setdefault(metric, C.Samples()).add(res.data[metric])
                    if op == "edit":
                        extras[(version, name)] = {"keys": res.data["keys"], "store": store_bytes}
                    print(f"  run {repeat + 1}: {version} {name:9s} {op:7s} {res.data['seconds']:7.3f} s  "
                          f"written {C.fmt_bytes(res.data['written'])}", flush=True)
                for op in ("edit", "rewrite"):  # half a GiB each: do not keep them
                    shutil.rmtree(work / f"{version.replace(' ', '-').replace('³', '')}-{name}-{op}.zarr", ignore_errors=True)
                if len(sums) == 2 and sums["edit"] != sums["rewrite"]:
                    failures.append(f"{version} {name}: the edited store differs from the rewritten one")
    rows, verdicts = [], []
    for version in LAYOUTS:
        for name in regions(args.quick):
            edit, full = results.get((version, name, "edit")), results.get((version, name, "rewrite"))
            if not edit or not full:
                continue
            rt = edit["seconds"].median / full["seconds"].median
            rb = edit["written"].median / full["written"].median
            extra = extras[(version, name)]
            rows.append([version, name, C.fmt_seconds(edit["seconds"].median), C.fmt_bytes(edit["written"].median),
                         str(extra["keys"]), C.fmt_seconds(full["seconds"].median), C.fmt_bytes(full["written"].median),
                         f"{100 * rt:.2f} %", f"{100 * rb:.2f} %"])
            verdicts.append(f"{version} {name}: time {100 * rt:.2f} % (target <= {100 * TIME_TARGET:.0f} %) "
                            f"{'PASS' if rt <= TIME_TARGET else 'FAIL'}; bytes {100 * rb:.2f} % "
                            f"(target <= {100 * BYTES_TARGET:.0f} %) {'PASS' if rb <= BYTES_TARGET else 'FAIL'}")
    table = C.markdown_table(["layout", "region", "edit time", "edit bytes", "files rewritten", "rewrite time",
                              "rewrite bytes", "time ratio", "bytes ratio"], rows)
    print(table)
    print("\n".join(verdicts))
    if failures:
        print("FAILURES:\n" + "\n".join(failures))
    if args.write_docs:
        body = (f"Measured {_dt.date.today().isoformat()} on {C.describe_machine(info)}; "
                f"`python benchmarks/bench_edit.py`, median of {args.repeats} runs.\n"
                f"A {'16' if args.quick else '64'}³ block of level 0 of the writing benchmark's pyramid "
                f"({' × '.join(map(str, shape))} uint16, 4 levels) set to a constant with `ngff.update_region`, "
                "against rewriting the whole store with `ngff.write`; bytes are the `write()` bytes of the call.\n\n"
                + table + "\n\n" + "\n".join(f"- {v}" for v in verdicts) + NOTE)
        C.update_docs_section(Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md", "Editing", body)
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
