"""The learner's state (``.course/``) is never silently lost: damaged files, wrong
shapes, read-only folders and two writers at once, driven on a private course copy."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from patterns.course import catalog
from patterns.course.paths import ROOT_ENV
from patterns.course.state import CourseState, ProgressRow, progress_text
from patterns.course.stubs import pristine_course
from patterns.course.verdict import CaseOutcome, Verdict

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def course(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with pristine_course(ROOT) as copy:
        monkeypatch.setenv(ROOT_ENV, str(copy))
        yield copy


def verdict(exercise: str, passed: bool) -> Verdict:
    return Verdict(exercise, "title", (CaseOutcome("t", "It works.", passed, ""),))


def progress_file(course: Path) -> Path:
    return course / ".course" / "progress.json"


def write_progress(course: Path, text: str) -> None:
    progress_file(course).parent.mkdir(exist_ok=True)
    progress_file(course).write_text(text, encoding="utf-8")


def row(rows: list[ProgressRow], exercise: str) -> ProgressRow:
    return next(r for r in rows if r.exercise == exercise)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "patterns", *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


GOOD = {
    "ex00": {"checks": 2, "passed": True, "first_passed": "2026-01-01T10:00:00",
             "last_checked": "2026-01-01T10:00:00", "last_result": "pass", "hints_shown": 1},
    "ex03": {"checks": 5, "last_result": "fail", "hints_shown": 3},
}  # fmt: skip


# --- damaged files: kept aside, what can be read is recovered ---------------------------


@pytest.mark.parametrize(
    ("damage", "recovered"),
    [
        ("", set()),  # emptied (a crash of an old version, a full disk)
        (json.dumps(GOOD, indent=2)[:-40], {"ex00", "ex03"}),  # cut inside ex03's entry
        ('{"ex00": ' * 100_000, set()),  # nested past the parser's recursion limit
        # a hand edit's trailing comma
        (json.dumps(GOOD, indent=2)[:-2] + ",\n}", {"ex00", "ex03"}),
    ],
    ids=["empty", "truncated", "deep", "trailing-comma"],
)
def test_an_unreadable_progress_file_is_kept_aside_and_what_can_be_read_is_recovered(
    course: Path, damage: str, recovered: set[str]
) -> None:
    """A damaged progress.json is copied aside, readable entries survive the next write."""
    write_progress(course, damage)
    state = CourseState(course)
    notices = state.record_check(verdict("ex05", passed=False))
    kept = list((course / ".course").glob("progress.damaged.*.json"))
    assert [k.read_text(encoding="utf-8") for k in kept] == [damage]
    assert len(notices) == 1 and kept[0].name in notices[0] and "damaged" in notices[0]
    data = json.loads(progress_file(course).read_text(encoding="utf-8"))
    assert set(data) == recovered | {"ex05"}
    if "ex00" in recovered:
        assert data["ex00"]["checks"] == 2 and data["ex00"]["passed"] is True


def test_a_truncated_entry_keeps_the_fields_before_the_cut(course: Path) -> None:
    """Salvage goes inside an entry: ex03's counter written before the cut is kept."""
    text = json.dumps(GOOD)
    write_progress(course, text[: text.index('"hints_shown": 3')])
    rows = CourseState(course).summary()
    assert row(rows, "ex03").checks == 5 and row(rows, "ex00").ever_passed


@pytest.mark.parametrize(
    ("content", "what"),
    [
        ("[]", "a list"),
        ("null", "null"),
        ('{"ex00": "done"}', "ex00"),
        ('{"ex00": {"checks": -3, "passed": true}}', "ex00"),
        ('{"ex00": {"hints_shown": "two", "passed": "yes"}}', "ex00"),
    ],
    ids=["list", "null", "entry-is-a-string", "negative-counter", "wrong-field-types"],
)
def test_a_wrong_shape_is_one_sentence_and_the_file_is_kept_aside(
    course: Path, content: str, what: str
) -> None:
    """Wrong shapes are repaired with one sentence naming what was wrong; nothing raises."""
    write_progress(course, content)
    state = CourseState(course)
    rows = state.summary()
    assert len(rows) == len(catalog.exercises())
    assert all(r.checks >= 0 and r.hints_shown >= 0 for r in rows)
    assert len(state.notices) == 1 and what in state.notices[0], state.notices
    kept = list((course / ".course").glob("progress.damaged.*.json"))
    assert [k.read_text(encoding="utf-8") for k in kept] == [content]


