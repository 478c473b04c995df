"""``import ngff`` stays light: no GUI stack, no heavy optional libraries, lazy zarr/dask.

Each check runs in a fresh interpreter so that modules imported by other tests do not
hide an eager import.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

#: Must never be imported by ``import ngff`` (GUI stack, optional heavy dependencies).
FORBIDDEN = (
    "napari",
    "qtpy",
    "PyQt5",
    "PyQt6",
    "PySide2",
    "PySide6",
    "vispy",
    "scipy",
    "tensorstore",
    "skimage",
)
#: Loaded on first use (reading), not by ``import ngff``.
LAZY = ("dask", "dask.array", "zarr", "numcodecs", "zarrs")


def _run(code: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=None,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def after_import() -> dict:
    return _run(
        """
        import json, sys
        before = set(sys.modules)
        import ngff
        print(json.dumps({"modules": sorted(sys.modules), "new": sorted(set(sys.modules) - before)}))
        """
    )


@pytest.mark.parametrize("name", FORBIDDEN)
def test_import_ngff_does_not_import_heavy_or_gui_modules(after_import, name):
    loaded = [m for m in after_import["modules"] if m == name or m.startswith(name + ".")]
    assert not loaded, f"import ngff imported {loaded[:5]}"


@pytest.mark.parametrize("name", LAZY)
def test_import_ngff_loads_zarr_and_dask_lazily(after_import, name):
    loaded = [m for m in after_import["modules"] if m == name or m.startswith(name + ".")]
    assert not loaded, f"import ngff imported {loaded[:5]} eagerly"


def test_read_is_reachable_and_loads_the_reader_on_demand():
    result = _run(
        """
        import json, sys
        import ngff
        had_reader = "ngff.reader" in sys.modules
        read = ngff.read
        from ngff.reader import read as real_read
        print(json.dumps({
            "had_reader": had_reader,
            "same": read is real_read,
            "callable": callable(read),
            "in_dir": "read" in dir(ngff),
            "gui": sorted(m for m in sys.modules if m.split(".")[0] in ("napari", "qtpy", "PyQt5", "PyQt6", "vispy")),
        }))
        """
    )
    assert result == {
        "had_reader": False,
        "same": True,
        "callable": True,
        "in_dir": True,
        "gui": [],
    }


def test_reading_an_image_imports_no_gui_modules(tmp_path):
    """Reading loads zarr and dask (and dask.array itself imports scipy.sparse when it is
    installed), but never the GUI stack or tensorstore."""
    import builders as B

    gui = ("napari", "qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6", "vispy", "tensorstore")

    exp = B.build_image(
        tmp_path / "img.zarr",
        version="0.5",
        n_levels=1,
        shape=(1, 1, 1, 4, 4),
        chunks=(1, 1, 1, 4, 4),
    )
    result = _run(
        f"""
        import json, sys
        import ngff
        img = ngff.read({str(exp.path)!r})
        img.levels[0].compute()
        print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {list(gui)!r})))
        """
    )
    assert result == []


def test_unknown_attribute_is_an_attribute_error():
    import ngff

    with pytest.raises(AttributeError):
        _ = ngff.no_such_thing
