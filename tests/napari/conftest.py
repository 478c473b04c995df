"""Fixtures of the napari plugin tests: a real viewer under Xvfb (pytest-xvfb).

These tests use pytest-qt's ``qtbot`` and napari's ``make_napari_viewer`` fixture.  They
are skipped as a whole where napari (or its Qt stack) is not importable.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

# tests/ holds the store builders shared with the core suites; this folder the helpers.
for _folder in (Path(__file__).resolve().parents[1], Path(__file__).resolve().parent):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

if importlib.util.find_spec("napari") is None or importlib.util.find_spec("napari.viewer") is None:
    collect_ignore_glob = ["test_*.py"]


#: napari's own noise (its pydantic models), not ours.
_IGNORED = ("ignore:`json_encoders` is deprecated:DeprecationWarning",)


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.gui)
            for rule in _IGNORED:
                item.add_marker(pytest.mark.filterwarnings(rule))


@pytest.fixture
def viewer(make_napari_viewer):
    """A shown napari viewer (under Xvfb), so screenshots render."""
    return make_napari_viewer(show=True)  # a hidden window renders a black canvas
