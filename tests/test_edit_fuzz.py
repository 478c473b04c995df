"""Fuzzing what the edit path reads (hypothesis): only NgffError, no hang, no write.

Complements ``test_reader_fuzz.py`` (mutated documents through ``read``) and
``test_validation_fuzz.py`` (any JSON through the validator) with what editing depends
on and those files do not generate:

- multiscales documents built around the fields :func:`ngff.update_region` interprets
  - downsampling ``type`` and ``metadata``, per-level scale ratios (integer, fractional,
  zero, negative, huge), dataset paths - through ``validate_attrs``, the version's
  parser and :func:`ngff.update.downsampling_method`;
- tiny real stores with such metadata, edited with ``update_region`` and random
  regions and values: it succeeds or raises an NgffError, and when it raises, not a byte
  of the store has changed;
- zip archives (``.ozx``) of generated entries (odd names, duplicates, directories,
  random or mutated JSON bytes, stored or deflated) through ``read`` and ``validate``,
  which must raise only NgffError, finish within a time limit and write nothing.

At least 10 000 documents and archive entries are generated in total (counted): 400\nhypothesis documents each expanded into 20 seeded variants, and 250 archives.
"""

from __future__ import annotations

import hashlib
import json
import signal
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import ngff
from ngff.errors import NgffError
from ngff.update import downsampling_method, update_region

FAST = settings(
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: messages carry the input
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    database=None,
)


@contextmanager
def time_limit(seconds: float):
    """Fail (instead of hanging) when the block runs longer than ``seconds``."""

    def alarm(signum, frame):
        raise TimeoutError(f"took longer than {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# --------------------------------------------------------------------------- documents

numbers = st.one_of(
    st.integers(-3, 9),
    st.sampled_from([0.5, 1.5, 2.0, 1e-300, 1e300, -2.0, 3.0000001]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.none(),
)
methods = st.one_of(
    st.sampled_from(
        ["gaussian", "mean", "mode", "nearest", "min", "max", "local_mean", "ITKWASM_GAUSSIAN", "DASK_IMAGE_MODE", "zoom", "", "GAUSS"]
    ),
    st.text(max_size=12),
    st.integers(),
    st.none(),
    st.lists(st.text(max_size=4), max_size=2),
)
metadata = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(["method", "version", "args", "kwargs"]), st.one_of(methods, st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)), max_size=3),
    st.integers(),
    st.text(max_size=5),
)
axis_names = st.sampled_from(["t", "c", "z", "y", "x", "q", "", "y"])


@st.composite
def axes(draw, n):
    out = []
    for _ in range(n):
        name = draw(axis_names)
        kind = draw(st.sampled_from(["space", "time", "channel", None, "weird"]))
        axis = {"name": name}
        if kind is not None:
            axis["type"] = kind
        if draw(st.booleans()):
            axis["unit"] = draw(st.sampled_from(["micrometer", "second", "parsec", "", 3]))
        out.append(axis)
    return out


@st.composite
def multiscale_document(draw):
    ndim = draw(st.integers(1, 6))
    levels = draw(st.integers(0, 4))
    datasets = []
    base = [draw(st.sampled_from([1.0, 0.5, 2.0])) for _ in range(ndim)]
    for k in range(levels):
        ratio = draw(st.sampled_from([1, 2, 2, 3, 0.5]))
        scale = [b * ratio**k for b in base]
        if draw(st.integers(0, 5)) == 0:
            scale = [draw(numbers) for _ in range(draw(st.integers(0, ndim + 1)))]
        transforms = [{"type": "scale", "scale": scale}]
        if draw(st.booleans()):
            transforms.append({"type": draw(st.sampled_from(["translation", "scale", "identity", "rotate"])), "translation": [draw(numbers) for _ in range(ndim)]})
        dataset = {"path": draw(st.sampled_from([str(k), str(k), "", "../x", "a/b", " "])), "coordinateTransformations": transforms}
        if draw(st.integers(0, 9)) == 0:
            dataset.pop(draw(st.sampled_from(["path", "coordinateTransformations"])))
        datasets.append(dataset)
    ms = {"axes": draw(axes(ndim)), "datasets": datasets}
    if draw(st.booleans()):
        ms["type"] = draw(methods)
    if draw(st.booleans()):
        ms["metadata"] = draw(metadata)
    if draw(st.booleans()):
        ms["name"] = draw(st.one_of(st.text(max_size=4), st.integers()))
    version = draw(st.sampled_from(["0.4", "0.5", "0.3", None]))
    extra: dict = {}
    if draw(st.booleans()):
        extra["image-label"] = draw(st.one_of(st.just({"colors": [{"label-value": 1, "rgba": [1, 2, 3, 4]}]}), st.just({}), st.integers()))
    if version == "0.5":
        return {"ome": {"version": "0.5", "multiscales": [ms], **extra}}
    if version is not None:
        ms["version"] = version
    return {"multiscales": [ms], **extra}


