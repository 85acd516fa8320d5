"""How many generated inputs each property test runs: a fixed budget for CI, a long one to fuzz.

The property tests (``tests/test_*_properties.py``) decorate each test with
``@budget(ci=..., long=...)``:

* ``ci`` (the default, what ``make test`` runs): derandomised, so every run
  tries the same inputs and a red build is reproducible; no example database
  (nothing written to the course folder); each property a few seconds at most.
* ``long`` (``PATTERNS_PROPERTIES=long``, what ``make fuzz`` runs): random
  inputs, many more of them, the failing example printed as a reproducible
  blob. Run it after changing the lesson library, not on every commit.

When not to use it: a grader's property test keeps its own small fixed
``settings``; learners must never wait for a fuzz run.
"""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import HealthCheck, settings

__all__ = ["PROFILE", "budget"]

#: The active profile: "ci" unless PATTERNS_PROPERTIES says "long".
PROFILE = os.environ.get("PATTERNS_PROPERTIES", "ci")
if PROFILE not in ("ci", "long"):
    raise RuntimeError(f"PATTERNS_PROPERTIES must be 'ci' or 'long', got {PROFILE!r}")

# Generated documents are large by design (10,000-character strings).
_SLOW_IS_EXPECTED = [HealthCheck.too_slow, HealthCheck.data_too_large]


def budget(*, ci: int, long: int, deadline_ms: int | None = None) -> settings:
    """Settings for one property: ``ci`` examples in CI, ``long`` when fuzzing.

    ``deadline_ms`` bounds each example's run time (the promise "bounded in
    time"); Hypothesis re-runs a slow example before failing, so a single hiccup
    of a busy machine does not fail the build.
    """
    fuzzing = PROFILE == "long"
    return settings(
        max_examples=long if fuzzing else ci,
        derandomize=not fuzzing,
        deadline=timedelta(milliseconds=deadline_ms) if deadline_ms is not None else None,
        database=None,
        print_blob=fuzzing,
        suppress_health_check=_SLOW_IS_EXPECTED,
    )
