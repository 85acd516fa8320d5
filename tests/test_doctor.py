"""`python -m patterns doctor` on this machine, and on one whose PostgreSQL is hidden."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_doctor_outside_the_venv_says_to_activate_it_and_never_crashes() -> None:
    """Run by a Python without the course's packages: one FIX line saying how to
    use .venv, the checks that need packages skipped, no traceback."""
    outside = Path(sys.base_prefix) / "bin" / "python3"
    if not outside.exists() or Path(sys.prefix) == Path(sys.base_prefix):
        pytest.skip("needs a virtual environment and its base interpreter")
    env = {k: v for k, v in os.environ.items() if k not in (ROOT_ENV, "VIRTUAL_ENV", "PYTHONPATH")}
    result = subprocess.run(
        # -S: no site-packages at all, like a fresh system Python
        [str(outside), "-S", "-m", "patterns", "doctor"],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
        env={**env, "PATTERNS_LAB_PORT": str(_free_port())},
    )  # fmt: skip
    assert result.returncode == 1
    packages = next(line for line in result.stdout.splitlines() if "packages" in line)
    assert packages.startswith("[FIX] packages") and "psycopg" in packages
    assert "source .venv/bin/activate" in packages and ".venv/bin/python -m patterns" in packages
    assert "[---] server     not checked: needs psycopg" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_the_package_list_is_the_distributions_own() -> None:
    """doctor checks exactly pyproject's runtime dependencies (one list), not the dev extras."""
    import tomllib

    from patterns.course.doctor import required_distributions

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = [requirement.split(";")[0].replace(" ", "") for requirement in required_distributions()]
    assert len(names) == len(declared) and "psycopg[binary]==3.3.9" in names
    # mypy is a runtime dependency: lesson 04 runs it from a cell.
    assert not any(name.startswith(("ruff", "playwright", "jupyterhub")) for name in names)


def test_make_setup_builds_the_venv_and_runs_doctor_and_the_readme_says_so() -> None:
    """A setup-only command for machines without a browser: documented, and it runs doctor."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    planned = subprocess.run(
        ["make", "-n", "setup"], capture_output=True, text=True, cwd=ROOT, timeout=60, check=True
    ).stdout
    assert "-m patterns doctor" in planned and "jupyter" not in planned
    assert "make setup" in (ROOT / "README.md").read_text(encoding="utf-8")
