"""Mutation testing of the graders: does each grader fail its reference solution's mutants?

For one exercise, cosmic-ray (a well-kept mutation tool) makes every mutant of
``solutions/exNN_slug.py`` it knows (a ``<`` turned into ``<=``, a number
changed, a loop skipped, ...), keeping only those inside the learner's part
(between ``# BEGIN SOLUTION`` and ``# END SOLUTION``). Each mutant is written to
a copy in a temporary folder and the exercise's grader runs with
``PATTERNS_GRADE`` pointing at that folder: a failing grader kills the mutant,
a passing one lets it survive. Survivors are printed as diffs; those listed in
``benchmarks/mutation_equivalent.toml`` (same behaviour as the reference, with
a one-line reason) are subtracted.

    .venv/bin/python benchmarks/mutation.py          # every exercise (make mutation)
    .venv/bin/python benchmarks/mutation.py ex03     # one exercise
    .venv/bin/python benchmarks/mutation.py --markdown ex00 ex03   # BENCHMARKS.md rows

Exits 1 when an exercise kills less than 95 % of its non-equivalent mutants.
Slow by nature (one grader run per mutant): not part of ``make test``.

Why cosmic-ray and not mutmut: mutmut 3 rewrites whole functions into
trampolines in a ``mutants/`` copy of the project and expects the tests to
import the mutated module by name; the graders load the graded file by path
(``PATTERNS_GRADE``), and only the marked part of a function may change.
cosmic-ray mutates one file on disk, runs any command, and records each
mutation's line, so the marked part is selected exactly.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from patterns.course import catalog
from patterns.course.grading import GRADE_ENV
from patterns.course.paths import ROOT_ENV

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT_FILE = Path(__file__).resolve().parent / "mutation_equivalent.toml"
GOAL = 0.95


@dataclass(frozen=True)
class Equivalent:
    """A mutant listed as behaving like the reference: the lines it changes, and why."""

    exercise: str
    before: str
    after: str
    reason: str


@dataclass
class Score:
    exercise: str
    mutants: int = 0
    killed: int = 0
    survivors: list[str] = field(default_factory=list)  # diffs, not listed as equivalent
    equivalent: int = 0
    broken: list[str] = field(default_factory=list)  # mutation machinery failed
    stale: list[Equivalent] = field(default_factory=list)  # listed, but no such survivor
    seconds: float = 0.0

    @property
    def score(self) -> float:
        counted = self.mutants - self.equivalent
        return self.killed / counted if counted else 1.0


def solution_lines(source: str) -> list[tuple[int, int]]:
    """The 1-based line ranges between ``# BEGIN SOLUTION`` and ``# END SOLUTION``."""
    ranges: list[tuple[int, int]] = []
    start: int | None = None
    for number, line in enumerate(source.splitlines(), start=1):
        text = line.strip()
        if text.startswith("# BEGIN SOLUTION"):
            start = number
        elif text == "# END SOLUTION" and start is not None:
            ranges.append((start, number))
            start = None
    return ranges


def load_equivalents(path: Path = EQUIVALENT_FILE) -> list[Equivalent]:
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return [
        Equivalent(e["exercise"], e["before"].strip(), e["after"].strip(), e["reason"])
        for e in data.get("equivalent", [])
    ]


def changed_lines(diff: str) -> tuple[str, str]:
    """The removed and added lines of a unified diff, each joined and stripped."""
    body = [line for line in diff.splitlines() if not line.startswith(("---", "+++", "@@"))]
    removed = " ".join(line[1:].strip() for line in body if line.startswith("-"))
    added = " ".join(line[1:].strip() for line in body if line.startswith("+"))
    return removed, added


def grader_command(exercise: catalog.Exercise) -> str:
    """The grader run for one mutant: stop at the first failure, no plugins it never needs."""
    return shlex.join(
        [
            sys.executable, "-m", "pytest", str(ROOT / exercise.grader),
            "-x", "-q", "--no-header", "-p", "no:cacheprovider",
            "--rootdir", str(ROOT), "-o", "addopts=",
        ]
    )  # fmt: skip


def _skip_outside(work_db: Any, ranges: Sequence[tuple[int, int]]) -> None:
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    outside = [
        item.job_id
        for item in work_db.pending_work_items
        if not any(
            start <= m.start_pos[0] <= end and start <= m.end_pos[0] <= end
            for m in item.mutations
            for start, end in ranges
        )
    ]
    if outside:
        work_db.set_multiple_results(
            outside,
            WorkResult(output="outside the solution markers", worker_outcome=WorkerOutcome.SKIPPED),
        )


