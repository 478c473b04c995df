"""Export options: their defaults (from the manifest's ``configurations``) and parsing.

The defaults of the writer contribution and of the export widget come from the
plugin's npe2 ``configurations`` contribution (``export`` category in ``napari.yaml``),
which napari 0.9 turns into user-editable preferences
(``napari.settings.get_plugin_settings("napari-ngff").export``).  Where napari's
plugin settings are unavailable the manifest's own defaults are used, so the manifest
is the single place that states them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CONFIG_KEY",
    "PLUGIN_NAME",
    "ExportOptions",
    "export_defaults",
    "format_chunks",
    "format_shards",
    "parse_chunks",
    "parse_shards",
]

_log = logging.getLogger(__name__)

PLUGIN_NAME = "napari-ngff"
CONFIG_KEY = "export"


@dataclass(frozen=True)
class ExportOptions:
    """How layers are written (see :func:`ngff.write` for each option's meaning).

    Attributes
    ----------
    version
        ``"0.5"`` (Zarr v3) or ``"0.4"`` (Zarr v2).
    chunks
        ``None`` (automatic), ``"planes"`` (the plane-viewing layout), an int for the
        space axes, or ``{axis: size}``.
    shards
        ``None`` (no sharding), ``"auto"``, an int (chunks per shard along space axes)
        or ``{axis: chunks}``.  Ignored for 0.4, which cannot shard.
    codec
        Codec name (``"blosc-zstd"``, ``"zstd"``, …).
    codec_level
        Compression level (None: the codec's default).
    method
        Downsampling method, or None: ``gaussian`` for images, ``mode`` for labels.
    levels
        Number of pyramid levels; 0 chooses automatically (or keeps a multiscale
        layer's own number of levels).
    """

    version: str = "0.5"
    chunks: str | int | Mapping[str, int] | None = None
    shards: str | int | Mapping[str, int] | None = None
    codec: str = "blosc-zstd"
    codec_level: int | None = None
    method: str | None = None
    levels: int = 0

    @property
    def codec_spec(self) -> str:
        """The codec as :func:`ngff.write` takes it, e.g. ``"zstd:5"``."""
        return (
            self.codec
            if self.codec_level is None or self.codec == "none"
            else f"{self.codec}:{self.codec_level}"
        )

    @property
    def effective_shards(self) -> str | int | Mapping[str, int] | None:
        """Shards, or None for 0.4 (Zarr v2 has no sharding)."""
        return None if self.version == "0.4" else self.shards


def _manifest_defaults() -> dict[str, Any]:
    """The ``export`` property defaults as the manifest states them."""
    from importlib import resources

    from npe2 import PluginManifest

    with resources.as_file(resources.files("napari_ngff").joinpath("napari.yaml")) as path:
        manifest = PluginManifest.from_file(path)
    props = manifest.contributions.configurations[CONFIG_KEY].properties
    return {key: prop.default for key, prop in props.items()}


def _settings_values() -> dict[str, Any]:
    """The user's current export preferences from napari's plugin settings."""
    from napari.settings import get_plugin_settings

    category = getattr(get_plugin_settings(PLUGIN_NAME), CONFIG_KEY)
    data = category.model_dump() if hasattr(category, "model_dump") else category.dict()
    return dict(data)


def _from_values(values: Mapping[str, Any]) -> ExportOptions:
    level = values.get("codec_level")
    method = values.get("method") or "auto"
    return ExportOptions(
        version=str(values.get("version") or "0.5"),
        chunks=parse_chunks(str(values.get("chunks") or "")),
        shards=parse_shards(str(values.get("shards") or "none")),
        codec=str(values.get("codec") or "blosc-zstd"),
        codec_level=int(level) if level is not None and int(level) >= 0 else None,
        method=None if method == "auto" else str(method),
        levels=int(values.get("levels") or 0),
    )


def export_defaults() -> ExportOptions:
    """Export options from napari's plugin settings, else the manifest's defaults.

    Never raises: a broken settings file falls back to the manifest, a broken
    manifest to :class:`ExportOptions`' own defaults.
    """
    for source in (_settings_values, _manifest_defaults):
        try:
            return _from_values(source())
        except Exception as exc:  # settings unavailable or invalid: try the next source
            _log.debug("napari-ngff: export defaults from %s failed: %s", source.__name__, exc)
    return ExportOptions()


# --------------------------------------------------------------------------- parsing


def parse_chunks(text: str, dims: Sequence[str] | None = None) -> str | int | dict[str, int] | None:
    """Chunk shape from text: ``""``/``"auto"`` (None), ``"planes"`` (the plane-viewing
    layout of :func:`ngff.write`), ``"64"`` (space axes) or ``"z,y,x"`` sizes.

    A comma list gives the sizes of the *last* axes (``"32,256,256"`` → z, y, x), or of
    the axes named ``"z=32,y=256"``.

    Raises
    ------
    ValueError
        For text that is neither.
    """
    text = text.strip().lower()
    if text in ("", "auto", "none"):
        return None
    if text == "planes":
        return "planes"
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) == 1 and "=" not in parts[0]:
        return _positive(parts[0], "chunk size")
    if all("=" in p for p in parts):
        return {
            k.strip(): _positive(v, f"chunk size of {k.strip()!r}")
            for k, v in (p.split("=", 1) for p in parts)
        }
    names = (
        list(dims)
        if dims is not None
        else ["z", "y", "x"][-len(parts) :]
        if len(parts) <= 3
        else None
    )
    if names is None or len(parts) > len(names):
        raise ValueError(
            f"{len(parts)} chunk sizes: give at most {len(names) if names else 3} (for the last axes, "
            "z,y,x) or name the axes, e.g. t=1,z=32,y=256,x=256"
        )
    return {d: _positive(p, f"chunk size of {d!r}") for d, p in zip(names[-len(parts) :], parts)}


def parse_shards(text: str) -> str | int | dict[str, int] | None:
    """Shards from text: ``"none"`` (None), ``"auto"``, ``"N"`` chunks per shard, or ``"z=1,y=4,x=4"``."""
    text = text.strip().lower()
    if text in ("", "none", "no", "off"):
        return None
    if text == "auto":
        return "auto"
    if "=" in text:
        return {
            k.strip(): _positive(v, f"shards of {k.strip()!r}")
            for k, v in (p.split("=", 1) for p in text.split(",") if p.strip())
        }
    return _positive(text, "chunks per shard")


def format_chunks(chunks: str | int | Mapping[str, int] | None) -> str:
    """Text form of a chunk option (inverse of :func:`parse_chunks`)."""
    if chunks is None:
        return ""
    if isinstance(chunks, Mapping):
        return ",".join(f"{k}={v}" for k, v in chunks.items())
    return str(chunks)


def format_shards(shards: str | int | Mapping[str, int] | None) -> str:
    """Text form of a shards option (inverse of :func:`parse_shards`)."""
    if shards is None:
        return "none"
    if isinstance(shards, Mapping):
        return ",".join(f"{k}={v}" for k, v in shards.items())
    return str(shards)


def _positive(text: str, what: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"{what} must be a whole number, got {text.strip()!r}") from None
    if value < 1:
        raise ValueError(f"{what} must be at least 1, got {value}")
    return value
