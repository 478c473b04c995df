"""The sample-data contribution goes through the real write and read path."""

from __future__ import annotations

import numpy as np
import pytest
from viewer_helpers import PLUGIN, background, canvas, data_fraction

import ngff
from napari_ngff import _sample


@pytest.fixture
def small_sample(monkeypatch):
    monkeypatch.setattr(_sample, "SHAPE", (8, 64, 64))


def test_sample_opens_from_a_written_store(viewer, small_sample):
    bg = background(viewer)
    layers = viewer.open_sample(PLUGIN, "pyramid")
    assert [(layer.name, layer._type_string) for layer in layers] == [
        ("red", "image"),
        ("green", "image"),
        ("blue", "image"),
        ("cells", "labels"),
    ]
    store = _sample.sample_store()
    assert layers[0].metadata["ngff"]["location"] == str(store)
    assert ngff.validate(store).ok
    image = ngff.read(store)
    np.testing.assert_array_equal(
        np.asarray(layers[0].data[0] if layers[0].multiscale else layers[0].data),
        image.levels[0][0].compute(),
    )
    assert layers[3].visible  # the demo shows its labels
    assert [str(u) for u in layers[0].units] == ["micrometer"] * 3
    assert tuple(layers[0].scale) == pytest.approx((2.0, 0.5, 0.5))
    assert data_fraction(canvas(viewer), bg) > 0.2


def test_sample_store_is_written_once(small_sample):
    first = _sample.sample_store()
    stamp = (first / "zarr.json").stat().st_mtime_ns
    assert _sample.sample_store() == first
    assert (first / "zarr.json").stat().st_mtime_ns == stamp
