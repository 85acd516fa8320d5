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

import re
from pathlib import Path

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
