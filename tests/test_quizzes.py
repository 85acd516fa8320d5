"""Quizzes are real questions: the answers live in data files, never in a notebook cell."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from patterns.course import quizzes
from patterns.course.notebook import quiz
from patterns.course.widgets import Quiz

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
QUIZ_CALL = re.compile(r"""quiz\(["']([^"']+)["']\)""")


def _code_sources(path: Path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def _used_ids() -> dict[str, list[str]]:
    return {
        path.name: [m for source in _code_sources(path) for m in QUIZ_CALL.findall(source)]
        for path in NOTEBOOKS
    }


def test_every_quiz_a_notebook_shows_exists_and_every_question_is_shown() -> None:
    """Each quiz("NN.k") in a notebook resolves, and each question is shown by its notebook."""
    used = _used_ids()
    flat = [qid for ids in used.values() for qid in ids]
    unknown = sorted(set(flat) - set(quizzes.questions()))
    unused = sorted(set(quizzes.questions()) - set(flat))
    assert not unknown and not unused, f"unknown quiz ids: {unknown}; never shown: {unused}"
    for name, ids in used.items():
        assert all(qid.startswith(name[:2] + ".") for qid in ids), f"{name} shows {ids}"


@pytest.mark.parametrize("question", list(quizzes.questions().values()), ids=lambda q: q.id)
def test_a_question_has_exactly_one_right_answer(question: quizzes.Question) -> None:
    """Two or more options, distinct texts, exactly one correct, each with an explanation."""
    texts = [o.text for o in question.options]
    assert len(texts) >= 2 and len(set(texts)) == len(texts), f"{question.id}: options {texts}"
    assert sum(o.correct for o in question.options) == 1, f"{question.id}: not one right answer"
    assert all(o.why.strip() for o in question.options), f"{question.id}: an option lacks its why"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_notebook_cell_gives_an_answer_away(path: Path) -> None:
    """No code cell builds a quiz inline or quotes an option's explanation."""
    sources = _code_sources(path)
    assert not [s for s in sources if "Quiz(" in s], f"{path.name} builds a Quiz inline"
    whys = [o.why for q in quizzes.questions().values() for o in q.options]
    leaked = [why for why in whys for s in sources if why in s]
    assert not leaked, f"{path.name} quotes quiz explanations: {leaked[:2]}"


@pytest.mark.parametrize("question", list(quizzes.questions().values()), ids=lambda q: q.id)
def test_the_text_fallback_shows_the_options_not_the_answer(question: quizzes.Question) -> None:
    """What GitHub or nbconvert shows: the question and options, no explanation, no mark."""
    widget = quiz(question.id)
    assert isinstance(widget, Quiz)
    text = widget.fallback_text()
    assert question.text in text and all(o.text in text for o in question.options)
    assert not any(o.why in text for o in question.options), text
    assert f'quiz("{question.id}").answer(' in text, "the fallback must name this quiz's call"


def test_answering_marks_the_right_option_right() -> None:
    """Clicking through: the correct option says so, a wrong one says why not."""
    question = next(iter(quizzes.questions().values()))
    right = next(i for i, o in enumerate(question.options) if o.correct)
    wrong = next(i for i, o in enumerate(question.options) if not o.correct)
    widget = quiz(question.id)
    assert isinstance(widget, Quiz)
    assert widget.answer(right).correct is True and "Right" in widget.feedback.value
    assert widget.answer(wrong).correct is False and "Not quite" in widget.feedback.value
    assert repr(widget.answer(right)).startswith("✓ Right. ")


def test_an_unknown_quiz_id_gets_a_sentence_with_a_suggestion() -> None:
    """A typo in a quiz id is one line naming the closest ids, not a KeyError."""
    shown = repr(quiz("07.31"))
    assert shown.startswith("error: There is no quiz called '07.31'.") and "07.3" in shown
