"""RFC-4 orientation between ngff and ngff-zarr (the reference writer of RFC-4), both ways."""

from __future__ import annotations

import numpy as np
import pytest

import ngff
from ngff.orientation import code_of

ngff_zarr = pytest.importorskip("ngff_zarr")
pytestmark = pytest.mark.interop


@pytest.mark.parametrize("version", ["0.4", "0.5"])
@pytest.mark.parametrize("code", ["LPS", "RAS", "PIR"])
def test_ngff_zarr_reads_our_orientation(tmp_path, version, code):
    target = tmp_path / "a.ome.zarr"
    written = ngff.write(np.zeros((4, 6, 8), np.uint8), target, version=version, orientation=code)
    multiscales = ngff_zarr.from_ngff_zarr(str(target))
    theirs = {
        name: getattr(value.value, "value", value.value)
        for name, value in multiscales.images[0].axes_orientations.items()
    }
    assert theirs == {a.name: a.orientation for a in written.axes}


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_we_read_ngff_zarr_orientation(tmp_path, version):
    from ngff_zarr import AnatomicalOrientation, AnatomicalOrientationValues

    image = ngff_zarr.to_ngff_image(np.zeros((4, 6, 8), np.uint8), dims=["z", "y", "x"])
    image.axes_orientations = {
        "x": AnatomicalOrientation(type="anatomical", value=AnatomicalOrientationValues.right_to_left),
        "y": AnatomicalOrientation(type="anatomical", value=AnatomicalOrientationValues.anterior_to_posterior),
        "z": AnatomicalOrientation(type="anatomical", value=AnatomicalOrientationValues.inferior_to_superior),
    }
    target = tmp_path / "theirs.ome.zarr"
    ngff_zarr.to_ngff_zarr(str(target), ngff_zarr.to_multiscales(image, scale_factors=[2]), version=version)
    ours = ngff.read(target)
    assert code_of(ours.axes) == "LPS"
    view = ngff.reorient(ours, "RAS")
    assert code_of(view.axes) == "RAS" and view.shape == ours.shape
