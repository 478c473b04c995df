"""The ``ngff`` command line: ``info``, ``validate``, ``convert`` and ``demo``.

Human output is drawn with rich; ``--json`` prints exactly one JSON object on stdout and
nothing else, so the output can be piped into ``jq`` or read by programs.  Errors are
one red line on stderr — never a traceback — and exit codes are stable:

* ``info``: 0 success, 2 the location cannot be read or is not OME-Zarr.
* ``validate``: 0 valid, 1 invalid, 2 the location cannot be read.
* ``convert``: 0 success, 2 the input cannot be read or an option is invalid
  (130 when interrupted; the destination is then left as it was).
* ``demo``: 0 success, 2 the sample could not be written.

Only typer and rich are imported at module level; numpy, dask and zarr are imported by
the commands that need them, so ``ngff --help`` stays quick.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import rich.box
import typer
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from . import __version__
from .errors import NgffError

__all__ = ["app", "main"]

app = typer.Typer(
    name="ngff",
    help="Inspect, validate and create OME-Zarr (OME-NGFF 0.1-0.5) data.",
    no_args_is_help=True,
    add_completion=False,
    # A crash in ngff is a bug: show a plain traceback, not rich's multi-page one.
    pretty_exceptions_enable=False,
)

#: Exit code when the location cannot be read (or, for ``demo``, written).
EXIT_UNREADABLE = 2
#: Exit code of ``validate`` when the data breaks a rule.
EXIT_INVALID = 1

from .samples import DEMO_CHANNELS, DEMO_LABEL_COLORS, DEMO_SCALE  # noqa: E402  (no numpy at import)


def _stdout() -> Console:
    # Created per call so that the console follows a redirected sys.stdout (tests, pipes).
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # Piped output has no width to respect; rich's 80-column default would squeeze tables.
        console.width = 160
    return console


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(message: str, code: int = EXIT_UNREADABLE) -> NoReturn:
    """Print one red error line on stderr and exit with ``code``."""
    one_line = " ".join(message.split())  # a message from deep inside may hold newlines
    _stderr().print(Text(f"error: {one_line}", style="bold red"))
    raise typer.Exit(code)


@contextmanager
def _reported_errors() -> Iterator[None]:
    """Turn ngff and OS errors into a one-line message and exit code 2."""
    try:
        yield
    except NgffError as exc:
        _fail(str(exc))
    except OSError as exc:  # e.g. permission denied while walking a store
        _fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))


def _print_json(document: Any) -> None:
    # Plain print, not rich: rich would wrap long lines and colour the text.
    sys.stdout.write(json.dumps(document, indent=2, allow_nan=False) + "\n")


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"ngff {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Print the ngff version and exit.",
        ),
    ] = False,
) -> None:
    """Inspect, validate and create OME-Zarr (OME-NGFF 0.1-0.5) data."""


# --------------------------------------------------------------------------- info


@app.command()
def info(
    path: Annotated[str, typer.Argument(help="Directory store, .ozx/.zip file or URL.")],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON object.")
    ] = False,
    size: Annotated[
        bool,
        typer.Option("--size/--no-size", help="Add up the bytes stored (walks a local store)."),
    ] = True,
) -> None:
    """Describe an OME-Zarr image, label, plate, well or collection (reads no pixels)."""
    from .summary import summarize

    with _reported_errors():
        summary = summarize(path, measure=size)
    if json_output:
        _print_json(summary)
    else:
        _stdout().print(render_summary(summary))


def render_summary(summary: Mapping[str, Any]) -> RenderableType:
    """Rich renderable of a :func:`ngff.summary.summarize` result."""
    parts: list[RenderableType] = [_headline(summary)]
    if summary.get("axes"):
        parts.append(_axes_table(summary["axes"]))
    if summary.get("levels"):
        parts.append(_levels_table(summary["levels"], summary.get("dims") or []))
    if summary.get("channels"):
        parts.append(_channels_table(summary["channels"]))
    if summary.get("labels"):
        parts.append(_labels_table(summary["labels"]))
    if summary.get("image_label"):
        meta = summary["image_label"]
        parts.append(
            Text(
                f"label colours: {meta['colors']}   properties: {meta['properties']}"
                f"   source: {meta['source']}"
            )
        )
    if summary.get("plate"):
        parts.append(_plate_view(summary["plate"]))
    if summary.get("well"):
        parts.append(_well_view(summary["well"]))
    if summary.get("collection"):
        parts.append(_collection_view(summary["collection"]))
    parts.append(_footer(summary))
    return Group(*parts)


def _headline(summary: Mapping[str, Any]) -> Text:
    text = Text()
    text.append(str(summary["kind"]), style="bold cyan")
    text.append(f"  OME-Zarr {summary['version']}", style="bold")
    if summary.get("name"):
        text.append(f"  {summary['name']!r}")
    text.append("\n")
    location = str(summary["location"])
    if summary.get("path"):
        location = f"{location.rstrip('/')}/{summary['path']}"
    text.append(location, style="dim")
    return text


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=rich.box.SIMPLE_HEAD)
    for column in columns:
        table.add_column(column)
    return table


def _axes_table(axes: Sequence[Mapping[str, Any]]) -> Table:
    table = _table("Axes", "name", "type", "unit", "orientation")
    for axis in axes:
        table.add_row(*(_cell(axis.get(k)) for k in ("name", "type", "unit", "orientation")))
    return table


def _levels_table(levels: Sequence[Mapping[str, Any]], dims: Sequence[str]) -> Table:
    header = f" ({', '.join(dims)})" if dims else ""
    # Columns that say nothing (no level sharded, no level shifted) are left out to save width.
    sharded = any(level.get("shards") for level in levels)
    shifted = any(any(level.get("translation") or ()) for level in levels)
    columns = ["path", "shape", "dtype", "chunks"] + ["shards"] * sharded + ["codecs", "scale"]
    table = _table(f"Levels{header}", *columns, *["translation"] * shifted)
    for level in levels:
        codecs = level.get("codecs")
        row = [
            _cell(level["path"]),
            _shape(level.get("shape")),
            _cell(level.get("dtype")),
            _shape(level.get("chunks")),
        ]
        if sharded:
            row.append(_shape(level.get("shards")))
        row += [
            Text(", ".join(codecs) if codecs else "-", overflow="fold"),
            _vector(level.get("scale")),
        ]
        if shifted:
            row.append(_vector(level.get("translation")))
        table.add_row(*row)
    return table


def _channels_table(channels: Sequence[Mapping[str, Any]]) -> Table:
    table = _table("Channels", "#", "label", "color", "window (start-end of min-max)", "active")
    for i, channel in enumerate(channels):
        color = channel.get("color")
        swatch = Text(f"■ {color}", style=f"#{color}") if _is_hex_colour(color) else _cell(color)
        window = channel.get("window")
        window_text = (
            f"{_num(window['start'])}-{_num(window['end'])}"
            f" of {_num(window['min'])}-{_num(window['max'])}"
            if window
            else "-"
        )
        table.add_row(
            str(i),
            _cell(channel.get("label")),
            swatch,
            window_text,
            "yes" if channel.get("active") else "no",
        )
    return table


def _labels_table(labels: Mapping[str, Any]) -> RenderableType:
    if "error" in labels and not isinstance(labels["error"], Mapping):
        return Text(f"labels: {labels['error']}", style="red")
    table = _table("Labels", "name", "dims", "shape", "dtype", "levels", "colours")
    for name, label in labels.items():
        if "error" in label:
            table.add_row(_cell(name), Text(label["error"], style="red"), "", "", "", "")
            continue
        table.add_row(
            _cell(name),
            ",".join(label["dims"]),
            _shape(label["shape"]),
            label["dtype"],
            str(label["levels"]),
            str(label["colors"]),
        )
    return table


def _plate_view(plate: Mapping[str, Any]) -> RenderableType:
    rows, columns = plate["rows"], plate["columns"]
    lines = Text()
    lines.append("Plate", style="bold")
    if plate.get("name"):
        lines.append(f" {plate['name']!r}")
    lines.append(
        f"\n{len(rows)} rows × {len(columns)} columns, "
        f"{plate['wells']} of {len(rows) * len(columns)} wells present"
    )
    fields = plate.get("fields_per_well")
    first = plate.get("first_well") or {}
    if fields is not None:
        lines.append(f", {fields} field(s) per well (from well {first.get('path')})")
    if plate.get("field_count") is not None:
        lines.append(f", field_count {plate['field_count']}")
    if first.get("image"):
        image = first["image"]
        shape = " × ".join(f"{d} {n}" for d, n in zip(image["dims"], image["shape"]))
        lines.append(f"\nfield image: {shape}, {image['dtype']}, {image['levels']} level(s)")
        if any(image.get("channels") or []):
            lines.append(", channels " + ", ".join(str(c) for c in image["channels"]))
    if first.get("error"):
        lines.append(f"\nfirst well {first.get('path')}: {first['error']}", style="red")
    parts: list[RenderableType] = [lines]
    if columns and len(columns) <= 48:  # a 1536-well plate still fits a wide terminal
        parts.append(_plate_grid(rows, columns, plate["well_paths"]))
    if plate.get("acquisitions"):
        table = _table("Acquisitions", "id", "name", "max fields", "start", "end", "description")
        for acq in plate["acquisitions"]:
            table.add_row(
                str(acq["id"]),
                _cell(acq.get("name")),
                _cell(acq.get("maximum_field_count")),
                _cell(acq.get("start_time")),
                _cell(acq.get("end_time")),
                _cell(acq.get("description")),
            )
        parts.append(table)
    return Group(*parts)


def _plate_grid(rows: Sequence[str], columns: Sequence[str], well_paths: Sequence[str]) -> Text:
    present = {tuple(p.split("/")[-2:]) for p in well_paths}
    width = max(len(c) for c in columns)
    label_width = max(len(r) for r in rows) if rows else 1
    grid = Text(
        " " * (label_width + 1) + " ".join(c.rjust(width) for c in columns) + "\n", style="dim"
    )
    for row in rows:
        grid.append(row.rjust(label_width) + " ", style="dim")
        for column in columns:
            mark = "●" if (row, column) in present else "·"
            grid.append(mark.rjust(width) + " ", style="green" if mark == "●" else "dim")
        grid.append("\n")
    return grid


def _well_view(well: Mapping[str, Any]) -> Text:
    text = Text()
    text.append("Well", style="bold")
    text.append(f"\n{well['fields']} field(s): {', '.join(well['field_paths'])}")
    if well.get("acquisitions"):
        text.append(f"\nacquisitions: {', '.join(str(a) for a in well['acquisitions'])}")
    return text


def _collection_view(collection: Mapping[str, Any]) -> RenderableType:
    kind = collection.get("type") or "collection"
    text = Text()
    text.append(f"Collection ({kind})", style="bold")
    series = collection.get("series") or []
    text.append(f"\n{len(series)} image(s): {', '.join(series) if series else '-'}")
    if collection.get("plate"):
        return Group(text, _plate_view(collection["plate"]))
    return text


def _footer(summary: Mapping[str, Any]) -> Text:
    text = Text()
    if summary.get("orientation_code"):
        text.append(f"orientation: {summary['orientation_code']}\n")
    size = summary.get("bytes_on_disk")
    text.append("bytes on disk: ")
    text.append(_bytes(size) if size is not None else "unknown", style="bold")
    return text


def _cell(value: Any) -> Text:
    # Text (not markup) because names and paths may contain "[...]".
    return Text("-" if value is None else str(value))


def _shape(values: Sequence[Any] | None) -> Text:
    # "64×256×256" keeps the many shape columns of the levels table narrow.
    return Text("-" if values is None else "×".join(_num(v) for v in values))


def _vector(values: Sequence[Any] | None) -> Text:
    return Text("-" if values is None else ", ".join(_num(v) for v in values))


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _bytes(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size:,} bytes" if unit == "bytes" else f"{value:.1f} {unit} ({size:,} bytes)"
        value /= 1024
    raise AssertionError("unreachable")


def _is_hex_colour(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value) == 6
        and all(c in "0123456789abcdefABCDEF" for c in value)
    )


# --------------------------------------------------------------------------- validate


@app.command()
def validate(
    path: Annotated[str, typer.Argument(help="Directory store, .ozx/.zip file or URL.")],
    strict: Annotated[
        bool, typer.Option("--strict", help="Treat SHOULD rules (warnings) as errors.")
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the report as one JSON object.")
    ] = False,
    schemas: Annotated[
        Path | None,
        typer.Option(
            "--schemas",
            help="Directory of OME-Zarr JSON schemas to use instead of the bundled ones.",
        ),
    ] = None,
) -> None:
    """Check a location against the OME-Zarr specification.

    Exit code 0 when valid, 1 when invalid, 2 when the location cannot be read.
    """
    from .store import open_store

    with _reported_errors():
        # Opening first separates "cannot be read" (exit 2) from "breaks a rule" (exit 1).
        open_store(path)
        from . import validate as run_validation

        report = run_validation(path, strict=strict, schemas=schemas)
    if json_output:
        _print_json(report.to_dict())
    else:
        _stdout().print(render_report(report, path))
    if not report.ok:
        raise typer.Exit(EXIT_INVALID)


_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render_report(report: Any, location: str) -> RenderableType:
    """Rich renderable of a validation :class:`~ngff.Report`."""
    problems = list(report.problems)
    parts: list[RenderableType] = []
    if problems:
        table = _table("Problems", "severity", "path", "rule", "message")
        for problem in problems:
            severity = str(problem.severity)
            table.add_row(
                Text(severity, style=_SEVERITY_STYLE.get(severity, "")),
                _cell(problem.path or "/"),
                _cell(problem.rule),
                _cell(problem.message),
            )
        parts.append(table)
    counts: dict[str, int] = {}
    for problem in problems:
        counts[str(problem.severity)] = counts.get(str(problem.severity), 0) + 1
    tally = ", ".join(f"{n} {severity}{'s' if n != 1 else ''}" for severity, n in counts.items())
    if report.ok:
        verdict = Text(f"✓ valid: {location}", style="bold green")
    else:
        verdict = Text(f"✗ invalid: {location}", style="bold red")
    # version and kind are extras of ngff's Report; other report objects may lack them.
    version, kind = getattr(report, "version", None), getattr(report, "kind", None)
    if version or kind:
        verdict.append(f"  OME-Zarr {version or '?'} {kind or ''}".rstrip(), style="")
    if tally:
        verdict.append(f"  ({tally})", style="")
    parts.append(verdict)
    return Group(*parts)


# --------------------------------------------------------------------------- convert


@app.command()
def convert(
    input: Annotated[
        Path,
        typer.Argument(
            help="Image file (.npy, TIFF, OME-TIFF, ImageJ, PNG/JPEG/BMP/GIF, vendor formats via bioio) "
            "or a quoted glob pattern of TIFF planes."
        ),
    ],
    output: Annotated[Path, typer.Argument(help="Destination store, e.g. image.ome.zarr.")],
    version: Annotated[
        str,
        typer.Option(
            "--version", help="OME-Zarr version to write: 0.5 (Zarr v3) or 0.4 (Zarr v2)."
        ),
    ] = "0.5",
    chunks: Annotated[
        str | None,
        typer.Option(
            "--chunks",
            help=(
                "Chunk shape: 64 (every space axis), z=32,y=256,x=256, one size per axis (1,32,256,256), "
                "or planes (made for viewing planes remotely; the default for .ozx outputs)."
            ),
        ),
    ] = None,
    shards: Annotated[
        str | None,
        typer.Option(
            "--shards",
            help="0.5 only: chunks per shard - auto, 4 (space axes), z=1,y=4,x=4 or one per axis.",
        ),
    ] = None,
    codec: Annotated[
        str | None,
        typer.Option(
            "--codec", help="blosc-zstd (default), blosc-lz4, zstd, gzip, lz4 or none; e.g. zstd:7."
        ),
    ] = None,
    method: Annotated[
        str | None,
        typer.Option(
            "--method", help="Downsampling: gaussian (default), mean, nearest, mode, min or max."
        ),
    ] = None,
    levels: Annotated[
        int | None,
        typer.Option(
            "--levels",
            help="Number of pyramid levels (N-1 halvings of the space axes, sparing coarse or "
            "exhausted ones). Default: halve until a level fits one chunk.",
        ),
    ] = None,
    dims: Annotated[
        str | None,
        typer.Option(
            "--dims",
            help="Names of the input's axes in stored order, e.g. czyx or zcyx (transposed to OME-Zarr order).",
        ),
    ] = None,
    scale: Annotated[
        str | None,
        typer.Option("--scale", help="Pixel size: 0.5 (every space axis) or z=2,y=0.5,x=0.5."),
    ] = None,
    units: Annotated[
        str | None,
        typer.Option(
            "--units", help="Units: micrometer (every space axis) or z=micrometer,t=second."
        ),
    ] = None,
    series: Annotated[
        str | None,
        typer.Option(
            "--series", help="Image series of a multi-series file (0, 1, ...) or 'all' (a collection). "
            "Default: the whole plate of an OME-TIFF plate file (an HCS plate), else series 0."
        ),
    ] = None,
    reader: Annotated[
        str | None,
        typer.Option("--reader", help="Force a reader: npy, tiff, imageio, bioio (default: by content and extension)."),
    ] = None,
    backend: Annotated[
        str, typer.Option("--backend", help="Array writer: zarr (default) or tensorstore.")
    ] = "zarr",
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Run on a dask.distributed scheduler, e.g. tcp://HOST:8786."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Run on a new LocalCluster of N worker processes."),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Name of the image (default: from the file).")
    ] = None,
    orientation: Annotated[
        str | None,
        typer.Option(
            "--orientation",
            help="RFC-4 anatomical orientation: RAS, LPS, LPI ... (x, y, z point to these sides) or "
            "z=inferior-to-superior,y=A,x=R (default: from the file's direction matrix for NIfTI/NRRD/MHA).",
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace OUTPUT if it exists.")
    ] = False,
) -> None:
    """Convert an image file (or a glob series of TIFF planes) to an OME-Zarr image, or every series to a collection.

    Exit code 0 on success, 2 when the input cannot be read or an option is invalid (nothing is written then). The store appears at OUTPUT only once complete.
    """
    if levels is not None and levels < 1:
        _fail(f"--levels {levels}: expected a positive number of levels (1: no downsampling)")
    if series is not None and series.strip().lower() != "all" and not (series.strip().isdigit()):
        _fail(f"--series {series}: expected a series index (0, 1, ...) or all")
    if workers is not None and workers < 1:
        _fail(f"--workers {workers}: expected a positive number of worker processes")
    from .convert.registry import is_pattern

    if not input.exists() and not is_pattern(str(input)):
        _fail(f"{input}: no such file")
    from .convert.remote import url_from_path

    target: Any = url_from_path(output) or output  # s3://... (Path folds the double slash)
    if target is output and (output.exists() or output.is_symlink()) and not overwrite:
        _fail(f"{output}: the destination exists; pass --overwrite to replace it")
    options: dict[str, Any] = {"version": version, "overwrite": overwrite}
    if chunks is not None:
        options["chunks"] = "planes" if chunks.strip().lower() == "planes" else _per_axis_option(chunks, "--chunks", _positive_int)
    if shards is not None:
        options["shards"] = (
            "auto"
            if shards.strip().lower() == "auto"
            else _per_axis_option(shards, "--shards", _positive_int)
        )
    if codec is not None:
        options["codec"] = codec
    if method is not None:
        options["method"] = method
    if name is not None:
        options["name"] = name
    if orientation is not None:  # RFC-4 (ngff.orientation); checked by ngff.write before writing
        options["orientation"] = __import__("ngff._cli_orientation", fromlist=["x"]).parse_orientation_argument(orientation)
    scale_value = _per_axis_option(scale, "--scale", _positive_float) if scale is not None else None
    units_value = _per_axis_option(units, "--units", _unit_name) if units is not None else None
    from .convert import convert as run_convert

    before = _identity(output)
    try:
        from .convert.cluster import cluster_client

        with _reported_errors(), cluster_client(scheduler, workers), _progress_bar(
            f"converting {input.name}"
        ) as progress:
            image = run_convert(
                input,
                target,
                series=None if series is None else series if series.strip().lower() == "all" else int(series),
                reader=reader,
                backend=backend,
                dims=dims,
                scale=scale_value,
                units=units_value,
                levels=levels,
                progress=progress,
                **options,
            )
    except KeyboardInterrupt:
        _fail(_interrupted_message(output, before), code=130)
    if hasattr(image, "wells"):  # a plate file: an HCS plate
        _stdout().print(
            Text.assemble(("✓ wrote ", "bold green"), (str(target), "bold"),
                          f": OME-Zarr {image.version} plate of {len(image.rows)}×{len(image.columns)}, "
                          f"{len(image.wells)} wells")
        )
        return
    if not hasattr(image, "levels"):  # --series all: a collection
        _stdout().print(
            Text.assemble(("✓ wrote ", "bold green"), (str(target), "bold"),
                          f": OME-Zarr {image.version} collection of {len(image.images)} series")
        )
        return
    shapes = ", ".join("×".join(str(n) for n in level.shape) for level in image.levels)
    _stdout().print(
        Text.assemble(
            ("✓ wrote ", "bold green"),
            (str(target), "bold"),
            f": OME-Zarr {image.version}, {''.join(image.dims) if all(len(d) == 1 for d in image.dims) else image.dims} "
            f"{image.dtype}, {len(image.levels)} level{'s' * (len(image.levels) != 1)} ({shapes})",
        )
    )


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of ``path``, or None when it does not exist."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _interrupted_message(output: Path, before: tuple[int, int] | None) -> str:
    """What an interrupted conversion left at ``output`` (the writer swaps stores whole)."""
    after = _identity(output)
    if after is None:
        return f"interrupted; nothing was written to {output}"
    if after == before:
        return f"interrupted; {output} was left as it was"
    return f"interrupted after the conversion completed; {output} is complete"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def _positive_float(text: str) -> float:
    import math

    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(text)
    return value


def _unit_name(text: str) -> str:
    if not text or not all(c.isalpha() or c in "µμ" for c in text):
        raise ValueError(text)
    return text


_OPTION_FORMS = {
    "--chunks": "positive integers: 64, z=32,y=256,x=256 or 1,32,256,256",
    "--shards": "auto or positive integers: 4, z=1,y=4,x=4 or 1,1,4,4",
    "--scale": "positive numbers: 0.5, z=2,y=0.5,x=0.5 or 1,2,0.5,0.5",
    "--units": "unit names: micrometer or z=micrometer,t=second",
}


def _per_axis_option(text: str, option: str, cast: Callable[[str], Any]) -> Any:
    """``"64"`` -> 64, ``"z=32,y=256"`` -> ``{"z": 32, "y": 256}``, ``"1,32,32"`` -> ``[1, 32, 32]``."""
    parts = [part.strip() for part in text.split(",")]
    try:
        if any("=" in part for part in parts):
            mapping: dict[str, Any] = {}
            for part in parts:
                axis, sep, value = (s.strip() for s in part.partition("="))
                if not sep or not axis or axis in mapping:
                    raise ValueError(part)
                mapping[axis] = cast(value)
            return mapping
        if len(parts) == 1:
            return cast(parts[0])
        return [cast(part) for part in parts]
    except ValueError:
        _fail(f"{option} {text!r}: expected {_OPTION_FORMS[option]}")


# --------------------------------------------------------------------------- demo


@app.command()
def demo(
    output_dir: Annotated[
        Path, typer.Argument(help="Folder to write demo.ome.zarr into (replaced if it exists).")
    ] = Path("demo_output"),
    napari: Annotated[
        bool | None,
        typer.Option(
            "--napari/--headless",
            help="Open the result in napari "
            "(default: when a display, napari and the plugin's reader are available).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        str, typer.Option("--version", help="OME-Zarr version to write (0.4 or 0.5).")
    ] = "0.5",
    shape: Annotated[
        str, typer.Option("--shape", help="z,y,x size of the synthetic volume.")
    ] = "64,256,256",
    screenshot: Annotated[
        Path | None,
        typer.Option(
            "--screenshot",
            help="With --napari: save what the viewer renders to this PNG, list the layers, and exit.",
        ),
    ] = None,
) -> None:
    """Write a synthetic 3-channel 3-D pyramid with "cells" labels and a small HCS plate; show them."""
    size = _parse_shape(shape)
    target = output_dir / "demo.ome.zarr"
    plate_target = output_dir / "plate.ome.zarr"
    with _reported_errors(), _progress_bar(f"writing {target}") as progress:
        write_demo(target, version=version, shape=size, progress=progress)
    with _reported_errors(), _progress_bar(f"writing {plate_target}") as progress:
        write_demo_plate(plate_target, version=version, progress=progress)
    with _reported_errors():
        from .summary import summarize

        summaries = [summarize(target), summarize(plate_target)]
    for summary in summaries:
        _stdout().print(render_summary(summary))
    open_viewer = napari_available() if napari is None else napari
    if open_viewer and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        _fail("--napari needs a display (no DISPLAY is set): run under xvfb-run, or use --headless", code=2)
    if open_viewer:
        with _reported_errors():
            open_in_napari([target, plate_target], screenshot=screenshot)
    elif screenshot is not None:
        _fail("--screenshot needs napari: pass --napari (and have a display)", code=2)


def _parse_shape(text: str) -> tuple[int, int, int]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or min(values) < 1:
        raise typer.BadParameter(
            f"expected three positive integers like 64,256,256, got {text!r}", param_hint="--shape"
        )
    return values  # type: ignore[return-value]


@contextmanager
def _progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback drawing a rich bar on stderr (terminals only)."""
    from rich.progress import Progress

    console = _stderr()
    with Progress(console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def write_demo(
    target: Path,
    *,
    version: str = "0.5",
    shape: tuple[int, int, int] = (64, 256, 256),
    progress: Callable[[int, int], None] | None = None,
) -> Any:
    """Write the demo sample (synthetic volume + "cells" label) to ``target``.

    Returns
    -------
    ngff.Image
        The written image.
    """
    from .samples import synthetic_labels, synthetic_volume
    from .writer import write, write_labels

    target.parent.mkdir(parents=True, exist_ok=True)
    image = write(
        synthetic_volume(shape, channels=len(DEMO_CHANNELS)),
        target,
        dims=("c", "z", "y", "x"),
        scale=dict(DEMO_SCALE),
        units={axis: "micrometer" for axis in DEMO_SCALE},
        name="demo",
        channels=[{"label": label, "color": color} for label, color in DEMO_CHANNELS],
        version=version,
        overwrite=True,
        progress=progress,
    )
    cells = synthetic_labels(shape)
    colors = {
        value: DEMO_LABEL_COLORS[(value - 1) % len(DEMO_LABEL_COLORS)]
        for value in range(1, int(cells.max()) + 1)
    }
    write_labels(target, "cells", cells, colors=colors, progress=progress)
    return image


def napari_available() -> bool:
    """True when ``demo`` should open napari by default.

    That needs a display, an importable napari, no CI, and a reader contribution in the
    plugin manifest (without it napari could not open the store through our plugin).
    Nothing is imported: napari takes seconds to import.
    """
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        return False
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    if importlib.util.find_spec("napari") is None:
        return False
    return _plugin_has_reader()


def _plugin_has_reader() -> bool:
    spec = importlib.util.find_spec("napari_ngff")
    if spec is None or not spec.submodule_search_locations:
        return False
    for folder in spec.submodule_search_locations:
        manifest = Path(folder) / "napari.yaml"
        try:
            text = manifest.read_text(encoding="utf-8")
        except OSError:
            continue
        if _manifest_has_reader(text):
            return True
    return False


def _manifest_has_reader(text: str) -> bool:
    """True when an npe2 manifest's text declares a ``readers`` contribution."""
    # A text check, not YAML parsing: a "readers:" key line is unambiguous in a manifest.
    return any(line.strip().startswith("readers:") for line in text.splitlines())


def open_in_napari(paths: Sequence[Path], *, screenshot: Path | None = None) -> None:
    """Open each of ``paths`` in its own napari viewer through the napari-ngff reader.

    Runs the event loop until the windows are closed; with ``screenshot``, renders one
    frame of each viewer into a PNG instead (``screenshot``, then ``<stem>-2.png`` …),
    prints the layers and returns.
    """
    import napari  # deliberately local: napari (and Qt) are optional and slow to import

    viewers = []
    for path in paths:
        viewer = napari.Viewer(title=f"napari-ngff: {path.name}")  # shown: a hidden canvas renders black
        viewer.open(str(path), plugin="napari-ngff")
        viewers.append(viewer)
    if screenshot is None:
        napari.run()
        return
    for k, (path, viewer) in enumerate(zip(paths, viewers)):
        shot = screenshot if k == 0 else screenshot.with_name(f"{screenshot.stem}-{k + 1}{screenshot.suffix}")
        viewer.window.resize(1200, 800)
        viewer.reset_view()  # docked widgets took canvas room after the first fit
        viewer.screenshot(str(shot), canvas_only=True, flash=False)
        _stdout().print(f"viewer {path.name}: screenshot {shot}")
        for layer in viewer.layers:
            levels = len(layer.data) if getattr(layer, "multiscale", False) else 1
            _stdout().print(
                f"layer {layer.name!r}: {type(layer).__name__}, {levels} level(s), visible={layer.visible}"
            )
    for viewer in viewers:
        viewer.close()


def write_demo_plate(
    target: Path,
    *,
    version: str = "0.5",
    field_shape: tuple[int, int] = (128, 128),
    progress: Callable[[int, int], None] | None = None,
) -> Any:
    """Write the demo HCS plate to ``target``: rows A-B, columns 1-3, well B/3 missing, 2 fields.

    Returns
    -------
    ngff.Plate
        The written plate.
    """
    from .hcs import write_plate, write_well_image
    from .reader import read
    from .samples import DEMO_PLATE_CHANNELS, synthetic_field

    wells = [(r, c) for r in range(2) for c in range(3) if (r, c) != (1, 2)]
    write_plate(target, rows=2, columns=3, wells=wells, name="demo plate", version=version, overwrite=True)
    fields = 2
    total = len(wells) * fields
    for done, ((r, c), f) in enumerate(((w, f) for w in wells for f in range(fields)), start=1):
        write_well_image(
            target,
            r,
            c,
            f,
            synthetic_field(r, c, f, field_shape),
            dims=("c", "y", "x"),
            scale={"y": 0.65, "x": 0.65},
            units={"y": "micrometer", "x": "micrometer"},
            channels=[{"label": label, "color": color} for label, color in DEMO_PLATE_CHANNELS],
        )
        if progress is not None:
            progress(done, total)
    return read(target)


# `ngff mcp`: the command module imports only typer; the MCP SDK loads when the server starts.
app.command("mcp")(__import__("ngff.mcp.command", fromlist=["mcp_command"]).mcp_command)
app.add_typer(__import__("ngff._cli_plate", fromlist=["plate_app"]).plate_app, name="plate")
app.add_typer(__import__("ngff.ozx.cli", fromlist=["ozx_app"]).ozx_app, name="ozx")
app.command("recover")(__import__("ngff._cli_edit", fromlist=["recover_command"]).recover_command)
app.command("orient")(__import__("ngff._cli_orientation", fromlist=["orient_command"]).orient_command)


def main() -> None:
    """Entry point of the ``ngff`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
