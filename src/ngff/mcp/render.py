"""Render one plane of an image as an 8-bit picture (for the ``thumbnail`` tools).

Contrast comes from the OMERO window of each channel (``start``-``end``) when it has a
usable one and from the plane's own 0.5-99.5 percentiles otherwise; colours from the
OMERO channel colours (white for a lone channel without one).  Channels are added up,
as a fluorescence viewer shows them.  Label images get their ``image-label`` colours,
or a fixed palette, with 0 black.

The level is the finest one whose plane fits ``max_size`` on both sides; a plane larger
than that (an image with one level) is subsampled by a whole step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import NgffError
from ..model import Image

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Rendered", "level_index", "plane_axes", "render_plane"]

#: Colours of channels without an OMERO colour (a lone channel is shown white).
_DEFAULT_COLOURS = ("FF0000", "00FF00", "0000FF", "FF00FF", "00FFFF", "FFFF00")
#: Largest thumbnail side a caller may ask for.
MAX_SIZE_LIMIT = 2048
#: Most channels shown when the caller names none.
DEFAULT_CHANNEL_LIMIT = 8
#: Largest plane read to make a thumbnail (subsampling a bigger one would read it all).
MAX_PLANE_PIXELS = 2**26


@dataclass
class Rendered:
    """A rendered plane and how it was made.

    Attributes
    ----------
    pixels
        ``uint8`` ``(h, w)`` greyscale or ``(h, w, 3)`` RGB.
    level
        Pyramid level read.
    indices
        Index used on every non-plane axis, at that level.
    step
        Subsampling step applied to the plane (1: every pixel).
    channels
        Per channel shown: index, label, colour and the contrast range used.
    """

    pixels: np.ndarray
    level: int
    indices: dict[str, int]
    step: int
    plane_axes: tuple[str, str]
    channels: list[dict[str, Any]] = field(default_factory=list)


def plane_axes(image: Image) -> tuple[int, int]:
    """Positions of the two axes a plane spans: the last two space axes (else the last two)."""
    if len(image.dims) < 2:
        raise NgffError(
            f"a {len(image.dims)}-D image has no plane to show", location=image.location
        )
    space = [i for i, a in enumerate(image.axes) if a.type == "space"]
    if len(space) >= 2:
        return space[-2], space[-1]
    return len(image.dims) - 2, len(image.dims) - 1


def level_index(image: Image, level: int | None) -> int:
    """``level`` checked against the image's levels (negative counts from the coarsest)."""
    count = len(image.levels)
    if level is None:
        return 0
    if not -count <= level < count:
        raise NgffError(
            f"level {level} does not exist; the image has levels 0-{count - 1}",
            location=image.location,
        )
    return level % count


def _auto_level(image: Image, rows: int, cols: int, max_size: int) -> int:
    for i, array in enumerate(image.levels):
        if array.shape[rows] <= max_size and array.shape[cols] <= max_size:
            return i
    return len(image.levels) - 1


