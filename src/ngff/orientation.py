"""RFC-4 anatomical orientation: terms, letter codes, reorientation and metadata updates.

RFC-4 gives each space axis an optional ``orientation`` object
``{"type": "anatomical", "value": "left-to-right"}``; the value names the direction in
which coordinates grow along the axis ("from lowest to highest coordinates").  In the
model it is :attr:`ngff.Axis.orientation`, the value string.

Letter codes
------------
The three-letter codes of NIfTI and ITK (``"RAS"``, ``"LPS"``, ``"LPI"`` ...) are read
here the way NIfTI's ``RAS+`` and ITK's ``LPS+`` are meant: the letters are given in
``x, y, z`` order (the reverse of the stored ``z, y, x`` axis order) and each names
the side that axis *points to*:

====== ======================= =========================
letter term                    meaning
====== ======================= =========================
R      ``left-to-right``       coordinates grow towards the right
L      ``right-to-left``       ... towards the left
A      ``posterior-to-anterior`` ... towards the front
P      ``anterior-to-posterior`` ... towards the back
S      ``inferior-to-superior`` ... towards the head
I      ``superior-to-inferior`` ... towards the feet
====== ======================= =========================

so ``"LPS"`` is x right-to-left, y anterior-to-posterior, z inferior-to-superior
(DICOM's patient coordinate system).  (ITK's older ``SpatialOrientation`` enum names,
such as ``ITK_COORDINATE_ORIENTATION_RAI``, name the sides axes come *from*; they are
not what is meant here.)  Quadruped and limb terms (dorsal, rostral, proximal ...)
have no letter.

Functions
---------
* :func:`parse_code`, :func:`code_of` - letter codes and terms.
* :func:`resolve_orientation` - the ``orientation=`` argument of :func:`ngff.write`
  (a code, a per-axis mapping or sequence) applied to axes, with the RFC-4 rules checked.
* :func:`reorient` - a lazy view of an image with its space axes flipped and permuted
  to a target orientation (transforms updated), usable before :func:`ngff.write`.
* :func:`set_orientation` - rewrite only the axes' orientation in an existing store.
"""

from __future__ import annotations

import copy
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .errors import InvalidMetadataError, NgffError, OrientationWarning, StoreError
from .validation.vocab import ORIENTATION_TERMS, PROPOSED_ORIENTATION_TERMS

if TYPE_CHECKING:
    from .model import Axis, Image

__all__ = [
    "LETTERS",
    "PRESETS",
    "PROPOSED_TERMS",
    "TERMS",
    "ReorientPlan",
    "code_of",
    "letter_of",
    "opposite",
    "pair_of",
    "parse_code",
    "plan_reorientation",
    "reorient",
    "resolve_orientation",
    "set_orientation",
    "side_letters",
]

#: The 18 values of the RFC-4 text.
TERMS: frozenset[str] = ORIENTATION_TERMS
#: The six extra values of the pending 24-term proposal (accepted with a warning).
PROPOSED_TERMS: frozenset[str] = PROPOSED_ORIENTATION_TERMS

#: Letter -> the term of an axis pointing to that side.
LETTERS: Mapping[str, str] = {
    "R": "left-to-right",
    "L": "right-to-left",
    "A": "posterior-to-anterior",
    "P": "anterior-to-posterior",
    "S": "inferior-to-superior",
    "I": "superior-to-inferior",
}
_LETTER_OF = {term: letter for letter, term in LETTERS.items()}

#: Common codes offered by the napari widget (any valid code is accepted everywhere).
PRESETS: tuple[str, ...] = ("RAS", "LPS", "LPI", "LAS", "RAI", "LIP", "RSA", "ASL", "PIR")

#: Short names of the sides of every term, for on-screen letters (``D``orsal ...).
_SIDE_LETTER = {
    "left": "L",
    "right": "R",
    "anterior": "A",
    "posterior": "P",
    "superior": "S",
    "inferior": "I",
    "dorsal": "D",
    "ventral": "V",
    "palmar": "Pa",
    "plantar": "Pl",
    "rostral": "Ro",
    "caudal": "Ca",
    "cranial": "Cr",
    "proximal": "Pr",
    "distal": "Di",
    "superficial": "Sf",
    "deep": "Dp",
    "apex": "Ax",
    "base": "Ba",
    "apical": "Ap",
    "basal": "Bs",
}


# --------------------------------------------------------------------------- terms


def pair_of(term: str) -> frozenset[str]:
    """The anatomical direction pair of a term: ``left-to-right`` -> {left, right}."""
    head, _, tail = term.partition("-to-")
    return frozenset((head, tail))


