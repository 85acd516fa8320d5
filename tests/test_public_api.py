"""House rules every pattern module keeps: a curated public API, and no course tooling.

One parametrised test instead of a copy per module: a new pattern module only
needs adding to PATTERN_MODULES.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

PATTERN_MODULES = [
    "patterns.money",
    "patterns.strategy",
    "patterns.dependency_injection",
    "patterns.factory",
    "patterns.generators",
    "patterns.context_managers",
    "patterns.repository",
    "patterns.retry",
    "patterns.capstone",
    "patterns.lab",
    "patterns.lab.throwaway_postgres",
    "patterns.lab.flaky_http",
    "patterns.lab.retry_plots",
    "patterns.lab.memory",
    "patterns.lab.pipeline_plots",
    "patterns.lab.typecheck",
    "patterns.lab.suite_runs",
]


@pytest.mark.parametrize("name", PATTERN_MODULES)
def test_the_public_api_is_exactly_what_all_lists(name: str) -> None:
    """Every name in __all__ exists, and every public name defined in the module is in __all__."""
    module = importlib.import_module(name)
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert missing == [], f"{name}.__all__ names missing objects: {missing}"
    public = {
        n
        for n, value in vars(module).items()
        if not n.startswith("_") and getattr(value, "__module__", None) == module.__name__
    }
    assert public <= set(module.__all__), (
        f"{name} defines public names not in __all__: {sorted(public - set(module.__all__))}"
    )


def test_pattern_modules_never_import_the_course_tooling() -> None:
    """Importing every pattern module leaves patterns.course unimported (a fresh interpreter)."""
    code = (
        "import sys\n"
        f"for name in {PATTERN_MODULES!r}:\n"
        "    __import__(name)\n"
        "print(sorted(m for m in sys.modules if m.startswith('patterns.course')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]", f"pattern modules import course tooling: {result.stdout}"


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for every import statement in a file; names is [] for ``import x``."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


PACKAGE = Path(importlib.import_module("patterns").__file__ or "").parent
LESSON_FILES = sorted(
    p
    for p in PACKAGE.rglob("*.py")
    if p.relative_to(PACKAGE).parts[0] not in ("course", "lab", "__main__.py")
)
LAB_FILES = sorted((PACKAGE / "lab").rglob("*.py"))


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_lessons_use_only_the_labs_documented_entries(path: Path) -> None:
    """A lesson module imports lab infrastructure only through `from patterns.lab import <name in __all__>`."""
    lab = importlib.import_module("patterns.lab")
    for module, names in _imports(path):
        assert not module.startswith("patterns.course"), f"{path.name} imports {module}"
        if module.startswith("patterns.lab"):
            assert module == "patterns.lab", f"{path.name} imports lab internals: {module}"
            assert set(names) <= set(lab.__all__), (
                f"{path.name} imports undocumented lab names: {sorted(set(names) - set(lab.__all__))}"
            )


@pytest.mark.parametrize("path", LAB_FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_lab_modules_never_import_the_course_tooling(path: Path) -> None:
    """Lab infrastructure stands on its own: nothing in patterns/lab imports patterns.course."""
    offending = [m for m, _ in _imports(path) if m.startswith("patterns.course")]
    assert offending == [], f"{path.name} imports course tooling: {offending}"


def test_patterns_reads_as_the_table_of_contents() -> None:
    """patterns/ holds the lessons, the capstone, lab and course tooling, and nothing else."""
    entries = sorted(
        p.name
        for p in PACKAGE.iterdir()
        if not p.name.startswith(("_", ".")) or p.name == "__init__.py"
    )
    assert entries == sorted(
        [
            "__init__.py",
            "capstone",
            "context_managers.py",
            "course",
            "dependency_injection.py",
            "factory.py",
            "generators.py",
            "lab",
            "money.py",
            "repository",
            "retry.py",
            "strategy.py",
        ]
    ), f"unexpected entries in patterns/: {entries}"


def test_the_lab_re_exports_exactly_what_its_modules_export() -> None:
    """patterns.lab's lazy table names every lab module's __all__, and nothing else."""
    lab = importlib.import_module("patterns.lab")
    for home, names in lab._EXPORTS.items():
        module = importlib.import_module(f"patterns.lab.{home}")
        assert sorted(names) == sorted(module.__all__), f"patterns.lab and {home} disagree"
    assert sorted(lab.__all__) == sorted(n for names in lab._EXPORTS.values() for n in names)
