"""The MCP server: the tools of :mod:`ngff.mcp.tools` on the official ``mcp`` SDK.

Each tool is an ``async`` function whose typed parameters become the tool's input
schema and whose return type its output schema; the blocking work runs on a worker
thread, so the server keeps answering (pings, cancellations, other calls) meanwhile.
Every failure is returned as a tool error (``isError: true`` with a message naming the
location and the rule broken); nothing a caller sends can stop the server.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import anyio
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, ImageContent, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from .. import __version__
from . import tools
from .safety import Sandbox

__all__ = ["TOOL_NAMES", "build_server"]

logger = logging.getLogger("ngff.mcp")

T = TypeVar("T")

#: Every tool the server offers.
TOOL_NAMES = (
    "list_data",
    "info",
    "validate",
    "convert",
    "thumbnail",
    "read_region",
    "plate_summary",
    "well_thumbnail",
    "set_orientation",
)

_INSTRUCTIONS = """\
Inspect, validate, convert and look at OME-Zarr (OME-NGFF 0.1-0.5) images and HCS plates.
Locations are paths below the server's root folders (relative paths start at the first
root), .ozx files, or - when the server allows it - URLs. `list_data` shows what stores and
image files there are. Then use `info` to learn the
axes, levels, channels and labels; `thumbnail` shows a plane, `read_region` gives numbers.
For plates, `plate_summary` lists the wells and `well_thumbnail` shows a field of one.
"""


# --------------------------------------------------------------------------- output types


class Problem(BaseModel):
    """One broken rule of the OME-Zarr specification."""

    path: str = Field(
        description="Where: JSON path in the metadata and/or store key ('' for the whole node)."
    )
    rule: str = Field(description="Stable identifier of the rule, e.g. 'axes.order'.")
    message: str = Field(description="What is wrong, with the spec quote it comes from.")
    severity: Literal["error", "warning"] = Field(
        description="'error' (MUST) or 'warning' (SHOULD)."
    )


class DataEntry(BaseModel):
    path: str = Field(
        description="Location to pass to the other tools (relative to the first root when below it)."
    )
    type: Literal["zarr", "ozx", "image-file"] = Field(
        description="'zarr': a Zarr store or group; 'ozx': a zipped OME-Zarr; 'image-file': a file `convert` can read."
    )
    kind: str | None = Field(
        default=None,
        description="For zarr: image, label, plate, well, collection or labels (None: no OME metadata).",
    )
    version: str | None = Field(
        default=None, description="For zarr: the OME-Zarr version its metadata states."
    )


class DataListing(BaseModel):
    """What a folder holds."""

    folder: str = Field(description="The folder listed.")
    entries: list[DataEntry] = Field(
        description="Stores and image files found, in name order (folders first-come)."
    )
    truncated: bool = Field(description="True when more entries exist than the limit.")
    links_outside_skipped: int = Field(
        description="Symlinks left out because they lead outside the roots."
    )


class ValidationReport(BaseModel):
    """Outcome of validating a store (the same as `ngff validate --json`)."""

    ok: bool = Field(description="True when no problem has error severity.")
    version: str | None = Field(description="OME-Zarr version checked against.")
    kind: str | None = Field(
        description="Node kind at the top: image, label, plate, well, collection..."
    )
    problems: list[Problem] = Field(description="Every problem found.")


class ConvertResult(BaseModel):
    """What `convert` wrote."""

    output: str = Field(description="Resolved path of the written store.")
    version: str = Field(description="OME-Zarr version written.")
    dims: list[str] = Field(description="Axis names in stored order.")
    dtype: str = Field(description="Pixel data type.")
    levels: list[list[int]] = Field(
        description="Shape of every pyramid level, full resolution first."
    )
    chunks: list[int] = Field(description="Chunk shape of level 0 (inner chunks when sharded).")


class Histogram(BaseModel):
    counts: list[int] = Field(description="Number of finite values in each bin.")
    edges: list[float] = Field(description="Bin edges (one more than counts), from min to max.")


class RegionStatistics(BaseModel):
    """Statistics of a region of one pyramid level."""

    level: int = Field(description="Pyramid level read.")
    dims: list[str] = Field(
        description="Axes kept in the region (axes given a single index are dropped)."
    )
    shape: list[int] = Field(description="Shape of the region.")
    dtype: str = Field(description="Pixel data type.")
    selection: dict[str, int | str] = Field(description="Index or start:stop[:step] used per axis.")
    min: float | None = Field(description="Smallest finite value (None when there is none).")
    max: float | None = Field(description="Largest finite value.")
    mean: float | None = Field(description="Mean of the finite values.")
    std: float | None = Field(description="Standard deviation of the finite values.")
    nan_count: int = Field(description="Number of NaN or infinite values.")
    histogram: Histogram = Field(description="Histogram of the finite values.")
    values: Any = Field(
        description="The values as nested lists (row-major over dims), or None when the region has more than max_values elements."
    )


class WellEntry(BaseModel):
    row: str | None = Field(description="Row name, e.g. 'B'.")
    column: str | None = Field(description="Column name, e.g. '3'.")
    path: str = Field(description="Path of the well group inside the plate, e.g. 'B/3'.")


class FirstWell(BaseModel):
    path: str = Field(description="Path of the first well listed.")
    fields: int | None = Field(default=None, description="Number of fields of view in it.")
    field_paths: list[str] | None = Field(default=None, description="Paths of its fields.")
    error: str | None = Field(
        default=None, description="Why it could not be opened, if it could not."
    )


class AcquisitionEntry(BaseModel):
    id: int
    name: str | None
    maximum_field_count: int | None
    description: str | None


class PlateSummary(BaseModel):
    """Layout of an HCS plate."""

    location: str
    version: str = Field(description="OME-Zarr version of the plate.")
    name: str | None
    rows: list[str] = Field(description="Row names, top to bottom.")
    columns: list[str] = Field(description="Column names, left to right.")
    well_count: int = Field(description="Number of wells present.")
    wells: list[WellEntry] = Field(description="The wells present.")
    field_count: int | None = Field(description="Most fields per well, as the plate states it.")
    first_well: FirstWell | None = Field(
        description="Fields of the first well (writers give every well the same)."
    )
    acquisitions: list[AcquisitionEntry]
    grid: list[str] = Field(
        description="One string per row: '#' where a well is present, '.' where not."
    )


# --------------------------------------------------------------------------- helpers


async def _run(work: Callable[[], T]) -> T:
    """Run blocking ``work`` on a worker thread; any failure becomes a tool error."""
    try:
        return await anyio.to_thread.run_sync(work)
    except ToolError:
        raise
    except Exception as exc:
        from ..errors import NgffError

        if not isinstance(exc, NgffError):
            logger.exception("unexpected error in an ngff tool")
            raise ToolError(f"{type(exc).__name__}: {exc}") from exc
        raise ToolError(str(exc)) from exc


async def _report(ctx: Context, state: dict[str, int], sent: tuple[int, int]) -> tuple[int, int]:
    """Send a progress notification when the writer's count moved since ``sent``."""
    now = (state["done"], state["total"])
    if now != sent and now[1]:
        await ctx.report_progress(now[0], now[1], f"{now[0]} of {now[1]} regions written")
    return now