def opposite(term: str) -> str:
    """The term of the reverse direction: ``left-to-right`` -> ``right-to-left``."""
    head, _, tail = term.partition("-to-")
    return f"{tail}-to-{head}"


def letter_of(term: str | None) -> str | None:
    """The code letter of a term (``left-to-right`` -> ``R``), None for terms without one."""
    return _LETTER_OF.get(term or "")


def side_letters(term: str) -> tuple[str, str]:
    """Short names of the low and high ends of an axis: ``left-to-right`` -> (``L``, ``R``)."""
    head, _, tail = term.partition("-to-")
    return _SIDE_LETTER.get(head, head[:2].title()), _SIDE_LETTER.get(tail, tail[:2].title())


def check_term(term: Any, what: str) -> str:
    """``term`` when it is an RFC-4 value; proposed values pass with a warning.

    Raises
    ------
    NgffError
        For anything else (e.g. a letter code where a term is expected).
    """
    if isinstance(term, str) and term in TERMS:
        return term
    if isinstance(term, str) and term in PROPOSED_TERMS:
        warnings.warn(
            f"{what}: {term!r} is a term of the pending 24-term proposal (ome/ngff#528), "
            "not of the RFC-4 text",
            OrientationWarning,
            stacklevel=3,
        )
        return term
    raise NgffError(
        f"{what}: {term!r} is not an RFC-4 orientation value (e.g. 'left-to-right', "
        "'anterior-to-posterior', 'inferior-to-superior'; or a letter code such as 'RAS')",
        rule="RFC-4: value is one of the controlled vocabulary",
    )


def parse_code(code: str) -> tuple[str, ...]:
    """Terms of a letter code, in x, y, z order: ``"LPS"`` -> (right-to-left, ...).

    Two-letter codes (2-D images) are accepted too.  Letters are case-insensitive.

    Raises
    ------
    NgffError
        For unknown letters or two letters on the same anatomical axis (``"RLS"``).
    """
    letters = code.strip().upper() if isinstance(code, str) else ""
    if not 1 <= len(letters) <= 3 or any(c not in LETTERS for c in letters):
        raise NgffError(
            f"{code!r} is not an orientation code: use 2 or 3 of the letters R/L, A/P, S/I "
            "(e.g. 'RAS', 'LPS'), giving the sides x, y and z point to",
            rule="orientation code",
        )
    terms = tuple(LETTERS[c] for c in letters)
    if len({pair_of(t) for t in terms}) != len(terms):
        raise NgffError(
            f"orientation code {code!r} names one anatomical axis twice",
            rule='RFC-4: "A set of NGFF axes MUST only have one of the set" of a direction pair',
        )
    return terms


def code_of(axes: Sequence[Axis]) -> str | None:
    """Letter code (x, y, z order) of the space axes, or None when one has no letter."""
    space = [a for a in axes if a.type == "space"]
    letters = [letter_of(a.orientation) for a in reversed(space)]
    if not letters or None in letters:
        return None
    return "".join(letters)  # type: ignore[arg-type]


def _space_positions(axes: Sequence[Axis]) -> list[int]:
    return [i for i, a in enumerate(axes) if a.type == "space"]


# --------------------------------------------------------------------------- write argument


