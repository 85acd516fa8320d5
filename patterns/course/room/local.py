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

PROGRESS_FILE = "progress.json"
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
    """One learner's rows from a course copy, read-only. Raises ValueError when unreadable."""
    from patterns.course import catalog

    try:
        data = json.loads((root / STATE_DIR / PROGRESS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"{root}: progress file unreadable ({error})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{root}: progress file does not hold a table of exercises")
    rows = []
    for exercise in catalog.exercises().values():
        entry = data.get(exercise.id, {})
        if not isinstance(entry, dict):
            continue
        checks = entry.get("checks", 0)
        hints = entry.get("hints_shown", 0)
        ever = bool(entry.get("passed") or entry.get("ever_passed"))
        now = entry.get("last_result", "pass" if ever else None) == "pass"
        rows.append(
            LearnerRow.from_progress(
                learner,
                {
                    "exercise": exercise.id,
                    "passes_now": now,
                    "ever_passed": ever,
                    "passed": now,
                    "checks": checks if isinstance(checks, int) and checks >= 0 else 0,
                    "hints_shown": hints if isinstance(hints, int) and hints >= 0 else 0,
                    "hints_total": len(exercise.hints),
                    "last_checked": entry.get("last_checked"),
                },
            )
        )
    return rows


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
