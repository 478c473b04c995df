"""Plain frozen dataclasses describing OME-Zarr metadata and opened nodes.

Nothing here does I/O.  The metadata classes (``Axis`` … ``GroupMetadata``) are what the
spec layer (:mod:`ngff.spec`) parses into and dumps from; they are the same for every
OME-Zarr version.  The node classes (:class:`Image`, :class:`Plate`, :class:`Well`,
:class:`Collection`) pair metadata with lazily loaded arrays; whatever has to be read
later (label images, well fields) is fetched through a loader callable that
:mod:`ngff.read` injects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # dask is imported lazily by the reader
    import dask.array

__all__ = [
    "Axis",
    "Transform",
    "Dataset",
    "Multiscale",
    "Window",
    "Channel",
    "Omero",
    "LabelColor",
    "ImageLabel",
    "Acquisition",
    "WellRef",
    "PlateMetadata",
    "FieldRef",
    "WellMetadata",
    "GroupMetadata",
    "Image",
    "Plate",
    "Well",
    "Collection",
    "LazyMapping",
    "LazySequence",
]

#: Axis names implied by OME-Zarr 0.1 and 0.2, which have no ``axes`` field.
IMPLIED_DIMS: tuple[str, ...] = ("t", "c", "z", "y", "x")

#: Axis type deduced from a conventional axis name.
TYPE_BY_NAME: Mapping[str, str] = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}


# --------------------------------------------------------------------------- metadata


@dataclass(frozen=True)
class Axis:
    """One dimension of an image.

    Parameters
    ----------
    name
        Unique axis name, e.g. ``"z"``.
    type
        ``"space"``, ``"time"``, ``"channel"``, a custom string, or None when unknown.
    unit
        UDUNITS-2 unit name such as ``"micrometer"``, or None.
    orientation
        RFC-4 anatomical direction of a space axis (e.g. ``"left-to-right"``), or None.
    """

    name: str
    type: str | None = None
    unit: str | None = None
    orientation: str | None = None


@dataclass(frozen=True)
class Transform:
    """A coordinate transformation: ``scale``, ``translation`` or ``identity``.

    ``values`` holds the inline vector; ``path`` the (rare) reference to a binary vector.
    """

    type: str
    values: tuple[float, ...] | None = None
    path: str | None = None


@dataclass(frozen=True)
class Dataset:
    """One resolution level of a multiscale: its array path and transforms."""

    path: str
    transforms: tuple[Transform, ...] = ()


@dataclass(frozen=True)
class Multiscale:
    """A multiscale image description (one entry of ``multiscales``)."""

    axes: tuple[Axis, ...]
    datasets: tuple[Dataset, ...]
    transforms: tuple[Transform, ...] = ()
    name: str | None = None
    type: str | None = None
    metadata: Mapping[str, Any] | None = None

    @property
    def dims(self) -> tuple[str, ...]:
        """Axis names in order."""
        return tuple(axis.name for axis in self.axes)


@dataclass(frozen=True)
class Window:
    """OMERO rendering window: data range (``min``/``max``) and display range."""

    min: float
    max: float
    start: float
    end: float


@dataclass(frozen=True)
class Channel:
    """OMERO channel rendering settings."""

    label: str | None = None
    color: str | None = None
    window: Window | None = None
    active: bool = True
    inverted: bool = False
    family: str | None = None
    coefficient: float | None = None


@dataclass(frozen=True)
class Omero:
    """Transitional OMERO rendering metadata of an image."""

    channels: tuple[Channel, ...]
    name: str | None = None
    id: int | None = None
    rdefs: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class LabelColor:
    """Display colour of one label value (RGBA 0..255)."""

    value: int
    rgba: tuple[int, int, int, int] | None = None


@dataclass(frozen=True)
class ImageLabel:
    """``image-label`` metadata of a label image."""

    colors: tuple[LabelColor, ...] = ()
    properties: tuple[Mapping[str, Any], ...] = ()
    source: str | None = None


@dataclass(frozen=True)
class Acquisition:
    """One acquisition (imaging run) of a plate."""

    id: int
    name: str | None = None
    maximum_field_count: int | None = None
    description: str | None = None
    start_time: int | None = None
    end_time: int | None = None


@dataclass(frozen=True)
class WellRef:
    """A well listed in plate metadata."""

    path: str
    row_index: int | None = None
    column_index: int | None = None


@dataclass(frozen=True)
class PlateMetadata:
    """``plate`` metadata: the grid, the wells present and the acquisitions."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    wells: tuple[WellRef, ...]
    acquisitions: tuple[Acquisition, ...] = ()
    name: str | None = None
    field_count: int | None = None


