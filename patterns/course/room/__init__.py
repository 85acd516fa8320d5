"""The room: every learner's progress in one table, for an instructor.

Two ways in, one table:

* on a JupyterHub, each ``check`` sends the learner's progress to a hub-managed
  service (``patterns.course.room.service``), which knows the learner from
  their own token and shows the room live to instructors;
* without a hub, ``python -m patterns room PATH...`` reads the progress of many
  course copies (every home folder on a lab machine, say).

A learner's state in one exercise is one of:

* ``passed``: the last check passed;
* ``stuck``: no pass yet, and either many checks or every hint shown;
* ``tried``: checked at least once, no pass yet;
* ``todo``: never checked.

This module is the shared part: rows in, states and tables out, no I/O.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import astuple, dataclass, fields
from typing import Literal, TypedDict

__all__ = [
    "STUCK_AFTER_CHECKS",
    "LearnerRow",
    "RoomCell",
    "RoomJson",
    "RoomLearner",
    "RoomState",
    "cell_state",
    "room_csv",
    "room_json",
    "room_text",
]

#: Checks without a pass before a learner counts as stuck (a workshop exercise
#: is usually solved in fewer; five failed checks is the moment to walk over).
STUCK_AFTER_CHECKS = 5

RoomState = Literal["passed", "stuck", "tried", "todo"]


@dataclass(frozen=True)
class LearnerRow:
    """One learner's state in one exercise, as the room stores it."""

    learner: str
    exercise: str
    passes_now: bool
    ever_passed: bool
    checks: int
    hints_shown: int
    hints_total: int
    last_checked: str | None

    @classmethod
    def from_progress(cls, learner: str, row: Mapping[str, object]) -> LearnerRow:
        """From one row of ``python -m patterns progress --json``.

        Raises ``ValueError`` (with the field) when the row is not one.
        """
        try:
            passed = bool(row.get("passes_now", row["passed"]))
            return cls(
                learner=learner,
                exercise=_text(row["exercise"], "exercise"),
                passes_now=passed,
                ever_passed=bool(row.get("ever_passed", row["passed"])) or passed,
                checks=_count(row.get("checks", 0), "checks"),
                hints_shown=_count(row.get("hints_shown", 0), "hints_shown"),
                hints_total=_count(row.get("hints_total", 0), "hints_total"),
                last_checked=None if row.get("last_checked") is None else str(row["last_checked"]),
            )
        except KeyError as missing:
            raise ValueError(f"a progress row lacks {missing}") from None

    @property
    def state(self) -> RoomState:
        return cell_state(self)


def _text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 64:
        raise ValueError(f"{field} must be a short text, got {value!r:.40}")
    return value


def _count(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**9:
        raise ValueError(f"{field} must be a count, got {value!r:.40}")
    return value


def cell_state(row: LearnerRow) -> RoomState:
    """passed, stuck, tried or todo (see the module docstring)."""
    if row.passes_now:
        return "passed"
    if row.checks == 0:
        return "todo"
    every_hint = row.hints_total > 0 and row.hints_shown >= row.hints_total
    if row.checks >= STUCK_AFTER_CHECKS or every_hint:
        return "stuck"
    return "tried"


def _grid(
    rows: Iterable[LearnerRow],
) -> tuple[list[str], list[str], dict[tuple[str, str], LearnerRow]]:
    cells = {(r.learner, r.exercise): r for r in rows}
    learners = sorted({learner for learner, _ in cells})
    exercises = sorted({exercise for _, exercise in cells})
    return learners, exercises, cells


class RoomCell(TypedDict):
    """One learner in one exercise, in ``room --json`` and the service's export."""

    state: RoomState
    passes_now: bool
    ever_passed: bool
    checks: int
    hints_shown: int
    hints_total: int
    last_checked: str | None


class RoomLearner(TypedDict):
    learner: str
    exercises: dict[str, RoomCell]  # by exercise id; absent: never reported


class RoomCounts(TypedDict):
    passed: int
    stuck: int
    tried: int


class RoomJson(TypedDict):
    """The whole room: what ``room --json`` prints and ``room.json`` exports."""

    exercises: list[str]
    learners: list[RoomLearner]
    counts: dict[str, RoomCounts]  # by exercise id


def _cell(row: LearnerRow) -> RoomCell:
    return RoomCell(
        state=row.state,
        passes_now=row.passes_now,
        ever_passed=row.ever_passed,
        checks=row.checks,
        hints_shown=row.hints_shown,
        hints_total=row.hints_total,
        last_checked=row.last_checked,
    )


def room_json(rows: Iterable[LearnerRow]) -> RoomJson:
    """Learners by exercises, plus per-exercise counts: the export and ``room --json``."""
    learners, exercises, cells = _grid(rows)

    def count(exercise: str, state: RoomState) -> int:
        return sum(1 for who in learners if (c := cells.get((who, exercise))) and c.state == state)

    return RoomJson(
        exercises=exercises,
        learners=[
            RoomLearner(
                learner=who,
                exercises={ex: _cell(cells[(who, ex)]) for ex in exercises if (who, ex) in cells},
            )
            for who in learners
        ],
        counts={
            ex: RoomCounts(
                passed=count(ex, "passed"), stuck=count(ex, "stuck"), tried=count(ex, "tried")
            )
            for ex in exercises
        },
    )


_MARK = {"passed": "pass", "stuck": "STUCK", "tried": "tried", "todo": "-"}


def room_text(rows: Sequence[LearnerRow]) -> str:
    """The room as a terminal table: one line per learner, one column per exercise."""
    learners, exercises, cells = _grid(rows)
    if not learners:
        return "No progress found yet."
    width = max(len("learner"), *(len(w) for w in learners))
    lines = [f"{'learner':<{width}}  " + "  ".join(f"{ex:<5}" for ex in exercises)]
    for who in learners:
        marks = [_MARK[cells[(who, ex)].state] if (who, ex) in cells else "-" for ex in exercises]
        lines.append(f"{who:<{width}}  " + "  ".join(f"{m:<5}" for m in marks))
    counts = room_json(rows)["counts"]
    lines.append(
        f"{'passed':<{width}}  " + "  ".join(f"{counts[ex]['passed']:<5}" for ex in exercises)
    )
    stuck = [
        f"{who} ({ex})"
        for who in learners
        for ex in exercises
        if (c := cells.get((who, ex))) and c.state == "stuck"
    ]
    lines.append("Stuck: " + (", ".join(stuck) + "." if stuck else "nobody."))
    return "\n".join(line.rstrip() for line in lines)


def room_csv(rows: Iterable[LearnerRow]) -> str:
    """One line per learner and exercise, for a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = [f.name for f in fields(LearnerRow)]
    writer.writerow(["learner", "exercise", "state", *names[2:]])
    for r in sorted(rows, key=lambda r: (r.learner, r.exercise)):
        values = astuple(r)
        writer.writerow([*values[:2], r.state, *("" if v is None else v for v in values[2:])])
    return out.getvalue()