def test_a_negative_counter_restarts_at_zero_and_the_rest_of_the_entry_stays(course: Path) -> None:
    """Only the bad field goes: ex00 still counts as passed."""
    write_progress(course, '{"ex00": {"checks": -3, "passed": true}}')
    ex00 = row(CourseState(course).summary(), "ex00")
    assert ex00.checks == 0 and ex00.ever_passed


def test_fields_the_state_does_not_know_survive_a_write(course: Path) -> None:
    """A field written by another version of the tooling is kept, not dropped."""
    write_progress(course, '{"ex00": {"checks": 1, "tutor_note": {"said": "b"}}}')
    CourseState(course).record_check(verdict("ex00", passed=False))
    data = json.loads(progress_file(course).read_text(encoding="utf-8"))
    assert data["ex00"]["tutor_note"] == {"said": "b"} and data["ex00"]["checks"] == 2


def test_a_healthy_file_says_nothing_and_keeps_nothing_aside(course: Path) -> None:
    write_progress(course, json.dumps(GOOD))
    state = CourseState(course)
    assert state.record_check(verdict("ex00", passed=True)) == ()
    assert state.notices == []
    assert not list((course / ".course").glob("progress.damaged.*"))


# --- folders that cannot be written -----------------------------------------------------


def test_dot_course_being_a_file_is_one_sentence_and_nothing_is_overwritten(course: Path) -> None:
    """.course as a file: the check is not recorded, the file is left alone, one sentence."""
    (course / ".course").write_text("not a folder", encoding="utf-8")
    state = CourseState(course)
    notices = state.record_check(verdict("ex00", passed=True))
    assert len(notices) == 1 and ".course" in notices[0] and "not a folder" in notices[0]
    assert (course / ".course").read_text(encoding="utf-8") == "not a folder"
    assert all(not r.ever_passed for r in state.summary())


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make ``folder`` unwritable for real: its mode, or for root (who ignores modes)
    the immutable attribute; skip where neither holds."""
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    immutable = False
    try:
        if os.access(folder, os.W_OK) and shutil.which("chattr"):
            immutable = subprocess.run(["chattr", "+i", str(folder)], check=False).returncode == 0
        probe = folder / ".probe"
        try:
            probe.touch()
        except OSError:
            pass
        else:
            probe.unlink()
            pytest.skip("cannot make a folder read-only here")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(stat.S_IRWXU)


def test_a_read_only_state_folder_is_one_sentence_and_the_progress_stays(course: Path) -> None:
    """A read-only .course/: the new check is not saved, the old progress is intact."""
    write_progress(course, json.dumps(GOOD))
    with read_only(course / ".course"):
        notices = CourseState(course).record_check(verdict("ex05", passed=True))
    assert len(notices) == 1 and "could not be saved" in notices[0]
    assert json.loads(progress_file(course).read_text(encoding="utf-8")) == GOOD


def test_check_prints_the_verdict_first_then_the_state_problem(course: Path) -> None:
    """The terminal's check with a read-only .course/: verdict, then one sentence, no traceback."""
    write_progress(course, json.dumps(GOOD))
    with read_only(course / ".course"):
        result = cli("check", "ex00")
    lines = result.stdout.splitlines()
    assert re.match(r"ex00: \d+ of \d+ behaviours fail", lines[0]), result.stdout
    assert lines[-1].startswith("  Note: Your progress could not be saved"), result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_damaged_file_in_a_read_only_folder_is_left_exactly_as_it_was(course: Path) -> None:
    """When the damaged original cannot be kept aside, it is not repaired over either."""
    write_progress(course, '{"ex00": {"checks": 2},')
    with read_only(course / ".course"):
        notices = CourseState(course).record_check(verdict("ex00", passed=True))
    assert progress_file(course).read_text(encoding="utf-8") == '{"ex00": {"checks": 2},'
    assert any("could not be repaired" in n for n in notices), notices