def resolve_orientation(axes: Sequence[Axis], orientation: Any) -> tuple[Axis, ...]:
    """Axes with the orientation of ``orientation`` (the ``ngff.write`` argument).

    Parameters
    ----------
    axes
        The axes of the image being written (types already known).
    orientation
        One of

        * a letter code (``"RAS"``, ``"LPS"``, ``"LPI"``, two letters for 2-D), letters in
          x, y, z order naming the sides the axes point to (see the module docs);
        * a mapping ``{axis name: term, letter or None}`` (other axes keep theirs);
        * a sequence with one term (or None) per axis, or per space axis;
        * None: the axes unchanged (still checked).

    Returns
    -------
    tuple of Axis

    Raises
    ------
    NgffError
        When a value is not an RFC-4 term, an orientation is put on a non-space axis,
        or two axes share an anatomical direction pair.
    """
    axes = tuple(axes)
    if orientation is None:
        check_axes(axes)
        return axes
    names = [a.name for a in axes]
    space = _space_positions(axes)
    values: dict[int, str | None] = {}
    if isinstance(orientation, str):
        terms = parse_code(orientation)
        if len(terms) < len(space):
            raise NgffError(
                f"orientation code {orientation!r} has {len(terms)} letters for {len(space)} space axes",
                rule="orientation code",
            )
        # Letters are in x, y, z order: the last space axis takes the first letter.
        for position, term in zip(reversed(space), terms):
            values[position] = term
    elif isinstance(orientation, Mapping):
        for key, value in orientation.items():
            if key not in names:
                raise NgffError(
                    f"orientation names an unknown axis {key!r}; axes are {names}", rule="orientation"
                )
            values[names.index(key)] = _one_value(value, f"orientation of axis {key!r}")
    elif isinstance(orientation, Sequence):
        items = list(orientation)
        if len(items) == len(axes):
            targets = list(range(len(axes)))
        elif len(items) == len(space):
            targets = space
        else:
            raise NgffError(
                f"orientation lists {len(items)} values for {len(axes)} axes ({len(space)} space axes)",
                rule="orientation",
            )
        for position, value in zip(targets, items):
            values[position] = _one_value(value, f"orientation of axis {names[position]!r}")
    else:
        raise NgffError(
            f"orientation must be a code such as 'RAS', a mapping or a sequence, got {orientation!r}",
            rule="orientation",
        )
    out = list(axes)
    for position, value in values.items():
        out[position] = replace(out[position], orientation=value)
    check_axes(out)
    return tuple(out)


def _one_value(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, Mapping):  # the stored object form
        if value.get("type", "anatomical") != "anatomical":
            raise NgffError(
                f"{what}: type {value.get('type')!r}; the only RFC-4 type is 'anatomical'",
                rule='RFC-4: type "anatomical"',
            )
        value = value.get("value")
    if isinstance(value, str) and value.strip().upper() in LETTERS and len(value.strip()) == 1:
        return LETTERS[value.strip().upper()]
    return check_term(value, what)


def check_axes(axes: Sequence[Axis]) -> None:
    """Raise :class:`NgffError` when oriented axes break an RFC-4 MUST.

    Only space axes may carry an orientation, and no two axes may lie on the same
    anatomical direction pair.
    """
    seen: dict[frozenset[str], str] = {}
    for axis in axes:
        if axis.orientation is None:
            continue
        if axis.type != "space":
            raise NgffError(
                f"axis {axis.name!r} of type {axis.type!r} cannot carry an orientation",
                rule='RFC-4: orientation "MUST only be used on spatial axes"',
            )
        pair = pair_of(axis.orientation)
        if pair in seen:
            raise NgffError(
                f"axes {seen[pair]!r} and {axis.name!r} lie on the same anatomical axis "
                f"({axis.orientation!r})",
                rule='RFC-4: "A set of NGFF axes MUST only have one of the set" of a direction pair',
            )
        seen[pair] = axis.name


# --------------------------------------------------------------------------- reorientation


@dataclass(frozen=True)
class ReorientPlan:
    """How to turn axes into a target orientation.

    Attributes
    ----------
    order
        ``numpy.transpose`` order: output axis ``k`` is input axis ``order[k]``.
    flip
        Per output axis, whether it runs backwards relative to its input axis.
    orientations
        Orientation of each output axis (None for non-space axes).
    """

    order: tuple[int, ...]
    flip: tuple[bool, ...]
    orientations: tuple[str | None, ...]

    @property
    def identity(self) -> bool:
        return self.order == tuple(range(len(self.order))) and not any(self.flip)


def plan_reorientation(axes: Sequence[Axis], target: Any = "RAS") -> ReorientPlan:
    """The axis permutation and flips that bring ``axes`` to ``target``.

    Parameters
    ----------
    axes
        Axes whose space axes all carry an orientation.
    target
        A letter code (``"RAS"``, ``"LPS"`` ...) or a sequence of terms in x, y, z order.
        Each space axis must lie on one of the target's anatomical pairs.  The space
        axes are filled in the target's x, y, z order: the last space axis gets the
        first of the target's pairs that the image has, and so on.

    Raises
    ------
    NgffError
        When the orientation is unknown on a space axis or does not fit the target.
    """
    axes = tuple(axes)
    space = _space_positions(axes)
    missing = [axes[i].name for i in space if axes[i].orientation is None]
    if missing:
        raise NgffError(
            f"the orientation of axes {missing} is unknown; set it first (ngff.orientation.set_orientation "
            "or ngff.write(..., orientation=...))",
            rule="RFC-4: no implicit default orientation",
        )
    if isinstance(target, str):
        wanted = parse_code(target)
    else:
        wanted = tuple(check_term(t, "reorientation target") for t in target)
        if len({pair_of(t) for t in wanted}) != len(wanted):
            raise NgffError(f"target {wanted} names one anatomical axis twice", rule="reorientation target")
    by_pair = {pair_of(axes[i].orientation): i for i in space}  # type: ignore[arg-type]
    chosen = [t for t in wanted if pair_of(t) in by_pair]
    if len(chosen) != len(space):
        have = [axes[i].orientation for i in space]
        raise NgffError(
            f"an image oriented {have} cannot be reoriented to {target!r}: the target must cover "
            "the anatomical axis of every space axis",
            rule="reorientation target",
        )
    order = list(range(len(axes)))
    flip = [False] * len(axes)
    orientations: list[str | None] = [a.orientation for a in axes]
    for position, term in zip(reversed(space), chosen):  # x-slot first
        source = by_pair[pair_of(term)]
        order[position] = source
        flip[position] = axes[source].orientation != term
        orientations[position] = term
    return ReorientPlan(tuple(order), tuple(flip), tuple(orientations))


