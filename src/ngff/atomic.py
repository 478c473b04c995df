"""Crash-safe replacement of store keys: stage under temporary names, commit by a journal.

A :class:`Transaction` collects the new bytes of chunk or shard keys (and keys to
delete).  Each new value is written under a temporary name beside its key
(``.<name>.ngff-new-<id>``, same directory, so the final rename is atomic on a local
filesystem) and flushed to disk.  Nothing a reader looks at changes until
:meth:`Transaction.commit`, which

1. writes the journal ``<root>/.ngff-journal.json`` listing every move - the commit
   point, itself written to a temporary name and renamed;
2. renames each staged file over its key (a reader sees the old or the new chunk, never
   a partial one) and deletes the keys to delete;
3. removes the journal.

A process killed before step 1 leaves the store as it was (the next writer deletes the
staged files, listed in ``.ngff-journal.staging`` before each is created); killed after
it, the next writer (or :func:`recover`) replays the journal, completing the update.

Remote (fsspec) stores follow the same protocol with object copies; object stores
replace an object in one PUT, so readers still never see a partial chunk.
"""

from __future__ import annotations

import errno
import json
import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import StoreError

__all__ = ["JOURNAL_NAME", "STAGING_NAME", "FsspecTarget", "LocalTarget", "Transaction", "pending", "recover"]

JOURNAL_NAME = ".ngff-journal.json"
STAGING_NAME = ".ngff-journal.staging"
_TEMP_MARK = ".ngff-new-"


def _temp_key(key: str, txid: str) -> str:
    head, _, name = key.rpartition("/")
    temp = f".{name}{_TEMP_MARK}{txid}"
    return f"{head}/{temp}" if head else temp


