"""Property tests: no JSON value or mutated document makes the validator raise."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

import conformance
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ngff
from ngff.errors import NgffError

ROOT = conformance.conformance_dir()

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)
# Keys the validator looks at, so that random documents reach deep into the rules.
OME_WORDS = [
    "ome",
    "version",
    "multiscales",
    "axes",
    "datasets",
    "path",
    "coordinateTransformations",
    "type",
    "scale",
    "translation",
    "name",
    "unit",
    "orientation",
    "value",
    "omero",
    "channels",
    "color",
    "window",
    "min",
    "max",
    "start",
    "end",
    "labels",
    "image-label",
    "colors",
    "label-value",
    "rgba",
    "properties",
    "source",
    "plate",
    "rows",
    "columns",
    "wells",
    "rowIndex",
    "columnIndex",
    "acquisitions",
    "id",
    "maximumfieldcount",
    "starttime",
    "endtime",
    "field_count",
    "well",
    "images",
    "acquisition",
    "bioformats2raw.layout",
    "series",
    "zarr_format",
    "node_type",
    "attributes",
]
ome_keys = st.sampled_from(OME_WORDS) | st.text(max_size=6)
ome_values = st.recursive(
    json_scalars
    | st.sampled_from(
        ["0.4", "0.5", "space", "time", "channel", "scale", "translation", "A/1", "0"]
    ),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(ome_keys, children, max_size=6)
    ),
    max_leaves=40,
)


def _suite_documents() -> list[Any]:
    if ROOT is None:
        return []
    documents = []
    for version in ("0.4", "0.5"):
        for path in sorted((ROOT / "spec" / version / "tests").glob("*_suite.json")):
            documents.extend(case["data"] for case in json.loads(path.read_text())["tests"])
    return documents


SUITE_DOCUMENTS = _suite_documents()


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every location inside a JSON value, as a tuple of keys/indices."""
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(_paths(item, prefix + (key,)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.extend(_paths(item, prefix + (index,)))
    return out


def _mutate(document: Any, data: st.DataObject) -> Any:
    document = copy.deepcopy(document)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        path = data.draw(st.sampled_from(_paths(document)), label="where")
        replacement = data.draw(ome_values, label="replacement")
        if not path:
            document = replacement
            continue
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        action = data.draw(st.sampled_from(["replace", "delete", "duplicate"]), label="action")
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "delete" and isinstance(parent, list):
            parent.pop(path[-1])
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
        else:
            parent[path[-1]] = replacement
    return document


def _check(report: ngff.Report) -> None:
    assert isinstance(report, ngff.Report)
    assert "validator.internal-error" not in report.rules(), report
    assert report.ok is (not report.errors)
    json.dumps(report.to_dict(), default=str)


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(value=json_values, strict=st.booleans())
def test_any_json_value_never_raises(value, strict):
    _check(ngff.validate_attrs(value, strict=strict))


@FUZZ
@given(
    value=ome_values,
    version=st.sampled_from([None, "0.1", "0.2", "0.3", "0.4", "0.5"]),
    kind=st.sampled_from(
        [None, "image", "label", "plate", "well", "labels", "collection", "series"]
    ),
)
def test_ome_shaped_values_never_raise(value, version, kind):
    _check(ngff.validate_attrs(value, version=version, kind=kind))
    _check(ngff.validate_attrs({"ome": value}, version=version, kind=kind))


@FUZZ
@given(data=st.data())
def test_mutated_suite_documents_never_raise(data):
    if not SUITE_DOCUMENTS:
        conformance.require_conformance_dir()
    document = data.draw(st.sampled_from(SUITE_DOCUMENTS), label="document")
    mutated = _mutate(document, data)
    _check(ngff.validate_attrs(mutated))
    _check(ngff.validate_attrs(mutated, strict=True))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), zarr_format=st.sampled_from([2, 3]))
def test_mutated_stores_never_raise_anything_but_ngff_errors(data, zarr_format):
    if not SUITE_DOCUMENTS:
        conformance.require_conformance_dir()
    attrs = _mutate(data.draw(st.sampled_from(SUITE_DOCUMENTS), label="document"), data)
    child = data.draw(ome_values, label="child")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for key, doc in (("", attrs), ("0", child), ("A/1", child), ("labels", child)):
            where = root / key
            where.mkdir(parents=True, exist_ok=True)
            if zarr_format == 3:
                (where / "zarr.json").write_text(
                    json.dumps({"zarr_format": 3, "node_type": "group", "attributes": doc})
                )
            else:
                (where / ".zgroup").write_text('{"zarr_format": 2}')
                (where / ".zattrs").write_text(json.dumps(doc))
        try:
            report = ngff.validate(root)
        except NgffError:  # pragma: no cover - only unreadable locations may raise
            pytest.fail("a readable store must not raise")
        _check(report)
