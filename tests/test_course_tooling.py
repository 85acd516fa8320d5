"""The learner's loop, driven as a learner drives it: the CLI on a copy of the course."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from patterns.course import catalog
from patterns.course.paths import ROOT_ENV, course_root
from patterns.course.stubs import StubMarkerError, make_stub, pristine_course

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def course(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private copy of the course with pristine stubs, like a fresh download."""
    with pristine_course(ROOT) as copy:
        monkeypatch.setenv(ROOT_ENV, str(copy))
        yield copy


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "patterns", *args],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def solve(course: Path, exercise: str = "ex00") -> None:
    chosen = catalog.get(exercise)
    shutil.copy2(course / "solutions" / chosen.file_name, course / "exercises" / chosen.file_name)


# --- stubs and the catalog ------------------------------------------------------------


def test_stub_replaces_each_solution_block_with_a_named_not_implemented_error() -> None:
    """A BEGIN/END block becomes a NotImplementedError naming the exercise and the task."""
    source = "def f():\n    # BEGIN SOLUTION: return one\n    return 1\n    # END SOLUTION\n"
    stub = make_stub(source, "ex42")
    assert stub == "def f():\n    raise NotImplementedError('ex42: return one')\n"


def test_stub_section_becomes_the_flawed_starting_code() -> None:
    """Lines after # STUB, commented out in the solution, are the stub's code."""
    source = (
        "def now(clock):\n    # BEGIN SOLUTION\n    return clock()\n    # STUB\n"
        "    # import time\n    # return time.time()\n    # END SOLUTION\n"
    )
    assert make_stub(source, "ex04") == "def now(clock):\n    import time\n    return time.time()\n"


@pytest.mark.parametrize(
    "source",
    ["# BEGIN SOLUTION\nx = 1\n", "# END SOLUTION\n", "# BEGIN SOLUTION\n# BEGIN SOLUTION\n"],
)
def test_unpaired_markers_are_refused(source: str) -> None:
    """Markers that do not pair up raise StubMarkerError instead of writing a broken stub."""
    with pytest.raises(StubMarkerError):
        make_stub(source, "ex00")


def test_every_solution_generates_a_stub_that_compiles() -> None:
    """Each catalog entry has a solution whose stub is valid Python."""
    for exercise in catalog.exercises().values():
        source = (ROOT / "solutions" / exercise.file_name).read_text()
        compile(make_stub(source, exercise.id), exercise.file_name, "exec")
        assert (ROOT / exercise.grader).exists(), f"{exercise.id} has no grader"


@pytest.mark.parametrize("name", ["ex00", "0", "00", "EX00", "ex00_warmup", "ex00_warmup.py"])
def test_exercise_names_are_forgiving(name: str) -> None:
    """ex00 can be named by number, id or file name."""
    assert catalog.get(name).id == "ex00"


def test_unknown_exercise_names_suggest_the_closest_one() -> None:
    """A typo gets a suggestion and the list of known exercises."""
    with pytest.raises(catalog.UnknownExerciseError, match="Did you mean ex00"):
        catalog.get("ex000")


def test_course_root_is_found_from_a_subfolder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tooling run from notebooks/ finds the course folder above it."""
    monkeypatch.delenv(ROOT_ENV, raising=False)
    assert course_root(ROOT / "notebooks") == ROOT


# --- the commands -----------------------------------------------------------------------


def test_check_fails_on_the_stub_and_names_the_behaviour(course: Path) -> None:
    """check exits 1 on the stub, naming the first failing behaviour and what came back."""
    result = cli("check", "ex00")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "behaviours fail. First:" in result.stdout
    assert "NotImplementedError: ex00:" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_check_passes_with_the_solution_and_records_progress(course: Path) -> None:
    """check exits 0 once the exercise is solved, and progress --json says so."""
    solve(course)
    result = cli("check", "ex00")
    assert result.returncode == 0, result.stdout
    assert "ex00 passes" in result.stdout
    rows = json.loads(cli("progress", "--json").stdout)["exercises"]
    ex00 = next(row for row in rows if row["exercise"] == "ex00")
    assert ex00["passed"] is True and ex00["checks"] == 1
    assert {row["exercise"] for row in rows} == set(catalog.exercises())


def test_a_wrong_answer_is_explained_with_the_call_and_the_result(course: Path) -> None:
    """A wrong implementation gets the call and the returned value in one sentence."""
    (course / "exercises" / "ex00_warmup.py").write_text(
        "def split_evenly(total_cents, people):\n    return [total_cents // people] * people\n"
    )
    result = cli("check", "ex00")
    assert result.returncode == 1
    assert "split_evenly(1000, 3) returned [333, 333, 333], which adds up to 999" in result.stdout


def test_hints_come_one_at_a_time(course: Path) -> None:
    """hint reveals hint 1 of 3, then 2 of 3, and stays on the last one."""
    total = len(catalog.get("ex00").hints)
    outputs = [cli("hint", "ex00").stdout for _ in range(total + 1)]
    assert "hint 1 of 3" in outputs[0] and "hint 2 of 3" in outputs[1]
    assert f"hint {total} of {total}" in outputs[-1]


def test_reset_restores_the_stub_and_keeps_a_backup(course: Path) -> None:
    """reset brings back the pristine stub and keeps the learner's file in .course/backups."""
    mine = "# my attempt\n"
    (course / "exercises" / "ex00_warmup.py").write_text(mine)
    result = cli("reset", "ex00")
    assert result.returncode == 0
    assert "NotImplementedError" in (course / "exercises" / "ex00_warmup.py").read_text()
    backups = list((course / ".course" / "backups").glob("ex00_warmup.*.py"))
    assert [b.read_text() for b in backups] == [mine]


