"""Lazy pipelines: small generator stages that keep memory flat whatever the input size.

What this pattern is about: a big input (a log file, a table, a socket) is
processed one item at a time by a chain of small stages, each a generator that
pulls from the one before it. Nothing is read before it is needed, so memory
stays constant and the consumer can stop early (``itertools.islice``) without
reading the rest (a stage that holds a resource, a file or a query, keeps it
until the generator is closed: see :func:`read_lines` and :func:`stream_rows`)::

    report = ParseReport()
    with open("server.log", encoding="utf-8") as log:
        errors = at_least(parse(log, report), "ERROR")
        by_service = count_by(errors, key=lambda record: record.service)
    print(by_service.most_common(3), report.summary())

What this module holds:

* the stages: :func:`read_lines`, :func:`parse` (malformed lines are counted in
  a :class:`ParseReport`, never raised), :func:`at_least`, :func:`batched`,
  :func:`count_by`, and two complete pipelines, lazy and eager, to compare;
* :func:`stream_rows`, rows from PostgreSQL with psycopg 3's ``cursor.stream``,
  and the two ways it is usually done instead (:func:`fetch_all_rows`,
  :func:`named_cursor_rows`);
* :func:`sample_log_lines`, an endless, seeded log generator for demos;

When NOT to use it: when the data fits comfortably in memory and you need it
more than once (sorting, several passes, random access), a list is simpler
and can be iterated twice. A generator can be consumed once.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Callable, Generator, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

if TYPE_CHECKING:
    import psycopg
    from psycopg.abc import Params
    from psycopg.abc import QueryNoTemplate as Query

__all__ = [
    "SEVERITIES",
    "LogRecord",
    "MalformedLine",
    "MalformedLineError",
    "ParseReport",
    "at_least",
    "batched",
    "count_by",
    "errors_by_service",
    "errors_by_service_eager",
    "fetch_all_rows",
    "named_cursor_rows",
    "parse",
    "parse_line",
    "read_lines",
    "sample_log_lines",
    "stream_rows",
    "write_sample_log",
]

_T = TypeVar("_T")
_K = TypeVar("_K", bound=Hashable)

#: Severities from least to most severe; ``at_least`` relies on this order.
SEVERITIES: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


# --- records and parsing -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One parsed log line: ``2026-01-01T00:00:07 ERROR billing card declined``."""

    timestamp: datetime
    severity: str
    service: str
    message: str


class MalformedLineError(ValueError):
    """A log line that is not ``TIMESTAMP SEVERITY SERVICE MESSAGE``; ``reason`` says why."""

    def __init__(self, reason: str, line: str) -> None:
        super().__init__(f"{reason}: {line[:80]!r}")
        self.reason = reason


def parse_line(line: str) -> LogRecord:
    """Parse one line, or raise :class:`MalformedLineError` saying what is wrong with it."""
    parts = line.rstrip("\r\n").split(" ", 3)
    if len(parts) < 4:
        raise MalformedLineError(
            "expected 'TIMESTAMP SEVERITY SERVICE MESSAGE' separated by spaces", line
        )
    stamp, severity, service, message = parts
    try:
        timestamp = datetime.fromisoformat(stamp)
    except ValueError:
        raise MalformedLineError(f"bad timestamp {stamp[:40]!r}", line) from None
    if severity not in _RANK:
        raise MalformedLineError(f"unknown severity {severity!r}", line)
    if not service:
        raise MalformedLineError("empty service name", line)
    return LogRecord(timestamp, severity, service, message)


class MalformedLine(NamedTuple):
    """Where a bad line was, why it was refused, and its first 80 characters."""

    number: int
    reason: str
    text: str


@dataclass
class ParseReport:
    """Counts what a parsing stage accepted and refused; keeps the first few bad lines.

    Only ``keep`` examples are stored, so an endless input full of garbage
    still uses constant memory. Share one report between the stage and the
    code that prints the summary at the end.
    """

    keep: int = 5
    parsed: int = 0
    malformed: int = 0
    examples: list[MalformedLine] = field(default_factory=list)

    def count_malformed(self, number: int, reason: str, line: str) -> None:
        self.malformed += 1
        if len(self.examples) < self.keep:
            self.examples.append(MalformedLine(number, reason, line.rstrip("\r\n")[:80]))

    def summary(self) -> str:
        """One line for a log: ``"9950 parsed, 50 malformed (first at line 17: ...)"``."""
        text = f"{self.parsed} parsed, {self.malformed} malformed"
        if self.examples:
            first = self.examples[0]
            text += f" (first at line {first.number}: {first.reason})"
        return text


