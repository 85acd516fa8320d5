"""The generators lesson's picture: extra peak memory of each pipeline variant, by input size.

What it is for: lesson 05 measures an eager (lists) and a lazy (generators)
pipeline on a few input sizes; :func:`memory_png` draws one line per variant so
the reader sees one grow and the other stay flat. It returns PNG bytes (shown
with ``IPython.display.Image``): a static picture shows on GitHub and in any
viewer, and matplotlib's PNG carries no timestamp.

When not to use it: this is the lesson's plotting helper, not part of the
pattern; production code never needs it.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

__all__ = ["memory_png"]

_MARKERS = ("o-", "s-", "^-", "d-")


def memory_png(
    sizes: Sequence[int],
    extra_mb: Mapping[str, Sequence[float]],
    *,
    title: str = "Errors per service: lists vs generators",
    x_label: str = "lines in the log",
) -> bytes:
    """One line per variant: ``extra_mb[variant][i]`` is its extra peak memory at ``sizes[i]``."""
    for variant, values in extra_mb.items():
        if len(values) != len(sizes):
            raise ValueError(
                f"variant {variant!r} has {len(values)} measurements for {len(sizes)} sizes; "
                "give one per size"
            )
    # A Figure, not pyplot: nothing global changes, and no window opens anywhere.
    figure = Figure(figsize=(6, 3.2), dpi=100)
    axes = figure.subplots()
    for index, (variant, values) in enumerate(extra_mb.items()):
        axes.plot(sizes, values, _MARKERS[index % len(_MARKERS)], label=variant)
    axes.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    axes.set_xlabel(x_label)
    axes.set_ylabel("extra peak memory (MB)")
    axes.set_title(title)
    axes.legend()
    axes.grid(alpha=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()
