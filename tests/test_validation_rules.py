"""Rule-by-rule tests of the validator on small hand-written documents and stores."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

import ngff
from ngff.errors import NgffError, StoreError

# ---------------------------------------------------------------------------- builders


def axes(*spec: str) -> list[dict[str, Any]]:
    """Axis objects from ``name:type`` strings (type omitted: untyped)."""
    out = []
    for item in spec:
        name, _, kind = item.partition(":")
        axis: dict[str, Any] = {"name": name}
        if kind:
            axis["type"] = kind
            if kind == "space":
                axis["unit"] = "micrometer"
        out.append(axis)
    return out


def multiscale(ax: list[dict[str, Any]], levels: int = 2, **extra: Any) -> dict[str, Any]:
    n = len(ax)
    datasets = [
        {
            "path": str(i),
            "coordinateTransformations": [
                {"type": "scale", "scale": [1.0] * (n - 2) + [2.0**i] * 2}
            ],
        }
        for i in range(levels)
    ]
    return {
        "name": "img",
        "type": "gaussian",
        "metadata": {},
        "axes": ax,
        "datasets": datasets,
        **extra,
    }


def image04(
    ax: list[dict[str, Any]] | None = None, levels: int = 2, **extra: Any
) -> dict[str, Any]:
    return {
        "multiscales": [
            multiscale(ax or axes("y:space", "x:space"), levels, version="0.4", **extra)
        ]
    }


def image05(
    ax: list[dict[str, Any]] | None = None, levels: int = 2, **extra: Any
) -> dict[str, Any]:
    return {
        "ome": {
            "version": "0.5",
            "multiscales": [multiscale(ax or axes("y:space", "x:space"), levels, **extra)],
        }
    }


def rules(report: ngff.Report, severity: str | None = None) -> set[str]:
    return {p.rule for p in report.problems if severity is None or p.severity == severity}


class Tree:
    """Write a small Zarr hierarchy of metadata documents (no chunks)."""

    def __init__(self, root: Path, zarr_format: int):
        self.root = root
        self.zarr_format = zarr_format
        root.mkdir(parents=True, exist_ok=True)

    def group(self, key: str, attrs: dict[str, Any] | None = None, **extra: Any) -> Tree:
        where = self.root / key
        where.mkdir(parents=True, exist_ok=True)
        if self.zarr_format == 3:
            doc = {"zarr_format": 3, "node_type": "group", "attributes": attrs or {}, **extra}
            (where / "zarr.json").write_text(json.dumps(doc))
        else:
            (where / ".zgroup").write_text(json.dumps({"zarr_format": 2}))
            if attrs:
                (where / ".zattrs").write_text(json.dumps(attrs))
        return self

    def array(
        self,
        key: str,
        shape: list[int],
        dtype: str = "uint8",
        dims: list[str] | None = None,
        attrs: dict | None = None,
    ) -> Tree:
        where = self.root / key
        where.mkdir(parents=True, exist_ok=True)
        if self.zarr_format == 3:
            doc: dict[str, Any] = {
                "zarr_format": 3,
                "node_type": "array",
                "shape": shape,
                "data_type": dtype,
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": shape}},
                "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                "fill_value": 0,
                "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
                "attributes": attrs or {},
            }
            if dims is not None:
                doc["dimension_names"] = dims
            (where / "zarr.json").write_text(json.dumps(doc))
        else:
            v2 = {
                "uint8": "|u1",
                "uint16": "<u2",
                "uint32": "<u4",
                "float32": "<f4",
                "int32": "<i4",
            }[dtype]
            doc = {
                "zarr_format": 2,
                "shape": shape,
                "chunks": shape,
                "dtype": v2,
                "compressor": None,
                "fill_value": 0,
                "filters": None,
                "order": "C",
                "dimension_separator": "/",
            }
            (where / ".zarray").write_text(json.dumps(doc))
            if attrs:
                (where / ".zattrs").write_text(json.dumps(attrs))
        return self

    def image(
        self, key: str, attrs: dict[str, Any], shapes: list[list[int]], dtype: str = "uint8"
    ) -> Tree:
        self.group(key, attrs)
        ms = (attrs.get("ome") or attrs)["multiscales"][0]
        names = [a["name"] for a in ms["axes"]]
        for ds, shape in zip(ms["datasets"], shapes):
            self.array(
                f"{key}/{ds['path']}".lstrip("/"),
                shape,
                dtype,
                names if self.zarr_format == 3 else None,
            )
        return self


# ---------------------------------------------------------------------------- report API


def test_report_shape_and_to_dict():
    report = ngff.validate_attrs({"multiscales": []})
    assert isinstance(report, ngff.Report)
    assert report.ok is False
    assert report.errors and all(isinstance(p, ngff.Problem) for p in report.errors)
    as_dict = report.to_dict()
    assert as_dict["ok"] is False
    assert set(as_dict["problems"][0]) == {"path", "rule", "message", "severity"}
    json.dumps(as_dict)
    with pytest.raises(AttributeError):
        report.ok = True  # type: ignore[misc]  # frozen


def test_strict_turns_should_into_errors():
    document = {
        "multiscales": [
            {
                "axes": axes("y:space", "x:space"),
                "datasets": [
                    {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1]}]}
                ],
            }
        ]
    }
    lax = ngff.validate_attrs(document)
    assert lax.ok and {"multiscale.name-missing", "version.missing"} <= rules(lax, "warning")
    strict = ngff.validate_attrs(document, strict=True)
    assert not strict.ok and {"multiscale.name-missing", "version.missing"} <= rules(
        strict, "error"
    )


def test_notes_stay_warnings_under_strict():
    report = ngff.validate_attrs(
        image04(axes("t:time", "c:channel", "y:space", "x:space")), strict=True
    )
    assert report.ok
    assert "axes.unit-missing" in rules(report, "warning")  # the time axis has no unit


def test_kind_and_version_detection():
    assert (ngff.validate_attrs(image04()).version, ngff.validate_attrs(image04()).kind) == (
        "0.4",
        "image",
    )
    doc = {
        "zarr_format": 3,
        "node_type": "group",
        "attributes": image05(),
        "consolidated_metadata": None,
    }
    report = ngff.validate_attrs(doc)
    assert report.ok and (report.version, report.kind) == ("0.5", "image")
    assert ngff.validate_attrs({"plate": {}}).kind == "plate"
    assert ngff.validate_attrs({"ome": {"version": "0.5", "labels": ["a"]}}).kind == "labels"


def test_unknown_keys_and_creator_are_accepted():
    document = image05()
    document["ome"]["_creator"] = {"name": "omero-zarr"}
    document["something"] = {"else": 1}
    wrapped = {
        "zarr_format": 3,
        "node_type": "group",
        "attributes": document,
        "consolidated_metadata": {"kind": "inline", "must_understand": False, "metadata": {}},
    }
    assert ngff.validate_attrs(wrapped).ok


def test_non_metadata_documents_become_problems():
    for value in (None, 3, "x", [1, 2], {}, {"foo": 1}):
        report = ngff.validate_attrs(value)
        assert not report.ok and report.errors


def test_bad_kind_and_version_arguments_are_problems():
    assert "kind.unknown" in rules(ngff.validate_attrs(image04(), kind="nonsense"))
    assert "version.unsupported" in rules(ngff.validate_attrs(image04(), version="9.9"))


# ---------------------------------------------------------------------------- versions


def test_05_version_must_be_the_string_05():
    for bad in ("0.5.0", 0.5, "0.4"):
        document = image05()
        document["ome"]["version"] = bad
        assert "version.value" in rules(ngff.validate_attrs(document, version="0.5"), "error")
    missing = image05()
    del missing["ome"]["version"]
    assert "version.missing" in rules(ngff.validate_attrs(missing), "error")


def test_04_object_versions():
    assert "version.mismatch" in rules(ngff.validate_attrs(image04(), version="0.3"), "error")
    document = image04()
    del document["multiscales"][0]["version"]
    assert ngff.validate_attrs(document).ok  # SHOULD only
    assert "version.missing" in rules(ngff.validate_attrs(document), "warning")


def test_zarr_v3_document_with_04_metadata_is_inconsistent():
    doc = {"zarr_format": 3, "node_type": "group", "attributes": image04()}
    assert "zarr.format" in rules(ngff.validate_attrs(doc), "error")


def test_array_node_type_is_not_metadata():
    doc = {"zarr_format": 3, "node_type": "array", "attributes": image05()}
    assert "zarr.node-type" in rules(ngff.validate_attrs(doc), "error")


# ---------------------------------------------------------------------------- axes


@pytest.mark.parametrize(
    ("names", "rule"),
    [
        (("y:space",), "axes.count"),
        (("t:time", "c:channel", "q:custom", "z:space", "y:space", "x:space"), "axes.count"),
        (("c:channel", "x:space"), "axes.space-count"),
        (("w:space", "z:space", "y:space", "x:space"), "axes.space-count"),
        (("t:time", "s:time", "y:space", "x:space"), "axes.time-count"),
        (("c:channel", "q:custom", "y:space", "x:space"), "axes.channel-count"),
        (("c:channel", "angle", "y:space", "x:space"), "axes.channel-count"),
        (("c:channel", "t:time", "y:space", "x:space"), "axes.order"),
        (("y:space", "c:channel", "x:space"), "axes.order"),
        (("x:space", "x:space"), "axes.unique"),
    ],
)
def test_axes_errors(names, rule):
    ax = axes(*names)
    assert rule in rules(ngff.validate_attrs(image04(ax), version="0.4"), "error")


def test_axes_shoulds():
    report = ngff.validate_attrs(image04(axes("x:space", "y:space", "z:space")))
    assert report.ok and "axes.zyx-order" in rules(report, "warning")
    ax = axes("t:time", "y:space", "x:space")
    ax[0]["unit"] = "micrometer"
    ax[1]["unit"] = "micron"
    report = ngff.validate_attrs(image04(ax))
    assert report.ok
    assert [p.path for p in report.warnings if p.rule == "axes.unit"] == [
        "multiscales[0].axes[0].unit",
        "multiscales[0].axes[1].unit",
    ]
    untyped = ngff.validate_attrs(image04([{"name": "angle"}, *axes("y:space", "x:space")]))
    assert untyped.ok and "axes.type-missing" in rules(untyped, "warning")


def test_03_axes_are_names():
    ok = {"multiscales": [{"version": "0.3", "axes": ["z", "y", "x"], "datasets": [{"path": "0"}]}]}
    assert ngff.validate_attrs(ok).ok
    bad = copy.deepcopy(ok)
    bad["multiscales"][0]["axes"] = ["z", "y", "q"]
    assert "axes.name" in rules(ngff.validate_attrs(bad), "error")


# ---------------------------------------------------------------------------- transforms


@pytest.mark.parametrize(
    ("transforms", "rule"),
    [
        ([], "transforms.scale-missing"),
        ([{"type": "translation", "translation": [0, 0]}], "transforms.scale-missing"),
        (
            [{"type": "scale", "scale": [1, 1]}, {"type": "scale", "scale": [1, 1]}],
            "transforms.scale-count",
        ),
        (
            [{"type": "translation", "translation": [0, 0]}, {"type": "scale", "scale": [1, 1]}],
            "transforms.order",
        ),
        (
            [
                {"type": "scale", "scale": [1, 1]},
                {"type": "translation", "translation": [0, 0]},
                {"type": "translation", "translation": [0, 0]},
            ],
            "transforms.translation-count",
        ),
        ([{"type": "scale", "scale": [1, 1, 1]}], "transforms.length"),
        (
            [{"type": "scale", "scale": [1, 1]}, {"type": "translation", "translation": [0]}],
            "transforms.length",
        ),
        ([{"type": "scale", "scale": [1, "a"]}], "transforms.vector"),
        ([{"type": "identity"}, {"type": "scale", "scale": [1, 1]}], "transforms.kind"),
        ([{"type": "affine", "affine": []}, {"type": "scale", "scale": [1, 1]}], "transforms.kind"),
        ([{"type": "scale"}], "transforms.vector-missing"),
        ("scale", "transforms.type"),
    ],
)
def test_transform_errors(transforms, rule):
    # 0.5: every rule is a MUST (0.4 relaxes the length rule, see test_validation_suites).
    document = image05(levels=1)
    document["ome"]["multiscales"][0]["datasets"][0]["coordinateTransformations"] = transforms
    assert rule in rules(ngff.validate_attrs(document), "error")


def test_path_based_scale_is_a_note():
    document = image04(levels=1)
    document["multiscales"][0]["datasets"][0]["coordinateTransformations"] = [
        {"type": "scale", "path": "scales/0"}
    ]
    report = ngff.validate_attrs(document)
    assert report.ok and "transforms.path-vector" in rules(report, "warning")


def test_datasets_ordered_by_resolution():
    document = image04(levels=3)
    datasets = document["multiscales"][0]["datasets"]
    datasets[1], datasets[2] = datasets[2], datasets[1]
    report = ngff.validate_attrs(document)
    assert [p.path for p in report.errors] == ["multiscales[0].datasets[2]"]
    assert rules(report, "error") == {"datasets.order"}


# ---------------------------------------------------------------------------- omero


@pytest.mark.parametrize(
    ("channel", "rule"),
    [
        ({"window": {"min": 0, "max": 1, "start": 0, "end": 1}}, "omero.color-missing"),
        ({"color": "FF00", "window": {"min": 0, "max": 1, "start": 0, "end": 1}}, "omero.color"),
        ({"color": "GG0000", "window": {"min": 0, "max": 1, "start": 0, "end": 1}}, "omero.color"),
        ({"color": "FF0000"}, "omero.window-missing"),
        (
            {"color": "FF0000", "window": {"max": 1, "start": 0, "end": 1}},
            "omero.window-field-missing",
        ),
        (
            {"color": "FF0000", "window": {"min": 0, "max": 1, "start": 0, "end": "1"}},
            "omero.window-value",
        ),
    ],
)
def test_omero_channel_errors(channel, rule):
    for document in (image04(), image05()):
        target = document.get("ome", document)
        target["omero"] = {"channels": [channel]}
        assert rule in rules(ngff.validate_attrs(document), "error")


def test_omero_requires_channels():
    document = image04()
    document["omero"] = {"rdefs": {}}
    assert "omero.channels-missing" in rules(ngff.validate_attrs(document), "error")


# ---------------------------------------------------------------------------- image-label


@pytest.mark.parametrize(
    ("label", "rule"),
    [
        ({"colors": [{"label-value": 1.5}]}, "label.label-value-type"),
        ({"colors": [{"label-value": 1}, {"label-value": 1}]}, "label.colors-unique"),
        ({"colors": [{"label-value": 1, "rgba": [0, 0, 0, 256]}]}, "label.rgba"),
        ({"colors": [{"label-value": 1, "rgba": [0, 0, 0]}]}, "label.rgba"),
        ({"properties": [{"label-value": "1"}]}, "label.label-value-type"),
        ({"source": "../../"}, "label.source-type"),
    ],
)
def test_image_label_errors(label, rule):
    assert rule in rules(ngff.validate_attrs({"image-label": label}), "error")


def test_image_label_shoulds():
    report = ngff.validate_attrs({"image-label": {"version": "0.4"}})
    assert report.ok and "label.colors-missing" in rules(report, "warning")
    assert not ngff.validate_attrs({"image-label": {"version": "0.4"}}, strict=True).ok


# ---------------------------------------------------------------------------- plate / well


def plate(
    rows: list[str], columns: list[str], wells: list[tuple[str, int, int]], **extra: Any
) -> dict[str, Any]:
    return {
        "name": "p",
        "field_count": 1,
        "rows": [{"name": r} for r in rows],
        "columns": [{"name": c} for c in columns],
        "wells": [{"path": p, "rowIndex": r, "columnIndex": c} for p, r, c in wells],
        **extra,
    }


def test_plate_well_path_rules():
    good = {"ome": {"version": "0.5", "plate": plate(["A", "B"], ["1", "2"], [("B/2", 1, 1)])}}
    assert ngff.validate_attrs(good).ok
    swapped = {"ome": {"version": "0.5", "plate": plate(["A", "B"], ["1", "2"], [("B/2", 1, 0)])}}
    report = ngff.validate_attrs(swapped)
    assert [p.path for p in report.errors] == ["plate.wells[0].columnIndex"]
    assert rules(report, "error") == {"well.path-matches-indices"}
    for path, rule in (
        ("A", "well.path-format"),
        ("x/A/1", "well.path-format"),
        ("C/1", "well.path-names"),
        ("1/A", "well.path-order"),
    ):
        doc = {"ome": {"version": "0.5", "plate": plate(["A"], ["1"], [(path, 0, 0)])}}
        assert rule in rules(ngff.validate_attrs(doc), "error"), path


def test_04_tolerates_column_first_paths_as_the_official_suite_does():
    doc = {"plate": plate(["A"], ["1"], [("1/A", 0, 0)], version="0.4")}
    report = ngff.validate_attrs(doc, strict=True)
    assert report.ok and "well.path-order" in rules(report, "warning")


def test_plate_names():
    doc = {"plate": plate(["A", "a"], ["1", "1"], [("A/1", 0, 0)], version="0.4")}
    report = ngff.validate_attrs(doc)
    assert "plate.column-name-unique" in rules(report, "error")
    assert "plate.row-name-case" in rules(report, "warning")
    doc = {"plate": plate(["A-1"], ["1"], [("A-1/1", 0, 0)], version="0.4")}
    assert "plate.row-name" in rules(ngff.validate_attrs(doc), "error")
    # 0.1-0.3 have no alphanumeric rule, no indices and free-form well paths.
    old = {
        "plate": {
            "version": "0.3",
            "rows": [{"name": "A-1"}],
            "columns": [{"name": "1"}],
            "wells": [{"path": "2020/A-1/1"}],
        }
    }
    assert ngff.validate_attrs(old).ok


@pytest.mark.parametrize(
    ("acquisition", "rule"),
    [
        ({"id": -1}, "plate.acquisition-id"),
        ({"id": "1"}, "plate.acquisition-id"),
        ({"id": 1, "maximumfieldcount": 0}, "plate.acquisition-maximumfieldcount"),
        ({"id": 1, "starttime": -5}, "plate.acquisition-time"),
        ({"id": 1, "endtime": 1.5}, "plate.acquisition-time"),
        ({"name": "x"}, "plate.acquisition-id-missing"),
    ],
)
def test_acquisition_errors(acquisition, rule):
    doc = {"plate": plate(["A"], ["1"], [("A/1", 0, 0)], version="0.4", acquisitions=[acquisition])}
    assert rule in rules(ngff.validate_attrs(doc), "error")


def test_acquisition_ids_unique():
    doc = {
        "plate": plate(
            ["A"], ["1"], [("A/1", 0, 0)], version="0.4", acquisitions=[{"id": 1}, {"id": 1}]
        )
    }
    assert "plate.acquisition-id-unique" in rules(ngff.validate_attrs(doc), "error")


@pytest.mark.parametrize(
    ("images", "rule"),
    [
        ([], "well.images-empty"),
        ([{"path": "0"}, {"path": "0"}], "well.image-path-unique"),
        ([{"path": "a/b"}], "well.image-path"),
        ([{"path": "0", "acquisition": "1"}], "well.acquisition-type"),
        ([{"acquisition": 1}], "well.image-path-missing"),
    ],
)
def test_well_errors(images, rule):
    assert rule in rules(
        ngff.validate_attrs({"well": {"images": images, "version": "0.4"}}), "error"
    )


# ---------------------------------------------------------------------------- RFC-4


def oriented(*values: Any, kinds: tuple[str, ...] = ("space", "space", "space")) -> dict[str, Any]:
    ax = []
    for name, kind, value in zip("zyx", kinds, values):
        axis: dict[str, Any] = {"name": name, "type": kind, "unit": "micrometer"}
        if value is not ...:
            axis["orientation"] = (
                value if not isinstance(value, str) else {"type": "anatomical", "value": value}
            )
        ax.append(axis)
    return image05(ax)


def test_orientation_valid_and_partial():
    assert ngff.validate_attrs(
        oriented("inferior-to-superior", "posterior-to-anterior", "left-to-right")
    ).ok
    report = ngff.validate_attrs(oriented("inferior-to-superior", ..., "left-to-right"))
    assert report.ok and "orientation.partial" in rules(report, "warning")
    report = ngff.validate_attrs(oriented(None, None, None))
    assert report.ok and rules(report, "warning") >= {"orientation.null"}


@pytest.mark.parametrize(
    ("values", "rule"),
    [
        (("LPS", "posterior-to-anterior", "left-to-right"), "orientation.value"),
        (("left-to-right", "posterior-to-anterior", "left-to-right"), "orientation.duplicate-pair"),
        (
            ({"type": "anatomical"}, "posterior-to-anterior", "left-to-right"),
            "orientation.value-missing",
        ),
        (
            ({"value": "left-to-right"}, "posterior-to-anterior", "inferior-to-superior"),
            "orientation.type-missing",
        ),
        (("left-to-right", "posterior-to-anterior", "ventral-to-dorsal"), None),
    ],
)
def test_orientation_errors(values, rule):
    report = ngff.validate_attrs(oriented(*values))
    if rule is None:
        assert report.ok
    else:
        assert rule in rules(report, "error")


def test_orientation_on_time_axis_and_proposed_terms():
    ax = [
        {
            "name": "t",
            "type": "time",
            "orientation": {"type": "anatomical", "value": "left-to-right"},
        },
        *axes("y:space", "x:space"),
    ]
    assert "orientation.non-space" in rules(ngff.validate_attrs(image05(ax)), "error")
    report = ngff.validate_attrs(
        oriented("superficial-to-deep", "posterior-to-anterior", "left-to-right")
    )
    assert report.ok and "orientation.proposed-value" in rules(report, "warning")
    legacy = image05(
        [
            {"name": "y", "type": "space", "anatomicalOrientation": "anterior-to-posterior"},
            *axes("x:space"),
        ]
    )
    assert "orientation.legacy-key" in rules(ngff.validate_attrs(legacy), "warning")


# ---------------------------------------------------------------------------- collection


def test_bioformats2raw_layout_must_be_3():
    assert "bf2raw.layout" in rules(ngff.validate_attrs({"bioformats2raw.layout": 2}), "error")
    assert "series.item-type" in rules(ngff.validate_attrs({"series": ["0", 1]}), "error")


# ---------------------------------------------------------------------------- stores


def test_missing_location_raises_store_error(tmp_path):
    with pytest.raises(StoreError):
        ngff.validate(tmp_path / "nope.zarr")
    with pytest.raises(NgffError):
        ngff.validate(str(tmp_path / "nope.zarr"))


def test_empty_directory_is_a_problem(tmp_path):
    report = ngff.validate(tmp_path)
    assert not report.ok and rules(report) == {"zarr.no-node"}


def test_malformed_json_is_a_problem(tmp_path):
    (tmp_path / "zarr.json").write_text("{not json")
    report = ngff.validate(tmp_path)
    assert not report.ok and "zarr.metadata" in rules(report)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_valid_image_store(tmp_path, zarr_format):
    attrs = image05() if zarr_format == 3 else image04()
    Tree(tmp_path, zarr_format).image("", attrs, [[64, 64], [32, 32]])
    report = ngff.validate(tmp_path)
    assert report.ok, report
    assert report.version == ("0.5" if zarr_format == 3 else "0.4")


def test_dimension_names_required_in_05(tmp_path):
    Tree(tmp_path, 3).group("", image05()).array("0", [64, 64]).array(
        "1", [32, 32], dims=["x", "y"]
    )
    report = ngff.validate(tmp_path)
    assert {(p.rule, p.path) for p in report.errors} == {
        ("dataset.dimension-names-missing", "0"),
        ("dataset.dimension-names", "1"),
    }


def test_zarr_format_must_match_version(tmp_path):
    Tree(tmp_path / "a", 2).group("", {"ome": image05()["ome"]})
    assert "zarr.format" in rules(ngff.validate(tmp_path / "a"), "error")
    Tree(tmp_path / "b", 3).image("", image04(), [[64, 64], [32, 32]])
    assert "zarr.format" in rules(ngff.validate(tmp_path / "b"), "error")


def test_shapes_must_shrink(tmp_path):
    Tree(tmp_path, 2).image("", image04(), [[32, 32], [64, 64]])
    report = ngff.validate(tmp_path)
    assert {(p.rule, p.path) for p in report.errors} == {("datasets.order", "1")}


def test_omero_channel_count_against_the_channel_axis(tmp_path):
    attrs = image04(axes("c:channel", "y:space", "x:space"))
    attrs["omero"] = {
        "channels": [{"color": "FF0000", "window": {"min": 0, "max": 1, "start": 0, "end": 1}}]
    }
    Tree(tmp_path, 2).image("", attrs, [[2, 64, 64], [2, 32, 32]])
    report = ngff.validate(tmp_path)
    assert report.ok and "omero.channels-count" in rules(report, "warning")


def test_03_array_dimensions(tmp_path):
    attrs = {"multiscales": [{"version": "0.3", "axes": ["y", "x"], "datasets": [{"path": "0"}]}]}
    Tree(tmp_path / "bad", 2).group("", attrs).array("0", [8, 8])
    assert "dataset.array-dimensions-missing" in rules(ngff.validate(tmp_path / "bad"), "error")
    Tree(tmp_path / "good", 2).group("", attrs).array(
        "0", [8, 8], attrs={"_ARRAY_DIMENSIONS": ["y", "x"]}
    )
    assert ngff.validate(tmp_path / "good").ok


def _labelled(
    tmp_path: Path, zarr_format: int, label_levels: int = 2, dtype: str = "uint32"
) -> Tree:
    tree = Tree(tmp_path, zarr_format)
    if zarr_format == 3:
        tree.image("", image05(), [[64, 64], [32, 32]])
        tree.group("labels", {"ome": {"version": "0.5", "labels": ["cells"]}})
        label = image05(levels=label_levels)
        label["ome"]["image-label"] = {"colors": [{"label-value": 1}]}
    else:
        tree.image("", image04(), [[64, 64], [32, 32]])
        tree.group("labels", {"labels": ["cells"]})
        label = image04(levels=label_levels)
        label["image-label"] = {"version": "0.4", "colors": [{"label-value": 1}]}
    tree.image("labels/cells", label, [[64, 64], [32, 32], [16, 16]][:label_levels], dtype=dtype)
    return tree


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_labels_valid(tmp_path, zarr_format):
    _labelled(tmp_path, zarr_format)
    report = ngff.validate(tmp_path)
    assert report.ok, report


def test_label_levels_and_dtype(tmp_path):
    _labelled(tmp_path / "levels", 3, label_levels=3)
    assert {(p.rule, p.path) for p in ngff.validate(tmp_path / "levels").errors} == {
        ("label.levels", "labels/cells")
    }
    _labelled(tmp_path / "float5", 3, dtype="float32")
    assert "label.dtype" in rules(ngff.validate(tmp_path / "float5"), "error")
    _labelled(tmp_path / "float4", 2, dtype="float32")
    report = ngff.validate(tmp_path / "float4")
    assert report.ok and "label.dtype" in rules(report, "warning")  # 0.4: a layout comment only


def test_label_shape_should_match_or_be_one(tmp_path):
    tree = _labelled(tmp_path, 3)
    tree.array("labels/cells/0", [60, 64], "uint32", ["y", "x"])
    report = ngff.validate(tmp_path)
    assert "label.shape" in rules(report, "warning")


def test_05_unlisted_labels_and_intermediate_metadata(tmp_path):
    tree = _labelled(tmp_path, 3)
    extra = image05()
    extra["ome"]["image-label"] = {"colors": [{"label-value": 1}]}
    tree.image("labels/other", extra, [[64, 64], [32, 32]], dtype="uint32")
    report = ngff.validate(tmp_path)
    assert report.ok and "labels.unlisted" in rules(report, "warning")
    tree.group("labels", {"ome": {"version": "0.5", "labels": ["group/nested"]}})
    tree.group("labels/group", {"ome": {"version": "0.5", "labels": []}})
    nested = image05()
    nested["ome"]["image-label"] = {"colors": [{"label-value": 1}]}
    tree.image("labels/group/nested", nested, [[64, 64], [32, 32]], dtype="uint32")
    assert "labels.intermediate-metadata" in rules(ngff.validate(tmp_path), "error")


def test_labels_group_needs_the_labels_key(tmp_path):
    tree = Tree(tmp_path, 2).image("", image04(), [[64, 64], [32, 32]])
    tree.group("labels", {"something": 1})
    assert "labels.key-missing" in rules(ngff.validate(tmp_path), "error")


def test_05_version_consistent_in_hierarchy(tmp_path):
    tree = _labelled(tmp_path, 3)
    (tmp_path / "labels/zarr.json").write_text(
        json.dumps(
            {
                "zarr_format": 3,
                "node_type": "group",
                "attributes": {"ome": {"version": "0.6", "labels": ["cells"]}},
            }
        )
    )
    report = ngff.validate(tmp_path)
    assert "version.unsupported" in rules(report, "error")
    label = json.loads((tmp_path / "labels/cells/zarr.json").read_text())
    (tmp_path / "labels/zarr.json").write_text(
        json.dumps(
            {
                "zarr_format": 3,
                "node_type": "group",
                "attributes": {"ome": {"version": "0.5", "labels": ["cells"]}},
            }
        )
    )
    label["attributes"] = {
        "multiscales": image04()["multiscales"],
        "image-label": {"colors": [{"label-value": 1}]},
    }
    (tmp_path / "labels/cells/zarr.json").write_text(json.dumps(label))
    assert "version.consistent" in rules(ngff.validate(tmp_path), "error")
    del tree


def _plate_store(tmp_path: Path, acquisitions: list[dict] | None, images: list[dict]) -> None:
    tree = Tree(tmp_path, 2)
    extra = {"acquisitions": acquisitions} if acquisitions is not None else {}
    tree.group("", {"plate": plate(["A"], ["1"], [("A/1", 0, 0)], version="0.4", **extra)})
    tree.group("A")
    tree.group("A/1", {"well": {"version": "0.4", "images": images}})
    for image in images:
        tree.image(f"A/1/{image['path']}", image04(), [[64, 64], [32, 32]])


def test_plate_store_valid(tmp_path):
    _plate_store(
        tmp_path,
        [{"id": 0, "name": "a", "maximumfieldcount": 1}],
        [{"path": "0", "acquisition": 0}],
    )
    report = ngff.validate(tmp_path)
    assert report.ok, report
    assert report.kind == "plate"


def test_well_acquisitions_against_the_plate(tmp_path):
    acqs = [
        {"id": 0, "name": "a", "maximumfieldcount": 1},
        {"id": 1, "name": "b", "maximumfieldcount": 1},
    ]
    _plate_store(tmp_path / "req", acqs, [{"path": "0"}])
    assert {(p.rule, p.path) for p in ngff.validate(tmp_path / "req").errors} == {
        ("well.acquisition-required", "A/1:well.images[0]")
    }
    _plate_store(tmp_path / "unknown", acqs, [{"path": "0", "acquisition": 7}])
    assert "well.acquisition-unknown" in rules(ngff.validate(tmp_path / "unknown"), "error")


def test_plate_structure_errors(tmp_path):
    _plate_store(tmp_path, None, [{"path": "0"}, {"path": "1"}])
    (tmp_path / "A/1/1/.zattrs").unlink()
    (tmp_path / "A/1/1/.zgroup").write_text(json.dumps({"zarr_format": 2}))
    report = ngff.validate(tmp_path)
    assert "field.no-multiscales" in rules(report, "error")
    (tmp_path / "A/1/.zattrs").write_text(json.dumps({"other": 1}))
    assert "well.no-metadata" in rules(ngff.validate(tmp_path), "error")


def test_bioformats2raw_series_walk(tmp_path):
    tree = Tree(tmp_path, 3)
    tree.group("", {"ome": {"version": "0.5", "bioformats2raw.layout": 3}})
    tree.group("OME", {"ome": {"version": "0.5", "series": ["0", "1"]}})
    (tmp_path / "OME" / "METADATA.ome.xml").write_text("<OME/>")
    tree.image("0", image05(), [[64, 64], [32, 32]])
    report = ngff.validate(tmp_path)
    assert report.kind == "collection"
    assert {(p.rule, p.path) for p in report.errors} == {("series.missing", "1")}
    (tmp_path / "OME" / "zarr.json").unlink()
    report = ngff.validate(tmp_path)  # without "series": consecutive groups 0/, 1/, ...
    assert report.ok, report


def test_validate_accepts_an_open_store(tmp_path):
    from ngff.store import open_store

    Tree(tmp_path, 2).image("", image04(), [[64, 64], [32, 32]])
    assert ngff.validate(open_store(tmp_path)).ok


def test_root_array_is_not_ome_zarr(tmp_path):
    Tree(tmp_path, 3).array("", [4, 4])
    assert rules(ngff.validate(tmp_path)) == {"ome.missing"}
