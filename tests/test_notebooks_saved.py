"""The output guard: notebooks are committed executed, clean, and listed in the README.

Strict nbval silently passes a notebook saved without outputs (cells with no
execution_count are not compared), so this checks they were all executed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SKIP_TAGS = {"skip-execution", "nbval-skip"}


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
def test_readme_lists_the_notebook(path: Path) -> None:
    """The README's table of notebooks links every notebook."""
    assert f"notebooks/{path.name}" in (ROOT / "README.md").read_text(encoding="utf-8")
