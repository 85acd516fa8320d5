"""Lab infrastructure: the real parts the lessons run against, not lessons themselves.

* a throwaway PostgreSQL server (:func:`temporary_server`), in ``throwaway_postgres``;
* a deliberately flaky HTTP server (:func:`flaky_server`), in ``flaky_http``;
* the retry lesson's plots and schedule explorer (:func:`schedule_explorer`), in ``retry_plots``,
  and its fake clocks and sleep (:class:`FakeTime`), in ``fake_time``;
* peak memory of a pipeline variant in its own process (:func:`measure`), in ``memory``,
  and its picture (:func:`memory_png`), in ``pipeline_plots``;
* mypy's report on a snippet of code (:func:`mypy_report`), in ``typecheck``;
* one of the course's test files run by pytest in a child process
  (:func:`run_test_suite`), in ``suite_runs``.

Import the public names from here (``from patterns.lab import temporary_server``).
They load lazily: starting a database must not import matplotlib, and a check
that needs neither must not pay for either. Lab modules never import the course
tooling (``patterns.course``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# What each lab module exports; kept here as data so that importing patterns.lab
# imports none of them (a test checks these match the modules' own __all__).
_EXPORTS: dict[str, tuple[str, ...]] = {
    "throwaway_postgres": (
        "Binaries",
        "PostgresNotFoundError",
        "TemporaryServer",
        "find_binaries",
        "start_server",
        "sweep_leftovers",
        "temporary_server",
    ),
    "flaky_http": ("Arrival", "Charge", "Fault", "FlakyServer", "flaky_server", "seeded_faults"),
    "retry_plots": (
        "ScheduleExplorer",
        "Storm",
        "client_pauses",
        "peak_per_window",
        "retry_storm",
        "schedule_explorer",
        "schedule_png",
        "schedule_summary",
    ),
    "memory": ("FILE_VARIANTS", "POSTGRES_VARIANTS", "Measurement", "measure"),
    "pipeline_plots": ("memory_png",),
    "typecheck": ("MypyReport", "mypy_report"),
    "suite_runs": ("SuiteRun", "run_test_suite"),
    "fake_time": ("EPOCH", "FakeTime"),
}

if TYPE_CHECKING:
    from patterns.lab.fake_time import EPOCH, FakeTime
    from patterns.lab.flaky_http import (
        Arrival,
        Charge,
        Fault,
        FlakyServer,
        flaky_server,
        seeded_faults,
    )
    from patterns.lab.memory import FILE_VARIANTS, POSTGRES_VARIANTS, Measurement, measure
    from patterns.lab.pipeline_plots import memory_png
    from patterns.lab.retry_plots import (
        ScheduleExplorer,
        Storm,
        client_pauses,
        peak_per_window,
        retry_storm,
        schedule_explorer,
        schedule_png,
        schedule_summary,
    )
    from patterns.lab.suite_runs import SuiteRun, run_test_suite
    from patterns.lab.throwaway_postgres import (
        Binaries,
        PostgresNotFoundError,
        TemporaryServer,
        find_binaries,
        start_server,
        sweep_leftovers,
        temporary_server,
    )
    from patterns.lab.typecheck import MypyReport, mypy_report

__all__ = [
    "EPOCH",
    "FILE_VARIANTS",
    "POSTGRES_VARIANTS",
    "Arrival",
    "Binaries",
    "Charge",
    "FakeTime",
    "Fault",
    "FlakyServer",
    "Measurement",
    "MypyReport",
    "PostgresNotFoundError",
    "ScheduleExplorer",
    "Storm",
    "SuiteRun",
    "TemporaryServer",
    "client_pauses",
    "find_binaries",
    "flaky_server",
    "measure",
    "memory_png",
    "mypy_report",
    "peak_per_window",
    "retry_storm",
    "run_test_suite",
    "schedule_explorer",
    "schedule_png",
    "schedule_summary",
    "seeded_faults",
    "start_server",
    "sweep_leftovers",
    "temporary_server",
]

# Which module each public name lives in (each of them re-exports its own names).
_HOMES: dict[str, str] = {
    name: home for home in _EXPORTS for name in __all__ if name in _EXPORTS[home]
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'patterns.lab' has no attribute {name!r}")
    return getattr(importlib.import_module(f"patterns.lab.{home}"), name)


def __dir__() -> list[str]:
    return __all__
