"""Small OME-Zarr stores written with plain zarr-python 3 and hand-written JSON.

These builders are the ground truth of the reader tests: each one writes a tiny store
(a few KB) for one OME-Zarr version or layout, with deterministic pixel data, and returns
an :class:`Expected` (or :class:`ExpectedPlate` / :class:`ExpectedCollection`) holding
what a correct reader must report: versions, axes, every level's exact pixels, the
stored (inner) chunk shapes and the composed per-level scales and translations.

They never use ``ngff`` itself, so they can check it (and any other tool: reuse them).
Arrays are created with ``zarr.create_array`` at their own path; group metadata
(``.zgroup``/``.zattrs``, ``zarr.json``) is written as JSON by hand so that every byte
of metadata is under the test's control.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "Expected",
    "ExpectedPlate",
    "ExpectedCollection",
    "AxisSpec",
    "data_for",
    "downsample",
    "compose",
    "write_json",
    "write_v2_array",
    "write_v3_array",
    "write_v2_group",
    "write_v3_group",
    "strip_dimension_separator",
    "chunk_files",
    "build_v01",
    "build_v02",
    "build_v03",
    "build_v04",
    "build_v05",
    "build_big_endian",
    "build_big_endian_v3",
    "build_v04_v05_side_by_side",
    "build_bioformats2raw",
    "build_plate",
    "build_image",
    "IMAGE_BUILDERS",
]


# --------------------------------------------------------------------------- expectations


@dataclass(frozen=True)
class AxisSpec:
    """One axis as the reader must report it."""

    name: str
    type: str | None = None
    unit: str | None = None


@dataclass
class Expected:
    """What reading an image store (or an image inside one) must give.

    ``path`` is the store root; ``group`` the image group inside it ("" for the root).
    """

    path: Path
    version: str
    axes: tuple[AxisSpec, ...]
    levels: list[np.ndarray]
    chunks: list[tuple[int, ...]]  # stored chunk shape per level (inner chunks when sharded)
    scales: list[tuple[float, ...]]
    translations: list[tuple[float, ...]]
    level_paths: tuple[str, ...]
    group: str = ""
    name: str | None = None
    channels: list[dict[str, Any]] = field(default_factory=list)
    labels: dict[str, Expected] = field(default_factory=dict)
    image_label: dict[str, Any] | None = None
    zarr_format: int = 2

    @property
    def dims(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.axes)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.levels[0].shape)

    @property
    def dtype(self) -> np.dtype:
        return self.levels[0].dtype

    @property
    def location(self) -> Path:
        """Directory of the image group."""
        return self.path / self.group if self.group else self.path


@dataclass
class ExpectedPlate:
    """What reading a plate must give; ``fields[well_path]`` lists each field's image."""

    path: Path
    version: str
    name: str | None
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    wells: tuple[tuple[str, int, int], ...]  # (path, rowIndex, columnIndex)
    acquisitions: tuple[dict[str, Any], ...]
    field_paths: dict[str, tuple[str, ...]]
    field_acquisitions: dict[str, tuple[int | None, ...]]
    fields: dict[str, list[Expected]]
    field_count: int | None = None


@dataclass
class ExpectedCollection:
    """What reading a bioformats2raw collection must give."""

    path: Path
    version: str
    series: tuple[str, ...]
    images: dict[str, Expected]


# --------------------------------------------------------------------------- low-level writers


