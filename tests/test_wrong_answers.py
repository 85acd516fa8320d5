"""Graders measured against answers that are not the reference.

``tests/exercises/wrong/exNN_<what>.py``: a whole exercise file with one
realistic bug or cheat. Its docstring holds a line ``grader says: <text>``;
the grader must fail it, and ``<text>`` must appear in what the learner reads
(a failing behaviour's sentence or its reason), so the feedback is tested too.

``tests/exercises/right/exNN_<what>.py``: a correct answer written differently
from the reference. The grader must pass it: no grader may demand the
reference's shape.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from patterns.course import catalog
from patterns.course.runner import run_grader
from patterns.course.verdict import Verdict

HERE = Path(__file__).parent / "exercises"
WRONG = sorted((HERE / "wrong").glob("ex*.py"))
RIGHT = sorted((HERE / "right").glob("ex*.py"))


def _exercise_of(path: Path) -> catalog.Exercise:
    return catalog.get(path.name.split("_", 1)[0])


def _expected_sentence(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    for line in doc.splitlines():
        if line.strip().startswith("grader says:"):
            return line.split("grader says:", 1)[1].strip()
    raise AssertionError(f"{path.name}: its docstring needs a line 'grader says: <text>'")


def _grade(path: Path, folder: Path) -> Verdict:
    exercise = _exercise_of(path)
    shutil.copy(path, folder / exercise.file_name)
    return run_grader(exercise.id, folder)


@pytest.mark.parametrize("path", WRONG, ids=lambda p: p.stem)
def test_the_grader_fails_a_wrong_answer_and_names_the_bug(path: Path, tmp_path: Path) -> None:
    """A wrong answer fails its grader, and the learner reads a sentence naming the bug."""
    expected = _expected_sentence(path)
    verdict = _grade(path, tmp_path)
    assert not verdict.passed, f"{path.name} passes its grader: {verdict.text()}"
    text = verdict.text()
    reasons = " ".join(o.reason for o in verdict.failures)
    assert expected in text or expected in reasons, (
        f"{path.name}: expected the learner to read {expected!r}; they read:\n{text}\n{reasons}"
    )


@pytest.mark.parametrize("path", RIGHT, ids=lambda p: p.stem)
def test_the_grader_passes_a_right_answer_written_differently(path: Path, tmp_path: Path) -> None:
    """A correct answer that is not the reference passes its grader."""
    verdict = _grade(path, tmp_path)
    assert verdict.passed, f"{path.name} fails its grader:\n{verdict.text()}"


def test_every_exercise_has_wrong_answers_and_a_different_right_one() -> None:
    """At least five wrong answers and one alternative right answer per exercise."""
    ids = list(catalog.exercises())
    few_wrong = [i for i in ids if sum(p.name.startswith(i + "_") for p in WRONG) < 5]
    no_right = [i for i in ids if not any(p.name.startswith(i + "_") for p in RIGHT)]
    assert not few_wrong and not no_right, (
        f"fewer than five wrong answers: {few_wrong}; no alternative right answer: {no_right}"
    )
