"""Robustness of :func:`ngff.read` against broken metadata (hypothesis).

Valid OME-Zarr documents are mutated at random (keys dropped, values replaced by random
JSON or by values of the wrong type, huge numbers, strings where lists belong) and
written as ``.zattrs`` / ``zarr.json`` into small stores whose arrays are real.  Reading
them, and then walking everything the returned node offers (levels, pixels, labels,
wells, fields, series), must either succeed or raise an :class:`ngff.NgffError`:
no ``KeyError``, ``TypeError``, ``AttributeError`` or zarr traceback may reach the user.

Failures found here are reported to the reader's owner; the minimal examples are kept
as explicit regression cases at the end of the file (names ending in ``_BUG``).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import builders as B
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import ngff
from ngff.errors import NgffError

FUZZ = settings(
    max_examples=200,
    deadline=None,
    # no shrinking: the failure message carries the exact document, and shrinking a
    # failure costs many more reads than the whole run (keep the file fast on 2 cores)
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
FUZZ_SMALL = settings(FUZZ, max_examples=30)

# --------------------------------------------------------------------------- valid documents

AXES = [
    {"name": "c", "type": "channel"},
    {"name": "y", "type": "space", "unit": "micrometer"},
    {"name": "x", "type": "space", "unit": "micrometer"},
]


def multiscale(version: str | None) -> dict[str, Any]:
    ms: dict[str, Any] = {
        "name": "fuzz",
        "axes": copy.deepcopy(AXES),
        "datasets": [
            {
                "path": "0",
                "coordinateTransformations": [
                    {"type": "scale", "scale": [1.0, 0.5, 0.5]},
                    {"type": "translation", "translation": [0.0, 1.0, 1.0]},
                ],
            },
            {
                "path": "1",
                "coordinateTransformations": [{"type": "scale", "scale": [1.0, 1.0, 1.0]}],
            },
        ],
        "coordinateTransformations": [{"type": "scale", "scale": [1.0, 2.0, 2.0]}],
        "type": "nearest",
        "metadata": {"method": "slicing"},
    }
    if version:
        ms["version"] = version
    return ms


def omero(version: str | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": 1,
        "name": "img",
        "channels": [
            {
                "label": "a",
                "color": "FF0000",
                "active": True,
                "window": {"min": 0, "max": 255, "start": 0, "end": 100},
            },
            {
                "label": "b",
                "color": "00FF00",
                "window": {"min": 0, "max": 255, "start": 5, "end": 50},
            },
        ],
        "rdefs": {"model": "color", "defaultZ": 0},
    }
    if version:
        doc["version"] = version
    return doc


def image_label(version: str | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "colors": [
            {"label-value": 1, "rgba": [255, 0, 0, 255]},
            {"label-value": 2, "rgba": [0, 0, 255, 128]},
        ],
        "properties": [{"label-value": 1, "area": 3}],
        "source": {"image": "../../"},
    }
    if version:
        doc["version"] = version
    return doc


def plate(version: str | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": "p",
        "rows": [{"name": "A"}, {"name": "B"}],
        "columns": [{"name": "1"}, {"name": "2"}],
        "wells": [
            {"path": "A/1", "rowIndex": 0, "columnIndex": 0},
            {"path": "B/2", "rowIndex": 1, "columnIndex": 1},
        ],
        "acquisitions": [
            {"id": 0, "name": "run", "maximumfieldcount": 1, "starttime": 1, "endtime": 2}
        ],
        "field_count": 1,
    }
    if version:
        doc["version"] = version
    return doc


def well(version: str | None) -> dict[str, Any]:
    doc: dict[str, Any] = {"images": [{"path": "0", "acquisition": 0}]}
    if version:
        doc["version"] = version
    return doc


def v04_attrs(kind: str) -> dict[str, Any]:
    if kind == "image":
        return {"multiscales": [multiscale("0.4")], "omero": omero("0.4")}
    if kind == "label":
        return {"multiscales": [multiscale("0.4")], "image-label": image_label("0.4")}
    if kind == "labels":
        return {"labels": ["a"]}
    if kind == "plate":
        return {"plate": plate("0.4")}
    if kind == "well":
        return {"well": well("0.4")}
    if kind == "collection":
        return {"bioformats2raw.layout": 3}
    raise ValueError(kind)


def v05_attrs(kind: str) -> dict[str, Any]:
    if kind == "image":
        ome = {"multiscales": [multiscale(None)], "omero": omero(None)}
    elif kind == "label":
        ome = {"multiscales": [multiscale(None)], "image-label": image_label(None)}
    elif kind == "labels":
        ome = {"labels": ["a"]}
    elif kind == "plate":
        ome = {"plate": plate(None)}
    elif kind == "well":
        ome = {"well": well(None)}
    elif kind == "collection":
        ome = {"bioformats2raw.layout": 3}
    else:
        raise ValueError(kind)
    return {"ome": {"version": "0.5", **ome}}


# --------------------------------------------------------------------------- stores with real arrays


def _image_arrays(root: Path, v3: bool, *, labels: bool) -> None:
    """Arrays ``0`` (2, 8, 8) and ``1`` (2, 4, 4) uint8, one chunk each (computing stays
    cheap), with valid label metadata when ``labels``."""
    data = B.data_for((2, 8, 8), "uint8")
    for path, level in (("0", data), ("1", B.downsample(data, (1, 2, 2)))):
        if v3:
            B.write_v3_array(root / path, level, level.shape, dimension_names=["c", "y", "x"])
        else:
            B.write_v2_array(root / path, level, level.shape)
    if labels:
        _write_attrs(root / "labels", v04_attrs("labels") if not v3 else v05_attrs("labels"), v3)
        _image_arrays(root / "labels" / "a", v3, labels=False)
        _write_attrs(
            root / "labels" / "a", v04_attrs("label") if not v3 else v05_attrs("label"), v3
        )


def _write_attrs(group: Path, attrs: Any, v3: bool) -> None:
    if v3:
        B.write_json(
            group / "zarr.json", {"zarr_format": 3, "node_type": "group", "attributes": attrs}
        )
    else:
        B.write_json(group / ".zgroup", {"zarr_format": 2})
        B.write_json(group / ".zattrs", attrs)


def _make_store(root: Path, kind: str, v3: bool) -> Path:
    """A valid store of ``kind``; the caller then overwrites the document under test."""
    version_attrs = v05_attrs if v3 else v04_attrs
    if kind == "image-bare":  # an image without labels (cheaper to read many times)
        _image_arrays(root, v3, labels=False)
        kind = "image"
    if kind in ("image", "label"):
        _image_arrays(root, v3, labels=kind == "image")
    elif kind == "labels":
        _image_arrays(root / "a", v3, labels=False)
        _write_attrs(root / "a", version_attrs("label"), v3)
    elif kind == "plate":
        for well_path in ("A/1", "B/2"):
            _write_attrs(root / well_path, version_attrs("well"), v3)
            _image_arrays(root / well_path / "0", v3, labels=False)
            _write_attrs(root / well_path / "0", version_attrs("image"), v3)
        for row in ("A", "B"):
            _write_attrs(root / row, {}, v3)
    elif kind == "well":
        _image_arrays(root / "0", v3, labels=False)
        _write_attrs(root / "0", version_attrs("image"), v3)
    elif kind == "collection":
        for series in ("0", "1"):
            _image_arrays(root / series, v3, labels=False)
            _write_attrs(root / series, version_attrs("image"), v3)
        _write_attrs(
            root / "OME",
            {"ome": {"version": "0.5", "series": ["0", "1"]}} if v3 else {"series": ["0", "1"]},
            v3,
        )
    _write_attrs(root, version_attrs(kind), v3)
    return root


# --------------------------------------------------------------------------- walking a node


def exercise(node: Any, depth: int = 0, *, compute: bool = True) -> None:
    """Touch everything a user may touch; compute every (tiny, single-chunk) level."""
    levels: list[Any] = []
    _walk(node, depth, levels)
    if compute and levels:
        import dask

        dask.compute(*levels, scheduler="synchronous")


def _walk(node: Any, depth: int, levels: list[Any]) -> None:
    if isinstance(node, ngff.Image):
        _ = (
            node.dims,
            node.axes,
            node.name,
            node.channels,
            node.shape,
            node.dtype,
            node.is_label,
            repr(node),
        )
        assert len(node.scales) == len(node.translations) == len(node.levels)
        for level in node.levels:
            _ = (level.shape, level.dtype, level.chunks)
            levels.append(level)
        for scale, shift in zip(node.scales, node.translations):
            assert len(scale) == len(shift) == len(node.dims)
        if depth < 2:
            for key in list(node.labels):
                _walk(node.labels[key], depth + 1, levels)
    elif isinstance(node, ngff.Plate):
        _ = (node.rows, node.columns, node.acquisitions, node.name)
        if node.rows and node.columns:
            try:
                node.well(0, 0)  # by index
            except NgffError:
                pass
        for ref in node.wells:
            parts = ref.path.split("/")
            if len(parts) >= 2:
                try:
                    _walk(node.well(parts[-2], parts[-1]), depth + 1, levels)
                except NgffError:
                    pass
    elif isinstance(node, ngff.Well):
        _ = (node.field_paths, node.acquisitions)
        for i in range(len(node.fields)):
            try:
                _walk(node.fields[i], depth + 1, levels)
            except NgffError:
                pass
    elif isinstance(node, ngff.Collection):
        _ = node.series_paths
        for key in list(node.images):
            try:
                _walk(node.images[key], depth + 1, levels)
            except NgffError:
                pass
    else:  # pragma: no cover - read() returned something outside the contract
        raise AssertionError(f"read() returned {type(node).__name__}")


def read_and_exercise(root: Path, *, compute: bool = True) -> str:
    """Read ``root`` and walk the node: returns "ok" or the NgffError class name.

    Any other exception propagates.
    """
    try:
        exercise(ngff.read(root), compute=compute)
    except NgffError as exc:
        assert str(root) in str(exc) or root.name in str(exc), f"message lacks the location: {exc}"
        return type(exc).__name__
    return "ok"


# --------------------------------------------------------------------------- strategies

HUGE = [10**400, 10**40, -(10**40), 2**63, -(2**63) - 1, 1e308, -1e308, 1e-320, 0, -1]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.sampled_from(HUGE)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(
        ["0", "1", "0.4", "0.5", "../", "..", "/", "", "A/1", "c", "x", "space", "scale"]
    )
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(doc: Any, prefix: tuple = (), *, first_items: bool = False) -> list[tuple]:
    """Every path (tuple of keys / indices) to a value inside ``doc``.

    ``first_items``: below a list, descend into its first item only (the others are parsed
    by the same code), though every item itself is still a path.
    """
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for key, value in doc.items():
            out.extend(_paths(value, prefix + (key,), first_items=first_items))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            if first_items and i:
                out.append(prefix + (i,))
            else:
                out.extend(_paths(value, prefix + (i,), first_items=first_items))
    return out


def _wrong_type(value: Any) -> list[Any]:
    if isinstance(value, list):
        return ["".join(map(str, value))[:10] or "x", {}, len(value), None, [value], [[]]]
    if isinstance(value, dict):
        return [[], "x", list(value), 1, None, [value]]
    if isinstance(value, bool):
        return ["true", 1, None, [value]]
    if isinstance(value, (int, float)):
        return [str(value), [value], None, True, {}, float("inf"), float("nan"), *HUGE]
    if isinstance(value, str):
        return [[value], 0, None, {}, value * 50, "", "../" * 3, value + "/x", 1.5]
    return ["x", [], {}, 0]


@st.composite
def mutations(draw, doc: Any, max_mutations: int = 3) -> Any:
    """``doc`` with 1..max_mutations random mutations."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, max_mutations))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        last = path[-1]
        value = parent[last]
        op = draw(st.sampled_from(["drop", "random", "wrong_type", "wrong_type", "duplicate"]))
        if op == "drop":
            if isinstance(parent, dict):
                del parent[last]
            else:
                parent.pop(last)
        elif op == "random":
            parent[last] = draw(json_values)
        elif op == "wrong_type":
            parent[last] = draw(st.sampled_from(_wrong_type(value)))
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(value))
        elif op == "duplicate":
            parent[last] = [copy.deepcopy(value), copy.deepcopy(value)]
    return doc