def write_json(path: Path, doc: Any) -> None:
    """Write ``doc`` as JSON at ``path`` (creating parent directories)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2))


def data_for(
    shape: Sequence[int], dtype: Any = "uint16", *, seed: int = 0, labels: bool = False
) -> np.ndarray:
    """Deterministic pixel data: ``arange`` (shifted by ``seed``) wrapped into the dtype's range.

    With ``labels=True``: small integers 0..3 (so label tests see a handful of values).
    """
    dtype = np.dtype(dtype)
    n = math.prod(shape)
    values = np.arange(n, dtype=np.int64) + seed * 7919
    if labels:
        values = (values // 3 + seed) % 4
    elif dtype.kind in "ui":
        info = np.iinfo(dtype)
        span = min(int(info.max) - max(int(info.min), 0) + 1, 2**31)
        # a multiplier spreads values over the whole range so byte order matters
        values = (values * 251) % span + max(int(info.min), 0)
    elif dtype.kind == "f":
        return (values.astype(np.float64) * 0.25 - 3.0).astype(dtype).reshape(shape)
    return values.astype(dtype).reshape(shape)


def downsample(data: np.ndarray, factors: Sequence[int]) -> np.ndarray:
    """Strided (nearest) downsampling: exactly reproducible, so tests can compare pixels."""
    return np.ascontiguousarray(data[tuple(slice(None, None, f) for f in factors)])


def compose(
    scale: Sequence[float],
    translation: Sequence[float] | None,
    outer_scale: Sequence[float] | None = None,
    outer_translation: Sequence[float] | None = None,
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Dataset (s, t) then multiscale-level (S, T): scale ``S*s``, translation ``S*t + T``."""
    n = len(scale)
    t = translation or (0.0,) * n
    S = outer_scale or (1.0,) * n
    T = outer_translation or (0.0,) * n
    return (
        tuple(float(S[i] * scale[i]) for i in range(n)),
        tuple(float(S[i] * t[i] + T[i]) for i in range(n)),
    )


def _python_codecs():
    """Write with zarr-python's own codec pipeline, whatever the process-wide setting
    (``ngff`` switches zarr to the ``zarrs`` pipeline when it reads)."""
    import zarr

    return zarr.config.set({"codec_pipeline.path": "zarr.core.codec_pipeline.BatchedCodecPipeline"})


def write_v2_array(
    path: Path,
    data: np.ndarray,
    chunks: Sequence[int],
    *,
    separator: str = "/",
    keep_separator: bool = True,
    attributes: Mapping[str, Any] | None = None,
    dtype: Any = None,
) -> None:
    """A Zarr v2 array at ``path`` holding ``data``.

    ``keep_separator=False`` removes ``dimension_separator`` from ``.zarray`` afterwards,
    as OME-Zarr 0.1 writers (zarr-python 2.x before 2.8) did.
    """
    import zarr

    with _python_codecs():
        arr = zarr.create_array(
            store=str(path),
            shape=data.shape,
            chunks=tuple(chunks),
            dtype=dtype or data.dtype,
            zarr_format=2,
            chunk_key_encoding={"name": "v2", "separator": separator},
            attributes=dict(attributes or {}),
            overwrite=True,
        )
        arr[...] = data
    if not keep_separator:
        strip_dimension_separator(path)


def strip_dimension_separator(path: Path) -> None:
    """Remove ``dimension_separator`` from the ``.zarray`` at ``path``."""
    zarray = path / ".zarray"
    doc = json.loads(zarray.read_text())
    doc.pop("dimension_separator", None)
    zarray.write_text(json.dumps(doc, indent=2))


def write_v3_array(
    path: Path,
    data: np.ndarray,
    chunks: Sequence[int],
    *,
    shards: Sequence[int] | None = None,
    dimension_names: Sequence[str] | None = None,
    dtype: Any = None,
    endian: str | None = None,
) -> None:
    """A Zarr v3 array at ``path`` (sharded when ``shards`` is given; ``endian="big"``
    stores the chunks big-endian through the ``bytes`` codec)."""
    import zarr
    from zarr.codecs import BytesCodec

    with _python_codecs():
        arr = zarr.create_array(
            store=str(path),
            shape=data.shape,
            chunks=tuple(chunks),
            shards=tuple(shards) if shards is not None else None,
            dtype=dtype or data.dtype,
            zarr_format=3,
            dimension_names=list(dimension_names) if dimension_names is not None else None,
            serializer=BytesCodec(endian=endian) if endian else "auto",
            overwrite=True,
        )
        arr[...] = data


def write_v2_group(path: Path, attrs: Mapping[str, Any] | None = None) -> None:
    """``.zgroup`` (and ``.zattrs`` when ``attrs`` is given) at ``path``."""
    write_json(path / ".zgroup", {"zarr_format": 2})
    if attrs is not None:
        write_json(path / ".zattrs", dict(attrs))


