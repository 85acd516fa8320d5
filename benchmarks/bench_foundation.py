"""Benchmarks of the course foundation, each against a baseline measured in the same run.

    .venv/bin/python benchmarks/bench_foundation.py [--runs 7] [--full]

* ``check`` on a solved pure-Python exercise (goal: at most 0.5 s median) and
  on a solved PostgreSQL one (goal: at most 1.5 s) as learners press it, in a notebook
  or ``watch`` (the warm grading worker), and as a one-shot ``python -m patterns check``
  (which pays the imports of pytest and Hypothesis every time); each also as a ratio
  to a bare ``pytest`` run of one trivial test measured alongside;
* ``watch``: from saving the file to the verdict printed (goal: under 1 s);
* throwaway PostgreSQL start, cold (initdb) and from the cached cluster
  (goals: under 1.5 s and under 0.6 s), and to the first query; stop separately;
* ``--full``: the whole ``make test`` wall time (goal: under 5 minutes on 2 cores).

Medians, because these machines are noisy. Figures go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def median_seconds(action: Callable[[], object], runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def median_cpu_seconds(action: Callable[[], object], runs: int) -> float:
    """CPU time (user + system) of the subprocesses ``action`` runs and waits for.

    A loaded shared machine stretches wall time; CPU time barely moves, so it
    tells whether our code got slower.
    """
    timings = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        action()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        timings.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(timings)


def solved_course(scratch: Path) -> Path:
    course = scratch / "course"
    for name in ("solutions", "tests"):
        shutil.copytree(ROOT / name, course / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "solutions", course / "exercises")
    shutil.copy2(ROOT / "pyproject.toml", course / "pyproject.toml")  # markers, warnings
    return course


def warm_checks(
    course: Path, runs: int, exercises: tuple[str, ...] = ("ex00", "ex02")
) -> dict[str, float]:
    """Median seconds of ``check`` as the notebook and ``watch`` run it: through the warm
    grading worker, progress recorded, after one check that starts the worker."""
    from patterns.course import runner

    previous = os.environ.get("PATTERNS_COURSE_ROOT")
    os.environ["PATTERNS_COURSE_ROOT"] = str(course)
    try:
        runner.keep_grader_warm()
        medians = {}
        for exercise in exercises:
            check = functools.partial(runner.check_exercise, exercise, course)
            check()  # the worker's start, and the cached cluster
            medians[exercise] = median_seconds(check, runs)
        return medians
    finally:
        if runner._warm_grader is not None:
            runner._warm_grader.stop()
        if previous is None:
            del os.environ["PATTERNS_COURSE_ROOT"]
        else:
            os.environ["PATTERNS_COURSE_ROOT"] = previous


def bench_check(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        course = solved_course(scratch)
        trivial = scratch / "test_trivial.py"
        trivial.write_text("def test_trivial():\n    assert 1 + 1 == 2\n")
        env = {**os.environ, "PATTERNS_COURSE_ROOT": str(course)}

        def check(exercise: str = "ex00") -> Callable[[], None]:
            def run() -> None:
                subprocess.run([sys.executable, "-m", "patterns", "check", exercise], env=env,
                               check=True, capture_output=True)  # fmt: skip

            return run

        def bare_pytest(autoload: bool) -> Callable[[], None]:
            plain = {k: v for k, v in os.environ.items() if k != "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
            run_env = plain if autoload else {**plain, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}

            def run() -> None:
                subprocess.run(
                    [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(trivial)],
                    cwd=scratch, env=run_env, check=True, capture_output=True,
                )  # fmt: skip

            return run

        check()()  # warm the file cache and the cached PostgreSQL cluster
        check("ex02")()
        bare_pytest(True)()
        # Two baselines: pytest as anyone runs it in this venv (plugins autoloaded:
        # nbval pulls nbformat and jsonschema), and pytest with no plugins at all.
        with_plugins = median_seconds(bare_pytest(True), runs)
        no_plugins = median_seconds(bare_pytest(False), runs)
        ours = median_seconds(check(), runs)
        postgres = median_seconds(check("ex02"), runs)
        print(
            f"bare pytest, trivial test, venv default plugins {with_plugins:6.3f} s (median of {runs})"
        )
        print(f"bare pytest, trivial test, no plugin autoload   {no_plugins:6.3f} s")
        print(
            f"python -m patterns check ex00, one-shot         {ours:6.3f} s = "
            f"{ours / with_plugins:.2f}x / {ours / no_plugins:.2f}x (imports paid each time)"
        )
        print(
            f"python -m patterns check ex02, one-shot         {postgres:6.3f} s = "
            f"{postgres / no_plugins:.2f}x bare pytest"
        )
        warm = warm_checks(course, runs)
        print(
            f"check ex00 in a notebook or watch (warm)        {warm['ex00']:6.3f} s = "
            f"{warm['ex00'] / no_plugins:.2f}x bare pytest (goal <= 0.5 s)"
        )
        print(
            f"check ex02 in a notebook or watch (warm)        {warm['ex02']:6.3f} s = "
            f"{warm['ex02'] / no_plugins:.2f}x bare pytest (goal <= 1.5 s)"
        )
        cpu = {
            name: median_cpu_seconds(action, runs)
            for name, action in [
                ("bare", bare_pytest(False)),
                ("ex00", check()),
                ("ex02", check("ex02")),
            ]
        }
        print(
            f"CPU seconds (user+sys): bare pytest {cpu['bare']:.3f}, check ex00 {cpu['ex00']:.3f}, "
            f"check ex02 {cpu['ex02']:.3f} (wall time on a loaded machine is longer)"
        )

        process = subprocess.Popen(
            [sys.executable, "-m", "patterns", "watch", "ex00", "--max-runs", "3", "--interval", "0.2"],
            env=env, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert process.stdout is not None
        process.stdout.readline()
        while "passes" not in process.stdout.readline():  # watch checks once when it starts
            pass
        latencies = []
        for _ in range(3):
            time.sleep(0.3)
            saved = time.perf_counter()
            os.utime(course / "exercises" / "ex00_warmup.py")
            while "passes" not in process.stdout.readline():
                pass
            latencies.append(time.perf_counter() - saved)
        process.wait(timeout=30)
        print(
            f"watch: save -> verdict printed                  {statistics.median(latencies):6.3f} s (goal < 1 s)"
        )


def bench_postgres(runs: int) -> None:
    import psycopg

    from patterns.lab import start_server

    def start_stop(cached: bool) -> tuple[float, float, float]:
        started = time.perf_counter()
        server = start_server(cached=cached)
        up = time.perf_counter()
        # Start returns once postmaster.pid says "ready", before any connection:
        # the first query is what a notebook waits for.
        with psycopg.connect(server.url) as conn:
            conn.execute("SELECT 1")
        answered = time.perf_counter()
        server.stop()
        return up - started, answered - started, time.perf_counter() - answered

    start_stop(True)  # make sure the cached cluster exists
    cold = [start_stop(False) for _ in range(runs)]
    cached = [start_stop(True) for _ in range(runs)]
    print(
        f"PostgreSQL start, cold (initdb)                 {statistics.median(s for s, _, _ in cold):6.3f} s (goal < 1.5 s)"
    )
    print(
        f"PostgreSQL start, cached cluster                {statistics.median(s for s, _, _ in cached):6.3f} s (goal < 0.6 s)"
    )
    print(
        f"PostgreSQL start, cached, to first query        {statistics.median(q for _, q, _ in cached):6.3f} s"
    )
    print(
        f"PostgreSQL stop and delete                      {statistics.median(s for _, _, s in cached):6.3f} s"
    )


def bench_full() -> None:
    started = time.perf_counter()
    subprocess.run(["make", "test"], cwd=ROOT, check=True, capture_output=True)
    print(
        f"make test, whole suite                          {time.perf_counter() - started:6.1f} s (goal < 300 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--full", action="store_true", help="also time `make test` (minutes)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    bench_check(args.runs)
    bench_postgres(args.runs)
    if args.full:
        bench_full()


if __name__ == "__main__":
    main()
