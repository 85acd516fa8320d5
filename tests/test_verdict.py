"""The verdict is honest, explains every failure, aims hints at it, and survives bad input.

Driven as a learner drives it: ``python -m patterns`` on a private copy of the
course, with answers written the way careless or sneaky learners write them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from patterns.course import catalog
from patterns.course.paths import ROOT_ENV
from patterns.course.report_schema import CaseRecord, GraderReport
from patterns.course.runner import GraderRun, run_grader, verdict_from_report
from patterns.course.state import CourseState
from patterns.course.stubs import pristine_course
from patterns.course.verdict import PRINTED_LINES_SHOWN, CaseOutcome, Verdict

ROOT = Path(__file__).resolve().parents[1]
EX00 = catalog.get("ex00")
# One sentence per grader test of ex00 (its behaviours).
EX00_BEHAVIOURS = [
    line for line in (ROOT / EX00.grader).read_text().splitlines() if line.startswith("def test_")
]


@pytest.fixture
def course(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private copy of the course with pristine stubs."""
    with pristine_course(ROOT) as copy:
        monkeypatch.setenv(ROOT_ENV, str(copy))
        yield copy


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "patterns", *args],
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip


def answer(course: Path, source: str, exercise: catalog.Exercise = EX00) -> None:
    (course / "exercises" / exercise.file_name).write_text(source)


def progress(course: Path, exercise_id: str = "ex00") -> dict[str, object]:
    rows = json.loads(cli("progress", "--json").stdout)["exercises"]
    row: dict[str, object] = next(r for r in rows if r["exercise"] == exercise_id)
    return row


# --- an honest verdict --------------------------------------------------------------------

SESSION_ENDERS = {
    "keyboard-interrupt": ("raise KeyboardInterrupt", "ended early: KeyboardInterrupt"),
    "sys-exit": ("import sys; sys.exit(0)", "your code called sys.exit()"),
    "os-exit": ("import os; os._exit(0)", "stopped before reporting (exit status 0)"),
    "kill-self": (
        "import os, signal; os.kill(os.getpid(), signal.SIGKILL)",
        "exit status -9, killed by SIGKILL",
    ),
    "sigint-self": (
        "import os, signal; os.kill(os.getpid(), signal.SIGINT)",
        "ended early: KeyboardInterrupt",
    ),
}


@pytest.mark.parametrize("how", list(SESSION_ENDERS))
def test_code_that_ends_the_grading_session_is_never_a_pass(course: Path, how: str) -> None:
    """KeyboardInterrupt, sys.exit, os._exit or a signal to itself: "could not be checked", no pass."""
    statement, expected = SESSION_ENDERS[how]
    # The first behaviour passes, so a verdict that counted only the reported tests would pass.
    answer(
        course,
        "def split_evenly(total_cents, people):\n"
        "    if people <= 0 or total_cents < 0:\n        raise ValueError(people)\n"
        f"    if (total_cents, people) == (1000, 3):\n        {statement}\n"
        "    share, left = divmod(total_cents, people)\n"
        "    return [share + 1] * left + [share] * (people - left)\n",
    )
    result = cli("check", "ex00")
    assert result.returncode == 1, result.stdout
    assert "ex00 could not be checked" in result.stdout and expected in result.stdout
    assert "passes" not in result.stdout and "Traceback" not in result.stdout
    assert progress(course)["passed"] is False
    assert cli("solution", "ex00").returncode == 1, "the solution opened without a pass"


@pytest.mark.parametrize("own_session", [False, True], ids=["child", "daemon"])
def test_processes_started_by_the_learner_do_not_outlive_the_check(
    tmp_path: Path, own_session: bool
) -> None:
    """A child the learner's code starts and never waits for, even in a session of its own,
    is gone after the check."""
    pid_file = tmp_path / "child.pid"
    (tmp_path / EX00.file_name).write_text(
        "import subprocess, sys\n"
        "def split_evenly(total_cents, people):\n"
        "    child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, "
        f"start_new_session={own_session})\n"
        f"    open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "    return []\n"
    )
    verdict = run_grader("ex00", tmp_path)
    assert not verdict.passed
    child = int(pid_file.read_text())
    with contextlib.suppress(psutil.NoSuchProcess):
        # SIGKILL is sent before run_grader returns; its delivery takes a moment.
        psutil.Process(child).wait(timeout=5)
    with contextlib.suppress(psutil.NoSuchProcess):
        status = psutil.Process(child).status()
        assert status == psutil.STATUS_ZOMBIE, "the learner's child process outlived the check"


