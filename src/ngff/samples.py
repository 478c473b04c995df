"""Built-in synthetic sample data (generated locally, never downloaded)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "synthetic_volume",
    "synthetic_labels",
    "synthetic_field",
    "DEMO_CHANNELS",
    "DEMO_SCALE",
    "DEMO_LABEL_COLORS",
    "DEMO_PLATE_CHANNELS",
]

#: Channel names and colours of the demo sample (shared by ``ngff demo`` and the plugin).
DEMO_CHANNELS: tuple[tuple[str, str], ...] = (("red", "FF0000"), ("green", "00FF00"), ("blue", "0000FF"))
#: Channel names and colours of the demo plate's fields (nuclei, and a marker whose level varies by row).
DEMO_PLATE_CHANNELS: tuple[tuple[str, str], ...] = (("nuclei", "0000FF"), ("marker", "00FF00"))
#: Physical pixel size of the demo sample, per axis (micrometer).
DEMO_SCALE: dict[str, float] = {"z": 2.0, "y": 0.5, "x": 0.5}
#: RGBA colours of the demo's cell labels, in turn (colour-blind safe).
DEMO_LABEL_COLORS: tuple[tuple[int, int, int, int], ...] = (
    (230, 159, 0, 255),
    (86, 180, 233, 255),
    (0, 158, 115, 255),
    (240, 228, 66, 255),
    (0, 114, 178, 255),
    (204, 121, 167, 255),
)


def synthetic_volume(
    shape: tuple[int, int, int] = (64, 256, 256), channels: int = 3, *, seed: int = 0
) -> np.ndarray:
    """A smooth multichannel 3-D uint16 volume with noise: blobs at shifted places per channel.

    Parameters
    ----------
    shape
        ``(z, y, x)`` size.
    channels
        Number of channels (the first axis of the result).
    seed
        Seed of the noise, so the data is reproducible.

    Returns
    -------
    numpy.ndarray
        ``(c, z, y, x)`` uint16 array.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    z, y, x = (np.linspace(-1, 1, n, dtype=np.float32) for n in shape)
    zz, yy, xx = z[:, None, None], y[None, :, None], x[None, None, :]
    out = np.empty((channels, *shape), dtype=np.uint16)
    for c in range(channels):
        angle = 2 * np.pi * c / max(channels, 1)
        cy, cx = 0.4 * np.sin(angle), 0.4 * np.cos(angle)
        blob = np.exp(-((zz / 0.6) ** 2 + ((yy - cy) / 0.3) ** 2 + ((xx - cx) / 0.3) ** 2) * 2)
        waves = 0.25 * (1 + np.sin(6 * np.pi * (xx + yy + 0.3 * c)))
        signal = 3000 * blob + 600 * waves * np.exp(-(zz**2))
        out[c] = np.clip(signal + rng.normal(200, 40, shape), 0, 65535).astype(np.uint16)
    return out


def synthetic_labels(shape: tuple[int, int, int] = (64, 256, 256), count: int = 6) -> np.ndarray:
    """Non-overlapping spherical labels ``1..count`` in a ``(z, y, x)`` uint32 volume."""
    import numpy as np

    labels = np.zeros(shape, dtype=np.uint32)
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    for i in range(count):
        angle = 2 * np.pi * i / count
        cz, cy, cx = shape[0] / 2, shape[1] * (0.5 + 0.3 * np.sin(angle)), shape[2] * (0.5 + 0.3 * np.cos(angle))
        radius = min(shape[1], shape[2]) * 0.08
        inside = ((z - cz) / max(shape[0] / 4, 1)) ** 2 + ((y - cy) / radius) ** 2 + ((x - cx) / radius) ** 2 <= 1
        labels[inside & (labels == 0)] = i + 1
    return labels


def synthetic_field(
    row: int, column: int, field: int, shape: tuple[int, int] = (128, 128), *, seed: int = 0
) -> np.ndarray:
    """One field of view of the demo plate: 2 channels, ``(c, y, x)`` uint16.

    Channel 0 holds round nuclei, more of them further right on the plate (a dilution
    series); channel 1 a marker inside the nuclei whose brightness grows down the plate,
    so wells look different from one another in a mosaic.
    """
    import numpy as np

    rng = np.random.default_rng((seed, row, column, field))
    height, width = shape
    yy, xx = np.ogrid[:height, :width]
    nuclei = np.zeros(shape, dtype=np.float32)
    radius = max(min(height, width) / 16, 2.0)
    for _ in range(4 + 4 * column):
        cy, cx = rng.uniform(radius, height - radius), rng.uniform(radius, width - radius)
        nuclei = np.maximum(nuclei, np.exp(-(((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * radius**2))))
    marker = nuclei * (0.3 + 0.7 * row)
    out = np.empty((2, *shape), dtype=np.uint16)
    for c, signal in enumerate((nuclei, marker)):
        noisy = 3000 * signal + rng.normal(150, 30, shape)
        out[c] = np.clip(noisy, 0, 65535).astype(np.uint16)
    return out
