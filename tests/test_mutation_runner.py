"""The mutation runner's own logic (``benchmarks/mutation.py``): which lines it mutates,
how a survivor is matched to the list of equivalent mutants, and that list itself."""

from __future__ import annotations

from pathlib import Path

from benchmarks.mutation import (
    EQUIVALENT_FILE,
    Score,
    changed_lines,
    load_equivalents,
    solution_lines,
)
from patterns.course import catalog

SOURCE = """\
def f(x):
    '''Doc.'''
    # BEGIN SOLUTION: do it
    y = x + 1
    return y
    # END SOLUTION


def g():
    return 0


def h():
    # BEGIN SOLUTION
    return 2
    # STUB
    # return 3
    # END SOLUTION
"""


def test_only_the_lines_between_the_solution_markers_are_mutated() -> None:
    """Each BEGIN/END pair gives one range of lines; code outside them is the course's."""
    assert solution_lines(SOURCE) == [(3, 6), (14, 18)]


def test_a_survivor_is_matched_by_the_lines_it_changes() -> None:
    """The removed and added lines of a diff, stripped, are the survivor's identity."""
    diff = (
        "--- mutation diff ---\n--- a/solutions/x.py\n+++ b/solutions/x.py\n@@ -1,3 +1,3 @@\n"
        "     y = x + 1\n-    return y\n+    return -y\n"
    )
    assert changed_lines(diff) == ("return y", "return -y")


def test_the_score_leaves_the_equivalent_mutants_out() -> None:
    """killed / (mutants - equivalent): 9 killed of 10 with 1 equivalent is 100 %."""
    assert Score("ex00", mutants=10, killed=9, equivalent=1).score == 1.0
    assert Score("ex00", mutants=10, killed=8, equivalent=1).score == 8 / 9


def test_every_equivalent_mutant_names_a_known_exercise_and_gives_a_reason(tmp_path: Path) -> None:
    """Each entry of mutation_equivalent.toml belongs to an exercise, changes something, says why."""
    entries = load_equivalents(EQUIVALENT_FILE)
    known = set(catalog.exercises())
    bad = [
        e for e in entries if e.exercise not in known or e.before == e.after or not e.reason.strip()
    ]
    assert not bad, f"entries without a known exercise, a change or a reason: {bad}"
    assert load_equivalents(tmp_path / "missing.toml") == []
