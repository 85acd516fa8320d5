"""Peak memory of one variant of a pipeline, measured in its own child process.

What it is for: lesson 05's claim "the lazy pipeline's memory stays flat" is a
number, and a number needs an honest measurement. A process's resident memory
never shrinks when Python frees objects, and ``tracemalloc`` misses what libpq
allocates, so :func:`measure` runs each variant in a fresh interpreter
(``python -m patterns.lab.memory VARIANT ARGS...``) and reads its high-water mark.

When not to use it: for anything but comparing variants against each other on
one machine; the absolute figures depend on the interpreter and the libraries.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from patterns.generators import (
    _service,
    at_least,
    count_by,
    errors_by_service,
    errors_by_service_eager,
    fetch_all_rows,
    named_cursor_rows,
    parse,
    stream_rows,
)

__all__ = ["FILE_VARIANTS", "POSTGRES_VARIANTS", "Measurement", "measure"]


class Measurement(NamedTuple):
    """What one variant cost, measured in its own process."""

    variant: str
    peak_rss_mb: float  # the child's whole peak resident memory
    extra_mb: float  # peak after the variant minus the child's peak just before it started
    seconds: float  # time spent in the variant only (not start-up)
    result: Any  # what the variant returned, to check the variants agree


def _max_rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    # On Linux, getrusage's ru_maxrss survives fork + exec: a child started from
    # a 200 MB Jupyter kernel reports at least 200 MB. VmHWM belongs to the new
    # program's memory map only, so it is the honest figure there.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import resource
    except ImportError:  # Windows: no getrusage; psutil reports the peak working set
        import psutil

        return float(psutil.Process().memory_info().peak_wset) / (1024 * 1024)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # macOS reports bytes, other Unixes KiB.
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def _file_variants() -> dict[str, Callable[[str], Any]]:
    def bare(path: str) -> int:
        with open(path, encoding="utf-8", errors="replace") as log:
            return sum(1 for _ in log)

    def lazy(path: str) -> dict[str, int]:
        with open(path, encoding="utf-8", errors="replace") as log:
            return dict(errors_by_service(log))

    def eager(path: str) -> dict[str, int]:
        return dict(errors_by_service_eager(path))

    def lazy_checked_with_list(path: str) -> dict[str, int]:
        # The pitfall: a list() "just to check how many there are" in the middle.
        with open(path, encoding="utf-8", errors="replace") as log:
            records = list(parse(log))
            print(f"{len(records)} records", file=sys.stderr)
            return dict(count_by(at_least(records, "ERROR"), key=_service))

    return {
        "bare": bare,
        "lazy": lazy,
        "eager": eager,
        "lazy+list": lazy_checked_with_list,
    }


def _postgres_variants(url: str, query: str) -> tuple[Any, dict[str, Callable[[], Any]]]:
    import psycopg

    conn = psycopg.connect(url, autocommit=True)

    def fold(rows: Iterable[Any]) -> list[int]:
        count = total = 0
        for row in rows:
            count += 1
            total += row[0]
        return [count, total]

    return conn, {
        "fetchall": lambda: fold(fetch_all_rows(conn, query)),
        "named": lambda: fold(named_cursor_rows(conn, query, itersize=2000)),
        "stream": lambda: fold(stream_rows(conn, query, size=2000)),
    }


def _child_main(argv: Sequence[str]) -> int:
    """``python -m patterns.lab.memory VARIANT ARGS...``: run once, print one JSON line."""
    variant, *args = argv
    conn = None
    if variant.startswith("pg-"):
        conn, variants = _postgres_variants(*args)
        run: Callable[[], Any] = variants[variant.removeprefix("pg-")]
    else:
        function = _file_variants()[variant]
        path = args[0]

        def run() -> Any:
            return function(path)

    before = _max_rss_mb()
    started = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - started
    peak = _max_rss_mb()
    if conn is not None:
        conn.close()
    print(json.dumps({"peak": peak, "before": before, "seconds": seconds, "result": result}))
    return 0


FILE_VARIANTS = ("bare", "lazy", "eager", "lazy+list")
POSTGRES_VARIANTS = ("pg-fetchall", "pg-named", "pg-stream")


def measure(variant: str, *args: str, timeout: float = 600) -> Measurement:
    """Run one variant in a fresh Python process and report its peak memory and time.

    File variants (``"bare"``, ``"lazy"``, ``"eager"``, ``"lazy+list"``) take a
    log file path; PostgreSQL variants (``"pg-fetchall"``, ``"pg-named"``,
    ``"pg-stream"``) take a server URL and a query whose first column is an
    integer. A separate process per variant because a process's resident
    memory does not shrink when Python frees objects, and ``tracemalloc``
    does not see what libpq allocates.
    """
    if variant not in FILE_VARIANTS + POSTGRES_VARIANTS:
        raise ValueError(
            f"unknown variant {variant!r}; use one of "
            f"{', '.join(FILE_VARIANTS + POSTGRES_VARIANTS)}"
        )
    expected = 2 if variant.startswith("pg-") else 1
    if len(args) != expected:
        raise ValueError(f"variant {variant!r} takes {expected} argument(s), got {len(args)}")
    completed = subprocess.run(
        [sys.executable, "-m", "patterns.lab.memory", variant, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"measuring {variant!r} failed (exit {completed.returncode}):\n"
            f"{completed.stderr.strip()[-2000:]}"
        )
    data = json.loads(completed.stdout.strip().splitlines()[-1])
    return Measurement(
        variant,
        round(data["peak"], 1),
        round(data["peak"] - data["before"], 1),
        data["seconds"],
        data["result"],
    )


if __name__ == "__main__":
    raise SystemExit(_child_main(sys.argv[1:]))
