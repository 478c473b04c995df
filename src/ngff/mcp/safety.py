"""Which locations the MCP server may touch.

An agent names locations as text; :class:`Sandbox` turns that text into a path (or URL)
the tools may open, or refuses it with :class:`AccessDeniedError`.

* Local paths must lie below one of the root folders *after* every symlink is resolved,
  so a link inside a root that points outside is refused like the outside path itself.
  A directory store is also searched for symlinks leading out of the roots, since zarr
  follows links inside a store when it reads chunks.
* Relative paths are taken relative to the first root, not to the server's working
  directory (which an MCP client chooses, often without the user knowing).
* Writes need ``allow_write``; a root folder itself and the folders above a root are
  never write targets (replacing one would delete the whole sandbox).
* URLs (``https://``, ``s3://`` ...) need ``allow_remote`` and are read-only.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import NgffError

__all__ = ["AccessDeniedError", "Sandbox", "is_url"]


class AccessDeniedError(NgffError):
    """The MCP server's sandbox forbids this location or operation."""


def is_url(location: str) -> bool:
    """True for a remote URL (``scheme://...``); ``file://`` counts as a local path."""
    return "://" in location and not location.startswith("file://")


@dataclass(frozen=True)
class Sandbox:
    """The folders, writes and URLs the server allows.

    Parameters
    ----------
    roots
        Folders below which locations may be read (and written when ``allow_write``).
        Stored fully resolved; the first is the base of relative paths.
    allow_write
        Allow tools that create or modify data (``convert``, ``set_orientation``).
    allow_remote
        Allow reading ``http(s)://``, ``s3://`` and other fsspec URLs.
    """

    roots: tuple[Path, ...]
    allow_write: bool = False
    allow_remote: bool = False

    @classmethod
    def create(
        cls,
        roots: Sequence[str | os.PathLike[str]] = (),
        *,
        allow_write: bool = False,
        allow_remote: bool = False,
    ) -> Sandbox:
        """A sandbox over ``roots`` (default: the current directory).

        Raises
        ------
        AccessDeniedError
            When a root is not an existing directory.
        """
        resolved = []
        for root in roots or (os.getcwd(),):
            path = Path(os.path.realpath(Path(root).expanduser()))
            if not path.is_dir():
                raise AccessDeniedError(
                    "a --root must be an existing directory", location=str(root)
                )
            resolved.append(path)
        return cls(tuple(resolved), allow_write=allow_write, allow_remote=allow_remote)

    # ------------------------------------------------------------------ reading

    def readable(self, location: str) -> str:
        """The location to open for reading: a resolved local path or an allowed URL.

        Raises
        ------
        AccessDeniedError
            For a URL without ``allow_remote``, a path outside the roots (symlinks
            resolved), or a directory store holding a symlink that leads outside.
        """
        text = self._text(location)
        if is_url(text):
            if not self.allow_remote:
                raise AccessDeniedError(
                    "reading URLs is disabled; start the server with --allow-remote to allow it",
                    location=text,
                )
            return text
        path = self._inside(text)
        if path.is_dir():
            self._check_links(path)
        return str(path)

    def folder(self, location: str) -> Path:
        """A folder below the roots to list (symlinks resolved; its contents are not walked).

        Raises
        ------
        AccessDeniedError
            For a URL or a folder outside the roots.
        """
        text = self._text(location)
        if is_url(text):
            raise AccessDeniedError("only local folders can be listed", location=text)
        path = self._inside(text)
        if not path.is_dir():
            raise AccessDeniedError("not a folder", location=str(path))
        return path

    def contains(self, path: str | os.PathLike[str]) -> bool:
        """True when ``path``, with its symlinks resolved, lies below a root."""
        real = Path(os.path.realpath(path))
        return any(real == root or real.is_relative_to(root) for root in self.roots)

    # ------------------------------------------------------------------ writing

    def writable(self, location: str) -> str:
        """The resolved local path to write to.

        Raises
        ------
        AccessDeniedError
            Without ``allow_write``, for URLs, outside the roots, or for a root folder
            itself (or a folder above one).
        """
        text = self._text(location)
        if not self.allow_write:
            raise AccessDeniedError(
                "this server is read-only; start it with --allow-write to allow writing",
                location=text,
            )
        if is_url(text):
            raise AccessDeniedError(
                "the server writes only to local paths below its roots", location=text
            )
        path = self._inside(text)
        for root in self.roots:
            if root == path or root.is_relative_to(path):
                raise AccessDeniedError(
                    "refusing to write over a root folder of the server (name a store inside it)",
                    location=str(path),
                )
        if path.is_dir():
            self._check_links(path)
        return str(path)

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _text(location: str) -> str:
        if not isinstance(location, str) or not location.strip():
            raise AccessDeniedError("expected a non-empty path or URL", location=repr(location))
        if "\x00" in location:
            raise AccessDeniedError(
                "a path may not contain NUL characters", location=repr(location)
            )
        return location.strip()

    def _inside(self, text: str) -> Path:
        text = text.removeprefix("file://")
        given = Path(text).expanduser()
        if not given.is_absolute():
            given = self.roots[0] / given
        # realpath resolves every symlink of the existing part; a missing tail stays as given.
        path = Path(os.path.realpath(given))
        if not any(path == root or path.is_relative_to(root) for root in self.roots):
            raise AccessDeniedError(
                "outside the folders this server may use "
                f"({', '.join(str(r) for r in self.roots)}; symlinks are resolved)",
                location=text,
            )
        return path

    def _check_links(self, top: Path) -> None:
        """Refuse a directory store with a symlink leading outside the roots."""
        stack = [str(top)]
        seen = {str(top)}
        while stack:
            try:
                entries = os.scandir(stack.pop())
            except OSError:
                continue  # unreadable folders fail later, with the reader's own message
            with entries:
                for entry in entries:
                    if entry.is_symlink():
                        target = Path(os.path.realpath(entry.path))
                        if not any(target == r or target.is_relative_to(r) for r in self.roots):
                            raise AccessDeniedError(
                                f"the store holds a symlink to {target}, outside the folders "
                                "this server may use",
                                location=entry.path,
                            )
                        # A linked folder inside the roots may itself hold links leading out.
                        if target.is_dir() and str(target) not in seen:
                            seen.add(str(target))
                            stack.append(str(target))
                    elif entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
