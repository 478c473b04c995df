"""npe2 reader contribution: OME-Zarr (0.1-0.5) images, labels, plates and collections.

``get_reader`` is cheap and strict: it reads only the root group's metadata document
(``zarr.json`` or ``.zattrs``) through :mod:`ngff.store` and accepts the location when
that holds OME-Zarr keys of any version.  It never raises.  The reader function opens the
node with :func:`ngff.read` (lazily: dask levels, no pixels) and maps it to layers with
:mod:`napari_ngff._layers`.

Broken stores (metadata that does not parse, arrays that are missing) were accepted by
``get_reader`` because they *claim* to be OME-Zarr; the reader then shows a napari error
notification naming the problem and returns npe2's null-layer sentinel ``[(None,)]``,
"accepted, nothing to add", so napari neither raises a second, vaguer error nor hands the
store to another reader.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._layers import LayerData, image_layers, label_layers

if TYPE_CHECKING:
    from ngff import Collection, Image, Plate, Well

__all__ = ["get_reader", "is_ome_zarr", "node_layers", "read_ome_zarr"]

_log = logging.getLogger(__name__)

PathOrPaths = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
ReaderFunction = Callable[[PathOrPaths], list[Any]]

#: npe2's "accepted, but no layers" answer (a documented reader contract value).
NULL_LAYER: list[Any] = [(None,)]


def _as_list(path: PathOrPaths) -> list[str]:
    if isinstance(path, (str, os.PathLike)):
        return [os.fspath(path)]
    return [os.fspath(p) for p in path]


def is_ome_zarr(location: str | os.PathLike[str]) -> bool:
    """True when ``location``'s root group holds OME-Zarr metadata of any version.

    Reads one metadata document (two for a Zarr v3 group with 0.4 metadata beside it);
    opens no array.  Never raises.
    """
    try:
        from ngff.spec import has_ome_keys
        from ngff.store import open_store

        store = open_store(location)
        node = store.node("")
        if node is None or node.node_type != "group":
            return False
        if has_ome_keys(node.attributes):
            return True
        if node.zarr_format == 3:  # RFC-2: 0.4 metadata may sit beside an OME-less zarr.json
            legacy = store.json(".zattrs")
            return legacy is not None and has_ome_keys(legacy)
        return False
    except Exception:  # get_reader must never raise: whatever failed, it is not ours
        return False


def get_reader(path: PathOrPaths) -> ReaderFunction | None:
    """The OME-Zarr reader when every path is an OME-Zarr location, else None."""
    try:
        paths = _as_list(path)
    except Exception:
        return None
    if not paths or not all(is_ome_zarr(p) for p in paths):
        return None
    return read_ome_zarr


def read_ome_zarr(path: PathOrPaths) -> list[Any]:
    """Layer-data tuples of one or more OME-Zarr locations.

    Problems are shown as napari notifications, never raised: a location that cannot
    be opened adds no layers.
    """
    layers: list[Any] = []
    for location in _as_list(path):
        try:
            import ngff

            found = node_layers(ngff.read(location))
        except Exception as exc:  # NgffError for broken data; anything else is a bug, still shown
            _notify_error(location, exc)
            continue
        if not found:
            _notify_warning(f"napari-ngff: {location} holds no image to show")
        layers.extend(found)
    return layers or NULL_LAYER


def _notify_error(location: str, exc: BaseException) -> None:
    from ngff import NgffError

    if isinstance(exc, NgffError):
        message = f"napari-ngff cannot open {location}: {exc}"
    else:
        message = f"napari-ngff failed on {location}: {type(exc).__name__}: {exc}"
    _log.warning(message)
    try:
        from napari.utils.notifications import show_error

        show_error(message)
    except Exception:  # no napari notification manager (plain scripts): the log has it
        pass


def _notify_warning(message: str) -> None:
    _log.warning(message)
    try:
        from napari.utils.notifications import show_warning

        show_warning(message)
    except Exception:
        pass


def node_layers(node: Image | Plate | Well | Collection) -> list[LayerData]:
    """Layer-data tuples of any node :func:`ngff.read` returns."""
    from ngff import Collection, Image, Plate, Well

    if isinstance(node, Image):
        return _image_with_labels(node)
    if isinstance(node, Plate):
        from ._plate import plate_layers

        return plate_layers(node)
    if isinstance(node, Well):
        return _well_layers(node)
    if isinstance(node, Collection):
        return _collection_layers(node)
    raise TypeError(f"unexpected node {type(node).__name__}")


def _image_with_labels(image: Image, *, prefix: str = "", visible: bool = True) -> list[LayerData]:
    """An image's channel layers followed by its label images.

    Labels of an image open hidden: the user asked for the image, a store may carry
    several segmentations that would cover it and each other, and hidden layers are
    not read until shown.  A label image opened on its own is what was asked for, so
    it is shown.
    """
    from ._layers import display_name

    if image.is_label:
        return label_layers(image, name=prefix + display_name(image), visible=visible)
    layers = image_layers(image, name=prefix + display_name(image), visible=visible)
    if prefix:
        for _, meta, _ in layers:
            if not meta["name"].startswith(prefix):
                meta["name"] = prefix + meta["name"]
    try:
        names = list(image.labels)
    except Exception as exc:  # a broken labels group must not cost the image
        _notify_warning(f"napari-ngff: the labels of {image.location} cannot be listed: {exc}")
        names = []
    for name in names:
        try:
            layers.extend(label_layers(image.labels[name], name=prefix + name, visible=False))
        except Exception as exc:
            _notify_warning(
                f"napari-ngff: label image {name!r} of {image.location} cannot be opened: {exc}"
            )
    return layers


def _well_layers(well: Well) -> list[LayerData]:
    """Every field of a well; only the first is shown (fields overlap in space)."""
    layers: list[LayerData] = []
    for i, path in enumerate(well.field_paths):
        prefix = f"{path}: " if len(well.field_paths) > 1 else ""
        layers.extend(_image_with_labels(well.fields[i], prefix=prefix, visible=i == 0))
    return layers


def _collection_layers(collection: Collection) -> list[LayerData]:
    """All images of a bioformats2raw collection or a labels group (first one shown)."""
    layers: list[LayerData] = []
    if collection.plate is not None:
        from ._plate import plate_layers

        layers.extend(plate_layers(collection.plate))
    names = list(collection.images)
    for i, name in enumerate(names):
        try:
            image = collection.images[name]
        except Exception as exc:
            _notify_warning(
                f"napari-ngff: {name!r} of {collection.location} cannot be opened: {exc}"
            )
            continue
        prefix = f"{name}: " if len(names) > 1 and not image.is_label else ""
        visible = image.is_label or (i == 0 and not layers)
        layers.extend(_image_with_labels(image, prefix=prefix, visible=visible))
    return layers
