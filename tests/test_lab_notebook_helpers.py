"""Lab helpers that keep notebook cells to one call: lesson 05's memory picture, lesson 01's suite run."""

from __future__ import annotations

from pathlib import Path

import pytest

from patterns.lab import memory_png, run_test_suite

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_memory_png_draws_a_png_identical_from_run_to_run() -> None:
    figures = [
        memory_png([10_000, 30_000], {"eager": [4.0, 12.0], "lazy": [0.0, 0.1]}) for _ in range(2)
    ]
    assert figures[0].startswith(PNG_SIGNATURE)
    assert figures[0] == figures[1]


def test_memory_png_refuses_a_variant_with_the_wrong_number_of_measurements() -> None:
    with pytest.raises(ValueError, match="'lazy' has 1 measurements for 2 sizes"):
        memory_png([10_000, 30_000], {"eager": [4.0, 12.0], "lazy": [0.0]})


def test_run_test_suite_counts_passes_and_failures_from_a_child_pytest(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_sample.py").write_text(
        "def test_good():\n    assert True\n\n"
        "def test_bad():\n    assert 1 == 2\n\n"
        "def test_other():\n    assert True\n",
        encoding="utf-8",
    )
    run = run_test_suite(tmp_path, "tests/test_sample.py")
    assert (run.status, run.passed, run.failed) == (1, 2, 1), run.output
    selected = run_test_suite(tmp_path, "tests/test_sample.py", select="good")
    assert (selected.status, selected.passed, selected.failed) == (0, 1, 0), selected.output


def test_run_test_suite_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no test file tests/nope\.py"):
        run_test_suite(tmp_path, "tests/nope.py")