def test_solution_opens_only_after_a_pass_or_with_force(course: Path) -> None:
    """solution refuses before a pass, shows the reference after one, or with --force."""
    refused = cli("solution", "ex00")
    assert refused.returncode == 1 and "opens once your exercise passes" in refused.stdout
    assert "divmod" in cli("solution", "ex00", "--force").stdout
    solve(course)
    cli("check", "ex00")
    assert "divmod" in cli("solution", "ex00").stdout


@pytest.mark.parametrize("exercise", ["ex00", "ex04"])
def test_solution_shows_no_markers_and_no_commented_out_stub_code(
    course: Path, exercise: str
) -> None:
    """The revealed solution reads as plain code: no BEGIN/STUB/END lines, no stub in comments."""
    chosen = catalog.get(exercise)
    source = (course / "solutions" / chosen.file_name).read_text(encoding="utf-8")
    stub_only = set(make_stub(source, chosen.id).splitlines()) - set(source.splitlines())
    result = cli("solution", exercise, "--force")
    assert result.returncode == 0
    for marker in ("# BEGIN SOLUTION", "# STUB", "# END SOLUTION"):
        assert marker not in result.stdout
    commented_stub = {f"# {line.strip()}" for line in stub_only if line.strip()}
    shown = {line.strip() for line in result.stdout.splitlines()}
    if chosen.kind == "fix":
        assert commented_stub, "a fix exercise's stub code should differ from its solution"
    assert not commented_stub & shown


def test_solution_before_a_pass_exits_non_zero_even_after_hints(course: Path) -> None:
    """Asking hints is not passing: the solution stays closed, exit status 1."""
    cli("hint", "ex00")
    result = cli("solution", "ex00")
    assert result.returncode == 1 and "divmod" not in result.stdout


def test_a_damaged_progress_file_costs_one_note_after_the_hint(course: Path) -> None:
    """hint on a truncated progress file: the hint first, then one sentence, no traceback."""
    (course / ".course").mkdir()
    (course / ".course" / "progress.json").write_text('{"ex03": {"checks": 4, "passed": tr')
    result = cli("hint", "ex00")
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and lines[0].startswith("ex00, hint 1 of")
    assert lines[-1].startswith("Note: .course/progress.json was damaged"), result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    rows = json.loads(cli("progress", "--json").stdout)["exercises"]
    assert next(r for r in rows if r["exercise"] == "ex03")["checks"] == 4


def test_dot_course_being_a_file_is_one_sentence_for_every_command(course: Path) -> None:
    """.course as a file: check, hint, progress and reset each say so once, never a traceback."""
    (course / ".course").write_text("oops")
    for command in (["check", "ex00"], ["hint", "ex00"], ["progress"], ["reset", "ex00"]):
        result = cli(*command)
        output = result.stdout + result.stderr
        assert "Traceback" not in output, output
        assert ".course" in output and ("not a folder" in output or "backed up" in output), output
    assert (course / ".course").read_text() == "oops"


def test_unknown_exercise_is_a_clear_error_not_a_traceback(course: Path) -> None:
    """An unknown name exits 2 with one line listing the known exercises."""
    result = cli("check", "ex99")
    assert result.returncode == 2
    assert "There is no exercise called 'ex99'" in result.stderr
    assert "Traceback" not in result.stderr


def test_syntax_error_is_reported_with_its_line(course: Path) -> None:
    """A syntax error in the learner's file is named with its line number."""
    (course / "exercises" / "ex00_warmup.py").write_text("def split_evenly(a, b)\n    return []\n")
    result = cli("check", "ex00")
    assert result.returncode == 1
    assert "syntax error on line 1" in result.stdout and "Traceback" not in result.stdout


def test_infinite_loop_is_stopped_by_the_timeout(course: Path) -> None:
    """A learner's endless loop is stopped, and the message says to look for one."""
    (course / "exercises" / "ex00_warmup.py").write_text(
        "def split_evenly(total_cents, people):\n    while True:\n        pass\n"
    )
    env = {**os.environ, "PATTERNS_CHECK_TIMEOUT": "2"}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "patterns", "check", "ex00"],
        capture_output=True, text=True, env=env, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "stopped after 2 s" in result.stdout and "infinite loop" in result.stdout
    assert time.monotonic() - started < 10


