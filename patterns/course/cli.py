"""The command line: ``python -m patterns check ex07`` and friends.

Every error a learner can cause (an unknown exercise, a broken file, a missing
course folder) ends in one clear sentence and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from patterns.course import catalog
from patterns.course.paths import STATE_DIR, CourseRootNotFoundError, course_root
from patterns.course.state import CourseState, progress_text
from patterns.course.stubs import StubMarkerError, solution_view


def _say(text: str) -> bool:
    """Print; False when the reader has gone (``check ex06 | head -1``), without a traceback."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        # Point stdout at nothing so the interpreter's last flush cannot fail too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return False
    return True


def _check(args: argparse.Namespace) -> int:
    from patterns.course.runner import check_exercise, interrupted_line

    exercise_id = catalog.get(args.exercise).id
    try:
        verdict = check_exercise(exercise_id, course_root())
    except KeyboardInterrupt:
        _say(interrupted_line(exercise_id))
        return 130
    _say(verdict.text())
    return 0 if verdict.passed else 1


def _say_notices(state: CourseState, stream: TextIO | None = None) -> None:
    """State problems, one sentence each, after the command's own output."""
    for notice in state.notices:
        print(f"Note: {notice}", file=stream or sys.stdout, flush=True)


def _progress(args: argparse.Namespace) -> int:
    state = CourseState(course_root())
    rows = state.summary()
    if args.json:
        print(json.dumps({"exercises": [row.to_json() for row in rows]}, indent=2), flush=True)
        _say_notices(state, sys.stderr)  # stdout stays parseable
        return 0
    print(progress_text(rows))
    _say_notices(state)
    return 0


def _hint(args: argparse.Namespace) -> int:
    exercise = catalog.get(args.exercise)
    state = CourseState(course_root())
    hint = state.reveal_hint(exercise.id)
    _say(hint.line(exercise.id))
    if hint.last:
        # True of every exercise: the notebooks have no worked example to point to.
        _say(
            "That was the last hint. The failing behaviour's message says what was called, "
            "what came back and what was expected: run that call yourself and compare."
        )
    _say_notices(state)
    return 0


def _reset(args: argparse.Namespace) -> int:
    exercise = catalog.get(args.exercise)
    root = course_root()
    state = CourseState(root)
    try:
        backup = state.reset(exercise.id)
    except OSError as error:
        print(
            f"exercises/{exercise.file_name} was left as it is: your version could not be "
            f"backed up in {STATE_DIR}/backups ({error.strerror or error}).",
            file=sys.stderr,
        )
        return 1
    print(f"exercises/{exercise.file_name} is back to the starting stub.")
    if backup:
        print(f"Your previous version is kept in {backup.relative_to(root)}.")
    _say_notices(state)
    return 0


def _solution(args: argparse.Namespace) -> int:
    exercise = catalog.get(args.exercise)
    root = course_root()
    state = CourseState(root)
    if not args.force and not state.passed(exercise.id):
        print(
            f"The solution to {exercise.id} opens once your exercise passes "
            f"(`python -m patterns check {exercise.id}`). Instructors: add --force."
        )
        _say_notices(state)
        return 1
    print(solution_view((root / "solutions" / exercise.file_name).read_text(encoding="utf-8")))
    if exercise.after_pass:
        print(f"# When not to use this: {exercise.after_pass}")
    _say_notices(state)
    return 0


def _started(root: Path, chosen: Sequence[catalog.Exercise]) -> list[str]:
    """The exercises whose file is no longer the pristine stub."""
    from patterns.course.stubs import make_stub

    started = []
    for exercise in chosen:
        try:
            solution = (root / "solutions" / exercise.file_name).read_text(encoding="utf-8")
            current = (root / "exercises" / exercise.file_name).read_text(encoding="utf-8")
        except (OSError, ValueError):
            started.append(exercise.id)  # missing or unreadable: its check says why
            continue
        if current != make_stub(solution, exercise.id):
            started.append(exercise.id)
    return started


def _watch(args: argparse.Namespace) -> int:
    from patterns.course.runner import (
        check_exercise,
        interrupted_line,
        keep_grader_warm,
        terminate_as_interrupt,
    )

    root = course_root()
    keep_grader_warm()  # every save is a check: skip the 0.3 s of imports each time
    chosen = [catalog.get(args.exercise)] if args.exercise else list(catalog.exercises().values())
    files = {ex.id: root / "exercises" / ex.file_name for ex in chosen}

    def stamp(path: Path) -> float:
        try:
            return path.stat().st_mtime_ns
        except OSError:
            return 0

    def recheck(ex_id: str) -> None:
        try:
            text = check_exercise(ex_id, root).text()
        except OSError as error:  # a full disk, an unreadable folder: say so, keep watching
            text = f"{ex_id} could not be checked: {error}"
        if not _say(time.strftime("[%H:%M:%S] ") + text):
            raise KeyboardInterrupt  # nobody reads any more (`watch | head`): stop

    seen = {ex_id: stamp(path) for ex_id, path in files.items()}
    names = ", ".join(f"exercises/{ex.file_name}" for ex in chosen)
    _say(f"Watching {names}. Save to re-check; Ctrl+C to stop.")
    runs = 0
    checking = ""
    try:
        with terminate_as_interrupt():
            # Check once at the start, so the learner sees where they stand: the one
            # exercise named, or every exercise the learner has started.
            for ex_id in files if args.exercise else _started(root, chosen):
                checking = ex_id
                recheck(ex_id)
                checking = ""
            while args.max_runs is None or runs < args.max_runs:
                time.sleep(args.interval)  # short polling: portable, and well under 1 s
                for ex_id, path in files.items():
                    current = stamp(path)
                    if current == seen[ex_id]:
                        continue
                    seen[ex_id] = current
                    checking = ex_id
                    recheck(ex_id)
                    checking = ""
                    runs += 1
    except KeyboardInterrupt:
        if checking:
            _say(interrupted_line(checking))
        _say("Stopped watching.")
    return 0