# --- the stages ------------------------------------------------------------------------


def read_lines(path: str | Path) -> Generator[str, None, None]:
    """Yield the lines of a UTF-8 text file, one at a time.

    The file stays open while the generator is suspended: until it is
    exhausted, ``.close()``\\ d, or garbage collected. If you may stop early,
    use ``contextlib.closing(read_lines(path))``, or open the file yourself
    with ``with open(...)`` and hand the file object to :func:`parse` (a file
    is already a lazy iterator of lines).
    """
    # errors="replace": one undecodable byte should make one malformed line,
    # not a UnicodeDecodeError that stops the whole pipeline.
    with open(path, encoding="utf-8", errors="replace") as lines:
        yield from lines


def parse(lines: Iterable[str], report: ParseReport | None = None) -> Iterator[LogRecord]:
    """Parse lines lazily; malformed lines are counted in ``report`` and skipped, never raised.

    Line numbers in the report start at 1. Blank lines are skipped silently.
    """
    if report is None:
        report = ParseReport()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = parse_line(line)
        except MalformedLineError as error:
            report.count_malformed(number, error.reason, line)
            continue
        report.parsed += 1
        yield record


def at_least(records: Iterable[LogRecord], severity: str) -> Iterator[LogRecord]:
    """Keep the records at ``severity`` or above (``"ERROR"`` keeps ERROR and CRITICAL).

    Not a generator function on purpose: the body of a generator function runs
    only at the first ``next()``, so a typo such as ``"EROR"`` would surface far
    from the call, or never. Here it raises ``ValueError`` at once.
    """
    name = severity.upper() if isinstance(severity, str) else severity
    if name not in _RANK:
        raise ValueError(f"unknown severity {severity!r}; use one of {', '.join(SEVERITIES)}")
    threshold = _RANK[name]
    return (record for record in records if _RANK[record.severity] >= threshold)


def batched(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    """Group items into lists of ``size`` (the last may be shorter), lazily.

    For bulk inserts, API calls that take many items, progress reports.
    ``itertools.batched`` does the same from Python 3.12 (it yields tuples).
    """
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"batch size must be a positive integer, got {size!r}")
    iterator = iter(items)

    def batches() -> Iterator[list[_T]]:
        while batch := list(itertools.islice(iterator, size)):
            yield batch

    return batches()


def count_by(items: Iterable[_T], key: Callable[[_T], _K]) -> Counter[_K]:
    """Count items by ``key(item)``. Consumes everything; memory grows with distinct keys only."""
    return Counter(key(item) for item in items)


def _service(record: LogRecord) -> str:
    return record.service


def errors_by_service(lines: Iterable[str], report: ParseReport | None = None) -> Counter[str]:
    """The lazy pipeline: ERROR and CRITICAL records counted per service, one line at a time."""
    return count_by(at_least(parse(lines, report), "ERROR"), key=_service)


def errors_by_service_eager(path: str | Path, report: ParseReport | None = None) -> Counter[str]:
    """The same answer built from lists: every stage holds the whole input in memory.

    This is the naive version the lesson starts from; use it only for comparison.
    """
    report = report if report is not None else ParseReport()
    with open(path, encoding="utf-8", errors="replace") as log:
        lines = log.readlines()
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(parse_line(line))
        except MalformedLineError as error:
            report.count_malformed(number, error.reason, line)
    report.parsed += len(records)
    errors = [record for record in records if _RANK[record.severity] >= _RANK["ERROR"]]
    return Counter(record.service for record in errors)


# --- sample data -----------------------------------------------------------------------