def reorient(image: Image, target: Any = "RAS") -> Image:
    """A lazy view of ``image`` with its space axes flipped and permuted to ``target``.

    Nothing is read: the levels are dask views.  Each level's scale and translation are
    moved with its axes; a flipped axis gets the translation that keeps every pixel at
    the same physical place (its coordinate axis now runs the other way:
    ``t' = -(t + s * (n - 1))``).  Axis names stay in place (``z, y, x``); units and
    orientations move with the data.  Label images are reoriented the same way when
    opened.  The result can be passed to :func:`ngff.write`.

    Parameters
    ----------
    image
        An image whose space axes all carry an orientation.
    target
        A letter code such as ``"RAS"`` (default), ``"LPS"`` or ``"LPI"``, or a sequence
        of terms in x, y, z order (see :func:`plan_reorientation`).

    Returns
    -------
    Image
        The reoriented view; ``location`` and ``path`` still name the source.

    Raises
    ------
    NgffError
        When the orientation is unknown or does not fit the target.
    """
    from .model import Axis, Dataset, Image, LazyMapping, Multiscale, Transform

    if not isinstance(image, Image):
        raise NgffError(f"reorient needs an ngff.Image, got {type(image).__name__}", rule="reorient")
    plan = plan_reorientation(image.axes, target)
    axes = tuple(
        Axis(
            name=image.axes[k].name,
            type=image.axes[src].type,
            unit=image.axes[src].unit,
            orientation=plan.orientations[k],
        )
        for k, src in enumerate(plan.order)
    )
    levels = []
    scales = []
    translations = []
    for level, scale, shift in zip(image.levels, image.scales, image.translations):
        view = level.transpose(plan.order) if plan.order != tuple(range(level.ndim)) else level
        if any(plan.flip):
            view = view[tuple(slice(None, None, -1) if f else slice(None) for f in plan.flip)]
        new_scale = tuple(float(scale[src]) for src in plan.order)
        new_shift = []
        for k, src in enumerate(plan.order):
            t = float(shift[src])
            if plan.flip[k]:
                t = -(t + new_scale[k] * (view.shape[k] - 1))
            new_shift.append(t + 0.0)  # no negative zero in metadata
        levels.append(view)
        scales.append(new_scale)
        translations.append(tuple(new_shift))
    datasets = tuple(
        Dataset(
            path=ds.path,
            transforms=(Transform("scale", s), Transform("translation", t)),
        )
        for ds, s, t in zip(image.multiscale.datasets, scales, translations)
    )
    multiscale = Multiscale(
        axes=axes,
        datasets=datasets,
        transforms=(),  # composed into the datasets'
        name=image.multiscale.name,
        type=image.multiscale.type,
        metadata=image.multiscale.metadata,
    )
    source_labels = image.labels

    def load_label(name: str) -> Image:
        return reorient(_inherit_orientation(source_labels[name], image.axes), target)

    labels = LazyMapping(lambda: list(source_labels), load_label) if len(source_labels) else source_labels
    return replace(
        image,
        multiscale=multiscale,
        levels=levels,
        scales=tuple(scales),
        translations=tuple(translations),
        labels=labels,
    )


def _inherit_orientation(label: Image, image_axes: Sequence[Axis]) -> Image:
    """A label image whose space axes lack orientation takes its image's (same axis names)."""
    if all(a.orientation is not None for a in label.axes if a.type == "space"):
        return label
    known = {a.name: a.orientation for a in image_axes if a.type == "space"}
    axes = tuple(
        replace(a, orientation=known.get(a.name)) if a.type == "space" and a.orientation is None else a
        for a in label.axes
    )
    return replace(label, multiscale=replace(label.multiscale, axes=axes))


