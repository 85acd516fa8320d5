"""House rules every pattern module keeps: a curated public API, and no course tooling.

One parametrised test instead of a copy per module: a new pattern module only
needs adding to PATTERN_MODULES.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

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
    "patterns.retry_plots",
    "patterns.flaky_server",
    "patterns.capstone",
    "patterns.postgres",
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
