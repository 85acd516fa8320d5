"""The list of exercises: one TOML file each in ``catalog/``.

Each file holds the exercise's id, slug, title, notebook, hints, timeout and,
for fix-the-flaw exercises, the text its grader prints on the flawed stub.
One file per exercise keeps lessons written in parallel out of each other's way.
"""

from __future__ import annotations

import difflib
import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

CATALOG_DIR = Path(__file__).parent / "catalog"


#: "implement": the stub raises NotImplementedError; "fix": the stub is working but flawed code.
Kind = Literal["implement", "fix"]


class UnknownExerciseError(ValueError):
    """An exercise name that the course does not have."""


class CatalogError(ValueError):
    """A catalog file that does not say what the tooling needs (a contributor's typo)."""


@dataclass(frozen=True)
class Exercise:
    id: str  # "ex07"
    slug: str  # "retry"
    title: str
    notebook: str  # "07_retry_backoff.ipynb"
    hints: tuple[str, ...]
    timeout: float  # seconds before a grader run is stopped (infinite loops)
    kind: Kind
    stub_failure: str  # text every failing test prints on the pristine stub
    after_pass: str  # the "when not to use this" note revealed after a pass
    needs_postgres: bool  # its grader starts PostgreSQL: check says so at once when there is none

    @property
    def file_name(self) -> str:
        return f"{self.id}_{self.slug}.py"

    @property
    def grader(self) -> str:
        """The grader's path relative to the course root."""
        return f"tests/exercises/test_{self.id}_{self.slug}.py"


def _load(path: Path) -> Exercise:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    kind = data.get("kind", "implement")
    if kind not in get_args(Kind):
        raise CatalogError(f"{path.name}: kind = {kind!r}; use one of {', '.join(get_args(Kind))}.")
    return Exercise(
        id=data["id"],
        slug=data["slug"],
        title=data["title"],
        notebook=data["notebook"],
        hints=tuple(data["hints"]),
        timeout=float(data.get("timeout", 10)),
        kind=kind,
        stub_failure=data.get("stub_failure", "NotImplementedError"),
        after_pass=data.get("after_pass", ""),
        needs_postgres=bool(data.get("needs_postgres", False)),
    )


@functools.cache
def exercises() -> dict[str, Exercise]:
    """Every exercise, by id, in course order."""
    loaded = [_load(path) for path in sorted(CATALOG_DIR.glob("ex*.toml"))]
    return {exercise.id: exercise for exercise in loaded}


def get(name: str) -> Exercise:
    """Look an exercise up by id (``ex07``, ``7``, ``07``) or file stem (``ex07_retry``)."""
    known = exercises()
    key = name.strip().lower().removesuffix(".py")
    if key.isdigit() and len(key) <= 3:  # int() refuses 4,300+ digits with a traceback
        key = f"ex{int(key):02d}"
    key = key.split("_", 1)[0]
    if key in known:
        return known[key]
    close = difflib.get_close_matches(key[:20], list(known), n=1)
    suggestion = f" Did you mean {close[0]}?" if close else ""
    shown = name if len(name) <= 40 else name[:37] + "..."
    raise UnknownExerciseError(
        f"There is no exercise called {shown!r}.{suggestion} Known exercises: {', '.join(known)}."
    )
