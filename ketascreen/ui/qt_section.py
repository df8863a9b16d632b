"""The common shape of the form's sections, and the routing of core problems to fields.

Each section shows one part of the case document, writes it back, and claims the problems the
core found in its fields (by dotted path, e.g. ``measurements.weight`` or
``medications[1].daily_dose``), showing each under the field it names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from ketascreen.errors import FieldProblem
from ketascreen.ui.widgets import InlineMessage


@dataclass
class FieldTarget:
    """Where the problems of one field path are shown.

    Attributes:
        path: the dotted field path it owns (and everything below it).
        message: the inline message under the field.
        label: the field's name for hints ("Patient ID").
        is_empty: whether the field is empty (a missing value shows as a hint, not an error).
    """

    path: str
    message: InlineMessage
    label: str
    is_empty: Callable[[], bool]


def owns(path: str, field: str) -> bool:
    """Whether the target ``path`` owns the problem ``field`` (itself or a sub-field)."""
    return field == path or field.startswith((path + ".", path + "["))


def route_problems(targets: Iterable[FieldTarget],
                   problems: Iterable[FieldProblem]) -> list[FieldProblem]:
    """Show each problem under the most specific target owning it; return the rest."""
    targets = list(targets)
    found: dict[str, list[FieldProblem]] = {}
    rest: list[FieldProblem] = []
    for problem in problems:
        owners = [t for t in targets if owns(t.path, problem.field)]
        if not owners:
            rest.append(problem)
            continue
        found.setdefault(max(owners, key=lambda t: len(t.path)).path, []).append(problem)
    for target in targets:
        claimed = found.get(target.path)
        if not claimed:
            target.message.clear_message()
            continue
        empty = target.is_empty()
        if len(claimed) == 1:
            target.message.show_problem(claimed[0], empty=empty, label=target.label)
        else:
            first = claimed[0]
            merged = FieldProblem(first.field, "; ".join(p.message for p in claimed),
                                  first.value, first.suggestion)
            target.message.show_problem(merged, empty=empty, label=target.label)
    return rest


class QtSection(QWidget):
    """One section of the case form. Each section also has ``load(document)``, showing its part
    of a ``ketascreen-case/1`` document, and ``dump(document, *, draft)``, writing it back
    (``draft``: as typed, incomplete parts included, for the autosaved draft); the form holds its
    sections by their concrete types, so the type checker holds each one to that.

    Args:
        parent: the owning widget.

    Signals:
        edited: anything in the section changed (the form re-screens, debounced).
    """

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

    def targets(self) -> list[FieldTarget]:
        """The field paths this section shows problems for."""
        return []

    def claim(self, problems: Iterable[FieldProblem]) -> list[FieldProblem]:
        """Show the problems of this section's fields; return the others."""
        return route_problems(self.targets(), problems)
