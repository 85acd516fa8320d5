"""The quizzes: questions, options, the right answer and explanations, kept out of notebooks.

One TOML file per notebook in ``quizzes/`` (``07.toml`` for notebook 07), so a
notebook cell is one line, ``quiz("07.3")``, and a reader of the cell's source
(on GitHub, in nbconvert) sees the question and options in the output but never
which one is right. The format::

    [[question]]
    id = "07.3"
    text = "Which ...?"

    [[question.option]]
    text = "An answer"
    correct = false
    why = "Why it is wrong."
"""

from __future__ import annotations

import difflib
import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

QUIZ_DIR = Path(__file__).parent / "quizzes"


class UnknownQuizError(ValueError):
    """A quiz id that no data file defines."""


@dataclass(frozen=True)
class Option:
    text: str
    correct: bool
    why: str  # shown after the learner answers, right or wrong


@dataclass(frozen=True)
class Question:
    id: str  # "07.3": notebook 07, third question
    text: str
    options: tuple[Option, ...]


def _load(path: Path) -> list[Question]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [
        Question(
            id=entry["id"],
            text=entry["text"],
            options=tuple(Option(o["text"], bool(o["correct"]), o["why"]) for o in entry["option"]),
        )
        for entry in data.get("question", [])
    ]


@functools.cache
def questions() -> dict[str, Question]:
    """Every quiz question, by id, in course order."""
    found: dict[str, Question] = {}
    for path in sorted(QUIZ_DIR.glob("*.toml")):
        for question in _load(path):
            if question.id in found:
                raise ValueError(f"quiz id {question.id!r} is defined twice (in {path.name})")
            found[question.id] = question
    return found


def get(quiz_id: str) -> Question:
    """A question by id, or :class:`UnknownQuizError` naming the closest ids."""
    known = questions()
    if quiz_id in known:
        return known[quiz_id]
    close = difflib.get_close_matches(str(quiz_id), list(known), n=3)
    suggestion = f" Did you mean {', '.join(close)}?" if close else ""
    raise UnknownQuizError(f"There is no quiz called {quiz_id!r}.{suggestion}")