def write_v3_group(path: Path, attrs: Mapping[str, Any] | None = None) -> None:
    """A Zarr v3 group ``zarr.json`` at ``path``."""
    write_json(
        path / "zarr.json",
        {"zarr_format": 3, "node_type": "group", "attributes": dict(attrs or {})},
    )


def chunk_files(array_dir: Path) -> list[Path]:
    """Chunk (or shard) files of an array directory (everything but metadata)."""
    meta = {".zarray", ".zattrs", ".zgroup", "zarr.json", ".zmetadata"}
    return sorted(p for p in array_dir.rglob("*") if p.is_file() and p.name not in meta)


def _axis_json(axes: Sequence[AxisSpec]) -> list[dict[str, Any]]:
    out = []
    for a in axes:
        item: dict[str, Any] = {"name": a.name}
        if a.type is not None:
            item["type"] = a.type
        if a.unit is not None:
            item["unit"] = a.unit
        out.append(item)
    return out


# --------------------------------------------------------------------------- 0.1 / 0.2 / 0.3

_TCZYX = (
    AxisSpec("t", "time"),
    AxisSpec("c", "channel"),
    AxisSpec("z", "space"),
    AxisSpec("y", "space"),
    AxisSpec("x", "space"),
)


def _build_implied(root: Path, version: str, *, nested: bool, keep_separator: bool) -> Expected:
    shape = (1, 2, 3, 16, 20)
    chunks = (1, 1, 2, 8, 8)  # partial edge chunks on z and x
    data = data_for(shape, "uint8", seed=1)
    levels = [data, downsample(data, (1, 1, 1, 2, 2))]
    paths = ("0", "1")
    for p, lvl in zip(paths, levels):
        write_v2_array(
            root / p, lvl, chunks, separator="/" if nested else ".", keep_separator=keep_separator
        )
    write_v2_group(
        root,
        {
            "multiscales": [
                {
                    "version": version,
                    "name": f"implied-{version}",
                    "datasets": [{"path": p} for p in paths],
                    "type": "nearest",
                    "metadata": {"method": "strided slicing"},
                }
            ]
        },
    )
    # no transforms in 0.1/0.2: the reader derives the scale from the shape ratio on space axes
    return Expected(
        path=root,
        version=version,
        axes=_TCZYX,
        levels=levels,
        chunks=[tuple(chunks) for _ in levels],
        scales=[(1.0,) * 5, (1.0, 1.0, 1.0, 2.0, 2.0)],
        translations=[(0.0,) * 5, (0.0,) * 5],
        level_paths=paths,
        name=f"implied-{version}",
    )


def build_v01(root: Path) -> Expected:
    """OME-Zarr 0.1: flat ``.`` chunk keys and ``.zarray`` without ``dimension_separator``."""
    return _build_implied(root, "0.1", nested=False, keep_separator=False)


def build_v02(root: Path, *, keep_separator: bool = True) -> Expected:
    """OME-Zarr 0.2: nested ``/`` chunk keys (``keep_separator=False``: ``.zarray`` does not say)."""
    return _build_implied(root, "0.2", nested=True, keep_separator=keep_separator)


def build_v03(root: Path) -> Expected:
    """OME-Zarr 0.3: axes as names (``czyx``), repeated in ``_ARRAY_DIMENSIONS``."""
    dims = ("c", "z", "y", "x")
    shape = (2, 4, 12, 10)
    chunks = (1, 2, 5, 5)
    data = data_for(shape, "int16", seed=3)
    levels = [data, downsample(data, (1, 2, 2, 2))]
    paths = ("0", "1")
    for p, lvl in zip(paths, levels):
        write_v2_array(root / p, lvl, chunks, attributes={"_ARRAY_DIMENSIONS": list(dims)})
    write_v2_group(
        root,
        {
            "multiscales": [
                {
                    "version": "0.3",
                    "name": "v03",
                    "axes": list(dims),
                    "datasets": [{"path": p} for p in paths],
                }
            ],
            "_ARRAY_DIMENSIONS": list(dims),
        },
    )
    axes = (
        AxisSpec("c", "channel"),
        AxisSpec("z", "space"),
        AxisSpec("y", "space"),
        AxisSpec("x", "space"),
    )
    return Expected(
        path=root,
        version="0.3",
        axes=axes,
        levels=levels,
        chunks=[tuple(chunks) for _ in levels],
        scales=[(1.0,) * 4, (1.0, 2.0, 2.0, 2.0)],
        translations=[(0.0,) * 4, (0.0,) * 4],
        level_paths=paths,
        name="v03",
    )


