"""The room without a hub: read the progress of many course copies on one machine.

``python -m patterns room /home/*`` finds every course copy (a folder holding
``.course/progress.json``) at most four levels below each path, and names the
learner after the path given (``/home/alice`` -> ``alice``), adding the copy's
folder when one path holds several copies. Reading never writes: a damaged
progress file is reported, not repaired (that is its owner's ``check``'s job).
"""

from __future__ import annotations

import json
from pathlib import Path

from patterns.course.paths import STATE_DIR
from patterns.course.room import LearnerRow
from patterns.course.state import PROGRESS_FILE, clean_progress, summary_rows

MAX_DEPTH = 4


def find_copies(path: Path) -> list[Path]:
    """Course roots at most :data:`MAX_DEPTH` folders below ``path`` (``path`` included)."""
    found = []
    frontier = [path]
    for _depth in range(MAX_DEPTH + 1):
        below = []
        for folder in frontier:
            if (folder / STATE_DIR / PROGRESS_FILE).is_file():
                found.append(folder)
            try:
                below += [p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()
                          and p.name not in (STATE_DIR, ".git", ".venv", "node_modules")]  # fmt: skip
            except OSError:
                continue
        frontier = below
    return sorted(found)


def read_copy(root: Path, learner: str) -> list[LearnerRow]:
    """One learner's rows from a course copy, read-only. Raises ValueError when unreadable.

    The rows are what ``progress --json`` says of that copy (the same rule the
    hub's room receives); fields of the wrong shape are dropped, never repaired
    in the learner's file.
    """
    try:
        raw = json.loads((root / STATE_DIR / PROGRESS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"{root}: progress file unreadable ({error})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{root}: progress file does not hold a table of exercises")
    data, _problems = clean_progress(raw)
    return [LearnerRow.from_progress(learner, row.to_json()) for row in summary_rows(data)]


def read_room(paths: list[Path]) -> tuple[list[LearnerRow], list[str]]:
    """Every learner's rows under ``paths``, and one sentence per copy that could not be read."""
    rows: list[LearnerRow] = []
    problems: list[str] = []
    for path in paths:
        copies = find_copies(path)
        if not copies:
            problems.append(f"{path}: no course copy with progress found (nobody checked yet?)")
        for copy in copies:
            learner = path.name if len(copies) == 1 else f"{path.name}/{copy.relative_to(path)}"
            try:
                rows += read_copy(copy, learner or str(path))
            except ValueError as error:
                problems.append(str(error))
    return rows, problems
