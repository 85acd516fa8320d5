"""Pictures of a backoff schedule for lesson 07: one client's pauses, and 100 clients together.

What is it for?
    Seeing why jitter matters. When a server blips, every client fails at the
    same moment; without jitter they all retry at the same instants (spikes
    of 100 requests), and the server that just came back falls over again.
    With full jitter the same retries are spread over the whole window.

``schedule_explorer()`` returns sliders for the base delay, the multiplier,
the cap and the jitter kind, above an ``Output`` that is refilled from the
kernel side (a PNG and a one-line text summary), so the notebook passes strict
nbval and still redraws in a browser. ``schedule_png()`` draws the same
figure once, for the static picture beside it.

When NOT to use it: this is the lesson's plotting helper, not part of the
retry pattern; production code never needs it.
"""

from __future__ import annotations

import base64
import html
import io
import random
from collections import Counter
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped, unused-ignore]
from matplotlib.figure import Figure

from patterns.retry import JITTER_KINDS, JitterKind, backoff_ceiling, backoff_delay

__all__ = [
    "ScheduleExplorer",
    "Storm",
    "client_pauses",
    "peak_per_window",
    "retry_storm",
    "schedule_explorer",
    "schedule_png",
    "schedule_summary",
]

CLIENTS = 100
RETRIES = 6
WINDOW = 0.1  # seconds: the histogram's bin width, "how many retries hit the server in 100 ms"


def client_pauses(
    base_delay: float,
    multiplier: float,
    max_delay: float,
    jitter: JitterKind,
    *,
    retries: int = RETRIES,
    rng: random.Random,
) -> list[float]:
    """The pauses one client takes before each of its ``retries`` retries."""
    return [
        backoff_delay(
            attempt,
            base_delay=base_delay,
            multiplier=multiplier,
            max_delay=max_delay,
            jitter=jitter,
            rng=rng,
        )
        for attempt in range(1, retries + 1)
    ]


@dataclass(frozen=True)
class Storm:
    """When each of ``clients`` clients that all failed at t=0 sends its retries."""

    jitter: JitterKind
    arrivals: list[float]  # every retry of every client, seconds after the blip, sorted

    @property
    def peak(self) -> int:
        """The tallest bar of the figure's histogram: most retries in one 100 ms bin."""
        return peak_per_window(self.arrivals, WINDOW)


def retry_storm(
    base_delay: float,
    multiplier: float,
    max_delay: float,
    jitter: JitterKind,
    *,
    clients: int = CLIENTS,
    retries: int = RETRIES,
    seed: int = 0,
) -> Storm:
    """Simulate ``clients`` clients failing together and retrying (none of them succeeds)."""
    rng = random.Random(seed)
    arrivals: list[float] = []
    for _ in range(clients):
        pauses = client_pauses(base_delay, multiplier, max_delay, jitter, retries=retries, rng=rng)
        arrivals.extend(accumulate(pauses))
    return Storm(jitter, sorted(arrivals))


def _bin_of(time: float, width: float) -> int:
    return int(time / width)


def peak_per_window(times: list[float], window: float) -> int:
    """The most ``times`` in one bin ``window`` wide, bins starting at 0.

    That is the tallest bar of the histogram the figure draws, so the number
    printed beside it can be read off the picture.
    """
    counts = Counter(_bin_of(time, window) for time in times)
    return max(counts.values(), default=0)


def schedule_summary(
    base_delay: float, multiplier: float, max_delay: float, jitter: JitterKind, *, seed: int = 0
) -> str:
    """One line saying what the figure shows (the Output's text/plain, compared by nbval)."""
    pauses = client_pauses(base_delay, multiplier, max_delay, jitter, rng=random.Random(seed))
    steady = retry_storm(base_delay, multiplier, max_delay, "none", seed=seed)
    jittered = retry_storm(base_delay, multiplier, max_delay, jitter, seed=seed)
    kind = "no" if jitter == "none" else jitter
    text = (
        f"base {base_delay:g} s, x{multiplier:g}, cap {max_delay:g} s, {kind} jitter: "
        f"one client waits {', '.join(f'{p:.2f}' for p in pauses)} s; "
        f"{CLIENTS} clients, most retries in one {WINDOW * 1000:.0f} ms bin: "
        f"{steady.peak} without jitter"
    )
    return text if jitter == "none" else f"{text}, {jittered.peak} with {jitter} jitter"


def _counts(times: list[float], edges: list[float]) -> list[int]:
    counts = [0] * (len(edges) - 1)
    width = edges[1] - edges[0]
    for time in times:
        counts[min(_bin_of(time, width), len(counts) - 1)] += 1
    return counts