def _image_result(png: bytes, details: dict[str, Any]) -> CallToolResult:
    import base64

    return CallToolResult(
        content=[
            ImageContent(
                type="image", data=base64.b64encode(png).decode("ascii"), mime_type="image/png"
            ),
            TextContent(type="text", text=json.dumps(details)),
        ],
        structured_content=details,
    )


_READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)

Location = Annotated[
    str,
    Field(
        description="Path of the store (directory, .ozx or a node inside a store, e.g. 'plate.zarr/A/1/0'), absolute or relative to the first root; or a URL when allowed."
    ),
]
Level = Annotated[
    int | None,
    Field(
        description="Pyramid level, 0 = full resolution, negative counts from the coarsest; default: the finest level fitting max_size."
    ),
]
Channels = Annotated[
    list[int] | None,
    Field(
        description="Channel indices to show together (colours and contrast from OMERO); default: the active channels (at most the first 8)."
    ),
]
ZIndex = Annotated[
    int | None, Field(description="z plane as a full-resolution index; default: the middle plane.")
]
TIndex = Annotated[
    int | None, Field(description="Time point as a full-resolution index; default: 0.")
]
MaxSize = Annotated[
    int, Field(ge=16, le=2048, description="Largest side of the picture in pixels.")
]


# --------------------------------------------------------------------------- the server


