"""The README's main job, end to end: ``ngff demo --napari`` opens the demo store in napari."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest


def _ngff() -> list[str]:
    beside = Path(sys.executable).with_name("ngff")
    found = str(beside) if beside.exists() else shutil.which("ngff")
    return [found] if found else [sys.executable, "-m", "ngff.cli"]


def _png(path: Path) -> np.ndarray:
    from qtpy.QtGui import QImage

    image = QImage(str(path)).convertToFormat(QImage.Format_RGBA8888)
    assert not image.isNull(), f"{path} is not a readable PNG"
    buffer = image.constBits()
    buffer.setsize(image.height() * image.bytesPerLine())
    rows = np.frombuffer(buffer, np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 4].reshape(image.height(), image.width(), 4).copy()


def test_demo_napari_opens_the_store_and_renders_it(tmp_path, qapp):
    assert os.environ.get("DISPLAY"), "pytest-xvfb provides the display"
    shot = tmp_path / "demo.png"
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    proc = subprocess.run(
        [*_ngff(), "demo", str(tmp_path / "out"), "--napari", "--shape", "16,96,96", "--screenshot", str(shot)],
        capture_output=True, text=True, timeout=240, env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert (tmp_path / "out" / "demo.ome.zarr").is_dir()
    assert (tmp_path / "out" / "plate.ome.zarr").is_dir()
    # The summaries are printed first, then each viewer's layers made through our reader.
    assert "OME-Zarr 0.5" in out and "'demo plate'" in out and "5 of 6 wells present" in out
    sections = out.split("\nviewer ")[1:]
    assert [s.split(":")[0] for s in sections] == ["demo.ome.zarr", "plate.ome.zarr"], out
    image_layers = [line for line in sections[0].splitlines() if line.startswith("layer ")]
    assert len(image_layers) == 4, out
    assert sum("Image" in line for line in image_layers) == 3
    assert any("'cells'" in line and "Labels" in line for line in image_layers), out
    plate_layers = [line for line in sections[1].splitlines() if line.startswith("layer ")]
    assert sum("Image" in line for line in plate_layers) == 2, out  # nuclei and marker mosaics
    assert any("'nuclei'" in line for line in plate_layers) and any("'marker'" in line for line in plate_layers)

    pixels = _png(shot)[..., :3].astype(np.int32)
    background = pixels[1, 1]
    shows_data = (np.abs(pixels - background).max(axis=-1) > 12).mean()
    assert shows_data > 0.05, f"the canvas is nearly blank ({shows_data:.3f})"
    colours = {tuple(c) for c in pixels[::7, ::7].reshape(-1, 3) // 32}
    assert len(colours) > 5, "three coloured channels should blend into many colours"

    mosaic = _png(tmp_path / "demo-2.png")[..., :3].astype(np.int32)
    lit = np.abs(mosaic - mosaic[1, 1]).max(axis=-1) > 12
    assert lit.mean() > 0.1, "the plate mosaic is not rendered"
    rows, cols = np.nonzero(lit)
    height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    # 2 rows x 3 columns of square fields: the lit area is about 1.5 times wider than high.
    assert 1.2 < width / height < 1.8, (width, height)


def test_screenshot_without_napari_is_a_clear_error(tmp_path):
    proc = subprocess.run(
        [*_ngff(), "demo", str(tmp_path / "out"), "--headless", "--shape", "8,32,32", "--screenshot", str(tmp_path / "x.png")],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "--screenshot needs napari" in proc.stderr
    assert not (tmp_path / "x.png").exists()
