"""Run one of the course's test files with pytest in a child process, and count the results.

What it is for: lesson 01 claims "one contract suite passes on both
repositories"; the honest proof is running that suite, from the notebook, the
way CI does. :func:`run_test_suite` starts ``python -m pytest`` on one file in
the course folder (a fresh interpreter, so the notebook's kernel state cannot
leak into the tests) and returns the counts from pytest's summary line.

When not to use it: to run the test suite yourself, run pytest in a terminal;
this is the notebook's one-call view of it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

__all__ = ["SuiteRun", "run_test_suite"]


class SuiteRun(NamedTuple):
    """What pytest reported for one test file."""

    status: int  # pytest's exit status: 0 when every selected test passed
    passed: int
    failed: int
    output: str  # pytest's whole output, to show when something failed


def _count(summary: str, outcome: str) -> int:
    found = re.search(rf"(\d+) {outcome}", summary)
    return int(found[1]) if found else 0


def run_test_suite(
    course_root: Path, test_file: str, *, select: str | None = None, timeout: float = 300
) -> SuiteRun:
    """Run ``test_file`` (relative to ``course_root``), only tests matching ``select`` if given."""
    if not (course_root / test_file).is_file():
        raise FileNotFoundError(f"no test file {test_file} in {course_root}")
    command = [
        sys.executable,
        "-m",
        "pytest",
        test_file,
        "-q",
        "--color=no",
        "-p",
        "no:cacheprovider",
    ]
    if select is not None:
        command += ["-k", select]
    result = subprocess.run(
        command,
        cwd=course_root,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        # Plugins installed beside Jupyter add start-up time and nothing these tests need.
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    lines = result.stdout.strip().splitlines()
    summary = lines[-1] if lines else ""
    return SuiteRun(
        result.returncode,
        _count(summary, "passed"),
        _count(summary, "failed") + _count(summary, "error"),
        result.stdout + result.stderr,
    )