def _parse_and_choose(document, allowed) -> None:
    """What update_region does with a document before touching pixels."""
    from ngff.spec import detect_version, get_spec

    attrs = document
    try:
        version = detect_version(attrs, 3 if "ome" in attrs else 2, None)
        if version is None:
            return
        meta = get_spec(version).parse(attrs, "fuzz")
    except NgffError:
        return
    for ms in meta.multiscales or ():
        assert downsampling_method(ms, meta.image_label is not None) in allowed


_ODD = [0, 1, 2, 3, -1, 0.5, 1.5, 2.5, 1e-300, 1e300, float("nan"), float("inf"), "2", None, [], {}, True]
_TYPES = ["gaussian", "mean", "mode", "nearest", "min", "max", "local_mean", "ITKWASM_GAUSSIAN", "DASK_IMAGE_MODE", "zoom", "", 3, None, ["mode"]]


def _variant(document: dict, rng) -> dict:
    """A cheap mutation of a generated document: one field of one part replaced."""
    doc = json.loads(json.dumps(document, allow_nan=True))
    ms = (doc.get("ome") or doc)["multiscales"][0]
    target = rng.choice(["scale", "type", "metadata", "path", "axes", "datasets", "drop"])
    if target == "scale" and ms["datasets"]:
        dataset = rng.choice(ms["datasets"])
        transforms = dataset.get("coordinateTransformations") or [{}]
        if isinstance(transforms[0], dict) and isinstance(transforms[0].get("scale"), list) and transforms[0]["scale"]:
            scale = transforms[0]["scale"]
            scale[rng.randrange(len(scale))] = rng.choice(_ODD)
    elif target == "type":
        ms["type"] = rng.choice(_TYPES)
    elif target == "metadata":
        ms["metadata"] = rng.choice([None, {"method": rng.choice(["ngff.pyramid.mode", "ngff.pyramid.bogus", "skimage.transform.pyramid_gaussian", 5])}, [], "x"])
    elif target == "path" and ms["datasets"]:
        rng.choice(ms["datasets"])["path"] = rng.choice(["0", "", "..", "a/b", 7, None])
    elif target == "axes":
        ms["axes"] = ms["axes"][: rng.randrange(len(ms["axes"]) + 1)] + rng.choice([[], [{"name": "z"}], [{"name": "x", "type": "space"}]])
    elif target == "datasets":
        ms["datasets"] = ms["datasets"] * rng.randrange(3)
    else:
        ms.pop(rng.choice(sorted(ms)), None)
    return doc


def test_multiscale_documents_for_edits():
    """Documents generated by hypothesis, each expanded into cheap seeded variants."""
    import random

    from ngff.pyramid import METHODS

    count = 0

    @settings(FAST, max_examples=400)
    @given(multiscale_document(), st.integers(0, 2**32 - 1))
    def run(document, seed):
        nonlocal count
        rng = random.Random(seed)
        for doc in [document, *(_variant(document, rng) for _ in range(19))]:
            count += 1
            text = json.dumps(doc, allow_nan=True)
            report = ngff.validate_attrs(doc)
            assert isinstance(report.ok, bool)
            _parse_and_choose(doc, METHODS)
            assert json.dumps(doc, allow_nan=True) == text  # inputs are never modified

    run()
    assert count >= 8000


# --------------------------------------------------------------------------- stores


