"""Version fields: ``ome.version`` (namespaced versions) and per-object ``version`` keys."""

from __future__ import annotations

from typing import Any

from ..spec import Spec, normalize_version
from .report import Findings, join_path
from .values import is_str, short, type_name

__all__ = ["check_namespace_version", "check_object_version"]


def check_namespace_version(
    ome: dict[str, Any], spec: Spec, f: Findings, *, required: bool = True
) -> None:
    """``ome.version``: "denoted as a string in the `version` attribute within the `ome` namespace".

    ``required=False`` makes a missing version a SHOULD (groups no schema describes).
    """
    if "version" not in ome:
        message = "the `ome` namespace MUST contain the OME-Zarr `version` (schema: required)"
        if required:
            f.error("version", "version.missing", message)
        else:
            f.warn(
                "version",
                "version.missing",
                message.replace("MUST", "SHOULD").replace(" (schema: required)", ""),
            )
        return
    raw = ome["version"]
    if raw != spec.version:
        f.error(
            "version",
            "version.value",
            f"`ome.version` MUST be the string {spec.version!r} (schema enum); found {short(raw)}",
        )


def check_object_version(
    obj: dict[str, Any], spec: Spec, f: Findings, path: str, what: str
) -> None:
    """The ``version`` key of a multiscale, plate, well or image-label object.

    Parameters
    ----------
    obj
        The object.
    spec
        The version the document is checked against.
    f
        Where findings go.
    path
        JSON path of the object.
    what
        ``"multiscale"``, ``"plate"``, ``"well"`` or ``"image-label"``.
    """
    where = join_path(path, "version")
    if not spec.per_object_version:
        # The version lives in `ome`; a stray per-object key is tolerated when it agrees.
        if "version" in obj and normalize_version(obj["version"]) != spec.version:
            f.warn(
                where,
                "version.mismatch",
                f"this {what} declares version {short(obj['version'])} "
                f"in a {spec.version} hierarchy (the version MUST be consistent within a hierarchy)",
            )
        return
    if "version" not in obj:
        if what == "plate" and spec.plate_version_required:
            f.error(
                path,
                "version.missing",
                f"the plate MUST contain a `version` ({spec.version} schema)",
            )
        else:
            f.warn(
                path,
                "version.missing",
                f"the {what} SHOULD contain a `version` (current version is {spec.version})",
            )
        return
    raw = obj["version"]
    if not is_str(raw):
        f.error(where, "version.type", f"`version` MUST be a string, found {type_name(raw)}")
    elif raw != spec.version:
        if normalize_version(raw) == spec.version:
            f.warn(
                where,
                "version.format",
                f"version {raw!r} is not written as {spec.version!r} (schema enum)",
            )
        else:
            f.error(
                where,
                "version.mismatch",
                f"this {what} declares version {raw!r}, not {spec.version!r}",
            )
