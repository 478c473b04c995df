"""Dock widgets of the plugin (magicgui containers; the manifest points at each class)."""

from __future__ import annotations

__all__ = ["ExportWidget", "SaveEditsWidget"]


def __getattr__(name: str):
    if name == "ExportWidget":  # lazy: importing the package must not pull in Qt
        from .export import ExportWidget

        return ExportWidget
    if name == "SaveEditsWidget":
        from .save_edits import SaveEditsWidget

        return SaveEditsWidget
    raise AttributeError(name)
