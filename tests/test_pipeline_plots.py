"""Lesson 05's memory picture: a PNG, one line per variant, and a clear error for bad input."""

from __future__ import annotations

import pytest

from patterns.lab import memory_png

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