def _case(outcome: str, **changes: object) -> CaseRecord:
    record = CaseRecord(
        test="test_x",
        behaviour="It works.",
        outcome="passed" if outcome == "passed" else "failed",
        reason="" if outcome == "passed" else "it broke",
        printed=[],
        hints=[],
        missing_postgres=False,
    )
    record.update(changes)  # type: ignore[typeddict-item]
    return record


def _judge(tests: list[CaseRecord], collected: int, exitstatus: int = 0) -> Verdict:
    report = GraderReport(
        exitstatus=exitstatus,
        collected=collected,
        interrupted="",
        tests=tests,
        collection_errors=[],
    )
    base = Verdict("ex00", "Warm-up", hints_available=3)
    return verdict_from_report(base, report, GraderRun(exitstatus, "", 0.1, False), 10)


def test_fewer_behaviours_reported_than_collected_is_not_a_pass() -> None:
    """Two passing reports out of five collected tests: "could not be checked"."""
    verdict = _judge([_case("passed"), _case("passed")], collected=5)
    assert not verdict.passed
    assert "2 of 5 behaviours reported" in verdict.headline()


def test_postgres_missing_in_the_grader_is_not_an_attempt() -> None:
    """Every failure caused by a missing PostgreSQL: not checked, doctor named, nothing recorded."""
    broken = [_case("failed", missing_postgres=True) for _ in range(9)]
    verdict = _judge(broken, collected=9, exitstatus=1)
    assert not verdict.passed and not verdict.attempt
    assert "python -m patterns doctor" in verdict.headline()


# --- feedback for every failure -------------------------------------------------------------


def test_every_failing_behaviour_has_its_own_why_and_the_call_that_raised(course: Path) -> None:
    """Each FAIL line is followed by its reason; a bare exception names the grader's call."""
    answer(course, "def split_evenly(total_cents, people):\n    return {}[total_cents]\n")
    text = cli("check", "ex00").stdout
    lines = text.splitlines()
    fails = [i for i, line in enumerate(lines) if "[FAIL]" in line]
    assert len(fails) == len(EX00_BEHAVIOURS), text
    whys = [lines[i + 1].strip() for i in fails]
    assert all(why.startswith("Why: split_evenly(") and "KeyError" in why for why in whys), text
    assert "Why: split_evenly(1000, 3) raised KeyError: 1000" in text
    assert "Failing explicit example" not in text and "(note: " not in text, text


