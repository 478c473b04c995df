"""Plates in RFC-9 ``.ozx`` archives: :func:`ngff.write_plate` and :func:`ngff.write_well_image`.

A ZIP archive cannot be changed in place without breaking RFC-9's entry order
(every ``zarr.json`` first), so:

- a new plate is written as a directory store in a hidden folder beside the archive
  and packed (:func:`ngff.ozx.staged`);
- adding a field extracts the archive, writes the field and its metadata, and repacks
  it in one rename (:func:`ngff.ozx.edit`).  Each call rewrites the whole archive, so
  adding *n* fields one by one costs O(n²) bytes copied; :func:`plate_edit` adds many
  fields for the price of one rewrite.

Writers of one archive exclude each other with the lock file ``.<name>.ngff-lock``
beside it — the same lock :func:`ngff.write_labels` and :func:`ngff.update_region` take
on archives — so a second writer gets a :class:`~ngff.errors.StoreLockedError` instead
of losing the first one's field.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import NgffError, StoreError, UnsupportedVersionError

if TYPE_CHECKING:
    from .locking import StoreLock
    from .model import Image, Plate

__all__ = ["is_plate_archive", "plate_edit", "write_plate_ozx", "write_well_image_ozx"]


def is_plate_archive(location: Any, *, new: bool = False) -> bool:
    """True when ``location`` is a local ``.ozx`` path (``new``: it need not exist yet)."""
    if not isinstance(location, (str, os.PathLike)):
        return False
    text = os.fspath(location)
    if "://" in text and not text.startswith("file://"):
        return False
    path = _local(text)
    if new:
        return path.name.lower().endswith(".ozx")
    from .ozx import is_archive_path

    return is_archive_path(path) and path.is_file()


def _local(text: str) -> Path:
    return Path(text.removeprefix("file://")).expanduser().absolute()


def _lock(path: Path) -> StoreLock:
    from .locking import StoreLock

    return StoreLock(path.parent, str(path), name=f".{path.name}.ngff-lock")


def write_plate_ozx(location: str | os.PathLike[str], write_plate: Callable[..., Any], **options: Any) -> Plate:
    """``write_plate(location=<staging>, **options)`` packed into the archive ``location``."""
    from .ozx import staged
    from .reader import read

    path = _local(os.fspath(location))
    version = options.pop("version", "0.5")
    if version != "0.5":
        raise UnsupportedVersionError(
            f"an .ozx archive holds OME-Zarr 0.5 (Zarr v3); a {version!r} plate cannot be zipped",
            location=str(path),
            rule="RFC-9 with OME-Zarr 0.5",
        )
    overwrite = bool(options.pop("overwrite", False))
    with _lock(path), staged(path, overwrite=overwrite) as folder, _named(folder / "plate.ome.zarr", path):
        write_plate(folder / "plate.ome.zarr", version="0.5", **options)
    plate = read(path)
    return plate  # type: ignore[return-value]


def write_well_image_ozx(location: str | os.PathLike[str], write_well_image: Callable[..., Any], *args: Any, **options: Any) -> Image:
    """``write_well_image(<extracted plate>, *args, **options)``, then the archive repacked.

    ``shards`` defaults to ``"auto"`` (RFC-9: sharding SHOULD be used) and ``chunks`` to
    the ``"planes"`` layout, as in :func:`ngff.ozx.write_ozx`; ``shards=False`` writes
    unsharded arrays.
    """
    from .model import Plate
    from .ozx import archive_layout
    from .reader import read, read_image
    from .store import open_store

    path = _local(os.fspath(location))
    if not isinstance(read(path), Plate):  # refused before extracting the whole archive
        raise NgffError("not a plate (no plate metadata at this location)", location=str(path))
    options = archive_layout(options)
    with plate_edit(path) as store, _named(store, path):
        image = write_well_image(store, *args, **options)
        inner = Path(image.location).absolute().relative_to(store).as_posix()
    return read_image(open_store(path), inner)


@contextmanager
def _named(staging: Path, archive: Path) -> Iterator[None]:
    """Errors about the staging folder name the archive instead (where the user looks)."""
    try:
        yield
    except NgffError as exc:
        where = exc.location or ""
        prefix = str(staging)
        if not where.startswith(prefix):
            raise
        renamed = type(exc)(exc.message, location=str(archive) + where[len(prefix):], rule=exc.rule)
        raise renamed from exc


@contextmanager
def plate_edit(location: str | os.PathLike[str]) -> Iterator[Path]:
    """Add many fields to a plate archive with a single rewrite.

    Yields a directory store holding the plate (the archive extracted beside it); write
    into it with :func:`ngff.write_well_image`.  When the block completes, the archive
    is repacked (RFC-9 order) and replaced in one rename; when it raises, the archive is
    left as it was.  The archive's lock is held throughout.  A directory plate is
    yielded as it is (its writes are in place).

    Examples
    --------
    >>> with ngff.hcs.plate_edit("plate.ozx") as plate:  # doctest: +SKIP
    ...     for well, image in images.items():
    ...         ngff.write_well_image(plate, *well, 0, image)
    """
    text = os.fspath(location)
    if not is_plate_archive(text):
        path = _local(text)
        if path.name.lower().endswith(".ozx"):
            raise StoreError("no such archive file", location=str(path))
        yield path
        return
    from .ozx import edit

    path = _local(text)
    with _lock(path), edit(path) as store:
        yield Path(store)
