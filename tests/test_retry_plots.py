"""The lesson 07 schedule explorer, tested without a kernel: set a value, read the Output."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from patterns.lab import (
    peak_per_window,
    retry_storm,
    schedule_explorer,
    schedule_png,
    schedule_summary,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def shown(explorer: Any) -> tuple[str, bytes]:
    (output,) = explorer.out.outputs
    assert output["output_type"] == "display_data"
    return output["data"]["text/plain"], base64.b64decode(output["data"]["image/png"])


def test_the_explorer_draws_a_figure_and_a_summary_when_built() -> None:
    text, png = shown(schedule_explorer())
    assert png.startswith(PNG_MAGIC)
    assert text.startswith("base 0.5 s, x2, cap 8 s, full jitter")


@pytest.mark.parametrize(
    ("control", "value", "expected"),
    [
        ("base_delay", 1.0, "base 1 s"),
        ("multiplier", 3.0, "x3"),
        ("max_delay", 2.0, "cap 2 s"),
        ("jitter", "equal", "equal jitter"),
    ],
)
def test_moving_a_control_redraws_the_output(control: str, value: Any, expected: str) -> None:
    explorer = schedule_explorer()
    before_text, before_png = shown(explorer)
    getattr(explorer, control).value = value
    after_text, after_png = shown(explorer)
    assert expected in after_text and expected not in before_text
    assert after_png != before_png
    assert expected in explorer.caption.value, "the caption a browser shows follows too"


def test_without_jitter_all_clients_retry_in_the_same_instant() -> None:
    explorer = schedule_explorer()
    explorer.jitter.value = "none"
    text, _ = shown(explorer)
    assert text.endswith("100 without jitter")
    assert "0.50, 1.00, 2.00, 4.00, 8.00, 8.00 s" in text


def test_full_jitter_lowers_the_peak_a_lot() -> None:
    steady = retry_storm(0.5, 2.0, 8.0, "none")
    spread = retry_storm(0.5, 2.0, 8.0, "full")
    assert steady.peak == 100
    assert spread.peak < 50
    assert len(spread.arrivals) == len(steady.arrivals) == 600


def test_the_summary_and_figure_are_the_same_for_the_same_seed() -> None:
    assert schedule_summary(0.5, 2.0, 8.0, "full") == schedule_summary(0.5, 2.0, 8.0, "full")
    assert schedule_png() == schedule_png()
    assert schedule_summary(0.5, 2.0, 8.0, "full", seed=1) != schedule_summary(
        0.5, 2.0, 8.0, "full"
    )


def test_the_widget_reads_as_one_line_of_text_without_a_kernel() -> None:
    bundle = schedule_explorer()._repr_mimebundle_()
    assert bundle["text/plain"].startswith("Backoff schedule explorer: base 0.5 s")
    assert "\n" not in bundle["text/plain"]


def test_peak_per_window_is_the_tallest_histogram_bar() -> None:
    assert peak_per_window([0.0, 0.05, 0.09, 0.5, 0.55], 0.1) == 3
    assert peak_per_window([0.0, 0.1, 0.2], 0.1) == 1
    assert peak_per_window([0.05, 0.15], 0.1) == 1, "two bins, as drawn (not a sliding window)"
    assert peak_per_window([], 0.1) == 0
