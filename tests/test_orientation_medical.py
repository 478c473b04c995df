"""NIfTI / NRRD / MetaImage conversion: direction matrices -> RFC-4 orientation.

Each volume is made here with nibabel or SimpleITK with a known, non-identity direction;
after conversion the orientation values must be right and ``reorient(..., "RAS")`` must
give the same voxel at the same anatomical position as nibabel's canonical (RAS+)
reorientation.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ngff
from ngff import NgffError
from ngff.convert import convert
from ngff.errors import OrientationWarning
from ngff.orientation import code_of

nib = pytest.importorskip("nibabel")


def _check_against_canonical(image: ngff.Image, canonical) -> None:
    """Same voxels at the same RAS+ positions as nibabel's canonical image."""
    view = ngff.reorient(image, "RAS")
    assert code_of(view.axes) == "RAS"
    expected = np.asanyarray(canonical.dataobj)
    got = view.levels[0].compute()
    # Canonical data are indexed (i, j, k) = (x, y, z); ours are stored z, y, x.
    np.testing.assert_array_equal(got, expected.transpose(2, 1, 0))
    rng = np.random.default_rng(3)
    for _ in range(20):
        ijk = [int(rng.integers(0, n)) for n in expected.shape]
        world = canonical.affine @ np.array([*ijk, 1.0])
        ours = [
            view.scales[0][2 - axis] * ijk[axis] + view.translations[0][2 - axis] for axis in range(3)
        ]
        np.testing.assert_allclose(ours, world[:3], atol=1e-9)


#: Axis-aligned affines (RAS+ world): every voxel axis permuted and/or flipped.
AFFINES = {
    "permuted-flipped": np.array([[0, 0, -1.5, 10], [-2.0, 0, 0, 20], [0, 3.0, 0, -5], [0, 0, 0, 1]]),
    "LAS": np.diag([-2.0, 2.0, 2.0, 1.0]),
    "PIR": np.array([[0, 0, 1.0, -7], [-1.0, 0, 0, 3], [0, -1.0, 0, 4], [0, 0, 0, 1]]),
}


@pytest.mark.parametrize("name", sorted(AFFINES))
def test_nifti_orientation_and_canonical_agreement(tmp_path, name):
    affine = AFFINES[name]
    data = np.random.default_rng(0).integers(-1000, 1000, size=(6, 7, 8)).astype(np.int16)
    source = tmp_path / "vol.nii.gz"
    img = nib.Nifti1Image(data, affine)
    img.header.set_xyzt_units("mm")
    nib.save(img, source)
    image = convert(source, tmp_path / "vol.ome.zarr")
    expected_code = "".join(nib.aff2axcodes(affine))  # letters of voxel axes i, j, k
    assert code_of(image.axes) == expected_code
    assert [a.unit for a in image.axes] == ["millimeter"] * 3
    np.testing.assert_allclose(image.scales[0], np.linalg.norm(affine[:3, :3], axis=0)[::-1])
    assert ngff.validate(tmp_path / "vol.ome.zarr").ok
    _check_against_canonical(image, nib.as_closest_canonical(nib.load(source)))


def test_nifti_manifest_cases_tc08_tc09(tmp_path):
    # fideus-labs manifest TC-08 (LAS) and TC-09 (RAS): expected i, j, k orientations.
    cases = {
        "las": (np.diag([-2.0, 2.0, 2.0, 1.0]), ["right-to-left", "posterior-to-anterior", "inferior-to-superior"]),
        "ras": (np.diag([2.0, 2.0, 2.0, 1.0]), ["left-to-right", "posterior-to-anterior", "inferior-to-superior"]),
    }
    for name, (affine, ijk) in cases.items():
        nib.save(nib.Nifti1Image(np.zeros((4, 4, 4), np.uint8), affine), tmp_path / f"{name}.nii")
        image = convert(tmp_path / f"{name}.nii", tmp_path / f"{name}.ome.zarr")
        by_name = {a.name: a.orientation for a in image.axes}
        assert [by_name["x"], by_name["y"], by_name["z"]] == ijk


def test_nifti_4d_gets_a_time_axis(tmp_path):
    data = np.arange(3 * 4 * 5 * 2, dtype=np.float32).reshape(3, 4, 5, 2)
    img = nib.Nifti1Image(data, np.diag([1.0, -1.0, 1.0, 1.0]))
    img.header.set_xyzt_units("mm", "sec")
    img.header.set_zooms((1.0, 1.0, 1.0, 2.5))
    nib.save(img, tmp_path / "bold.nii.gz")
    image = convert(tmp_path / "bold.nii.gz", tmp_path / "bold.ome.zarr")
    assert image.dims == ("t", "z", "y", "x")
    assert image.axes[0].unit == "second" and image.scales[0][0] == 2.5
    assert image.axes[0].orientation is None and code_of(image.axes) == "RPS"
    np.testing.assert_array_equal(image.levels[0].compute(), data.transpose(3, 2, 1, 0))


