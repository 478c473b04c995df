"""Sample data contribution: a synthetic 3-channel 3-D pyramid with "cells" labels.

The sample goes through the real path: it is written to a temporary OME-Zarr with
:func:`ngff.write` and :func:`ngff.write_labels` (once per session, then reused) and
opened with the plugin's own reader, so what napari shows is what a user's store gives.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

__all__ = ["SHAPE", "sample_pyramid", "sample_store"]

#: ``(z, y, x)`` size of the synthetic volume.
SHAPE: tuple[int, int, int] = (64, 256, 256)
from ngff.samples import DEMO_CHANNELS as CHANNELS  # noqa: E402  (one definition, shared with `ngff demo`)
from ngff.samples import DEMO_LABEL_COLORS as LABEL_COLORS  # noqa: E402
from ngff.samples import DEMO_SCALE as SCALE  # noqa: E402

_lock = threading.Lock()
_folder: Path | None = None


def _session_folder() -> Path:
    global _folder
    if _folder is None or not _folder.is_dir():
        _folder = Path(tempfile.mkdtemp(prefix="napari-ngff-sample-"))
        atexit.register(shutil.rmtree, _folder, True)
    return _folder


def sample_store(shape: tuple[int, int, int] | None = None) -> Path:
    """The sample OME-Zarr for ``shape`` (default :data:`SHAPE`), written on first use."""
    import ngff
    from ngff.samples import synthetic_labels, synthetic_volume

    size: tuple[int, int, int] = shape or SHAPE
    with _lock:
        target = _session_folder() / f"sample-{'x'.join(map(str, size))}.ome.zarr"
        if (target / "labels" / "cells").is_dir():
            return target
        ngff.write(
            synthetic_volume(size, channels=len(CHANNELS)),
            target,
            dims="czyx",
            scale=dict(SCALE),
            units={axis: "micrometer" for axis in SCALE},
            name="synthetic",
            channels=[{"label": label, "color": color} for label, color in CHANNELS],
            overwrite=True,
        )
        cells = synthetic_labels(size)
        colors = {
            v: LABEL_COLORS[(v - 1) % len(LABEL_COLORS)] for v in range(1, int(cells.max()) + 1)
        }
        properties = {v: {"name": f"cell {v}"} for v in colors}
        ngff.write_labels(
            target, "cells", cells, colors=colors, properties=properties, overwrite=True
        )
        return target


def sample_pyramid() -> list[tuple[Any, dict[str, Any], str]]:
    """Layer data of the synthetic sample, read back through the plugin's reader."""
    from ._reader import read_ome_zarr

    layers = read_ome_zarr(str(sample_store()))
    for _, meta, layer_type in layers:
        if layer_type == "labels":
            meta["visible"] = True  # a demo shows everything it has
    return layers
