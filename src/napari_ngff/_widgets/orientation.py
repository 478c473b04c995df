"""Orientation dock widget: view and set the RFC-4 anatomical orientation of a layer.

A magicgui :class:`~magicgui.widgets.Container` whose children are attributes, so tests
and scripts drive it without clicking:

* ``layer`` - the image or labels layer shown;
* ``axis_0`` … ``axis_2`` - one choice per space axis (the layer's axis name as label;
  ``-`` for no orientation), ``preset`` + ``apply_preset`` - a letter code (``RAS``,
  ``LPS`` … letters in x, y, z order naming the sides the axes point to);
* ``save_button`` - writes the orientation into the layer's metadata, the metadata of
  every layer read from the same image, and the store itself
  (:func:`ngff.orientation.set_orientation`: only the axes' ``orientation`` keys change);
  layers not read from a store keep it in ``layer.metadata`` for the writer;
* ``show_ras``/``show_lps`` - add a lazily reoriented copy of the layer;
* ``letters`` - draw the anatomical side letters (L/R, A/P, S/I, D/V ...) at the edges of
  the layer's extent in the current view, updated when the displayed axes change
  (``viewer.dims.order``, 2-D/3-D) or the camera flips an axis;
* ``status`` - what happened last.

The letters are a small text-only :class:`napari.layers.Points` layer (``LETTERS_LAYER``),
so they are part of what napari renders (screenshots included) without private API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import napari
import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Container, Label, PushButton

from ngff import Axis, NgffError
from ngff.model import TYPE_BY_NAME
from ngff.orientation import (
    PRESETS,
    TERMS,
    code_of,
    plan_reorientation,
    resolve_orientation,
    side_letters,
)

from .._layers import LETTERS_LAYER, ORIENTATION_KEY, PROVENANCE_KEY

__all__ = ["LETTERS_LAYER", "OrientationWidget", "layer_axes"]

#: Name of the layer holding the on-canvas direction letters.
_NONE = "-"
_MAX_SPACE = 3
_LETTER_COLOR = "yellow"
_OME_NAMES = ("t", "c", "z", "y", "x")
#: Axis names of layers without OME axis labels, as napari_ngff._writer names them.
_DEFAULT_DIMS = {2: ("y", "x"), 3: ("z", "y", "x"), 4: ("t", "z", "y", "x")}


def _camera(viewer: Any) -> Any:
    """The viewer's camera (``viewer.scene.camera`` since napari 0.9, ``viewer.camera`` before)."""
    scene = getattr(viewer, "scene", None)
    return scene.camera if scene is not None else viewer.camera


def layer_axes(layer: Any) -> tuple[Axis, ...]:
    """OME axes of a layer: its axis labels, types by name, orientation from its metadata."""
    metadata = layer.metadata or {}
    names = [str(n) for n in layer.axis_labels]
    provenance = [a for a in (metadata.get(PROVENANCE_KEY) or {}).get("axes", ()) if a.get("type") != "channel"]
    by_name = {a["name"]: a for a in provenance}
    if len(provenance) == len(names) and not set(names) & set(by_name):
        names = [a["name"] for a in provenance]  # napari's default labels: use the store's
    elif not provenance and not set(names) <= set(_OME_NAMES) and len(names) in _DEFAULT_DIMS:
        names = list(_DEFAULT_DIMS[len(names)])  # the names the plugin's writer will give
    oriented = metadata.get(ORIENTATION_KEY)
    if not isinstance(oriented, Mapping):
        oriented = {a["name"]: a.get("orientation") for a in provenance}
    axes = []
    for name in names:
        kind = by_name.get(name, {}).get("type") or TYPE_BY_NAME.get(name)
        if kind is None and name not in ("t", "c"):
            kind = "space" if len(names) - names.index(name) <= _MAX_SPACE else None
        axes.append(Axis(name=name, type=kind, orientation=oriented.get(name) if kind == "space" else None))
    return tuple(axes)