def test_nifti_scaling_is_applied(tmp_path):
    img = nib.Nifti1Image(np.arange(27, dtype=np.int16).reshape(3, 3, 3), np.eye(4))
    img.header.set_slope_inter(0.5, 10.0)
    nib.save(img, tmp_path / "scaled.nii")
    image = convert(tmp_path / "scaled.nii", tmp_path / "scaled.ome.zarr")
    expected = np.asanyarray(nib.load(tmp_path / "scaled.nii").dataobj)
    np.testing.assert_allclose(image.levels[0].compute(), expected.transpose(2, 1, 0))


def _rotation(degrees: float) -> np.ndarray:
    t = np.radians(degrees)
    return np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1.0]])


def test_oblique_nifti_warns_and_keeps_the_data(tmp_path):
    # SC-04 of the RFC-4 suite: axes 30 degrees off -> a "not roughly aligned" warning.
    affine = np.eye(4)
    affine[:3, :3] = _rotation(30)
    data = np.random.default_rng(1).integers(0, 255, size=(5, 6, 7)).astype(np.uint8)
    nib.save(nib.Nifti1Image(data, affine), tmp_path / "oblique.nii.gz")
    with pytest.warns(OrientationWarning, match="oblique .*30.0 degrees"):
        image = convert(tmp_path / "oblique.nii.gz", tmp_path / "oblique.ome.zarr")
    np.testing.assert_array_equal(image.levels[0].compute(), data.transpose(2, 1, 0))
    assert code_of(image.axes) == "RAS"  # nearest world axes
    # 60 degrees about the diagonal: every axis 48 degrees off, no longer roughly aligned.
    axis = np.ones(3) / np.sqrt(3)
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    t = np.radians(60)
    affine[:3, :3] = np.eye(3) + np.sin(t) * cross + (1 - np.cos(t)) * cross @ cross
    nib.save(nib.Nifti1Image(data, affine), tmp_path / "tilted.nii.gz")
    with pytest.warns(OrientationWarning, match="no orientation is written"):
        image = convert(tmp_path / "tilted.nii.gz", tmp_path / "tilted.ome.zarr")
    assert all(a.orientation is None for a in image.axes)
    np.testing.assert_array_equal(image.levels[0].compute(), data.transpose(2, 1, 0))


def test_tiny_rounding_is_not_oblique(tmp_path):
    affine = np.eye(4)
    affine[:3, :3] = _rotation(0.2)
    nib.save(nib.Nifti1Image(np.zeros((3, 3, 3), np.uint8), affine), tmp_path / "near.nii")
    with warnings.catch_warnings():
        warnings.simplefilter("error", OrientationWarning)
        image = convert(tmp_path / "near.nii", tmp_path / "near.ome.zarr")
    assert code_of(image.axes) == "RAS"


def test_not_a_nifti_file_is_an_ngff_error(tmp_path):
    bad = tmp_path / "bad.nii"
    bad.write_bytes(b"\x00" * 400)
    with pytest.raises(NgffError, match="bad.nii"):
        convert(bad, tmp_path / "bad.ome.zarr")
    assert not (tmp_path / "bad.ome.zarr").exists()


# ----------------------------------------------------------------------------- ITK formats

#: Direction matrices (LPS+ world, columns = voxel axes i, j, k) and their codes.
DIRECTIONS = {
    "SRP": (np.array([[0, -1, 0], [0, 0, 1], [1, 0, 0]], float), "SRP"),
    "LPS": (np.eye(3), "LPS"),
    "RAI": (np.diag([-1.0, -1.0, -1.0]), "RAI"),
}


