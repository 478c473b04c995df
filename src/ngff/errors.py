"""The one exception family of ngff.

Every error raised on purpose by ``ngff`` derives from :class:`NgffError`, so callers
can catch a single type.  Messages name the location and the rule that was broken.
"""

from __future__ import annotations

__all__ = [
    "NgffError",
    "NotOmeZarrError",
    "InvalidMetadataError",
    "MissingArrayError",
    "UnsupportedVersionError",
    "StoreError",
    "StoreLockedError",
    "OrientationWarning",
]


class NgffError(Exception):
    """Base class of every error raised by ngff.

    Parameters
    ----------
    message
        What went wrong, in plain words.
    location
        Where: a store location, optionally followed by a key or JSON path.
    rule
        The rule that was broken (a spec quote or a short name), if any.
    """

    def __init__(self, message: str, *, location: str | None = None, rule: str | None = None):
        self.message = message
        self.location = location
        self.rule = rule
        text = message
        if location:
            text = f"{location}: {text}"
        if rule:
            text = f"{text} (rule: {rule})"
        super().__init__(text)


class NotOmeZarrError(NgffError):
    """The location exists but holds no OME-Zarr metadata."""


class InvalidMetadataError(NgffError):
    """OME-Zarr or Zarr metadata is malformed or breaks a rule of the spec."""


class MissingArrayError(NgffError):
    """Metadata refers to an array that does not exist or cannot be opened."""


class UnsupportedVersionError(NgffError):
    """The OME-Zarr version is not one this library reads or writes."""


class StoreError(NgffError):
    """The location cannot be reached or read (missing path, I/O error, bad URL)."""


class StoreLockedError(StoreError):
    """Another process is writing to the store (its lock file is held)."""


class ArchiveWarning(UserWarning):
    """An ``.ozx`` archive read in spite of a departure from RFC-9 (e.g. a comment that
    is not JSON): the archive is usable, but its maker did not follow the RFC."""


class OrientationWarning(UserWarning):
    """RFC-4 orientation read in a tolerated but non-standard form (legacy key, proposed term)."""
