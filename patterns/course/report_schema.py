"""The grader's report: what the pytest plugin (``report.py``) writes and the runner reads.

Kept apart from both so the runner can read it without importing pytest (``check``
must start fast) and the plugin can write it without importing the runner.
"""

from __future__ import annotations

from typing import Literal, TypedDict

#: The environment variable naming the JSON file the report plugin writes.
REPORT_ENV = "PATTERNS_REPORT"
#: Seconds after which the grader kills its own process group, should the runner be gone.
DEADLINE_ENV = "PATTERNS_GRADER_DEADLINE"


class CaseRecord(TypedDict):
    """One grader test (one parametrised case), as the plugin saw it."""

    test: str  # the test's name, with its parameters: "test_total[1000-3]"
    behaviour: str  # the test's docstring on one line
    outcome: Literal["passed", "failed", "skipped"]
    reason: str  # the grader's sentence, or the learner's exception with the call that raised it
    printed: list[str]  # what the code under test printed during this test (stdout, stderr)
    hints: list[str]  # from @pytest.mark.hints("...", "..."), in order
    missing_postgres: bool  # it failed because no PostgreSQL server could be started


class CollectionError(TypedDict):
    where: str  # the grader file that could not be collected
    reason: str  # its error, on one line
    missing_module: str  # the package an import could not find, else ""


class GraderReport(TypedDict):
    exitstatus: int  # pytest's: 0 all passed, 1 some failed, 2 interrupted, ...
    collected: int  # tests collected; fewer records than this means the session ended early
    interrupted: str  # why the session stopped early ("KeyboardInterrupt ..."), else ""
    tests: list[CaseRecord]
    collection_errors: list[CollectionError]