@pytest.mark.parametrize("suffix", [".nrrd", ".mha", ".mhd"])
@pytest.mark.parametrize("name", sorted(DIRECTIONS))
def test_itk_orientation_and_canonical_agreement(tmp_path, suffix, name):
    sitk = pytest.importorskip("SimpleITK")
    direction, code = DIRECTIONS[name]
    data = np.random.default_rng(2).integers(0, 60000, size=(5, 6, 7)).astype(np.uint16)  # k, j, i
    spacing, origin = (0.5, 1.0, 2.0), (3.0, -4.0, 5.0)
    itk = sitk.GetImageFromArray(data)
    itk.SetDirection(direction.flatten().tolist())
    itk.SetSpacing(spacing)
    itk.SetOrigin(origin)
    source = tmp_path / f"vol{suffix}"
    sitk.WriteImage(itk, str(source))
    image = convert(source, tmp_path / "vol.ome.zarr", chunks=(2, 3, 4))  # several regions read
    assert code_of(image.axes) == code
    assert image.scales[0] == (2.0, 1.0, 0.5)
    assert [a.unit for a in image.axes] == ["millimeter"] * 3
    np.testing.assert_array_equal(image.levels[0].compute(), data)
    # The same volume as nibabel sees it: RAS+ affine = diag(-1, -1, 1) @ LPS+ affine.
    lps = np.eye(4)
    lps[:3, :3] = direction * np.array(spacing)
    lps[:3, 3] = origin
    ras = np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps
    canonical = nib.as_closest_canonical(nib.Nifti1Image(data.transpose(2, 1, 0), ras))
    _check_against_canonical(image, canonical)


def test_itk_vector_pixels_become_channels(tmp_path):
    sitk = pytest.importorskip("SimpleITK")
    data = np.random.default_rng(4).integers(0, 255, size=(4, 5, 6, 3)).astype(np.uint8)
    itk = sitk.GetImageFromArray(data, isVector=True)
    sitk.WriteImage(itk, str(tmp_path / "rgb.mha"))
    image = convert(tmp_path / "rgb.mha", tmp_path / "rgb.ome.zarr")
    assert image.dims == ("c", "z", "y", "x")
    assert code_of(image.axes) == "LPS"
    np.testing.assert_array_equal(image.levels[0].compute(), data.transpose(3, 0, 1, 2))


def test_itk_2d_image(tmp_path):
    sitk = pytest.importorskip("SimpleITK")
    data = np.arange(30, dtype=np.float32).reshape(5, 6)
    itk = sitk.GetImageFromArray(data)
    itk.SetDirection((-1.0, 0.0, 0.0, 1.0))
    sitk.WriteImage(itk, str(tmp_path / "slice.nrrd"))
    image = convert(tmp_path / "slice.nrrd", tmp_path / "slice.ome.zarr")
    assert image.dims == ("y", "x")
    assert {a.name: a.orientation for a in image.axes} == {
        "x": "left-to-right",
        "y": "anterior-to-posterior",
    }


def test_cli_convert_nifti(tmp_path):
    from typer.testing import CliRunner

    from ngff.cli import app

    nib.save(nib.Nifti1Image(np.ones((4, 5, 6), np.uint8), np.diag([-1.0, -1.0, 1.0, 1.0])), tmp_path / "a.nii.gz")
    out = tmp_path / "a.ome.zarr"
    result = CliRunner().invoke(app, ["convert", str(tmp_path / "a.nii.gz"), str(out)])
    assert result.exit_code == 0, result.output
    info = CliRunner().invoke(app, ["info", str(out)])
    assert "orientation: LPS" in info.output
    assert "right-to-left" in info.output


def test_gzipped_nifti_temporary_copy_is_removed(tmp_path, monkeypatch):
    import tempfile

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    data = np.random.default_rng(5).integers(0, 255, size=(16, 12, 10)).astype(np.uint8)
    nib.save(nib.Nifti1Image(data, np.diag([-1.0, 1.0, 1.0, 1.0])), tmp_path / "v.nii.gz")
    image = convert(tmp_path / "v.nii.gz", tmp_path / "v.ome.zarr", chunks=(4, 4, 4))
    np.testing.assert_array_equal(image.levels[0].compute(), data.transpose(2, 1, 0))
    assert list(scratch.iterdir()) == []  # the decompressed copy is gone


def test_cli_convert_orientation_option_overrides_the_file(tmp_path):
    from typer.testing import CliRunner

    from ngff.cli import app

    nib.save(nib.Nifti1Image(np.ones((4, 5, 6), np.uint8), np.diag([-1.0, -1.0, 1.0, 1.0])), tmp_path / "a.nii")
    runner = CliRunner()
    out = tmp_path / "a.ome.zarr"
    result = runner.invoke(app, ["convert", str(tmp_path / "a.nii"), str(out), "--orientation", "z=I,y=A,x=R"])
    assert result.exit_code == 0, result.output
    assert code_of(ngff.read(out).axes) == "RAI"
    bad = runner.invoke(app, ["convert", str(tmp_path / "a.nii"), str(tmp_path / "b.ome.zarr"), "--orientation", "RRS"])
    assert bad.exit_code == 2 and not (tmp_path / "b.ome.zarr").exists()