def test_import_time_crash_is_reported_as_a_sentence(course: Path) -> None:
    """Code that raises at import is reported with its exception, not a traceback."""
    (course / "exercises" / "ex00_warmup.py").write_text("raise RuntimeError('boom')\n")
    result = cli("check", "ex00")
    assert result.returncode == 1
    assert "Importing ex00_warmup.py raised RuntimeError: boom" in result.stdout


def test_watch_rechecks_when_the_file_is_saved(course: Path) -> None:
    """watch prints a new verdict soon after the exercise file is saved."""
    process = subprocess.Popen(
        [sys.executable, "-m", "patterns", "watch", "ex00", "--max-runs", "1", "--interval", "0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert "Watching" in process.stdout.readline()
        solve(course)
        os.utime(course / "exercises" / "ex00_warmup.py")
        output, _ = process.communicate(timeout=30)
    finally:
        process.kill()
    assert "ex00 passes" in output


def test_progress_table_lists_every_exercise(course: Path) -> None:
    """progress prints one line per exercise and the counts passing now and passed once."""
    result = cli("progress")
    assert result.returncode == 0
    total = len(catalog.exercises())
    assert f"0 of {total} exercises pass now; 0 passed at least once" in result.stdout
    for exercise_id in catalog.exercises():
        assert exercise_id in result.stdout


def test_reset_is_in_the_notebook_api_like_check_and_hint(course: Path) -> None:
    """`from patterns.course import reset` restores the stub and names the backup."""
    from patterns.course import reset

    (course / "exercises" / "ex00_warmup.py").write_text("# mine\n")
    text = repr(reset("ex00"))
    assert "back to the starting stub" in text and ".course/backups/ex00_warmup." in text
    assert "NotImplementedError" in (course / "exercises" / "ex00_warmup.py").read_text()
    assert repr(reset("ex99")).startswith("error: There is no exercise called 'ex99'")


def test_pyproject_license_is_an_spdx_string_and_setuptools_can_read_it() -> None:
    """A license table makes every install print setuptools' deprecation warning; the
    SPDX string form needs setuptools 77 or later in the build requirements."""
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["license"] == "MIT"
    (floor,) = [r for r in pyproject["build-system"]["requires"] if r.startswith("setuptools")]
    assert int(floor.removeprefix("setuptools>=").split(".")[0]) >= 77


def test_a_catalog_entry_with_an_unknown_kind_is_refused_by_name(tmp_path: Path) -> None:
    """kind is "implement" or "fix"; a typo is a contributor's one-line error."""
    bad = tmp_path / "ex42_typo.toml"
    bad.write_text(
        'id = "ex42"\nslug = "typo"\ntitle = "t"\nnotebook = "n.ipynb"\n'
        'hints = ["h"]\nkind = "fixme"\n'
    )
    with pytest.raises(catalog.CatalogError, match=r"ex42_typo\.toml: kind = 'fixme'"):
        catalog._load(bad)


def test_watch_keeps_watching_when_progress_cannot_be_saved(course: Path) -> None:
    """.course being a file costs a note under each verdict; watch goes on to the next save."""
    (course / ".course").write_text("oops")
    process = subprocess.Popen(
        [sys.executable, "-m", "patterns", "watch", "ex00", "--max-runs", "2", "--interval", "0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert "Watching" in process.stdout.readline()
        # watch checks once as it starts: its note comes before any save.
        assert any("Note:" in line for line in process.stdout)
        verdicts = 0
        for save in range(2):
            os.utime(course / "exercises" / "ex00_warmup.py", ns=(save, save + 10**9))
            for line in process.stdout:
                if "Note:" in line:
                    assert ".course is a file, not a folder" in line
                    verdicts += 1
                    break
        output, _ = process.communicate(timeout=30)
    finally:
        process.kill()
    assert verdicts == 2 and process.returncode == 0
    assert "Traceback" not in output


def test_call_repr_shows_a_named_argument_as_its_name() -> None:
    """A connection or a fake is named in failure messages, never quoted as a string."""
    from patterns.course.grading import Named, call_repr

    assert call_repr("advisory_lock", Named("conn"), "42", blocking=False) == (
        "advisory_lock(conn, '42', blocking=False)"
    )


def _aimed_hints(grader: Path) -> list[str]:
    """The texts of every ``@pytest.mark.hints(...)`` in a grader file."""
    import ast

    texts = []
    for node in ast.walk(ast.parse(grader.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "hints"
        ):
            texts += [ast.literal_eval(arg) for arg in node.args]
    return texts


@pytest.mark.parametrize("exercise", sorted(catalog.exercises()))
def test_no_aimed_hint_repeats_a_general_one(exercise: str) -> None:
    """`hint` gives the aimed hints, then the general ones: a repeat would be a hint wasted
    (and look like "the last one repeats", the sign that there are no more)."""
    entry = catalog.get(exercise)
    aimed = _aimed_hints(ROOT / entry.grader)
    assert aimed, f"{entry.grader} has no @pytest.mark.hints"
    repeated = sorted(set(aimed) & set(entry.hints))
    assert not repeated, f"{exercise}: aimed hints that are also general hints: {repeated}"
