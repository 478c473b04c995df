"""Walk an OME-Zarr hierarchy and validate every node its metadata points to.

From the root group the walk follows the metadata: multiscale datasets (arrays), the
``labels`` group and each label image, plate -> wells -> fields, and bioformats2raw
series.  Each group's attributes are checked by :func:`ngff.validation.attrs.check_attrs`;
what only the store can tell (nodes missing or of the wrong type, array shapes and
dtypes, versions agreeing across the hierarchy) is checked here.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..errors import InvalidMetadataError
from ..spec import Spec, has_ome_keys
from ..store import NodeDocument, Store, join, open_store
from .arrays import Level, check_level_array, check_levels
from .attrs import GroupCheck, check_attrs
from .hcs import PlateInfo, WellInfo, check_field_counts
from .multiscales import MultiscaleInfo
from .report import Findings, Report
from .vocab import is_integer_dtype

if TYPE_CHECKING:  # jsonschema is an optional extra, imported only when asked for
    from .schemas import SchemaChecker

__all__ = ["validate"]


class _Walker:
    """State of one validation walk: the store, the findings, nodes already read."""

    def __init__(
        self, store: Store, f: Findings, schemas: SchemaChecker | None = None, strict: bool = False
    ):
        self.store = store
        self.f = f
        self.schemas = schemas
        self.strict = strict
        self.nodes: dict[str, NodeDocument | None] = {}
        self.broken: set[str] = set()
        self.visited: set[str] = set()

    # ------------------------------------------------------------------ nodes

    def node(self, key: str) -> NodeDocument | None:
        """The node at ``key`` (cached); None when absent or unreadable (then reported)."""
        key = join(key)
        if key not in self.nodes:
            try:
                self.nodes[key] = self.store.node(key)
            except InvalidMetadataError as exc:
                self.broken.add(key)
                self.f.at(key).error("", "zarr.metadata", exc.message)
                self.nodes[key] = None
        return self.nodes[key]

    def group(self, key: str, rule_prefix: str, what: str) -> NodeDocument | None:
        """The group at ``key``, reporting ``<prefix>.missing`` / ``<prefix>.not-group``."""
        node = self.node(key)
        if node is None:
            if key not in self.broken:
                self.f.at(key).error(
                    "", f"{rule_prefix}.missing", f"the {what} {key!r} does not exist"
                )
            return None
        if node.node_type != "group":
            self.f.at(key).error(
                "",
                f"{rule_prefix}.not-group",
                f"the {what} {key!r} MUST be a Zarr group, found an array",
            )
            return None
        return node

    # ------------------------------------------------------------------ groups

    def check_group(self, node: NodeDocument, parent: Spec | None) -> GroupCheck:
        """Check a group's OME attributes and their agreement with the hierarchy."""
        fk = self.f.at(node.path)
        checked = check_attrs(
            node.attributes,
            fk,
            zarr_format=node.zarr_format,
            default_version=parent.version if parent is not None else None,
        )
        spec = checked.spec
        if spec is not None and parent is not None and spec.version != parent.version:
            message = f"this group is OME-Zarr {spec.version} inside a {parent.version} hierarchy"
            if spec.hierarchy_version_consistent or parent.hierarchy_version_consistent:
                fk.error(
                    "",
                    "version.consistent",
                    "the OME-Zarr Metadata version MUST be consistent within a hierarchy; "
                    + message,
                )
            else:
                fk.warn("", "version.consistent", message)
        if self.schemas is not None and spec is not None and checked.kind is not None:
            self.schemas.check(node.attributes, spec, checked.keys, fk, strict=self.strict)
        return checked

    def walk_group(self, node: NodeDocument, checked: GroupCheck) -> None:
        """Follow whatever the group's metadata points to."""
        if node.path in self.visited or checked.spec is None:
            return
        self.visited.add(node.path)
        spec = checked.spec
        if "image-label" in checked.keys and "multiscales" not in checked.keys:
            self.f.at(node.path).error(
                "",
                "label.no-multiscales",
                "`image-label` groups MUST also contain `multiscales` metadata",
            )
        if checked.multiscales:
            # A label image checked on its own: its arrays, without an image to compare to.
            is_label = "image-label" in checked.keys
            self.walk_image(node, checked, label_of=[] if is_label else None)
        if checked.plate is not None:
            self.walk_plate(node, checked.plate, spec)
        elif "bioformats2raw.layout" in checked.keys:
            self.walk_collection(node, spec)
        if checked.well is not None:
            self.walk_well(node, checked.well, spec, plate=None)
        if checked.labels is not None and not checked.multiscales:
            self.walk_labels(node.path, checked.labels, spec, image=None)

    # ------------------------------------------------------------------ images

    def walk_image(
        self, node: NodeDocument, checked: GroupCheck, label_of: list[Level] | None
    ) -> list[Level]:
        """Check the level arrays of every multiscale; return the levels of the first."""
        spec = checked.spec
        if spec is None:
            return []
        fk = self.f.at(node.path)
        first: list[Level] = []
        for m, info in enumerate(checked.multiscales):
            levels = self.check_datasets(node, info, spec)
            check_levels(levels, fk)
            if m == 0:
                first = levels
                self.check_channels(info, levels, checked.channels, fk)
        if label_of is not None:
            self.check_label_arrays(first, label_of, spec)
        else:
            head = checked.multiscales[0] if checked.multiscales else None
            self.walk_labels_group(join(node.path, "labels"), spec, (first, head))
        return first

    def check_datasets(self, node: NodeDocument, info: MultiscaleInfo, spec: Spec) -> list[Level]:
        """The level arrays of one multiscale: present, arrays, matching the axes."""
        levels = []
        for path in info.paths:
            key = join(node.path, path)
            array = self.node(key)
            if array is None:
                if key not in self.broken:
                    self.f.at(key).error(
                        "", "dataset.missing", f"the dataset path {path!r} has no Zarr array"
                    )
                continue
            if array.node_type != "array":
                self.f.at(key).error(
                    "",
                    "dataset.not-array",
                    f"the dataset path {path!r} MUST be a Zarr array, found a group",
                )
                continue
            levels.append(check_level_array(array, info, node.attributes, spec, self.f.at(key)))
        return levels

    @staticmethod
    def check_channels(
        info: MultiscaleInfo, levels: list[Level], channels: int | None, fk: Findings
    ) -> None:
        """``omero.channels`` against the size of the channel axis."""
        # omero "channels": "Array matching the c dimension size".
        if channels is None or info.channel_axis is None or not levels or levels[0].shape is None:
            return
        shape = levels[0].shape
        if info.channel_axis < len(shape) and shape[info.channel_axis] != channels:
            fk.warn(
                "omero.channels",
                "omero.channels-count",
                f"omero lists {channels} channels; the channel axis has {shape[info.channel_axis]}",
            )

    # ------------------------------------------------------------------ labels

    def walk_labels_group(
        self, key: str, spec: Spec, image: tuple[list[Level], MultiscaleInfo | None]
    ) -> None:
        """The ``labels`` group of an image, if there is one, and every label it lists."""
        node = self.node(key)
        if node is None:
            return
        fk = self.f.at(key)
        if node.node_type != "group":
            fk.error(
                "",
                "labels.not-group",
                'the "labels" group under an image MUST be a Zarr group, found an array',
            )
            return
        if not has_ome_keys(node.attributes):
            fk.error("", "labels.key-missing", 'the "labels" group MUST contain the key `labels`')
            return
        checked = self.check_group(node, spec)
        if checked.labels is None:
            fk.error("", "labels.key-missing", 'the "labels" group MUST contain the key `labels`')
            return
        self.walk_labels(key, checked.labels, checked.spec or spec, image)

    def walk_labels(
        self,
        key: str,
        paths: list[str],
        spec: Spec,
        image: tuple[list[Level], MultiscaleInfo | None] | None,
    ) -> None:
        """Each listed label image: a group implementing multiscales, like its image."""
        for path in paths:
            lkey = join(key, path)
            if spec.labels_intermediate_metadata_forbidden:
                self.check_intermediate_groups(key, path)
            node = self.group(lkey, "label", "label image")
            if node is None:
                continue
            if not has_ome_keys(node.attributes):
                self.f.at(lkey).error(
                    "",
                    "label.no-multiscales",
                    "a label image MUST implement the multiscales specification",
                )
                continue
            checked = self.check_group(node, spec)
            if checked.spec is None:
                continue
            if "multiscales" not in checked.keys:
                self.f.at(lkey).error(
                    "",
                    "label.no-multiscales",
                    "a label image MUST implement the multiscales specification",
                )
                continue
            if "image-label" not in checked.keys:
                self.f.at(lkey).warn(
                    "",
                    "label.image-label-missing",
                    "a label image SHOULD contain an `image-label` object",
                )
            self.visited.add(lkey)
            if checked.multiscales:
                self.walk_image(node, checked, label_of=image[0] if image else [])
                if image is not None and image[1] is not None:
                    self.check_label_levels(lkey, checked.multiscales[0], image[1])
        if spec.unlisted_labels_discouraged:
            self.check_unlisted_labels(key, paths)

    def check_intermediate_groups(self, key: str, path: str) -> None:
        """0.5: groups between ``labels`` and a label image carry no OME metadata."""
        parts = [p for p in path.split("/") if p]
        for i in range(1, len(parts)):
            mkey = join(key, *parts[:i])
            node = self.node(mkey)
            if node is not None and has_ome_keys(node.attributes):
                self.f.at(mkey).error(
                    "",
                    "labels.intermediate-metadata",
                    'intermediate groups between "labels" and a label image MUST NOT contain metadata',
                )

    def check_unlisted_labels(self, key: str, paths: list[str]) -> None:
        """0.5: "All label images SHOULD be listed"."""
        listed = {p.strip("/").split("/")[0] for p in paths}
        for name in self.store.list_dir(key):
            if name in listed or name.startswith(".") or name == "zarr.json":
                continue
            node = self.node(join(key, name))
            if node is not None and node.node_type == "group" and has_ome_keys(node.attributes):
                self.f.at(join(key, name)).warn(
                    "", "labels.unlisted", '"All label images SHOULD be listed" in the labels group'
                )

    def check_label_levels(self, key: str, label: MultiscaleInfo, image: MultiscaleInfo) -> None:
        """A label image has as many scale levels as its image (MUST)."""
        if len(label.paths) != len(image.paths):
            self.f.at(key).error(
                "",
                "label.levels",
                f"a label image MUST have the same number of scale levels as its image; {len(label.paths)} vs {len(image.paths)}",
            )

    def check_label_arrays(
        self, levels: list[Level], image_levels: list[Level], spec: Spec
    ) -> None:
        """Dtype and shape of a label image's arrays against its image's."""
        for level in levels:
            if level.dtype is not None and not is_integer_dtype(level.dtype):
                message = f"label pixels MUST be of an integer data type (uint8 ... int64); found {level.dtype}"
                if spec.label_integer_dtype_required:
                    self.f.at(level.key).error("", "label.dtype", message)
                else:
                    self.f.at(level.key).warn(
                        "", "label.dtype", message.replace("MUST", "are expected to")
                    )
        # "Each dimension of the label should be either the same as the corresponding
        # dimension of the image, or 1"; dimensions are aligned from the last one.
        for level, image_level in zip(levels, image_levels):
            a, b = level.shape, image_level.shape
            if a is None or b is None:
                continue
            for n_label, n_image in zip(reversed(a), reversed(b)):
                if n_label not in (n_image, 1):
                    self.f.at(level.key).warn(
                        "",
                        "label.shape",
                        f"label shape {list(a)} does not match image shape {list(b)} (each dimension should equal the image's or be 1)",
                    )
                    break

    # ------------------------------------------------------------------ HCS

    def walk_plate(self, node: NodeDocument, plate: PlateInfo, spec: Spec) -> None:
        """Wells of a plate: row groups, well groups with ``well`` metadata, their fields."""
        seen_rows: set[str] = set()
        listed: dict[str, WellInfo] = {}  # for field_count / maximumfieldcount
        for path in plate.wells:
            wkey = join(node.path, path)
            row = path.split("/")[0]
            if row not in seen_rows and len(path.split("/")) == 2:
                seen_rows.add(row)
                rkey = join(node.path, row)
                if (
                    self.node(rkey) is None
                    and self.node(wkey) is not None
                    and rkey not in self.broken
                ):
                    self.f.at(rkey).error(
                        "",
                        "plate.row-group-missing",
                        "the group above a well (the well row) MUST be a Zarr group",
                    )
            well = self.group(wkey, "well", "well")
            if well is None:
                continue
            if not has_ome_keys(well.attributes):
                self.f.at(wkey).error(
                    "", "well.no-metadata", "a well group MUST implement the well specification"
                )
                continue
            checked = self.check_group(well, spec)
            if checked.well is None:
                if checked.spec is not None:
                    self.f.at(wkey).error(
                        "", "well.no-metadata", "a well group MUST implement the well specification"
                    )
                continue
            self.visited.add(wkey)
            listed[path] = checked.well
            self.walk_well(well, checked.well, checked.spec or spec, plate)
        check_field_counts(plate, listed, self.f.at(node.path))
        used_rows = {p.split("/")[0] for p in plate.wells}
        for name in self.store.list_dir(node.path):
            if (
                name in plate.rows
                and name not in used_rows
                and self.node(join(node.path, name)) is not None
            ):
                self.f.at(join(node.path, name)).warn(
                    "",
                    "plate.empty-row-group",
                    "a well row group SHOULD NOT be present if there are no images in the well row",
                )

    def walk_well(
        self, node: NodeDocument, well: WellInfo, spec: Spec, plate: PlateInfo | None
    ) -> None:
        """Fields of a well, and their acquisitions against the plate's."""
        fk = self.f.at(node.path)
        if plate is not None and plate.acquisitions is not None:
            several = len(plate.acquisitions) > 1
            for i, (path, acquisition) in enumerate(well.images):
                where = f"well.images[{i}]"
                if acquisition is None and several:
                    message = "with several acquisitions in the plate, each field MUST name its `acquisition`"
                    if spec.acquisition_required:
                        fk.error(where, "well.acquisition-required", message)
                    else:
                        fk.warn(
                            where, "well.acquisition-required", message.replace("MUST", "SHOULD")
                        )
                elif acquisition is not None and acquisition not in plate.acquisitions:
                    fk.error(
                        where,
                        "well.acquisition-unknown",
                        f"acquisition {acquisition} MUST match one of the plate's acquisitions",
                    )
        elif plate is not None:
            for i, (path, acquisition) in enumerate(well.images):
                if acquisition is not None:
                    fk.note(
                        f"well.images[{i}]",
                        "well.acquisition-unknown",
                        f"acquisition {acquisition} is named but the plate defines no acquisitions",
                    )
        for path, _ in well.images:
            self.walk_expected_image(join(node.path, path), "field", "field of view", spec)

    # ------------------------------------------------------------------ bioformats2raw

    def walk_collection(self, node: NodeDocument, spec: Spec) -> None:
        """bioformats2raw: the images listed by ``OME/series``, else ``0/``, ``1/``, ..."""
        ome_key = join(node.path, "OME")
        ome = self.node(ome_key)
        listing = self.store.list_dir(ome_key) if ome is not None else []
        # An empty listing of an existing group means "cannot list" (e.g. plain HTTP).
        if ome is None or (listing and "METADATA.ome.xml" not in listing):
            self.f.at(node.path).warn(
                "",
                "bf2raw.ome-xml-missing",
                "a bioformats2raw collection SHOULD have OME/METADATA.ome.xml",
            )
        series = None
        if ome is not None and ome.node_type == "group" and has_ome_keys(ome.attributes):
            checked = self.check_group(ome, spec)
            series = checked.series
        if series is not None:
            for path in series:
                self.walk_expected_image(join(node.path, path), "series", "series image", spec)
            return
        # Without "series": images "MUST be stored in consecutively numbered groups starting from 0".
        index = 0
        while self.node(join(node.path, str(index))) is not None:
            self.walk_expected_image(join(node.path, str(index)), "series", "series image", spec)
            index += 1
        if index == 0:
            self.f.at(node.path).warn(
                "", "bf2raw.no-images", 'no image group "0/" found in the bioformats2raw collection'
            )

    def walk_expected_image(self, key: str, prefix: str, what: str, spec: Spec) -> None:
        """A group that MUST be an image (a well field, a bioformats2raw series)."""
        if key in self.visited:
            return
        node = self.group(key, prefix, what)
        if node is None:
            return
        if not has_ome_keys(node.attributes):
            self.f.at(key).error(
                "",
                f"{prefix}.no-multiscales",
                f"a {what} MUST be an image with `multiscales` metadata",
            )
            return
        checked = self.check_group(node, spec)
        if checked.spec is not None and "multiscales" not in checked.keys:
            self.f.at(key).error(
                "",
                f"{prefix}.no-multiscales",
                f"a {what} MUST be an image with `multiscales` metadata",
            )
            return
        self.walk_group(node, checked)