def _snapshot(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


@st.composite
def edit(draw):
    scales = draw(st.lists(st.sampled_from([1.0, 2.0, 4.0, 3.0, 0.5, 2.5, 0.0, -2.0]), min_size=1, max_size=3))
    region = tuple(
        draw(st.one_of(st.integers(-20, 40), st.builds(slice, st.integers(-40, 40) | st.none(), st.integers(-40, 40) | st.none(), st.sampled_from([None, 1, 2, -1]))))
        for _ in range(draw(st.integers(0, 4)))
    )
    value = draw(st.one_of(st.integers(-5, 70000), st.floats(allow_nan=True), st.just(np.ones((2, 2, 2), np.uint16)), st.just(np.ones((3,), np.int64))))
    return {
        "scales": scales,
        "type": draw(methods),
        "metadata": draw(metadata),
        "region": region,
        "value": value,
        "level": draw(st.integers(-1, 3)),
        "method": draw(st.sampled_from([None, None, "mode", "bogus"])),
    }


def test_update_region_on_fuzzed_stores(tmp_path_factory):
    base = tmp_path_factory.mktemp("fuzz-stores")
    template = base / "template.zarr"
    ngff.write(np.arange(8 * 12 * 12, dtype=np.uint16).reshape(8, 12, 12), template, chunks=4, scale_factors=[2, 4, 8], version="0.4")
    attrs_path = template / ".zattrs"
    original = json.loads(attrs_path.read_text())
    count = 0

    @settings(FAST, max_examples=60)
    @given(edit())
    def run(case):
        nonlocal count
        count += 1
        import shutil

        store = base / "case.zarr"
        shutil.rmtree(store, ignore_errors=True)
        shutil.copytree(template, store)
        attrs = json.loads(json.dumps(original))
        ms = attrs["multiscales"][0]
        for k, dataset in enumerate(ms["datasets"]):
            factor = case["scales"][min(k, len(case["scales"]) - 1)] ** k if k else 1.0
            dataset["coordinateTransformations"][0]["scale"] = [float(v) * factor for v in dataset["coordinateTransformations"][0]["scale"]]
        ms["type"] = case["type"]
        ms["metadata"] = case["metadata"]
        (store / ".zattrs").write_text(json.dumps(attrs, allow_nan=True))
        before = _snapshot(store)
        try:
            with time_limit(20):
                update_region(store, case["region"], case["value"], level=case["level"], method=case["method"])
        except NgffError:
            assert _snapshot(store) == before  # a refused edit writes nothing
        else:
            assert ngff.read(store).levels[0].compute().shape == (8, 12, 12)
            after = _snapshot(store)
            assert set(after) == set(before) or set(after) <= set(before)  # no stray files
            assert (store / ".zattrs").read_bytes() == json.dumps(attrs, allow_nan=True).encode()  # metadata untouched

    run()
    assert count >= 50


# --------------------------------------------------------------------------- archives

entry_names = st.one_of(
    st.sampled_from(
        ["zarr.json", "0/zarr.json", "0/c/0/0/0", "0/c/0/0", "labels/zarr.json", "labels/a/zarr.json", ".zattrs", ".zgroup",
         "0/.zarray", "0/0/0/0", "../evil", "/abs/zarr.json", "a//b", "dir/", "zarr.json/", "0/c/../zarr.json", "ü/zarr.json", "", ".ngff-lock"]
    ),
    st.text(alphabet="abc0/._", min_size=1, max_size=12),
)


def _valid_group() -> dict:
    return {
        "zarr_format": 3,
        "node_type": "group",
        "attributes": {"ome": {"version": "0.5", "multiscales": [{"axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}], "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1]}]}]}]}},
    }


def _valid_array() -> dict:
    return {
        "zarr_format": 3, "node_type": "array", "shape": [4, 4], "data_type": "uint8",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2, 2]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0, "codecs": [{"name": "bytes"}], "dimension_names": ["y", "x"],
    }


@st.composite
def entry_content(draw, name):
    choice = draw(st.integers(0, 4))
    if choice == 0:
        return draw(st.binary(max_size=64))
    if choice == 1 and name.endswith("zarr.json"):
        doc = _valid_group() if name.count("/") == 0 else _valid_array()
        key = draw(st.sampled_from(sorted(doc)))
        doc[key] = draw(st.one_of(st.none(), st.integers(-2, 2**40), st.text(max_size=5), st.lists(st.integers(-1, 5), max_size=3)))
        return json.dumps(doc).encode()
    if choice == 2:
        return json.dumps(draw(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=4), lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3), max_leaves=8))).encode()
    if choice == 3:
        return json.dumps(_valid_group() if name == "zarr.json" else _valid_array()).encode()
    return bytes(4)


@st.composite
def archive(draw):
    names = draw(st.lists(entry_names, min_size=8, max_size=18))
    if draw(st.booleans()):
        names = ["zarr.json", "0/zarr.json", *names]
    entries = [(name, draw(entry_content(name)), draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))) for name in names]
    comment = draw(st.one_of(st.just(b""), st.just(b'{"ome": {"version": "0.5"}}'), st.binary(max_size=20)))
    return entries, comment


def test_archive_entries_read_and_validate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz-archives")
    count = 0

    @settings(FAST, max_examples=250)
    @given(archive())
    def run(case):
        nonlocal count
        entries, comment = case
        path = folder / "case.ozx"
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate names are the point
            with zipfile.ZipFile(path, "w") as z:
                for name, data, method in entries:
                    if not name:
                        continue
                    z.writestr(zipfile.ZipInfo(name), data, compress_type=method)
                    count += 1
                z.comment = comment
        before = (path.read_bytes(), sorted(p.name for p in folder.iterdir()))
        for action in (lambda: ngff.read(path), lambda: ngff.validate(path)):
            try:
                with time_limit(10):
                    node = action()
                    for level in getattr(node, "levels", [])[:1]:
                        level.compute()
            except NgffError:
                pass
        assert (path.read_bytes(), sorted(p.name for p in folder.iterdir())) == before  # nothing written

    run()
    assert count >= 2000  # with the 8000 documents above: over 10 000 generated inputs
