"""Benchmark for lesson 07: the retry tests simulate minutes of backoff in well under a second.

Run it with ``.venv/bin/python benchmarks/bench_retry.py``.

It runs the lesson's backoff tests in this process through pytest, with a
small plugin that reads what every test reported: its duration (setup, call
and teardown) and the seconds its fake ``sleep`` recorded (each test's
fixture leaves them in ``user_properties`` as ``simulated_sleep_s``).

Three groups are reported separately, because they spend real time on
different things:

* backoff unit tests (``tests/test_retry.py``): respx and a fake clock, no
  sockets; the claim is >= 60 s simulated in < 1 s real;
* the ex07 grader: the learner's function and the spec side by side on fixed
  and Hypothesis-generated schedules; its real time is mostly Hypothesis;
* flaky-server integration tests: real sockets and real (short) read
  timeouts against a slow answer; their backoff is simulated too, but their
  real time is the timeouts, by design.

The wall time is the sum of the tests' own durations (pytest's start-up and
collection are left out and printed on their own line).

Then ``check ex07`` on a solved copy of the course is timed (median of
``--runs``) as learners press it, through the warm grading worker of the
notebook and ``watch``, and as a one-shot ``python -m patterns check``, beside
two baselines measured in the same run: a bare pytest of one trivial test
without plugin autoload, and ``check ex00``, the simplest exercise. The goal for
ex07, as learners press it, is 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the benchmarks package importable

from benchmarks.bench_foundation import median_seconds, solved_course, warm_checks  # noqa: E402

BACKOFF = ["tests/test_retry.py"]
GRADER = ["tests/exercises/test_ex07_retry.py"]
INTEGRATION = ["tests/test_flaky_http.py"]
CHECK_GOAL_S = 0.5
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


def bench_check(runs: int) -> float:
    """Median seconds of ``check ex07`` on a solved course, printed beside two baselines."""
    with tempfile.TemporaryDirectory(prefix="bench-retry-") as tmp:
        scratch = Path(tmp)
        course = solved_course(scratch)
        trivial = scratch / "test_trivial.py"
        trivial.write_text("def test_trivial():\n    assert 1 + 1 == 2\n")
        env = {**os.environ, "PATTERNS_COURSE_ROOT": str(course)}

        def command(*args: str, **extra: str) -> Callable[[], object]:
            return lambda: subprocess.run(
                [sys.executable, *args], cwd=scratch, env={**env, **extra},
                check=True, capture_output=True,
            )  # fmt: skip

        check_ex07 = command("-m", "patterns", "check", "ex07")
        check_ex00 = command("-m", "patterns", "check", "ex00")
        bare = command("-m", "pytest", "-q", "-p", "no:cacheprovider", str(trivial),
                       PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")  # fmt: skip
        for warm in (check_ex07, check_ex00, bare):  # the file cache, pyc files
            warm()
        timings = {
            "bare pytest, one trivial test, no autoload": median_seconds(bare, runs),
            "python -m patterns check ex00, one-shot": median_seconds(check_ex00, runs),
            "python -m patterns check ex07, one-shot": median_seconds(check_ex07, runs),
        }
        warm_medians = warm_checks(course, runs, ("ex00", "ex07"))
        timings["check ex00 in a notebook or watch (warm)"] = warm_medians["ex00"]
        timings["check ex07 in a notebook or watch (warm)"] = warm_medians["ex07"]
    print(f"\n## check latency (median of {runs}, same run)")
    for name, seconds in timings.items():
        print(f"{name:45} {seconds:6.3f} s")
    return timings["check ex07 in a notebook or watch (warm)"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=9, help="timed runs of each check")
    args = parser.parse_args(argv)
    backoff, backoff_session = run([str(ROOT / p) for p in BACKOFF])
    grader, grader_session = run([str(ROOT / p) for p in GRADER])
    integration, integration_session = run([str(ROOT / p) for p in INTEGRATION])
    print()
    print("## Lesson 07: simulated backoff vs real time")
    print("| group | tests | simulated backoff (s) | real time in tests (s) | speed-up |")
    print("|---|---:|---:|---:|---:|")
    groups = (("backoff unit tests (respx)", backoff), ("ex07 grader (spec side by side)", grader),
              ("flaky server", integration))  # fmt: skip
    for name, tally in groups:
        ratio = tally.simulated_s / tally.wall_s if tally.wall_s else float("inf")
        print(
            f"| {name} | {len(tally.tests)} | {tally.simulated_s:.1f} | "
            f"{tally.wall_s:.3f} | {ratio:,.0f}x |"
        )
    print(
        f"\npytest sessions including start-up and collection: backoff {backoff_session:.2f} s, "
        f"grader {grader_session:.2f} s, flaky server {integration_session:.2f} s"
    )
    ok = backoff.simulated_s >= CLAIM_SIMULATED_S and backoff.wall_s < CLAIM_WALL_S
    print(
        f"{'PASS' if ok else 'FAIL'}: the backoff unit tests simulate {backoff.simulated_s:.1f} s "
        f"(claim >= {CLAIM_SIMULATED_S:g} s) in {backoff.wall_s:.3f} s of real time "
        f"(claim < {CLAIM_WALL_S:g} s)"
    )
    check = bench_check(args.runs)
    fast = check <= CHECK_GOAL_S
    print(f"{'PASS' if fast else 'FAIL'}: check ex07 {check:.3f} s (goal <= {CHECK_GOAL_S:g} s)")
    return 0 if ok and fast else 1


if __name__ == "__main__":
    raise SystemExit(main())
