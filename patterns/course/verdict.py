"""The result of checking one exercise, and how it reads in a terminal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

#: How many lines the learner's code printed are shown under a failing verdict.
PRINTED_LINES_SHOWN = 10


@dataclass(frozen=True)
class CaseOutcome:
    test: str
    behaviour: str  # one sentence: what the code should do
    passed: bool
    reason: str  # what was called and what came back, when it failed
    printed: tuple[str, ...] = ()  # the last lines the code printed, when it failed
    hints: tuple[str, ...] = ()  # hints aimed at this behaviour (@pytest.mark.hints)


class BehaviourResult(NamedTuple):
    """One behaviour of the grader: a test, tried on one or several inputs."""

    behaviour: str
    passed: bool
    cases: int
    why: str  # the reason of its first failing case, "" when it passes


@dataclass(frozen=True)
class Hint:
    """One revealed hint; ``behaviour`` is the failing behaviour it is aimed at, "" if general."""

    number: int
    total: int
    text: str
    behaviour: str = ""

    def line(self, exercise_id: str) -> str:
        """The one wording of a hint, for the terminal, the notebook and the widget."""
        about = f" (for: {self.behaviour.rstrip('.')})" if self.behaviour else ""
        return f"{exercise_id}, hint {self.number} of {self.total}{about}: {self.text}"

    @property
    def last(self) -> bool:
        return self.number >= self.total


@dataclass(frozen=True)
class Verdict:
    exercise: str
    title: str
    outcomes: tuple[CaseOutcome, ...] = ()
    problem: str = ""  # set when the grader could not run or finish (timeout, syntax error...)
    seconds: float = 0.0
    hints_available: int = 0  # the catalog's general hints
    # False when the check says nothing about the learner's code (interrupted, no
    # PostgreSQL, the wrong Python): their progress is left as it was.
    attempt: bool = True
    notes: tuple[str, ...] = ()  # said after the verdict (e.g. progress could not be saved)

    @property
    def passed(self) -> bool:
        return not self.problem and bool(self.outcomes) and all(o.passed for o in self.outcomes)

    @property
    def failures(self) -> list[CaseOutcome]:
        return [o for o in self.outcomes if not o.passed]

    def behaviours(self) -> list[BehaviourResult]:
        """Each behaviour, in grader order; a parametrised test is one behaviour tried on several inputs."""
        grouped: dict[str, list[CaseOutcome]] = {}
        for outcome in self.outcomes:
            grouped.setdefault(outcome.behaviour, []).append(outcome)
        return [
            BehaviourResult(
                behaviour,
                all(o.passed for o in cases),
                len(cases),
                next((o.reason for o in cases if not o.passed), ""),
            )
            for behaviour, cases in grouped.items()
        ]

    def hint_target(self) -> tuple[str, tuple[str, ...]]:
        """The first failing behaviour and its own hints (none: the general hints apply)."""
        if self.problem or not self.failures:
            return "", ()
        first = self.failures[0]
        return first.behaviour, first.hints

    def hint_count(self) -> int:
        """How many hints ``hint`` can give for this verdict: those aimed at the first
        failing behaviour, then the general ones."""
        return len(self.hint_target()[1]) + self.hints_available

    def printed(self) -> list[str]:
        """The last lines the learner's code printed during the failing cases."""
        lines = [line for outcome in self.failures for line in outcome.printed]
        return lines[-PRINTED_LINES_SHOWN:]

    def headline(self) -> str:
        """One sentence: the verdict."""
        if self.problem:
            return f"{self.exercise} could not be checked: {self.problem}"
        behaviours = self.behaviours()
        total = len(behaviours)
        if self.passed:
            return f"{self.exercise} passes: all {total} behaviours work. Well done."
        failing = sum(not result.passed for result in behaviours)
        first = self.failures[0]
        return (
            f"{self.exercise}: {failing} of {total} behaviours fail. "
            f"First: {first.behaviour.rstrip('.')}."
        )

    def detail(self) -> str:
        """The reason of the first failure: what was called and what came back."""
        if self.problem or self.passed:
            return ""
        return self.failures[0].reason

    def hint_prompt(self) -> str:
        """Where to get a hint, and how many there are for what failed."""
        own = self.hint_target()[1]
        count = self.hint_count()
        if self.passed or not count or not self.attempt:
            return ""
        hints = "1 hint" if count == 1 else f"{count} hints"
        first = "the first" if len(own) == 1 else f"the first {len(own)}"
        aimed = f", {first} for this behaviour" if own else ""
        return f"Stuck? `python -m patterns hint {self.exercise}` ({hints}{aimed})."

    def text(self) -> str:
        lines = [self.headline()]
        if not self.attempt:  # nothing about the learner's code: the cause, not nine FAIL lines
            if self.failures:
                lines.append(f"  Cause: {self.failures[0].reason}")
            return "\n".join(lines + [f"  Note: {note}" for note in self.notes])
        for result in self.behaviours():
            mark = "PASS" if result.passed else "FAIL"
            tried = f" ({result.cases} cases)" if result.cases > 1 else ""
            lines.append(f"  [{mark}] {result.behaviour}{tried}")
            if result.why:
                lines.append(f"         Why: {result.why}")
        printed = self.printed()
        if printed:
            lines.append(f"  Your code printed (last {len(printed)} lines, while failing):")
            lines += [f"    | {line}" for line in printed]
        if self.hint_prompt():
            lines.append(f"  {self.hint_prompt()}")
        if self.passed:
            lines.append(f"  See the reference: `python -m patterns solution {self.exercise}`.")
        lines += [f"  Note: {note}" for note in self.notes]
        return "\n".join(lines)
