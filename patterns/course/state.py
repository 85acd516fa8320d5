"""The learner's progress, hint counters and backups, in one ignored folder (``.course/``).

Learner state is never silently lost:

* every read-modify-write holds an exclusive lock (``.course/progress.lock``), so
  ``watch`` in a terminal and a check in the notebook cannot drop each other's update;
* a damaged ``progress.json`` (empty, truncated, a hand edit gone wrong, a wrong
  shape) is copied aside as ``progress.damaged.<time>.json`` before anything is
  written, and every entry and field that can still be read is kept;
* a problem with the folder itself (read-only, ``.course`` being a file) never
  raises: the operation carries on in memory and the problem is one sentence in
  :attr:`CourseState.notices`, which commands print after their own output.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypedDict, cast

from patterns.course import catalog
from patterns.course.paths import stamped_path, state_dir
from patterns.course.stubs import restore_stub
from patterns.course.verdict import Hint, Verdict

try:  # POSIX; elsewhere (native Windows, where the course runs through conda) no lock
    import fcntl
except ImportError:  # pragma: no cover - not on the platforms the tests run on
    fcntl = None  # type: ignore[assignment]

LastResult = Literal["pass", "fail", "reset"]
_LAST_RESULTS = ("pass", "fail", "reset")
#: The learner's progress, inside the state folder (``paths.STATE_DIR``).
PROGRESS_FILE = "progress.json"


class HintTarget(TypedDict):
    """What ``hint`` aims at next: a behaviour that failed and the hints its test carries."""

    behaviour: str
    hints: list[str]


class ProgressEntry(TypedDict, total=False):
    """One exercise in ``progress.json``. Unknown keys are kept as they are."""

    checks: int  # how many times it was checked
    hints_shown: int  # general hints revealed so far
    passed: bool  # passed at least once (the name --json readers already use)
    first_passed: str  # local time, ISO 8601, of the first pass
    last_checked: str
    last_result: LastResult  # of the latest check, or "reset" after a reset
    hint_target: HintTarget  # the last check's first failing behaviour and its own hints
    behaviour_hints_shown: dict[str, int]  # place in (aimed + general), by behaviour sentence
    aimed_hints_shown: int  # aimed hints revealed, all behaviours together


# What each known field must be; anything else in an entry is dropped with a note.
_COUNTERS = ("checks", "hints_shown", "aimed_hints_shown")
_TEXTS = ("first_passed", "last_checked")

Progress = dict[str, ProgressEntry]


class ProgressRowJson(TypedDict):
    """One exercise in ``progress --json`` (what instructors collect)."""

    exercise: str
    title: str
    notebook: str
    passed: bool  # passed at least once (the historical name; same as ever_passed)
    passes_now: bool
    ever_passed: bool
    checks: int
    hints_shown: int
    hints_total: int
    first_passed: str | None
    last_checked: str | None
    last_result: LastResult | None


@dataclass(frozen=True)
class ProgressRow:
    """One exercise as ``progress`` shows it (the table, the widget and ``--json``)."""

    exercise: str
    title: str
    notebook: str
    passes_now: bool  # the latest check passed, and no reset since
    ever_passed: bool
    checks: int
    hints_shown: int  # every hint revealed: general ones and those aimed at a failure
    hints_total: int  # the general hints, plus the aimed ones revealed
    first_passed: str | None = None
    last_checked: str | None = None
    last_result: LastResult | None = None

    @property
    def mark(self) -> str:
        """``done`` (passes now), ``redo`` (passed once, not now: a later failing check
        or a reset), ``tried`` (checked, never passed) or ``todo``."""
        if self.passes_now:
            return "done"
        if self.ever_passed:
            return "redo"
        return "tried" if self.checks else "todo"

    def to_json(self) -> ProgressRowJson:
        """The ``--json`` row: the historical fields (``passed`` = passed once) plus the new ones."""
        return ProgressRowJson(
            exercise=self.exercise,
            title=self.title,
            notebook=self.notebook,
            passed=self.ever_passed,
            passes_now=self.passes_now,
            ever_passed=self.ever_passed,
            checks=self.checks,
            hints_shown=self.hints_shown,
            hints_total=self.hints_total,
            first_passed=self.first_passed,
            last_checked=self.last_checked,
            last_result=self.last_result,
        )


class CourseState:
    """Reads and writes ``.course/progress.json``: locked, atomic, and forgiving.

    Problems with the state never raise; they are sentences in :attr:`notices`.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = state_dir(root)
        self.file = self.folder / PROGRESS_FILE
        self.notices: list[str] = []

    # --- reading and writing, under the lock --------------------------------------------

    def _note(self, sentence: str) -> None:
        if sentence not in self.notices:
            self.notices.append(sentence)

    def _relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def _folder_problem(self) -> str:
        if self.folder.exists() and not self.folder.is_dir():
            return (
                f"{self._relative(self.folder)} is a file, not a folder, so your progress cannot be "
                f"kept: move it away (`mv {self.folder.name} {self.folder.name}.old`)."
            )
        return ""

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the state's exclusive lock; without one (read-only folder), carry on:
        nothing can be written there anyway, and reading needs no lock."""
        if fcntl is None or self._folder_problem():
            yield
            return
        try:
            self.folder.mkdir(exist_ok=True)
            handle = os.open(self.folder / "progress.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            yield
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            os.close(handle)  # closing releases the lock

    def _read(self) -> tuple[Progress, bool]:
        """The progress (repaired, with the damage kept aside); and whether it may be
        written back (not when the file exists but cannot be read at all)."""
        problem = self._folder_problem()
        if problem:
            self._note(problem)
            return {}, False
        try:
            raw_bytes = self.file.read_bytes()
        except FileNotFoundError:
            return {}, True
        except OSError as error:
            self._note(
                f"{self._relative(self.file)} cannot be read ({error.strerror or error}), so it is "
                "left as it is and nothing is recorded until it can."
            )
            return {}, False
        text = raw_bytes.decode("utf-8", errors="replace")
        try:
            raw = json.loads(text)
            damage = ""
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            raw = _salvage(text)
            damage = "it was empty" if not text.strip() else "it is not valid JSON"
        data, problems = clean_progress(raw)
        if damage or problems:
            # Never written over unless the original is safe beside it.
            return data, self._keep_aside(raw_bytes, data, damage or "; ".join(problems))
        return data, True

    def _keep_aside(self, original: bytes, repaired: Progress, what: str) -> bool:
        """Copy the damaged file aside, then write the repaired progress; say which."""
        aside = stamped_path(self.folder, "progress.damaged", ".json")
        try:
            aside.write_bytes(original)
            self._write(repaired)
        except OSError as error:
            self._note(
                f"{self._relative(self.file)} is damaged ({what}) and could not be repaired "
                f"({error.strerror or error}); it is left as it is."
            )
            return False
        self._note(
            f"{self._relative(self.file)} was damaged ({what}): the original is kept as "
            f"{self._relative(aside)} and {len(repaired)} exercise(s) were recovered."
        )
        return True

    def _write(self, data: Progress) -> None:
        """Atomic: write a temporary file, then rename it over the old one."""
        self.folder.mkdir(exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=self.folder, prefix=".progress-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=2, sort_keys=True)
            os.replace(tmp, self.file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def load(self) -> Progress:
        """The progress as it is now (repairing a damaged file on the way)."""
        with self._locked():
            data, _ = self._read()
        return data

    @contextlib.contextmanager
    def _update(self) -> Iterator[Progress]:
        """Read-modify-write under the lock; a write that fails becomes a notice."""
        with self._locked():
            data, writable = self._read()
            yield data
            if not writable:
                return
            try:
                self._write(data)
            except OSError as error:
                self._note(
                    f"Your progress could not be saved in {self._relative(self.folder)}/ "
                    f"({error.strerror or error}): make that folder writable to keep it."
                )

    # --- what the commands do --------------------------------------------------------------

    def entry(self, exercise_id: str) -> ProgressEntry:
        return self.load().get(exercise_id, ProgressEntry())

    def record_check(self, verdict: Verdict) -> tuple[str, ...]:
        """Record one check; return the sentences to print after the verdict (if any)."""
        before = len(self.notices)
        with self._update() as data:
            entry = data.setdefault(verdict.exercise, ProgressEntry())
            entry["checks"] = entry.get("checks", 0) + 1
            entry["last_checked"] = time.strftime("%Y-%m-%dT%H:%M:%S")
            entry["last_result"] = "pass" if verdict.passed else "fail"
            # The first failing behaviour and its own hints: what `hint` aims at next.
            behaviour, hints = verdict.hint_target()
            if hints:
                entry["hint_target"] = HintTarget(behaviour=behaviour, hints=list(hints))
            else:
                entry.pop("hint_target", None)
            if verdict.passed and not entry.get("passed"):
                entry["passed"] = True
                entry["first_passed"] = entry["last_checked"]
        return tuple(self.notices[before:])

    def passed(self, exercise_id: str) -> bool:
        """Passed at least once (what opens the reference solution)."""
        return bool(self.entry(exercise_id).get("passed"))

    def next_hint(self, exercise_id: str) -> tuple[int, int, str]:
        """Reveal one more hint: (number, total, text). Repeats the last once all are shown."""
        hint = self.reveal_hint(exercise_id)
        return hint.number, hint.total, hint.text

    def reveal_hint(self, exercise_id: str) -> Hint:
        """The next hint: first those aimed at the last check's first failing behaviour
        (when it has its own), then the catalog's general hints; the last one repeats.

        Counters: ``hints_shown`` for the general hints, ``behaviour_hints_shown``
        keyed by the behaviour's sentence for its place in (aimed + general).
        """
        general = catalog.get(exercise_id).hints
        with self._update() as data:
            entry = data.setdefault(exercise_id, ProgressEntry())
            target = entry.get("hint_target")
            if target and target["hints"]:
                behaviour, aimed = target["behaviour"], target["hints"]
                total = len(aimed) + len(general)
                counters = entry.setdefault("behaviour_hints_shown", {})
                before = counters.get(behaviour, 0)
                shown = min(before + 1, total)
                counters[behaviour] = shown
                if before < shown <= len(aimed):
                    entry["aimed_hints_shown"] = entry.get("aimed_hints_shown", 0) + 1
                if shown <= len(aimed):
                    return Hint(shown, total, aimed[shown - 1], behaviour)
                # The aimed hints did not do it: go on with the general ones.
                entry["hints_shown"] = max(entry.get("hints_shown", 0), shown - len(aimed))
                return Hint(shown, total, general[shown - len(aimed) - 1])
            shown = min(entry.get("hints_shown", 0) + 1, len(general))
            entry["hints_shown"] = shown
            return Hint(shown, len(general), general[shown - 1])

    def reset(self, exercise_id: str) -> Path | None:
        """Restore the pristine stub (the learner's version is backed up first) and
        record that the exercise no longer passes; return where the backup is.

        Raises ``OSError`` when the backup cannot be made: then nothing is touched.
        """
        backup = restore_stub(self.root, exercise_id, self.folder / "backups")
        with self._update() as data:
            if exercise_id in data:
                data[exercise_id]["last_result"] = "reset"
        return backup

    def summary(self) -> list[ProgressRow]:
        """One row per exercise, in course order."""
        return summary_rows(self.load())


def _hint_counts(entry: ProgressEntry, general: int) -> tuple[int, int]:
    """(revealed, available): every hint counts once, the general ones and those aimed
    at a failing behaviour; available adds the aimed hints of the last check's first
    failing behaviour, so it matches the "N hints" that check announced."""
    revealed_aimed = entry.get("aimed_hints_shown", 0)
    total = general + revealed_aimed
    target = entry.get("hint_target")
    if target and target["hints"]:
        aimed = len(target["hints"])
        already = min(entry.get("behaviour_hints_shown", {}).get(target["behaviour"], 0), aimed)
        total += aimed - already  # the current behaviour's aimed hints not yet revealed
    return entry.get("hints_shown", 0) + revealed_aimed, total


def summary_rows(data: Progress) -> list[ProgressRow]:
    """One row per exercise, in course order, from progress already read and cleaned.

    The one rule for what a row says: ``progress``, its widget, the room service
    (through each learner's ``--json`` rows) and ``room PATH...`` all use it.
    """
    rows = []
    for exercise in catalog.exercises().values():
        entry = data.get(exercise.id, ProgressEntry())
        last_result = entry.get("last_result")
        shown, total = _hint_counts(entry, len(exercise.hints))
        rows.append(
            ProgressRow(
                exercise=exercise.id,
                title=exercise.title,
                notebook=exercise.notebook,
                passes_now=last_result == "pass",
                ever_passed=bool(entry.get("passed")),
                checks=entry.get("checks", 0),
                hints_shown=shown,
                hints_total=total,
                first_passed=entry.get("first_passed"),
                last_checked=entry.get("last_checked"),
                last_result=last_result,
            )
        )
    return rows


# --- repairing what was read ----------------------------------------------------------------


def clean_progress(raw: object) -> tuple[Progress, list[str]]:
    """Keep every entry and field of the right shape; say what was dropped or fixed."""
    if not isinstance(raw, dict):
        shape = "null" if raw is None else f"a {type(raw).__name__.replace('NoneType', 'null')}"
        return {}, [f"it held {shape} instead of a table of exercises"]
    data: Progress = {}
    problems: list[str] = []
    for exercise_id, value in raw.items():
        if not isinstance(value, dict):
            problems.append(f"the entry for {exercise_id} was a {type(value).__name__}")
            continue
        entry = dict(value)
        bad = [key for key in _COUNTERS if key in entry and not _is_count(entry[key])]
        bad += [key for key in _TEXTS if key in entry and not isinstance(entry[key], str)]
        if "passed" in entry and not isinstance(entry["passed"], bool):
            bad.append("passed")
        if "last_result" in entry and entry["last_result"] not in _LAST_RESULTS:
            bad.append("last_result")
        if "hint_target" in entry and not _is_hint_target(entry["hint_target"]):
            bad.append("hint_target")
        if "behaviour_hints_shown" in entry and not (
            isinstance(entry["behaviour_hints_shown"], dict)
            and all(
                isinstance(k, str) and _is_count(v)
                for k, v in entry["behaviour_hints_shown"].items()
            )
        ):
            bad.append("behaviour_hints_shown")
        if bad:
            wrong = ", ".join(f"{key}={entry.pop(key)!r}" for key in bad)
            problems.append(f"{exercise_id} had {wrong}")
        data[exercise_id] = cast(ProgressEntry, entry)
    return data, problems


def _is_hint_target(value: object) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("behaviour"), str)
        and isinstance(value.get("hints"), list)
        and all(isinstance(text, str) for text in value["hints"])
    )


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


_decoder = json.JSONDecoder()


def _salvage(text: str) -> object:
    """Read as much of a damaged JSON object as can be read: every complete
    ``"key": value`` pair, and inside a cut-off object, the pairs before the cut."""
    try:
        found, _ = _salvage_object(text, _skip_space(text, 0))
    except RecursionError:
        return {}
    return found


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _salvage_object(text: str, position: int) -> tuple[dict[str, object], int]:
    pairs: dict[str, object] = {}
    if not text.startswith("{", position):
        return pairs, position
    position += 1
    while True:
        position = _skip_space(text, position)
        try:
            key, position = _decoder.raw_decode(text, position)
        except ValueError:
            return pairs, position
        position = _skip_space(text, position)
        if not isinstance(key, str) or not text.startswith(":", position):
            return pairs, position
        position = _skip_space(text, position + 1)
        try:
            value, position = _decoder.raw_decode(text, position)
        except ValueError:
            if text.startswith("{", position):  # cut inside a nested object: keep its start
                pairs[key], position = _salvage_object(text, position)
            return pairs, position
        pairs[key] = value
        position = _skip_space(text, position)
        if not text.startswith(",", position):
            return pairs, position
        position += 1


# --- how progress reads ------------------------------------------------------------------------


def progress_text(rows: list[ProgressRow]) -> str:
    """The progress table as text: the terminal's view and the widget's fallback."""
    now = sum(row.passes_now for row in rows)
    ever = sum(row.ever_passed for row in rows)
    lines = [
        f"Progress: {now} of {len(rows)} exercises pass now; {ever} passed at least once.",
        "  (done: passes now; redo: passed once, fails now or was reset; tried; todo)",
    ]
    for row in rows:
        hints = f"hints {row.hints_shown}/{row.hints_total}"
        lines.append(f"  {row.exercise}  {row.mark:<5}  {hints:<10}  {row.title}")
    return "\n".join(lines)
