"""Sample data contribution: a synthetic multichannel 3-D pyramid with labels."""

from __future__ import annotations

from typing import Any


def sample_pyramid() -> list[tuple[Any, dict[str, Any], str]]:
    """Layer data of a synthetic 3-channel volume (as a 3-level pyramid) and its labels."""
    from ngff.samples import synthetic_labels, synthetic_volume

    volume = synthetic_volume()
    levels = [volume, volume[:, :, ::2, ::2], volume[:, :, ::4, ::4]]
    image_meta = {
        "name": ["red", "green", "blue"],
        "channel_axis": 0,
        "colormap": ["red", "green", "blue"],
        "multiscale": True,
        "scale": (2.0, 0.5, 0.5),
        "axis_labels": ("z", "y", "x"),
        "units": ("micrometer", "micrometer", "micrometer"),
    }
    labels = synthetic_labels()
    label_meta = {"name": "cells", "scale": (2.0, 0.5, 0.5), "axis_labels": ("z", "y", "x")}
    return [(levels, image_meta, "image"), (labels, label_meta, "labels")]