def mutate_exercise(exercise_id: str, equivalents: Iterable[Equivalent], progress: bool) -> Score:
    """Run every mutant of one exercise's marked part against its grader."""
    # Imported here: the helpers above are tested without the mutation tool's start-up cost.
    from cosmic_ray.commands import init
    from cosmic_ray.mutating import mutate_and_test
    from cosmic_ray.work_db import use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    exercise = catalog.get(exercise_id)
    score = Score(exercise.id)
    listed = [e for e in equivalents if e.exercise == exercise.id]
    matched: set[Equivalent] = set()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"mutation-{exercise.id}-") as scratch:
        folder = Path(scratch) / "graded"
        folder.mkdir()
        target = folder / exercise.file_name
        shutil.copy(ROOT / "solutions" / exercise.file_name, target)
        os.environ.update(
            {
                GRADE_ENV: str(folder),
                ROOT_ENV: str(ROOT),
                "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
                "HYPOTHESIS_STORAGE_DIRECTORY": str(Path(scratch) / "hypothesis"),
            }
        )
        command = grader_command(exercise)
        # The unmutated copy must pass, and its time sets the timeout (an endless loop is a kill).
        baseline_start = time.monotonic()
        baseline = subprocess.run(shlex.split(command), capture_output=True, text=True, check=False)
        baseline_seconds = time.monotonic() - baseline_start
        if baseline.returncode != 0:
            raise SystemExit(
                f"{exercise.id}: the grader fails the reference solution itself; fix that first:\n"
                + baseline.stdout[-2000:]
            )
        timeout = max(10.0, 5 * baseline_seconds)
        with use_db(str(Path(scratch) / "session.sqlite")) as work_db:
            init([target], work_db, {})
            _skip_outside(work_db, solution_lines(target.read_text(encoding="utf-8")))
            pending = list(work_db.pending_work_items)
            for item in pending:
                result = mutate_and_test(item.mutations, command, timeout)
                work_db.set_result(item.job_id, result)
                if progress:
                    print("." if result.is_killed else "S", end="", flush=True, file=sys.stderr)
            if progress:
                print(file=sys.stderr)
            done = sorted(
                work_db.completed_work_items,
                key=lambda pair: (
                    pair[0].mutations[0].start_pos,
                    pair[0].mutations[0].operator_name,
                ),
            )
            for _item, result in done:
                if result.worker_outcome == WorkerOutcome.SKIPPED:
                    continue
                if result.worker_outcome == WorkerOutcome.NO_TEST:
                    continue  # the operator found nothing to change at that position
                if result.worker_outcome != WorkerOutcome.NORMAL:
                    score.broken.append(result.output or "")
                    continue
                score.mutants += 1
                diff = (result.diff or "").replace(str(folder) + "/", "solutions/")
                if result.test_outcome == TestOutcome.KILLED:
                    score.killed += 1
                    continue
                before, after = changed_lines(diff)
                known = next((e for e in listed if (e.before, e.after) == (before, after)), None)
                if known is not None:
                    score.equivalent += 1
                    matched.add(known)
                else:
                    score.survivors.append(diff)
    score.stale = [e for e in listed if e not in matched]
    score.seconds = time.monotonic() - started
    return score


def report(score: Score) -> str:
    lines = [
        f"{score.exercise}: {score.mutants} mutants, {score.killed} killed, "
        f"{len(score.survivors)} survived, {score.equivalent} equivalent: "
        f"{score.score:.1%} killed ({score.seconds:.0f} s)"
    ]
    for diff in score.survivors:
        lines.append(f"  survivor (not listed as equivalent in {EQUIVALENT_FILE.name}):")
        lines.extend("    " + line for line in diff.splitlines())
    for stale in score.stale:
        lines.append(
            f"  listed as equivalent but no such survivor (remove it?): {stale.before!r} -> {stale.after!r}"
        )
    for output in score.broken:
        lines.append("  the mutation itself failed: " + output.strip().splitlines()[-1])
    return "\n".join(lines)


def markdown(scores: Sequence[Score]) -> str:
    rows = [
        "| exercise | mutants | killed | survivors | equivalent | killed of the rest |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rows += [
        f"| {s.exercise} | {s.mutants} | {s.killed} | {len(s.survivors)} | {s.equivalent} "
        f"| {s.score:.1%} |"
        for s in scores
    ]
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exercises", nargs="*", help="exercise ids (default: all)")
    parser.add_argument(
        "--markdown", action="store_true", help="also print a table for BENCHMARKS.md"
    )
    args = parser.parse_args(argv)
    try:
        ids = [catalog.get(name).id for name in args.exercises] or list(catalog.exercises())
    except catalog.UnknownExerciseError as error:
        parser.error(str(error))
    equivalents = load_equivalents()
    scores = []
    for exercise_id in ids:
        print(f">> {exercise_id}", file=sys.stderr, flush=True)
        score = mutate_exercise(exercise_id, equivalents, progress=sys.stderr.isatty())
        print(report(score), flush=True)
        scores.append(score)
    if args.markdown:
        print(markdown(scores))
    below = [s.exercise for s in scores if s.score < GOAL]
    if below:
        print(f"below the {GOAL:.0%} goal: {', '.join(below)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
