"""RFC-9 rules of an ``.ozx`` archive, for :func:`ngff.validate`.

MUSTs and SHALL NOTs become errors, RECOMMENDED items warnings (errors under
``strict``), in the validator's :class:`~ngff.validation.report.Findings`.  Rule ids
start with ``rfc9.``.  The archive is already parsed (:class:`~ngff.ozx.archive.Archive`
refused split, truncated and hostile archives), so these checks read nothing.
"""

from __future__ import annotations

import json
from typing import Any

from .archive import Archive
from .pack import entry_order
from .records import STORED

__all__ = ["check_rfc9"]


def _is_json(name: str) -> bool:
    return name.rsplit("/", 1)[-1] == "zarr.json"


def check_rfc9(archive: Archive, location: str, findings: Any, documents: dict[str, Any] | None = None) -> None:
    """Record every RFC-9 rule ``archive`` breaks into ``findings``."""
    names = archive.order
    nested = [n for n in names if n.lower().endswith((".zip", ".ozx"))]
    if nested:
        findings.error(
            nested[0], "rfc9.nested",
            f"{len(nested)} zip archive(s) inside the hierarchy: OME-Zarr zip files SHALL NOT be embedded in a parent OME-Zarr hierarchy",
        )
    if not archive.zip64:
        findings.warn("", "rfc9.zip64", "no ZIP64 records: the ZIP64 format extension SHOULD be used, irrespective of the ZIP file size")
    compressed = [n for n in names if archive.entries[n].method != STORED]
    if compressed:
        findings.warn(
            compressed[0], "rfc9.stored",
            f"{len(compressed)} compressed entries: ZIP-level compression SHOULD be disabled in favor of Zarr-level compression codecs",
        )
    unsharded = []
    for name in names:
        if not _is_json(name):
            continue
        try:
            document = json.loads(archive.read(name) or b"{}")
        except (ValueError, UnicodeDecodeError):
            continue  # the metadata checks report malformed JSON
        if isinstance(document, dict) and document.get("node_type") == "array":
            codecs = document.get("codecs") or []
            if not any(isinstance(c, dict) and c.get("name") == "sharding_indexed" for c in codecs):
                unsharded.append(name.rsplit("/", 1)[0])
    if unsharded:
        findings.warn(
            unsharded[0], "rfc9.sharding",
            f"{len(unsharded)} arrays without sharding: the sharding codec SHOULD be used to reduce the number of entries",
        )
    jsons = [n for n in names if _is_json(n)]
    if names and names[0] != "zarr.json":
        findings.warn("", "rfc9.root-first", "the root-level zarr.json SHOULD be the first ZIP file entry and the first entry in the central directory")
    if jsons and entry_order(list(names))[: len(jsons)] != jsons:
        message = "zarr.json files SHOULD follow the root zarr.json immediately, in breadth-first order"
        if archive.json_first_claimed:
            findings.error("", "rfc9.json-first", "the archive comment claims jsonFirst, but " + message[0].lower() + message[1:] + " and do not")
        else:
            findings.warn("", "rfc9.order", message)
    offsets = [archive.entries[n].header_offset for n in names]
    if offsets != sorted(offsets):
        findings.warn("", "rfc9.order", "the central directory does not list the entries in file order (zarr.json files SHOULD come first in both)")
    if not location.rstrip("/").lower().endswith(".ozx"):
        findings.warn("", "rfc9.extension", "the name of OME-Zarr zip files SHOULD end with .ozx")
    if archive.ome is None or archive.version is None:
        findings.warn(
            "", "rfc9.comment",
            'the ZIP archive comment SHOULD contain UTF-8 JSON with an "ome" attribute holding a "version" string',
        )
    elif documents is not None:
        declared = ((documents.get("attributes") or {}).get("ome") or {}).get("version") if isinstance(documents, dict) else None
        if isinstance(declared, str) and declared != archive.version:
            findings.warn("", "rfc9.comment-version", f"the archive comment says version {archive.version}, the root zarr.json {declared}")