def validate(
    location: str | os.PathLike[str] | Store,
    *,
    strict: bool = False,
    schemas: str | os.PathLike[str] | None = None,
) -> Report:
    """Validate an OME-Zarr hierarchy.

    Parameters
    ----------
    location
        A directory, zip/.ozx file or URL of an OME-Zarr root group (or an open Store).
    strict
        Report unmet SHOULDs as errors.
    schemas
        Optional directory laid out as ``<dir>/<version>/schemas/*.schema``; every OME
        document is then also checked against the official JSON schema of its version
        and kind (needs ``jsonschema``; problems have rules ``schema:<file>``).

    Returns
    -------
    Report
        Every problem found; ``ok`` is False when a MUST (or with ``strict`` a SHOULD)
        is broken.

    Raises
    ------
    StoreError
        When the location itself cannot be read.
    """
    store = open_store(location)
    checker = None
    if schemas is not None:
        from .schemas import SchemaChecker

        checker = SchemaChecker(schemas)
    f = Findings()
    walker = _Walker(store, f, checker, strict)
    root = walker.node("")
    version = kind = None
    if root is None:
        if "" not in walker.broken:
            f.error(
                "",
                "zarr.no-node",
                "no Zarr group at this location (no zarr.json, .zgroup or .zattrs)",
            )
    elif root.node_type != "group":
        f.error(
            "", "ome.missing", "the location is a Zarr array; OME-Zarr metadata lives in groups"
        )
    elif not has_ome_keys(root.attributes):
        hint = (
            " (this looks like a zarr.json document stored in .zattrs)"
            if "attributes" in root.attributes
            else ""
        )
        f.error("", "ome.missing", f"the root group holds no OME-Zarr metadata{hint}")
    else:
        checked = walker.check_group(root, None)
        version, kind = checked.version, checked.kind
        walker.walk_group(root, checked)
    archive = getattr(store, "archive", None)
    if archive is not None:  # RFC-9 single-file OME-Zarr (.ozx): the archive's own rules
        from ..ozx.validate import check_rfc9

        check_rfc9(archive, store.location, f, store.json("zarr.json"))
    from ..update import pending_update  # a killed update leaves chunks of two states until completed

    if pending_update(store) == "committed":
        f.error("", "store.interrupted-update", "an interrupted update is pending: run ngff.update.recover() or repeat it")
    return f.report(strict=strict, version=version, kind=kind)