class OrientationWidget(Container):
    """View and set the RFC-4 orientation of image and labels layers.

    Parameters
    ----------
    viewer
        The viewer whose layers are offered.
    """

    def __init__(self, viewer: napari.viewer.Viewer):
        super().__init__(labels=True)
        self._viewer = viewer
        self._syncing = False
        self._letters_pending = False
        self.layer = ComboBox(label="Layer", choices=self._layer_choices, nullable=True)
        self.axis_0 = ComboBox(label="z", choices=[_NONE, *sorted(TERMS)], value=_NONE)
        self.axis_1 = ComboBox(label="y", choices=[_NONE, *sorted(TERMS)], value=_NONE)
        self.axis_2 = ComboBox(label="x", choices=[_NONE, *sorted(TERMS)], value=_NONE)
        self.code = Label(label="Code", value="")
        self.preset = ComboBox(label="Preset", choices=list(PRESETS), value="RAS")
        self.apply_preset = PushButton(text="Apply preset")
        self.save_button = PushButton(text="Save orientation")
        self.show_ras = PushButton(text="Show reoriented to RAS")
        self.show_lps = PushButton(text="Show reoriented to LPS")
        self.letters = CheckBox(text="Direction letters on the canvas", value=True)
        self.status = Label(value="")
        self.extend(
            [
                self.layer,
                self.axis_0,
                self.axis_1,
                self.axis_2,
                self.code,
                self.preset,
                self.apply_preset,
                self.save_button,
                self.show_ras,
                self.show_lps,
                self.letters,
                self.status,
            ]
        )
        self._boxes = [self.axis_0, self.axis_1, self.axis_2]
        self.layer.changed.connect(self._load_layer)
        for box in self._boxes:
            box.changed.connect(self._edited)
        self.apply_preset.changed.connect(lambda *_: self.set_preset(self.preset.value))
        self.save_button.changed.connect(lambda *_: self.save())
        self.show_ras.changed.connect(lambda *_: self.show_reoriented("RAS"))
        self.show_lps.changed.connect(lambda *_: self.show_reoriented("LPS"))
        self.letters.changed.connect(lambda *_: self.update_letters())
        self._connections = [
            (viewer.layers.events.inserted, self._layers_changed),
            (viewer.layers.events.removed, self._layers_changed),
            (viewer.layers.selection.events.active, self._active_changed),
            (viewer.dims.events.order, self.update_letters),
            (viewer.dims.events.ndisplay, self.update_letters),
            (viewer.dims.events.current_step, self._step_changed),
            (_camera(viewer).events.orientation, self.update_letters),
        ]
        for emitter, callback in self._connections:
            emitter.connect(callback)
        self.native.destroyed.connect(self._disconnect)  # a closed dock stops listening
        active = viewer.layers.selection.active
        if active is not None and self._offered(active):
            self.layer.value = active
        self._load_layer()

    def _disconnect(self, *_: Any) -> None:
        for emitter, callback in self._connections:
            emitter.disconnect(callback)
        self._connections = []

    # ------------------------------------------------------------------ layers

    @staticmethod
    def _offered(layer: Any) -> bool:
        return isinstance(layer, (napari.layers.Image, napari.layers.Labels))

    def _layer_choices(self, *_: Any) -> list[tuple[str, Any]]:
        return [(layer.name, layer) for layer in self._viewer.layers if self._offered(layer)]

    def _layers_changed(self, event: Any = None) -> None:
        if self._syncing:
            return
        current = self.layer.value
        self.layer.reset_choices()
        if current is not None and current in self._viewer.layers:
            self.layer.value = current
        elif self.layer.choices:
            self.layer.value = self.layer.choices[-1]
        self._load_layer()

    def _later(self, callback: Any) -> None:
        """Run ``callback`` once the event loop is back (after a removal has finished)."""
        from qtpy.QtCore import QTimer

        def run() -> None:
            try:
                callback()
            except RuntimeError:  # the viewer was closed in the meantime
                pass

        QTimer.singleShot(0, run)

    def _active_changed(self, event: Any) -> None:
        layer = getattr(event, "value", None)
        if layer is not None and self._offered(layer) and layer in self._viewer.layers:
            self.layer.reset_choices()
            self.layer.value = layer

    def _space_axes(self) -> tuple[tuple[Axis, ...], list[int]]:
        layer = self.layer.value
        if layer is None:
            return (), []
        axes = layer_axes(layer)
        return axes, [i for i, a in enumerate(axes) if a.type == "space"][-_MAX_SPACE:]

    def _load_layer(self, *_: Any) -> None:
        """Show the chosen layer's orientation in the per-axis choices."""
        axes, space = self._space_axes()
        self._syncing = True
        try:
            for k, box in enumerate(self._boxes):
                if k < len(space):
                    axis = axes[space[k]]
                    box.label = axis.name
                    box.value = axis.orientation if axis.orientation in TERMS else _NONE
                    box.visible = True
                else:
                    box.value = _NONE
                    box.visible = False
        finally:
            self._syncing = False
        self._show_code()
        self.update_letters()

    def _edited(self, *_: Any) -> None:
        if not self._syncing:
            self._show_code()
            self.status.value = "not saved"

    # ------------------------------------------------------------------ values

    @property
    def orientation(self) -> dict[str, str | None]:
        """The orientation chosen in the widget, ``{axis name: term or None}``."""
        axes, space = self._space_axes()
        out: dict[str, str | None] = {}
        for k, position in enumerate(space):
            value = self._boxes[k].value
            out[axes[position].name] = None if value == _NONE else value
        return out

    def _chosen_axes(self) -> tuple[Axis, ...]:
        axes, _ = self._space_axes()
        chosen = self.orientation
        return tuple(
            Axis(a.name, a.type, a.unit, chosen.get(a.name)) if a.name in chosen else a for a in axes
        )

    def _show_code(self) -> None:
        self.code.value = code_of(self._chosen_axes()) or ""

    def set_preset(self, code: str) -> None:
        """Fill the per-axis choices from a letter code (``"RAS"``, ``"LPS"`` ...)."""
        axes, space = self._space_axes()
        try:
            oriented = resolve_orientation(tuple(Axis(a.name, a.type) for a in axes), code)
        except NgffError as exc:
            self._fail(str(exc))
            return
        self._syncing = True
        try:
            for k, position in enumerate(space):
                self._boxes[k].value = oriented[position].orientation or _NONE
        finally:
            self._syncing = False
        self._show_code()
        self.status.value = f"{code}: not saved"

    # ------------------------------------------------------------------ saving

    def _siblings(self, layer: Any) -> list[Any]:
        """Layers read from the same image as ``layer`` (its channels and label images)."""
        source = (layer.metadata or {}).get(PROVENANCE_KEY) or {}
        location, path = source.get("location"), source.get("path", "")
        if not location:
            return [layer]
        out = []
        for other in self._viewer.layers:
            theirs = (other.metadata or {}).get(PROVENANCE_KEY) or {}
            other_path = str(theirs.get("path", ""))
            same_image = other_path == path or other_path.startswith(f"{path}/labels/".lstrip("/"))
            if theirs.get("location") == location and same_image:
                out.append(other)
        return out or [layer]

    def save(self) -> str | None:
        """Store the chosen orientation in the layers' metadata and in the source store.

        Returns
        -------
        str or None
            The store location written, None when the layer has no local store (the
            orientation then lives in ``layer.metadata`` until the layer is saved).
        """
        from napari.utils.notifications import show_info

        layer = self.layer.value
        if layer is None:
            self._fail("no image or labels layer to orient")
            return None
        chosen = self.orientation
        try:
            resolve_orientation(self._chosen_axes(), None)  # the RFC-4 MUSTs, before writing
        except NgffError as exc:
            self._fail(str(exc))
            return None
        source = (layer.metadata or {}).get(PROVENANCE_KEY) or {}
        location = source.get("location")
        written = None
        if location and "://" not in str(location) and not str(location).lower().endswith((".ozx", ".zip")):
            from ngff.orientation import set_orientation

            try:
                set_orientation(location, chosen, path=str(source.get("path", "")))
            except NgffError as exc:
                self._fail(str(exc))
                return None
            written = str(location)
        for other in self._siblings(layer):
            metadata = dict(other.metadata or {})
            names = {a.name for a in layer_axes(other)}
            metadata[ORIENTATION_KEY] = {k: v for k, v in chosen.items() if k in names}
            other.metadata = metadata
        code = code_of(self._chosen_axes()) or "orientation"
        self.status.value = f"saved {code} to {written}" if written else f"{code} set on the layer (save the layer to keep it)"
        show_info(self.status.value)
        self.update_letters()
        return written

    def _fail(self, message: str) -> None:
        from napari.utils.notifications import show_error

        self.status.value = message
        show_error(message)

    # ------------------------------------------------------------------ reoriented view

    def show_reoriented(self, target: str = "RAS") -> Any:
        """Add a lazily reoriented copy of the layer (flips and axis swaps, no copy of pixels)."""
        layer = self.layer.value
        if layer is None:
            self._fail("no image or labels layer to reorient")
            return None
        axes = self._chosen_axes()
        try:
            plan = plan_reorientation(axes, target)
        except NgffError as exc:
            self._fail(str(exc))
            return None
        data, meta, kind = layer.as_layer_data_tuple()
        levels = list(data) if layer.multiscale else [data]
        order, flip = plan.order, plan.flip
        views = []
        for level in levels:
            view = level.transpose(order) if hasattr(level, "transpose") else np.transpose(level, order)
            views.append(view[tuple(slice(None, None, -1) if f else slice(None) for f in flip)])
        scale = [float(meta["scale"][i]) for i in order]
        translate = []
        for k, i in enumerate(order):
            t = float(meta["translate"][i])
            translate.append(-(t + scale[k] * (levels[0].shape[i] - 1)) if flip[k] else t)
        metadata = dict(meta.get("metadata") or {})
        metadata[ORIENTATION_KEY] = {a.name: plan.orientations[k] for k, a in enumerate(axes) if a.type == "space"}
        new_meta = dict(meta)
        new_meta.update(
            data=None,
            name=f"{layer.name} ({target})",
            scale=scale,
            translate=translate,
            metadata=metadata,
            units=[meta["units"][i] for i in order] if meta.get("units") is not None else None,
        )
        new_meta.pop("data", None)
        for key in ("rotate", "shear", "affine"):
            new_meta.pop(key, None)  # identity in OME-Zarr layers; permuting them is not needed
        new = napari.layers.Layer.create(views if layer.multiscale else views[0], new_meta, kind)
        self._viewer.add_layer(new)
        self.layer.reset_choices()
        self.layer.value = new
        self.status.value = f"showing {layer.name} reoriented to {target}"
        return new

    # ------------------------------------------------------------------ letters

    def _step_changed(self, *_: Any) -> None:
        if self.letters.value and LETTERS_LAYER in self._viewer.layers:
            self.update_letters()

    def letter_positions(self) -> list[tuple[str, np.ndarray]]:
        """(letter, world position) of each side letter for the current view.

        In 2-D the letters sit just inside the left, right, top and bottom edges of the
        layer's extent; in 3-D at the six faces.  Only displayed axes with an orientation
        get letters.
        """
        layer = self.layer.value
        viewer = self._viewer
        if layer is None:
            return []
        axes = self._chosen_axes()
        ndim = viewer.dims.ndim
        offset = ndim - layer.ndim  # napari aligns a layer to the last world dimensions
        extent = np.asarray(layer.extent.world, dtype=float)  # (2, layer.ndim)
        # Non-displayed dimensions stay at the current slice, so the letters are drawn.
        centre = np.asarray(viewer.dims.point, dtype=float).copy()
        for world_dim in viewer.dims.displayed:
            if 0 <= world_dim - offset < layer.ndim:
                centre[world_dim] = extent[:, world_dim - offset].mean()
        out = []
        for world_dim in viewer.dims.displayed:
            k = world_dim - offset
            if not 0 <= k < layer.ndim or axes[k].orientation is None:
                continue
            # The low side's letter at the low end: a flipped camera moves both on screen.
            low, high = side_letters(axes[k].orientation)
            inset = 0.04 * (extent[1, k] - extent[0, k])  # just inside: visible at any zoom
            for letter, at in ((low, extent[0, k] + inset), (high, extent[1, k] - inset)):
                position = centre.copy()
                position[world_dim] = at
                out.append((letter, position))
        return out

    @property
    def redrawing(self) -> bool:
        """True while a redraw of the letters waits for the event loop."""
        return self._letters_pending

    def update_letters(self, *_: Any) -> None:
        """Redraw (or remove) the on-canvas direction letters, once the event loop is back.

        Deferred because napari emits the events this follows while it is adding or
        removing layers itself (closing, clearing), when the layer list must not change.
        """
        if not self._letters_pending:
            self._letters_pending = True
            self._later(self._redraw_letters)

    def _redraw_letters(self) -> None:
        self._letters_pending = False
        if not self._connections:  # the dock was closed meanwhile
            return
        viewer = self._viewer
        if self.layer.value is not None and self.layer.value not in viewer.layers:
            self.layer.reset_choices()
        placed = self.letter_positions() if self.letters.value else []
        existing = viewer.layers[LETTERS_LAYER] if LETTERS_LAYER in viewer.layers else None  # noqa: SIM401
        if not placed:
            if existing is not None:
                self._syncing = True
                try:
                    viewer.layers.remove(existing)
                finally:
                    self._syncing = False
            return
        coords = np.stack([p for _, p in placed])
        letters = [letter for letter, _ in placed]
        if existing is not None and existing.ndim == coords.shape[1]:
            if (
                existing.data.shape == coords.shape
                and np.allclose(existing.data, coords)
                and list(existing.features["letter"]) == letters
            ):
                return
            existing.data = coords
            existing.features = {"letter": letters}
            existing.text = self._text_style()
            return
        self._syncing = True
        try:
            if existing is not None:
                viewer.layers.remove(existing)
            active = viewer.layers.selection.active
            viewer.add_points(
                coords,
                name=LETTERS_LAYER,
                features={"letter": letters},
                text=self._text_style(),
                size=0.01,
                face_color="transparent",
                border_width=0,
                opacity=1.0,
            )
            if active is not None:  # keep the user's selection
                viewer.layers.selection.active = active
        finally:
            self._syncing = False

    @staticmethod
    def _text_style() -> dict[str, Any]:
        return {"string": "{letter}", "color": _LETTER_COLOR, "size": 18, "anchor": "center"}

    @property
    def shown_letters(self) -> dict[str, str]:
        """Letter at each screen edge of a 2-D view: ``{"left": "R", "right": "L", ...}``."""
        viewer = self._viewer
        if viewer.dims.ndisplay != 2 or not self.letters.value or self.layer.value is None:
            return {}
        rows, cols = viewer.dims.displayed
        up, left = (str(getattr(o, "value", o)) for o in _camera(viewer).orientation2d)
        out = {}
        for letter, position in self.letter_positions():
            for dim, (low_edge, high_edge), flipped in (
                (cols, ("left", "right"), left == "left"),
                (rows, ("top", "bottom"), up == "up"),
            ):
                centre = self._centre(dim)
                if not np.isclose(position[dim], centre):
                    out[low_edge if (position[dim] < centre) != flipped else high_edge] = letter
        return out

    def _centre(self, world_dim: int) -> float:
        layer = self.layer.value
        offset = self._viewer.dims.ndim - layer.ndim
        extent = np.asarray(layer.extent.world, dtype=float)
        return float(extent[:, world_dim - offset].mean())