@dataclass(frozen=True)
class FieldRef:
    """A field of view listed in well metadata."""

    path: str
    acquisition: int | None = None


@dataclass(frozen=True)
class WellMetadata:
    """``well`` metadata: the fields of view of one well."""

    images: tuple[FieldRef, ...]


@dataclass(frozen=True)
class GroupMetadata:
    """Everything OME-Zarr says about one Zarr group, whatever its version.

    Attributes not present in the group are None (or empty).
    """

    version: str
    multiscales: tuple[Multiscale, ...] = ()
    omero: Omero | None = None
    image_label: ImageLabel | None = None
    labels: tuple[str, ...] | None = None
    plate: PlateMetadata | None = None
    well: WellMetadata | None = None
    bioformats2raw_layout: int | None = None
    series: tuple[str, ...] | None = None

    @property
    def kind(self) -> str | None:
        """The node kind these attributes describe, or None for a plain group."""
        if self.plate is not None:
            return "plate"
        if self.bioformats2raw_layout is not None:
            return "collection"
        if self.well is not None:
            return "well"
        if self.multiscales:
            return "label" if self.image_label is not None else "image"
        if self.labels is not None:
            return "labels"
        if self.series is not None:
            return "series"
        return None


# --------------------------------------------------------------------------- lazy containers