def _room(args: argparse.Namespace) -> int:
    from patterns.course.room import room_csv, room_json, room_text
    from patterns.course.room.local import read_room

    rows, problems = read_room([Path(p) for p in args.paths])
    if args.json:
        print(json.dumps(room_json(rows), indent=2))
    elif args.csv:
        print(room_csv(rows), end="")
    else:
        print(room_text(rows))
    for problem in problems:
        print(f"note: {problem}", file=sys.stderr)
    return 0 if rows else 1


def _refresh(args: argparse.Namespace) -> int:
    from patterns.course.refresh import refresh_notebooks

    refresh_notebooks(course_root(), args.notebooks)
    return 0


def _stubs(args: argparse.Namespace) -> int:
    from patterns.course.stubs import make_stub

    root = course_root()
    stale = []
    for exercise in catalog.exercises().values():
        pristine = make_stub(
            (root / "solutions" / exercise.file_name).read_text(encoding="utf-8"), exercise.id
        )
        target = root / "exercises" / exercise.file_name
        if args.write:
            target.write_text(pristine, encoding="utf-8")
            print(f"wrote exercises/{exercise.file_name}")
        elif not target.exists() or target.read_text(encoding="utf-8") != pristine:
            stale.append(exercise.file_name)
    if stale:
        print("These exercises differ from their pristine stubs: " + ", ".join(stale))
        return 1
    return 0


def _links(args: argparse.Namespace) -> int:
    from patterns.course.links import nbgitpuller_url, repository_url, update_readme

    if args.hub:
        root = course_root()
        print(nbgitpuller_url(args.hub, args.repo or repository_url(root), branch=args.branch))
        return 0
    changed = update_readme(course_root())
    print("README launch links updated." if changed else "README launch links already current.")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from patterns.course.doctor import run_doctor

    if args.sweep:
        from patterns.lab.throwaway_postgres.leftovers import describe, sweep_leftovers

        removed = sweep_leftovers()
        print(f"Removed {describe(removed)}." if removed else "Nothing to remove.")
        return 0
    return run_doctor(quick=args.quick)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m patterns",
        description="Check exercises, get hints, see progress.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    def add(
        name: str, handler: Callable[[argparse.Namespace], int], text: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=text, description=text)
        sub.set_defaults(handler=handler)
        return sub

    add("check", _check, "Grade your exercise file and explain the result.").add_argument(
        "exercise", help="e.g. ex00"
    )
    add("progress", _progress, "Show every exercise, passed or not.").add_argument(
        "--json", action="store_true", help="machine-readable, for instructors"
    )
    add("hint", _hint, "Reveal the next hint for an exercise.").add_argument("exercise")
    add("reset", _reset, "Restore an exercise's starting stub (keeps a backup).").add_argument(
        "exercise"
    )
    watch = add("watch", _watch, "Re-check an exercise every time you save it.")
    watch.add_argument("exercise", nargs="?", help="default: all exercises")
    watch.add_argument("--interval", type=float, default=0.2, help=argparse.SUPPRESS)
    watch.add_argument("--max-runs", type=int, default=None, help=argparse.SUPPRESS)
    solution = add("solution", _solution, "Show the reference solution (after a pass).")
    solution.add_argument("exercise")
    solution.add_argument("--force", action="store_true", help="show it anyway (instructors)")
    room = add("room", _room, "Instructors: the progress of many course copies in one table.")
    room.add_argument("paths", nargs="+", help="folders holding course copies, e.g. /home/*")
    room_format = room.add_mutually_exclusive_group()
    room_format.add_argument("--json", action="store_true", help="machine-readable")
    room_format.add_argument("--csv", action="store_true", help="for a spreadsheet")
    refresh = add("refresh", _refresh, "Contributors: re-execute notebooks and save outputs.")
    refresh.add_argument("notebooks", nargs="*", help="default: all notebooks")
    stubs = add("stubs", _stubs, "Contributors: compare (or --write) exercise stubs.")
    stubs.add_argument("--write", action="store_true")
    links = add(
        "links", _links, "Regenerate the README's Binder links, or print a hub's nbgitpuller link."
    )
    links.add_argument("--hub", help="print the nbgitpuller link for this JupyterHub address")
    links.add_argument("--repo", help="with --hub: the course repository (default: pyproject's)")
    links.add_argument("--branch", default="main", help="with --hub: the branch (default: main)")
    doctor = add("doctor", _doctor, "Check this machine for everything the course needs.")
    doctor.add_argument("--quick", action="store_true", help="skip starting a test server")
    doctor.add_argument(
        "--sweep", action="store_true", help="remove folders left by killed throwaway servers"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.handler(args)
        return result
    except (
        catalog.UnknownExerciseError,
        CourseRootNotFoundError,
        StubMarkerError,
        FileNotFoundError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
