"""Object-store outputs (``s3://``, ``gs://``, ... through fsspec) for :func:`ngff.convert`.

The writer builds stores on a local file system (so that a store only appears once
complete).  For a URL the store is written to a local staging directory
(``$NGFF_STAGING_DIR`` or the system temporary directory), then uploaded: array data
first, metadata documents after them and the root group's last, so a reader never sees
a store whose metadata points at missing chunks.  With ``overwrite``, objects of an old
store that the new one does not have are deleted after the upload.  Staging needs local
disk for the compressed store (memory stays bounded as for local outputs).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import NgffError, StoreError

__all__ = ["is_url", "url_from_path", "write_remote"]

_METADATA = ("zarr.json", ".zattrs", ".zgroup", ".zarray", ".zmetadata")


def is_url(location: Any) -> bool:
    """Whether a destination names an fsspec URL rather than a local path."""
    return isinstance(location, str) and "://" in location and not location.startswith("file://")


def url_from_path(path: Any) -> str | None:
    """The URL a command-line path stood for (``Path("s3://b/x")`` reads ``s3:/b/x``), else None."""
    import re

    text = os.fspath(path)
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):/+(.*)$", text)
    if match is None or len(match.group(1)) < 2 or match.group(1) == "file":  # C:/ on Windows
        return None
    return f"{match.group(1)}://{match.group(2)}"


def _filesystem(url: str, storage_options: Mapping[str, Any] | None) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError:
        raise NgffError("writing to URLs needs fsspec: pip install 'napari-ngff[s3]'", location=url) from None
    try:
        fs, path = fsspec.core.url_to_fs(url, **dict(storage_options or {}))
    except (ImportError, ValueError) as exc:
        protocol = url.split("://", 1)[0]
        extra = "pip install 'napari-ngff[s3]'" if protocol in ("s3", "s3a") else f"install fsspec's {protocol} backend"
        raise NgffError(f"cannot write to {protocol}:// URLs here ({exc}): {extra}", location=url) from exc
    return fs, path.rstrip("/")


def write_remote(
    url: str,
    write: Callable[[Path], Any],
    *,
    overwrite: bool = False,
    storage_options: Mapping[str, Any] | None = None,
) -> Any:
    """Run ``write(local_path)`` into a staging directory and upload the store to ``url``.

    Returns the store at ``url``, opened with :func:`ngff.read` (fsspec's configuration,
    e.g. ``AWS_ENDPOINT_URL``, applies to reading it back).
    """
    from ..reader import read

    fs, root = _filesystem(url, storage_options)
    try:
        exists = fs.exists(root) and bool(fs.find(root))
    except Exception as exc:  # network and credential errors of every fsspec backend
        raise StoreError(f"cannot reach the destination: {exc}", location=url) from exc
    if exists and not overwrite:
        raise StoreError("the destination exists; pass overwrite=True to replace it", location=url)
    staging = Path(tempfile.mkdtemp(prefix="ngff-stage-", dir=os.environ.get("NGFF_STAGING_DIR")))
    try:
        local = staging / "store"
        write(local)
        files = sorted(p for p in local.rglob("*") if p.is_file())
        data = [p for p in files if p.name not in _METADATA]
        # metadata after the data, deepest first: the root document is the last object written
        meta = sorted((p for p in files if p.name in _METADATA), key=lambda p: -len(p.relative_to(local).parts))
        keys = set()
        try:
            for p in data + meta:
                key = f"{root}/{p.relative_to(local).as_posix()}"
                fs.put_file(str(p), key)
                keys.add(key)
            if exists:  # objects of the old store the new one does not have
                stale = [k for k in fs.find(root) if k not in keys]
                if stale:
                    fs.rm(stale)
        except NgffError:
            raise
        except Exception as exc:
            raise StoreError(f"upload failed: {exc}", location=url) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    fs.invalidate_cache()
    return read(url)
