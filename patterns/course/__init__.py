"""Course tooling: checking exercises, hints, reset, quizzes, progress, notebook refresh.

Pattern modules never import this package. Notebook helpers are imported
lazily so that ``python -m patterns check`` stays fast (no widgets, no nbformat).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Quiz", "check", "hint", "quiz", "reset", "show_progress"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from patterns.course import notebook

        return getattr(notebook, name)
    raise AttributeError(f"module 'patterns.course' has no attribute {name!r}")