def _dump(doc: Any) -> str:
    # Python's json writes NaN/Infinity, which Python's reader accepts too: keep them.
    return json.dumps(doc)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    made: dict[tuple[str, bool], Path] = {}

    def get(kind: str, v3: bool) -> Path:
        key = (kind, v3)
        if key not in made:
            made[key] = _make_store(
                tmp_path_factory.mktemp(f"fuzz-{kind}-{'v3' if v3 else 'v2'}") / "s.zarr", kind, v3
            )
        return made[key]

    return get


def _write_root(root: Path, attrs: Any, v3: bool) -> None:
    if v3:
        (root / "zarr.json").write_text(
            _dump({"zarr_format": 3, "node_type": "group", "attributes": attrs})
        )
    else:
        (root / ".zattrs").write_text(_dump(attrs))


def _check(root: Path, doc: Any) -> None:
    try:
        read_and_exercise(root)
    except Exception as exc:  # attach the document to the failure report
        raise AssertionError(
            f"{type(exc).__name__} escaped (expected success or an NgffError naming the store): {exc}\n"
            f"  document: {_dump(doc)[:2000]}"
        ) from exc


# --------------------------------------------------------------------------- baseline

KINDS = ["image", "label", "labels", "plate", "well", "collection"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("v3", [False, True], ids=["0.4", "0.5"])
def test_unmutated_documents_read(stores, kind, v3):
    """The documents the fuzzers start from are valid and read without error."""
    assert read_and_exercise(stores(kind, v3)) == "ok"


# --------------------------------------------------------------------------- exhaustive single mutations

_DROP = object()


def _sweep_replacements(value: Any) -> list[Any]:
    """A deterministic handful of breakages for one value."""
    if isinstance(value, list):
        return [_DROP, None, 3, "x", [None]]
    if isinstance(value, dict):
        return [_DROP, None, 3, "x", []]
    if isinstance(value, bool):
        return [_DROP, None, "true"]
    if isinstance(value, (int, float)):
        return [_DROP, None, "1", [], 10**400, float("nan")]
    if isinstance(value, str):
        return [_DROP, None, 3, [], ""]
    return [_DROP, "x"]


def _replace(doc: Any, path: tuple, new: Any) -> Any:
    doc = copy.deepcopy(doc)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if new is _DROP:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return doc


def _sweep(root: Path, doc: Any, v3: bool, *, max_depth: int | None = None) -> list[str]:
    """Apply every single replacement at every path of ``doc``; the failures, one line each."""
    failures: dict[tuple[str, str], str] = {}
    for path in _paths(doc, first_items=True):
        if max_depth is not None and len(path) > max_depth:
            continue
        for new in _sweep_replacements(_get(doc, path)):
            mutated = _replace(doc, path, new)
            _write_root(root, mutated, v3)
            try:
                read_and_exercise(root, compute=False)
            except Exception as exc:
                where = "/".join(map(str, path))
                what = "<dropped>" if new is _DROP else json.dumps(new)
                what = what if len(what) < 40 else what[:20] + "..." + f"({len(what)} chars)"
                origin = _origin(exc)
                key = (type(exc).__name__, origin)
                # one line per distinct failure site, with the first input that reached it
                failures.setdefault(
                    key, f"{type(exc).__name__} at {origin}: {exc!s:.80}  <- {where} = {what}"
                )
    _write_root(root, doc, v3)
    return sorted(failures.values())


def _get(doc: Any, path: tuple) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def _origin(exc: BaseException) -> str:
    """file:line of the innermost frame inside ngff (where the raw error escaped from)."""
    import traceback

    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if "/ngff/" in f.filename.replace("\\", "/")
    ]
    if not frames:
        return "?"
    f = frames[-1]
    return f"{Path(f.filename).name}:{f.lineno} ({f.name})"


