"""The spec layer: every difference between OME-Zarr versions lives here.

``detect_version`` reads the version a group's attributes declare (or imply);
``get_spec`` returns the :class:`Spec` that parses and dumps that version.  Outside this
package no code compares version strings: it asks the flags of the ``Spec`` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import UnsupportedVersionError
from ._base import OME_KEYS, Spec
from .v01 import V01
from .v02 import V02
from .v03 import V03
from .v04 import V04
from .v05 import V05

__all__ = ["Spec", "SPECS", "SUPPORTED_VERSIONS", "WRITABLE_VERSIONS", "detect_version", "get_spec", "OME_KEYS"]

SPECS: dict[str, Spec] = {s.version: s for s in (V01(), V02(), V03(), V04(), V05())}
SUPPORTED_VERSIONS: tuple[str, ...] = tuple(SPECS)
WRITABLE_VERSIONS: tuple[str, ...] = ("0.4", "0.5")

_VERSIONED_KEYS = ("multiscales", "plate", "well", "image-label")


def normalize_version(raw: Any) -> str | None:
    """``"0.4"`` from ``"0.4"``, ``"0.5-dev1"`` or ``"0.4.1"``; None when not a string."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str):
        return None
    base = raw.split("-", 1)[0].strip()
    parts = base.split(".")
    if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
        return f"{int(parts[0])}.{int(parts[1])}"
    return raw


def _declared_version(ome: Mapping[str, Any]) -> Any:
    for key in _VERSIONED_KEYS:
        value = ome.get(key)
        if key == "multiscales" and isinstance(value, list) and value and isinstance(value[0], Mapping):
            value = value[0]
        if isinstance(value, Mapping) and "version" in value:
            return value["version"]
    return None


def _implied_version(ome: Mapping[str, Any]) -> str:
    """Version suggested by the shape of undeclared metadata (lenient reading)."""
    multiscales = ome.get("multiscales")
    if isinstance(multiscales, list) and multiscales and isinstance(multiscales[0], Mapping):
        axes = multiscales[0].get("axes")
        if axes is None:
            return "0.2"
        if isinstance(axes, list) and axes and all(isinstance(a, str) for a in axes):
            return "0.3"
    return "0.4"


def has_ome_keys(attrs: Mapping[str, Any]) -> bool:
    """True when a group's attributes hold OME-Zarr metadata of any version."""
    if not isinstance(attrs, Mapping):
        return False
    ome = attrs.get("ome")
    if isinstance(ome, Mapping) and (any(k in ome for k in OME_KEYS) or "version" in ome):
        return True
    return any(k in attrs for k in OME_KEYS if k != "series")


def detect_version(attrs: Mapping[str, Any], zarr_format: int, default: str | None = None) -> str | None:
    """The OME-Zarr version of a group's attributes, or None when they hold no OME keys.

    Parameters
    ----------
    attrs
        Group attributes (``.zattrs`` or ``zarr.json`` ``attributes``).
    zarr_format
        2 or 3, the Zarr format of the group.
    default
        Version to assume when the attributes declare none (e.g. the parent's).

    Returns
    -------
    str or None
        The normalised version string as declared; when undeclared, the version the
        structure implies (``ome`` namespace: 0.5; otherwise 0.2, 0.3 or 0.4).
    """
    if not isinstance(attrs, Mapping):
        return None
    ome = attrs.get("ome")
    if isinstance(ome, Mapping) and (any(k in ome for k in OME_KEYS) or "version" in ome):
        declared = normalize_version(ome.get("version"))
        return declared or default or "0.5"
    if not any(k in attrs for k in OME_KEYS):
        return None
    declared = normalize_version(_declared_version(attrs))
    return declared or default or _implied_version(attrs)


def get_spec(version: str, *, location: str | None = None) -> Spec:
    """The :class:`Spec` of an OME-Zarr version.

    Raises
    ------
    UnsupportedVersionError
        For versions other than 0.1 to 0.5.
    """
    try:
        return SPECS[version]
    except KeyError:
        raise UnsupportedVersionError(
            f"OME-Zarr version {version!r} is not supported (supported: {', '.join(SUPPORTED_VERSIONS)})",
            location=location,
        ) from None
