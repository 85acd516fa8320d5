"""Run one exercise's grader in a separate process and turn its report into a Verdict.

A separate process because the learner's code may loop forever, crash the
interpreter or leave state behind. The grader runs in its own process group,
and every way out of a check (the end, the timeout, Ctrl+C, the notebook's
interrupt button, SIGTERM) stops that whole group and removes the scratch folder.
Kept light on imports (no pytest, nbformat or widgets here) so ``check`` is fast.

The steps: :func:`pytest_arguments`, :func:`run` (with its interrupts), :func:`read_report`,
then :func:`verdict_from_report` judges what came back, honestly: a session that
ended early, crashed or reported fewer behaviours than it collected is never a pass.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from patterns.course import catalog
from patterns.course.grading import GRADE_ENV, graded_folder, syntax_problem
from patterns.course.paths import ROOT_ENV, course_root
from patterns.course.report_schema import DEADLINE_ENV, REPORT_ENV, GraderReport
from patterns.course.verdict import CaseOutcome, Verdict

if TYPE_CHECKING:
    from patterns.course.state import CourseState
    from patterns.course.warm_grader import WarmGrader

TIMEOUT_ENV = "PATTERNS_CHECK_TIMEOUT"
#: After an interrupt the grader gets this long to tear down (stop its PostgreSQL
#: server, delete its files) before its whole process group is killed.
GRACE_SECONDS = 2.0
#: The sentence for a grader run by a Python that lacks the course's packages.
ACTIVATE_VENV = (
    "activate the course's environment first (`source .venv/bin/activate`, on Windows "
    "`.venv\\Scripts\\activate`) or run `.venv/bin/python -m patterns ...`, then check again."
)


class BadSettingError(ValueError):
    """An environment variable of the check has a value it cannot use."""


@dataclass(frozen=True)
class GraderRun:
    """How the grader process ended."""

    returncode: int
    output: str  # what pytest itself printed (the learner's prints are in the report)
    seconds: float
    timed_out: bool


def interrupted_line(exercise_id: str) -> str:
    """What an interrupted check says, in one line, wherever it was interrupted."""
    return f"{exercise_id}: check interrupted; the grader was stopped and nothing was recorded."


def check_timeout(exercise: catalog.Exercise) -> float:
    """The catalog's timeout, or ``PATTERNS_CHECK_TIMEOUT`` when set (seconds)."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return exercise.timeout
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        shown = raw if len(raw) <= 20 else raw[:17] + "..."
        raise BadSettingError(
            f"{TIMEOUT_ENV}={shown!r} is not a number of seconds: set it to a positive "
            f"number such as 30, or unset it."
        )
    return seconds


def pytest_arguments(exercise: catalog.Exercise, root: Path, scratch: Path) -> list[str]:
    """The arguments of the pytest that grades one exercise, its temporary files in ``scratch``.

    The same for a one-shot grader (``python -m pytest ARGS``) and a warm one.
    """
    return [
        exercise.grader,
        "-q", "--no-header", "-p", "patterns.course.report",
        # Built-in plugins a grader never needs; each costs start-up time.
        "-p", "no:cacheprovider", "-p", "no:doctest", "-p", "no:junitxml",
        "-p", "no:pastebin", "-p", "no:legacypath", "-p", "no:stepwise",
        "-p", "no:setuponly", "-p", "no:setupplan", "-p", "no:faulthandler",
        # Without log capture, what the learner's code logs lands in captured stderr,
        # which the verdict shows beside their prints.
        "-p", "no:logging",
        "--rootdir", str(root), "-o", "addopts=",
        # tmp_path folders inside the scratch folder, so they go when it goes.
        "--basetemp", str(scratch / "tmp"),
    ]  # fmt: skip


def grader_environment(graded: Path, root: Path, report: Path, timeout: float) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            GRADE_ENV: str(graded),
            ROOT_ENV: str(root),
            REPORT_ENV: str(report),
            # Past our own timeout and grace: the grader's last resort if we are killed.
            DEADLINE_ENV: str(timeout + GRACE_SECONDS + 1),
            # Plugin autoload (anyio and friends) costs about 0.2 s per run.
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            # hypothesis-based graders: keep its example database out of the course root
            "HYPOTHESIS_STORAGE_DIRECTORY": str(root / ".course" / "hypothesis"),
        }
    )
    return env


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Inside the block, SIGTERM raises KeyboardInterrupt, so cleanup runs as for Ctrl+C.

    Only the main thread can set signal handlers; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def kill_group(pid: int) -> None:
    """Kill the grader ``pid`` and everything in its process group (on Windows: the grader only)."""
    with contextlib.suppress(OSError):  # gone already, or not ours
        if hasattr(os, "killpg"):
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGTERM)


