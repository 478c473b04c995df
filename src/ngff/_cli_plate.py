"""``ngff plate ...``: high-content screening commands (registered by :mod:`ngff.cli`).

* ``ngff plate build OUTPUT FILES... --pattern "{row}{column}_f{field}_c{channel}.tif"``
  builds a plate from per-well image files (exit 0 success, 2 bad input or options).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["plate_app"]

plate_app = typer.Typer(
    name="plate",
    help="High-content screening plates.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@plate_app.command("build")
def build(
    output: Annotated[Path, typer.Argument(help="The plate to write, e.g. plate.ome.zarr.")],
    files: Annotated[list[Path], typer.Argument(help="Image files (one per well, field, channel...).")],
    pattern: Annotated[
        str,
        typer.Option(
            "--pattern",
            "-p",
            help="File name pattern with {row} {column} and optionally {field} {channel} {z} {t} "
            "{acquisition} and *, e.g. '{row}{column}_f{field}_c{channel}.tif'.",
        ),
    ],
    version: Annotated[str, typer.Option(help="OME-Zarr version to write: 0.5 or 0.4.")] = "0.5",
    name: Annotated[str | None, typer.Option(help="Plate name (default: from OUTPUT).")] = None,
    wells: Annotated[
        int | None, typer.Option("--wells", help="Standard plate size: 6, 12, 24, 48, 96, 384 or 1536.")
    ] = None,
    rows: Annotated[int | None, typer.Option(help="Number of rows (default: up to the last one seen).")] = None,
    columns: Annotated[int | None, typer.Option(help="Number of columns (default: up to the last one seen).")] = None,
    scale: Annotated[
        str | None, typer.Option(help="Pixel size per axis, e.g. y=0.65,x=0.65 (default: from the files).")
    ] = None,
    units: Annotated[str | None, typer.Option(help="Unit of the space axes, e.g. micrometer.")] = None,
    codec: Annotated[str | None, typer.Option(help="Compression, e.g. zstd:5 (default blosc-zstd).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing OUTPUT.")] = False,
) -> None:
    """Build an HCS plate from image files named by a pattern, as microscopes export them."""
    from .cli import _fail, _per_axis_option, _positive_float, _progress_bar, _reported_errors, _stdout
    from .plate_build import build_plate

    options: dict[str, object] = {}
    if scale is not None:
        options["scale"] = _per_axis_option(scale, "--scale", _positive_float)
    if units is not None:
        options["units"] = units
    if codec is not None:
        options["codec"] = codec
    if not files:
        _fail("no input files given")
    with _reported_errors(), _progress_bar("writing fields") as progress:
        plate = build_plate(
            output,
            files,
            pattern,
            rows=rows,
            columns=columns,
            wells_format=wells,
            name=name,
            version=version,
            overwrite=overwrite,
            progress=progress,
            **options,
        )
    fields = plate.metadata.field_count or 0
    _stdout().print(
        f"wrote {output}: {len(plate.rows)} × {len(plate.columns)} plate, {len(plate.wells)} well(s), "
        f"up to {fields} field(s) per well, OME-Zarr {plate.version}"
    )