# --------------------------------------------------------------------------- 0.4 / 0.5 images

_IMAGE_AXES = (
    AxisSpec("t", "time", "second"),
    AxisSpec("c", "channel"),
    AxisSpec("z", "space", "micrometer"),
    AxisSpec("y", "space", "micrometer"),
    AxisSpec("x", "space", "micrometer"),
)

#: Multiscale-level transform used by the 0.4/0.5 builders (exact binary fractions).
OUTER_SCALE = (2.0, 1.0, 2.0, 4.0, 4.0)
OUTER_TRANSLATION = (0.5, 0.0, 1.0, -2.0, 3.0)

CHANNELS = [
    {
        "label": "DAPI",
        "color": "0000FF",
        "window": {"min": 0.0, "max": 65535.0, "start": 10.0, "end": 500.0},
        "active": True,
        "inverted": False,
        "family": "linear",
        "coefficient": 1.0,
    },
    {
        "label": "GFP",
        "color": "00FF00",
        "window": {"min": 0.0, "max": 4095.0, "start": 0.0, "end": 2000.0},
        "active": False,
        "inverted": True,
        "family": "linear",
        "coefficient": 1.0,
    },
]

LABEL_COLORS = [
    {"label-value": 1, "rgba": [255, 0, 0, 255]},
    {"label-value": 2, "rgba": [0, 255, 0, 128]},
    {"label-value": 3, "rgba": [0, 0, 255, 64]},
]
LABEL_PROPERTIES = [
    {"label-value": 1, "class": "cell", "area (pixels)": 12},
    {"label-value": 2, "class": "nucleus"},
]


def _level_transforms(
    i: int, axes: Sequence[AxisSpec], factor: Sequence[int]
) -> tuple[list[float], list[float]]:
    """Dataset scale/translation of level ``i`` (pixel-centre shift of a 2**i downsample)."""
    base = {"t": 1.0, "c": 1.0, "z": 0.5, "y": 0.25, "x": 0.25}
    scale, shift = [], []
    for a, f in zip(axes, factor):
        s = base.get(a.name, 1.0) * (f**i)
        scale.append(s)
        shift.append(base.get(a.name, 1.0) * (f**i - 1) / 2 if f > 1 else 0.0)
    return scale, shift