def _os_message(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"permission denied ({exc.strerror or exc})"
    if exc.errno == errno.EFBIG:
        return "the file size limit was exceeded"
    return exc.strerror or str(exc)


class LocalTarget:
    """Keys of a local directory store (``root`` is the store's root directory)."""

    def __init__(self, root: Path, location: str | None = None):
        self.root = Path(root)
        self.location = location or str(root)

    def where(self, key: str) -> str:
        return str(self.root / key)

    def get(self, key: str) -> bytes | None:
        try:
            return (self.root / key).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise StoreError(f"cannot read: {_os_message(exc)}", location=self.where(key)) from exc

    def write_new(self, key: str, data: bytes, *, durable: bool = True) -> None:
        """Write ``data`` under ``key`` (a temporary name: nobody reads it yet)."""
        path = self.root / key
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                if durable:
                    os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            path.unlink(missing_ok=True)
            raise StoreError(f"cannot write: {_os_message(exc)}", location=self.where(key)) from exc

    def append_line(self, key: str, line: str) -> None:
        path = self.root / key
        try:
            with open(path, "a", encoding="utf-8") as f:
                f.write(line + "\n")
        except OSError as exc:
            raise StoreError(f"cannot write: {_os_message(exc)}", location=self.where(key)) from exc

    def put_atomic(self, key: str, data: bytes) -> None:
        temp = _temp_key(key, uuid.uuid4().hex[:12])
        self.write_new(temp, data)
        self.move(temp, key)

    def move(self, source: str, key: str) -> None:
        try:
            os.replace(self.root / source, self.root / key)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise StoreError(f"cannot replace: {_os_message(exc)}", location=self.where(key)) from exc

    def delete(self, key: str) -> None:
        try:
            os.unlink(self.root / key)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StoreError(f"cannot delete: {_os_message(exc)}", location=self.where(key)) from exc

    def exists(self, key: str) -> bool:
        return (self.root / key).exists()


class FsspecTarget:
    """Keys of a store reached through an fsspec filesystem (``root``: path in it)."""

    def __init__(self, fs: Any, root: str, location: str | None = None):
        self.fs = fs
        self.root = root.rstrip("/")
        self.location = location or root

    def _path(self, key: str) -> str:
        return f"{self.root}/{key}" if key else self.root

    def where(self, key: str) -> str:
        return f"{self.location.rstrip('/')}/{key}"

    def _fail(self, what: str, key: str, exc: Exception) -> StoreError:
        text = _os_message(exc) if isinstance(exc, OSError) else str(exc)
        return StoreError(f"cannot {what}: {text}", location=self.where(key))

    def get(self, key: str) -> bytes | None:
        try:
            return self.fs.cat_file(self._path(key))
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise self._fail("read", key, exc) from exc

    def write_new(self, key: str, data: bytes, *, durable: bool = True) -> None:
        try:
            self.fs.pipe_file(self._path(key), bytes(data))
        except Exception as exc:
            raise self._fail("write", key, exc) from exc

    def append_line(self, key: str, line: str) -> None:
        """Object stores cannot append: rewrite the (small) staging list."""
        old = self.get(key) or b""
        self.write_new(key, old + (line + "\n").encode())

    def put_atomic(self, key: str, data: bytes) -> None:
        self.write_new(key, data)  # one PUT replaces an object whole

    def move(self, source: str, key: str) -> None:
        try:
            self.fs.mv(self._path(source), self._path(key))
        except FileNotFoundError:
            raise
        except Exception as exc:
            raise self._fail("replace", key, exc) from exc

    def delete(self, key: str) -> None:
        try:
            self.fs.rm_file(self._path(key))
        except FileNotFoundError:
            pass
        except Exception as exc:
            raise self._fail("delete", key, exc) from exc

    def exists(self, key: str) -> bool:
        try:
            return bool(self.fs.exists(self._path(key)))
        except Exception:
            return False


Target = LocalTarget | FsspecTarget


class Transaction:
    """New values for store keys, invisible until :meth:`commit` (see the module docstring).

    Parameters
    ----------
    target
        Where the keys live; the journal goes to the target's root.
    """

    def __init__(self, target: Target):
        self.target = target
        self.txid = uuid.uuid4().hex[:12]
        self.moves: list[tuple[str | None, str]] = []
        self.bytes_written = 0
        self.committed = False
        self._staging_started = False

    def put(self, key: str, data: bytes) -> None:
        """Stage ``data`` as the new value of ``key``."""
        temp = _temp_key(key, self.txid)
        # Listed before it exists, so a crash right after creating it can be cleaned up.
        self.target.append_line(STAGING_NAME, temp)
        self._staging_started = True
        self.target.write_new(temp, data)
        self.moves.append((temp, key))
        self.bytes_written += len(data)

    def delete(self, key: str) -> None:
        """Stage the removal of ``key`` (a chunk that became all fill value)."""
        if self.target.exists(key):
            self.moves.append((None, key))

    @property
    def keys(self) -> list[str]:
        return [key for _, key in self.moves]

    def commit(self) -> None:
        """Make every staged value visible (journal first, so a crash can be replayed)."""
        if not self.moves:
            self.abort()
            return
        document = {"transaction": self.txid, "moves": [[s, k] for s, k in self.moves]}
        data = json.dumps(document).encode()
        if isinstance(self.target, LocalTarget):
            # The journal's own temporary name is listed too, so a kill while writing it
            # leaves nothing behind once recovered.
            temp = _temp_key(JOURNAL_NAME, self.txid)
            self.target.append_line(STAGING_NAME, temp)
            self.target.write_new(temp, data)
            self.target.move(temp, JOURNAL_NAME)
        else:
            self.target.put_atomic(JOURNAL_NAME, data)
        self.committed = True  # from here on, an interruption is completed by recover()
        _apply(self.target, self.moves)
        self.target.delete(JOURNAL_NAME)
        self.target.delete(STAGING_NAME)

    def abort(self) -> None:
        """Forget the staged values (the store is as before); no-op once committed."""
        if self.committed:
            return
        for temp, _ in self.moves:
            if temp is not None:
                try:
                    self.target.delete(temp)
                except StoreError:
                    pass
        self.moves = []
        if self._staging_started:
            try:
                self.target.delete(STAGING_NAME)
            except StoreError:
                pass


def _apply(target: Target, moves: Iterable[tuple[str | None, str]]) -> None:
    for temp, key in moves:
        if temp is None:
            target.delete(key)
            continue
        try:
            target.move(temp, key)
        except FileNotFoundError:
            pass  # moved before an interruption: the key already holds the new value


def pending(target: Target) -> str | None:
    """``"committed"`` or ``"staging"`` when an interrupted transaction left traces, else None."""
    if target.exists(JOURNAL_NAME):
        return "committed"
    if target.exists(STAGING_NAME):
        return "staging"
    return None


def recover(target: Target) -> str | None:
    """Finish (committed journal) or undo (staging only) an interrupted transaction.

    Call with the store's write lock held.

    Returns
    -------
    str or None
        ``"completed"``, ``"rolled back"`` or None when nothing was pending.
    """
    raw = target.get(JOURNAL_NAME)
    outcome = None
    if raw is not None:
        try:
            document = json.loads(raw)
            moves = [(s, k) for s, k in document["moves"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(
                "the update journal is unreadable; the store may hold a partial update",
                location=target.where(JOURNAL_NAME),
                rule="crash-safe updates",
            ) from exc
        _apply(target, moves)
        target.delete(JOURNAL_NAME)
        outcome = "completed"
    staged = target.get(STAGING_NAME)
    if staged is not None:
        for line in staged.decode("utf-8", "replace").splitlines():
            # A torn last line never names a file that was created (listing comes first).
            if _TEMP_MARK in line and target.exists(line):
                target.delete(line)
        target.delete(STAGING_NAME)
        outcome = outcome or "rolled back"
    return outcome
