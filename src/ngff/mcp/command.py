"""The ``ngff mcp`` command (registered on the CLI by :mod:`ngff.cli`).

Only typer is imported here; the MCP SDK is imported when the server starts, so
``ngff --help`` stays quick and works without the ``mcp`` extra.
"""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["mcp_command"]


def mcp_command(
    root: Annotated[
        list[Path] | None,
        typer.Option(
            "--root",
            help="Folder the server may read (and with --allow-write, write) below; repeat for several. "
            "Default: the current directory.",
        ),
    ] = None,
    allow_write: Annotated[
        bool,
        typer.Option(
            "--allow-write", help="Allow the tools that write (convert, set_orientation)."
        ),
    ] = False,
    allow_remote: Annotated[
        bool, typer.Option("--allow-remote", help="Allow reading http(s)://, s3:// and other URLs.")
    ] = False,
    transport: Annotated[
        str,
        typer.Option(
            "--transport",
            help="stdio (default: for MCP clients that start the server) or http (streamable HTTP).",
        ),
    ] = "stdio",
    host: Annotated[
        str, typer.Option("--host", help="Address the HTTP transport binds to.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port of the HTTP transport.")] = 8000,
) -> None:
    """Serve ngff's tools to AI agents over the Model Context Protocol.

    Tools: info, validate, convert, thumbnail, read_region, plate_summary, well_thumbnail
    (and set_orientation when available). Needs the mcp extra of napari-ngff.
    """
    from ..errors import NgffError
    from .safety import Sandbox

    def fail(message: str) -> None:
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(2)

    if transport not in ("stdio", "http"):
        fail(f"--transport {transport!r}: expected stdio or http")
    try:
        sandbox = Sandbox.create(root or (), allow_write=allow_write, allow_remote=allow_remote)
    except NgffError as exc:
        fail(str(exc))
    try:
        from .server import build_server
    except ImportError as exc:
        fail(f"the MCP server needs the mcp extra (pip install 'napari-ngff[mcp]'): {exc}")
    server = build_server(sandbox)
    roots = ", ".join(str(r) for r in sandbox.roots)
    if any(r == Path(r.anchor) or r == Path.home().resolve() for r in sandbox.roots):
        # Clients often start servers in / or the home folder: the default root would expose it all.
        typer.echo(f"warning: the server may read everything below {roots}; pass --root", err=True)
    if transport == "stdio":
        # stdout carries the protocol; anything human goes to stderr.
        typer.echo(f"ngff MCP server on stdio; roots: {roots}", err=True)
        server.run("stdio")
        return
    if not _loopback(host):
        typer.echo(
            f"warning: binding to {host} exposes the server (and the files below {roots}) to the network",
            err=True,
        )
    typer.echo(f"ngff MCP server on http://{host}:{port}/mcp; roots: {roots}", err=True)
    sys.stderr.flush()
    server.run("streamable-http", host=host, port=port)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
