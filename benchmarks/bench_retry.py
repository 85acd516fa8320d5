"""Benchmark for lesson 07: the retry tests simulate minutes of backoff in well under a second.

Run it with ``.venv/bin/python benchmarks/bench_retry.py``.

It runs the lesson's backoff tests in this process through pytest, with a
small plugin that reads what every test reported: its duration (setup, call
and teardown) and the seconds its fake ``sleep`` recorded (each test's
fixture leaves them in ``user_properties`` as ``simulated_sleep_s``).

Two groups are reported separately, because they spend real time on
different things:

* backoff tests (``tests/test_retry.py`` and the ex07 grader): respx and a
  fake clock, no sockets; the claim is >= 60 s simulated in < 1 s real;
* flaky-server integration tests: real sockets and real (short) read
  timeouts against a slow answer; their backoff is simulated too, but their
  real time is the timeouts, by design.

The wall time is the sum of the tests' own durations (pytest's start-up and
collection are left out and printed on their own line).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BACKOFF = ["tests/test_retry.py", "tests/exercises/test_ex07_retry.py"]
INTEGRATION = ["tests/test_flaky_http.py"]
CLAIM_SIMULATED_S = 60.0
CLAIM_WALL_S = 1.0


@dataclass
class Tally:
    """A pytest plugin: adds up durations and simulated sleep, test by test."""

    wall_s: float = 0.0
    simulated_s: float = 0.0
    tests: set[str] = field(default_factory=set)
    failed: int = 0

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.wall_s += report.duration
        self.tests.add(report.nodeid)
        self.failed += report.failed
        for name, value in report.user_properties:
            if name == "simulated_sleep_s" and isinstance(value, int | float):
                self.simulated_s += value


def run(paths: list[str]) -> tuple[Tally, float]:
    tally = Tally()
    started = time.perf_counter()
    code = pytest.main(
        ["-q", "--no-header", "-p", "no:cacheprovider", "--rootdir", str(ROOT), *paths],
        plugins=[tally],
    )
    elapsed = time.perf_counter() - started
    if code != 0 or tally.failed:
        sys.exit(f"the tests failed (pytest exit code {code}); fix them before benchmarking")
    return tally, elapsed


def main() -> int:
    backoff, backoff_session = run([str(ROOT / p) for p in BACKOFF])
    integration, integration_session = run([str(ROOT / p) for p in INTEGRATION])
    print()
    print("## Lesson 07: simulated backoff vs real time")
    print("| group | tests | simulated backoff (s) | real time in tests (s) | speed-up |")
    print("|---|---:|---:|---:|---:|")
    for name, tally in (("backoff (respx)", backoff), ("flaky server", integration)):
        ratio = tally.simulated_s / tally.wall_s if tally.wall_s else float("inf")
        print(
            f"| {name} | {len(tally.tests)} | {tally.simulated_s:.1f} | "
            f"{tally.wall_s:.3f} | {ratio:,.0f}x |"
        )
    print(
        f"\npytest sessions including start-up and collection: backoff {backoff_session:.2f} s, "
        f"flaky server {integration_session:.2f} s"
    )
    ok = backoff.simulated_s >= CLAIM_SIMULATED_S and backoff.wall_s < CLAIM_WALL_S
    print(
        f"{'PASS' if ok else 'FAIL'}: the backoff tests simulate {backoff.simulated_s:.1f} s "
        f"(claim >= {CLAIM_SIMULATED_S:g} s) in {backoff.wall_s:.3f} s of real time "
        f"(claim < {CLAIM_WALL_S:g} s)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
