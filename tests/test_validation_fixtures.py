"""The validator on stores and documents written by other tools (``fixtures/FIXTURES.md``)."""

from __future__ import annotations

import json
from pathlib import Path

import conformance
import pytest

import ngff

ROOT = conformance.conformance_dir()
FIX = ROOT / "fixtures" if ROOT is not None else None


def missing(n: int = 1):
    """A placeholder param (``n`` values) whose test skips: no conformance folder here."""
    return pytest.param(*([None] * n), id="conformance-missing")


BIOIMAGE = "BioImageTools_ome-zarr-examples/data"
VALIDATOR = "ome_ome-ngff-validator/test_samples/invalid"
MODELS = "ome-zarr-models_ome-zarr-models-py/tests/data/examples"
YAOZARRS = "tlambert03_yaozarrs/tests/data"
RFC4 = "fideus-labs_ome-zarr-rfc4-validation/conformance"

#: Rules meaning "a node the metadata points to is not in the store": the yaozarrs
#: real-world fixtures are metadata harvested from public stores, without the arrays
#: (and sometimes without row groups or other fields).
ABSENT = {
    "dataset.missing",
    "well.missing",
    "field.missing",
    "label.missing",
    "plate.row-group-missing",
}
#: Genuine spec violations in real-world fixtures: store -> rules.
REAL_WORLD_VIOLATIONS = {
    # IDR 6001240: the label image has 4 levels, the image 3; the 0.5 text: "MUST have the
    # same number of entries (scale levels) as the original unlabeled image".
    "v05/6001240_labels.zarr": {"label.levels"},
}


def _explain(report: ngff.Report) -> str:
    return "\n".join(str(p) for p in report.problems) or "(no problems)"


def _params(items: list[tuple], ids: list[str]) -> list:
    if FIX is None:
        return [missing(1)]
    return [pytest.param(*item, id=i) for item, i in zip(items, ids, strict=True)]


def _stores(pattern: str) -> list[Path]:
    return sorted(FIX.glob(pattern)) if FIX is not None else []


# ---------------------------------------------------------------------------- ome-zarr-py


@pytest.mark.parametrize(("name", "version"), [("v1", "0.1"), ("v2", "0.2")])
def test_ome_zarr_py_stores_are_valid(conformance_dir, name, version):
    report = ngff.validate(conformance_dir / "fixtures/ome_ome-zarr-py/tests/data" / name)
    assert report.ok, _explain(report)
    assert (report.version, report.kind) == (version, "image")


# ---------------------------------------------------------------------------- ome-ngff-validator


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("invalid_version.zarr", "version.unsupported"),
        ("missing_min.zarr", "omero.window-field-missing"),
        ("no_version_v0.4.zarr", "dataset.missing"),
        ("no_version_v0.5.zarr", "ome.missing"),
    ],
)
def test_ome_ngff_validator_samples_are_invalid(conformance_dir, name, rule):
    report = ngff.validate(conformance_dir / "fixtures" / VALIDATOR / name)
    assert not report.ok
    assert rule in {p.rule for p in report.errors}, _explain(report)


# ---------------------------------------------------------------------------- BioImageTools


@pytest.mark.parametrize(
    "path",
    _params(
        [(p,) for p in _stores(f"{BIOIMAGE}/valid/image-*.zarr")],
        [p.name for p in _stores(f"{BIOIMAGE}/valid/image-*.zarr")],
    ),
)
def test_bioimagetools_valid_images(path):
    conformance.require_conformance_dir()
    report = ngff.validate(path)
    assert report.ok, _explain(report)


def test_bioimagetools_plate_01_indices_contradict_paths(conformance_dir):
    # JSON-schema valid, but e.g. well "A/2" has rowIndex 1, columnIndex 0.
    report = ngff.validate(conformance_dir / "fixtures" / BIOIMAGE / "valid/plate-01.zarr")
    assert not report.ok
    bad = {p.path for p in report.errors if p.rule == "well.path-matches-indices"}
    assert bad == {
        "plate.wells[1].rowIndex",
        "plate.wells[1].columnIndex",
        "plate.wells[2].rowIndex",
        "plate.wells[2].columnIndex",
    }
    assert {p.rule for p in report.errors} == {"well.path-matches-indices"}


@pytest.mark.parametrize(
    ("name", "rule", "path"),
    [
        ("image-01.zarr", "ome.missing", ""),
        ("image-02.zarr", "multiscales.empty", "multiscales"),
        ("image-03.zarr", "dataset.missing", "0"),
        ("image-04.zarr", "dataset.ndim", "1"),
    ],
)
def test_bioimagetools_invalid(conformance_dir, name, rule, path):
    report = ngff.validate(conformance_dir / "fixtures" / BIOIMAGE / "invalid" / name)
    assert not report.ok
    assert (rule, path) in {(p.rule, p.path) for p in report.errors}, _explain(report)


