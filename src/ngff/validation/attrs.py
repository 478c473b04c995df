"""Validate the OME metadata of one group: version, kind, and every OME key present.

:func:`check_attrs` is shared by :func:`validate_attrs` (one document) and the store walk
(every group of a hierarchy).  It never raises: everything wrong becomes a finding.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ..errors import NgffError
from ..spec import OME_KEYS, Spec, detect_version, get_spec
from .collection import check_layout, check_series
from .hcs import PlateInfo, WellInfo, check_plate, check_well
from .multiscales import MultiscaleInfo, check_multiscales
from .omero_labels import check_image_label, check_labels_list, check_omero
from .report import Findings, Report
from .values import is_dict, short, type_name
from .versions import check_namespace_version

__all__ = ["KINDS", "GroupCheck", "check_attrs", "detect_kind", "unwrap_document", "validate_attrs"]

#: The key each node kind is recognised by (and must have).
KINDS: dict[str, str] = {
    "image": "multiscales",
    "label": "image-label",
    "plate": "plate",
    "well": "well",
    "labels": "labels",
    "collection": "bioformats2raw.layout",
    "series": "series",
}


@dataclass
class GroupCheck:
    """What checking a group's attributes found out (for the store walk).

    Attributes
    ----------
    spec
        The version's :class:`Spec`; None when the version is unknown or unsupported.
    kind
        Node kind (``KINDS`` key) checked; None when the group holds no OME metadata.
    keys
        The OME keys present.
    """

    spec: Spec | None = None
    kind: str | None = None
    keys: frozenset[str] = frozenset()
    multiscales: list[MultiscaleInfo] = field(default_factory=list)
    channels: int | None = None
    labels: list[str] | None = None
    plate: PlateInfo | None = None
    well: WellInfo | None = None
    series: list[str] | None = None

    @property
    def version(self) -> str | None:
        """The version checked against."""
        return self.spec.version if self.spec is not None else None


def detect_kind(ome: dict[str, Any]) -> str | None:
    """The node kind OME keys describe (plate before collection before well before images)."""
    if "plate" in ome:
        return "plate"
    if "bioformats2raw.layout" in ome:
        return "collection"
    if "well" in ome:
        return "well"
    if "multiscales" in ome:
        return "label" if "image-label" in ome else "image"
    if "image-label" in ome:
        return "label"
    if "labels" in ome:
        return "labels"
    if "series" in ome:
        return "series"
    return None


def unwrap_document(document: Any, f: Findings) -> tuple[Any, int | None]:
    """Group attributes of a document, and its Zarr format when it is a ``zarr.json``."""
    if not is_dict(document) or "zarr_format" not in document:
        return document, None
    if not ("attributes" in document or "node_type" in document):
        return document, None
    zarr_format = document.get("zarr_format")
    if zarr_format != 3:
        f.error(
            "zarr_format",
            "zarr.format",
            f'a zarr.json document MUST have "zarr_format": 3, found {short(zarr_format)}',
        )
    if document.get("node_type") != "group":
        f.error(
            "node_type",
            "zarr.node-type",
            f'OME-Zarr metadata lives in groups; "node_type" is {short(document.get("node_type"))}',
        )
    attributes = document.get("attributes", {})
    if not is_dict(attributes):
        f.error(
            "attributes",
            "zarr.attributes",
            f'"attributes" MUST be a JSON object, found {type_name(attributes)}',
        )
        return {}, 3
    return attributes, 3


def _resolve_spec(
    attrs: dict[str, Any],
    f: Findings,
    version: str | None,
    zarr_format: int | None,
    default_version: str | None,
) -> Spec | None:
    if version is None:
        guess_format = zarr_format if zarr_format is not None else (3 if "ome" in attrs else 2)
        version = detect_version(attrs, guess_format, default=default_version)
        if version is None:
            hint = (
                " (this looks like a zarr.json document stored as attributes)"
                if "attributes" in attrs
                else ""
            )
            f.error("", "ome.missing", f"no OME-Zarr metadata keys found{hint}")
            return None
    try:
        return get_spec(version)
    except NgffError:
        f.error(
            "", "version.unsupported", f"OME-Zarr version {short(version)} is not one of 0.1 to 0.5"
        )
        return None


def _ome_mapping(attrs: dict[str, Any], spec: Spec, f: Findings) -> dict[str, Any] | None:
    if not spec.namespaced:
        return attrs
    if "ome" not in attrs:
        f.error(
            "",
            "ome.namespace-missing",
            f"OME-Zarr {spec.version} metadata MUST be stored under the key `ome` in the attributes",
        )
        return {}
    ome = attrs["ome"]
    if not is_dict(ome):
        f.error("ome", "ome.type", f"`ome` MUST be a JSON object, found {type_name(ome)}")
        return None
    legacy = [k for k in OME_KEYS if k in attrs]
    if legacy:
        # RFC-2: 0.4 and 0.5 side by side is "NOT RECOMMENDED"; 0.5 is read preferentially.
        f.warn(
            "",
            "version.side-by-side",
            f"top-level {', '.join(legacy)} beside `ome`: mixing versions is not recommended",
        )
    return ome


def check_attrs(
    attrs: Any,
    f: Findings,
    *,
    kind: str | None = None,
    version: str | None = None,
    zarr_format: int | None = None,
    default_version: str | None = None,
) -> GroupCheck:
    """Check the OME metadata in a group's attributes.

    Parameters
    ----------
    attrs
        The group attributes (any JSON value is accepted).
    f
        Where findings go.
    kind
        Expected node kind (a ``KINDS`` key); None to detect it from the keys.
    version
        Version to check against; None to detect it.
    zarr_format
        Zarr format the attributes were stored in, when known (checked against the version).
    default_version
        Version assumed when the attributes declare none (the parent's, in a hierarchy).
    """
    result = GroupCheck()
    if not is_dict(attrs):
        f.error(
            "", "document.type", f"group attributes MUST be a JSON object, found {type_name(attrs)}"
        )
        return result
    if kind is not None and kind not in KINDS:
        f.error(
            "", "kind.unknown", f"unknown node kind {kind!r}; expected one of {', '.join(KINDS)}"
        )
        return result
    spec = _resolve_spec(attrs, f, version, zarr_format, default_version)
    if spec is None:
        return result
    result.spec = spec
    if zarr_format is not None and zarr_format != spec.zarr_format:
        f.error(
            "",
            "zarr.format",
            f"OME-Zarr {spec.version} MUST be stored in Zarr version {spec.zarr_format}; this group is Zarr v{zarr_format}",
        )
    ome = _ome_mapping(attrs, spec, f)
    if ome is None:
        return result
    result.keys = frozenset(k for k in OME_KEYS if k in ome)
    result.kind = kind or detect_kind(ome)
    if result.kind is None:
        hint = ""
        if not spec.namespaced and "ome" in attrs:
            hint = f" (OME-Zarr {spec.version} keeps its keys at the top level, not under `ome`)"
        f.error("", "ome.missing", f"no OME-Zarr metadata keys found{hint}")
        return result
    if spec.namespaced:
        # Every 0.5 schema requires `ome.version`; no schema covers the labels group.
        check_namespace_version(ome, spec, f, required=result.kind != "labels")
    required = KINDS[result.kind]
    if required not in ome:
        f.error(
            "", f"{result.kind}.key-missing", f"a {result.kind} group MUST contain {required!r}"
        )
    _check_keys(ome, spec, f, result)
    return result


def _check_keys(ome: dict[str, Any], spec: Spec, f: Findings, result: GroupCheck) -> None:
    if "multiscales" in ome:
        result.multiscales = check_multiscales(ome["multiscales"], spec, f)
    if "omero" in ome:
        result.channels = check_omero(ome["omero"], spec, f)
    if "image-label" in ome:
        check_image_label(ome["image-label"], spec, f)
    if "labels" in ome:
        result.labels = check_labels_list(ome["labels"], f)
    if "plate" in ome:
        result.plate = check_plate(ome["plate"], spec, f)
    if "well" in ome:
        result.well = check_well(ome["well"], spec, f)
    if "bioformats2raw.layout" in ome:
        check_layout(ome["bioformats2raw.layout"], f)
    if "series" in ome:
        result.series = check_series(ome["series"], f)


def validate_attrs(
    document: Any,
    *,
    kind: str | None = None,
    version: str | None = None,
    strict: bool = False,
    schemas: str | os.PathLike[str] | None = None,
) -> Report:
    """Validate one OME-Zarr metadata document.

    Parameters
    ----------
    document
        Group attributes (``.zattrs`` content for 0.1-0.4, ``{"ome": {...}}`` for 0.5) or
        a whole group ``zarr.json`` document (its ``attributes`` are checked).  Any JSON
        value is accepted; what is not metadata is reported, never raised.
    kind
        ``"image"``, ``"label"``, ``"plate"``, ``"well"``, ``"labels"``, ``"collection"``
        or ``"series"``; None detects it from the keys present.
    version
        OME-Zarr version to check against; None detects it from the document.
    strict
        Report unmet SHOULDs as errors.
    schemas
        Optional directory laid out as ``<dir>/<version>/schemas/*.schema``: also check
        the document against the official JSON schema of its version and kind (needs
        ``jsonschema``; problems have rules ``schema:<file>``).

    Returns
    -------
    Report
        ``ok`` is False when a MUST (or, with ``strict``, a SHOULD) is broken.
    """
    f = Findings()
    checked = GroupCheck()
    try:
        attrs, zarr_format = unwrap_document(document, f)
        checked = check_attrs(attrs, f, kind=kind, version=version, zarr_format=zarr_format)
        if schemas is not None and checked.spec is not None:
            from .schemas import SchemaChecker

            keys = [KINDS[checked.kind]] if kind is not None and checked.kind else checked.keys
            SchemaChecker(schemas).check(attrs, checked.spec, keys, f, strict=strict)
    except RecursionError:
        f.error("", "document.too-deep", "the document is nested too deeply to check")
    except Exception as exc:  # noqa: BLE001 - a bug of ours must not become the caller's exception
        f.error(
            "", "validator.internal-error", f"internal validator error: {type(exc).__name__}: {exc}"
        )
    return f.report(strict=strict, version=checked.version, kind=checked.kind)
