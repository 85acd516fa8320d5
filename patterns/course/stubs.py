"""Pristine exercise stubs, generated from the marked reference solutions.

A solution marks what the learner writes::

    def total(prices):
        # BEGIN SOLUTION: add up the prices
        return sum(prices)
        # END SOLUTION

and the stub gets, at the same indentation,
``raise NotImplementedError("ex00: add up the prices")``. A fix-the-flaw
exercise starts from working but flawed code instead: lines after a
``# STUB`` marker inside the block are the stub's code, written commented out::

        # BEGIN SOLUTION
        now = self._clock()
        # STUB
        # now = datetime.now()
        # END SOLUTION

Generating stubs (rather than storing copies) means they cannot drift from
the solutions; ``reset`` and the "every grader fails on the stub" proof both
use this function, so neither depends on git history.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from patterns.course import catalog
from patterns.course.paths import stamped_path

_BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN SOLUTION(?::\s*(?P<message>.*))?$")
_STUB = re.compile(r"^\s*# STUB\s*$")
_END = re.compile(r"^\s*# END SOLUTION\s*$")


class StubMarkerError(ValueError):
    """A solution file's BEGIN/STUB/END markers do not pair up."""


def make_stub(solution_source: str, exercise_id: str) -> str:
    """Turn a marked solution into the pristine stub the learner starts from."""
    out: list[str] = []
    block: dict[str, str] | None = None
    stub_lines: list[str] | None = None
    for number, line in enumerate(solution_source.splitlines(keepends=True), start=1):
        stripped = line.rstrip("\n")
        begin = _BEGIN.match(stripped)
        if begin:
            if block is not None:
                raise StubMarkerError(f"line {number}: BEGIN SOLUTION inside another block")
            block = {"indent": begin["indent"], "message": begin["message"] or ""}
            stub_lines = None
        elif block is not None and _STUB.match(stripped):
            stub_lines = []
        elif block is not None and _END.match(stripped):
            indent = block["indent"]
            if stub_lines is None:
                message = block["message"] or "replace this line with your code"
                out.append(f"{indent}raise NotImplementedError({exercise_id + ': ' + message!r})\n")
            else:
                out.extend(stub_lines)
            block = None
        elif block is not None:
            if stub_lines is not None:
                stub_lines.append(_uncomment(stripped, block["indent"], number) + "\n")
        elif _END.match(stripped) or _STUB.match(stripped):
            raise StubMarkerError(f"line {number}: marker outside a BEGIN SOLUTION block")
        else:
            out.append(line)
    if block is not None:
        raise StubMarkerError("BEGIN SOLUTION without END SOLUTION")
    return "".join(out)


def _uncomment(line: str, indent: str, number: int) -> str:
    if not line.strip():
        return ""
    body = line[len(indent) :] if line.startswith(indent) else line.lstrip()
    if not body.startswith("#"):
        raise StubMarkerError(f"line {number}: stub lines after # STUB must be commented out")
    body = body[1:]
    text = body[1:] if body.startswith(" ") else body
    return indent + text if text else ""


def write_stub(solution: Path, destination: Path, exercise_id: str) -> None:
    """Write the pristine stub for ``solution`` to ``destination``."""
    destination.write_text(make_stub(solution.read_text(encoding="utf-8"), exercise_id), "utf-8")


def solution_view(solution_source: str) -> str:
    """The reference answer as a learner should read it: no BEGIN/END markers and
    no commented-out stub code (the ``# STUB`` part of a fix-the-flaw exercise)."""
    out: list[str] = []
    in_block = in_stub = False
    for line in solution_source.splitlines(keepends=True):
        stripped = line.rstrip("\n")
        if _BEGIN.match(stripped):
            in_block, in_stub = True, False
        elif in_block and _STUB.match(stripped):
            in_stub = True
        elif in_block and _END.match(stripped):
            in_block = in_stub = False
        elif not in_stub:
            out.append(line)
    return "".join(out)


def restore_stub(root: Path, exercise_id: str, backups: Path) -> Path | None:
    """Put the pristine stub back in ``exercises/``; return where the learner's
    version was copied first (in ``backups``), or None when there was no file.

    The backup is made before anything is overwritten: if it cannot be made,
    this raises ``OSError`` and the learner's file is untouched.
    """
    exercise = catalog.get(exercise_id)
    current = root / "exercises" / exercise.file_name
    backup = None
    if current.exists():
        backups.mkdir(parents=True, exist_ok=True)
        backup = stamped_path(backups, current.stem, ".py")
        shutil.copy2(current, backup)
    write_stub(root / "solutions" / exercise.file_name, current, exercise.id)
    return backup


@contextmanager
def pristine_course(root: Path) -> Iterator[Path]:
    """A temporary course folder: pristine stubs, everything else linked to ``root``.

    For anything that must see the starting state, never a learner's files or
    progress: notebook refresh, the notebook tests, the "graders fail on stubs" proof.
    """
    with tempfile.TemporaryDirectory(prefix="patterns-pristine-") as scratch:
        copy = Path(scratch)
        (copy / "exercises").mkdir()
        shutil.copy2(root / "exercises" / "__init__.py", copy / "exercises" / "__init__.py")
        for exercise in catalog.exercises().values():
            solution = root / "solutions" / exercise.file_name
            write_stub(solution, copy / "exercises" / exercise.file_name, exercise.id)
        for name in ("solutions", "tests", "notebooks", "pyproject.toml"):
            os.symlink(root / name, copy / name)
        yield copy
