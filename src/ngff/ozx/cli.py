"""``ngff ozx``: pack a directory store into an RFC-9 ``.ozx`` archive, unpack, check.

Exit codes: 0 success; 2 when the input cannot be read or the output cannot be written
(one red line on stderr, never a traceback); ``check`` exits 1 when the archive departs
from an RFC-9 recommendation.  Registered in :mod:`ngff.cli` as a sub-app.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

__all__ = ["ozx_app"]

ozx_app = typer.Typer(
    name="ozx",
    help="RFC-9 single-file OME-Zarr (.ozx): pack, unpack, check.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(message: str) -> None:
    from rich.console import Console
    from rich.text import Text

    Console(stderr=True, highlight=False, soft_wrap=True).print(Text(f"error: {' '.join(message.split())}", style="bold red"))
    raise typer.Exit(2)


@ozx_app.command("pack")
def pack_command(
    directory: Annotated[str, typer.Argument(help="OME-Zarr 0.5 directory store.")],
    archive: Annotated[str, typer.Argument(help="Archive to write (name it *.ozx).")],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing archive.")] = False,
) -> None:
    """Pack a directory store into an .ozx archive (zarr.json first, STORED, ZIP64)."""
    from ..errors import NgffError
    from .pack import pack

    try:
        written = pack(directory, archive, overwrite=overwrite)
    except NgffError as exc:
        _fail(str(exc))
    if not str(archive).lower().endswith(".ozx"):
        typer.echo("note: RFC-9 recommends the .ozx extension", err=True)
    typer.echo(f"packed {directory} into {written} ({written.stat().st_size} bytes)")


@ozx_app.command("unpack")
def unpack_command(
    archive: Annotated[str, typer.Argument(help="The .ozx (or .zip) archive.")],
    directory: Annotated[str, typer.Argument(help="Directory store to create.")],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing directory.")] = False,
) -> None:
    """Extract an archive into a directory store (checked names, sizes and CRCs)."""
    from ..errors import NgffError
    from .pack import unpack

    try:
        written = unpack(archive, directory, overwrite=overwrite)
    except NgffError as exc:
        _fail(str(exc))
    typer.echo(f"unpacked {archive} into {written}")


@ozx_app.command("check")
def check_command(
    archive: Annotated[str, typer.Argument(help="Archive file or URL.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Parse an archive's central directory and report its RFC-9 properties."""
    from ..errors import NgffError
    from . import check_archive

    try:
        report = check_archive(archive)
    except NgffError as exc:
        _fail(str(exc))
    problems = report["problems"]
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        typer.echo(
            f"{report['location']}: {report['entries']} entries, OME-Zarr {report['version'] or '?'}, "
            f"jsonFirst {report['json_first']}, ZIP64 {report['zip64']}"
        )
        for problem in problems:
            typer.echo(f"  - {problem}")
    raise typer.Exit(1 if problems else 0)
