"""Every way out of a check stops what it started.

A looping answer that also starts a child process, both deaf to SIGINT (the
worst a learner can write), is interrupted while its grader runs: by Ctrl+C or
SIGTERM on ``python -m patterns check``, by SIGINT or SIGTERM on ``watch``, and
by the interrupt button of a real Jupyter kernel. Afterwards no process of the
grader's group is left and its scratch folder is gone; the check said so in one line.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from patterns.course import catalog
from patterns.course.paths import ROOT_ENV
from patterns.course.stubs import pristine_course

ROOT = Path(__file__).resolve().parents[1]

# The learner's answer: start a child, say where we are, then loop, swallowing Ctrl+C.
STUBBORN_LOOP = """
import json, os, subprocess, sys

def split_evenly(total_cents, people):
    child = subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(120)"])
    facts = {{"grader": os.getpid(), "child": child.pid,
              "scratch": os.path.dirname(os.environ["PATTERNS_REPORT"])}}
    with open({marker!r} + ".tmp", "w") as out:
        json.dump(facts, out)
    os.replace({marker!r} + ".tmp", {marker!r})
    while True:
        try:
            while True:
                pass
        except KeyboardInterrupt:
            pass
"""


@pytest.fixture
def looping_course(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A course copy whose ex00 loops forever; the marker file says when the grader is in it."""
    with pristine_course(ROOT) as copy:
        monkeypatch.setenv(ROOT_ENV, str(copy))
        monkeypatch.setenv("PATTERNS_CHECK_TIMEOUT", "120")  # the interrupt, not the timeout
        marker = copy / "grader.json"
        answer = STUBBORN_LOOP.format(marker=str(marker))
        (copy / "exercises" / catalog.get("ex00").file_name).write_text(answer)
        yield marker


def wait_for_marker(marker: Path, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not marker.exists():
        assert time.monotonic() < deadline, "the grader never reached the learner's loop"
        time.sleep(0.05)
    facts: dict[str, Any] = json.loads(marker.read_text())
    return facts


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _in_group(group: int) -> list[int]:
    members = []
    for pid in psutil.pids():
        try:
            if os.getpgid(pid) == group and _alive(pid):
                members.append(pid)
        except (ProcessLookupError, PermissionError):
            pass
    return members


def left_over(facts: dict[str, Any], settle: float = 5) -> list[int]:
    """Processes of the check still alive after ``settle`` seconds (SIGKILL is not instant)."""
    deadline = time.monotonic() + settle
    while True:
        alive = sorted(
            {pid for pid in (facts["grader"], facts["child"]) if _alive(pid)}
            | set(_in_group(facts["grader"]))
        )
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def start(*args: str) -> subprocess.Popen[str]:
    # A session of its own, like a terminal's foreground job, so the signal reaches only it.
    return subprocess.Popen(
        [sys.executable, "-m", "patterns", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip


def assert_nothing_left(facts: dict[str, Any]) -> None:
    assert left_over(facts) == [], "grader processes outlived the interrupted check"
    assert not Path(facts["scratch"]).exists(), "the check's scratch folder was left behind"


@pytest.mark.parametrize(
    ("command", "signum", "exit_code"),
    [
        (("check", "ex00"), signal.SIGINT, 130),
        (("check", "ex00"), signal.SIGTERM, 130),
        (("watch", "ex00"), signal.SIGINT, 0),
        (("watch", "ex00"), signal.SIGTERM, 0),
    ],
    ids=["check-ctrl-c", "check-sigterm", "watch-sigint", "watch-sigterm"],
)
def test_a_signal_during_a_check_stops_the_grader_and_its_children(
    looping_course: Path, command: tuple[str, ...], signum: signal.Signals, exit_code: int
) -> None:
    """Ctrl+C or SIGTERM on check or watch kills the grader's group, removes its folder, says so."""
    process = start(*command)
    try:
        facts = wait_for_marker(looping_course)
        os.killpg(process.pid, signum)
        output, _ = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == exit_code, output
    assert "ex00: check interrupted; the grader was stopped and nothing was recorded." in output
    assert "Traceback" not in output
    assert_nothing_left(facts)


@pytest.mark.slow
def test_the_notebook_interrupt_button_stops_the_grader(looping_course: Path) -> None:
    """The kernel's interrupt button during check("ex00") stops the grader; the cell says so."""
    from jupyter_client.manager import KernelManager

    manager = KernelManager(kernel_name="python3")
    manager.start_kernel()  # inherits the course copy's environment variables
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        msg_id = client.execute('from patterns.course import check\nprint(check("ex00"))')
        facts = wait_for_marker(looping_course)
        manager.interrupt_kernel()  # what JupyterLab's stop button does
        printed: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            message = client.get_iopub_msg(timeout=30)
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            if message["msg_type"] == "stream":
                printed.append(message["content"]["text"])
            if message["msg_type"] == "error":
                printed.append(message["content"]["ename"])
            if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                break
        output = "".join(printed)
        assert "ex00: check interrupted; the grader was stopped" in output, output
        assert "KeyboardInterrupt" not in output, "the learner sees a traceback"
        assert_nothing_left(facts)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_a_killed_check_leaves_a_grader_that_ends_itself(
    looping_course: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL on check (a killed kernel): no cleanup can run, so the grader ends its own group."""
    monkeypatch.setenv("PATTERNS_CHECK_TIMEOUT", "5")
    process = start("check", "ex00")
    try:
        facts = wait_for_marker(looping_course)
    finally:
        process.kill()
        process.communicate(timeout=10)
    assert left_over(facts, settle=15) == [], "the grader outlived its killed check"
    assert not Path(facts["scratch"]).exists(), "the check's scratch folder was left behind"
