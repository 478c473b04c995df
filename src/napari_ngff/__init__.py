"""napari-ngff: the napari plugin of the ngff OME-Zarr toolkit.

The plugin is a thin adapter over :mod:`ngff`; its contributions are declared in
``napari.yaml`` (found by npe2 through the ``napari.manifest`` entry point):

* ``_reader`` — reader contribution (``get_reader``), with ``_layers`` (OME-Zarr metadata
  <-> napari layer keyword arguments) and ``_plate`` (lazy plate mosaic);
* ``_writer`` — writer contribution (image and labels layers to OME-Zarr);
* ``_sample`` — sample data written to a temporary store and read back;
* ``_widgets.export`` — the export dock widget;
* ``_options`` — export options and their defaults (the manifest's ``configurations``).

See ``docs/napari.md``.
"""

__version__ = "0.1.0"