def test_bioimagetools_warning_is_valid_with_a_warning(conformance_dir):
    report = ngff.validate(conformance_dir / "fixtures" / BIOIMAGE / "warning/image-01.zarr")
    assert report.ok, _explain(report)
    assert "datasets.dtype" in {p.rule for p in report.warnings}


# ---------------------------------------------------------------------------- ome-zarr-models


def _model_documents() -> list:
    docs = _stores(f"{MODELS}/v04/*.json") + _stores(f"{MODELS}/v05/*.json")
    return _params([(p,) for p in docs], [f"{p.parent.name}-{p.stem}" for p in docs])


@pytest.mark.parametrize("path", _model_documents())
def test_ome_zarr_models_documents(path):
    conformance.require_conformance_dir()
    document = json.loads(path.read_text())
    version = "0.4" if path.parent.name == "v04" else "0.5"
    if path.stem == "omero_example":  # a bare `omero` object: put it beside an image
        image = json.loads((path.parent / "multiscales_example.json").read_text())
        document = {**image, "omero": document}
    elif (
        path.stem.startswith("plate_example") and "plate" not in document and "ome" not in document
    ):
        document = {"plate": document}  # a bare `plate` object
    report = ngff.validate_attrs(document)
    assert report.version == version
    if path.stem == "image_no_version_example":
        # ome-zarr-models' own test: "test_no_ome_version_fails" (ome.version is required).
        assert not report.ok
        assert "version.missing" in {p.rule for p in report.errors}
    else:
        assert report.ok, _explain(report)


def test_ome_zarr_models_hcs_store(conformance_dir):
    report = ngff.validate(conformance_dir / "fixtures" / MODELS / "v04/hcs_example.ome.zarr")
    assert report.ok, _explain(report)
    assert (report.version, report.kind) == ("0.4", "plate")


# ---------------------------------------------------------------------------- yaozarrs


def _yaozarrs_stores() -> list:
    stores = _stores(f"{YAOZARRS}/v04/*.zarr") + _stores(f"{YAOZARRS}/v05/*.zarr")
    return _params([(p,) for p in stores], [f"{p.parent.name}-{p.name}" for p in stores])


@pytest.mark.parametrize("store", _yaozarrs_stores())
def test_yaozarrs_real_world_documents_are_valid(store):
    conformance.require_conformance_dir()
    version = "0.4" if store.parent.name == "v04" else "0.5"
    documents = sorted(store.rglob(".zattrs")) + sorted(store.rglob("zarr.json"))
    assert documents
    for path in documents:
        report = ngff.validate_attrs(json.loads(path.read_text()))
        assert report.ok, f"{path.relative_to(store)}:\n{_explain(report)}"
        assert report.version == version


@pytest.mark.parametrize("store", _yaozarrs_stores())
def test_yaozarrs_real_world_stores_only_lack_arrays(store):
    conformance.require_conformance_dir()
    report = ngff.validate(store)
    allowed = ABSENT | REAL_WORLD_VIOLATIONS.get(f"{store.parent.name}/{store.name}", set())
    assert {p.rule for p in report.errors} <= allowed, _explain(report)


# The 14 problems of broken_v05.ome.zarr listed by the yaozarrs README, as (rule, path).
BROKEN_V05 = [
    ("dataset.missing", "A/1/0/0"),  # dataset path missing
    ("label.missing", "A/1/0/labels/annotations"),  # label path missing
    ("label.not-group", "A/1/1/labels/annotations"),  # label path is an array
    ("well.not-group", "A/2"),  # well path is an array
    ("label.no-multiscales", "A/3/0/labels/annotations"),  # label group without multiscales
    ("dataset.ndim", "B/1/0/0"),  # dataset ndim 5 vs 3 axes
    ("label.dtype", "B/1/0/labels/annotations/0"),  # label array float32
    ("dataset.not-array", "B/2/0/0"),  # dataset path is a group
    ("dataset.dimension-names", "B/2/1/0"),  # dimension_names ['wrong','names','here']
    ("labels.not-group", "B/3/0/labels"),  # `labels` is an array
    ("field.not-group", "B/3/1"),  # field path is an array
    ("field.missing", "C/1/1"),  # field path missing
    ("multiscales.empty", "C/2/0:multiscales"),  # field with empty multiscales
    ("well.no-metadata", "C/3"),  # well group without well metadata
]


@pytest.fixture(scope="module")
def broken_report(conformance_dir) -> ngff.Report:
    return ngff.validate(conformance_dir / "fixtures" / YAOZARRS / "broken/broken_v05.ome.zarr")


