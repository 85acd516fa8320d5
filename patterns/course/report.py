"""A pytest plugin that writes each grader test's outcome as JSON for the verdict.

Loaded with ``-p patterns.course.report`` by the check runner; writes to the
file named by ``PATTERNS_REPORT`` (:data:`~patterns.course.report_schema.REPORT_ENV`).
Per test it records the behaviour (the docstring), a one-line reason, the last
lines the code printed, and the hints of ``@pytest.mark.hints``. Per session it
records how many tests were collected and whether the session was cut short, so
the runner can refuse to call a partial run a pass.
"""

from __future__ import annotations

import gc
import json
import os
import re
import shutil
import signal
import sys
import threading
from collections.abc import Generator
from pathlib import Path

import pytest

from patterns.course.report_schema import (
    DEADLINE_ENV,
    REPORT_ENV,
    CaseRecord,
    CollectionError,
    GraderReport,
)

#: How Hypothesis starts the note that holds the failing input (older, newer releases).
_HYPOTHESIS_NOTES = ("Falsifying example", "Failing test case")
#: How many printed lines each test keeps: enough to see a stray print, not a flood.
PRINTED_LINES_KEPT = 10

_records: dict[str, CaseRecord] = {}
_collection_errors: list[CollectionError] = []
_interrupted: list[str] = []


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _grader_message(report: pytest.TestReport) -> str:
    """The grader's own sentence: an assertion message or a ``pytest.fail`` text."""
    longrepr = report.longrepr
    crash = getattr(longrepr, "reprcrash", None)
    message: str = crash.message if crash is not None else str(longrepr)
    # pytest appends the introspected comparison after the message; keep the sentence.
    # pytest.fail says "Failed: ...", an assert "AssertionError: ...": the sentence is the rest.
    sentence = message.removeprefix("Failed: ").removeprefix("AssertionError: ")
    return _without_notes(sentence.split("\nassert ", 1)[0])


def _without_notes(message: str) -> str:
    """The message without Hypothesis' notes (its input is reported once, by _falsifying_example)."""
    # An @example that fails gets "Failing explicit example: ..." and "(note: N other
    # explicit example(s) also failed ...)": its input is in the grader's own message.
    for tail in (
        *(f"\n{start}" for start in _HYPOTHESIS_NOTES),
        "\nExplanation:",
        "\nFailing explicit example",
        "\n(note: ",
    ):
        message = message.split(tail, 1)[0]
    return message.strip()


def _graded_folder() -> Path | None:
    from patterns.course.grading import target_dir
    from patterns.course.paths import CourseRootNotFoundError

    try:
        return target_dir().resolve()
    except CourseRootNotFoundError:  # the reason just names fewer places
        return None


