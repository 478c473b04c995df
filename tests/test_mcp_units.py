"""Parts of the MCP server that need no server: the PNG encoder, the sandbox, plane rendering
and region selection (the server itself is tested over stdio and HTTP in test_mcp.py)."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

import ngff
from ngff.errors import NgffError
from ngff.mcp import tools
from ngff.mcp.png import encode_png
from ngff.mcp.region import parse_slice, region_statistics
from ngff.mcp.render import render_plane
from ngff.mcp.safety import AccessDeniedError, Sandbox

PIL_Image = pytest.importorskip("PIL.Image")


# --------------------------------------------------------------------------- PNG


@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (5, 4, 3)])
def test_png_decodes_to_the_same_pixels(shape: tuple[int, ...]) -> None:
    pixels = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    data = encode_png(pixels)
    with PIL_Image.open(io.BytesIO(data)) as picture:
        picture.load()
        assert picture.mode == ("L" if len(shape) == 2 else "RGB")
        np.testing.assert_array_equal(np.asarray(picture), pixels)


def test_png_chunks_carry_valid_crcs() -> None:
    data = encode_png(np.zeros((3, 2), np.uint8))
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, kinds = 8, []
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + body)
        kinds.append(kind)
        offset += 12 + length
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]


@pytest.mark.parametrize(
    "bad", [np.zeros((2, 2), np.uint16), np.zeros((2, 2, 4), np.uint8), np.zeros((0, 3), np.uint8)]
)
def test_png_refuses_what_it_cannot_encode(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        encode_png(bad)


# --------------------------------------------------------------------------- sandbox


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    (tmp_path / "root" / "data").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    return tmp_path


def test_sandbox_resolves_relative_paths_against_the_first_root(tree: Path) -> None:
    box = Sandbox.create([tree / "root"])
    assert box.readable("data") == str(tree / "root" / "data")
    assert box.readable(f"file://{tree / 'root' / 'data'}") == str(tree / "root" / "data")
    with pytest.raises(AccessDeniedError, match="outside the folders"):
        box.readable("data/../../elsewhere")
    with pytest.raises(AccessDeniedError, match="outside the folders"):
        box.readable(str(tree / "elsewhere"))


def test_sandbox_several_roots(tree: Path) -> None:
    box = Sandbox.create([tree / "root", tree / "elsewhere"])
    assert box.readable(str(tree / "elsewhere")) == str(tree / "elsewhere")
    with pytest.raises(AccessDeniedError):
        box.readable(str(tree))


def test_sandbox_refuses_links_out_even_through_a_linked_folder(tree: Path) -> None:
    os.symlink(tree / "elsewhere", tree / "root" / "data" / "out")
    box = Sandbox.create([tree / "root"])
    with pytest.raises(AccessDeniedError, match="symlink"):
        box.readable("data")
    # A link that stays inside is fine, but what the linked folder holds is checked too.
    os.remove(tree / "root" / "data" / "out")
    (tree / "root" / "other").mkdir()
    os.symlink(tree / "root" / "other", tree / "root" / "data" / "inside")
    assert box.readable("data") == str(tree / "root" / "data")
    os.symlink(tree / "elsewhere", tree / "root" / "other" / "out")
    with pytest.raises(AccessDeniedError, match="symlink"):
        box.readable("data")


def test_sandbox_writes(tree: Path) -> None:
    read_only = Sandbox.create([tree / "root"])
    with pytest.raises(AccessDeniedError, match="--allow-write"):
        read_only.writable("new.ome.zarr")
    box = Sandbox.create([tree / "root" / "data"], allow_write=True)
    assert box.writable("new.ome.zarr") == str(tree / "root" / "data" / "new.ome.zarr")
    for over in (".", str(tree / "root" / "data"), str(tree / "root")):
        with pytest.raises(AccessDeniedError):
            box.writable(over)
    with pytest.raises(AccessDeniedError, match="local paths"):
        box.writable("https://example.org/x.zarr")


def test_sandbox_urls_and_odd_input(tree: Path) -> None:
    assert (
        Sandbox.create([tree / "root"], allow_remote=True).readable("https://h/x.zarr")
        == "https://h/x.zarr"
    )
    box = Sandbox.create([tree / "root"])
    for bad in ("", "   ", "a\x00b"):
        with pytest.raises(AccessDeniedError):
            box.readable(bad)
    with pytest.raises(AccessDeniedError, match="--allow-remote"):
        box.readable("s3://bucket/x.zarr")
    with pytest.raises(AccessDeniedError, match="existing directory"):
        Sandbox.create([tree / "missing"])


def test_default_root_is_the_working_directory(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree / "root")
    assert Sandbox.create().roots == (Path(os.path.realpath(tree / "root")),)


# --------------------------------------------------------------------------- rendering and regions


def test_label_images_use_their_colours(tmp_path: Path) -> None:
    image_data = np.zeros((1, 8, 8), np.uint8)
    ngff.write(image_data, tmp_path / "img.ome.zarr", dims="cyx")
    labels = np.zeros((1, 8, 8), np.uint8)
    labels[0, :4] = 1
    labels[0, 4:, :4] = 2
    ngff.write_labels(tmp_path / "img.ome.zarr", "cells", labels, colors={1: (255, 0, 0, 255)})
    label = ngff.read(tmp_path / "img.ome.zarr").labels["cells"]
    rendered = render_plane(label)
    assert rendered.pixels.shape == (8, 8, 3)
    assert (rendered.pixels[:4] == (255, 0, 0)).all()  # its own colour
    assert not rendered.pixels[4:, 4:].any()  # background stays black
    second = rendered.pixels[4:, :4].reshape(-1, 3)
    assert (second == second[0]).all() and second[0].any() and tuple(second[0]) != (255, 0, 0)


def test_auto_contrast_without_omero_windows(tmp_path: Path) -> None:
    ramp = np.tile(np.arange(0, 4000, 40, dtype=np.uint16), (6, 1))  # 6 x 100
    ngff.write(ramp, tmp_path / "ramp.ome.zarr", dims="yx")
    _drop_omero(tmp_path / "ramp.ome.zarr" / "zarr.json")
    image = ngff.read(tmp_path / "ramp.ome.zarr")
    assert image.omero is None
    rendered = render_plane(image, channels=None, max_size=64)
    assert rendered.step == 2 and rendered.pixels.shape == (3, 50)
    assert rendered.channels[0]["contrast_source"] == "auto"
    low, high = np.percentile(ramp[::2, ::2], (0.5, 99.5))
    assert rendered.channels[0]["contrast"] == pytest.approx([low, high])
    expected = np.rint(np.clip((ramp[0, ::2] - low) / (high - low), 0, 1) * 255)
    np.testing.assert_array_equal(rendered.pixels[0], expected)


def _drop_omero(document: Path) -> None:
    """Remove every ``omero`` key of a zarr.json (inline consolidated metadata included)."""
    import json

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "omero"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    document.write_text(json.dumps(strip(json.loads(document.read_text()))))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (3, 3),
        ("-1", 9),
        ("2:5", slice(2, 5, None)),
        (":", slice(None, None, None)),
        ("::3", slice(None, None, 3)),
        ([1, 4], slice(1, 4, None)),
    ],
)
def test_parse_slice(text: object, expected: object) -> None:
    assert parse_slice(text, 10, "x", "here") == expected


@pytest.mark.parametrize("text", [10, "a:b", "5:5", "1:2:0", "1:2:3:4", True, [1, 2, 3, 4]])
def test_parse_slice_refuses(text: object) -> None:
    with pytest.raises(NgffError, match="axis 'x'"):
        parse_slice(text, 10, "x", "here")


def test_region_statistics_with_nan(tmp_path: Path) -> None:
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    ngff.write(data, tmp_path / "f.ome.zarr", dims="yx")
    import zarr

    # Put the NaN in afterwards: the writer's OMERO windows would be NaN, which JSON cannot hold.
    zarr.open_array(tmp_path / "f.ome.zarr" / "0", mode="r+")[1, 1] = np.nan
    data[1, 1] = np.nan
    stats = region_statistics(ngff.read(tmp_path / "f.ome.zarr"), slices={"y": "0:2"})
    assert stats["nan_count"] == 1 and stats["values"][1][1] is None
    assert (
        stats["min"] == 0
        and stats["max"] == 7
        and stats["mean"] == pytest.approx(np.nanmean(data[:2]))
    )


def test_command_without_the_sdk_is_a_clear_error(tmp_path: Path) -> None:
    # A stand-in "mcp" package that fails to import, as when the extra is not installed.
    fake = tmp_path / "fake"
    (fake / "mcp").mkdir(parents=True)
    (fake / "mcp" / "__init__.py").write_text("raise ImportError('mcp is not installed here')\n")
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(fake), os.environ.get("PYTHONPATH", "")])
    )
    out = subprocess.run(
        [sys.executable, "-m", "ngff.cli", "mcp", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert out.returncode == 2
    assert "mcp extra" in out.stderr and "Traceback" not in out.stderr


def test_command_refuses_a_bad_root_and_transport(tmp_path: Path) -> None:
    for args, words in (
        (["--root", str(tmp_path / "missing")], "existing directory"),
        (["--transport", "carrier-pigeon"], "expected stdio or http"),
    ):
        out = subprocess.run(
            [sys.executable, "-m", "ngff.cli", "mcp", *args],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        assert out.returncode == 2 and words in out.stderr, out.stderr


def test_urls_are_read_only_with_allow_remote(tmp_path: Path) -> None:
    from http_range_server import RangeServer  # tests/http_range_server.py

    pytest.importorskip("aiohttp")  # fsspec's HTTP backend
    pixels = np.arange(24 * 32, dtype=np.uint8).reshape(24, 32)
    ngff.write(
        pixels,
        tmp_path / "web.ome.zarr",
        dims="yx",
        channels=[{"window": (0, 255), "color": "FFFFFF"}],
    )
    with RangeServer(tmp_path) as server:
        url = server.url("web.ome.zarr")
        (tmp_path / "work").mkdir()
        remote = Sandbox.create([tmp_path / "work"], allow_remote=True, allow_write=True)
        assert tools.info(remote, url)["location"].rstrip("/") == url.rstrip("/")
        png, _ = tools.thumbnail(remote, url)
        with PIL_Image.open(io.BytesIO(png)) as picture:
            np.testing.assert_array_equal(np.asarray(picture), pixels)
        with pytest.raises(AccessDeniedError, match="--allow-remote"):
            tools.info(Sandbox.create([tmp_path]), url)
        with pytest.raises(AccessDeniedError, match="local paths"):
            tools.convert(remote, url, server.url("copy.ome.zarr"))
        # A URL is a fine input: the copy lands below the root.
        copied = tools.convert(remote, url, "copy.ome.zarr", version="0.4")
        assert copied["output"] == str(tmp_path / "work" / "copy.ome.zarr")
        np.testing.assert_array_equal(ngff.read(copied["output"]).levels[0].compute(), pixels)


def test_default_channels_are_the_active_ones_up_to_eight(tmp_path: Path) -> None:
    data = np.stack([np.full((4, 4), 10 * (c + 1), np.uint8) for c in range(10)])
    channels = [{"label": f"c{c}", "active": c != 1, "window": (0, 255)} for c in range(10)]
    ngff.write(data, tmp_path / "many.ome.zarr", dims="cyx", channels=channels)
    rendered = render_plane(ngff.read(tmp_path / "many.ome.zarr"))
    assert [c["index"] for c in rendered.channels] == [0, 2, 3, 4, 5, 6, 7, 8]
    chosen = render_plane(ngff.read(tmp_path / "many.ome.zarr"), channels=[1, 9])
    assert [c["label"] for c in chosen.channels] == ["c1", "c9"]


def test_convert_of_a_local_store_keeps_labels_and_stored_levels(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    pixels = rng.integers(0, 200, (8, 64, 96), dtype=np.uint8)
    ngff.write(pixels, tmp_path / "src.ome.zarr", scale_factors=[2])
    ngff.write_labels(tmp_path / "src.ome.zarr", "cells", (pixels > 150).astype(np.uint8))
    sandbox = Sandbox.create([tmp_path], allow_write=True)
    out = tools.convert(sandbox, "src.ome.zarr", "served.ozx")
    written, source = ngff.read(out["output"]), ngff.read(tmp_path / "src.ome.zarr")
    assert written.version == "0.5" and len(written.levels) == 2
    np.testing.assert_array_equal(written.levels[1].compute(), source.levels[1].compute())  # copied
    np.testing.assert_array_equal(written.labels["cells"].levels[0].compute(), pixels > 150)
