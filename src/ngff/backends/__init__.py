"""Alternative array writers for :func:`ngff.write` (``backend=...``).

The default backend, ``"zarr"``, creates the arrays with zarr-python; ``"tensorstore"``
creates and writes them through tensorstore (an optional extra).  Either way the pyramid
engine, the metadata and the atomic placement of the store are the same; a backend only
decides how level arrays are created and written.
"""

from __future__ import annotations

from typing import Any

from ..errors import NgffError

__all__ = ["BACKENDS", "create_arrays"]

BACKENDS = ("zarr", "tensorstore")


def create_arrays(backend: str, root: Any, group_path: str, plans: list[Any], axes: Any, dtype: Any, spec: Any, codec: Any) -> None:
    """Create every level's array with ``backend`` and set ``plan.array`` to a writable handle.

    Raises
    ------
    NgffError
        For an unknown backend, a missing package or a combination it cannot write.
    """
    if backend == "tensorstore":
        from .tensorstore import create_arrays as create

        create(root, group_path, plans, axes, dtype, spec, codec)
        return
    raise NgffError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}", rule="backend")
