"""``ngff recover``: finish (or undo) an update that was interrupted.

Exit codes: 0 when the store is consistent afterwards (something was completed or
rolled back, or nothing was pending); 2 when the store cannot be read or written, or
another writer holds it (one red line on stderr).  Registered in :mod:`ngff.cli`.
"""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["recover_command"]

_OUTCOMES = {
    "completed": "completed an interrupted update: every chunk it staged is in place",
    "rolled back": "removed the staged files of an update interrupted before it committed; the store is as before",
    None: "nothing to recover",
}


def recover_command(
    location: Annotated[str, typer.Argument(help="The store (directory, .zarr path or URL).")],
) -> None:
    """Complete or undo an interrupted update_region / write_labels of a store."""
    from .errors import NgffError
    from .update import recover

    try:
        outcome = recover(location)
    except NgffError as exc:
        from rich.console import Console
        from rich.text import Text

        Console(stderr=True, highlight=False, soft_wrap=True).print(Text(f"error: {exc}", style="bold red"))
        raise typer.Exit(2) from None
    typer.echo(f"{location}: {_OUTCOMES.get(outcome, outcome)}")