def _index_at_level(image: Image, axis: int, level: int, value: int | None, default: int) -> int:
    """A full-resolution index mapped onto ``level`` (axes may be downsampled there)."""
    full = image.levels[0].shape[axis]
    here = image.levels[level].shape[axis]
    if value is None:
        return default
    if not -full <= value < full:
        raise NgffError(
            f"index {value} is out of range for axis {image.dims[axis]!r} of size {full}",
            location=image.location,
        )
    value %= full
    return min(value * here // full, here - 1)


def render_plane(
    image: Image,
    *,
    level: int | None = None,
    channels: Sequence[int] | None = None,
    z: int | None = None,
    t: int | None = None,
    max_size: int = 512,
) -> Rendered:
    """Render one plane of ``image``.

    Parameters
    ----------
    image
        The image (or label image).
    level
        Pyramid level; None picks the finest one fitting ``max_size``.
    channels
        Channel indices to show; None shows the active OMERO channels (all when none is
        marked active), at most the first 8.
    z, t
        Full-resolution indices on the ``z`` (any space axis outside the plane) and
        ``t`` axes; None: the middle z plane and the first time point.
    max_size
        Largest side of the result in pixels (at most 2048).

    Returns
    -------
    Rendered

    Raises
    ------
    NgffError
        For an index, level or channel that does not exist.
    """
    import numpy as np

    if not 1 <= max_size <= MAX_SIZE_LIMIT:
        raise NgffError(f"max_size must be between 1 and {MAX_SIZE_LIMIT}, got {max_size}")
    rows, cols = plane_axes(image)
    chosen = (
        _auto_level(image, rows, cols, max_size) if level is None else level_index(image, level)
    )
    array = image.levels[chosen]
    if array.shape[rows] * array.shape[cols] > MAX_PLANE_PIXELS:
        raise NgffError(
            f"the plane of level {chosen} is {array.shape[rows]} x {array.shape[cols]} pixels, too large "
            f"to render (at most {MAX_PLANE_PIXELS:,} are read); "
            + (
                "choose a coarser level"
                if chosen < len(image.levels) - 1
                else "the image has no coarser level"
            ),
            location=image.location,
        )
    step = max(1, -(-array.shape[rows] // max_size), -(-array.shape[cols] // max_size))
    channel_axis = next(
        (i for i, a in enumerate(image.axes) if a.type == "channel" and i not in (rows, cols)), None
    )
    index: list[Any] = []
    indices: dict[str, int] = {}
    for i, name in enumerate(image.dims):
        if i in (rows, cols):
            index.append(slice(None, None, step))
        elif i == channel_axis:
            index.append(slice(None))
        else:
            kind = image.axes[i].type
            if kind == "time" or name == "t":
                value = _index_at_level(image, i, chosen, t, 0)
            elif kind == "space" or name == "z":
                value = _index_at_level(image, i, chosen, z, array.shape[i] // 2)
            else:
                value = 0
            index.append(value)
            indices[name] = value
    count = 1 if channel_axis is None else array.shape[channel_axis]
    wanted = _channels(image, channels, count)
    if channel_axis is not None:
        index[channel_axis] = wanted
    plane = np.asarray(array[tuple(index)].compute())
    # Put the channel axis first and the plane axes last, whatever their stored order.
    if channel_axis is None:
        plane = plane[None]
    else:
        kept = [i for i in range(len(image.dims)) if not isinstance(index[i], int)]
        order = [kept.index(channel_axis), kept.index(rows), kept.index(cols)]
        plane = plane.transpose(order)
    if image.is_label:
        pixels, shown = _label_colours(image, plane[0])
    else:
        pixels, shown = _composite(image, plane, wanted, channel_axis is not None)
    return Rendered(
        pixels=pixels,
        level=chosen,
        indices=indices,
        step=step,
        plane_axes=(image.dims[rows], image.dims[cols]),
        channels=shown,
    )


def _channels(image: Image, channels: Sequence[int] | None, count: int) -> list[int]:
    if channels is None:
        meta = image.channels
        active = [i for i, c in enumerate(meta[:count]) if c.active]
        # Dozens of channels added up would be a white blur; the details list those shown.
        return (active or list(range(count)))[:DEFAULT_CHANNEL_LIMIT]
    if not channels:
        raise NgffError("channels is empty; give channel indices or leave it out")
    out = []
    for c in channels:
        if not -count <= c < count:
            raise NgffError(
                f"channel {c} does not exist; the image has {count} channel(s)",
                location=image.location,
            )
        out.append(c % count)
    return out


def _composite(
    image: Image, plane: np.ndarray, wanted: list[int], has_channels: bool
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    import numpy as np

    meta = image.channels
    lone = len(wanted) == 1
    shown = []
    values = []
    colours = []
    for k, c in enumerate(wanted):
        channel = meta[c] if c < len(meta) else None
        data = plane[k].astype(np.float64)
        window = channel.window if channel is not None else None
        if (
            window is not None
            and np.isfinite([window.start, window.end]).all()
            and window.end > window.start
        ):
            start, end, source = float(window.start), float(window.end), "omero"
        else:
            finite = data[np.isfinite(data)]
            if finite.size:
                start, end = (float(v) for v in np.percentile(finite, (0.5, 99.5)))
            else:
                start, end = 0.0, 1.0
            if end <= start:
                end = start + 1.0
            source = "auto"
        scaled = np.clip((np.nan_to_num(data, nan=start) - start) / (end - start), 0.0, 1.0)
        if channel is not None and channel.inverted:
            scaled = 1.0 - scaled
        colour = channel.color if channel is not None and _is_hex(channel.color) else None
        if colour is None:
            colour = "FFFFFF" if lone else _DEFAULT_COLOURS[c % len(_DEFAULT_COLOURS)]
        values.append(scaled)
        colours.append(colour.upper())
        shown.append(
            {
                "index": c if has_channels else None,
                "label": channel.label if channel is not None else None,
                "color": colour.upper(),
                "contrast": [start, end],
                "contrast_source": source,
            }
        )
    if lone and colours[0] == "FFFFFF":
        return np.rint(values[0] * 255).astype(np.uint8), shown
    rgb = np.zeros((*values[0].shape, 3), np.float64)
    for scaled, colour in zip(values, colours):
        weights = np.array([int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4)])
        rgb += scaled[..., None] * weights
    return np.rint(np.clip(rgb, 0.0, 1.0) * 255).astype(np.uint8), shown


def _label_colours(image: Image, plane: np.ndarray) -> tuple[np.ndarray, list[dict[str, Any]]]:
    import numpy as np

    values = plane.astype(np.int64)
    rgb = np.zeros((*values.shape, 3), np.uint8)
    table = {
        c.value: c.rgba[:3]
        for c in (image.image_label.colors if image.image_label else ())
        if c.rgba
    }
    for value in np.unique(values):
        if value == 0:
            continue
        colour = table.get(int(value))
        if colour is None:
            # A fixed, well spread hue per value (golden-ratio steps), so labels stay recognisable.
            hue = (int(value) * 0.618033988749895) % 1.0
            colour = tuple(
                int(255 * (0.5 + 0.5 * np.cos(2 * np.pi * (hue + k / 3)))) for k in range(3)
            )
        rgb[values == value] = colour
    return rgb, [
        {
            "index": None,
            "label": "labels",
            "color": None,
            "contrast": None,
            "contrast_source": "labels",
        }
    ]


def _is_hex(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value) == 6
        and all(c in "0123456789abcdefABCDEF" for c in value)
    )
