"""`python -m patterns doctor` on this machine, and on one whose PostgreSQL is hidden."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def doctor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "patterns", "doctor"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


def test_doctor_reports_a_healthy_machine() -> None:
    """Here everything is installed: every line is ok and the exit status is 0."""
    result = doctor(dict(os.environ))
    assert result.returncode == 0, result.stdout
    assert "[FIX]" not in result.stdout and "All set." in result.stdout
    assert "a throwaway server started, answered and stopped" in result.stdout


def test_doctor_diagnoses_hidden_postgresql_binaries(tmp_path: Path) -> None:
    """With no server binaries to be found, doctor says so and names the install commands."""
    env = {
        **os.environ,
        "PATH": str(tmp_path),
        "PATTERNS_PG_SEARCH_DIRS": "",
        "PATTERNS_PG_BINARIES": "system",
    }
    result = doctor(env)
    assert result.returncode == 1
    assert "[FIX] postgresql No PostgreSQL server binaries were found" in result.stdout
    assert "sudo apt-get install postgresql" in result.stdout
    assert "brew install postgresql" in result.stdout
    assert "conda install -c conda-forge postgresql" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