def _figure(
    base_delay: float, multiplier: float, max_delay: float, jitter: JitterKind, seed: int
) -> Figure:
    figure = Figure(figsize=(10, 3.4), dpi=80)
    figure.subplots_adjust(left=0.06, right=0.99, bottom=0.15, top=0.9, wspace=0.2)
    left, right = figure.subplots(1, 2, width_ratios=[2, 3])

    pauses = client_pauses(base_delay, multiplier, max_delay, jitter, rng=random.Random(seed))
    numbers = list(range(1, len(pauses) + 1))
    ceilings = [backoff_ceiling(n, base_delay, multiplier, max_delay) for n in numbers]
    left.bar(numbers, pauses, color="tab:blue", label=f"pause ({jitter} jitter)")
    left.hlines(
        ceilings,
        [n - 0.4 for n in numbers],
        [n + 0.4 for n in numbers],
        color="black",
        linewidth=1.5,
        label="ceiling",
    )
    left.axhline(max_delay, color="tab:red", linestyle=":", linewidth=1, label="cap")
    left.set(xlabel="retry number", ylabel="pause (s)", title="one client")
    left.legend(fontsize="small", loc="upper left")

    steady = retry_storm(base_delay, multiplier, max_delay, "none", seed=seed)
    jittered = retry_storm(base_delay, multiplier, max_delay, jitter, seed=seed)
    span = max(steady.arrivals[-1], jittered.arrivals[-1], WINDOW)
    # Bins of exactly WINDOW, so the tallest bar is the peak the summary prints.
    bins = [i * WINDOW for i in range(int(span / WINDOW) + 2)]
    # stairs() is one artist where hist() makes one rectangle per bin: much faster to draw.
    right.stairs(_counts(steady.arrivals, bins), bins, fill=True, color="tab:gray", alpha=0.6,
                 label="no jitter")  # fmt: skip
    if jitter != "none":
        right.stairs(_counts(jittered.arrivals, bins), bins, fill=True, color="tab:orange",
                     alpha=0.8, label=f"{jitter} jitter")  # fmt: skip
        right.axhline(jittered.peak, color="tab:orange", linestyle="--", linewidth=1,
                      label=f"tallest {jitter} jitter bar: {jittered.peak}")  # fmt: skip
    right.set(
        xlabel=f"seconds after the outage (bins of {WINDOW * 1000:.0f} ms)",
        ylabel=f"retries per {WINDOW * 1000:.0f} ms",
        title=f"{CLIENTS} clients failing together, {RETRIES} retries each",
    )
    right.legend(fontsize="small")
    return figure


def schedule_png(
    base_delay: float = 0.5,
    multiplier: float = 2.0,
    max_delay: float = 8.0,
    jitter: JitterKind = "full",
    *,
    seed: int = 0,
) -> bytes:
    """The figure as PNG bytes (PNG, not SVG: it is identical from run to run)."""
    buffer = io.BytesIO()
    _figure(base_delay, multiplier, max_delay, jitter, seed).savefig(
        buffer, format="png", metadata={"Software": None}
    )
    return buffer.getvalue()


class ScheduleExplorer(widgets.VBox):  # type: ignore[misc]
    """Sliders and a dropdown above an Output holding the figure; redraws on every change."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        style = {"description_width": "110px"}
        # A redraw takes a few hundred ms: redraw when a slider is released, not on
        # every pixel of a drag (which would queue dozens of redraws in the kernel).
        common: dict[str, Any] = {"style": style, "continuous_update": False}
        self.base_delay = widgets.FloatSlider(
            value=0.5, min=0.05, max=2.0, step=0.05, description="base delay (s)", **common
        )
        self.multiplier = widgets.FloatSlider(
            value=2.0, min=1.0, max=4.0, step=0.25, description="multiplier", **common
        )
        self.max_delay = widgets.FloatSlider(
            value=8.0, min=0.5, max=30.0, step=0.5, description="cap (s)", **common
        )
        self.jitter = widgets.Dropdown(
            options=list(JITTER_KINDS), value="full", description="jitter", style=style
        )
        self.out = widgets.Output()
        # A browser shows the PNG, not the Output's text/plain: repeat the numbers in a caption.
        self.caption = widgets.HTML()
        super().__init__(
            [self.base_delay, self.multiplier, self.max_delay, self.jitter, self.out, self.caption]
        )
        for control in (self.base_delay, self.multiplier, self.max_delay, self.jitter):
            control.observe(self._redraw, names="value")
        self._redraw()

    def summary(self) -> str:
        return schedule_summary(
            self.base_delay.value,
            self.multiplier.value,
            self.max_delay.value,
            self.jitter.value,
            seed=self.seed,
        )

    def _redraw(self, change: Any = None) -> None:
        summary = self.summary()
        png = schedule_png(
            self.base_delay.value,
            self.multiplier.value,
            self.max_delay.value,
            self.jitter.value,
            seed=self.seed,
        )
        # Filled from the kernel side, not with `with self.out:` (which strict
        # nbval cannot compare); the browser still redraws on every change.
        self.out.outputs = (
            {
                "output_type": "display_data",
                "data": {
                    "image/png": base64.b64encode(png).decode("ascii"),
                    "text/plain": summary,
                },
                "metadata": {},
            },
        )
        self.caption.value = f"<small>{html.escape(summary)}</small>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        # The default text/plain is the widget's repr, PNG bytes included;
        # a one-line summary is readable on GitHub and stable for nbval.
        bundle: dict[str, Any] = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = f"Backoff schedule explorer: {self.summary()}"
        return bundle


def schedule_explorer(seed: int = 0) -> ScheduleExplorer:
    """The interactive view of the lesson: sliders, a figure, a one-line summary."""
    return ScheduleExplorer(seed)
