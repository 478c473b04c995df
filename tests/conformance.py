"""Locate the shared OME-Zarr conformance material (spec suites, examples, fixtures).

The material is not part of the repository.  It is found at ``$NGFF_CONFORMANCE_DIR`` or
at ``<repo>/../shared/conformance``.  Without it, conformance tests skip with a clear
reason; in CI (``CI=true``) a missing folder is a failure, never a skip.

Import from tests as ``import conformance`` (pytest puts ``tests/`` on ``sys.path``), or
use the ``conformance_dir`` fixture of ``tests/conftest.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

__all__ = ["ENV_VAR", "REPO", "conformance_dir", "missing_reason", "require_conformance_dir"]

ENV_VAR = "NGFF_CONFORMANCE_DIR"
REPO = Path(__file__).resolve().parents[1]


def conformance_dir() -> Path | None:
    """The conformance folder, or None when it cannot be found (never skips)."""
    env = os.environ.get(ENV_VAR)
    candidate = Path(env).expanduser() if env else REPO.parent / "shared" / "conformance"
    return candidate.resolve() if candidate.is_dir() else None


def missing_reason() -> str:
    """Why conformance tests cannot run here."""
    env = os.environ.get(ENV_VAR)
    where = f"${ENV_VAR}={env}" if env else f"{REPO.parent / 'shared' / 'conformance'}"
    return f"OME-Zarr conformance material not found at {where} (set {ENV_VAR} to the folder)"


def require_conformance_dir() -> Path:
    """The conformance folder; ``pytest.skip`` without it (``pytest.fail`` when ``CI=true``)."""
    found = conformance_dir()
    if found is None:
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(missing_reason() + "; CI=true requires it")
        pytest.skip(missing_reason())
    return found
