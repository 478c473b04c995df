"""PNG, JPEG, BMP, GIF and other 2-D formats through imageio.

These formats are compressed as a whole (no tiles), so each process reading an image
decodes it once and keeps it; they are 2-D pictures (or short GIF animations), small
next to the volumes the streaming readers are for.  Colour samples become the channel
axis, GIF frames the time axis.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import NgffError
from .source import FileArray, SourceImage, axis_names, canonical_order

_RGB = ("FF0000", "00FF00", "0000FF", "FFFFFF")


def _imageio() -> Any:
    try:
        import imageio.v3 as iio
    except ImportError:
        raise NgffError(
            "reading PNG, JPEG, BMP or GIF needs imageio: pip install 'napari-ngff[convert]'",
            rule="input format",
        ) from None
    return iio


def open_image(path: Path, *, series: int = 0, dims: Any = None) -> SourceImage:
    """Open a 2-D image (all frames of an animation) without decoding its pixels."""
    iio = _imageio()
    try:
        props = iio.improps(path, index=None)
    except Exception as exc:  # imageio raises many kinds for unreadable files
        raise NgffError(f"not a readable image file: {exc}", location=str(path)) from exc
    if series != 0:
        raise NgffError(f"series {series} requested; the file has 1", location=str(path))
    shape = tuple(int(n) for n in props.shape)
    frames = props.n_images is not None and props.n_images > 1 and len(shape) >= 3
    if dims is not None:
        names = axis_names(dims, len(shape))
    else:
        names = ("t",) if frames else ()
        rest = len(shape) - len(names)
        if rest == 2:
            names += ("y", "x")
        elif rest == 3 and shape[-1] <= 4:
            names += ("y", "x", "c")
        else:
            raise NgffError(
                f"an image of shape {shape} has no default axis names; name them with dims (--dims)",
                location=str(path),
            )
    if np.dtype(props.dtype).kind not in "biuf":
        raise NgffError(f"pixels of dtype {props.dtype} cannot be stored", location=str(path))
    order = canonical_order(names)
    data = FileArray("imageio", path, shape, props.dtype, order, options={"frames": frames})
    dims_out = tuple(names[i] for i in order)
    channels = colors = None
    if "c" in dims_out and names[-1] == "c" and shape[-1] in (3, 4):
        channels = ["red", "green", "blue", "alpha"][: shape[-1]]
        colors = list(_RGB[: shape[-1]])
    return SourceImage(
        data=data, dims=dims_out, channels=channels, colors=colors, name=path.name.split(".")[0]
    )


def open_image_pixels(path: Path, series: int, options: dict[str, Any]) -> np.ndarray:
    """The decoded pixels (every frame when the file is an animation)."""
    iio = _imageio()
    return iio.imread(path, index=None if options.get("frames") else 0)
