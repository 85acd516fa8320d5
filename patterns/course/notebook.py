"""What notebooks import: ``from patterns.course import check, hint, Quiz, show_progress``."""

from __future__ import annotations

from typing import Any

from patterns.course import catalog
from patterns.course.paths import course_root
from patterns.course.state import CourseState
from patterns.course.widgets import CheckView, ProgressView, Quiz

__all__ = ["Quiz", "check", "hint", "show_progress"]


class _Text:
    """A plain result that displays as text (and as HTML preformatted)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.text)}</pre>"


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def check(exercise: str) -> Any:
    """Grade ``exercises/<exercise>`` and show the verdict (a widget in a notebook)."""
    from patterns.course.runner import check_exercise, interrupted_line

    try:
        chosen = catalog.get(exercise)
    except catalog.UnknownExerciseError as error:
        return _Text(f"error: {error}")
    root = course_root()
    try:
        verdict = check_exercise(chosen.id, root)
    except KeyboardInterrupt:  # the interrupt button: the grader is stopped, say so in one line
        return _Text(interrupted_line(chosen.id))
    if not _in_kernel():
        return _Text(verdict.text())
    return CheckView(verdict, lambda: CourseState(root).reveal_hint(chosen.id))


def hint(exercise: str) -> _Text:
    """Reveal the next hint for an exercise."""
    try:
        chosen = catalog.get(exercise)
    except catalog.UnknownExerciseError as error:
        return _Text(f"error: {error}")
    return _Text(CourseState(course_root()).reveal_hint(chosen.id).line(chosen.id))


def show_progress() -> Any:
    """Every exercise, passed or not."""
    rows = CourseState(course_root()).summary()
    return ProgressView(rows) if _in_kernel() else _Text(ProgressView(rows).fallback_text())
