"""`python -m patterns doctor` on this machine, and on one whose PostgreSQL is hidden."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from patterns.course.paths import ROOT_ENV
from patterns.course.stubs import pristine_course

ROOT = Path(__file__).resolve().parents[1]


def doctor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "patterns", "doctor"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_doctor_reports_a_healthy_machine() -> None:
    """Here everything is installed: every line is ok and the exit status is 0."""
    # On a pristine copy of the course and a free port, so a learner's deleted
    # exercise or running JupyterLab cannot turn this test red.
    with pristine_course(ROOT) as copy:
        env = {**os.environ, ROOT_ENV: str(copy), "PATTERNS_LAB_PORT": str(_free_port())}
        result = doctor(env)
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
        "PATTERNS_LAB_PORT": str(_free_port()),
    }
    result = doctor(env)
    assert result.returncode == 1
    assert "[FIX] postgresql No PostgreSQL server binaries were found" in result.stdout
    assert "sudo apt-get install postgresql" in result.stdout
    assert "brew install postgresql" in result.stdout
    assert "conda install -c conda-forge postgresql" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_doctor_names_the_reset_command_for_a_missing_exercise(tmp_path: Path) -> None:
    """A deleted exercise file is diagnosed with the exact reset command."""
    with pristine_course(ROOT) as copy:
        (copy / "exercises" / "ex03_strategy.py").unlink()
        result = doctor({**os.environ, ROOT_ENV: str(copy), "PATTERNS_LAB_PORT": str(_free_port())})
    assert result.returncode == 1
    assert "exercise files missing: ex03_strategy.py" in result.stdout
    assert "`python -m patterns reset ex03`" in result.stdout
