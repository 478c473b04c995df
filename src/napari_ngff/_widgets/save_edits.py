"""Save edits dock widget: write painted labels (and changed images) back into their store.

A magicgui :class:`~magicgui.widgets.Container` whose children are attributes
(``dirty``, ``edit_button``, ``save_button``, ``status``) so tests drive it without
clicking.  ``Ctrl+Alt+S`` in the viewer does what the save button does (napari does not
implement npe2 keybinding contributions, so the widget binds the key itself).

- **Edit selected labels** swaps an opened multiscale Labels layer (napari cannot paint
  on those) for a paintable copy of level 0 (:func:`napari_ngff._edits.make_editable`).
- **Save edits** writes every layer with unsaved edits: a layer opened from a store gets
  :func:`ngff.update_region` of its painted bounding box (only the chunks that change are
  rewritten, the pyramid is regenerated there); a new Labels layer over an opened image
  goes into that image's ``labels/`` group.  The writes run in a napari
  ``thread_worker`` with a progress bar; layer names carry
  :data:`~napari_ngff._edits.MARKER` until saved.
- Closing the viewer with unsaved edits asks first (:meth:`SaveEditsWidget.confirm_close`).
"""

from __future__ import annotations

from typing import Any

import napari
from magicgui.widgets import Container, Label, PushButton
from qtpy.QtCore import QEvent, QObject, Signal

from .._edits import EditTracker, SaveJob, base_name, make_editable, run_job, save_job
from .._layers import PROVENANCE_KEY

__all__ = ["SAVE_KEY", "SaveEditsWidget"]

#: Key binding of the save action (napari key-combination syntax).
SAVE_KEY = "Control-Alt-S"


class _Relay(QObject):
    """Carries progress from the worker thread to the GUI thread (queued signal)."""

    reported = Signal(int, int, int, int)


class _CloseGuard(QObject):
    """Asks before the main window closes while edits are unsaved."""

    def __init__(self, widget: SaveEditsWidget):
        super().__init__()
        self.widget = widget

    def eventFilter(self, obj: Any, event: Any) -> bool:
        if event.type() == QEvent.Close:
            names = [base_name(layer.name) for layer in self.widget.tracker.dirty_layers()]
            if names and not self.widget.confirm_close(names):
                event.ignore()
                return True
        return False


