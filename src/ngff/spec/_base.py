"""The shared machinery of the spec layer.

:class:`Spec` parses the OME attributes of one Zarr group into
:class:`ngff.model.GroupMetadata` and dumps them back.  Each OME-Zarr version is a
subclass (``v01`` … ``v05``) that changes only what its version changed; the flags on
the class describe those differences so the rest of the library (reader, validator,
writer) asks "does this version have X" instead of comparing version strings.

Parsing is lenient, as readers should be: it accepts what it can interpret and raises
:class:`ngff.errors.InvalidMetadataError` only when a document cannot be used at all.
Rule checking is the validator's job.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

from ..errors import InvalidMetadataError, OrientationWarning
from ..model import (
    IMPLIED_DIMS,
    TYPE_BY_NAME,
    Acquisition,
    Axis,
    Channel,
    Dataset,
    FieldRef,
    GroupMetadata,
    ImageLabel,
    LabelColor,
    Multiscale,
    Omero,
    PlateMetadata,
    Transform,
    WellMetadata,
    WellRef,
    Window,
)

#: Keys of the OME attributes that make a group an OME-Zarr node.
OME_KEYS = ("multiscales", "plate", "well", "labels", "image-label", "bioformats2raw.layout", "series")


def _fail(where: str, message: str, rule: str | None = None) -> InvalidMetadataError:
    return InvalidMetadataError(message, location=where, rule=rule)


def _as_list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(where, f"expected a JSON array, found {type(value).__name__}")
    return value


def _as_dict(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(where, f"expected a JSON object, found {type(value).__name__}")
    return value


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _optional_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:  # JSON integers beyond the float range
        return None


def _proposed_terms() -> frozenset[str]:
    from ..validation.vocab import PROPOSED_ORIENTATION_TERMS  # lazy: validation imports spec

    return PROPOSED_ORIENTATION_TERMS


def _orientation_warning(message: str) -> None:
    import warnings

    warnings.warn(message, OrientationWarning, stacklevel=5)


def _items(value: Any) -> list[Any]:
    """An optional JSON array as a list; anything else counts as absent."""
    return value if isinstance(value, list) else []


class Spec:
    """Parse and dump the OME attributes of one group for one OME-Zarr version.

    Subclasses override the class flags and the few methods their version changed.
    """

    #: The version string as written in metadata.
    version: ClassVar[str] = ""
    #: Zarr format the version is stored in (2 or 3).
    zarr_format: ClassVar[int] = 2
    #: Key separator of chunk keys in Zarr v2 arrays when ``.zarray`` does not say.
    dimension_separator: ClassVar[str] = "/"
    #: OME keys live under ``attributes["ome"]`` (0.5) rather than at the top level.
    namespaced: ClassVar[bool] = False
    #: Each object (multiscale, plate, well, image-label) carries its own ``version``.
    per_object_version: ClassVar[bool] = True
    #: How axes are given: "implied" (0.1/0.2), "names" (0.3) or "objects" (0.4+).
    axes_form: ClassVar[str] = "objects"
    #: Datasets carry ``coordinateTransformations`` (0.4+).
    has_transforms: ClassVar[bool] = True
    #: Plate wells carry ``rowIndex`` and ``columnIndex`` (0.4+).
    well_indices: ClassVar[bool] = True
    #: Level arrays must carry ``dimension_names`` equal to the axis names (0.5).
    dimension_names_required: ClassVar[bool] = False
    #: Level arrays must repeat the axes in ``_ARRAY_DIMENSIONS`` (0.3).
    array_dimensions_required: ClassVar[bool] = False
    #: A well lists an ``acquisition`` for every field when the plate has several (0.4+: MUST).
    acquisition_required: ClassVar[bool] = True
    #: The plate object MUST carry ``version`` (0.1-0.3 schemas require it; 0.4+: SHOULD).
    plate_version_required: ClassVar[bool] = False
    #: Plate row/column names MUST be alphanumeric and well paths MUST be ``row/column`` (0.4+).
    plate_names_alphanumeric: ClassVar[bool] = True
    #: A well path written ``column/row`` is an error (0.5).  The 0.4 official test suite
    #: itself writes such paths in its valid cases, so 0.4 only warns.
    well_path_order_enforced: ClassVar[bool] = False
    #: ``omero`` channel colours MUST be 6 hexadecimal digits (0.4+ text; before: any string).
    omero_color_hex: ClassVar[bool] = True
    #: Label arrays MUST have an integer data type (0.5); before, a layout comment only.
    label_integer_dtype_required: ClassVar[bool] = False
    #: "All label images SHOULD be listed" (0.5); before: "Unlisted groups MAY be labels".
    unlisted_labels_discouraged: ClassVar[bool] = False
    #: Groups between ``labels`` and a label image MUST NOT contain metadata (0.5).
    labels_intermediate_metadata_forbidden: ClassVar[bool] = False
    #: "The OME-Zarr Metadata version MUST be consistent within a hierarchy" (0.5).
    hierarchy_version_consistent: ClassVar[bool] = False
    #: A transform vector whose length differs from the axes count is an error (0.5);
    #: the official 0.4 suite accepts one (valid/mismatch_axes_units), so there a warning.
    transform_length_enforced: ClassVar[bool] = True
    #: Names of the official JSON schemas of this version, by node kind.
    schema_names: ClassVar[Mapping[str, str]] = {
        "image": "image.schema",
        "label": "label.schema",
        "plate": "plate.schema",
        "well": "well.schema",
        "collection": "bf2raw.schema",
        "series": "ome.schema",
    }

    # ------------------------------------------------------------------ namespaces

    def ome_attrs(self, attrs: Mapping[str, Any], where: str = "") -> Mapping[str, Any]:
        """Return the mapping that holds the OME keys of a group's attributes."""
        return attrs

    def wrap(self, ome: dict[str, Any]) -> dict[str, Any]:
        """Put OME keys where this version stores them in a group's attributes."""
        return ome

    # ------------------------------------------------------------------ parsing

    def parse(self, attrs: Mapping[str, Any], where: str = "") -> GroupMetadata:
        """Parse a group's attributes into :class:`GroupMetadata`.

        Parameters
        ----------
        attrs
            The group attributes (``.zattrs`` content, or ``zarr.json`` ``attributes``).
        where
            Location used in error messages.

        Raises
        ------
        InvalidMetadataError
            When a present OME key cannot be interpreted.
        """
        attrs = _as_dict(attrs, where)
        ome = self.ome_attrs(attrs, where)
        multiscales: tuple[Multiscale, ...] = ()
        if "multiscales" in ome:
            items = _as_list(ome["multiscales"], f"{where} multiscales")
            multiscales = tuple(
                self.parse_multiscale(item, f"{where} multiscales[{i}]") for i, item in enumerate(items)
            )
        omero = self.parse_omero(ome["omero"], f"{where} omero") if isinstance(ome.get("omero"), Mapping) else None
        image_label = None
        if "image-label" in ome:
            image_label = self.parse_image_label(ome["image-label"], f"{where} image-label")
        labels = None
        if "labels" in ome:
            labels = tuple(
                str(p) for p in _as_list(ome["labels"], f"{where} labels") if isinstance(p, (str, int))
            )
        plate = self.parse_plate(ome["plate"], f"{where} plate") if "plate" in ome else None
        well = self.parse_well(ome["well"], f"{where} well") if "well" in ome else None
        layout = _optional_int(ome.get("bioformats2raw.layout"))
        series = None
        if "series" in ome and isinstance(ome["series"], list):
            series = tuple(str(s) for s in ome["series"] if isinstance(s, (str, int)))
        return GroupMetadata(
            version=self.version,
            multiscales=multiscales,
            omero=omero,
            image_label=image_label,
            labels=labels,
            plate=plate,
            well=well,
            bioformats2raw_layout=layout,
            series=series,
        )

    def parse_multiscale(self, raw: Any, where: str) -> Multiscale:
        raw = _as_dict(raw, where)
        if "datasets" not in raw:
            raise _fail(where, "a multiscale has no 'datasets'", "multiscales MUST contain datasets")
        datasets = []
        for i, item in enumerate(_as_list(raw["datasets"], f"{where}.datasets")):
            item = _as_dict(item, f"{where}.datasets[{i}]")
            path = item.get("path")
            if not isinstance(path, str) or not path:
                raise _fail(f"{where}.datasets[{i}]", "a dataset has no 'path' string", "datasets MUST contain path")
            transforms = self.parse_transforms(item.get("coordinateTransformations"), f"{where}.datasets[{i}]")
            datasets.append(Dataset(path=path, transforms=transforms))
        if not datasets:
            raise _fail(where, "a multiscale lists no datasets", "datasets MUST have at least one entry")
        metadata = raw.get("metadata")
        return Multiscale(
            axes=self.parse_axes(raw.get("axes"), where),
            datasets=tuple(datasets),
            transforms=self.parse_transforms(raw.get("coordinateTransformations"), where),
            name=_optional_str(raw.get("name")),
            type=_optional_str(raw.get("type")),
            metadata=dict(metadata) if isinstance(metadata, Mapping) else None,
        )

    def parse_axes(self, raw: Any, where: str) -> tuple[Axis, ...]:
        """Axes as given by this version; empty when they are implied."""
        if raw is None:
            raise _fail(where, "a multiscale has no 'axes'", "multiscales MUST contain axes")
        axes = []
        for i, item in enumerate(_as_list(raw, f"{where}.axes")):
            if isinstance(item, str):  # lenient: 0.3 style names in newer documents
                axes.append(Axis(name=item, type=TYPE_BY_NAME.get(item)))
                continue
            item = _as_dict(item, f"{where}.axes[{i}]")
            name = item.get("name")
            if not isinstance(name, str):
                raise _fail(f"{where}.axes[{i}]", "an axis has no 'name' string", "axes MUST contain name")
            axes.append(
                Axis(
                    name=name,
                    type=_optional_str(item.get("type")),
                    unit=_optional_str(item.get("unit")),
                    orientation=self.parse_orientation(item),
                )
            )
        return tuple(axes)

    def parse_orientation(self, axis: Mapping[str, Any]) -> str | None:
        """RFC-4 orientation value of an axis object (also the legacy string form).

        ``null`` counts as absent.  The legacy ``anatomicalOrientation`` key and the six
        terms of the pending 24-term proposal are accepted with an ``OrientationWarning``.
        """
        raw = axis.get("orientation")
        value = None
        if isinstance(raw, Mapping):
            value = _optional_str(raw.get("value"))
        elif raw is None and "anatomicalOrientation" in axis:
            legacy = axis.get("anatomicalOrientation")
            value = legacy if isinstance(legacy, str) else None
            if isinstance(legacy, Mapping):
                value = _optional_str(legacy.get("value"))
            if value is not None:
                _orientation_warning(
                    f"axis {axis.get('name')!r} uses the superseded RFC-4 key 'anatomicalOrientation'; "
                    "read as 'orientation'"
                )
        if value is not None and value in _proposed_terms():
            _orientation_warning(
                f"axis {axis.get('name')!r}: {value!r} is a term of the pending 24-term proposal "
                "(ome/ngff#528), not of the RFC-4 text"
            )
        return value

    def with_orientations(
        self, attrs: Mapping[str, Any], values: Mapping[str, str | None], where: str = ""
    ) -> dict[str, Any]:
        """A copy of a group's attributes with the RFC-4 orientation of named axes replaced.

        Only the ``orientation`` (and legacy ``anatomicalOrientation``) keys of the axis
        objects of every multiscale change; None removes an axis' orientation.
        """
        import copy

        out = copy.deepcopy(dict(attrs))
        ome = self.ome_attrs(out, where)
        for m in _items(ome.get("multiscales")):
            for axis in _items(m.get("axes") if isinstance(m, Mapping) else None):
                if not isinstance(axis, dict) or axis.get("name") not in values:
                    continue
                axis.pop("anatomicalOrientation", None)
                value = values[axis["name"]]
                if value is None:
                    axis.pop("orientation", None)
                else:
                    axis["orientation"] = {"type": "anatomical", "value": value}
        return out

    def implied_axes(self, ndim: int) -> tuple[Axis, ...]:
        """Axes to assume when a version has none (the trailing ``tczyx``)."""
        if ndim > len(IMPLIED_DIMS):
            raise _fail("", f"{ndim}-D arrays cannot take the implied axes t, c, z, y, x")
        return tuple(Axis(name=n, type=TYPE_BY_NAME[n]) for n in IMPLIED_DIMS[len(IMPLIED_DIMS) - ndim :])

    def parse_transforms(self, raw: Any, where: str) -> tuple[Transform, ...]:
        if raw is None:
            return ()
        transforms = []
        for i, item in enumerate(_as_list(raw, f"{where}.coordinateTransformations")):
            item = _as_dict(item, f"{where}.coordinateTransformations[{i}]")
            kind = item.get("type")
            if not isinstance(kind, str):
                raise _fail(f"{where}.coordinateTransformations[{i}]", "a transformation has no 'type'")
            values = item.get(kind) if kind in ("scale", "translation") else None
            vector = None
            if isinstance(values, list):
                numbers = [_number(v) for v in values]
                if any(n is None for n in numbers):
                    raise _fail(
                        f"{where}.coordinateTransformations[{i}]", f"the {kind} vector holds non-numbers"
                    )
                vector = tuple(numbers)  # type: ignore[arg-type]
            transforms.append(Transform(type=kind, values=vector, path=_optional_str(item.get("path"))))
        return tuple(transforms)

    def parse_omero(self, raw: Mapping[str, Any], where: str) -> Omero:
        channels = []
        for item in _items(raw.get("channels")):
            if not isinstance(item, Mapping):
                continue
            window = None
            w = item.get("window")
            if isinstance(w, Mapping):
                values = [_number(w.get(k)) for k in ("min", "max", "start", "end")]
                if values[2] is not None and values[3] is not None:
                    lo, hi = values[2], values[3]
                    window = Window(
                        min=values[0] if values[0] is not None else lo,
                        max=values[1] if values[1] is not None else hi,
                        start=lo,
                        end=hi,
                    )
            channels.append(
                Channel(
                    label=_optional_str(item.get("label")),
                    color=_optional_str(item.get("color")),
                    window=window,
                    active=bool(item.get("active", True)),
                    inverted=bool(item.get("inverted", False)),
                    family=_optional_str(item.get("family")),
                    coefficient=_number(item.get("coefficient")),
                )
            )
        rdefs = raw.get("rdefs")
        return Omero(
            channels=tuple(channels),
            name=_optional_str(raw.get("name")),
            id=_optional_int(raw.get("id")),
            rdefs=dict(rdefs) if isinstance(rdefs, Mapping) else None,
        )

    def parse_image_label(self, raw: Any, where: str) -> ImageLabel:
        raw = _as_dict(raw, where)
        colors = []
        for item in _items(raw.get("colors")):
            if not isinstance(item, Mapping):
                continue
            value = _optional_int(item.get("label-value"))
            if value is None:
                continue
            rgba = item.get("rgba")
            rgba_tuple = None
            if isinstance(rgba, list) and len(rgba) == 4 and all(_optional_int(c) is not None for c in rgba):
                rgba_tuple = tuple(int(c) for c in rgba)
            colors.append(LabelColor(value=value, rgba=rgba_tuple))  # type: ignore[arg-type]
        properties = tuple(dict(p) for p in _items(raw.get("properties")) if isinstance(p, Mapping))
        source = raw.get("source")
        image = source.get("image") if isinstance(source, Mapping) else None
        return ImageLabel(colors=tuple(colors), properties=properties, source=_optional_str(image))

    def parse_plate(self, raw: Any, where: str) -> PlateMetadata:
        raw = _as_dict(raw, where)

        def names(key: str) -> tuple[str, ...]:
            out = []
            for i, item in enumerate(_as_list(raw.get(key, []), f"{where}.{key}")):
                item = _as_dict(item, f"{where}.{key}[{i}]")
                name = item.get("name")
                if not isinstance(name, (str, int)) or isinstance(name, bool):
                    raise _fail(f"{where}.{key}[{i}]", "has no 'name'", f"plate {key} MUST contain name")
                out.append(str(name))
            return tuple(out)

        wells = []
        for i, item in enumerate(_as_list(raw.get("wells", []), f"{where}.wells")):
            item = _as_dict(item, f"{where}.wells[{i}]")
            path = item.get("path")
            if not isinstance(path, str):
                raise _fail(f"{where}.wells[{i}]", "a well has no 'path'", "plate wells MUST contain path")
            wells.append(
                WellRef(
                    path=path,
                    row_index=_optional_int(item.get("rowIndex")),
                    column_index=_optional_int(item.get("columnIndex")),
                )
            )
        acquisitions = []
        for item in _items(raw.get("acquisitions")):
            if not isinstance(item, Mapping) or _optional_int(item.get("id")) is None:
                continue
            start = item.get("starttime", item.get("startime"))
            acquisitions.append(
                Acquisition(
                    id=int(item["id"]),
                    name=_optional_str(item.get("name")),
                    maximum_field_count=_optional_int(item.get("maximumfieldcount")),
                    description=_optional_str(item.get("description")),
                    start_time=_optional_int(start),
                    end_time=_optional_int(item.get("endtime")),
                )
            )
        return PlateMetadata(
            rows=names("rows"),
            columns=names("columns"),
            wells=tuple(wells),
            acquisitions=tuple(acquisitions),
            name=_optional_str(raw.get("name")),
            field_count=_optional_int(raw.get("field_count")),
        )

    def parse_well(self, raw: Any, where: str) -> WellMetadata:
        raw = _as_dict(raw, where)
        images = []
        for i, item in enumerate(_as_list(raw.get("images", []), f"{where}.images")):
            item = _as_dict(item, f"{where}.images[{i}]")
            path = item.get("path")
            if not isinstance(path, (str, int)) or isinstance(path, bool):
                raise _fail(f"{where}.images[{i}]", "a field has no 'path'", "well images MUST contain path")
            images.append(FieldRef(path=str(path), acquisition=_optional_int(item.get("acquisition"))))
        return WellMetadata(images=tuple(images))

    # ------------------------------------------------------------------ dumping

    def dump(self, meta: GroupMetadata) -> dict[str, Any]:
        """Attributes of a group holding ``meta``, as this version writes them."""
        ome: dict[str, Any] = {}
        if meta.bioformats2raw_layout is not None:
            ome["bioformats2raw.layout"] = meta.bioformats2raw_layout
        if meta.series is not None:
            ome["series"] = list(meta.series)
        if meta.multiscales:
            ome["multiscales"] = [self.dump_multiscale(m) for m in meta.multiscales]
        if meta.omero is not None:
            ome["omero"] = self.dump_omero(meta.omero)
        if meta.image_label is not None:
            ome["image-label"] = self.versioned(self.dump_image_label(meta.image_label))
        if meta.labels is not None:
            ome["labels"] = list(meta.labels)
        if meta.plate is not None:
            ome["plate"] = self.versioned(self.dump_plate(meta.plate))
        if meta.well is not None:
            ome["well"] = self.versioned(self.dump_well(meta.well))
        return self.wrap(ome)

    def versioned(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Add the per-object ``version`` key where this version has one."""
        if self.per_object_version:
            return {"version": self.version, **obj}
        return obj

    def dump_multiscale(self, m: Multiscale) -> dict[str, Any]:
        out: dict[str, Any] = {}
        out = self.versioned(out)
        if m.name is not None:
            out["name"] = m.name
        axes = self.dump_axes(m.axes)
        if axes is not None:
            out["axes"] = axes
        datasets = []
        for ds in m.datasets:
            item: dict[str, Any] = {"path": ds.path}
            if self.has_transforms:
                item["coordinateTransformations"] = [self.dump_transform(t) for t in ds.transforms]
            datasets.append(item)
        out["datasets"] = datasets
        if self.has_transforms and m.transforms:
            out["coordinateTransformations"] = [self.dump_transform(t) for t in m.transforms]
        if m.type is not None:
            out["type"] = m.type
        if m.metadata is not None:
            out["metadata"] = dict(m.metadata)
        return out

    def dump_axes(self, axes: tuple[Axis, ...]) -> list[Any] | None:
        out = []
        for axis in axes:
            item: dict[str, Any] = {"name": axis.name}
            if axis.type is not None:
                item["type"] = axis.type
            if axis.unit is not None:
                item["unit"] = axis.unit
            if axis.orientation is not None:
                item["orientation"] = {"type": "anatomical", "value": axis.orientation}
            out.append(item)
        return out

    @staticmethod
    def dump_transform(t: Transform) -> dict[str, Any]:
        item: dict[str, Any] = {"type": t.type}
        if t.values is not None:
            item[t.type] = list(t.values)
        elif t.path is not None:
            item["path"] = t.path
        return item

    def dump_omero(self, omero: Omero) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if omero.id is not None:
            out["id"] = omero.id
        if omero.name is not None:
            out["name"] = omero.name
        if self.per_object_version:
            out["version"] = self.version
        channels = []
        for ch in omero.channels:
            item: dict[str, Any] = {"active": ch.active}
            if ch.coefficient is not None:
                item["coefficient"] = ch.coefficient
            item["color"] = ch.color if ch.color is not None else "FFFFFF"
            if ch.family is not None:
                item["family"] = ch.family
            item["inverted"] = ch.inverted
            if ch.label is not None:
                item["label"] = ch.label
            if ch.window is not None:
                w = ch.window
                item["window"] = {"min": w.min, "max": w.max, "start": w.start, "end": w.end}
            channels.append(item)
        out["channels"] = channels
        if omero.rdefs is not None:
            out["rdefs"] = dict(omero.rdefs)
        return out

    @staticmethod
    def dump_image_label(label: ImageLabel) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if label.colors:
            out["colors"] = [
                {"label-value": c.value, **({"rgba": list(c.rgba)} if c.rgba is not None else {})}
                for c in label.colors
            ]
        if label.properties:
            out["properties"] = [dict(p) for p in label.properties]
        out["source"] = {"image": label.source if label.source is not None else "../../"}
        return out

    def dump_plate(self, plate: PlateMetadata) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if plate.name is not None:
            out["name"] = plate.name
        out["rows"] = [{"name": r} for r in plate.rows]
        out["columns"] = [{"name": c} for c in plate.columns]
        wells = []
        for w in plate.wells:
            item: dict[str, Any] = {"path": w.path}
            if self.well_indices:
                item["rowIndex"] = w.row_index
                item["columnIndex"] = w.column_index
            wells.append(item)
        out["wells"] = wells
        if plate.acquisitions:
            acqs = []
            for a in plate.acquisitions:
                item = {"id": a.id}
                for key, value in (
                    ("name", a.name),
                    ("maximumfieldcount", a.maximum_field_count),
                    ("description", a.description),
                    ("starttime", a.start_time),
                    ("endtime", a.end_time),
                ):
                    if value is not None:
                        item[key] = value
                acqs.append(item)
            out["acquisitions"] = acqs
        if plate.field_count is not None:
            out["field_count"] = plate.field_count
        return out

    @staticmethod
    def dump_well(well: WellMetadata) -> dict[str, Any]:
        images = []
        for ref in well.images:
            item: dict[str, Any] = {"path": ref.path}
            if ref.acquisition is not None:
                item["acquisition"] = ref.acquisition
            images.append(item)
        return {"images": images}


def is_finite_vector(values: tuple[float, ...] | None) -> bool:
    """True when every value of a transform vector is a finite number."""
    return values is not None and all(math.isfinite(v) for v in values)