@pytest.mark.parametrize("kind", KINDS)
def test_sweep_single_mutations_v04(stores, kind):
    """Every single drop / wrong-type replacement of every value of a valid 0.4 document.

    The 0.5 documents go through the same parser once ``ome`` is unwrapped, so 0.5 is swept
    at its two top levels only (next test).
    """
    root = stores("image-bare" if kind == "image" else kind, False)
    failures = _sweep(root, v04_attrs(kind), False)
    assert not failures, "non-NgffError exceptions escaped ngff:\n  " + "\n  ".join(failures)


@pytest.mark.parametrize("kind", KINDS)
def test_sweep_single_mutations_v05_top_levels(stores, kind):
    root = stores("image-bare" if kind == "image" else kind, True)
    failures = _sweep(root, v05_attrs(kind), True, max_depth=3)
    assert not failures, "non-NgffError exceptions escaped ngff:\n  " + "\n  ".join(failures)


# --------------------------------------------------------------------------- random mutations (hypothesis)


@FUZZ
@given(data=st.data())
def test_fuzz_image_metadata(stores, data):
    v3 = data.draw(st.booleans(), label="v3")
    root = stores("image", v3)
    doc = data.draw(mutations(v05_attrs("image") if v3 else v04_attrs("image")))
    _write_root(root, doc, v3)
    _check(root, doc)


