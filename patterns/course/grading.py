"""What a grader imports: the module under grading, and helpers for clear failures.

Which copy is graded is chosen by ``PATTERNS_GRADE``:

* ``solutions`` (the default, so plain ``pytest`` and ``make test`` grade the
  reference answers and stay green whatever the learner did);
* ``exercises`` (what ``python -m patterns check`` sets);
* a folder path (the proof that every grader fails on the pristine stubs).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from patterns.course import catalog
from patterns.course.paths import course_root

if TYPE_CHECKING:
    import hypothesis

GRADE_ENV = "PATTERNS_GRADE"


def graded_folder(target: str | Path, root: Path | None = None) -> Path:
    """The folder graded for ``target``: ``"solutions"``, ``"exercises"`` or a folder path."""
    if str(target) in ("solutions", "exercises"):
        return (root or course_root()) / str(target)
    return Path(target)


def target_dir() -> Path:
    """The folder this grader run grades, from ``PATTERNS_GRADE``."""
    return graded_folder(os.environ.get(GRADE_ENV, "solutions"))


def syntax_problem(path: Path) -> str:
    """One sentence if ``path`` cannot be compiled as Python (a syntax error, NUL bytes), else ""."""
    source = path.read_bytes()
    if b"\x00" in source:
        line = source[: source.index(b"\x00")].count(b"\n") + 1
        return (
            f"{path.name} contains a NUL byte (a zero byte, often from pasting binary data) "
            f"on line {line}. Delete it, or restore the stub with "
            f"`python -m patterns reset {path.name.split('_', 1)[0]}`, then check again."
        )
    try:
        compile(source, str(path), "exec")
    except SyntaxError as error:
        where = f" on line {error.lineno}" if error.lineno else ""
        return (
            f"{path.name} has a syntax error{where}: {error.msg}. Fix that line, then check again."
        )
    except ValueError as error:  # pragma: no cover - NUL bytes are caught above
        return f"{path.name} cannot be read as Python ({error})."
    return ""


def load_graded(exercise_id: str) -> ModuleType:
    """Import the graded copy of an exercise by path, failing the test with a clear message.

    Called from a grader's fixture, so a syntax error in the learner's file is a
    one-sentence test failure, not a collection error with a traceback.
    """
    import pytest

    exercise = catalog.get(exercise_id)
    path = target_dir() / exercise.file_name
    if not path.exists():
        pytest.fail(
            f"{path} does not exist. Restore it with `python -m patterns reset {exercise.id}`.",
            pytrace=False,
        )
    name = f"graded_{exercise.id}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    problem = syntax_problem(path)
    if problem:
        pytest.fail(problem, pytrace=False)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        pytest.fail(
            f"Importing {path.name} raised {type(error).__name__}: {error}. "
            "Code at the top level of the file runs on import; move it into a function.",
            pytrace=False,
        )
    return module


class Named(str):
    """An argument shown by its name in a failure message, not as a string:
    ``call_repr("advisory_lock", Named("conn"), 42)`` -> ``advisory_lock(conn, 42)``."""

    def __repr__(self) -> str:
        return str(self)


def call_repr(function: str, *args: object, **kwargs: object) -> str:
    """``call_repr("total", [1, 2])`` -> ``"total([1, 2])"``, for failure messages.
    Use :class:`Named` for an argument the message names (a connection, a fake)."""
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    text = f"{function}({', '.join(parts)})"
    return text if len(text) <= 200 else text[:197] + "..."


def grading_settings(max_examples: int, *, shrink: bool = True) -> hypothesis.settings:
    """Hypothesis settings for a grader's generated tests: how many examples, and whether to shrink.

    Everything else (fixed examples, no database, no deadline, bounded shrinking,
    the health checks a grader cannot meet) comes from the grader profile that
    ``tests/exercises/conftest.py`` loads before a grader is imported. No "explain"
    phase: it reruns a failing test many times for a note the verdict does not
    show. ``shrink=False`` reports the first failing input as generated, for
    graders whose inputs are already small and readable. Hypothesis is imported
    here, not at the top: a grader without generated tests must not pay for it.
    """
    from hypothesis import Phase, settings

    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])
    return settings(max_examples=max_examples, phases=phases)
