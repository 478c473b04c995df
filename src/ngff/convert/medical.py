"""Medical volumes: NIfTI (``.nii``, ``.nii.gz``) through nibabel, NRRD/MHA/MHD through SimpleITK.

These formats place the voxel grid in a patient coordinate system with a direction
matrix: NIfTI's world is RAS+ (x towards the Right, y Anterior, z Superior), ITK's
(NRRD, MetaImage) LPS+.  Each voxel axis (``i, j, k`` - stored as OME-Zarr ``x, y, z``)
gets the RFC-4 orientation of the world axis its direction column points along:

* NIfTI: the affine nibabel chooses (``img.affine``: the sform when its code is set,
  else the qform, else the pixdim scaling - nibabel's documented rule).
* ITK: the image's ``Direction``, ``Spacing`` and ``Origin``.

Pixel sizes are the lengths of the direction columns; the translation of an axis is the
origin's coordinate along the world axis it follows, signed so that it grows in the
direction of the orientation (so that after :func:`ngff.reorient` positions match the
world coordinates of the file).

When the direction is oblique (an axis more than 1 degree off the world axis it is
nearest to), an :class:`~ngff.errors.OrientationWarning` is issued and the data are kept
as stored: RFC-4 orientation "MUST only be used" when the subject "is roughly aligned to
the imaging axes", so each axis gets its nearest world direction while every axis is
within 45 degrees of it (and the axes pick distinct world axes), and no orientation
otherwise.  The rotation itself is not representable in OME-Zarr 0.4/0.5 and is lost.
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import NgffError, OrientationWarning, StoreError
from .source import FileArray, SourceImage, axis_names, canonical_order

__all__ = [
    "ALIGNED_DEGREES",
    "ROUGHLY_ALIGNED_DEGREES",
    "axis_orientations",
    "open_itk",
    "open_itk_pixels",
    "open_nifti",
    "open_nifti_pixels",
]

#: An axis this close to a world axis counts as aligned (rounding in stored matrices).
ALIGNED_DEGREES = 1.0
#: Beyond this an axis is not "roughly aligned" and no orientation is written.
ROUGHLY_ALIGNED_DEGREES = 45.0

#: World axis (0, 1, 2) and sign -> RFC-4 term, per world convention.
_WORLD_TERMS = {
    "RAS": (
        ("right-to-left", "left-to-right"),
        ("anterior-to-posterior", "posterior-to-anterior"),
        ("superior-to-inferior", "inferior-to-superior"),
    ),
    "LPS": (
        ("left-to-right", "right-to-left"),
        ("posterior-to-anterior", "anterior-to-posterior"),
        ("superior-to-inferior", "inferior-to-superior"),
    ),
}

#: NIfTI xyzt unit names (nibabel's) -> OME-Zarr units.
_NIFTI_UNITS = {
    "meter": "meter",
    "mm": "millimeter",
    "micron": "micrometer",
    "sec": "second",
    "msec": "millisecond",
    "usec": "microsecond",
}


def axis_orientations(
    columns: np.ndarray, origin: np.ndarray, world: str, where: str
) -> tuple[list[str | None], list[float], list[float]]:
    """Orientation, pixel size and translation of each voxel axis.

    Parameters
    ----------
    columns
        ``(3, n)`` matrix whose column ``k`` is voxel axis ``k``'s step in world
        coordinates (direction times spacing); ``n`` may be 2 or 3.
    origin
        World position of the first voxel.
    world
        ``"RAS"`` (NIfTI) or ``"LPS"`` (ITK).
    where
        The file, for warnings.

    Returns
    -------
    orientations, spacing, translation
        One entry per voxel axis; orientations are None when the grid is too oblique.
    """
    columns = np.asarray(columns, dtype=float)
    n = columns.shape[1]
    spacing = [float(np.linalg.norm(columns[:, k])) or 1.0 for k in range(n)]
    terms: list[str | None] = []
    shifts: list[float] = []
    worst = 0.0
    used: set[int] = set()
    for k in range(n):
        unit = columns[:, k] / spacing[k]
        w = int(np.argmax(np.abs(unit)))
        sign = 1 if unit[w] > 0 else -1
        angle = float(np.degrees(np.arccos(min(1.0, abs(float(unit[w]))))))
        worst = max(worst, angle)
        used.add(w)
        terms.append(_WORLD_TERMS[world][w][sign > 0])
        shifts.append(float(sign * origin[w]) + 0.0)
    if worst > ALIGNED_DEGREES:
        keep = worst <= ROUGHLY_ALIGNED_DEGREES and len(used) == n
        warnings.warn(
            f"{where}: the voxel axes are oblique (up to {worst:.1f} degrees from the {world} "
            "world axes); the data are kept as stored and "
            + (
                "each axis gets the orientation of its nearest world axis"
                if keep
                else "no orientation is written (RFC-4: only for subjects roughly aligned to the imaging axes)"
            ),
            OrientationWarning,
            stacklevel=3,
        )
        if not keep:
            terms = [None] * n
    return terms, spacing, shifts


def _space_names(n: int) -> tuple[str, ...]:
    return ("x", "y", "z")[:n]


def _source(
    path: Path,
    kind: str,
    file_shape: tuple[int, ...],
    dtype: np.dtype,
    file_dims: tuple[str, ...],
    dims: Any,
    info: dict[str, dict[str, Any]],
) -> SourceImage:
    """A SourceImage over ``file_dims`` (or the user's ``dims``) with per-axis metadata."""
    names = axis_names(dims, len(file_shape)) if dims is not None else file_dims
    # Metadata follows the file's axes; a user's renaming keeps it with the same positions.
    rename = dict(zip(file_dims, names))
    order = canonical_order(names)
    data = FileArray(kind, path, file_shape, dtype, order)
    out_dims = tuple(names[i] for i in order)

    def per_axis(key: str) -> dict[str, Any] | None:
        values = {rename[d]: v[key] for d, v in info.items() if v.get(key) is not None}
        return values or None

    orientation = per_axis("orientation")
    options: dict[str, Any] = {}
    if orientation and all(n in orientation for n in out_dims if n in ("x", "y", "z")):
        options["orientation"] = orientation
    stem = path.name
    for suffix in (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return SourceImage(
        data=data,
        dims=out_dims,
        scale=per_axis("scale"),
        units=per_axis("unit"),
        name=stem,
        translation=per_axis("translation"),
        write_options=options,
    )


# --------------------------------------------------------------------------- NIfTI


def _load_nifti(path: Path) -> Any:
    try:
        import nibabel
    except ImportError as exc:  # pragma: no cover - the registry checks first
        raise NgffError(
            "reading NIfTI needs nibabel: pip install 'napari-ngff[medical]'", location=str(path)
        ) from exc
    try:
        return nibabel.load(str(path))
    except FileNotFoundError as exc:
        raise StoreError("no such file", location=str(path)) from exc
    except Exception as exc:  # nibabel raises ImageFileError, HeaderDataError, OSError ...
        raise NgffError(f"not a readable NIfTI file: {exc}", location=str(path), rule="NIfTI-1/2") from exc


class _TemporaryCopy:
    """A decompressed copy of a ``.nii.gz``, removed when the pixels are closed (or at exit)."""

    def __init__(self, source: Path):
        import atexit
        import gzip
        import shutil
        import tempfile

        self.folder = Path(tempfile.mkdtemp(prefix="ngff-nifti-"))
        self.path = self.folder / (source.name[: -len(".gz")] if source.name.endswith(".gz") else f"{source.name}.nii")
        try:
            with gzip.open(source, "rb") as packed, open(self.path, "wb") as plain:
                shutil.copyfileobj(packed, plain, 16 << 20)
        except (OSError, EOFError) as exc:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise StoreError(f"cannot decompress: {exc}", location=str(source)) from exc
        atexit.register(shutil.rmtree, self.folder, True)

    def close(self) -> None:
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)


def _gzipped(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def open_nifti_pixels(path: Path, series: int, options: dict[str, Any]) -> Any:
    """The voxels of a NIfTI file in file axis order (``i, j, k[, t]``), read by region.

    A ``.nii.gz`` is first decompressed once into a temporary ``.nii`` (in ``$TMPDIR``)
    that is memory-mapped: gzip streams cannot seek, so reading one region after another
    from the compressed file would decompress it again and again (measured: 1.5x the
    time at 4 regions, growing with the file).  The copy goes when the source is closed.
    """
    if _gzipped(path):
        copy = _TemporaryCopy(path)
        return _load_nifti(copy.path).dataobj, copy
    return _load_nifti(path).dataobj


def open_nifti(path: Path, *, series: int = 0, dims: Any = None) -> SourceImage:
    """Open a NIfTI-1/2 volume lazily with its orientation, voxel size and origin.

    Axes: ``i, j, k`` become ``x, y, z`` and a fourth axis ``t`` (its step the
    NIfTI ``pixdim[4]`` in the file's time unit).  Intensity scaling
    (``scl_slope``/``scl_inter``) is applied as nibabel applies it.
    """
    img = _load_nifti(path)
    shape = tuple(int(n) for n in img.shape)
    if not 2 <= len(shape) <= 4:
        raise NgffError(
            f"a {len(shape)}-D NIfTI volume; converted are 2-D to 4-D (x, y, z, t)",
            location=str(path),
            rule="input format",
        )
    proxy = img.dataobj
    probe = np.asarray(proxy[(slice(0, 1),) * len(shape)])  # the dtype after scaling
    if probe.dtype.kind not in "biuf":
        raise NgffError(
            f"voxels of dtype {probe.dtype} cannot be stored as an image", location=str(path)
        )
    n_space = min(len(shape), 3)
    affine = np.asarray(img.affine, dtype=float)
    terms, spacing, shifts = axis_orientations(affine[:3, :n_space], affine[:3, 3], "RAS", str(path))
    space_unit, time_unit = img.header.get_xyzt_units()
    info: dict[str, dict[str, Any]] = {}
    for k, name in enumerate(_space_names(n_space)):
        info[name] = {
            "orientation": terms[k],
            "scale": spacing[k],
            "translation": shifts[k],
            "unit": _NIFTI_UNITS.get(space_unit),
        }
    file_dims = _space_names(n_space)
    if len(shape) == 4:
        zooms = img.header.get_zooms()
        step = float(zooms[3]) if len(zooms) > 3 and zooms[3] > 0 else 1.0
        info["t"] = {"scale": step, "unit": _NIFTI_UNITS.get(time_unit)}
        file_dims = (*file_dims, "t")
    return _source(path, "ngff.convert.medical:open_nifti_pixels", shape, probe.dtype, file_dims, dims, info)


# --------------------------------------------------------------------------- ITK (NRRD, MetaImage)


class _ItkRegions:
    """SimpleITK reads of one file by region, as an array in ``z, y, x[, c]`` order.

    ITK streams the region from formats that support it (MetaImage, raw NRRD) and
    reads the whole file and crops otherwise.
    """

    def __init__(self, path: Path):
        import SimpleITK as sitk

        self._sitk = sitk
        self.path = path
        self._lock = threading.Lock()
        reader = sitk.ImageFileReader()
        reader.SetFileName(str(path))
        try:
            reader.ReadImageInformation()
        except RuntimeError as exc:
            raise NgffError(f"not a readable ITK image: {_first_line(exc)}", location=str(path)) from exc
        self.size = tuple(int(n) for n in reader.GetSize())  # i, j, k
        self.components = int(reader.GetNumberOfComponents())
        self.direction = np.asarray(reader.GetDirection(), dtype=float).reshape(len(self.size), len(self.size))
        self.spacing = np.asarray(reader.GetSpacing(), dtype=float)
        self.origin = np.asarray(reader.GetOrigin(), dtype=float)
        self.shape = tuple(reversed(self.size)) + ((self.components,) if self.components > 1 else ())
        self.ndim = len(self.shape)
        probe = self[(slice(0, 1),) * self.ndim]
        self.dtype = probe.dtype

    def __getitem__(self, index: tuple[slice, ...]) -> np.ndarray:
        sitk = self._sitk
        spatial = len(self.size)
        bounds = [s.indices(n) for s, n in zip(index, self.shape)]
        start = [b[0] for b in bounds[:spatial]][::-1]  # back to i, j, k
        stop = [b[1] for b in bounds[:spatial]][::-1]
        count = [max(0, b - a) for a, b in zip(start, stop)]
        if 0 in count:
            empty = [max(0, b[1] - b[0]) for b in bounds]
            return np.zeros(empty, dtype=getattr(self, "dtype", np.uint8))
        with self._lock:  # ITK readers are not shared between threads
            reader = sitk.ImageFileReader()
            reader.SetFileName(str(self.path))
            reader.SetExtractIndex(start)
            reader.SetExtractSize(count)
            try:
                block = sitk.GetArrayFromImage(reader.Execute())
            except RuntimeError as exc:
                raise StoreError(f"cannot read: {_first_line(exc)}", location=str(self.path)) from exc
        steps = tuple(slice(None, None, b[2]) for b in bounds[:spatial])
        block = block[steps]
        if self.components > 1:
            c = bounds[spatial]
            block = block[..., c[0] : c[1] : c[2]]
        return block


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def open_itk_pixels(path: Path, series: int, options: dict[str, Any]) -> Any:
    """Voxels of an NRRD/MHA/MHD file in ``z, y, x[, c]`` order, read by region."""
    return _ItkRegions(path)


def open_itk(path: Path, *, series: int = 0, dims: Any = None) -> SourceImage:
    """Open an NRRD (``.nrrd``, ``.nhdr``) or MetaImage (``.mha``, ``.mhd``) volume.

    Axes ``i, j, k`` become ``x, y, z`` with their LPS+ orientation, spacing (taken as
    millimetres, ITK's patient convention) and origin; vector pixels give a ``c`` axis.
    """
    try:
        regions = _ItkRegions(path)
    except ImportError as exc:  # pragma: no cover - the registry checks first
        raise NgffError(
            "reading NRRD/MetaImage needs SimpleITK: pip install 'napari-ngff[medical]'",
            location=str(path),
        ) from exc
    n_space = len(regions.size)
    if n_space not in (2, 3):
        raise NgffError(
            f"a {n_space}-D ITK image; converted are 2-D and 3-D volumes",
            location=str(path),
            rule="input format",
        )
    if regions.dtype.kind not in "biuf":
        raise NgffError(f"voxels of dtype {regions.dtype} cannot be stored as an image", location=str(path))
    columns = regions.direction * regions.spacing[np.newaxis, :]
    if n_space == 2:  # a 2-D direction lives in the x-y plane of LPS
        columns = np.vstack([columns, np.zeros((1, 2))])
        origin = np.append(regions.origin, 0.0)
    else:
        origin = regions.origin
    terms, spacing, shifts = axis_orientations(columns, origin, "LPS", str(path))
    names = _space_names(n_space)
    info = {
        name: {"orientation": terms[k], "scale": spacing[k], "translation": shifts[k], "unit": "millimeter"}
        for k, name in enumerate(names)
    }
    file_dims = tuple(reversed(names)) + (("c",) if regions.components > 1 else ())
    return _source(
        path,
        "ngff.convert.medical:open_itk_pixels",
        regions.shape,
        regions.dtype,
        file_dims,
        dims,
        info,
    )