def build_image(
    root: Path,
    *,
    version: str = "0.4",
    group: str = "",
    axes: Sequence[AxisSpec] = _IMAGE_AXES,
    shape: Sequence[int] = (2, 2, 3, 12, 16),
    chunks: Sequence[int] = (1, 1, 2, 4, 8),
    shards: Sequence[int] | None = None,
    factors: Sequence[int] | None = None,
    n_levels: int = 3,
    dtype: Any = "uint16",
    paths: Sequence[str] | None = None,
    translation: bool = True,
    outer: bool = True,
    omero: bool = True,
    labels: Sequence[str] = (),
    name: str | None = "image",
    seed: int = 0,
    label_of: str | None = None,
    consolidated: bool = False,
) -> Expected:
    """A 0.4 (Zarr v2) or 0.5 (Zarr v3) multiscale image, optionally with labels.

    Parameters
    ----------
    group
        Group path of the image inside the store at ``root``.
    factors
        Per-axis downsampling factor between levels (default: 2 on y and x).
    paths
        Dataset paths (default ``"0"``, ``"1"`` …); may be nested such as ``scale0/image``.
    translation, outer
        Add a dataset translation / a multiscale-level scale+translation.
    labels
        Names of label images to write under ``labels/`` (same axes, channel size 1).
    label_of
        Internal: write an ``image-label`` (this image is a label image).
    consolidated
        Consolidate the metadata of the whole store at ``root`` afterwards.
    """
    if version not in ("0.4", "0.5"):
        raise ValueError(version)
    v3 = version == "0.5"
    axes = tuple(axes)
    dims = [a.name for a in axes]
    if factors is None:
        factors = tuple(2 if a.name in ("y", "x") else 1 for a in axes)
    paths = tuple(paths) if paths is not None else tuple(str(i) for i in range(n_levels))
    if label_of is not None:
        data = data_for(shape, dtype, seed=seed, labels=True)
    else:
        data = data_for(shape, dtype, seed=seed)
    base = root / group if group else root
    levels = []
    current = data
    for i in range(n_levels):
        if i:
            current = downsample(current, factors)
        levels.append(current)
    datasets, scales, translations = [], [], []
    for i, (p, lvl) in enumerate(zip(paths, levels)):
        if v3:
            write_v3_array(base / p, lvl, chunks, shards=shards, dimension_names=dims)
        else:
            write_v2_array(base / p, lvl, chunks)
        _intermediate_groups(base, p, v3)
        s, t = _level_transforms(i, axes, factors)
        ct: list[dict[str, Any]] = [{"type": "scale", "scale": s}]
        if translation:
            ct.append({"type": "translation", "translation": t})
        datasets.append({"path": p, "coordinateTransformations": ct})
        fs, ft = compose(
            s,
            t if translation else None,
            _outer(axes, OUTER_SCALE) if outer else None,
            _outer(axes, OUTER_TRANSLATION) if outer else None,
        )
        scales.append(fs)
        translations.append(ft)
    ms: dict[str, Any] = {}
    if not v3:
        ms["version"] = "0.4"
    if name is not None:
        ms["name"] = name
    ms["axes"] = _axis_json(axes)
    ms["datasets"] = datasets
    if outer:
        ms["coordinateTransformations"] = [
            {"type": "scale", "scale": list(_outer(axes, OUTER_SCALE))},
            {"type": "translation", "translation": list(_outer(axes, OUTER_TRANSLATION))},
        ]
    ms["type"] = "nearest"
    ome: dict[str, Any] = {"multiscales": [ms]}
    channels: list[dict[str, Any]] = []
    if omero and label_of is None:
        n_channels = shape[dims.index("c")] if "c" in dims else 1
        channels = [dict(CHANNELS[i % len(CHANNELS)]) for i in range(n_channels)]
        om: dict[str, Any] = {
            "id": 1,
            "name": f"omero-{name}",
            "channels": channels,
            "rdefs": {"model": "color"},
        }
        if not v3:
            om["version"] = "0.4"
        ome["omero"] = om
    image_label = None
    if label_of is not None:
        image_label = {
            "colors": LABEL_COLORS,
            "properties": LABEL_PROPERTIES,
            "source": {"image": "../../"},
        }
        ome["image-label"] = dict(image_label, **({} if v3 else {"version": "0.4"}))
    if v3:
        write_v3_group(base, {"ome": {"version": "0.5", **ome}})
    else:
        write_v2_group(base, ome)
    expected = Expected(
        path=root,
        group=group,
        version=version,
        axes=axes,
        levels=levels,
        chunks=[tuple(chunks) for _ in levels],
        scales=scales,
        translations=translations,
        level_paths=paths,
        name=name,
        channels=channels,
        image_label=image_label,
        zarr_format=3 if v3 else 2,
    )
    if labels:
        labels_group = f"{group}/labels" if group else "labels"
        if v3:
            write_v3_group(root / labels_group, {"ome": {"version": "0.5", "labels": list(labels)}})
        else:
            write_v2_group(root / labels_group, {"labels": list(labels)})
        label_shape = tuple(1 if a.type == "channel" else s for a, s in zip(axes, shape))
        label_chunks = tuple(1 if a.type == "channel" else c for a, c in zip(axes, chunks))
        label_shards = None
        if shards is not None:
            label_shards = tuple(1 if a.type == "channel" else c for a, c in zip(axes, shards))
        for k, label_name in enumerate(labels):
            expected.labels[label_name] = build_image(
                root,
                version=version,
                group=f"{labels_group}/{label_name}",
                axes=axes,
                shape=label_shape,
                chunks=label_chunks,
                shards=label_shards,
                factors=factors,
                n_levels=n_levels,
                dtype="uint32",
                translation=translation,
                outer=outer,
                omero=False,
                name=label_name,
                seed=seed + 10 + k,
                label_of=group,
            )
    if consolidated:
        _consolidate(root, 3 if v3 else 2)
    return expected


