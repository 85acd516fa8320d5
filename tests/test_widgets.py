"""Notebook widgets, driven without a kernel: set values, click buttons, read the result."""

from __future__ import annotations

import pytest

from patterns.course.state import ProgressRow
from patterns.course.verdict import CaseOutcome, Verdict
from patterns.course.widgets import CheckView, ProgressView, Quiz

OPTIONS = [
    ("floats", False, "Floats lose cents."),
    ("integer cents", True, "Whole cents add up exactly."),
    ("strings", False, "Strings cannot be added as money."),
]


def test_quiz_explains_a_right_answer() -> None:
    """Choosing the right answer and pressing the button shows why it is right."""
    quiz = Quiz("How is money stored?", OPTIONS)
    quiz.choice.value = "integer cents"
    quiz.submit.click()
    assert "Right" in quiz.feedback.value and "Whole cents" in quiz.feedback.value


def test_quiz_explains_a_wrong_answer() -> None:
    """A wrong answer shows that answer's own explanation."""
    quiz = Quiz("How is money stored?", OPTIONS)
    answer = quiz.answer("a")
    assert not answer and answer.correct is False
    assert "Not quite" in quiz.feedback.value and "Floats lose cents" in quiz.feedback.value


def test_an_answer_typed_in_a_cell_shows_its_verdict_without_a_widget_frontend() -> None:
    """``quiz.answer("b")`` is true and reads "✓ Right. <why>" as plain text (its repr)."""
    quiz = Quiz("How is money stored?", OPTIONS)
    right, wrong = quiz.answer("b"), quiz.answer("c")
    assert right and repr(right) == "✓ Right. Whole cents add up exactly."
    assert not wrong and repr(wrong) == "✗ Not quite. Strings cannot be added as money."


def test_quiz_without_a_choice_asks_for_one() -> None:
    """Pressing the button before choosing asks the learner to pick an answer."""
    quiz = Quiz("How is money stored?", OPTIONS)
    quiz.submit.click()
    assert quiz.feedback.value == "Pick an answer first."


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ([("only", True, "")], "at least two"),
        ([("a", False, ""), ("b", False, "")], "No answer is marked correct"),
        ([("a", True, ""), ("a", False, "")], "same text"),
    ],
)
def test_badly_written_quizzes_are_refused(
    options: list[tuple[str, bool, str]], message: str
) -> None:
    """A quiz with fewer than two answers, none correct, or duplicates raises ValueError."""
    with pytest.raises(ValueError, match=message):
        Quiz("?", options)


def test_quiz_text_fallback_lists_the_answers_without_revealing_them() -> None:
    """The text form shows the question and lettered answers, not which is right."""
    text = Quiz("How is money stored?", OPTIONS)._repr_mimebundle_()["text/plain"]
    assert "Quiz: How is money stored?" in text and "b) integer cents" in text
    assert "Whole cents add up" not in text


def test_quiz_text_fallback_shows_the_call_that_answers_it() -> None:
    """A text-only reader is told the exact call to type, with the quiz's own id."""
    text = Quiz("How is money stored?", OPTIONS, quiz_id="00.9").fallback_text()
    assert 'quiz("00.9").answer("a")' in text


def _failing_verdict() -> Verdict:
    return Verdict(
        "ex00", "Warm-up",
        (CaseOutcome("t1", "Shares add up.", False, "split_evenly(1000, 3) returned [1]"),),
        hints_available=2,
    )  # fmt: skip


def test_check_view_reveals_hints_one_at_a_time_then_disables_the_button() -> None:
    """The show-hint button reveals hint 1 of 2, then 2 of 2, then is disabled."""
    hints = iter([(1, 2, "first"), (2, 2, "second")])
    view = CheckView(_failing_verdict(), lambda: next(hints))
    view.hint_button.click()
    assert "hint 1 of 2: first" in view.hint_area.value
    view.hint_button.click()
    assert "hint 2 of 2: second" in view.hint_area.value
    assert view.hint_button.disabled


def test_check_view_text_fallback_is_the_verdict() -> None:
    """Without widgets the verdict reads as text, with the failing call."""
    text = CheckView(_failing_verdict(), lambda: (1, 1, ""))._repr_mimebundle_()["text/plain"]
    assert "ex00: 1 of 1 behaviours fail" in text and "returned [1]" in text


def test_passing_check_view_has_no_hint_button() -> None:
    """A pass shows the verdict only."""
    verdict = Verdict("ex00", "Warm-up", (CaseOutcome("t1", "Shares add up.", True, ""),))
    view = CheckView(verdict, lambda: (1, 1, ""))
    assert view.hint_button not in view.children
    assert "passes" in view.summary.value


def test_progress_view_counts_exercises_passing_now_and_passed_once() -> None:
    """The bar counts what passes now; the text also counts what passed once, and notes follow."""
    rows = [
        ProgressRow("ex00", "Warm-up", "00.ipynb", passes_now=True, ever_passed=True,
                    checks=2, hints_shown=1, hints_total=3),
        ProgressRow("ex01", "Repo", "01.ipynb", passes_now=False, ever_passed=True,
                    checks=3, hints_shown=0, hints_total=3, last_result="fail"),
        ProgressRow("ex02", "Context", "02.ipynb", passes_now=False, ever_passed=False,
                    checks=0, hints_shown=0, hints_total=3),
    ]  # fmt: skip
    view = ProgressView(rows, ["progress.json was damaged"])
    assert view.bar.value == 1 and view.bar.max == 3
    text = view.fallback_text()
    assert "1 of 3 exercises pass now; 2 passed at least once" in text
    assert "ex01  redo" in text and "ex02  todo" in text
    assert text.endswith("Note: progress.json was damaged")