def kill_strays(env: dict[str, str]) -> None:
    """Kill what left the grader's group (``setsid``, a daemon's double fork) but still
    carries this check's environment: its report path is unique to this check.

    Linux only (``/proc``); a few milliseconds, where psutil would cost 0.1 s to import.
    """
    proc = Path("/proc")
    if not (proc / "self" / "environ").exists():
        return
    needle = f"{REPORT_ENV}={env[REPORT_ENV]}\0".encode()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)
        except OSError:  # gone already, or another user's process
            continue


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Ask the grader to stop (SIGINT: pytest tears its fixtures down), then kill its group."""
    try:
        if hasattr(os, "killpg"):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGINT)
            process.wait(GRACE_SECONDS)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        pass  # a loop that swallows KeyboardInterrupt, or a second press: no more waiting
    finally:
        kill_group(process.pid)
        process.wait()


#: Set to "0" to grade every check in a fresh process, even in a notebook or ``watch``.
WARM_ENV = "PATTERNS_WARM_GRADER"
_warm_grader: WarmGrader | None = None


def keep_grader_warm() -> None:
    """From now on, this process's checks use a warm grading worker (started now, in
    the background), which saves the 0.3 s of imports each check pays. For the notebook
    and ``watch``, which check again and again; the worker ends when this process does.
    """
    global _warm_grader
    from patterns.course import warm_grader

    if os.environ.get(WARM_ENV) == "0" or not warm_grader.available():
        return
    if _warm_grader is None:
        _warm_grader = warm_grader.WarmGrader()
        atexit.register(_warm_grader.stop)
    _warm_grader.start()


def run(args: list[str], env: dict[str, str], cwd: Path, timeout: float, log: Path) -> GraderRun:
    """Run ``pytest args`` as the grader, in its own process group; nothing it started
    outlives this call.

    Output goes to a file, not a pipe: a process the learner's code leaves behind
    would hold a pipe open and make us wait for it. With :func:`keep_grader_warm`,
    a warm worker's fresh child runs ``pytest`` instead of a new interpreter.
    """
    warm = _warm_grader
    with terminate_as_interrupt():
        if warm is not None:
            result = warm.run(args, env, cwd, timeout, log)
            if result is not None:
                return result
        return _run_cold(args, env, cwd, timeout, log)


def _run_cold(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float, log: Path
) -> GraderRun:
    started = time.monotonic()
    timed_out = False
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "pytest", *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=output,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _stop(process)
        except BaseException:  # Ctrl+C, the interrupt button, SIGTERM: stop, then let it through
            _stop(process)
            raise
        finally:
            kill_group(process.pid)  # whatever the learner's code started in the group
            kill_strays(env)
    text = log.read_text(encoding="utf-8", errors="replace")
    return GraderRun(process.returncode, text, time.monotonic() - started, timed_out)


def read_report(path: Path) -> GraderReport | None:
    """The plugin's report, or None when the grader stopped before writing it."""
    try:
        report: GraderReport = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return report


