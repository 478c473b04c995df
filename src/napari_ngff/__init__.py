"""napari-ngff: the napari plugin of the ngff OME-Zarr toolkit.

The plugin is a thin adapter over :mod:`ngff`; its contributions are declared in
``napari.yaml`` (found by npe2 through the ``napari.manifest`` entry point).
"""

__version__ = "0.1.0"