@pytest.mark.parametrize("kind", ["plate", "well", "label", "labels", "collection"])
@FUZZ_SMALL
@given(data=st.data())
def test_fuzz_other_metadata(stores, kind, data):
    v3 = data.draw(st.booleans(), label="v3")
    root = stores(kind, v3)
    doc = data.draw(mutations(v05_attrs(kind) if v3 else v04_attrs(kind)))
    _write_root(root, doc, v3)
    _check(root, doc)


@FUZZ_SMALL
@given(data=st.data())
def test_fuzz_random_json_under_ome_keys(stores, data):
    """Arbitrary JSON where OME keys (or the whole ``ome`` namespace) are expected."""
    v3 = data.draw(st.booleans(), label="v3")
    key = data.draw(
        st.sampled_from(
            [
                "multiscales",
                "omero",
                "labels",
                "plate",
                "well",
                "image-label",
                "bioformats2raw.layout",
                "series",
                "version",
            ]
        )
    )
    value = data.draw(json_values)
    if v3:
        doc = data.draw(st.sampled_from([{"ome": value}, {"ome": {"version": "0.5", key: value}}]))
    else:
        doc = {key: value}
    root = stores("image", v3)
    _write_root(root, doc, v3)
    _check(root, doc)


@FUZZ_SMALL
@given(data=st.data())
def test_fuzz_zarr_json_document(stores, data):
    """Mutations of the whole group ``zarr.json`` (zarr_format, node_type, attributes)."""
    root = stores("image", True)
    doc = data.draw(
        mutations({"zarr_format": 3, "node_type": "group", "attributes": v05_attrs("image")}, 2)
    )
    (root / "zarr.json").write_text(_dump(doc))
    try:
        _check(root, doc)
    finally:
        _write_root(root, v05_attrs("image"), True)


