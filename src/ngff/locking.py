"""One writer per store: a lock file at the store's root.

A writer (``update_region``, ``write_labels`` into an existing image) holds
``<root>/.ngff-lock`` for the whole of its work; a second writer gets a
:class:`~ngff.errors.StoreLockedError` naming the holder instead of interleaving its
chunks with the first one's.

On a local filesystem the lock is an ``flock`` on that file, which the kernel releases
when the holder dies (even by SIGKILL), so a crashed writer never leaves a stale lock:
the file may stay behind, but the next writer takes it over.  On remote (fsspec) stores,
where no such primitive exists, the lock file's presence is the lock; a stale one left
by a killed writer must be deleted by hand, and the error says so.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from .errors import StoreError, StoreLockedError

__all__ = ["LOCK_NAME", "StoreLock", "store_root"]

LOCK_NAME = ".ngff-lock"
_META_FILES = ("zarr.json", ".zgroup", ".zattrs")


def store_root(path: Path) -> Path:
    """The top-most Zarr group directory holding ``path`` (the store's root).

    Writers to ``image.zarr`` and to ``image.zarr/labels/cells`` then share one lock.
    """
    path = Path(path).absolute()
    root = path
    for parent in path.parents:
        if any((parent / name).is_file() for name in _META_FILES):
            root = parent
        else:
            break
    return root


def _holder_text(raw: bytes) -> str:
    try:
        info = json.loads(raw.decode() or "{}")
    except (UnicodeDecodeError, ValueError):
        return "another process"
    if not isinstance(info, dict):
        return "another process"
    since = info.get("since")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(since)) + " UTC" if isinstance(since, (int, float)) else "?"
    return f"process {info.get('pid', '?')} on {info.get('host', '?')} (since {when})"


def _identity() -> bytes:
    return json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}).encode()


class StoreLock:
    """Exclusive write lock on a store (a context manager).

    Parameters
    ----------
    root
        The store root: a local directory, or ``(fsspec filesystem, root path)``.
    location
        How to name the store in messages.

    Raises
    ------
    StoreLockedError
        On entry, when another writer holds the lock.
    """

    def __init__(self, root: Path | tuple[Any, str], location: str | None = None, name: str = LOCK_NAME):
        self.root = root
        self.name = name
        self.location = location or str(root if isinstance(root, Path) else root[1])
        self._fd: int | None = None
        self._remote_path: str | None = None

    # ------------------------------------------------------------------ local

    def _acquire_local(self, root: Path) -> None:
        import fcntl

        path = root / self.name
        for _ in range(20):
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the lock file: {exc.strerror or exc}", location=str(path), rule="one writer per store"
                ) from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = os.pread(fd, 4096, 0)
                os.close(fd)
                raise StoreLockedError(
                    f"{_holder_text(holder)} is writing to this store; wait for it to finish "
                    "(the lock is released when that process ends)",
                    location=self.location,
                    rule="one writer per store",
                ) from None
            # The holder may have removed the file between our open and our flock:
            # then we locked a dead inode, and must try again on the current file.
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.pwrite(fd, _identity(), 0)
                self._fd = fd
                return
            os.close(fd)
        raise StoreLockedError("the lock file keeps changing hands", location=self.location, rule="one writer per store")

    def _release_local(self, root: Path) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.unlink(root / self.name)  # while still locked, so no one else's file is removed
        except OSError:
            pass
        os.close(fd)

    # ------------------------------------------------------------------ remote

    def _acquire_remote(self, fs: Any, root: str) -> None:
        path = f"{root.rstrip('/')}/{self.name}"
        try:
            if fs.exists(path):
                raise StoreLockedError(
                    f"{_holder_text(fs.cat_file(path))} is writing to this store; if no writer is "
                    f"running (a killed one leaves its lock behind), delete {path}",
                    location=self.location,
                    rule="one writer per store",
                )
            fs.pipe_file(path, _identity())
        except StoreLockedError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot create the lock file: {exc}", location=path, rule="one writer per store") from exc
        self._remote_path = path

    def _release_remote(self, fs: Any) -> None:
        path, self._remote_path = self._remote_path, None
        if path is not None:
            try:
                fs.rm_file(path)
            except Exception:
                pass

    # ------------------------------------------------------------------ protocol

    def acquire(self) -> StoreLock:
        """Take the lock (see the class docstring)."""
        if isinstance(self.root, Path):
            self._acquire_local(self.root)
        else:
            self._acquire_remote(*self.root)
        return self

    def release(self) -> None:
        """Give the lock back (idempotent)."""
        if isinstance(self.root, Path):
            self._release_local(self.root)
        else:
            self._release_remote(self.root[0])

    def __enter__(self) -> StoreLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
