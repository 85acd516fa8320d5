"""Unit tests of the lazy pipeline stages, and of streaming rows from a real PostgreSQL."""

from __future__ import annotations

import inspect
import itertools
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from patterns.generators import (
    SEVERITIES,
    LogRecord,
    MalformedLineError,
    ParseReport,
    at_least,
    batched,
    count_by,
    errors_by_service,
    errors_by_service_eager,
    fetch_all_rows,
    named_cursor_rows,
    parse,
    parse_line,
    read_lines,
    sample_log_lines,
    stream_rows,
    write_sample_log,
)
from patterns.lab import measure

if TYPE_CHECKING:
    from patterns.lab import TemporaryServer


class Counting:
    """An iterator that records how many items were pulled from it."""

    def __init__(self, items: Iterable[str]) -> None:
        self._items = iter(items)
        self.pulled = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        item = next(self._items)
        self.pulled += 1
        return item


def record(severity: str, service: str = "api", second: int = 0) -> LogRecord:
    return LogRecord(datetime(2026, 1, 1, 0, 0, second), severity, service, "message")


# --- parsing --------------------------------------------------------------------------------


def test_parse_line_reads_the_four_fields() -> None:
    parsed = parse_line("2026-01-01T00:00:07 ERROR billing card declined by issuer\n")
    assert parsed == LogRecord(
        datetime(2026, 1, 1, 0, 0, 7), "ERROR", "billing", "card declined by issuer"
    )


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("garbage", "expected 'TIMESTAMP SEVERITY SERVICE MESSAGE'"),
        ("not a log line", "bad timestamp 'not'"),
        ("2026-01-01T00:00:00 ERROR", "expected 'TIMESTAMP SEVERITY SERVICE MESSAGE'"),
        ("2026-13-45T99:00:00 ERROR api boom", "bad timestamp"),
        ("2026-01-01T00:00:00 LOUD api boom", "unknown severity 'LOUD'"),
        ("2026-01-01T00:00:00 ERROR  boom", "empty service name"),
    ],
)
def test_parse_line_says_what_is_wrong_with_a_malformed_line(line: str, reason: str) -> None:
    with pytest.raises(MalformedLineError) as raised:
        parse_line(line)
    assert raised.value.reason.startswith(reason)
    assert line[:20] in str(raised.value)


def test_parse_counts_malformed_lines_and_keeps_going() -> None:
    lines = [
        "2026-01-01T00:00:00 INFO api ok\n",
        "garbage\n",
        "\n",
        "2026-01-01T00:00:01 ERROR auth bad token\n",
        "2026-01-01T00:00:02 LOUD auth ???\n",
    ]
    report = ParseReport()
    records = list(parse(lines, report))
    assert [r.severity for r in records] == ["INFO", "ERROR"]
    assert (report.parsed, report.malformed) == (2, 2)
    assert [example.number for example in report.examples] == [2, 5]
    assert report.summary().startswith("2 parsed, 2 malformed (first at line 2: expected")


def test_parse_report_keeps_only_the_first_few_examples() -> None:
    report = ParseReport(keep=3)
    assert list(parse(["bad\n"] * 1000, report)) == []
    assert report.malformed == 1000
    assert len(report.examples) == 3


def test_parse_pulls_only_the_lines_it_needs_from_an_endless_input() -> None:
    source = Counting(itertools.repeat("2026-01-01T00:00:00 INFO api ok\n"))
    records = parse(source)
    assert source.pulled == 0, "creating the stage must not read anything"
    assert len(list(itertools.islice(records, 5))) == 5
    assert source.pulled == 5


# --- filtering, batching, counting ------------------------------------------------------------


def test_at_least_keeps_the_severity_and_everything_above() -> None:
    records = [record(severity) for severity in SEVERITIES]
    assert [r.severity for r in at_least(records, "warning")] == ["WARNING", "ERROR", "CRITICAL"]


def test_at_least_refuses_an_unknown_severity_before_any_iteration() -> None:
    with pytest.raises(ValueError, match=r"unknown severity 'EROR'; use one of DEBUG, INFO"):
        at_least(iter([]), "EROR")


def test_batched_groups_lazily_and_keeps_the_short_tail() -> None:
    source = Counting(str(n) for n in itertools.count())
    batches = batched(source, 3)
    assert next(batches) == ["0", "1", "2"]
    assert source.pulled == 3
    assert list(batched("abcde", 2)) == [["a", "b"], ["c", "d"], ["e"]]


@pytest.mark.parametrize("size", [0, -1, 2.5])
def test_batched_refuses_a_size_that_is_not_a_positive_integer(size: int) -> None:
    with pytest.raises(ValueError, match="batch size must be a positive integer"):
        batched([1, 2, 3], size)


def test_count_by_counts_per_key() -> None:
    records = [record("ERROR", "api"), record("ERROR", "auth"), record("CRITICAL", "api")]
    assert count_by(records, key=lambda r: r.service) == Counter({"api": 2, "auth": 1})


# --- files and sample data ----------------------------------------------------------------------