_ORIGINAL_ARRAY_DOCS: dict[bool, Any] = {}


@pytest.mark.parametrize("v3", [False, True], ids=["0.4", "0.5"])
@FUZZ_SMALL
@given(data=st.data())
def test_fuzz_array_metadata(stores, v3, data):
    """Mutated level array documents (``.zarray`` / array ``zarr.json``): read, shapes and
    dtype must be fine or an NgffError; pixels are not computed (that is codec land)."""
    root = stores("well", v3)  # a field image under 0/
    field = root / "0"
    name = "zarr.json" if v3 else ".zarray"
    array_doc = field / "1" / name
    original = _ORIGINAL_ARRAY_DOCS.setdefault(v3, json.loads(array_doc.read_text()))
    doc = data.draw(mutations(original, 2))
    array_doc.write_text(_dump(doc))
    try:
        img = ngff.read(field)
        for level in img.levels:
            _ = (level.shape, level.dtype, level.chunks)
    except NgffError as exc:
        assert str(field) in str(exc)
    except Exception as exc:
        raise AssertionError(
            f"non-NgffError {type(exc).__name__}: {exc}\n  {name}: {_dump(doc)[:2000]}"
        ) from exc
    finally:
        array_doc.write_text(_dump(original))


# --------------------------------------------------------------------------- regressions found by fuzzing


