"""A small PNG encoder (zlib + struct), enough for thumbnails.

Writes 8-bit greyscale (``(h, w)``) or RGB (``(h, w, 3)``) images without filtering
(filter type 0 on every row): thumbnails are small, so the simplest valid PNG is
fast enough and needs no imaging library.
"""

from __future__ import annotations

import struct
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = ["encode_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    # Length, type, data, then the CRC over type and data (PNG spec, section 5.3).
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(pixels: np.ndarray, *, level: int = 6) -> bytes:
    """Encode an 8-bit image as PNG bytes.

    Parameters
    ----------
    pixels
        ``uint8`` array of shape ``(height, width)`` (greyscale) or
        ``(height, width, 3)`` (RGB).
    level
        zlib compression level, 0-9.

    Returns
    -------
    bytes
        A complete PNG file.

    Raises
    ------
    ValueError
        For another dtype or shape, or an empty image.
    """
    import numpy as np

    array = np.asarray(pixels)
    if array.dtype != np.uint8:
        raise ValueError(f"PNG pixels must be uint8, got {array.dtype}")
    if array.ndim == 2:
        colour_type, channels = 0, 1
    elif array.ndim == 3 and array.shape[2] == 3:
        colour_type, channels = 2, 3
    else:
        raise ValueError(f"expected a (h, w) or (h, w, 3) image, got shape {array.shape}")
    height, width = array.shape[:2]
    if height < 1 or width < 1:
        raise ValueError(f"cannot encode an empty image of shape {array.shape}")
    rows = np.ascontiguousarray(array).reshape(height, width * channels)
    # Each scanline starts with its filter type byte (0: none).
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1).tobytes()
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (
        _SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, level))
        + _chunk(b"IEND", b"")
    )