@pytest.mark.parametrize(("rule", "path"), BROKEN_V05, ids=[f"{r}@{p}" for r, p in BROKEN_V05])
def test_broken_v05_problem_found(broken_report, rule, path):
    assert (rule, path) in {(p.rule, p.path) for p in broken_report.errors}, _explain(broken_report)


def test_broken_v05_has_exactly_the_listed_errors(broken_report):
    assert not broken_report.ok
    assert sorted((p.rule, p.path) for p in broken_report.errors) == sorted(BROKEN_V05)


# ---------------------------------------------------------------------------- RFC-4

#: manifest.yaml violation/warning codes -> our rule ids.
RFC4_CODES = {
    "orientation-on-non-space": "orientation.non-space",
    "missing-value": "orientation.value-missing",
    "bad-type": "orientation.type",
    "duplicate-anatomical-axis": "orientation.duplicate-pair",
    "bad-value": "orientation.value",
    "null-orientation": "orientation.null",
}


def read_manifest_cases(text: str) -> list[dict]:
    """The ``cases`` of the RFC-4 ``manifest.yaml``: PyYAML when installed, else a tiny reader.

    The tiny reader understands exactly the shape of that file: ``- id:`` items with
    scalar fields, and ``violations``/``warnings`` lists under ``expected``.
    """
    try:
        import yaml
    except ImportError:
        return _tiny_manifest_cases(text)
    return yaml.safe_load(text)["cases"]


def _tiny_manifest_cases(text: str) -> list[dict]:
    lines = text.splitlines()
    start = lines.index("cases:") + 1
    cases: list[dict] = []
    case: dict = {}
    current_list: list | None = None
    for line in lines[start:]:
        if line and not line.startswith((" ", "-")):
            break  # the next top-level key
        stripped = line.strip()
        if line.startswith("- id:"):
            case = {"id": stripped.split(":", 1)[1].strip(), "expected": {}}
            cases.append(case)
            current_list = None
        elif (
            line.startswith("  ")
            and not line.startswith("   ")
            and ":" in stripped
            and not stripped.startswith("-")
        ):
            key, _, value = stripped.partition(":")
            case[key] = value.strip() if value.strip() else case.get(key, [])
            current_list = case[key] if key == "requirements" else None
        elif line.startswith("    ") and stripped.endswith(":") and not stripped.startswith("-"):
            current_list = case["expected"].setdefault(stripped[:-1], [])
        elif line.startswith("    - ") and current_list is not None:
            current_list.append(stripped[2:].strip())
        elif line.startswith("  - ") and isinstance(case.get("requirements"), list):
            case["requirements"].append(stripped[2:].strip())
    return cases


def _rfc4_cases() -> list:
    if FIX is None:
        return [missing(2)]
    manifest = (FIX / RFC4 / "manifest.yaml").read_text()
    params = []
    for case in read_manifest_cases(manifest):
        if case["format"] != "ome-zarr" or not case["input"].startswith("conformance/cases/"):
            continue  # the other cases' inputs are not part of the copied suite
        path = FIX / "fideus-labs_ome-zarr-rfc4-validation" / case["input"]
        if path.exists():
            params.append(pytest.param(case, path, id=case["id"]))
    return params


@pytest.mark.parametrize(("case", "path"), _rfc4_cases())
def test_rfc4_stress_case(case, path):
    conformance.require_conformance_dir()
    report = ngff.validate(path)
    expected = case["expected"]
    assert report.ok is (case["expect"] == "valid"), _explain(report)
    errors = {p.rule for p in report.errors}
    for code in expected.get("violations", []):
        assert RFC4_CODES[code] in errors, _explain(report)
    for code in expected.get("warnings", []):
        assert RFC4_CODES[code] in {p.rule for p in report.warnings}, _explain(report)


def test_rfc4_suite_cases_present(conformance_dir):
    # Guard: the six SC-* stores of FIXTURES.md are all exercised.
    assert len(_rfc4_cases()) == 6


def test_tiny_manifest_reader_agrees_with_pyyaml(conformance_dir):
    yaml = pytest.importorskip("yaml")
    text = (conformance_dir / "fixtures" / RFC4 / "manifest.yaml").read_text()
    full = {c["id"]: c for c in yaml.safe_load(text)["cases"]}
    tiny = {c["id"]: c for c in _tiny_manifest_cases(text)}
    assert tiny.keys() == full.keys()
    for key, case in full.items():
        for field in ("format", "input", "expect"):
            assert tiny[key][field] == case[field]
        for field in ("violations", "warnings"):
            assert tiny[key]["expected"].get(field, []) == case["expected"].get(field, [])
