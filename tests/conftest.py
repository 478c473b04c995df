# ---------------------------------------------------------------------------------------------
# Reader test-suite fixtures (tests/test_reader*.py, tests/builders.py).
# Appended as one block; other sections of this file belong to other suites.
# ---------------------------------------------------------------------------------------------
import os as _reader_os
from pathlib import Path as _ReaderPath

import pytest as _reader_pytest


def _reader_find_conformance() -> "_ReaderPath | None":
    """The shared conformance folder: $NGFF_CONFORMANCE_DIR, else <repo>/../shared/conformance
    (the same rule as tests/conformance.py, for checkouts without that helper)."""
    env = _reader_os.environ.get("NGFF_CONFORMANCE_DIR")
    candidate = _ReaderPath(env).expanduser() if env else _ReaderPath(__file__).resolve().parents[1].parent / "shared" / "conformance"
    return candidate.resolve() if candidate.is_dir() else None


@_reader_pytest.fixture(scope="session")
def reader_conformance_dir() -> _ReaderPath:
    """The conformance folder; skip without it, except in CI (CI=true) where it must exist.

    Uses the shared helper ``tests/conformance.py`` (``require_conformance_dir``) when present.
    """
    try:
        import conformance as _helper  # type: ignore[import-not-found]
    except ImportError:
        _helper = None
    if _helper is not None and callable(getattr(_helper, "require_conformance_dir", None)):
        return _ReaderPath(_helper.require_conformance_dir())
    found = _reader_find_conformance()
    if found is None:
        reason = (
            "OME-Zarr conformance material not found: set NGFF_CONFORMANCE_DIR or place it at "
            "<repo>/../shared/conformance"
        )
        if _reader_os.environ.get("CI", "").strip().lower() == "true":
            _reader_pytest.fail(reason + " (CI=true: missing conformance data is an error)")
        _reader_pytest.skip(reason)
    return found


@_reader_pytest.fixture(scope="session")
def reader_fixtures_dir(reader_conformance_dir) -> _ReaderPath:
    """``<conformance>/fixtures``: small third-party stores."""
    return reader_conformance_dir / "fixtures"



# ---------------------------------------------------------------------------------------------
# Shared conformance-material fixture (helper module: tests/conformance.py).
# ---------------------------------------------------------------------------------------------
import pytest as _conformance_pytest


@_conformance_pytest.fixture(scope="session")
def conformance_dir():
    """The shared conformance folder (a Path); skips without it, fails when CI=true."""
    import conformance as _conformance

    return _conformance.require_conformance_dir()
