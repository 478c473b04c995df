"""Export dock widget: write selected layers to OME-Zarr with chosen storage settings.

A magicgui :class:`~magicgui.widgets.Container` whose children are attributes
(``layers``, ``source_file``, ``destination``, ``version``, ``chunks``, ``shards``, ``codec``,
``codec_level``, ``method``, ``levels``, ``overwrite``, ``export_button``,
``cancel_button``, ``status``), so tests and scripts drive it without clicking.

The write runs in a :func:`napari.qt.threading.create_worker` thread through
:func:`napari_ngff._writer.write_layers`, with a napari progress bar fed from the
writer's progress callback.  Cancel sets a flag that the callback turns into an
exception inside the writer; the writer stages everything beside the destination and
moves it into place only at the end, so a cancelled export leaves nothing on disk.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import napari
from magicgui.types import FileDialogMode
from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FileEdit,
    Label,
    LineEdit,
    PushButton,
    Select,
    SpinBox,
)
from qtpy.QtCore import QObject, Signal

from .._options import (
    ExportOptions,
    export_defaults,
    format_chunks,
    format_shards,
    parse_chunks,
    parse_shards,
)
from .._writer import ExportCancelled, write_layers

__all__ = ["ExportWidget"]

_CODECS = ("blosc-zstd", "blosc-lz4", "zstd", "gzip", "lz4", "none")
_METHODS = ("auto", "gaussian", "mean", "nearest", "mode", "min", "max")


class _Relay(QObject):
    """Carries progress from the worker thread to the GUI thread (queued signal)."""

    reported = Signal(str, int, int)


@dataclass
class _Outcome:
    paths: list[str] | None = None
    cancelled: bool = False
    error: str | None = None


class ExportWidget(Container):
    """Export image and labels layers to an OME-Zarr store.

    Parameters
    ----------
    viewer
        The viewer whose layers are offered.
    defaults
        Initial settings (default: the plugin's configured export defaults).
    """

    def __init__(self, viewer: napari.viewer.Viewer, defaults: ExportOptions | None = None):
        super().__init__(labels=True)
        self._viewer = viewer
        options = defaults or export_defaults()
        self.layers = Select(label="Layers", choices=self._layer_choices, allow_multiple=True)
        self.destination = FileEdit(
            label="Destination", mode=FileDialogMode.OPTIONAL_FILE, filter="*.ome.zarr"
        )
        # Converting a file from disk never loads it into the viewer (ngff.convert streams it).
        self.source_file = FileEdit(label="Convert file", mode=FileDialogMode.EXISTING_FILE)
        self.source_file.tooltip = "convert this file (TIFF, OME-TIFF, PNG, ...) straight from disk instead of layers; empty: export the layers"
        self.version = ComboBox(label="Version", choices=["0.5", "0.4"], value=options.version)
        self.chunks = LineEdit(label="Chunks", value=format_chunks(options.chunks))
        self.chunks.tooltip = (
            "empty: automatic (.ozx: planes); planes: made for viewing planes remotely; "
            "128: space axes; 32,256,256: the last axes (z,y,x)"
        )
        self.shards = LineEdit(label="Shards", value=format_shards(options.shards))
        self.shards.tooltip = "none, auto, or chunks per shard along space axes (e.g. 4); 0.5 only"
        self.codec = ComboBox(label="Codec", choices=list(_CODECS), value=options.codec)
        self.codec_level = SpinBox(
            label="Level",
            min=-1,
            max=22,
            value=-1 if options.codec_level is None else options.codec_level,
        )
        self.codec_level.tooltip = "-1: the codec's default"
        self.method = ComboBox(
            label="Downsampling", choices=list(_METHODS), value=options.method or "auto"
        )
        self.levels = SpinBox(label="Levels", min=0, max=16, value=options.levels)
        self.levels.tooltip = "0: automatic (a multiscale layer keeps its levels)"
        self.overwrite = CheckBox(text="Overwrite existing", value=False)
        self.export_button = PushButton(text="Export")
        self.cancel_button = PushButton(text="Cancel", enabled=False)
        self.status = Label(value="")
        self.extend(
            [
                self.layers,
                self.source_file,
                self.destination,
                self.version,
                self.chunks,
                self.shards,
                self.codec,
                self.codec_level,
                self.method,
                self.levels,
                self.overwrite,
                self.export_button,
                self.cancel_button,
                self.status,
            ]
        )
        self._cancel = threading.Event()
        self._worker: Any = None
        self._outcome: _Outcome | None = None
        self._progress: Any = None
        self._stage: str | None = None
        self._relay = _Relay()
        self._relay.reported.connect(self._on_progress)
        self.export_button.changed.connect(self.export)
        self.cancel_button.changed.connect(self.cancel)
        self.version.changed.connect(self._on_version)
        for event in (
            viewer.layers.events.inserted,
            viewer.layers.events.removed,
            viewer.layers.events.reordered,
        ):
            event.connect(self._refresh_layers)
        self._refresh_layers()
        self._on_version()

    # ------------------------------------------------------------------ layers

    def _layer_choices(self, _widget: Any = None) -> list[tuple[str, Any]]:
        from napari.layers import Image, Labels

        return [
            (layer.name, layer)
            for layer in self._viewer.layers
            if isinstance(layer, (Image, Labels))
        ]

    def _refresh_layers(self, _event: Any = None) -> None:
        self.layers.reset_choices()
        choices = [layer for _, layer in self._layer_choices()]
        selected = [layer for layer in self._viewer.layers.selection if layer in choices]
        self.layers.value = selected or choices

    def _on_version(self, _event: Any = None) -> None:
        self.shards.enabled = self.version.value != "0.4"  # Zarr v2 cannot shard

    # ------------------------------------------------------------------ options

    def export_options(self) -> ExportOptions:
        """The settings as :class:`ExportOptions`.

        Raises
        ------
        ValueError
            When the chunks or shards text cannot be parsed.
        """
        level = int(self.codec_level.value)
        return ExportOptions(
            version=str(self.version.value),
            chunks=parse_chunks(self.chunks.value),
            shards=parse_shards(self.shards.value) if self.version.value != "0.4" else None,
            codec=str(self.codec.value),
            codec_level=None if level < 0 else level,
            method=None if self.method.value == "auto" else str(self.method.value),
            levels=int(self.levels.value),
        )

    # ------------------------------------------------------------------ running

    @property
    def running(self) -> bool:
        """True while an export is in progress."""
        return self._worker is not None

    def export(self, _event: Any = None) -> Any:
        """Start writing the selected layers; returns the worker (None when refused)."""
        from napari.qt.threading import create_worker
        from napari.utils import cancelable_progress
        from napari.utils.notifications import show_error

        if self.running:
            return None
        layers = list(self.layers.value)
        destination = str(self.destination.value or "").strip()
        source = str(self.source_file.value or "").strip()
        source = "" if source == "." else source
        problem = None
        if source and not Path(source).expanduser().is_file():
            problem = f"no such file to convert: {source}"
        elif not layers and not source:
            problem = "select at least one image or labels layer"
        elif destination in ("", "."):
            problem = "choose a destination (e.g. out.ome.zarr)"
        try:
            options = self.export_options()
        except ValueError as exc:
            problem = problem or str(exc)
        if problem is not None:
            self.status.value = problem
            show_error(f"napari-ngff export: {problem}")
            return None
        path = Path(destination).expanduser()
        if not path.name.lower().endswith((".zarr", ".ozx")):
            path = path.with_name(path.name + ".ome.zarr")
        layer_data = [] if source else [layer.as_layer_data_tuple() for layer in layers]
        self._cancel.clear()
        self._outcome = None
        self._stage = None
        self._progress = cancelable_progress(
            total=0, desc=f"Exporting {path.name}", cancel_callback=self.cancel
        )
        self.status.value = f"writing {path} …"
        self.export_button.enabled = False
        self.cancel_button.enabled = True
        worker = create_worker(
            self._run,
            path,
            layer_data,
            options,
            bool(self.overwrite.value),
            source or None,
            _ignore_errors=True,  # _run reports its own errors; see _on_errored for bugs
        )
        # The outcome is reported on ``finished``, not ``returned``: quit() (cancel)
        # suppresses ``returned``, and a cancel that comes too late must still say
        # that the store was written.
        worker.errored.connect(self._on_errored)
        worker.finished.connect(self._on_finished)
        self._worker = worker
        worker.start()
        return worker

    def cancel(self, _event: Any = None) -> None:
        """Stop a running export (nothing it wrote is kept)."""
        if self._worker is not None:
            self._cancel.set()
            self._worker.quit()
            self.status.value = "cancelling …"

    def _run(
        self,
        path: Path,
        layer_data: list[Any],
        options: ExportOptions,
        overwrite: bool,
        source: str | None = None,
    ) -> _Outcome:
        """Worker-thread body: the write, with errors turned into an outcome."""
        from ngff import NgffError

        def report(stage: str, done: int, total: int) -> None:
            if self._cancel.is_set() or getattr(self._progress, "is_canceled", False):
                raise ExportCancelled(stage)
            self._relay.reported.emit(stage, done, total)

        try:
            if source:
                from ngff import convert

                convert(
                    Path(source).expanduser(), path, version=options.version, chunks=options.chunks,
                    shards=options.effective_shards, codec=options.codec_spec, method=options.method,
                    levels=options.levels or None, overwrite=overwrite,
                    progress=lambda done, total: report(Path(source).name, done, total),
                )
                paths = [str(path)]
            else:
                paths = write_layers(
                    path, layer_data, options=options, overwrite=overwrite, progress=report
                )
            outcome = _Outcome(paths=paths)
        except ExportCancelled:
            outcome = _Outcome(cancelled=True)
        except (NgffError, ValueError, OSError) as exc:
            outcome = _Outcome(error=str(exc))
        self._outcome = outcome  # read by _on_finished in the GUI thread
        return outcome

    def _on_progress(self, stage: str, done: int, total: int) -> None:
        bar = self._progress
        if bar is None:
            return
        if stage != self._stage:
            self._stage = stage
            bar.set_description(f"Exporting {stage}")
            bar.n = 0
        if bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    def _report(self, outcome: _Outcome) -> None:
        from napari.utils.notifications import show_error, show_info

        if outcome.cancelled:
            self.status.value = "cancelled: nothing was written"
            show_info("napari-ngff export cancelled; nothing was written")
        elif outcome.error is not None:
            self.status.value = f"failed: {outcome.error}"
            show_error(f"napari-ngff export failed: {outcome.error}")
        else:
            written = ", ".join(outcome.paths or [])
            self.status.value = f"wrote {written}"
            show_info(f"napari-ngff exported to {written}")

    def _on_errored(self, exc: BaseException) -> None:
        from napari.utils.notifications import show_error

        self.status.value = f"failed: {type(exc).__name__}: {exc}"
        show_error(f"napari-ngff export failed: {type(exc).__name__}: {exc}")

    def _on_finished(self) -> None:
        if self._outcome is not None:  # None: _on_errored has reported a crash
            self._report(self._outcome)
        if self._progress is not None:
            self._progress.close()
            self._progress = None
        self._worker = None
        self.export_button.enabled = True
        self.cancel_button.enabled = False