def build_server(sandbox: Sandbox) -> MCPServer:
    """An MCP server offering the ngff tools inside ``sandbox``.

    Parameters
    ----------
    sandbox
        Root folders and permissions every tool call is checked against.

    Returns
    -------
    mcp.server.mcpserver.MCPServer
        Not yet running; call ``run()`` on it.
    """
    server = MCPServer(
        name="ngff",
        title="ngff OME-Zarr tools",
        instructions=_INSTRUCTIONS
        + f"\nRoots: {', '.join(str(r) for r in sandbox.roots)}. "
        + (
            "Writing is allowed. "
            if sandbox.allow_write
            else "Read-only: convert and set_orientation are refused. "
        )
        + ("URLs are allowed." if sandbox.allow_remote else "URLs are refused."),
        version=__version__,
        log_level="WARNING",
    )
    call = functools.partial  # tools.* (sandbox, ...) bound to keyword arguments

    @server.tool(annotations=_READ_ONLY)
    async def list_data(
        folder: Annotated[
            str, Field(description="Folder to look in, below a root; default: the first root.")
        ] = "",
        depth: Annotated[
            int, Field(ge=1, le=8, description="How many folder levels to look down.")
        ] = 2,
        limit: Annotated[int, Field(ge=1, le=5000, description="Most entries to return.")] = 500,
    ) -> DataListing:
        """Find OME-Zarr stores (with their kind and version), .ozx files and image files that
        `convert` can read, in a folder below the server's roots. Zarr stores are not looked
        into (use `info`); hidden files and links leading outside the roots are left out.
        """
        return DataListing(
            **await _run(call(tools.list_data, sandbox, folder, depth=depth, limit=limit))
        )

    @server.tool(annotations=_READ_ONLY)
    async def info(
        location: Location,
        measure_size: Annotated[
            bool, Field(description="Add up the bytes stored (walks a local store).")
        ] = True,
    ) -> dict[str, Any]:
        """Describe an OME-Zarr image, label image, plate, well or collection without reading pixels.

        Returns the same JSON object as `ngff info --json`: kind, version, name, dims, axes
        (name, type, unit, orientation), levels (path, shape, dtype, chunks, shards, codecs,
        scale, translation), OMERO channels (label, color, window, active), labels, plate
        or well layout, orientation code and bytes on disk. Keys that do not apply are null.
        """
        return await _run(call(tools.info, sandbox, location, measure=measure_size))

    @server.tool(annotations=_READ_ONLY)
    async def validate(
        location: Location,
        strict: Annotated[
            bool, Field(description="Treat SHOULD rules (warnings) as errors.")
        ] = False,
    ) -> ValidationReport:
        """Check a store against every rule of the OME-Zarr specification (0.1-0.5, RFC-4, HCS).

        `ok` is false when a MUST rule is broken (or a SHOULD rule with strict=true); each
        problem names the metadata path, the rule and what the spec says.
        """
        return ValidationReport(
            **await _run(call(tools.validate, sandbox, location, strict=strict))
        )

    @server.tool(
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
        )
    )
    async def convert(
        ctx: Context,
        input: Annotated[
            str,
            Field(
                description="Image to convert: a file `ngff convert` reads (.npy, TIFF, OME-TIFF, ImageJ TIFF and the other formats installed), or an OME-Zarr image to re-write (e.g. 0.4 to 0.5)."
            ),
        ],
        output: Annotated[
            str, Field(description="Destination store, e.g. 'out.ome.zarr' (below a root).")
        ],
        version: Annotated[
            Literal["0.4", "0.5"],
            Field(description="OME-Zarr version: 0.5 (Zarr v3, can shard) or 0.4 (Zarr v2)."),
        ] = "0.5",
        chunks: Annotated[
            int | list[int] | dict[str, int] | None,
            Field(
                description="Chunk shape: one size for the space axes, one per axis, or {axis: size}; default: automatic."
            ),
        ] = None,
        shards: Annotated[
            Literal["auto"] | int | list[int] | dict[str, int] | None,
            Field(
                description="0.5 only: chunks per shard ('auto', one number, one per axis or {axis: n}); default: no sharding."
            ),
        ] = None,
        codec: Annotated[
            str | None,
            Field(
                description="blosc-zstd (default), blosc-lz4, zstd, gzip, lz4 or none, optionally with ':level' (e.g. 'zstd:5')."
            ),
        ] = None,
        method: Annotated[
            Literal["gaussian", "mean", "nearest", "mode", "min", "max"] | None,
            Field(description="Downsampling method; default gaussian (mode for labels)."),
        ] = None,
        levels: Annotated[
            int | None,
            Field(
                ge=1,
                description="Number of pyramid levels; default: halve until a level fits one chunk.",
            ),
        ] = None,
        overwrite: Annotated[bool, Field(description="Replace the output if it exists.")] = False,
    ) -> ConvertResult:
        """Write an OME-Zarr multiscale pyramid from an image file or another OME-Zarr image.

        Needs a server started with --allow-write. Sends progress notifications (regions
        written of the total) when the call carries a progress token. The output appears
        only once complete; on failure the destination is left as it was.
        """
        state = {"done": 0, "total": 0}

        def progress(done: int, total: int) -> None:  # called from writer threads
            state["done"], state["total"] = done, total

        work = call(
            tools.convert,
            sandbox,
            input,
            output,
            version=version,
            chunks=chunks,
            shards=shards,
            codec=codec,
            method=method,
            levels=levels,
            overwrite=overwrite,
            progress=progress,
        )
        result: dict[str, Any] = {}
        failure: list[ToolError] = []

        async def convert_then_stop(scope: anyio.CancelScope) -> None:
            try:
                result.update(await _run(work))
            except ToolError as exc:  # kept out of the task group, which would wrap it
                failure.append(exc)
            finally:
                scope.cancel()

        sent = (0, 0)
        async with anyio.create_task_group() as group:
            group.start_soon(convert_then_stop, group.cancel_scope)
            # Poll rather than call back: the writer reports from threads outside anyio's reach.
            while True:
                sent = await _report(ctx, state, sent)
                await anyio.sleep(0.05)
        if failure:
            raise failure[0]
        await _report(ctx, state, sent)
        return ConvertResult(**result)

    @server.tool(annotations=_READ_ONLY)
    async def thumbnail(
        location: Location,
        level: Level = None,
        channels: Channels = None,
        z: ZIndex = None,
        t: TIndex = None,
        max_size: MaxSize = 512,
    ) -> CallToolResult:
        """Show one 2-D plane (y, x) of an image as a PNG picture.

        Channels are coloured and contrast-stretched with the image's OMERO settings
        (window start-end), or by the plane's 0.5-99.5 percentiles where there are none,
        and added up. Label images are drawn in their label colours. A well shows its first
        field, a bioformats2raw collection its first image; for plates use well_thumbnail.
        A JSON text block after the picture says which level, indices, channels and
        contrast were used.
        """
        png, details = await _run(
            call(
                tools.thumbnail,
                sandbox,
                location,
                level=level,
                channels=channels,
                z=z,
                t=t,
                max_size=max_size,
            )
        )
        return _image_result(png, details)

    @server.tool(annotations=_READ_ONLY)
    async def read_region(
        location: Location,
        level: Annotated[
            int,
            Field(
                description="Pyramid level, 0 = full resolution; negative counts from the coarsest."
            ),
        ] = 0,
        slices: Annotated[
            dict[str, int | str | list[int | None]] | None,
            Field(
                description="Per axis name: an index (5), 'start:stop[:step]' ('0:64') or [start, stop]; axes left out are read whole. Indices are at the chosen level."
            ),
        ] = None,
        max_values: Annotated[
            int,
            Field(
                ge=0,
                le=4096,
                description="Return the values themselves when the region has at most this many elements.",
            ),
        ] = 256,
    ) -> RegionStatistics:
        """Read a region of one pyramid level: min, max, mean, std, NaN count, a 16-bin histogram,
        and the values themselves when the region is small.

        Regions above 16 Mi elements are refused; pick a coarser level or a smaller region.
        """
        return RegionStatistics(
            **await _run(
                call(
                    tools.read_region,
                    sandbox,
                    location,
                    level=level,
                    slices=slices,
                    max_values=max_values,
                )
            )
        )

    @server.tool(annotations=_READ_ONLY)
    async def plate_summary(location: Location) -> PlateSummary:
        """Describe an HCS plate: rows, columns, which wells are present (with a text grid),
        acquisitions and the fields of view of the first well. Opens no pixel data.
        """
        return PlateSummary(**await _run(call(tools.plate_summary, sandbox, location)))

    @server.tool(annotations=_READ_ONLY)
    async def well_thumbnail(
        location: Annotated[
            str, Field(description="Path of the plate store (or a URL when allowed).")
        ],
        row: Annotated[
            str | int,
            Field(
                description="Row name ('B'), or a 0-based row index (a number that is a row's name means that row)."
            ),
        ],
        column: Annotated[
            str | int,
            Field(
                description="Column name ('3'; the number 3 also means column '3'), or a 0-based index when no column has that name."
            ),
        ],
        field: Annotated[int, Field(description="Field of view index within the well.")] = 0,
        level: Level = None,
        channels: Channels = None,
        z: ZIndex = None,
        t: TIndex = None,
        max_size: MaxSize = 512,
    ) -> CallToolResult:
        """Show one plane of a field of view of a plate well as a PNG picture
        (colours and contrast as in `thumbnail`).
        """
        png, details = await _run(
            call(
                tools.well_thumbnail,
                sandbox,
                location,
                row,
                column,
                field=field,
                level=level,
                channels=channels,
                z=z,
                t=t,
                max_size=max_size,
            )
        )
        return _image_result(png, details)

    async def set_orientation(
        location: Annotated[
            str, Field(description="Path of the image store whose axes to annotate.")
        ],
        orientation: Annotated[
            str | dict[str, str | None],
            Field(
                description="RFC-4 anatomical orientation: a letter code such as 'RAS' or 'LPS' (letters in x, y, z order, each naming the side that axis points to), or {axis: term}, e.g. {'x': 'left-to-right', 'y': 'posterior-to-anterior', 'z': 'inferior-to-superior'}; null removes an axis' orientation."
            ),
        ],
        path: Annotated[
            str, Field(description="Group path of the image inside the store ('' for the root).")
        ] = "",
        labels: Annotated[
            bool, Field(description="Also set it on the image's label images.")
        ] = True,
    ) -> dict[str, Any]:
        """Set the RFC-4 anatomical orientation of an image's space axes.

        Rewrites only the axes' orientation in the image's metadata (atomically; pixels
        untouched). Needs a server started with --allow-write. Returns the image's new
        `info` summary (see its axes and orientation_code).
        """
        return await _run(
            call(tools.set_orientation, sandbox, location, orientation, path=path, labels=labels)
        )

    server.add_tool(
        set_orientation,
        annotations=ToolAnnotations(
            read_only_hint=False,
            destructive_hint=False,
            idempotent_hint=True,
            open_world_hint=False,
        ),
    )
    return server

