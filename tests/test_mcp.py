"""The MCP server (``ngff mcp``) driven by the official SDK's client over stdio and HTTP.

The real server runs as a subprocess (``python -m ngff.cli mcp ...``) and the tests talk
to it with ``mcp.Client``: one read-only server and one started with ``--allow-write``
serve the whole module (each from an event loop in a thread, through an anyio blocking
portal), plus one over streamable HTTP.  The data are tiny stores in a temporary root.
"""

from __future__ import annotations

import base64
import functools
import io
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import builders as B  # tests/builders.py
import numpy as np
import pytest

mcp = pytest.importorskip("mcp")
PIL_Image = pytest.importorskip("PIL.Image")

import anyio
import anyio.from_thread
from mcp import Client, StdioServerParameters
from typer.testing import CliRunner

import ngff
from ngff.cli import app, write_demo
from ngff.samples import DEMO_LABEL_COLORS, synthetic_labels

READ_TOOLS = {
    "list_data",
    "info",
    "validate",
    "thumbnail",
    "read_region",
    "plate_summary",
    "well_thumbnail",
}
WRITE_TOOLS = {"convert", "set_orientation"}


# --------------------------------------------------------------------------- data


def _planes(c: int, z: int, y: int, x: int) -> np.ndarray:
    """uint8 (c, z, y, x) data whose every plane differs (values 0-255)."""
    cc, zz, yy, xx = np.meshgrid(*(np.arange(n) for n in (c, z, y, x)), indexing="ij")
    return ((xx * 5 + yy * 3 + zz * 40 + cc * 90) % 256).astype(np.uint8)


COLOUR = _planes(2, 4, 40, 56)
#: Plate wells (path, row index, column index) and each field's pixels (y, x).
WELLS = (("A/1", 0, 0), ("B/3", 1, 2))
FIELDS = {
    (well, f): ((_planes(1, 1, 24, 32)[0, 0].astype(int) * (k + 1) + 17 * f) % 256).astype(np.uint8)
    for k, (well, _, _) in enumerate(WELLS)
    for f in (0, 1)
}


def _zarr_group(path: Path, ome: dict[str, Any] | None = None) -> None:
    attrs = {"ome": {"version": "0.5", **ome}} if ome else {}
    B.write_json(path / "zarr.json", {"zarr_format": 3, "node_type": "group", "attributes": attrs})