def _where_raised(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    """ "at ex00_warmup.py line 7, when the grader ran `ex00.split_evenly(total, people)`"."""
    graded = _graded_folder()
    learner_line = grader_line = ""
    for entry in excinfo.traceback:
        path = Path(entry.path)
        if graded is not None and path.resolve().parent == graded:
            learner_line = f"{path.name} line {entry.lineno + 1}"
        elif path.name.startswith("test_"):
            statement = str(entry.statement).strip().splitlines()
            grader_line = _one_line(statement[0] if statement else "", 120)
    parts = []
    if learner_line:
        parts.append(f"at {learner_line}")
    if grader_line:
        parts.append(f"when the grader ran `{grader_line}`")
    return ", ".join(parts)


def _parameters(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return ""
    shown = ", ".join(
        f"{name}={_one_line(repr(value), 60)}" for name, value in callspec.params.items()
    )
    return f" with {shown}" if shown else ""


def _falsifying_example(error: BaseException) -> str:
    """The input Hypothesis found, from the note it attaches to the exception."""
    for note in getattr(error, "__notes__", ()):
        if note.startswith(_HYPOTHESIS_NOTES):
            # "Falsifying example: test_x(\n    ex06=<module ...>,\n    payload={...},\n)"
            arguments = [
                line.strip().rstrip(",")
                for line in note.splitlines()[1:-1]
                if "<module " not in line  # the graded module itself, passed as a fixture
            ]
            return f" (on the input Hypothesis found: {_one_line(', '.join(arguments), 300)})"
    return ""


def _reason(item: pytest.Item, report: pytest.TestReport, call: pytest.CallInfo[None]) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    excinfo = call.excinfo
    if excinfo is None:
        return _grader_message(report)
    error = excinfo.value
    if isinstance(error, AssertionError | pytest.fail.Exception):
        return _grader_message(report) + _falsifying_example(error)
    # A bare exception, usually from the learner's code: say which call raised it.
    where = _where_raised(excinfo)
    raised = _one_line(_without_notes(excinfo.exconly()), 300)
    located = f"{raised} ({where}{_parameters(item)})" if where else raised
    return located + _falsifying_example(error)


def _missing_postgres(call: pytest.CallInfo[None]) -> bool:
    """No PostgreSQL binaries, or a server that failed to start while setting a test up."""
    if call.excinfo is None or "patterns.lab.throwaway_postgres" not in sys.modules:
        return False  # the server code never ran, so it cannot be what failed
    from patterns.lab import PostgresNotFoundError

    if call.excinfo.errisinstance(PostgresNotFoundError):
        return True
    in_server = any("throwaway_postgres" in Path(e.path).parts for e in call.excinfo.traceback)
    return call.when == "setup" and in_server


def _printed(report: pytest.TestReport) -> list[str]:
    return (report.capstdout + report.capstderr).splitlines()[-PRINTED_LINES_KEPT:]


def _hints(item: pytest.Item) -> list[str]:
    marker = item.get_closest_marker("hints")
    return [str(text) for text in marker.args] if marker is not None else []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.excinfo is not None and call.excinfo.errisinstance(SystemExit) and not _interrupted:
        # pytest counts sys.exit() in a test as a failure; for a learner it ends the program.
        _interrupted.append(
            f"your code called sys.exit() ({call.excinfo.exconly()}) "
            f"{_where_raised(call.excinfo)}; a function should return or raise, never exit"
        )
    earlier = _records.get(item.nodeid)
    if report.when == "teardown" and earlier is not None and earlier["outcome"] == "passed":
        earlier = None  # a teardown failure (a leaked lock, a connection left open) fails it
    if earlier is not None or (report.passed and report.when != "call"):
        return report
    doc = getattr(getattr(item, "obj", None), "__doc__", None) or item.name
    _records[item.nodeid] = CaseRecord(
        test=item.name,
        behaviour=" ".join(doc.split()),
        outcome=report.outcome,
        reason="" if report.passed else _reason(item, report, call),
        printed=[] if report.passed else _printed(report),
        hints=_hints(item),
        missing_postgres=_missing_postgres(call),
    )
    return report


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if not report.failed:
        return
    text = str(report.longrepr)
    missing = re.search(r"No module named '([\w.]+)'", text)
    lines = [line for line in text.splitlines() if line.strip()]
    _collection_errors.append(
        CollectionError(
            where=report.nodeid,
            reason=_one_line(lines[-1] if lines else text, 300),
            missing_module=missing.group(1).split(".")[0] if missing else "",
        )
    )


def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    if excinfo.errisinstance(pytest.Session.Interrupted):
        return  # pytest's own stop after collection errors: those are reported instead
    where = _where_raised(excinfo)
    _interrupted.append(f"{_one_line(excinfo.exconly(), 200)} stopped the grader {where}".strip())


def _end_everything() -> None:
    """Remove the runner's scratch folder (it cannot any more), then kill our group."""
    report = os.environ.get(REPORT_ENV)
    if report:
        shutil.rmtree(Path(report).parent, ignore_errors=True)
    os.killpg(os.getpgid(0), signal.SIGKILL)


def pytest_configure(config: pytest.Config) -> None:
    # What is loaded by now (pytest, Hypothesis, their plugins) lives until the end:
    # frozen, the garbage collector stops walking it again and again (0.1 s a check).
    gc.freeze()
    # The runner stops the grader on timeout; if the runner itself dies (a SIGKILLed
    # kernel), nobody would: so the grader's own timer ends its group a bit later.
    deadline = os.environ.get(DEADLINE_ENV)
    if deadline and hasattr(os, "killpg"):  # process groups: not on Windows
        timer = threading.Timer(float(deadline), _end_everything)
        timer.daemon = True
        timer.start()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    report = GraderReport(
        exitstatus=int(exitstatus),
        collected=session.testscollected,
        interrupted=_interrupted[0] if _interrupted else "",
        tests=list(_records.values()),
        collection_errors=_collection_errors,
    )
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(report, handle)
