"""Which reader opens which input: one :class:`ReaderEntry` per format family.

A reader is chosen by *content* first (the file's first bytes), then by *extension*;
``reader="name"`` forces one.  Adding a format means adding one entry to
:data:`READERS` (or calling :func:`register_reader`); the opener named by the entry is
imported only when a file of that kind is converted, so optional packages cost nothing
until used.

An opener is called as ``opener(path, *, series, dims) -> SourceImage`` (see
:mod:`ngff.convert.source`).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import NgffError

__all__ = ["READERS", "ReaderEntry", "choose_reader", "is_pattern", "register_reader"]


@dataclass(frozen=True)
class ReaderEntry:
    """One input format family.

    Attributes
    ----------
    name
        Short name (``reader="tiff"`` selects it).
    extensions
        Lower-case file name endings it reads (``".tif"``, ``".nii.gz"``).
    opener
        ``"package.module:function"`` returning a :class:`~ngff.convert.source.SourceImage`.
    requires
        Import names that must be installed (checked before opening).
    extra
        The ``pip install "napari-ngff[extra]"`` extra that installs them.
    sniff
        Optional test of the file's first 512 bytes; a match wins over extensions.
    describe
        Format names for messages (``"PNG, JPEG, BMP, GIF"``).
    """

    name: str
    extensions: tuple[str, ...]
    opener: str
    requires: tuple[str, ...] = ()
    extra: str | None = None
    sniff: Callable[[bytes], bool] | None = None
    describe: str = ""

    def missing(self) -> list[str]:
        """The required packages that are not installed."""
        return [m for m in self.requires if importlib.util.find_spec(m) is None]

    def load(self) -> Callable[..., Any]:
        """The opener function (imported now)."""
        module, _, function = self.opener.partition(":")
        return getattr(importlib.import_module(module), function)


def _tiff_magic(head: bytes) -> bool:
    return head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def _image_magic(head: bytes) -> bool:
    return (
        # PNG, JPEG, GIF, BMP; WebP below
        head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM"))
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
    )


#: Vendor formats read through bioio, and the reader plugin each needs.
BIOIO_PLUGINS = {
    ".nd2": "bioio-nd2",
    ".czi": "bioio-czi",
    ".lif": "bioio-lif",
    ".dv": "bioio-dv",
    ".r3d": "bioio-dv",
    ".sldy": "bioio-sldy",
    ".vsi": "bioio-vsi",
    ".qptiff": "bioio-qptiff",
}

#: Every reader, in the order content sniffing tries them.
READERS: list[ReaderEntry] = [
    ReaderEntry(
        "npy",
        (".npy",),
        "ngff.convert.numpy_reader:open_npy",
        sniff=lambda head: head.startswith(b"\x93NUMPY"),
        describe=".npy",
    ),
    ReaderEntry(
        "tiff",
        (".tif", ".tiff", ".btf", ".tf8", ".tf2", ".ome.tif", ".ome.tiff", ".lsm"),
        "ngff.convert.tiff_reader:open_tiff",
        requires=("tifffile",),
        extra="convert",
        sniff=_tiff_magic,
        describe="TIFF, BigTIFF, OME-TIFF, ImageJ TIFF",
    ),
    ReaderEntry(
        "imageio",
        (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"),
        "ngff.convert.image_reader:open_image",
        requires=("imageio",),
        extra="convert",
        sniff=_image_magic,
        describe="PNG, JPEG, BMP, GIF, WebP",
    ),
    # medical volumes with direction matrices -> RFC-4 orientation (ngff.convert.medical)
    ReaderEntry(
        "nifti",
        (".nii", ".nii.gz"),
        "ngff.convert.medical:open_nifti",
        requires=("nibabel",),
        extra="medical",
        sniff=lambda head: head[344:348] == b"n+1\x00" or head[4:8] == b"n+2\x00",
        describe="NIfTI (.nii, .nii.gz)",
    ),
    ReaderEntry(
        "itk",
        (".nrrd", ".nhdr", ".mha", ".mhd"),
        "ngff.convert.medical:open_itk",
        requires=("SimpleITK",),
        extra="medical",
        sniff=lambda head: head.startswith(b"NRRD000"),
        describe="NRRD, MetaImage (.mha, .mhd)",
    ),
    ReaderEntry(
        "bioio",
        tuple(BIOIO_PLUGINS),
        "ngff.convert.bioio_reader:open_bioio",
        requires=("bioio",),
        extra="bioio",
        describe="vendor formats through bioio (ND2, CZI, LIF, ...)",
    ),
]


def register_reader(entry: ReaderEntry, *, first: bool = False) -> None:
    """Add a reader (replacing one of the same name); ``first`` gives its sniff priority."""
    READERS[:] = [r for r in READERS if r.name != entry.name]
    if first:
        READERS.insert(0, entry)
    else:
        READERS.insert(max(len(READERS) - 1, 0), entry)  # bioio stays the last resort


def is_pattern(text: str) -> bool:
    """Whether an input names several files by a glob pattern."""
    return any(c in Path(text).name for c in "*?[")


def _ending(entry: ReaderEntry, name: str) -> int:
    """Length of the longest extension of ``entry`` that ``name`` ends with (0: none)."""
    return max((len(e) for e in entry.extensions if name.endswith(e)), default=0)


def choose_reader(path: Path, head: bytes, reader: str | None = None) -> ReaderEntry:
    """The reader for a file: ``reader`` by name, else by content, else by extension.

    Raises
    ------
    NgffError
        When no reader fits (the message lists the supported formats and the extras
        to install), or the fitting reader's packages are missing.
    """
    location = str(path)
    if reader is not None:
        named = [r for r in READERS if r.name == reader]
        if not named:
            raise NgffError(
                f"unknown reader {reader!r}; choose one of {', '.join(r.name for r in READERS)}",
                location=location,
                rule="input format",
            )
        return _ready(named[0], location, path)
    by_content = [r for r in READERS if r.sniff is not None and head and r.sniff(head)]
    if by_content:
        return _ready(by_content[0], location, path)
    name = path.name.lower()
    by_extension = sorted(
        (r for r in READERS if _ending(r, name)), key=lambda r: -_ending(r, name)
    )
    if by_extension:
        return _ready(by_extension[0], location, path)
    supported = "; ".join(
        f"{r.describe or r.name}" + (f" [{r.extra}]" if r.extra else "") for r in READERS
    )
    raise NgffError(
        f"no reader for {path.suffix or 'this'} files; supported: {supported}. Other formats may "
        "open through bioio: pip install 'napari-ngff[bioio]' plus the bioio plugin of the "
        "format (e.g. bioio-nd2), then pass reader='bioio' (--reader bioio)",
        location=location,
        rule="input format",
    )


def _ready(entry: ReaderEntry, location: str, path: Path) -> ReaderEntry:
    missing = entry.missing()
    if missing:
        hint = f"pip install 'napari-ngff[{entry.extra}]'" if entry.extra else "pip install " + " ".join(missing)
        plugin = BIOIO_PLUGINS.get(path.suffix.lower()) if entry.name == "bioio" else None
        if plugin:
            hint += f" {plugin}"
        raise NgffError(
            f"reading {entry.describe or entry.name} needs {', '.join(missing)}, which is not "
            f"installed: {hint}",
            location=location,
            rule="input format",
        )
    return entry
