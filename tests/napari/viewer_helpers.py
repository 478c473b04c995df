"""Helpers of the napari plugin tests (screenshots of the canvas)."""

from __future__ import annotations

import numpy as np

PLUGIN = "napari-ngff"


def canvas(viewer) -> np.ndarray:
    """RGB screenshot of the canvas after fitting the view to the data."""
    viewer.reset_view()
    shot = viewer.screenshot(canvas_only=True, flash=False)
    return np.asarray(shot)[..., :3].astype(np.int32)


def background(viewer) -> np.ndarray:
    """The canvas colour where there is no data (its top-left corner)."""
    return canvas(viewer)[1, 1]


def data_fraction(shot: np.ndarray, bg: np.ndarray, tolerance: int = 12) -> float:
    """Fraction of canvas pixels that differ from the background colour."""
    return float((np.abs(shot - bg).max(axis=-1) > tolerance).mean())