def _exit_status(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"exit status {code}, killed by {signal.Signals(-code).name}"
    return f"exit status {code}"


def _lacks_package(base: Verdict, missing: str) -> Verdict:
    """Not checked: the grader's Python is not the course's (a package is missing)."""
    return _not_checked(base, f"this Python lacks the package '{missing}'; {ACTIVATE_VENV}")


def _missing_module(output: str) -> str:
    found = re.search(r"No module named '?([\w]+)", output)
    return found.group(1) if found else ""


def verdict_from_report(
    base: Verdict, report: GraderReport | None, grader: GraderRun, timeout: float
) -> Verdict:
    """Judge what the grader reported; a partial or broken run is never a pass."""
    if grader.timed_out:
        return replace(
            base,
            problem=f"the grader was stopped after {timeout:g} s. Look for an infinite "
            "loop (a `while` whose condition never changes, or an endless generator "
            "consumed with list()).",
        )
    if report is None:
        missing = _missing_module(grader.output)
        if missing:
            return _lacks_package(base, missing)
        tail = grader.output.strip().splitlines()[-5:]
        shown = ". Its last lines:\n    " + "\n    ".join(tail) if tail else "."
        return replace(
            base,
            problem=f"the grader stopped before reporting ({_exit_status(grader.returncode)}). "
            f"Does your code end the program (os._exit, a signal to itself)?{shown}",
        )
    outcomes = tuple(
        CaseOutcome(
            t["test"],
            t["behaviour"],
            t["outcome"] == "passed",
            t["reason"],
            printed=tuple(t["printed"]),
            hints=tuple(t["hints"]),
        )
        for t in report["tests"]
    )
    base = replace(base, outcomes=outcomes, seconds=grader.seconds)
    failing = [t for t in report["tests"] if t["outcome"] != "passed"]
    if failing and all(t["missing_postgres"] for t in failing):
        return _not_checked(
            base,
            "PostgreSQL could not be started on this machine, so nothing was graded. "
            "Run `python -m patterns doctor` to see what is missing.",
        )
    errors = report["collection_errors"]
    missing = next((e["missing_module"] for e in errors if e["missing_module"]), "")
    if missing:
        return _lacks_package(base, missing)
    if errors:
        return _not_checked(base, f"the grader could not be loaded: {errors[0]['reason']}")
    if report["interrupted"]:
        return replace(base, problem=f"the grading session ended early: {report['interrupted']}.")
    if not outcomes:
        return _not_checked(base, "the grader collected no tests (is the grader file intact?).")
    skipped = [t for t in report["tests"] if t["outcome"] == "skipped"]
    if skipped:
        return _not_checked(
            base, f"{len(skipped)} behaviours were skipped: {skipped[0]['reason']}."
        )
    if len(outcomes) < report["collected"] or report["exitstatus"] not in (0, 1):
        return replace(
            base,
            problem=f"the grader stopped early: {len(outcomes)} of {report['collected']} "
            f"behaviours reported ({_exit_status(report['exitstatus'])}).",
        )
    return base


def _not_checked(base: Verdict, problem: str) -> Verdict:
    """A verdict that says nothing about the learner's code: nothing is recorded."""
    return replace(base, problem=problem, attempt=False)


def _precheck(exercise: catalog.Exercise, graded_file: Path) -> Verdict | None:
    """Problems found before starting the grader: a missing file, bad settings, no PostgreSQL."""
    base = Verdict(exercise.id, exercise.title, hints_available=len(exercise.hints))
    reset = f"`python -m patterns reset {exercise.id}`"
    if graded_file.is_dir():
        return _not_checked(
            base,
            f"{graded_file} is a folder, not a Python file. Move it aside, then {reset} "
            "restores the starting stub.",
        )
    if not graded_file.is_file():
        return _not_checked(base, f"{graded_file} is missing. Restore it with {reset}.")
    try:
        check_timeout(exercise)
    except BadSettingError as error:
        return _not_checked(base, str(error))
    try:
        problem = syntax_problem(graded_file)
    except OSError as error:  # no read permission, a broken disk
        return _not_checked(base, f"{graded_file} cannot be read ({error.strerror}).")
    if problem:
        return replace(base, problem=problem)
    if exercise.needs_postgres:
        from patterns.lab import PostgresNotFoundError, find_binaries

        try:
            find_binaries()
        except PostgresNotFoundError as error:
            return _not_checked(
                base,
                f"{exercise.id} needs PostgreSQL, which was not found ({str(error).rstrip('.')}). "
                "Run `python -m patterns doctor` to see what is missing.",
            )
    return None


def run_grader(
    exercise_id: str, target: str | Path = "exercises", root: Path | None = None
) -> Verdict:
    """Grade ``target`` (``"exercises"``, ``"solutions"`` or a folder) for one exercise.

    Raises KeyboardInterrupt when interrupted, after the grader is stopped.
    """
    exercise = catalog.get(exercise_id)
    root = root or course_root()
    graded = graded_folder(target, root)
    early = _precheck(exercise, graded / exercise.file_name)
    if early is not None:
        return early
    base = Verdict(exercise.id, exercise.title, hints_available=len(exercise.hints))
    timeout = check_timeout(exercise)
    with tempfile.TemporaryDirectory(prefix="patterns-check-") as folder:
        scratch = Path(folder)
        report_path = scratch / "report.json"
        grader = run(
            pytest_arguments(exercise, root, scratch),
            grader_environment(graded, root, report_path, timeout),
            root,
            timeout,
            scratch / "output.txt",
        )
        report = None if grader.timed_out else read_report(report_path)
    return verdict_from_report(base, report, grader, timeout)


def check_exercise(exercise_id: str, root: Path) -> Verdict:
    """Grade the learner's file and record the result in their progress.

    Nothing is recorded when the check said nothing about their code. A progress
    file that cannot be written costs a note, never the verdict.
    """
    from patterns.course.state import CourseState

    verdict = run_grader(exercise_id, "exercises", root)
    if not verdict.attempt:
        return verdict
    state = CourseState(root)
    try:
        notes = state.record_check(verdict)  # state problems come back as sentences
    except Exception as error:  # the learner's state file may be in any shape
        notes = (f"your progress could not be saved ({error}).",)
    _tell_the_room(state)
    return replace(verdict, notes=(*verdict.notes, *notes)) if notes else verdict


def _tell_the_room(state: CourseState) -> None:
    """On a JupyterHub with the room service, send the learner's progress (at most 50 ms)."""
    from patterns.course.room.client import room_url, send_progress

    if room_url() is not None:
        send_progress([row.to_json() for row in state.summary()])
