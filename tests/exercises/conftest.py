"""Grader-wide settings: one Hypothesis profile for every grader that uses it.

Fixed examples (derandomized, no example database) so a learner's check gives
the same verdict every time; no deadline (a shared Binder machine is slow, not
the learner's code); no "explain" phase (it traces coverage, seconds per
failure); and a bound on shrinking a failing input, which took 16-20 s on some
wrong answers with no word why.

Configured only when a grader file mentions Hypothesis: importing it costs
about 0.15 s, which the pure-Python checks of 0.5 s cannot spare.
"""

from __future__ import annotations

import pytest

#: At most this long making a failing input smaller; the input found so far is shown.
SHRINK_SECONDS = 3


def _load_grader_profile() -> None:
    from hypothesis import HealthCheck, Phase, settings
    from hypothesis.internal.conjecture import engine

    settings.register_profile(
        "grader",
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=False,
        report_multiple_bugs=False,  # the verdict shows one reason per behaviour
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )
    settings.load_profile("grader")
    # Hypothesis has no public setting for the shrink time (300 s by default); this
    # module constant is read at each run. If a release renames it, only speed is lost.
    if hasattr(engine, "MAX_SHRINKING_SECONDS"):
        engine.MAX_SHRINKING_SECONDS = SHRINK_SECONDS


_loaded = False


def pytest_collectstart(collector: pytest.Collector) -> None:
    # Just before a grader module is imported (pytest_collect_file sees every file
    # of the folder): its @settings then take the profile as their parent.
    global _loaded
    if _loaded or not isinstance(collector, pytest.Module):
        return
    if b"hypothesis" in collector.path.read_bytes():
        _load_grader_profile()
        _loaded = True
