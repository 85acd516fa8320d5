"""What notebooks import: ``from patterns.course import check, hint, quiz, show_progress``."""

from __future__ import annotations

from typing import Any

from patterns.course import catalog
from patterns.course.paths import course_root
from patterns.course.state import CourseState
from patterns.course.widgets import CheckView, ProgressView, Quiz

__all__ = ["Quiz", "check", "hint", "quiz", "show_progress"]


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
    from patterns.course.runner import check_exercise

    try:
        chosen = catalog.get(exercise)
    except catalog.UnknownExerciseError as error:
        return _Text(f"error: {error}")
    root = course_root()
    verdict = check_exercise(chosen.id, root)
    if not _in_kernel():
        return _Text(verdict.text())
    return CheckView(verdict, lambda: CourseState(root).next_hint(chosen.id))


def hint(exercise: str) -> _Text:
    """Reveal the next hint for an exercise."""
    try:
        chosen = catalog.get(exercise)
    except catalog.UnknownExerciseError as error:
        return _Text(f"error: {error}")
    number, total, text = CourseState(course_root()).next_hint(chosen.id)
    return _Text(f"{chosen.id}, hint {number} of {total}: {text}")


def quiz(quiz_id: str) -> Any:
    """The quiz ``quiz_id`` ("07.3") as a widget; questions live in ``patterns/course/quizzes/``."""
    from patterns.course import quizzes

    try:
        question = quizzes.get(quiz_id)
    except quizzes.UnknownQuizError as error:
        return _Text(f"error: {error}")
    return Quiz(question.text, [(o.text, o.correct, o.why) for o in question.options])


def show_progress() -> Any:
    """Every exercise, passed or not."""
    rows = CourseState(course_root()).summary()
    return ProgressView(rows) if _in_kernel() else _Text(ProgressView(rows).fallback_text())
