"""``ngff orient``: show or set the RFC-4 orientation of a store (registered by :mod:`ngff.cli`).

* ``ngff orient STORE`` prints each space axis' orientation and the letter code.
* ``ngff orient STORE RAS`` (or ``z=inferior-to-superior,y=A,x=R``, or ``none``) rewrites
  only the axes' orientation in the store's metadata (:func:`ngff.orientation.set_orientation`).

Exit codes: 0 success, 2 the store cannot be read or the orientation is invalid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["orient_command", "parse_orientation_argument"]


def parse_orientation_argument(text: str) -> Any:
    """``"RAS"`` stays a code; ``"z=S,y=A,x=R"`` becomes a mapping; ``"none"`` clears every axis."""
    text = text.strip()
    if text.lower() == "none":
        return "none"  # ngff orient clears every space axis; elsewhere not a valid value
    if "=" not in text:
        return text
    out: dict[str, str | None] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        value = value.strip()
        out[name.strip()] = None if value.lower() in ("", "none", "-") else value
    return out


def orient_command(
    store: Annotated[Path, typer.Argument(help="An OME-Zarr 0.4/0.5 image (local directory).")],
    orientation: Annotated[
        str | None,
        typer.Argument(
            help="A letter code (RAS, LPS, LPI ...: x, y, z point to these sides), "
            "'z=inferior-to-superior,y=A,x=R', or 'none'. Omit to show the current one."
        ),
    ] = None,
    group: Annotated[str, typer.Option("--group", help="Image group inside the store, e.g. labels/cells.")] = "",
    labels: Annotated[bool, typer.Option("--labels/--no-labels", help="Also set the image's label images.")] = True,
) -> None:
    """Show or set the RFC-4 anatomical orientation of an image's space axes."""
    from .cli import _reported_errors
    from .orientation import code_of, set_orientation

    with _reported_errors():
        if orientation is None:
            from .reader import read_image
            from .store import open_store

            image = read_image(open_store(store), group)
        else:
            value = parse_orientation_argument(orientation)
            if value == "none":
                from .reader import read_image
                from .store import open_store

                current = read_image(open_store(store), group)
                value = {a.name: None for a in current.axes if a.type == "space"}
            image = set_orientation(store, value, path=group, labels=labels)
    for axis in image.axes:
        if axis.type == "space":
            typer.echo(f"{axis.name}: {axis.orientation or '-'}")
    typer.echo(f"code: {code_of(image.axes) or '-'}")