class LazyMapping(Mapping[str, Any]):
    """A read-only mapping whose values are produced on first access and cached.

    ``keys`` may be a callable, so that even listing the keys waits until needed.
    """

    def __init__(self, keys: Sequence[str] | Callable[[], Sequence[str]], load: Callable[[str], Any]):
        self._key_source = keys
        self._key_list: tuple[str, ...] | None = None if callable(keys) else tuple(keys)
        self._load = load
        self._cache: dict[str, Any] = {}

    @property
    def _keys(self) -> tuple[str, ...]:
        if self._key_list is None:
            self._key_list = tuple(self._key_source())  # type: ignore[operator]
        return self._key_list

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys:
            raise KeyError(key)
        if key not in self._cache:
            self._cache[key] = self._load(key)
        return self._cache[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"LazyMapping({list(self._keys)!r})"


class LazySequence(Sequence[Any]):
    """A read-only sequence whose items are produced on first access and cached."""

    def __init__(self, length: int, load: Callable[[int], Any]):
        self._length = length
        self._load = load
        self._cache: dict[int, Any] = {}

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(index)
        if index not in self._cache:
            self._cache[index] = self._load(index)
        return self._cache[index]

    def __len__(self) -> int:
        return self._length

    def __repr__(self) -> str:
        return f"LazySequence(len={self._length})"


# --------------------------------------------------------------------------- opened nodes


def _empty_mapping() -> Mapping[str, Any]:
    return {}


@dataclass(frozen=True, eq=False)
class Image:
    """A multiscale image (or label image) opened lazily.

    Attributes
    ----------
    location
        The store location it was read from (path or URL).
    path
        Group path of the image inside the store ("" for the root).
    version
        OME-Zarr version read, e.g. ``"0.4"``.
    multiscale
        The multiscale metadata used.
    levels
        One dask array per level, highest resolution first.  Dask chunks equal the
        stored chunks (the inner chunks of sharded arrays).
    level_paths
        Array path of each level, relative to the image group.
    scales, translations
        Per level, the full per-axis scale and translation after composing the
        dataset transforms with the multiscale-level transforms.
    omero
        OMERO rendering metadata, if any.
    image_label
        ``image-label`` metadata when this is a label image.
    labels
        Label images of this image, by name (opened on first access).
    """

    location: str
    path: str
    version: str
    multiscale: Multiscale
    levels: list[dask.array.Array]
    level_paths: tuple[str, ...]
    scales: tuple[tuple[float, ...], ...]
    translations: tuple[tuple[float, ...], ...]
    omero: Omero | None = None
    image_label: ImageLabel | None = None
    labels: Mapping[str, Image] = field(default_factory=_empty_mapping)

    @property
    def axes(self) -> tuple[Axis, ...]:
        """Axes of the image."""
        return self.multiscale.axes

    @property
    def dims(self) -> tuple[str, ...]:
        """Axis names, e.g. ``("c", "z", "y", "x")``."""
        return self.multiscale.dims

    @property
    def name(self) -> str | None:
        """Name of the multiscale, or of the OMERO image, if any."""
        if self.multiscale.name:
            return self.multiscale.name
        return self.omero.name if self.omero else None

    @property
    def channels(self) -> tuple[Channel, ...]:
        """OMERO channels (empty when the image has no OMERO metadata)."""
        return self.omero.channels if self.omero else ()

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the full-resolution level."""
        return tuple(self.levels[0].shape)

    @property
    def dtype(self):
        """Data type of the pixels."""
        return self.levels[0].dtype

    @property
    def is_label(self) -> bool:
        """True for a label image."""
        return self.image_label is not None

    def __repr__(self) -> str:
        return (
            f"Image(location={self.location!r}, path={self.path!r}, version={self.version!r}, "
            f"dims={self.dims}, shape={self.shape}, dtype={self.dtype}, levels={len(self.levels)}, "
            f"labels={list(self.labels)})"
        )


@dataclass(frozen=True, eq=False)
class Well:
    """A well of a plate: its fields of view, opened lazily."""

    location: str
    path: str
    version: str
    metadata: WellMetadata
    fields: Sequence[Image]

    @property
    def field_paths(self) -> tuple[str, ...]:
        """Group path of every field, relative to the well."""
        return tuple(ref.path for ref in self.metadata.images)

    @property
    def acquisitions(self) -> tuple[int | None, ...]:
        """Acquisition id of every field (None where not given)."""
        return tuple(ref.acquisition for ref in self.metadata.images)


@dataclass(frozen=True, eq=False)
class Plate:
    """A high-content-screening plate; wells are opened on demand."""

    location: str
    path: str
    version: str
    metadata: PlateMetadata
    load_well: Callable[[str], Well] = field(repr=False, compare=False, default=None)  # type: ignore[assignment]
    #: The opened store (an ``ngff.store.Store``), reused by :meth:`mosaic`.
    store: Any = field(repr=False, compare=False, default=None)

    @property
    def rows(self) -> tuple[str, ...]:
        return self.metadata.rows

    @property
    def columns(self) -> tuple[str, ...]:
        return self.metadata.columns

    @property
    def wells(self) -> tuple[WellRef, ...]:
        return self.metadata.wells

    @property
    def acquisitions(self) -> tuple[Acquisition, ...]:
        return self.metadata.acquisitions

    @property
    def name(self) -> str | None:
        return self.metadata.name

    def well(self, row: str | int, column: str | int) -> Well:
        """Open the well at ``row``, ``column`` (names, or 0-based indices).

        Raises
        ------
        NgffError
            When the plate lists no such well.
        """
        from .errors import NgffError

        def name(value: str | int, names: tuple[str, ...], what: str) -> str:
            if isinstance(value, int):
                if not 0 <= value < len(names):
                    raise NgffError(f"the plate has {len(names)} {what}s; {what} index {value} is out of range", location=self.location)
                return names[value]
            return str(value)

        row_name = name(row, self.rows, "row")
        column_name = name(column, self.columns, "column")
        wanted = f"{row_name}/{column_name}"
        for ref in self.metadata.wells:
            if ref.path.split("/")[-2:] == wanted.split("/"):
                return self.load_well(ref.path)
        raise NgffError(f"the plate lists no well {wanted!r}", location=self.location)

    def mosaic(self, **options: Any) -> dask.array.Array:
        """The whole plate tiled into one lazy dask array (see :func:`ngff.hcs.plate_mosaic`).

        Options: ``level`` (default -1, the coarsest), ``field``, ``acquisition``,
        ``channels``, ``gap``, ``fill``, ``uniform``.
        """
        from .hcs import plate_mosaic

        return plate_mosaic(self, **options).data


@dataclass(frozen=True, eq=False)
class Collection:
    """A bioformats2raw collection: several images (series) in one store."""

    location: str
    path: str
    version: str
    series_paths: tuple[str, ...]
    images: Mapping[str, Image]
    plate: Plate | None = None
