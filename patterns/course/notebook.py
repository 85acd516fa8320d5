"""What notebooks import: ``from patterns.course import check, hint, quiz, reset, show_progress``."""

from __future__ import annotations

from patterns.course import catalog
from patterns.course.paths import course_root
from patterns.course.state import CourseState
from patterns.course.widgets import CheckView, ProgressView, Quiz

__all__ = ["Quiz", "check", "hint", "quiz", "reset", "show_progress"]


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


def check(exercise: str) -> CheckView | _Text:
    """Grade ``exercises/<exercise>`` and show the verdict (a widget in a notebook)."""
    from patterns.course.runner import check_exercise, interrupted_line, keep_grader_warm

    try:
        chosen = catalog.get(exercise)
    except catalog.UnknownExerciseError as error:
        return _Text(f"error: {error}")
    root = course_root()
    if _in_kernel():  # a kernel checks again and again: keep a grading worker warm
        keep_grader_warm()
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
    state = CourseState(course_root())
    line = state.reveal_hint(chosen.id).line(chosen.id)
    return _Text("\n".join([line, *_notes(state)]))


def quiz(quiz_id: str) -> Quiz | _Text:
    """The quiz ``quiz_id`` ("07.3") as a widget; questions live in ``patterns/course/quizzes/``."""
    from patterns.course import quizzes

    try:
        question = quizzes.get(quiz_id)
    except quizzes.UnknownQuizError as error:
        return _Text(f"error: {error}")
    return Quiz(
        question.text, [(o.text, o.correct, o.why) for o in question.options], quiz_id=question.id
    )


def reset(exercise: str) -> _Text:
    """Put the starting stub back in ``exercises/`` (your version is kept in a backup)."""
    try:
        chosen = catalog.get(exercise)
    except catalog.UnknownExerciseError as error:
        return _Text(f"error: {error}")
    root = course_root()
    state = CourseState(root)
    try:
        backup = state.reset(chosen.id)
    except OSError as error:
        return _Text(
            f"exercises/{chosen.file_name} was left as it is: your version could not be "
            f"backed up ({error.strerror or error})."
        )
    lines = [f"exercises/{chosen.file_name} is back to the starting stub."]
    if backup:
        lines.append(f"Your previous version is kept in {backup.relative_to(root)}.")
    return _Text("\n".join([*lines, *_notes(state)]))


def show_progress() -> ProgressView | _Text:
    """Every exercise: passing now or not, passed once or not."""
    state = CourseState(course_root())
    view = ProgressView(state.summary(), state.notices)
    return view if _in_kernel() else _Text(view.fallback_text())


def _notes(state: CourseState) -> list[str]:
    return [f"Note: {notice}" for notice in state.notices]
