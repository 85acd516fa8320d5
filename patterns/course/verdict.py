"""The result of checking one exercise, and how it reads in a terminal."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CaseOutcome:
    test: str
    behaviour: str  # one sentence: what the code should do
    passed: bool
    reason: str  # what was called and what came back, when it failed


@dataclass(frozen=True)
class Verdict:
    exercise: str
    title: str
    outcomes: tuple[CaseOutcome, ...] = ()
    problem: str = ""  # set when the grader could not run (timeout, syntax error...)
    seconds: float = 0.0
    hints_available: int = 0
    extra: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # said after the verdict (e.g. progress could not be saved)

    @property
    def passed(self) -> bool:
        return not self.problem and bool(self.outcomes) and all(o.passed for o in self.outcomes)

    @property
    def failures(self) -> list[CaseOutcome]:
        return [o for o in self.outcomes if not o.passed]

    def behaviours(self) -> list[tuple[str, bool, int]]:
        """(behaviour, all its cases pass, number of cases), in grader order.

        A parametrised test is one behaviour tried on several inputs.
        """
        grouped: dict[str, list[CaseOutcome]] = {}
        for outcome in self.outcomes:
            grouped.setdefault(outcome.behaviour, []).append(outcome)
        return [(b, all(o.passed for o in cases), len(cases)) for b, cases in grouped.items()]

    def headline(self) -> str:
        """One sentence: the verdict."""
        if self.problem:
            return f"{self.exercise} could not be checked: {self.problem}"
        behaviours = self.behaviours()
        total = len(behaviours)
        if self.passed:
            return f"{self.exercise} passes: all {total} behaviours work. Well done."
        failing = sum(not ok for _, ok, _ in behaviours)
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

    def text(self) -> str:
        lines = [self.headline()]
        if self.detail():
            lines.append(f"  Why: {self.detail()}")
        for behaviour, ok, cases in self.behaviours():
            mark = "PASS" if ok else "FAIL"
            tried = f" ({cases} cases)" if cases > 1 else ""
            lines.append(f"  [{mark}] {behaviour}{tried}")
        if not self.passed and self.hints_available:
            lines.append(
                f"  Stuck? `python -m patterns hint {self.exercise}` ({self.hints_available} hints)."
            )
        if self.passed:
            lines.append(f"  See the reference: `python -m patterns solution {self.exercise}`.")
        lines += [f"  Note: {note}" for note in self.notes]
        return "\n".join(lines)
