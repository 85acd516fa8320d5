"""The output guard: notebooks are committed executed, clean, short-celled and listed in the README.

Strict nbval silently passes a notebook saved without outputs (cells with no
execution_count are not compared), so this checks they were all executed. It
also holds the house rule "one idea per cell": a code cell over
``MAX_CELL_LINES`` lines needs the ``long-cell-ok`` tag, given only to naive
code shown whole before it breaks (CONTRIBUTING.md, "Notebooks").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SKIP_TAGS = {"skip-execution", "nbval-skip"}
MAX_CELL_LINES = 15
LONG_CELL_TAG = "long-cell-ok"


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_there_are_notebooks() -> None:
    """The course has its start notebook."""
    assert (ROOT / "notebooks" / "00_start_here.ipynb") in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_code_cell_was_executed_in_order(path: Path) -> None:
    """Each code cell has an execution count (or a skip tag), counting up from 1."""
    counts = []
    for index, cell in enumerate(_load(path)["cells"]):
        if cell["cell_type"] != "code" or SKIP_TAGS & set(cell["metadata"].get("tags", [])):
            continue
        assert cell["execution_count"] is not None, (
            f"{path.name} cell {index} was saved without running; "
            f"run `python -m patterns refresh notebooks/{path.name}`"
        )
        counts.append(cell["execution_count"])
    assert counts == list(range(1, len(counts) + 1)), f"{path.name} was not run top to bottom"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_saved_without_widget_state_or_timings(path: Path) -> None:
    """No widget state, no timing metadata, stable unique cell ids, no error outputs."""
    notebook = _load(path)
    assert "widgets" not in notebook["metadata"], f"{path.name} carries widget state"
    ids = [cell.get("id") for cell in notebook["cells"]]
    assert None not in ids and len(set(ids)) == len(ids), (
        f"{path.name} has missing or repeated cell ids"
    )
    for cell in notebook["cells"]:
        assert "execution" not in cell["metadata"], f"{path.name} carries timing metadata"
        tags = set(cell["metadata"].get("tags", []))
        for output in cell.get("outputs", []):
            if output["output_type"] == "error":
                assert "raises-exception" in tags, (
                    f"{path.name}: cell {cell.get('id')} stored an error ({output['ename']}) "
                    "without the raises-exception tag"
                )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_cells_hold_one_idea(path: Path) -> None:
    """No code cell is over MAX_CELL_LINES lines unless it is tagged long-cell-ok."""
    too_long = []
    for cell in _load(path)["cells"]:
        lines = len("".join(cell["source"]).splitlines())
        if (
            cell["cell_type"] == "code"
            and lines > MAX_CELL_LINES
            and LONG_CELL_TAG not in cell["metadata"].get("tags", [])
        ):
            too_long.append(f"{cell.get('id')} ({lines} lines)")
    assert not too_long, (
        f"{path.name}: code cells over {MAX_CELL_LINES} lines: {', '.join(too_long)}. "
        "One idea per cell: split the cell, or move plumbing into a helper; only naive "
        f"code shown whole before it breaks may stay long, tagged {LONG_CELL_TAG!r}."
    )


def test_the_long_cell_rule_catches_a_long_untagged_cell(tmp_path: Path) -> None:
    """The rule above can fail: a 16-line untagged cell is reported, the tagged one is not."""
    cell = {"cell_type": "code", "id": "x", "metadata": {}, "source": ["pass\n"] * 16}
    notebook = tmp_path / "99_long.ipynb"
    notebook.write_text(json.dumps({"cells": [cell], "metadata": {}}), encoding="utf-8")
    with pytest.raises(AssertionError, match=r"x \(16 lines\)"):
        test_code_cells_hold_one_idea(notebook)
    cell["metadata"] = {"tags": [LONG_CELL_TAG]}
    notebook.write_text(json.dumps({"cells": [cell], "metadata": {}}), encoding="utf-8")
    test_code_cells_hold_one_idea(notebook)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_readme_lists_the_notebook(path: Path) -> None:
    """The README's table of notebooks links every notebook."""
    assert f"notebooks/{path.name}" in (ROOT / "README.md").read_text(encoding="utf-8")