_SERVICES = ("api", "auth", "billing", "email", "payments", "search")
_MESSAGES = (
    "request served",
    "cache miss for key user:42",
    "upstream timeout after 2000 ms",
    "card declined by issuer",
    "retrying connection to db-primary",
    "slow query took 812 ms",
    "token expired for session 9f2c",
)
_SEVERITY_WEIGHTS = (30, 50, 12, 7, 1)  # DEBUG, INFO, WARNING, ERROR, CRITICAL
_MALFORMED = (
    "this line is not a log line",
    "2026-01-01T00:00:00 ERROR",
    "2026-13-45T99:00:00 ERROR api impossible date",
    "2026-01-01T00:00:00 LOUD api unknown severity",
)


def sample_log_lines(
    seed: int = 0, *, start: datetime = datetime(2026, 1, 1), malformed_every: int = 200
) -> Iterator[str]:
    """An endless, reproducible log: one line per item, time increasing, a few bad lines.

    About one line in ``malformed_every`` is malformed (0 turns them off).
    Take what you need with ``itertools.islice``.
    """
    rng = random.Random(seed)
    now = start
    while True:
        now += timedelta(seconds=rng.randrange(3))
        if malformed_every and rng.randrange(malformed_every) == 0:
            yield rng.choice(_MALFORMED) + "\n"
            continue
        (severity,) = rng.choices(SEVERITIES, weights=_SEVERITY_WEIGHTS)
        service = rng.choice(_SERVICES)
        yield f"{now.isoformat()} {severity} {service} {rng.choice(_MESSAGES)}\n"


def write_sample_log(path: str | Path, lines: int, seed: int = 0) -> Path:
    """Write the first ``lines`` lines of :func:`sample_log_lines` to ``path``."""
    path = Path(path)
    with open(path, "w", encoding="utf-8") as out:
        out.writelines(itertools.islice(sample_log_lines(seed), lines))
    return path


# --- PostgreSQL ----------------------------------------------------------------------------


def stream_rows(
    conn: psycopg.Connection[Any],
    query: Query,
    params: Params | None = None,
    *,
    size: int = 1000,
) -> Generator[Any, None, None]:
    """Yield the rows of ``query`` one at a time, fetched from the server ``size`` at a time.

    The rows are read inside a transaction that this generator owns. Stopping
    early is not closing: after a ``break`` or an ``islice``, a generator
    still referred to (a variable, an attribute) is only suspended, and the
    connection stays locked by psycopg in this process (whether or not the
    server has finished sending the rows). Close it: ``.close()``, or
    ``with contextlib.closing(stream_rows(...)) as rows:``. (CPython also
    closes it when the last reference goes, but do not count on that.)
    Closing cancels the query if the server is still sending it, which
    aborts the transaction; because this generator owns the transaction, it
    is rolled back either way and the connection is clean for the next query.

    While the generator is alive (started, neither exhausted nor closed) the
    connection is busy: any other query on it, from this thread or another,
    waits for it, forever if this thread is the one waiting. Use a second
    connection for anything you need to run meanwhile. Not for pipeline mode.
    """
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"size must be a positive integer, got {size!r}")

    def rows() -> Generator[Any, None, None]:
        with conn.transaction(), conn.cursor() as cursor:
            yield from cursor.stream(query, params, size=size)

    return rows()


def fetch_all_rows(
    conn: psycopg.Connection[Any],
    query: Query,
    params: Params | None = None,
) -> list[Any]:
    """Every row in one list: the whole result in memory at once (the naive way; for comparison)."""
    with conn.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def named_cursor_rows(
    conn: psycopg.Connection[Any],
    query: Query,
    params: Params | None = None,
    *,
    itersize: int = 1000,
) -> Iterator[Any]:
    """Rows through a server-side (named) cursor, ``itersize`` per round trip.

    Also constant memory; it costs a ``DECLARE`` and one ``FETCH`` round trip
    per batch, and needs a transaction (server-side cursors do not exist in
    autocommit), which this generator opens and ends.
    """

    def rows() -> Iterator[Any]:
        with conn.transaction(), conn.cursor(name="patterns_rows") as cursor:
            cursor.itersize = itersize
            cursor.execute(query, params)
            yield from cursor

    return rows()
