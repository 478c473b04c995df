"""The validator against the official OME-Zarr test suites and spec examples.

* every case of ``spec/<0.4|0.5>/tests/*_suite.json`` (strict suites with ``strict=True``;
  the kind comes from the suite's schema id): our verdict equals ``valid`` — once with
  version and kind given, once detected from the document;
* every example of ``spec/<0.1..0.5>/examples`` (``//`` comment lines stripped): valid or
  invalid as its folder says (0.1-0.3), valid for 0.4/0.5;
* the ``schemas=`` cross-check agrees with the suites' ``valid`` on the JSON-schema side.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import conformance
import pytest

import ngff

ROOT = conformance.conformance_dir()


def missing(n: int = 1):
    """A placeholder param (``n`` values) whose test skips: no conformance folder here."""
    return pytest.param(*([None] * n), id="conformance-missing")


#: Suite cases whose expected verdict contradicts the spec text: (version, suite, case) -> why.
#: Empty: the one conflict (0.4 valid/mismatch_axes_units, a 2-element scale for 3 axes)
#: is reported as a warning for 0.4, so the suite's verdict holds (see the test below).
SUITE_TEXT_CONFLICTS: dict[tuple[str, str, str], str] = {}
#: Cases JSON Schema cannot decide (invalid by the text only).
SCHEMA_BLIND = {("0.5", "plate_suite", "plate/well_path_has_column_before_row")}

#: ``.config.json`` schema -> node kind of the spec examples.
EXAMPLE_KINDS = {
    "strict_image": "image",
    "strict_label": "label",
    "strict_plate": "plate",
    "strict_well": "well",
    "bf2raw": "collection",
    "ome": "series",
}


def load_commented_json(path: Path) -> Any:
    """JSON with ``//`` comment lines (the spec examples) parsed."""
    text = "".join(
        line
        for line in path.read_text(encoding="utf-8").splitlines(True)
        if not line.lstrip().startswith("//")
    )
    return json.loads(text)


def suite_cases(*, text_verdict: bool = True) -> list[Any]:
    """Suite cases as params; ``text_verdict`` marks cases whose verdict contradicts the text."""
    if ROOT is None:
        return [missing(5)]
    params = []
    for version in ("0.4", "0.5"):
        for suite_path in sorted((ROOT / "spec" / version / "tests").glob("*_suite.json")):
            suite = json.loads(suite_path.read_text(encoding="utf-8"))
            kind = Path(suite["schema"]["id"]).stem.replace("strict_", "")
            strict = suite_path.name.startswith("strict_")
            for index, case in enumerate(suite["tests"]):
                key = (version, suite_path.stem, case["formerly"])
                marks = []
                if text_verdict and key in SUITE_TEXT_CONFLICTS:
                    marks.append(pytest.mark.xfail(strict=True, reason=SUITE_TEXT_CONFLICTS[key]))
                case_id = f"{version}-{suite_path.stem}-{index}-{case['formerly']}"
                params.append(
                    pytest.param(
                        version, suite_path.stem, kind, strict, case, id=case_id, marks=marks
                    )
                )
    return params


def example_cases() -> list[Any]:
    if ROOT is None:
        return [missing(5)]
    params = []
    for version in ("0.1", "0.2", "0.3"):
        for path in sorted((ROOT / "spec" / version / "examples").glob("*/*/*.json")):
            kind, verdict = path.parent.parent.name, path.parent.name
            params.append(
                pytest.param(
                    version,
                    kind,
                    False,
                    verdict == "valid",
                    path,
                    id=f"{version}-{kind}-{verdict}-{path.stem}",
                )
            )
    for version in ("0.4", "0.5"):
        for config in sorted((ROOT / "spec" / version / "examples").glob("*/.config.json")):
            schema = Path(json.loads(config.read_text())["schema"]).stem
            for path in sorted(
                p for p in config.parent.glob("*.json") if not p.name.startswith(".")
            ):
                params.append(
                    pytest.param(
                        version,
                        EXAMPLE_KINDS[schema],
                        schema.startswith("strict_"),
                        True,
                        path,
                        id=f"{version}-{config.parent.name}-{path.stem}",
                    )
                )
    return params


def _explain(report: ngff.Report) -> str:
    return "\n".join(str(p) for p in report.problems) or "(no problems)"


@pytest.mark.parametrize(("version", "suite", "kind", "strict", "case"), suite_cases())
def test_suite_case_given_version_and_kind(version, suite, kind, strict, case):
    conformance.require_conformance_dir()
    report = ngff.validate_attrs(case["data"], kind=kind, version=version, strict=strict)
    assert report.ok is case["valid"], _explain(report)
    assert report.version == version


