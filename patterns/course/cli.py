"""The command line: ``python -m patterns check ex07`` and friends.

Every error a learner can cause (an unknown exercise, a broken file, a missing
course folder) ends in one clear sentence and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from patterns.course import catalog
from patterns.course.paths import CourseRootNotFoundError, course_root
from patterns.course.state import CourseState, progress_text
from patterns.course.stubs import StubMarkerError


def _check(args: argparse.Namespace) -> int:
    from patterns.course.runner import check_exercise

    verdict = check_exercise(catalog.get(args.exercise).id, course_root())
    print(verdict.text())
    return 0 if verdict.passed else 1


def _progress(args: argparse.Namespace) -> int:
    rows = CourseState(course_root()).summary()
    if args.json:
        print(json.dumps({"exercises": rows}, indent=2))
        return 0
    print(progress_text(rows))
    return 0


def _hint(args: argparse.Namespace) -> int:
    exercise = catalog.get(args.exercise)
    number, total, text = CourseState(course_root()).next_hint(exercise.id)
    print(f"{exercise.id}, hint {number} of {total}: {text}")
    if number == total:
        print("That was the last hint. The notebook's worked example is the next place to look.")
    return 0


def _reset(args: argparse.Namespace) -> int:
    exercise = catalog.get(args.exercise)
    root = course_root()
    backup = CourseState(root).reset(exercise.id)
    print(f"exercises/{exercise.file_name} is back to the starting stub.")
    if backup:
        print(f"Your previous version is kept in {backup.relative_to(root)}.")
    return 0


def _solution(args: argparse.Namespace) -> int:
    exercise = catalog.get(args.exercise)
    root = course_root()
    if not args.force and not CourseState(root).passed(exercise.id):
        print(
            f"The solution to {exercise.id} opens once your exercise passes "
            f"(`python -m patterns check {exercise.id}`). Instructors: add --force."
        )
        return 1
    print((root / "solutions" / exercise.file_name).read_text(encoding="utf-8"))
    if exercise.after_pass:
        print(f"# When not to use this: {exercise.after_pass}")
    return 0


def _watch(args: argparse.Namespace) -> int:
    from patterns.course.runner import check_exercise

    root = course_root()
    chosen = [catalog.get(args.exercise)] if args.exercise else list(catalog.exercises().values())
    files = {ex.id: root / "exercises" / ex.file_name for ex in chosen}

    def stamp(path: Path) -> float:
        try:
            return path.stat().st_mtime_ns
        except OSError:
            return 0

    seen = {ex_id: stamp(path) for ex_id, path in files.items()}
    names = ", ".join(f"exercises/{ex.file_name}" for ex in chosen)
    print(f"Watching {names}. Save to re-check; Ctrl+C to stop.", flush=True)
    runs = 0
    try:
        while args.max_runs is None or runs < args.max_runs:
            time.sleep(args.interval)  # short polling: portable, and well under 1 s
            for ex_id, path in files.items():
                current = stamp(path)
                if current == seen[ex_id]:
                    continue
                seen[ex_id] = current
                verdict = check_exercise(ex_id, root)
                print(time.strftime("[%H:%M:%S] ") + verdict.text(), flush=True)
                runs += 1
    except KeyboardInterrupt:
        print("Stopped watching.")
    return 0


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
    from patterns.course.links import update_readme

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
    refresh = add("refresh", _refresh, "Contributors: re-execute notebooks and save outputs.")
    refresh.add_argument("notebooks", nargs="*", help="default: all notebooks")
    stubs = add("stubs", _stubs, "Contributors: compare (or --write) exercise stubs.")
    stubs.add_argument("--write", action="store_true")
    add("links", _links, "Contributors: regenerate the README's Binder links.")
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
