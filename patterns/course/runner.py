"""Run one exercise's grader in a separate process and turn its report into a Verdict.

A separate process because the learner's code may loop forever, crash the
interpreter or leave state behind; the process group is killed on timeout.
Kept light on imports (no pytest, nbformat or widgets here) so ``check`` is fast.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from patterns.course import catalog
from patterns.course.grading import GRADE_ENV
from patterns.course.paths import ROOT_ENV, course_root
from patterns.course.verdict import CaseOutcome, Verdict

if TYPE_CHECKING:
    from patterns.course.state import CourseState


def _syntax_problem(path: Path) -> str:
    try:
        compile(path.read_bytes(), str(path), "exec")
    except SyntaxError as error:
        return (
            f"{path.name} has a syntax error on line {error.lineno}: {error.msg}. "
            "Fix that line and check again."
        )
    except ValueError as error:  # e.g. NUL bytes
        return f"{path.name} cannot be read as Python ({error})."
    return ""


def run_grader(
    exercise_id: str, target: str | Path = "exercises", root: Path | None = None
) -> Verdict:
    """Grade ``target`` (``"exercises"``, ``"solutions"`` or a folder) for one exercise."""
    exercise = catalog.get(exercise_id)
    root = root or course_root()
    target_dir = root / target if target in ("exercises", "solutions") else Path(target)
    graded_file = target_dir / exercise.file_name
    base = Verdict(exercise.id, exercise.title, hints_available=len(exercise.hints))
    if not graded_file.exists():
        return _with_problem(
            base,
            f"{graded_file} is missing. Restore it with `python -m patterns reset {exercise.id}`.",
        )
    problem = _syntax_problem(graded_file)
    if problem:
        return _with_problem(base, problem)

    with tempfile.TemporaryDirectory(prefix="patterns-check-") as scratch:
        report_path = Path(scratch) / "report.json"
        env = dict(os.environ)
        env.update(
            {
                GRADE_ENV: str(target_dir),
                ROOT_ENV: str(root),
                "PATTERNS_REPORT": str(report_path),
                # Plugin autoload (anyio and friends) costs about 0.2 s per run.
                "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
                # hypothesis-based graders: keep its example database out of the course root
                "HYPOTHESIS_STORAGE_DIRECTORY": str(root / ".course" / "hypothesis"),
            }
        )
        command = [
            sys.executable, "-m", "pytest", exercise.grader,
            "-q", "--no-header", "-p", "patterns.course.report",
            # Built-in plugins a grader never needs; each costs start-up time.
            "-p", "no:cacheprovider", "-p", "no:doctest", "-p", "no:junitxml",
            "-p", "no:pastebin", "-p", "no:legacypath", "-p", "no:stepwise",
            "--rootdir", str(root), "-o", "addopts=",
        ]  # fmt: skip
        timeout = float(os.environ.get("PATTERNS_CHECK_TIMEOUT", exercise.timeout))
        started = time.monotonic()
        process = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so a timeout can kill everything it started
        )
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return _with_problem(
                base,
                f"the grader was stopped after {timeout:g} s. Look for an infinite "
                "loop (a `while` whose condition never changes, or an endless generator "
                "consumed with list()).",
            )
        seconds = time.monotonic() - started
        try:
            report = json.loads(report_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            tail = output.decode(errors="replace").strip().splitlines()[-5:]
            return _with_problem(
                base, "the grader crashed before reporting:\n    " + "\n    ".join(tail)
            )
    outcomes = tuple(
        CaseOutcome(t["test"], t["behaviour"], t["outcome"] == "passed", t["reason"])
        for t in report["tests"]
    )
    if not outcomes:
        return _with_problem(base, "the grader collected no tests (is the grader file intact?).")
    return Verdict(
        exercise.id, exercise.title, outcomes, seconds=seconds, hints_available=len(exercise.hints)
    )


def check_exercise(exercise_id: str, root: Path) -> Verdict:
    """Grade the learner's file and record the result in their progress."""
    from patterns.course.state import CourseState

    verdict = run_grader(exercise_id, "exercises", root)
    state = CourseState(root)
    notes = state.record_check(verdict)  # never raises: state problems are notes
    _tell_the_room(state)
    return replace(verdict, notes=notes) if notes else verdict


def _tell_the_room(state: CourseState) -> None:
    """On a JupyterHub with the room service, send the learner's progress (at most 50 ms)."""
    from patterns.course.room.client import room_url, send_progress

    if room_url() is not None:
        send_progress([row.to_json() for row in state.summary()])


def _with_problem(base: Verdict, problem: str) -> Verdict:
    return Verdict(base.exercise, base.title, problem=problem, hints_available=base.hints_available)