def test_a_bare_exception_the_grader_lets_through_names_the_grader_call(course: Path) -> None:
    """When a grader calls learner code without catching, the reason names file, line and call."""
    # The copy links tests/ to the real folder: give it its own tests/ before editing one.
    (course / "tests").unlink()
    shutil.copytree(ROOT / "tests", course / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    grader = course / EX00.grader
    grader.write_text(
        "import pytest\n"
        "from patterns.course.grading import load_graded\n\n\n"
        "@pytest.fixture\n"
        "def ex00():\n"
        "    return load_graded('ex00')\n\n\n"
        "def test_split(ex00):\n"
        '    """Splits a bill."""\n'
        "    shares = ex00.split_evenly(1000, 3)\n"
        "    assert shares == [334, 333, 333]\n"
    )
    answer(course, "def split_evenly(total_cents, people):\n    return {}[total_cents]\n")
    text = cli("check", "ex00").stdout
    assert "Why: KeyError: 1000" in text, text
    assert "at ex00_warmup.py line 2" in text
    assert "when the grader ran `shares = ex00.split_evenly(1000, 3)`" in text


def test_what_the_learner_printed_is_shown_capped(course: Path) -> None:
    """On failure, the last lines the code printed are shown, at most ten."""
    answer(
        course,
        "def split_evenly(total_cents, people):\n"
        "    for n in range(30):\n        print('debug line', n)\n    return []\n",
    )
    text = cli("check", "ex00").stdout
    shown = [line for line in text.splitlines() if line.startswith("    | ")]
    assert len(shown) == PRINTED_LINES_SHOWN
    assert shown[-1] == "    | debug line 29"


def test_passing_output_does_not_show_prints(course: Path) -> None:
    """Prints are only shown to explain a failure."""
    solution = (course / "solutions" / EX00.file_name).read_text()
    answer(
        course,
        solution.replace("    # BEGIN SOLUTION", "    print('hello')\n    # BEGIN SOLUTION", 1),
    )
    result = cli("check", "ex00")
    assert result.returncode == 0, result.stdout
    assert "hello" not in result.stdout


# --- hints aimed at the failure --------------------------------------------------------------

ONLY_REFUSALS_WRONG = (  # refuses no one, but a negative total goes through
    "def split_evenly(total_cents, people):\n"
    "    if people < 1:\n"
    "        raise ValueError(f'people must be at least 1, got {people}')\n"
    "    share, left = divmod(total_cents, people)\n"
    "    return [share + 1] * left + [share] * (people - left)\n"
)


def test_hint_aims_at_the_first_failing_behaviour_then_falls_back(course: Path) -> None:
    """The grader's @hints of the failing behaviour come first, one at a time, then the
    catalog's general hints; the last one repeats. No aimed hints: general ones only."""
    answer(course, ONLY_REFUSALS_WRONG)
    total = 1 + len(EX00.hints)
    assert f"{total} hints, the first for this behaviour" in cli("check", "ex00").stdout
    row = progress(course)
    assert (row["hints_shown"], row["hints_total"]) == (0, total)  # what check announced
    first = cli("hint", "ex00").stdout
    assert f"hint 1 of {total} (for: A negative total" in first and "naming the argument" in first
    assert "That was the last hint" not in first
    second = cli("hint", "ex00").stdout
    assert f"hint 2 of {total}: {EX00.hints[0]}" in second, second
    for _ in EX00.hints[1:]:
        last = cli("hint", "ex00").stdout
    assert f"hint {total} of {total}: {EX00.hints[-1]}" in last and "That was the last hint" in last
    assert f"hint {total} of {total}: {EX00.hints[-1]}" in cli("hint", "ex00").stdout  # repeats
    row = progress(course)
    assert (row["hints_shown"], row["hints_total"]) == (total, total)  # each hint counted once
    # A failure whose test has no hints of its own: the catalog's general hints.
    state = CourseState(course)
    state.record_check(
        Verdict("ex00", EX00.title, (CaseOutcome("t", "A behaviour.", False, "why"),))
    )
    general = state.reveal_hint("ex00")
    assert (general.total, general.text) == (len(EX00.hints), EX00.hints[-1])  # already seen


# --- bad input: one sentence, never a traceback ----------------------------------------------


def _one_sentence(result: subprocess.CompletedProcess[str], expected: str) -> None:
    output = result.stdout + result.stderr
    assert expected in output, output
    assert "Traceback" not in output


def test_an_exercise_id_of_5000_digits(course: Path) -> None:
    _one_sentence(cli("check", "1" * 5000), "There is no exercise called '111")
    assert len(cli("check", "1" * 5000).stderr) < 300


def test_an_exercise_path_that_is_a_folder(course: Path) -> None:
    path = course / "exercises" / EX00.file_name
    path.unlink()
    path.mkdir()
    _one_sentence(cli("check", "ex00"), "is a folder, not a Python file")


def test_a_timeout_that_is_not_a_number(course: Path) -> None:
    env = {**os.environ, "PATTERNS_CHECK_TIMEOUT": "ten"}
    _one_sentence(cli("check", "ex00", env=env), "PATTERNS_CHECK_TIMEOUT='ten' is not a number")


def test_nul_bytes_in_the_file(course: Path) -> None:
    answer(course, "def split_evenly(total_cents, people):\n    return [\x00]\n")
    result = cli("check", "ex00")
    _one_sentence(result, "contains a NUL byte")
    assert "None" not in result.stdout


def test_packages_missing_from_the_running_python_say_activate_the_venv(
    course: Path, tmp_path: Path
) -> None:
    """psycopg missing (shadowed here) is not "no tests collected": activate .venv, how."""
    shadow = tmp_path / "psycopg"
    shadow.mkdir()
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'psycopg'\", name='psycopg')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = cli("check", "ex01", env=env)
    _one_sentence(result, "this Python lacks the package 'psycopg'")
    assert "source .venv/bin/activate" in result.stdout
    assert "collected no tests" not in result.stdout


def test_postgres_missing_is_not_checked_and_not_recorded(course: Path, tmp_path: Path) -> None:
    """No PostgreSQL binaries: "could not be checked" plus doctor, and no failed attempt."""
    env = {**os.environ, "PATTERNS_PG_BINARIES": str(tmp_path)}  # a folder without PostgreSQL
    result = cli("check", "ex02", env=env)
    _one_sentence(result, "ex02 could not be checked: ex02 needs PostgreSQL")
    assert "python -m patterns doctor" in result.stdout
    assert progress(course, "ex02")["checks"] == 0


def test_a_postgres_that_cannot_start_is_not_a_failed_attempt(course: Path, tmp_path: Path) -> None:
    """Binaries found but the server cannot start (seen by the grader): not checked, not recorded."""
    for name in ("initdb", "postgres", "pg_ctl"):
        broken = tmp_path / name
        broken.write_text("#!/bin/sh\necho broken >&2\nexit 1\n")
        broken.chmod(0o755)
    env = {**os.environ, "PATTERNS_PG_BINARIES": str(tmp_path)}
    result = cli("check", "ex02", env=env)
    _one_sentence(result, "ex02 could not be checked: PostgreSQL could not be started")
    assert "[FAIL]" not in result.stdout and "Cause:" in result.stdout
    assert progress(course, "ex02")["checks"] == 0


def test_a_closed_pipe_is_not_a_traceback(course: Path) -> None:
    """`check ex06 | head -1` prints the headline and no BrokenPipeError."""
    result = subprocess.run(
        f"{sys.executable} -m patterns check ex06 | head -1",
        shell=True, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.stdout.startswith("ex06: ")
    assert "BrokenPipe" not in result.stderr and "Traceback" not in result.stderr
    # A reader gone before the verdict is written: the write itself meets the closed pipe.
    gone = subprocess.run(
        f"{sys.executable} -m patterns check ex06 | true",
        shell=True, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert "BrokenPipe" not in gone.stderr and "Traceback" not in gone.stderr, gone.stderr


# --- watch --------------------------------------------------------------------------------------


def test_watch_checks_once_at_start_and_survives_a_broken_state_folder(course: Path) -> None:
    """watch shows where the learner stands at once; unsaved progress is a note, not a crash."""
    (course / ".course").write_text("not a folder")
    result = cli("watch", "ex00", "--max-runs", "0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"ex00: \d+ of \d+ behaviours fail", result.stdout), result.stdout
    assert "Note: .course is a file, not a folder, so your progress cannot be kept" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_the_widget_button_shows_the_hint_aimed_at_the_failure() -> None:
    """The notebook's "show hint" button uses the same aimed hint and the same wording."""
    from patterns.course.verdict import CaseOutcome, Hint
    from patterns.course.widgets import CheckView

    failing = CaseOutcome("t", "Refuses bad input.", False, "no error", hints=("one", "two"))
    verdict = Verdict("ex00", "Warm-up", (failing,), hints_available=3)
    hints = iter([Hint(1, 2, "one", "Refuses bad input."), Hint(2, 2, "two", "Refuses bad input.")])
    view = CheckView(verdict, lambda: next(hints))
    assert "5 hints, the first 2 for this behaviour" in view.fallback_text()
    view.hint_button.click()
    assert "ex00, hint 1 of 2 (for: Refuses bad input): one" in view.hint_area.value
    view.hint_button.click()
    assert view.hint_button.disabled


def test_watch_of_every_exercise_checks_the_started_ones_at_start(course: Path) -> None:
    """Without an exercise named, watch checks at once only those the learner has changed."""
    answer(course, "def split_evenly(total_cents, people):\n    return []\n")
    result = cli("watch", "--max-runs", "0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"ex00: \d+ of \d+ behaviours fail", result.stdout), result.stdout
    assert "ex01" not in result.stdout.split("Ctrl+C to stop.", 1)[1], (
        "an untouched stub was checked"
    )