def test_sample_log_is_reproducible_and_mostly_well_formed() -> None:
    first = list(itertools.islice(sample_log_lines(seed=3), 2000))
    assert first == list(itertools.islice(sample_log_lines(seed=3), 2000))
    report = ParseReport()
    assert sum(1 for _ in parse(first, report)) == report.parsed
    assert 0 < report.malformed < 40
    assert report.parsed + report.malformed == 2000


def test_lazy_and_eager_pipelines_agree(tmp_path: Path) -> None:
    path = write_sample_log(tmp_path / "server.log", 5000, seed=1)
    lazy_report, eager_report = ParseReport(), ParseReport()
    with open(path, encoding="utf-8") as log:
        lazy = errors_by_service(log, lazy_report)
    assert lazy == errors_by_service_eager(path, eager_report)
    assert sum(lazy.values()) > 0
    assert (lazy_report.parsed, lazy_report.malformed) == (
        eager_report.parsed,
        eager_report.malformed,
    )


def test_read_lines_closes_the_file_when_the_generator_is_closed(tmp_path: Path) -> None:
    path = write_sample_log(tmp_path / "server.log", 10)
    lines = read_lines(path)
    next(lines)
    log = inspect.getgeneratorlocals(lines)["lines"]
    assert not log.closed, "a suspended generator keeps its file open"
    lines.close()
    assert log.closed


def test_a_generator_is_consumed_once() -> None:
    errors = at_least(parse(itertools.islice(sample_log_lines(), 1000)), "ERROR")
    assert sum(1 for _ in errors) > 0
    assert sum(1 for _ in errors) == 0


def test_measure_runs_each_variant_in_a_child_and_they_agree(tmp_path: Path) -> None:
    path = str(write_sample_log(tmp_path / "server.log", 3000))
    lazy, eager = measure("lazy", path), measure("eager", path)
    assert lazy.result == eager.result
    assert lazy.peak_rss_mb > 0 and eager.extra_mb >= lazy.extra_mb


def test_measure_refuses_an_unknown_variant() -> None:
    with pytest.raises(ValueError, match=r"unknown variant 'lazzy'; use one of bare, lazy"):
        measure("lazzy", "x")


# --- PostgreSQL ---------------------------------------------------------------------------------


@pytest.fixture
def numbers_url(postgres_server: TemporaryServer) -> Iterator[str]:
    import psycopg

    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS gen_numbers")
        conn.execute(
            "CREATE TABLE gen_numbers AS SELECT n AS id FROM generate_series(1, 20000) AS n"
        )
    yield postgres_server.url
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        conn.execute("DROP TABLE gen_numbers")


@pytest.mark.postgres
def test_stream_rows_fetches_every_row_in_order(numbers_url: str) -> None:
    import psycopg

    with psycopg.connect(numbers_url, autocommit=True) as conn:
        ids = [row[0] for row in stream_rows(conn, "SELECT id FROM gen_numbers ORDER BY id")]
        assert ids == list(range(1, 20001))
        assert fetch_all_rows(conn, "SELECT count(*) FROM gen_numbers") == [(20000,)]
        assert sum(1 for _ in named_cursor_rows(conn, "SELECT id FROM gen_numbers")) == 20000


@pytest.mark.postgres
def test_stopping_a_stream_early_leaves_the_connection_usable(numbers_url: str) -> None:
    import psycopg

    with psycopg.connect(numbers_url, autocommit=True) as conn:
        first = list(itertools.islice(stream_rows(conn, "SELECT id FROM gen_numbers"), 10))
        assert len(first) == 10
        # Nothing refers to the stream once islice is done, so CPython closed it: its
        # query cancelled if still being sent, its transaction rolled back either way.
        assert conn.execute("SELECT count(*) FROM gen_numbers").fetchone() == (20000,)


@pytest.mark.postgres
def test_another_query_waits_while_a_stream_is_alive(numbers_url: str) -> None:
    import psycopg

    with psycopg.connect(numbers_url, autocommit=True) as conn:
        rows = stream_rows(conn, "SELECT id FROM gen_numbers", size=100)
        next(rows)
        answers: list[object] = []
        other = threading.Thread(
            target=lambda: answers.append(conn.execute("SELECT 1").fetchone()), daemon=True
        )
        other.start()
        other.join(timeout=0.5)
        assert other.is_alive(), "the second query should be stuck behind the stream"
        # Finishing the stream releases the connection; the waiting query then runs.
        assert sum(1 for _ in rows) == 19999
        other.join(timeout=10)
        assert not other.is_alive() and answers == [(1,)]


def test_stream_rows_refuses_a_bad_size() -> None:
    with pytest.raises(ValueError, match="size must be a positive integer"):
        stream_rows(None, "SELECT 1", size=0)  # type: ignore[arg-type]


def test_the_module_does_not_import_psycopg_or_course_tooling() -> None:
    import subprocess
    import sys

    code = (
        "import sys, patterns.generators; "
        "print(sorted(m for m in sys.modules if m.startswith(('psycopg', 'patterns.course'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
