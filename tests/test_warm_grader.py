"""The warm grading worker grades exactly as a cold check does, and leaves nothing behind.

The notebook and ``watch`` use it (interrupts through both are in
test_check_interrupts.py); here: same verdicts as cold, no state carried from one
check to the next, a time-out, a worker that dies, and an owner that is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from patterns.course import catalog, runner, warm_grader
from patterns.course.paths import ROOT_ENV
from patterns.course.stubs import pristine_course

ROOT = Path(__file__).resolve().parents[1]
EX00 = catalog.get("ex00")
SOLUTION = (ROOT / "solutions" / EX00.file_name).read_text()

pytestmark = pytest.mark.skipif(not warm_grader.available(), reason="no fork on this platform")

# Right only on its first call in a process: a warm worker that let one check's
# import of the learner's module reach the next would pass it the second time too.
RIGHT_ONCE = SOLUTION.replace("def split_evenly(", "_calls = []\n\n\ndef _split_evenly(", 1) + (
    "\n\ndef split_evenly(total_cents, people):\n"
    "    _calls.append(1)\n"
    "    shares = _split_evenly(total_cents, people)\n"
    "    return shares if len(_calls) < 2 else [*shares[:-1], shares[-1] + 1]\n"
)


@pytest.fixture
def course(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with pristine_course(ROOT) as copy:
        monkeypatch.setenv(ROOT_ENV, str(copy))
        yield copy


@pytest.fixture
def warm(monkeypatch: pytest.MonkeyPatch) -> Iterator[warm_grader.WarmGrader]:
    """This test process checks through a warm worker, stopped afterwards."""
    monkeypatch.delenv(runner.WARM_ENV, raising=False)
    monkeypatch.setattr(runner, "_warm_grader", None)
    runner.keep_grader_warm()
    grader = runner._warm_grader
    assert grader is not None
    yield grader
    grader.stop()


def answer(course: Path, source: str) -> None:
    (course / "exercises" / EX00.file_name).write_text(source)


def worker_pid(grader: warm_grader.WarmGrader) -> int:
    process = grader._process
    assert process is not None, "no worker runs"
    return process.pid


def test_warm_checks_give_the_cold_verdicts(course: Path, warm: warm_grader.WarmGrader) -> None:
    """Stub, solution and a wrong answer: the same verdict, word for word, warm or cold."""
    cold = {}
    for name, source in [("stub", None), ("solution", SOLUTION), ("wrong", RIGHT_ONCE)]:
        if source is not None:
            answer(course, source)
        texts = []
        for grader in (None, warm):
            runner._warm_grader = grader
            texts.append(runner.run_grader("ex00", "exercises", course).text())
        cold[name] = texts[0]
        assert texts[1] == texts[0], name
    assert "passes" in cold["solution"] and "passes" not in cold["stub"]


def test_no_state_carries_from_one_warm_check_to_the_next(
    course: Path, warm: warm_grader.WarmGrader
) -> None:
    """Each check imports the learner's module afresh, as a new process would."""
    answer(course, SOLUTION)
    assert runner.run_grader("ex00", "exercises", course).passed
    answer(course, RIGHT_ONCE)  # fails within one check (it is called many times)
    assert not runner.run_grader("ex00", "exercises", course).passed
    answer(course, SOLUTION)
    first = worker_pid(warm)
    assert runner.run_grader("ex00", "exercises", course).passed
    assert worker_pid(warm) == first, "the worker was restarted: these checks were not warm"


def test_a_warm_check_that_loops_times_out_and_the_worker_goes_on(
    course: Path, warm: warm_grader.WarmGrader, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATTERNS_CHECK_TIMEOUT", "3")
    answer(course, "def split_evenly(total_cents, people):\n    while True:\n        pass\n")
    verdict = runner.run_grader("ex00", "exercises", course)
    assert "could not be checked: the grader was stopped after 3 s" in verdict.text()
    answer(course, SOLUTION)
    assert runner.run_grader("ex00", "exercises", course).passed


def test_a_dead_worker_is_replaced(course: Path, warm: warm_grader.WarmGrader) -> None:
    answer(course, SOLUTION)
    assert runner.run_grader("ex00", "exercises", course).passed
    dead = worker_pid(warm)
    os.kill(dead, signal.SIGKILL)
    assert runner.run_grader("ex00", "exercises", course).passed  # cold, this once
    assert worker_pid(warm) != dead


OWNER = """
from patterns.course import runner
runner.keep_grader_warm()
print(runner._warm_grader._process.pid, flush=True)
input()
"""


@pytest.mark.parametrize("how", ["ends", "killed"])
def test_the_worker_ends_with_the_process_that_started_it(how: str) -> None:
    """A kernel restarted, shut down or killed: its worker goes too (end of its input)."""
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert owner.stdout is not None and owner.stdin is not None
    worker = psutil.Process(int(owner.stdout.readline()))
    if how == "ends":
        owner.stdin.close()  # input() returns: the owner exits normally
    else:
        owner.kill()
    owner.wait(10)
    deadline = time.monotonic() + 10
    while worker.is_running() and worker.status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the warm worker outlived its owner"
        time.sleep(0.05)
