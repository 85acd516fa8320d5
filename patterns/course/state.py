"""The learner's progress, hint counters and backups, in one ignored folder (``.course/``)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from patterns.course import catalog
from patterns.course.paths import state_dir
from patterns.course.stubs import write_stub
from patterns.course.verdict import Hint, Verdict


class CourseState:
    """Reads and writes ``.course/progress.json``; every write is atomic."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = state_dir(root)
        self.file = self.folder / "progress.json"

    def load(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data

    def _save(self, data: dict[str, Any]) -> None:
        self.folder.mkdir(exist_ok=True)
        # Write then rename, so an interrupted write never leaves half a file.
        handle, tmp = tempfile.mkstemp(dir=self.folder, prefix=".progress-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2, sort_keys=True)
        os.replace(tmp, self.file)

    def entry(self, exercise_id: str) -> dict[str, Any]:
        entry: dict[str, Any] = self.load().get(exercise_id, {})
        return entry

    def record_check(self, verdict: Verdict) -> None:
        data = self.load()
        entry = data.setdefault(verdict.exercise, {})
        entry["checks"] = entry.get("checks", 0) + 1
        entry["last_checked"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        entry["last_result"] = "pass" if verdict.passed else "fail"
        # The first failing behaviour and its own hints: what `hint` aims at next.
        behaviour, hints = verdict.hint_target()
        if hints:
            entry["hint_target"] = {"behaviour": behaviour, "hints": list(hints)}
        else:
            entry.pop("hint_target", None)
        if verdict.passed and not entry.get("passed"):
            entry["passed"] = True
            entry["first_passed"] = entry["last_checked"]
        self._save(data)

    def passed(self, exercise_id: str) -> bool:
        return bool(self.entry(exercise_id).get("passed"))

    def next_hint(self, exercise_id: str) -> tuple[int, int, str]:
        """Reveal one more hint: (number, total, text). Repeats the last once all are shown."""
        hint = self.reveal_hint(exercise_id)
        return hint.number, hint.total, hint.text

    def reveal_hint(self, exercise_id: str) -> Hint:
        """The next hint for the first failing behaviour of the last check, if that
        behaviour has hints of its own, else the next of the catalog's general hints.

        Counters: ``hints_shown`` for the general hints, ``behaviour_hints_shown``
        keyed by the behaviour's sentence for the aimed ones.
        """
        general = catalog.get(exercise_id).hints
        data = self.load()
        entry = data.setdefault(exercise_id, {})
        target = entry.get("hint_target") or {}
        if target.get("hints"):
            behaviour, texts = str(target["behaviour"]), [str(t) for t in target["hints"]]
            counters = entry.setdefault("behaviour_hints_shown", {})
            shown = min(counters.get(behaviour, 0) + 1, len(texts))
            counters[behaviour] = shown
            hint = Hint(shown, len(texts), texts[shown - 1], behaviour)
        else:
            shown = min(entry.get("hints_shown", 0) + 1, len(general))
            entry["hints_shown"] = shown
            hint = Hint(shown, len(general), general[shown - 1])
        self._save(data)
        return hint

    def reset(self, exercise_id: str) -> Path | None:
        """Restore the pristine stub; return where the learner's version was kept."""
        exercise = catalog.get(exercise_id)
        current = self.root / "exercises" / exercise.file_name
        backup = None
        if current.exists():
            backups = self.folder / "backups"
            backups.mkdir(parents=True, exist_ok=True)
            stamp = time.strftime("%Y%m%d-%H%M%S")
            backup = backups / f"{current.stem}.{stamp}.py"
            counter = 1
            while backup.exists():
                backup = backups / f"{current.stem}.{stamp}-{counter}.py"
                counter += 1
            shutil.copy2(current, backup)
        write_stub(self.root / "solutions" / exercise.file_name, current, exercise.id)
        return backup

    def summary(self) -> list[dict[str, Any]]:
        """One row per exercise, for the progress table and ``--json``."""
        data = self.load()
        rows = []
        for exercise in catalog.exercises().values():
            entry = data.get(exercise.id, {})
            rows.append(
                {
                    "exercise": exercise.id,
                    "title": exercise.title,
                    "notebook": exercise.notebook,
                    "passed": bool(entry.get("passed")),
                    "checks": entry.get("checks", 0),
                    "hints_shown": entry.get("hints_shown", 0),
                    "hints_total": len(exercise.hints),
                    "first_passed": entry.get("first_passed"),
                    "last_checked": entry.get("last_checked"),
                }
            )
        return rows


def progress_mark(row: dict[str, Any]) -> str:
    """ "done" once passed, "tried" once checked, else "todo"."""
    return "done" if row["passed"] else ("tried" if row["checks"] else "todo")


def progress_text(rows: list[dict[str, Any]]) -> str:
    """The progress table as text: the terminal's view and the widget's fallback."""
    done = sum(row["passed"] for row in rows)
    lines = [f"Progress: {done} of {len(rows)} exercises passed."]
    for row in rows:
        hints = f"hints {row['hints_shown']}/{row['hints_total']}"
        lines.append(f"  {row['exercise']}  {progress_mark(row):<5}  {hints:<10}  {row['title']}")
    return "\n".join(lines)
