"""Validation of OME-Zarr metadata and hierarchies against the spec text (0.1-0.5, RFC-4).

* :func:`validate` walks a store from its root group through everything the metadata
  points to and returns a :class:`Report`.
* :func:`validate_attrs` checks one metadata document (group attributes or a whole
  group ``zarr.json``).

Every MUST of the spec is an error, every SHOULD a warning (an error with
``strict=True``).  The rules are implemented here, not by JSON Schema; the official
schemas can be added as a cross-check with ``schemas=`` (needs ``jsonschema``).
"""

from __future__ import annotations

from .attrs import validate_attrs
from .report import Problem, Report
from .store import validate

__all__ = ["Problem", "Report", "validate", "validate_attrs"]