def _write_plate(top: Path) -> None:
    """A 2 x 3 plate (0.5) with wells A/1 and B/3, two fields each, distinct pixels per field."""
    for (well, f), pixels in FIELDS.items():
        ngff.write(
            pixels[None],
            top / well / str(f),
            dims="cyx",
            channels=[{"label": "dapi", "color": "FFFFFF", "window": (0, 255)}],
            chunks=16,
        )
    for well, _, _ in WELLS:
        _zarr_group(
            top / well,
            {
                "well": {
                    "images": [{"path": "0", "acquisition": 0}, {"path": "1", "acquisition": 0}]
                }
            },
        )
        _zarr_group(top / well.split("/")[0])
    plate = {
        "name": "tiny",
        "rows": [{"name": "A"}, {"name": "B"}],
        "columns": [{"name": c} for c in ("1", "2", "3")],
        "wells": [{"path": p, "rowIndex": r, "columnIndex": c} for p, r, c in WELLS],
        "acquisitions": [{"id": 0, "name": "run"}],
        "field_count": 2,
    }
    _zarr_group(top, {"plate": plate})


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root folder with a colour image, a grey image, a plate and an .npy file."""
    base = Path(os.path.realpath(tmp_path_factory.mktemp("mcp")))
    top = base / "root"
    top.mkdir()
    ngff.write(
        COLOUR,
        top / "colour.ome.zarr",
        dims="czyx",
        channels=[
            {"label": "red", "color": "FF0000", "window": (0, 255)},
            {"label": "green", "color": "00FF00", "window": (0, 255)},
        ],
        chunks=16,
    )
    ngff.write(
        COLOUR[0],
        top / "grey.ome.zarr",
        dims="zyx",
        channels=[{"label": "only", "color": "FFFFFF", "window": (0, 255)}],
        version="0.4",
        chunks=16,
    )
    _write_plate(top / "plate.zarr")
    write_demo(top / "demo.ome.zarr", shape=(8, 48, 48))  # ngff.samples' volume and "cells" labels
    np.save(top / "stack.npy", COLOUR[1])
    # Outside the root: a store that links inside the root must not open.
    outside = base / "outside"
    ngff.write(COLOUR[0, 0], outside / "secret.ome.zarr", dims="yx")
    os.symlink(outside / "secret.ome.zarr", top / "link.ome.zarr")
    leaky = top / "leaky.ome.zarr"
    shutil.copytree(top / "grey.ome.zarr", leaky)
    shutil.rmtree(leaky / "0")
    os.symlink(outside / "secret.ome.zarr" / "0", leaky / "0")
    return top


# --------------------------------------------------------------------------- server


def _params(root: Path, *flags: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "ngff.cli", "mcp", "--root", str(root), *flags],
        env=dict(os.environ),
        cwd=str(root.parent),  # relative paths must start at the root, not here
    )


class Session:
    """A connected client, called from synchronous tests."""

    def __init__(self, portal: Any, client: Client):
        self.portal = portal
        self.client = client

    def tools(self) -> dict[str, Any]:
        return {tool.name: tool for tool in self.portal.call(self.client.list_tools).tools}

    def call(self, tool: str, arguments: dict[str, Any], **options: Any) -> Any:
        return self.portal.call(
            functools.partial(self.client.call_tool, tool, arguments, **options)
        )


@contextmanager
def _serve(root: Path, *flags: str) -> Iterator[Session]:
    with anyio.from_thread.start_blocking_portal() as portal:
        client = Client(_params(root, *flags), read_timeout_seconds=60)
        with portal.wrap_async_context_manager(client) as connected:
            yield Session(portal, connected)


@pytest.fixture(scope="module")
def server(root: Path) -> Iterator[Session]:
    """A read-only server (no flags)."""
    with _serve(root) as session:
        yield session


@pytest.fixture(scope="module")
def writer(root: Path) -> Iterator[Session]:
    """A server started with --allow-write."""
    with _serve(root, "--allow-write") as session:
        yield session


def _png(result: Any) -> np.ndarray:
    assert not result.is_error, result.content
    image = result.content[0]
    assert image.type == "image" and image.mime_type == "image/png"
    with PIL_Image.open(io.BytesIO(base64.b64decode(image.data))) as picture:
        assert picture.format == "PNG"
        return np.asarray(picture)


def _error_text(result: Any) -> str:
    assert result.is_error, result
    return " ".join(block.text for block in result.content if block.type == "text")


# --------------------------------------------------------------------------- tests


def test_tools_are_listed_with_descriptions_and_schemas(server: Session, writer: Session) -> None:
    tools = writer.tools()
    assert set(tools) == READ_TOOLS | WRITE_TOOLS
    assert set(server.tools()) == READ_TOOLS | WRITE_TOOLS  # listed, refused when called
    for tool in tools.values():
        assert len(tool.description or "") > 40, tool.name
        assert tool.input_schema["type"] == "object"
        assert tool.input_schema["properties"], tool.name
    for name in ("validate", "convert", "read_region", "plate_summary"):
        assert tools[name].output_schema["properties"], name
    assert tools["info"].annotations.read_only_hint is True
    assert tools["convert"].annotations.read_only_hint is False
    assert tools["thumbnail"].input_schema["properties"]["max_size"]["maximum"] == 2048


def test_list_data_finds_stores_and_files(server: Session, root: Path) -> None:
    listing = server.call("list_data", {}).structured_content
    assert listing["folder"] == "."
    found = {e["path"]: (e["type"], e.get("kind"), e.get("version")) for e in listing["entries"]}
    assert found["colour.ome.zarr"] == ("zarr", "image", "0.5")
    assert found["grey.ome.zarr"] == ("zarr", "image", "0.4")
    assert found["plate.zarr"] == ("zarr", "plate", "0.5")
    assert found["stack.npy"][0] == "image-file"
    assert "link.ome.zarr" not in found and listing["links_outside_skipped"] == 1
    assert not any(path.startswith("plate.zarr/") for path in found)  # stores are not entered
    assert listing["truncated"] is False
    limited = server.call("list_data", {"limit": 2}).structured_content
    assert len(limited["entries"]) == 2 and limited["truncated"] is True
    outside = server.call("list_data", {"folder": ".."})
    assert "outside the folders" in _error_text(outside)


def test_info_and_validate_equal_the_cli_json(server: Session, root: Path) -> None:
    runner = CliRunner()
    locations = (
        "colour.ome.zarr",
        "grey.ome.zarr",
        "plate.zarr",
        "demo.ome.zarr",
        "demo.ome.zarr/labels/cells",
    )
    for location in (root / name for name in locations):
        out = runner.invoke(app, ["info", str(location), "--json"])
        assert out.exit_code == 0, out.output
        expected = json.loads(out.stdout)
        result = server.call("info", {"location": str(location)})
        assert not result.is_error, result.content
        assert result.structured_content == expected
        # The text block holds the same JSON, for clients that ignore structured content.
        assert json.loads(result.content[0].text) == expected
        report = server.call("validate", {"location": str(location)})
        assert report.structured_content == json.loads(
            runner.invoke(app, ["validate", str(location), "--json"]).stdout
        )
    # Relative paths start at the root, whatever the server's working directory.
    relative = server.call("info", {"location": "colour.ome.zarr"}).structured_content
    assert relative == json.loads(
        runner.invoke(app, ["info", str(root / "colour.ome.zarr"), "--json"]).stdout
    )
    assert relative["channels"][1]["label"] == "green"


def test_validate_reports_broken_rules(server: Session, root: Path) -> None:
    broken = root / "broken.ome.zarr"
    shutil.copytree(root / "grey.ome.zarr", broken)
    try:
        attrs = json.loads((broken / ".zattrs").read_text())
        # A dataset path naming no array breaks a MUST rule.
        attrs["multiscales"][0]["datasets"][1]["path"] = "missing"
        (broken / ".zattrs").write_text(json.dumps(attrs))
        (broken / ".zmetadata").unlink(missing_ok=True)  # consolidated metadata would hide the edit
        expected = json.loads(CliRunner().invoke(app, ["validate", str(broken), "--json"]).stdout)
        result = server.call("validate", {"location": "broken.ome.zarr", "strict": False})
        assert not result.is_error
        assert result.structured_content == expected
        assert result.structured_content["ok"] is False
        assert any(
            p["severity"] == "error" and p["rule"] == "dataset.missing"
            for p in result.structured_content["problems"]
        )
    finally:
        shutil.rmtree(broken)


def test_thumbnail_png_is_the_requested_plane(server: Session, root: Path) -> None:
    data = COLOUR
    # A lone white channel with window 0-255: grey pixels equal to the stored plane.
    grey = _png(server.call("thumbnail", {"location": "grey.ome.zarr", "z": 1}))
    assert grey.shape == (40, 56)
    np.testing.assert_array_equal(grey, data[0, 1])
    middle = _png(server.call("thumbnail", {"location": "grey.ome.zarr"}))
    np.testing.assert_array_equal(middle, data[0, 2])  # default: the middle of 4 planes

    # Two channels, red and green, added up: R and G carry the channels, B stays black.
    result = server.call("thumbnail", {"location": "colour.ome.zarr", "z": 3})
    rgb = _png(result)
    assert rgb.shape == (40, 56, 3)
    np.testing.assert_array_equal(rgb[..., 0], data[0, 3])
    np.testing.assert_array_equal(rgb[..., 1], data[1, 3])
    assert not rgb[..., 2].any()
    details = json.loads(result.content[1].text)
    assert details == result.structured_content
    assert details["level"] == 0 and details["indices"] == {"z": 3}
    assert [c["contrast_source"] for c in details["channels"]] == ["omero", "omero"]

    only_green = _png(
        server.call("thumbnail", {"location": "colour.ome.zarr", "z": 0, "channels": [1]})
    )
    np.testing.assert_array_equal(only_green[..., 1], data[1, 0])
    assert not only_green[..., 0].any()

    # Size cap: the finest level fitting 20 pixels (level 2 is 10 x 14), never larger.
    small = server.call("thumbnail", {"location": "grey.ome.zarr", "max_size": 20, "z": 0})
    picture = _png(small)
    assert max(picture.shape) <= 20
    level = json.loads(small.content[1].text)["level"]
    assert level > 0
    expected = ngff.read(root / "grey.ome.zarr").levels[level][0].compute()
    np.testing.assert_array_equal(picture, expected)


def test_thumbnail_of_the_demo_labels_uses_their_colours(server: Session) -> None:
    result = server.call("thumbnail", {"location": "demo.ome.zarr/labels/cells", "z": 4})
    picture = _png(result)
    cells = synthetic_labels((8, 48, 48))[4]
    assert picture.shape == (48, 48, 3) and cells.max() > 0
    for value in np.unique(cells):
        expected = (
            (0, 0, 0) if value == 0 else DEMO_LABEL_COLORS[(value - 1) % len(DEMO_LABEL_COLORS)][:3]
        )
        assert (picture[cells == value] == expected).all(), value
    details = json.loads(result.content[1].text)
    assert (
        details["location"].endswith("demo.ome.zarr/labels/cells")
        and details["channels"][0]["contrast_source"] == "labels"
    )


def test_read_region_statistics_and_values(server: Session, root: Path) -> None:
    data = COLOUR
    args = {"location": "colour.ome.zarr", "slices": {"c": 1, "z": "2", "y": "4:8", "x": [10, 15]}}
    result = server.call("read_region", args)
    assert not result.is_error, result.content
    stats = result.structured_content
    region = data[1, 2, 4:8, 10:15]
    assert stats["shape"] == [4, 5] and stats["dims"] == ["y", "x"] and stats["dtype"] == "uint8"
    assert stats["values"] == region.tolist()
    assert stats["min"] == region.min() and stats["max"] == region.max()
    assert stats["mean"] == pytest.approx(region.mean())
    assert stats["std"] == pytest.approx(region.std())
    assert sum(stats["histogram"]["counts"]) == region.size

    whole = server.call("read_region", {"location": "colour.ome.zarr"}).structured_content
    assert whole["values"] is None  # too many to send
    assert whole["shape"] == list(data.shape) and whole["mean"] == pytest.approx(data.mean())

    coarse = server.call(
        "read_region", {"location": "colour.ome.zarr", "level": -1}
    ).structured_content
    assert coarse["level"] == len(ngff.read(root / "colour.ome.zarr").levels) - 1

    bad = server.call("read_region", {"location": "colour.ome.zarr", "slices": {"q": 1}})
    assert "unknown axes" in _error_text(bad)
    bad = server.call("read_region", {"location": "colour.ome.zarr", "level": 9})
    assert "level 9 does not exist" in _error_text(bad)


def test_plate_summary_and_well_thumbnail(server: Session) -> None:
    summary = server.call("plate_summary", {"location": "plate.zarr"}).structured_content
    assert summary["name"] == "tiny" and summary["version"] == "0.5"
    assert summary["rows"] == ["A", "B"] and summary["columns"] == ["1", "2", "3"]
    assert [(w["row"], w["column"], w["path"]) for w in summary["wells"]] == [
        ("A", "1", "A/1"),
        ("B", "3", "B/3"),
    ]
    assert summary["grid"] == ["#..", "..#"]
    assert summary["first_well"]["fields"] == 2 and summary["field_count"] == 2
    assert [a["name"] for a in summary["acquisitions"]] == ["run"]

    for (well, f), pixels in FIELDS.items():
        row, column = well.split("/")
        result = server.call(
            "well_thumbnail", {"location": "plate.zarr", "row": row, "column": column, "field": f}
        )
        np.testing.assert_array_equal(_png(result), pixels)
        details = json.loads(result.content[1].text)
        assert details["well"] == well and details["field"] == f and details["level"] == 0
    # Numbers: row 1 is an index (no row is named "1"); column 3 is the column named "3".
    by_number = server.call(
        "well_thumbnail", {"location": "plate.zarr", "row": 1, "column": 3, "field": -1}
    )
    np.testing.assert_array_equal(_png(by_number), FIELDS[("B/3", 1)])
    by_index = server.call("well_thumbnail", {"location": "plate.zarr", "row": 0, "column": 0})
    np.testing.assert_array_equal(_png(by_index), FIELDS[("A/1", 0)])  # no column "0": an index
    # A field is also an image location of its own.
    direct = server.call("thumbnail", {"location": "plate.zarr/B/3/0"})
    np.testing.assert_array_equal(_png(direct), FIELDS[("B/3", 0)])

    missing = server.call("well_thumbnail", {"location": "plate.zarr", "row": "A", "column": "2"})
    assert "no well 'A/2'" in _error_text(missing)
    no_field = server.call(
        "well_thumbnail", {"location": "plate.zarr", "row": "A", "column": "1", "field": 2}
    )
    assert "field 2 does not exist" in _error_text(no_field)
    not_plate = server.call("plate_summary", {"location": "grey.ome.zarr"})
    assert "expected a plate" in _error_text(not_plate)
    plate_picture = server.call("thumbnail", {"location": "plate.zarr"})
    assert "well_thumbnail" in _error_text(plate_picture)


def test_convert_writes_with_progress_notifications(writer: Session, root: Path) -> None:
    updates: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total))

    try:
        result = writer.call(
            "convert",
            {
                "input": "stack.npy",
                "output": "converted.ome.zarr",
                "version": "0.5",
                "chunks": 16,
                "levels": 2,
            },
            progress_callback=on_progress,
        )
        assert not result.is_error, result.content
        out = result.structured_content
        assert out["output"] == str(root / "converted.ome.zarr")
        assert (
            out["version"] == "0.5" and len(out["levels"]) == 2 and out["chunks"] == [4, 16, 16]
        )  # z has only 4 planes
        written = ngff.read(root / "converted.ome.zarr")
        np.testing.assert_array_equal(written.levels[0].compute(), COLOUR[1])
        assert updates, "no progress notification arrived"
        assert updates[-1][0] == updates[-1][1]  # the last one says: all regions written
        assert all(b[0] >= a[0] for a, b in itertools.pairwise(updates))

        again = writer.call("convert", {"input": "stack.npy", "output": "converted.ome.zarr"})
        assert "destination exists" in _error_text(again)
        rewrite = writer.call(
            "convert",
            {
                "input": "grey.ome.zarr",
                "output": "grey05.ome.zarr",
                "version": "0.5",
                "method": "nearest",
            },
        )
        assert not rewrite.is_error, rewrite.content
        rewritten = ngff.read(root / "grey05.ome.zarr")
        assert rewritten.version == "0.5"
        np.testing.assert_array_equal(rewritten.levels[0].compute(), COLOUR[0])
    finally:
        shutil.rmtree(root / "converted.ome.zarr", ignore_errors=True)
        shutil.rmtree(root / "grey05.ome.zarr", ignore_errors=True)


def test_set_orientation(writer: Session, server: Session, root: Path) -> None:
    target = root / "oriented.ome.zarr"
    shutil.copytree(root / "colour.ome.zarr", target)
    try:
        refused = server.call(
            "set_orientation", {"location": "oriented.ome.zarr", "orientation": "LPS"}
        )
        assert "--allow-write" in _error_text(refused)
        result = writer.call(
            "set_orientation", {"location": "oriented.ome.zarr", "orientation": "LPS"}
        )
        assert not result.is_error, result.content
        assert result.structured_content["orientation_code"] == "LPS"
        axes = {a.name: a.orientation for a in ngff.read(target).axes}
        assert axes["x"] == "right-to-left" and axes["z"] == "inferior-to-superior"
        bad = writer.call(
            "set_orientation", {"location": "oriented.ome.zarr", "orientation": "XYZ"}
        )
        assert bad.is_error
        assert {a.name: a.orientation for a in ngff.read(target).axes} == axes  # left as it was
    finally:
        shutil.rmtree(target)


def test_refusals_are_tool_errors_and_the_server_keeps_running(server: Session, root: Path) -> None:
    outside = root.parent / "outside" / "secret.ome.zarr"
    refusals = {
        "outside": ("info", {"location": str(outside)}, "outside the folders"),
        "dotdot": ("thumbnail", {"location": "../outside/secret.ome.zarr"}, "outside the folders"),
        "symlink": ("info", {"location": "link.ome.zarr"}, "outside the folders"),
        "inner symlink": ("read_region", {"location": "leaky.ome.zarr"}, "symlink"),
        "url": ("info", {"location": "https://example.org/image.ome.zarr"}, "--allow-remote"),
        "write": ("convert", {"input": "stack.npy", "output": "new.ome.zarr"}, "--allow-write"),
        "missing": ("info", {"location": "nothing-here.zarr"}, "no such file"),
        "bad level": ("thumbnail", {"location": "grey.ome.zarr", "level": 7}, "does not exist"),
        "bad channel": ("thumbnail", {"location": "colour.ome.zarr", "channels": [5]}, "channel 5"),
        "bad z": ("thumbnail", {"location": "colour.ome.zarr", "z": 99}, "out of range"),
        "bad type": ("thumbnail", {"location": "grey.ome.zarr", "max_size": "big"}, "max_size"),
        "not zarr": ("validate", {"location": "stack.npy"}, "stack.npy"),
        "no argument": ("info", {}, "location"),
        "unknown tool": ("delete_everything", {"location": "."}, "Unknown tool"),
    }
    for name, (tool, args, words) in refusals.items():
        result = server.call(tool, args)
        assert words in _error_text(result), name
    assert not (root / "new.ome.zarr").exists()
    # Still serving after all those errors.
    ok = server.call("info", {"location": "grey.ome.zarr", "measure_size": False})
    assert not ok.is_error and ok.structured_content["kind"] == "image"


def test_write_refusals_with_allow_write(writer: Session, root: Path) -> None:
    over_root = writer.call(
        "convert", {"input": "stack.npy", "output": str(root), "overwrite": True}
    )
    assert "root folder" in _error_text(over_root)
    escape = writer.call("convert", {"input": "stack.npy", "output": "../escaped.ome.zarr"})
    assert "outside the folders" in _error_text(escape)
    into_link = writer.call(
        "convert", {"input": "stack.npy", "output": "link.ome.zarr/inner.ome.zarr"}
    )
    assert "outside the folders" in _error_text(into_link)
    remote = writer.call("convert", {"input": "stack.npy", "output": "s3://bucket/x.ome.zarr"})
    assert "local paths" in _error_text(remote)
    assert not (root.parent / "escaped.ome.zarr").exists()
    assert not (root.parent / "outside" / "secret.ome.zarr" / "inner.ome.zarr").exists()
    assert (root / "stack.npy").exists() and (root / "grey.ome.zarr").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_streamable_http_transport(root: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ngff.cli",
            "mcp",
            "--root",
            str(root),
            "--transport",
            "http",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline, "the HTTP server did not start"
                time.sleep(0.1)

        async def main() -> None:
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                names = {tool.name for tool in (await client.list_tools()).tools}
                assert names == READ_TOOLS | WRITE_TOOLS
                result = await client.call_tool(
                    "info", {"location": "grey.ome.zarr", "measure_size": False}
                )
                assert result.structured_content["version"] == "0.4"
                refused = await client.call_tool("info", {"location": "/"})
                assert refused.is_error

        anyio.run(main)
    finally:
        process.terminate()
        process.wait(timeout=20)
        process.stderr.close()