# --------------------------------------------------------------------------- metadata update


def set_orientation(
    location: str | os.PathLike[str],
    orientation: Any,
    *,
    path: str = "",
    labels: bool = True,
) -> Image:
    """Rewrite only the axes' orientation in the metadata of an existing image.

    Pixels and every other metadata key are left as they are; each group document is
    replaced atomically (temporary file, then rename), and consolidated metadata, when
    the store has it, is updated too.  The store's write lock (:mod:`ngff.locking`) is
    held meanwhile, so a concurrent writer gets a ``StoreLockedError``.  The legacy ``anatomicalOrientation`` key is
    removed from the axes rewritten.

    Parameters
    ----------
    location
        A local OME-Zarr 0.4 or 0.5 store (directory).
    orientation
        As for :func:`ngff.write`: a code (``"RAS"``), a ``{axis: term}`` mapping (None
        removes an axis' orientation) or a sequence.
    path
        Group path of the image inside the store (``""`` for the root).
    labels
        Also set the orientation of the image's label images (axes of the same names).

    Returns
    -------
    Image
        The image, read again.

    Raises
    ------
    NgffError
        When the location is not a writable local image of version 0.4 or later, or the
        orientation breaks an RFC-4 rule; nothing is written then.
    """
    from .locking import StoreLock, store_root
    from .reader import read_image
    from .spec import detect_version, get_spec
    from .store import join, open_store

    store = open_store(location)
    if store.root is None:
        raise StoreError(
            "orientation can only be rewritten in a local directory store", location=store.location
        )
    # One writer per store (the lock other writers such as write_labels take too).
    with StoreLock(store_root(store.root), location=store.location):
        image = read_image(store, path)
        if image.is_label:
            labels = False
        spec = get_spec(image.version)
        if spec.axes_form != "objects":
            raise InvalidMetadataError(
                f"OME-Zarr {image.version} axes cannot carry an orientation; convert to 0.4 or 0.5 first",
                location=store.where(path),
                rule="RFC-4 applies to axis objects (0.4+)",
            )
        axes = resolve_orientation(image.axes, orientation)
        values = {a.name: a.orientation for a in axes}
        updates: list[tuple[str, dict[str, Any]]] = []
        groups = [path]
        if labels:
            groups += [join(path, "labels", name) for name in image.labels]
        for group in groups:
            node = store.node(group)
            if node is None:
                continue
            version = detect_version(node.attributes, node.zarr_format)
            node_spec = get_spec(version) if version else spec
            if node_spec.axes_form != "objects":
                continue
            attrs = node_spec.with_orientations(node.attributes, values, store.where(group))
            updates.append((group, attrs))
        # Everything is computed before anything is written: a bad value changes nothing.
        for group, attrs in updates:
            _put_attributes(store, group, attrs)
    return read_image(open_store(store.root), path)


def _put_attributes(store: Any, group: str, attrs: dict[str, Any]) -> None:
    """Replace a group's attributes (its v3 ``zarr.json`` or v2 ``.zattrs``) and consolidated copies."""
    from .store import join, put_json

    root = store.root
    v3 = store.json(join(group, "zarr.json"))
    if v3 is not None and v3.get("zarr_format") == 3:
        document = dict(v3)
        document["attributes"] = attrs
        put_json(root, join(group, "zarr.json"), document)
        if group:  # the root's inline consolidated metadata holds a copy of every node below it
            top = store.json("zarr.json") or {}
            inline = top.get("consolidated_metadata")
            if isinstance(inline, dict) and isinstance(inline.get("metadata"), dict) and group in inline["metadata"]:
                top["consolidated_metadata"] = _with_consolidated(inline, group, attrs)
                put_json(root, "zarr.json", top)
        return
    put_json(root, join(group, ".zattrs"), attrs)
    zmeta = store.json(".zmetadata")
    if zmeta is not None and isinstance(zmeta.get("metadata"), dict):
        zmeta = copy.deepcopy(zmeta)
        zmeta["metadata"][join(group, ".zattrs")] = attrs
        put_json(root, ".zmetadata", zmeta)


def _with_consolidated(inline: Mapping[str, Any], group: str, attrs: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(inline))
    entry = out["metadata"].get(group)
    if isinstance(entry, dict):
        entry["attributes"] = attrs
    return out
