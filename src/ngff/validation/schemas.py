"""The optional JSON-schema cross-check (needs the ``validate`` extra: ``jsonschema``).

The official schemas are read from a directory laid out like the spec repository,
``<dir>/<version>/schemas/*.schema``.  Each schema is registered under its ``$id``, under
the canonical ``https://ngff.openmicroscopy.org/<version>/schemas/<file>`` URL and under
its bare file name: some ``$id``s are wrong (0.2 ``image.schema`` says
``http://localhost:8000/…``, 0.4 ``bf2raw``/``ome`` point to ``/latest/``), and ``$ref``s
use the canonical URLs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..spec import Spec
from .report import Findings

__all__ = ["SchemaChecker"]

_BASE = "https://ngff.openmicroscopy.org"

#: OME key -> node kind whose schema describes it.
_KIND_OF_KEY = {
    "multiscales": "image",
    "image-label": "label",
    "plate": "plate",
    "well": "well",
    "bioformats2raw.layout": "collection",
    "series": "series",
}


class SchemaChecker:
    """Validate group attributes against the official JSON schemas of their version.

    Parameters
    ----------
    directory
        Folder holding ``<version>/schemas/*.schema``.
    """

    def __init__(self, directory: str | os.PathLike[str]):
        self.directory = Path(directory)
        self._validators: dict[tuple[str, str], Any] = {}
        self._registries: dict[str, Any] = {}

    def _registry(self, version: str) -> tuple[Any, dict[str, dict[str, Any]]]:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        folder = self.directory / version / "schemas"
        schemas: dict[str, dict[str, Any]] = {}
        for path in sorted(folder.glob("*.schema")):
            try:
                schemas[path.name] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
        resources: list[tuple[str, Any]] = []
        for name, schema in schemas.items():
            resource = Resource.from_contents(schema, default_specification=DRAFT202012)
            uris = {name, f"{_BASE}/{version}/schemas/{name}"}
            if isinstance(schema.get("$id"), str):
                uris.add(schema["$id"])
            resources.extend((uri, resource) for uri in uris)
        return Registry().with_resources(resources), schemas

    def validator(self, version: str, name: str) -> Any | None:
        """A Draft 2020-12 validator for schema file ``name`` of ``version`` (None if absent)."""
        key = (version, name)
        if key not in self._validators:
            from jsonschema import Draft202012Validator

            if version not in self._registries:
                self._registries[version] = self._registry(version)
            registry, schemas = self._registries[version]
            schema = schemas.get(name)
            self._validators[key] = (
                None if schema is None else Draft202012Validator(schema, registry=registry)
            )
        return self._validators[key]

    def schema_names(self, spec: Spec, keys: Iterable[str], strict: bool) -> list[str]:
        """Schema files describing a group with these OME keys."""
        names = []
        for key in keys:
            kind = _KIND_OF_KEY.get(key)
            name = spec.schema_names.get(kind or "")
            if name is None:
                continue
            if strict and (self.directory / spec.version / "schemas" / f"strict_{name}").exists():
                name = f"strict_{name}"
            names.append(name)
        return names

    def check(
        self, attrs: Any, spec: Spec, keys: Iterable[str], f: Findings, *, strict: bool = False
    ) -> None:
        """Record every schema violation of ``attrs`` as an error ``schema:<file>``."""
        for name in self.schema_names(spec, keys, strict):
            try:
                validator = self.validator(spec.version, name)
            except ImportError:
                f.error(
                    "",
                    "schema:unavailable",
                    "the JSON-schema check needs `jsonschema` (the `validate` extra)",
                )
                return
            if validator is None:
                f.note(
                    "",
                    f"schema:{name}",
                    f"schema {name} of {spec.version} not found under {self.directory}",
                )
                continue
            for error in validator.iter_errors(attrs):
                parts = list(error.absolute_path)
                if spec.namespaced and parts[:1] == ["ome"]:
                    parts = parts[1:]  # our paths are relative to the `ome` namespace
                where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(
                    "."
                )
                f.error(where, f"schema:{name}", error.message)
