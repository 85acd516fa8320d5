"""Run mypy on a snippet of code, as a learner would in a terminal, and return what it says.

What it is for: lesson 04 claims that mypy, not a fake, catches a real class
whose method was renamed, at the composition root. That claim deserves mypy's
own words, so :func:`mypy_report` writes the snippet to a temporary file, runs
``python -m mypy`` on it in a child process (the same interpreter, so the same
installed mypy and the course's ``patterns`` package), and returns the report
with the temporary folder removed from every line, so it reads the same on
every machine.

When not to use it: for checking a project; run ``mypy`` on the project itself,
with its configuration. This runs one throwaway file with mypy's defaults.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

__all__ = ["MypyReport", "mypy_report"]

# The folder that holds the ``patterns`` package, so the snippet can import it
# whether the course is installed in editable mode or not.
_COURSE_SOURCES = Path(__file__).resolve().parents[2]


class MypyReport(NamedTuple):
    """What mypy said about one snippet."""

    status: int  # mypy's exit status: 0 clean, 1 type errors, 2 mypy itself failed
    text: str  # its report, the temporary folder removed from file names

    @property
    def errors(self) -> list[str]:
        """The ``error:`` lines only, without the summary line."""
        return [line for line in self.text.splitlines() if ": error: " in line]


def mypy_report(source: str, *, file_name: str = "snippet.py", timeout: float = 120) -> MypyReport:
    """Type-check ``source`` (the text of one module) with mypy's default settings."""
    with tempfile.TemporaryDirectory(prefix="mypy-snippet-") as scratch:
        folder = Path(scratch)
        (folder / file_name).write_text(source, encoding="utf-8")
        environment = {**os.environ, "MYPYPATH": str(_COURSE_SOURCES)}
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "mypy",
                "--config-file=",  # mypy's defaults, not the course's strict settings
                "--no-incremental",
                "--cache-dir",
                os.devnull,
                "--no-color-output",
                "--no-pretty",
                file_name,
            ],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=environment,
            check=False,
        )
    text = (result.stdout + result.stderr).replace(str(folder) + os.sep, "").strip()
    return MypyReport(result.returncode, text)