def _intermediate_groups(base: Path, array_path: str, v3: bool) -> None:
    """Group documents for the parents of a nested dataset path (``scale0`` of ``scale0/image``):
    Zarr v3 has no implicit groups, and consolidation only walks explicit ones."""
    parts = array_path.split("/")[:-1]
    for k in range(1, len(parts) + 1):
        parent = base.joinpath(*parts[:k])
        if v3 and not (parent / "zarr.json").exists():
            write_v3_group(parent)
        elif not v3 and not (parent / ".zgroup").exists():
            write_v2_group(parent)


def _outer(axes: Sequence[AxisSpec], values: Sequence[float]) -> tuple[float, ...]:
    """The 5-axis constants (given for ``t, c, z, y, x``) restricted to the axes present."""
    by_name = dict(zip("tczyx", values))
    default = 1.0 if values == OUTER_SCALE else 0.0
    return tuple(by_name.get(a.name, default) for a in axes)


def _consolidate(root: Path, zarr_format: int) -> None:
    import warnings

    import zarr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.consolidate_metadata(str(root), zarr_format=zarr_format)


def build_v04(
    root: Path,
    *,
    paths: Sequence[str] = ("scale0/image", "scale1/image", "scale2/image"),
    labels: Sequence[str] = ("cells", "nuclei"),
    consolidated: bool = False,
) -> Expected:
    """OME-Zarr 0.4: axis objects with units, dataset scale+translation, a multiscale-level
    transform, custom dataset paths, omero channels and two label images."""
    return build_image(root, version="0.4", paths=paths, labels=labels, consolidated=consolidated)


def build_v05(
    root: Path,
    *,
    sharded: bool = True,
    consolidated: bool = False,
    paths: Sequence[str] = ("s0", "s1", "s2"),
    labels: Sequence[str] = ("cells",),
) -> Expected:
    """OME-Zarr 0.5 (Zarr v3): ``dimension_names``, sharded (inner chunks 1,1,2,4,8 in
    shards 1,2,2,8,16) or unsharded, optionally with inline consolidated metadata."""
    return build_image(
        root,
        version="0.5",
        paths=paths,
        shards=(1, 2, 2, 8, 16) if sharded else None,
        labels=labels,
        consolidated=consolidated,
        seed=5,
    )


def build_big_endian(root: Path) -> Expected:
    """OME-Zarr 0.4 with big-endian ``>u2`` pixels (Zarr v2) spanning the whole uint16 range."""
    axes = (AxisSpec("y", "space", "micrometer"), AxisSpec("x", "space", "micrometer"))
    shape, chunks = (10, 12), (4, 5)
    data = data_for(shape, "uint16", seed=2).astype(">u2")
    levels = [data, downsample(data, (2, 2))]
    paths = ("0", "1")
    for p, lvl in zip(paths, levels):
        write_v2_array(root / p, lvl, chunks, dtype=">u2")
    write_v2_group(
        root,
        {
            "multiscales": [
                {
                    "version": "0.4",
                    "axes": _axis_json(axes),
                    "datasets": [
                        {
                            "path": p,
                            "coordinateTransformations": [
                                {"type": "scale", "scale": [2.0**i, 2.0**i]}
                            ],
                        }
                        for i, p in enumerate(paths)
                    ],
                }
            ]
        },
    )
    return Expected(
        path=root,
        version="0.4",
        axes=axes,
        levels=levels,
        chunks=[tuple(chunks) for _ in levels],
        scales=[(1.0, 1.0), (2.0, 2.0)],
        translations=[(0.0, 0.0), (0.0, 0.0)],
        level_paths=paths,
    )


