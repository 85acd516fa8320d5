"""Long Hypothesis runs of the lesson library's promises (factory, money, repository).

    .venv/bin/python benchmarks/fuzz_library.py [--profile long|ci|both] [-k EXPRESSION]

Runs the property tests (``tests/test_*_properties.py``) under the long budget
(``PATTERNS_PROPERTIES=long``: random inputs, tens of thousands each) and, with
``--profile both`` (the default), under the CI budget first, in the same run, as
the baseline: how many inputs each property tried, how long it took, and the
cost per input. A failure prints Hypothesis' reproduction blob and the script
exits non-zero. ``make fuzz`` runs it; expect 15-30 minutes on 2 busy cores.

Needs the throwaway PostgreSQL (started by the tests) for the repository property.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROPERTY_FILES = sorted(
    str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*_properties.py")
)

# "tests/x.py::test_y:" then, a few lines on, "- 500 passing, 0 failing, and 49 invalid test cases"
_TEST_HEADER = re.compile(r"^(tests/\S+::\S+):$", re.MULTILINE)
_COUNTS = re.compile(r"(\d+) passing, (\d+) failing, and (\d+) invalid")
_DURATION = re.compile(r"^\s*([\d.]+)s call\s+(tests/\S+::\S+)", re.MULTILINE)


@dataclass
class PropertyRun:
    name: str
    examples: int = 0
    seconds: float = 0.0


def run_profile(profile: str, selection: str | None) -> tuple[dict[str, PropertyRun], bool, float]:
    """Run every property under ``profile``; return per-test figures, success and wall time."""
    command = [
        sys.executable, "-m", "pytest", *PROPERTY_FILES, "-p", "no:cacheprovider", "-q",
        "--hypothesis-show-statistics", "--durations=0", "--durations-min=0",
    ]  # fmt: skip
    if selection:
        command += ["-k", selection]
    env = {**os.environ, "PATTERNS_PROPERTIES": profile}
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    runs: dict[str, PropertyRun] = {}
    headers = list(_TEST_HEADER.finditer(result.stdout))
    for header, following in zip(headers, [*headers[1:], None], strict=True):
        block = result.stdout[header.end() : following.start() if following else None]
        run = runs.setdefault(header.group(1), PropertyRun(header.group(1)))
        for counts in _COUNTS.finditer(block):
            run.examples += int(counts.group(1)) + int(counts.group(2))
    for seconds, name in _DURATION.findall(result.stdout):
        runs.setdefault(name, PropertyRun(name)).seconds = float(seconds)
    if result.returncode != 0:
        print(result.stdout[-6000:], result.stderr[-2000:], sep="\n")
    return runs, result.returncode == 0, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["ci", "long", "both"], default="both")
    parser.add_argument("-k", dest="selection", help="pytest -k expression to run fewer properties")
    options = parser.parse_args()
    profiles = ["ci", "long"] if options.profile == "both" else [options.profile]
    results = {}
    ok = True
    for profile in profiles:
        print(f">> {profile} profile: {' '.join(PROPERTY_FILES)}", flush=True)
        runs, passed, wall = run_profile(profile, options.selection)
        results[profile] = runs
        ok = ok and passed
        print(f"   {'passed' if passed else 'FAILED'} in {wall:.0f} s", flush=True)
    print(f"\n{'property':<92} {'profile':>7} {'inputs':>7} {'seconds':>8} {'ms/input':>9}")
    names = sorted({name for runs in results.values() for name in runs})
    for name in names:
        for profile in profiles:
            run = results[profile].get(name)
            if run is None or not run.examples:
                continue
            per_input = 1000 * run.seconds / run.examples
            short = name.removeprefix("tests/")
            print(
                f"{short:<92} {profile:>7} {run.examples:>7} {run.seconds:>8.1f} {per_input:>9.2f}"
            )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