def test_an_unreadable_progress_file_is_never_written_over(course: Path) -> None:
    """If progress.json cannot be read at all (a folder in its place), it is left alone."""
    progress_file(course).mkdir(parents=True)
    state = CourseState(course)
    notices = state.record_check(verdict("ex00", passed=True))
    assert len(notices) == 1 and "progress.json" in notices[0]
    assert progress_file(course).is_dir()


# --- passes now, passed once ------------------------------------------------------------


def test_a_later_failing_check_means_not_passing_now_but_passed_once(course: Path) -> None:
    """progress tells an instructor apart: passes now vs passed at some point."""
    state = CourseState(course)
    state.record_check(verdict("ex00", passed=True))
    state.record_check(verdict("ex00", passed=False))
    ex00 = row(state.summary(), "ex00")
    assert (ex00.passes_now, ex00.ever_passed) == (False, True)
    assert ex00.mark == "redo"


def test_reset_means_not_passing_now_but_passed_once(course: Path) -> None:
    state = CourseState(course)
    state.record_check(verdict("ex00", passed=True))
    state.reset("ex00")
    ex00 = row(state.summary(), "ex00")
    assert (ex00.passes_now, ex00.ever_passed, ex00.last_result) == (False, True, "reset")


def test_progress_json_keeps_its_fields_and_adds_passes_now_and_ever_passed(course: Path) -> None:
    """--json stays compatible (``passed`` = passed once) and says what passes now."""
    state = CourseState(course)
    state.record_check(verdict("ex00", passed=True))
    state.record_check(verdict("ex00", passed=False))
    result = cli("progress", "--json")
    ex00 = next(r for r in json.loads(result.stdout)["exercises"] if r["exercise"] == "ex00")
    old_fields = {"exercise", "title", "notebook", "passed", "checks", "hints_shown",
                  "hints_total", "first_passed", "last_checked"}  # fmt: skip
    assert old_fields <= set(ex00)
    assert ex00["passed"] is True and ex00["ever_passed"] is True
    assert ex00["passes_now"] is False and ex00["last_result"] == "fail"


def test_progress_table_shows_now_and_ever() -> None:
    rows = [
        ProgressRow("ex00", "Warm-up", "00.ipynb", passes_now=False, ever_passed=True,
                    checks=3, hints_shown=0, hints_total=3, last_result="fail"),
        ProgressRow("ex01", "Repo", "01.ipynb", passes_now=True, ever_passed=True,
                    checks=1, hints_shown=0, hints_total=3, last_result="pass"),
    ]  # fmt: skip
    text = progress_text(rows)
    assert "1 of 2 exercises pass now; 2 passed at least once" in text
    assert "ex00  redo" in text and "ex01  done" in text


# --- two writers at once ----------------------------------------------------------------

_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from patterns.course.state import CourseState
    from patterns.course.verdict import CaseOutcome, Verdict

    root, rounds = Path(sys.argv[1]), int(sys.argv[2])
    sys.stdin.readline()  # start together
    for _ in range(rounds):
        state = CourseState(root)
        state.record_check(Verdict("ex00", "t", (CaseOutcome("t", "b", False, ""),)))
        state.next_hint("ex01")
    """
)


def test_concurrent_writers_lose_no_update(course: Path) -> None:
    """Four processes checking and asking hints at once: every check is counted."""
    writers, rounds = 4, 25
    command = [sys.executable, "-c", _WRITER, str(course), str(rounds)]
    processes = [
        subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(writers)
    ]
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    for process in processes:
        _, errors = process.communicate(timeout=120)
        assert process.returncode == 0, errors
    data = json.loads(progress_file(course).read_text(encoding="utf-8"))
    assert data["ex00"]["checks"] == writers * rounds
    assert data["ex01"]["hints_shown"] == len(catalog.get("ex01").hints)


def test_a_malformed_hint_target_is_dropped_with_a_note(course: Path) -> None:
    """A hand-edited hint target (hints not a list of texts) is dropped and said, not trusted."""
    write_progress(course, '{"ex00": {"checks": 1, "hint_target": {"behaviour": "b", "hints": 3}}}')
    state = CourseState(course)
    state.record_check(verdict("ex00", passed=False))
    data = json.loads(progress_file(course).read_text(encoding="utf-8"))
    assert "hint_target" not in data["ex00"] and data["ex00"]["checks"] == 2
    assert any("hint_target" in notice for notice in state.notices), state.notices
