"""Tracking edits of napari layers and turning them into store updates (no Qt).

:class:`EditTracker` listens to every layer of a viewer: a Labels ``paint`` event (each
undo item lists the atoms of one stroke: fancy indices or a bounding box) or a data
replacement marks the layer dirty with the bounding box of what changed, and appends
:data:`MARKER` to its name.  :func:`save_job` turns a dirty layer into a
:class:`SaveJob`:

- a layer opened from a store (provenance in ``layer.metadata["ngff"]``, see
  :mod:`napari_ngff._layers`) becomes :func:`ngff.update_region` of the dirty box of
  level 0, which regenerates the store's pyramid there;
- a new Labels layer drawn over an image opened from a store becomes
  :func:`ngff.write_labels` into that image's ``labels/`` group (name and colours from
  the layer), after which the layer carries the new label image's provenance.

napari does not paint on multiscale layers, so :func:`make_editable` swaps an opened
(multiscale, lazy) Labels layer for an in-memory copy of its level 0 with the same
provenance, name, colours and transforms.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._layers import PROVENANCE_KEY, label_colors_from_colormap, properties_from_features

__all__ = [
    "EDITABLE_BYTES",
    "MARKER",
    "EditTracker",
    "SaveJob",
    "atoms_bbox",
    "base_name",
    "make_editable",
    "matching_image_layer",
    "provenance",
    "run_job",
    "save_job",
]

#: Appended to the name of a layer holding unsaved edits.
MARKER = " [unsaved]"

#: Largest level 0 (bytes) :func:`make_editable` loads into memory.
EDITABLE_BYTES = 2 * 2**30

Box = tuple[slice, ...]


def provenance(layer: Any) -> dict[str, Any] | None:
    """The ``ngff`` provenance mapping of a layer opened from a store, if any."""
    meta = getattr(layer, "metadata", None) or {}
    prov = meta.get(PROVENANCE_KEY)
    return prov if isinstance(prov, dict) and prov.get("location") else None


def base_name(name: str) -> str:
    """A layer name without the unsaved marker."""
    return name.removesuffix(MARKER)


def _level0(layer: Any) -> Any:
    return layer.data[0] if getattr(layer, "multiscale", False) else layer.data


def _union(a: Box | None, b: Box | None) -> Box | None:
    if a is None:
        return b
    if b is None:
        return a
    return tuple(slice(min(x.start, y.start), max(x.stop, y.stop)) for x, y in zip(a, b))


def atoms_bbox(atoms: Sequence[Any], shape: Sequence[int]) -> Box | None:
    """Bounding box of the history atoms of one napari paint event.

    An atom is napari's ``_MaskedPaintAtom`` (a ``slice_key`` bounding box) or an
    ``(indices, old_values, new_values)`` tuple of fancy indices.
    """
    box: Box | None = None
    for atom in atoms:
        key = getattr(atom, "slice_key", None)
        if key is not None:
            part = tuple(slice(*s.indices(n)[:2]) for s, n in zip(key, shape))
        else:
            indices = atom[0]
            arrays = [np.asarray(i).ravel() for i in indices]
            if not arrays or arrays[0].size == 0:
                continue
            part = tuple(slice(int(a.min()), int(a.max()) + 1) for a in arrays)
        box = _union(box, part)
    return box


class EditTracker:
    """Dirty bounding boxes (level-0 data coordinates) of a viewer's layers.

    Parameters
    ----------
    viewer
        The napari viewer whose layers are watched (current and future ones).
    on_change
        Called after a layer becomes dirty or clean.
    """

    def __init__(self, viewer: Any, on_change: Callable[[], None] | None = None):
        self.viewer = viewer
        self.on_change = on_change
        self._boxes: dict[int, Box] = {}
        self._layers: dict[int, Any] = {}
        self._muted = 0
        for layer in list(viewer.layers):
            self.watch(layer)
        viewer.layers.events.inserted.connect(lambda event: self.watch(event.value))
        viewer.layers.events.removed.connect(lambda event: self._forget(event.value))

    def watch(self, layer: Any) -> None:
        """Start tracking one layer (idempotent)."""
        if id(layer) in self._layers:
            return
        self._layers[id(layer)] = layer
        if hasattr(layer.events, "paint"):
            layer.events.paint.connect(lambda event, layer=layer: self._on_paint(layer, event))
        layer.events.data.connect(lambda event, layer=layer: self._on_data(layer))

    def _forget(self, layer: Any) -> None:
        self._layers.pop(id(layer), None)
        if self._boxes.pop(id(layer), None) is not None and self.on_change:
            self.on_change()

    def _on_paint(self, layer: Any, event: Any) -> None:
        if self._muted:
            return
        self.mark(layer, atoms_bbox(getattr(event, "value", None) or [], _level0(layer).shape))

    def _on_data(self, layer: Any) -> None:
        if self._muted:
            return
        shape = _level0(layer).shape
        self.mark(layer, tuple(slice(0, n) for n in shape))  # whole layer; the save diffs it

    def mark(self, layer: Any, box: Box | None) -> None:
        """Record that ``box`` of ``layer`` changed (and flag its name)."""
        if box is None:
            return
        self._boxes[id(layer)] = _union(self._boxes.get(id(layer)), box)  # type: ignore[assignment]
        if not layer.name.endswith(MARKER):
            self._rename(layer, layer.name + MARKER)
        if self.on_change:
            self.on_change()

    def clear(self, layer: Any) -> None:
        """Forget the edits of ``layer`` (after saving them) and drop its marker."""
        self._boxes.pop(id(layer), None)
        if layer.name.endswith(MARKER):
            self._rename(layer, base_name(layer.name))
        if self.on_change:
            self.on_change()

    def _rename(self, layer: Any, name: str) -> None:
        self._muted += 1
        try:
            layer.name = name
        finally:
            self._muted -= 1

    def box(self, layer: Any) -> Box | None:
        """The dirty bounding box of ``layer`` (None when clean)."""
        return self._boxes.get(id(layer))

    def dirty_layers(self) -> list[Any]:
        """Layers with unsaved edits, in viewer order."""
        return [layer for layer in self.viewer.layers if id(layer) in self._boxes]

    def muted(self):
        """Context manager: changes made inside are not edits (e.g. swapping in a copy)."""
        tracker = self

        class _Mute:
            def __enter__(self):
                tracker._muted += 1

            def __exit__(self, *exc):
                tracker._muted -= 1

        return _Mute()


# --------------------------------------------------------------------------- layers


def make_editable(viewer: Any, layer: Any, tracker: EditTracker | None = None) -> Any:
    """Replace an opened multiscale Labels layer by a paintable in-memory copy of level 0.

    Returns the layer to paint on (``layer`` itself when it is already editable).

    Raises
    ------
    ValueError
        When level 0 is larger than :data:`EDITABLE_BYTES`.
    """
    if getattr(layer, "editable", True) and not getattr(layer, "multiscale", False):
        return layer
    level0 = _level0(layer)
    nbytes = int(np.prod(level0.shape)) * np.dtype(level0.dtype).itemsize
    if nbytes > EDITABLE_BYTES:
        raise ValueError(
            f"level 0 of {layer.name!r} holds {nbytes / 2**30:.1f} GiB, more than the "
            f"{EDITABLE_BYTES / 2**30:.0f} GiB napari-ngff loads for painting; edit a crop with ngff.update_region"
        )
    data = np.array(level0.compute() if hasattr(level0, "compute") else level0)
    kwargs = dict(
        name=base_name(layer.name),
        scale=layer.scale,
        translate=layer.translate,
        metadata=copy.deepcopy(dict(layer.metadata)),
        opacity=layer.opacity,
        blending=layer.blending,
        visible=True,
        axis_labels=layer.axis_labels,
        units=layer.units,
    )
    from napari.layers import Labels

    new = Labels(data, colormap=layer.colormap, features=layer.features, **kwargs)
    index = viewer.layers.index(layer)
    context = tracker.muted() if tracker is not None else _Null()
    with context:
        viewer.layers.remove(layer)
        viewer.layers.insert(index, new)
    viewer.layers.selection.active = new
    return new


class _Null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return None


def matching_image_layer(viewer: Any, labels: Any) -> Any:
    """An Image layer opened from a store whose level 0 has the shape of ``labels`` (or None)."""
    shape = tuple(_level0(labels).shape)
    for layer in viewer.layers:
        prov = provenance(layer)
        if prov is None or prov.get("kind") != "image" or layer is labels:
            continue
        if tuple(_level0(layer).shape) == shape:
            return layer
    return None


# --------------------------------------------------------------------------- saving


@dataclass
class SaveJob:
    """One layer's edits, ready to be written from a worker thread.

    ``kind`` is ``"update"`` (``ngff.update_region`` of ``region`` with ``data`` at
    ``location``) or ``"labels"`` (``ngff.write_labels`` of ``data`` into the image at
    ``location`` as ``name``).
    """

    layer: Any
    kind: str
    location: str
    data: Any
    region: Box = ()
    name: str = ""
    colors: dict[int, tuple[int, int, int, int]] | None = None
    properties: list[dict[str, Any]] | None = None
    provenance: dict[str, Any] = field(default_factory=dict)


def _join_location(location: str, path: str) -> str:
    if not path:
        return location
    if "://" in location:
        return f"{location.rstrip('/')}/{path}"
    return os.path.join(location, path)


def _store_region(prov: dict[str, Any], box: Box) -> Box:
    """The region in the stored array's axes: the layer's box plus the channel index."""
    channel = prov.get("channel")
    if channel is None:
        return box
    axes = prov.get("axes") or []
    index = next((i for i, a in enumerate(axes) if a.get("type") == "channel"), None)
    if index is None:
        return box
    return box[:index] + (slice(int(channel), int(channel) + 1),) + box[index:]


def _with_channel(prov: dict[str, Any], values: np.ndarray) -> np.ndarray:
    if prov.get("channel") is None:
        return values
    axes = prov.get("axes") or []
    index = next((i for i, a in enumerate(axes) if a.get("type") == "channel"), None)
    return values if index is None else np.expand_dims(values, index)


def save_job(viewer: Any, layer: Any, box: Box | None) -> SaveJob:
    """The :class:`SaveJob` writing ``layer``'s edits back (reads the edited values now).

    Raises
    ------
    ValueError
        When the layer has no store to go to (not opened from one, and not a Labels
        layer over an image opened from one).
    """
    prov = provenance(layer)
    level0 = _level0(layer)
    if box is None:
        box = tuple(slice(0, n) for n in level0.shape)
    if prov is not None:
        values = np.asarray(level0[box])
        return SaveJob(
            layer=layer,
            kind="update",
            location=_join_location(prov["location"], prov.get("path", "")),
            data=_with_channel(prov, values),
            region=_store_region(prov, box),
            provenance=prov,
        )
    from napari.layers import Labels

    if not isinstance(layer, Labels):
        raise ValueError(f"layer {base_name(layer.name)!r} was not opened from an OME-Zarr store")
    image = matching_image_layer(viewer, layer)
    if image is None:
        raise ValueError(
            f"no image opened from an OME-Zarr store has the shape of {base_name(layer.name)!r} "
            f"{tuple(level0.shape)}; open the image it annotates first"
        )
    image_prov = provenance(image)
    assert image_prov is not None
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in base_name(layer.name)).strip(".") or "labels"
    return SaveJob(
        layer=layer,
        kind="labels",
        location=_join_location(image_prov["location"], image_prov.get("path", "")),
        data=np.asarray(level0),
        name=name,
        colors=label_colors_from_colormap(layer.colormap),
        properties=properties_from_features(getattr(layer, "features", None)),
        provenance=image_prov,
    )


def run_job(job: SaveJob, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Write one job (any thread); returns the provenance the layer should carry next."""
    import ngff

    if job.kind == "update":
        ngff.update_region(job.location, job.region, job.data, progress=progress)
        return job.provenance
    written = ngff.write_labels(
        job.location, job.name, job.data, colors=job.colors, properties=job.properties, progress=progress
    )
    return {
        "location": str(written.location),
        "path": written.path,
        "level_paths": list(written.level_paths),
        "version": written.version,
        "name": written.name,
        "axes": [{"name": a.name, "type": a.type, "unit": a.unit, "orientation": a.orientation} for a in written.axes],
        "kind": "label",
        "channel": None,
    }
