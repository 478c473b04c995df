"""The result types of validation: :class:`Problem`, :class:`Report`, and the collector.

Rule checks never raise: they record findings in a :class:`Findings` collector at one
of three levels, and :meth:`Findings.report` turns them into an immutable
:class:`Report`.

* ``must`` — a MUST of the spec is broken: always an error.
* ``should`` — a SHOULD is not followed: a warning, an error with ``strict=True``.
* ``note`` — advice that is no spec requirement (or a requirement the official test
  suites themselves do not hold, see the rule's message): always a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Findings", "Problem", "Report", "Severity"]

Severity = Literal["error", "warning"]
Level = Literal["must", "should", "note"]


@dataclass(frozen=True)
class Problem:
    """One broken rule.

    Attributes
    ----------
    path
        Where: a JSON path inside the OME metadata (``multiscales[0].axes[2]``; relative to
        the ``ome`` namespace in 0.5), a store key (``labels/cells/0``), or both joined
        by a colon (``A/1/0:multiscales[0].datasets[1]``).  Empty for the whole document.
    rule
        Short stable identifier of the rule (``axes.order``, ``well.path-matches-indices``).
    message
        What is wrong, with the spec quote or section it comes from.
    severity
        ``"error"`` or ``"warning"``.
    """

    path: str
    rule: str
    message: str
    severity: Severity

    def to_dict(self) -> dict[str, str]:
        """The problem as a plain JSON-able dictionary."""
        return {
            "path": self.path,
            "rule": self.rule,
            "message": self.message,
            "severity": self.severity,
        }

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.severity}: {where}{self.message} [{self.rule}]"


@dataclass(frozen=True)
class Report:
    """The outcome of validating a document or a store.

    Attributes
    ----------
    ok
        True when no problem has error severity.
    problems
        Every problem found, in the order found.
    version
        The OME-Zarr version the metadata was checked against (None if unknown).
    kind
        The node kind checked at the top (``image``, ``plate``, …; None if unknown).
    """

    ok: bool
    problems: tuple[Problem, ...] = ()
    version: str | None = None
    kind: str | None = None

    @property
    def errors(self) -> tuple[Problem, ...]:
        """Problems of error severity."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """Problems of warning severity."""
        return tuple(p for p in self.problems if p.severity == "warning")

    def rules(self) -> set[str]:
        """The rule ids of all problems (handy in tests and filters)."""
        return {p.rule for p in self.problems}

    def to_dict(self) -> dict[str, Any]:
        """The report as a plain JSON-able dictionary."""
        return {
            "ok": self.ok,
            "version": self.version,
            "kind": self.kind,
            "problems": [p.to_dict() for p in self.problems],
        }

    def __str__(self) -> str:
        head = "valid" if self.ok else "invalid"
        lines = [f"{head} (OME-Zarr {self.version or '?'}, {self.kind or 'unknown kind'})"]
        lines.extend(f"  {p}" for p in self.problems)
        return "\n".join(lines)


def join_path(base: str, key: str | int) -> str:
    """Extend a JSON path: ``join_path("multiscales", 0)`` -> ``multiscales[0]``."""
    if isinstance(key, int):
        return f"{base}[{key}]"
    return f"{base}.{key}" if base else key


@dataclass
class Findings:
    """Collects findings while rules run; see the module docstring for the levels.

    Parameters
    ----------
    prefix
        Store key prepended (with ``:``) to every JSON path recorded through this
        collector; :meth:`at` makes collectors for other nodes sharing the same list.
    """

    prefix: str = ""
    items: list[tuple[Level, str, str, str]] = field(default_factory=list)

    def at(self, prefix: str) -> Findings:
        """A collector recording into the same list, for the node at store key ``prefix``."""
        return Findings(prefix=prefix, items=self.items)

    def _add(self, level: Level, path: str, rule: str, message: str) -> None:
        if self.prefix:
            path = f"{self.prefix}:{path}" if path else self.prefix
        self.items.append((level, path, rule, message))

    def error(self, path: str, rule: str, message: str) -> None:
        """Record a broken MUST."""
        self._add("must", path, rule, message)

    def warn(self, path: str, rule: str, message: str) -> None:
        """Record an unmet SHOULD (an error under ``strict``)."""
        self._add("should", path, rule, message)

    def note(self, path: str, rule: str, message: str) -> None:
        """Record advice that never becomes an error."""
        self._add("note", path, rule, message)

    def has_errors(self) -> bool:
        """True when a MUST-level finding was recorded."""
        return any(level == "must" for level, *_ in self.items)

    def report(self, *, strict: bool, version: str | None, kind: str | None) -> Report:
        """Freeze the findings into a :class:`Report`."""
        problems = []
        for level, path, rule, message in self.items:
            error = level == "must" or (strict and level == "should")
            problems.append(Problem(path, rule, message, "error" if error else "warning"))
        ok = not any(p.severity == "error" for p in problems)
        return Report(ok=ok, problems=tuple(problems), version=version, kind=kind)