class SaveEditsWidget(Container):
    """Dock widget saving painted labels and changed images back into their stores.

    Parameters
    ----------
    viewer
        The napari viewer (injected by napari).
    """

    def __init__(self, viewer: napari.viewer.Viewer):
        super().__init__(labels=False)
        # napari hands plugins a public-only proxy; the tracker needs the layers' identities.
        self.viewer = viewer = getattr(viewer, "__wrapped__", viewer)
        self.dirty = Label(value="")
        self.edit_button = PushButton(text="Edit selected labels")
        self.save_button = PushButton(text=f"Save edits ({SAVE_KEY.replace('-', '+')})")
        self.status = Label(value="")
        self.extend([self.dirty, self.edit_button, self.save_button, self.status])
        self._worker: Any = None
        self._progress: Any = None
        self.last_error: str | None = None
        self._relay = _Relay()
        self._relay.reported.connect(self._on_progress)
        self.tracker = EditTracker(viewer, on_change=self._refresh)
        self.edit_button.changed.connect(self.edit_selected)
        self.save_button.changed.connect(self.save)
        viewer.bind_key(SAVE_KEY, lambda _viewer: self.save(), overwrite=True)
        self._guard = _CloseGuard(self)
        self._guarded: Any = None
        self._refresh()

    # ------------------------------------------------------------------ state

    @property
    def running(self) -> bool:
        """True while a save is in progress."""
        return self._worker is not None

    def _guard_window(self) -> None:
        """Watch the close of the window this widget is docked in (known once docked)."""
        window = self.native.window()
        if window is not self.native and id(window) != self._guarded:
            window.installEventFilter(self._guard)
            self._guarded = id(window)  # no reference: the window must be free to go

    def _refresh(self) -> None:
        self._guard_window()
        names = [base_name(layer.name) for layer in self.tracker.dirty_layers()]
        self.dirty.value = f"unsaved edits: {', '.join(names)}" if names else "no unsaved edits"
        self.save_button.enabled = bool(names) and not self.running

    def confirm_close(self, names: list[str]) -> bool:
        """Ask whether to close with unsaved edits in ``names`` (True: close anyway)."""
        from qtpy.QtWidgets import QMessageBox

        answer = QMessageBox.question(
            None,
            "Unsaved edits",
            "These layers have edits not saved to their OME-Zarr store:\n  "
            + "\n  ".join(names)
            + "\n\nClose the viewer and lose them?",
            QMessageBox.Yes | QMessageBox.No,
            QMessageBox.No,
        )
        return answer == QMessageBox.Yes

    # ------------------------------------------------------------------ actions

    def edit_selected(self, *_: Any) -> Any:
        """Make the selected Labels layer paintable (see :func:`make_editable`)."""
        from napari.utils.notifications import show_error

        layer = self.viewer.layers.selection.active
        from napari.layers import Labels

        if not isinstance(layer, Labels):
            self.status.value = "select a Labels layer to edit"
            return None
        try:
            new = make_editable(self.viewer, layer, self.tracker)
        except ValueError as exc:
            show_error(f"napari-ngff: {exc}")
            self.status.value = str(exc)
            return None
        new.mode = "paint"
        self.status.value = f"painting on {base_name(new.name)!r}"
        return new

    def save(self, *_: Any) -> Any:
        """Write every layer's unsaved edits in a worker thread; returns the worker (or None)."""
        from napari.qt.threading import create_worker
        from napari.utils import progress
        from napari.utils.notifications import show_error

        if self.running:
            return None
        jobs: list[tuple[SaveJob, Any]] = []
        problems = []
        for layer in self.tracker.dirty_layers():
            box = self.tracker.box(layer)
            try:
                jobs.append((save_job(self.viewer, layer, box), box))
            except ValueError as exc:
                problems.append(str(exc))
        if problems:
            show_error("napari-ngff: " + "; ".join(problems))
            self.status.value = problems[0]
        if not jobs:
            return None
        self.last_error = None
        self.status.value = "saving..."
        self._progress = progress(total=len(jobs), desc="Saving edits")
        worker = create_worker(_run_jobs, [job for job, _ in jobs], self._relay.reported.emit, _start_thread=False)
        worker.returned.connect(lambda results: self._on_returned(jobs, results))
        worker.errored.connect(self._on_errored)
        worker.finished.connect(self._on_finished)
        self._worker = worker
        self._refresh()
        worker.start()
        return worker

    def _on_progress(self, job: int, jobs: int, done: int, total: int) -> None:
        if self._progress is None:
            return
        if done < 0:  # a layer is finished
            self._progress.update(1)
        else:
            self._progress.set_description(f"Saving edits: layer {job + 1}/{jobs}, level {done}/{total}")

    def _on_returned(self, jobs: list[tuple[SaveJob, Any]], results: list[dict[str, Any]]) -> None:
        from napari.utils.notifications import show_info

        saved = []
        for (job, box), prov in zip(jobs, results):
            layer = job.layer
            if layer not in self.viewer.layers:
                continue
            metadata = dict(layer.metadata)
            metadata[PROVENANCE_KEY] = prov
            layer.metadata = metadata
            if self.tracker.box(layer) == box:  # nothing painted while saving
                self.tracker.clear(layer)
            saved.append(base_name(layer.name))
        self.status.value = f"saved {', '.join(saved)}"
        show_info(f"napari-ngff: saved edits of {', '.join(saved)}")

    def _on_errored(self, exc: Exception) -> None:
        from napari.utils.notifications import show_error

        self.last_error = f"{type(exc).__name__}: {exc}"
        self.status.value = f"save failed: {exc}"
        show_error(f"napari-ngff: saving edits failed: {exc}")

    def _on_finished(self) -> None:
        if self._progress is not None:
            self._progress.close()
            self._progress = None
        self._worker = None
        self._refresh()


def _run_jobs(jobs: list[SaveJob], report: Any) -> list[dict[str, Any]]:
    """Worker body: write each job, reporting ``(job, jobs, level done, levels)``; -1 ends a job."""
    results = []
    for i, job in enumerate(jobs):
        results.append(run_job(job, progress=lambda done, total, i=i: report(i, len(jobs), done, total)))
        report(i, len(jobs), -1, -1)
    return results