@pytest.mark.parametrize(("version", "suite", "kind", "strict", "case"), suite_cases())
def test_suite_case_detected(version, suite, kind, strict, case):
    conformance.require_conformance_dir()
    report = ngff.validate_attrs(case["data"], strict=strict)
    assert report.ok is case["valid"], _explain(report)


@pytest.mark.parametrize(("version", "kind", "strict", "valid", "path"), example_cases())
def test_spec_example(version, kind, strict, valid, path):
    conformance.require_conformance_dir()
    document = load_commented_json(path)
    report = ngff.validate_attrs(document, kind=kind, version=version, strict=strict)
    assert report.ok is valid, _explain(report)
    # Detection from the document alone reaches the same verdict.
    assert ngff.validate_attrs(document, strict=strict).ok is valid


def test_invalid_axes_order_03_is_caught_by_structure(conformance_dir):
    # JSON Schema accepts ["y", "t", "c"]; the type order rule rejects it.
    document = load_commented_json(
        conformance_dir / "spec/0.3/examples/image/invalid/invalid_axes_order.json"
    )
    report = ngff.validate_attrs(document, version="0.3")
    assert {"axes.order", "axes.space-count"} <= report.rules()


def test_well_path_column_before_row_05(conformance_dir):
    suite = json.loads((conformance_dir / "spec/0.5/tests/plate_suite.json").read_text())
    (case,) = [
        c for c in suite["tests"] if c["formerly"] == "plate/well_path_has_column_before_row"
    ]
    report = ngff.validate_attrs(case["data"])
    assert not report.ok
    assert "well.path-order" in {p.rule for p in report.errors}


# ---------------------------------------------------------------------------- JSON-schema option


@pytest.mark.parametrize(
    ("version", "suite", "kind", "strict", "case"), suite_cases(text_verdict=False)
)
def test_schema_option_agrees_with_suite(version, suite, kind, strict, case, conformance_dir):
    report = ngff.validate_attrs(
        case["data"], kind=kind, version=version, strict=strict, schemas=conformance_dir / "spec"
    )
    schema_errors = [p for p in report.errors if p.rule.startswith("schema:")]
    expected_schema_valid = case["valid"] or (version, suite, case["formerly"]) in SCHEMA_BLIND
    assert (not schema_errors) is expected_schema_valid, _explain(report)
    if schema_errors:
        name = ("strict_" if strict else "") + f"{kind}.schema"
        assert {p.rule for p in schema_errors} == {f"schema:{name}"}


def test_schema_option_on_a_store(conformance_dir):
    fixtures = conformance_dir / "fixtures"
    good = ngff.validate(
        fixtures
        / "ome-zarr-models_ome-zarr-models-py/tests/data/examples/v04/hcs_example.ome.zarr",
        schemas=conformance_dir / "spec",
    )
    assert good.ok, _explain(good)
    assert not any(p.rule.startswith("schema:") for p in good.problems)
    bad = ngff.validate(
        fixtures / "ome_ome-ngff-validator/test_samples/invalid/missing_min.zarr",
        schemas=conformance_dir / "spec",
    )
    assert "schema:image.schema" in {p.rule for p in bad.errors}
    assert "omero.window-field-missing" in bad.rules()


def test_schema_option_handles_bogus_ids(conformance_dir):
    # 0.2 image.schema has $id http://localhost:8000/image.schema; 0.4 bf2raw/ome point to /latest/.
    spec = conformance_dir / "spec"
    image02 = load_commented_json(spec / "0.2/examples/image/valid/image.json")
    assert ngff.validate_attrs(image02, version="0.2", schemas=spec).ok
    for name in ("bf2raw/image.json", "ome/series-2.json"):
        document = load_commented_json(spec / "0.4/examples" / name)
        report = ngff.validate_attrs(document, version="0.4", schemas=spec)
        assert report.ok and not any(p.rule.startswith("schema:") for p in report.problems), (
            _explain(report)
        )
    broken = ngff.validate_attrs({"bioformats2raw.layout": 2}, version="0.4", schemas=spec)
    assert {"bf2raw.layout", "schema:bf2raw.schema"} <= {p.rule for p in broken.errors}


def test_04_scale_length_mismatch_is_a_warning_that_strict_rejects():
    document = {
        "multiscales": [
            {
                "version": "0.4",
                "axes": [{"name": "t", "type": "time"}, {"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
                "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [0.5, 0.5]}]}],
            }
        ]
    }
    lenient = ngff.validate_attrs(document)
    assert lenient.ok and any(p.rule == "transforms.length" for p in lenient.warnings)
    assert not ngff.validate_attrs(document, strict=True).ok
    v05 = {"ome": {"version": "0.5", "multiscales": [dict(document["multiscales"][0])]}}
    del v05["ome"]["multiscales"][0]["version"]
    assert any(p.rule == "transforms.length" for p in ngff.validate_attrs(v05).errors)