def build_big_endian_v3(root: Path) -> Expected:
    """OME-Zarr 0.5 whose chunks are stored big-endian (``bytes`` codec ``endian: big``)."""
    axes = (AxisSpec("y", "space", "micrometer"), AxisSpec("x", "space", "micrometer"))
    shape, chunks = (10, 12), (4, 5)
    data = data_for(shape, "uint16", seed=4)
    levels = [data, downsample(data, (2, 2))]
    paths = ("0", "1")
    for p, lvl in zip(paths, levels):
        write_v3_array(root / p, lvl, chunks, dimension_names=["y", "x"], endian="big")
    assert '"endian": "big"' in (root / "0" / "zarr.json").read_text()
    write_v3_group(
        root,
        {
            "ome": {
                "version": "0.5",
                "multiscales": [
                    {
                        "axes": _axis_json(axes),
                        "datasets": [
                            {
                                "path": p,
                                "coordinateTransformations": [
                                    {"type": "scale", "scale": [2.0**i, 2.0**i]}
                                ],
                            }
                            for i, p in enumerate(paths)
                        ],
                    }
                ],
            }
        },
    )
    return Expected(
        path=root,
        version="0.5",
        axes=axes,
        levels=levels,
        chunks=[tuple(chunks) for _ in levels],
        scales=[(1.0, 1.0), (2.0, 2.0)],
        translations=[(0.0, 0.0), (0.0, 0.0)],
        level_paths=paths,
        zarr_format=3,
    )


def build_v04_v05_side_by_side(root: Path) -> Expected:
    """0.4 (``.zgroup``/``.zattrs``, v2 arrays ``0``,``1``) and 0.5 (``zarr.json``, v3 arrays
    ``s0``,``s1``) metadata of *different* images in one group: 0.5 must win (RFC-2)."""
    legacy = build_image(
        root, version="0.4", paths=("0", "1"), n_levels=2, name="legacy-0.4", seed=100
    )
    preferred = build_image(
        root,
        version="0.5",
        paths=("s0", "s1"),
        n_levels=2,
        name="preferred-0.5",
        seed=200,
        shape=(1, 2, 3, 8, 8),
        chunks=(1, 1, 3, 8, 4),
        outer=False,
    )
    assert (root / ".zattrs").exists() and (root / "zarr.json").exists()
    assert legacy.shape != preferred.shape
    return preferred


def build_bioformats2raw(
    root: Path, *, with_ome: bool = True, version: str = "0.4"
) -> ExpectedCollection:
    """A bioformats2raw.layout 3 collection of two images (``0`` and ``1``).

    ``with_ome``: an ``OME`` group listing the series (and a METADATA.ome.xml);
    otherwise readers find the images by probing ``0``, ``1``, … .
    """
    v3 = version == "0.5"
    images = {
        "0": build_image(
            root, version=version, group="0", n_levels=2, name="series-0", seed=1, labels=()
        ),
        "1": build_image(
            root,
            version=version,
            group="1",
            n_levels=2,
            name="series-1",
            seed=2,
            shape=(1, 1, 2, 8, 8),
            chunks=(1, 1, 2, 8, 8),
            omero=False,
        ),
    }
    if v3:
        write_v3_group(root, {"ome": {"version": "0.5", "bioformats2raw.layout": 3}})
    else:
        write_v2_group(root, {"bioformats2raw.layout": 3})
    if with_ome:
        if v3:
            write_v3_group(root / "OME", {"ome": {"version": "0.5", "series": ["0", "1"]}})
        else:
            write_v2_group(root / "OME", {"series": ["0", "1"]})
        (root / "OME" / "METADATA.ome.xml").write_text('<?xml version="1.0"?><OME/>')
    return ExpectedCollection(path=root, version=version, series=("0", "1"), images=images)