def _regression_store(tmp_path: Path, kind: str, v3: bool, edit) -> Path:
    root = _make_store(tmp_path / "s.zarr", kind, v3)
    attrs = v05_attrs(kind) if v3 else v04_attrs(kind)
    edit(attrs["ome"] if v3 else attrs)
    _write_root(root, attrs, v3)
    return root


REGRESSIONS = {
    # found by test_sweep_single_mutations_*: ``for item in raw.get(key) or []`` on a non-list
    "omero.channels=3": ("image", lambda a: a["omero"].update(channels=3)),
    "image-label.colors=3": ("label", lambda a: a["image-label"].update(colors=3)),
    "image-label.properties=3": ("label", lambda a: a["image-label"].update(properties=3)),
    "plate.acquisitions=3": ("plate", lambda a: a["plate"].update(acquisitions=3)),
    # integers beyond the float range: float(int) raises OverflowError in _number()
    "scale=[10**400,1,1]": (
        "image",
        lambda a: a["multiscales"][0]["datasets"][0]["coordinateTransformations"][0].update(
            scale=[10**400, 1.0, 1.0]
        ),
    ),
    "omero window start=10**400": (
        "image",
        lambda a: a["omero"]["channels"][0]["window"].update(start=10**400),
    ),
    "omero coefficient=10**400": (
        "image",
        lambda a: a["omero"]["channels"][0].update(coefficient=10**400),
    ),
}


@pytest.mark.parametrize("case", sorted(REGRESSIONS))
def test_regression_non_ngff_error_BUG(tmp_path, case):
    """Minimal documents that let a raw TypeError/OverflowError escape (reported).

    Expected: an InvalidMetadataError naming the document (or a lenient read that ignores
    the unusable value, as the parser does for other optional keys).
    """
    kind, edit = REGRESSIONS[case]
    root = _regression_store(tmp_path, kind, False, edit)  # 0.5 goes through the same parser
    assert read_and_exercise(root, compute=False) in ("ok", "InvalidMetadataError")


@pytest.mark.parametrize(
    ("v3", "shape0"), [(False, 2**63), (True, 10**40)], ids=["0.4-2**63", "0.5-10**40"]
)
def test_regression_huge_array_shape_BUG(tmp_path, v3, shape0):
    """A level array document with an absurd shape must give InvalidMetadataError.

    Found by test_fuzz_array_metadata: shape[0] = 2**63 -> ``MemoryError`` (dask builds the
    chunk tuple in ``da.from_array``), shape[0] = 10**40 -> ``TypeError: ufunc 'isnan' not
    supported`` (dask normalize_chunks).  Also a risk short of a crash: a shape such as
    2e9 with chunk 2 makes dask allocate a 1e9-element chunks tuple (gigabytes).
    """
    root = _make_store(tmp_path / "s.zarr", "image", v3)
    doc_path = root / "1" / ("zarr.json" if v3 else ".zarray")
    doc = json.loads(doc_path.read_text())
    doc["shape"][0] = shape0
    doc_path.write_text(json.dumps(doc))
    with pytest.raises(NgffError) as info:
        img = ngff.read(root)
        [level.chunks for level in img.levels]
    assert str(root) in str(info.value)
