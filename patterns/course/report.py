"""A pytest plugin that writes each grader test's outcome as JSON for the verdict.

Loaded with ``-p patterns.course.report`` by the check runner; writes to the
file named by ``PATTERNS_REPORT``. It records the behaviour (the test's
docstring) and the one-line reason (the assertion message), nothing else.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator
from typing import Any

import pytest

_results: list[dict[str, Any]] = []


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        message: str = crash.message
    else:
        message = str(longrepr)
    message = message.removeprefix("Failed: ").strip()
    # pytest appends the introspected comparison after the message; keep the sentence.
    return message.split("\nassert ", 1)[0].strip()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" or (report.when == "setup" and not report.passed):
        doc = getattr(getattr(item, "obj", None), "__doc__", None) or item.name
        _results.append(
            {
                "test": item.name,
                "behaviour": " ".join(doc.split()),
                "outcome": report.outcome,
                "reason": "" if report.passed else _reason(report),
            }
        )
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = os.environ.get("PATTERNS_REPORT")
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"exitstatus": int(exitstatus), "tests": _results}, handle)