def build_plate(root: Path, *, version: str = "0.4", n_levels: int = 2) -> ExpectedPlate:
    """A 2×3 plate with three wells (A/1, A/3, B/2), two acquisitions and two fields per
    well (field ``0`` from acquisition 0, field ``1`` from acquisition 1)."""
    v3 = version == "0.5"
    rows, columns = ("A", "B"), ("1", "2", "3")
    wells = (("A/1", 0, 0), ("A/3", 0, 2), ("B/2", 1, 1))
    acquisitions = (
        {
            "id": 0,
            "name": "first run",
            "maximumfieldcount": 1,
            "starttime": 1_700_000_000_000,
            "endtime": 1_700_000_100_000,
        },
        {"id": 1, "name": "second run", "maximumfieldcount": 1, "description": "after treatment"},
    )
    plate: dict[str, Any] = {
        "name": f"plate-{version}",
        "rows": [{"name": r} for r in rows],
        "columns": [{"name": c} for c in columns],
        "wells": [{"path": p, "rowIndex": r, "columnIndex": c} for p, r, c in wells],
        "acquisitions": list(acquisitions),
        "field_count": 2,
    }
    axes = (
        AxisSpec("c", "channel"),
        AxisSpec("y", "space", "micrometer"),
        AxisSpec("x", "space", "micrometer"),
    )
    fields: dict[str, list[Expected]] = {}
    field_paths: dict[str, tuple[str, ...]] = {}
    field_acqs: dict[str, tuple[int | None, ...]] = {}
    for w, (well_path, _, _) in enumerate(wells):
        images = [{"path": "0", "acquisition": 0}, {"path": "1", "acquisition": 1}]
        well: dict[str, Any] = {"images": images}
        if v3:
            write_v3_group(root / well_path, {"ome": {"version": "0.5", "well": well}})
        else:
            write_v2_group(root / well_path, {"well": dict(well, version="0.4")})
        fields[well_path] = [
            build_image(
                root,
                version=version,
                group=f"{well_path}/{img['path']}",
                axes=axes,
                shape=(2, 8, 12),
                chunks=(1, 4, 4),
                n_levels=n_levels,
                name=f"{well_path}/{img['path']}",
                seed=10 * w + k,
                outer=False,
            )
            for k, img in enumerate(images)
        ]
        field_paths[well_path] = tuple(img["path"] for img in images)
        field_acqs[well_path] = tuple(img["acquisition"] for img in images)
    for r in rows:
        if (root / r).exists():
            if v3:
                write_v3_group(root / r)
            else:
                write_v2_group(root / r)
    if v3:
        write_v3_group(root, {"ome": {"version": "0.5", "plate": plate}})
    else:
        write_v2_group(root, {"plate": dict(plate, version="0.4")})
    return ExpectedPlate(
        path=root,
        version=version,
        name=plate["name"],
        rows=rows,
        columns=columns,
        wells=wells,
        acquisitions=acquisitions,
        field_paths=field_paths,
        field_acquisitions=field_acqs,
        fields=fields,
        field_count=2,
    )


#: Image builders by id, each ``f(root) -> Expected`` (used to parametrize tests).
IMAGE_BUILDERS = {
    "v01-flat": build_v01,
    "v02-nested": build_v02,
    "v02-no-separator": lambda root: build_v02(root, keep_separator=False),
    "v03": build_v03,
    "v04": build_v04,
    "v04-consolidated": lambda root: build_v04(root, consolidated=True),
    "v04-plain-paths": lambda root: build_image(root, version="0.4", n_levels=2, labels=("a",)),
    "v05-sharded": build_v05,
    "v05-unsharded": lambda root: build_v05(root, sharded=False),
    "v05-sharded-consolidated": lambda root: build_v05(root, consolidated=True),
    "v05-unsharded-consolidated-nested-paths": lambda root: build_v05(
        root,
        sharded=False,
        consolidated=True,
        paths=("scale0/image", "scale1/image", "scale2/image"),
    ),
    "big-endian": build_big_endian,
    "big-endian-v3": build_big_endian_v3,
    "v04-v05-side-by-side": build_v04_v05_side_by_side,
}
