"""Exercise 05: a lazy pipeline for structured (JSON lines) logs.

Your services now log one JSON object per line::

    {"at": "2026-01-01T00:00:07", "level": "error", "service": "billing"}
    {"at": "2026-01-01T02:00:09+02:00", "level": "info", "service": "api"}

A timestamp without an offset is in UTC already; one with an offset (``Z``,
``+02:00``) is converted to UTC, so both lines above happened in the same
minute.

Write the stages of a pipeline that answers questions about an input that
may be huge or endless: every stage pulls one item at a time from the one
before it, and reads nothing it does not need.

1. ``parse_events(lines, report)``: lines in, :class:`Event` objects out.
   A bad line is counted in ``report``, never raised.
2. ``at_least(events, level)``: keep events at ``level`` or above; refuses an
   unknown level at the call, before any iteration.
3. ``counts_per_window(events, seconds)``: per time window, how many events
   each service logged; a window is yielded as soon as it is complete.
4. ``top_k(counts, k)``: the ``k`` services with most events.
5. ``first_errors(lines, n, report)``: the first ``n`` events at ERROR or
   above, reading only as many lines as that takes.

Run ``check("ex05")`` in the notebook, or ``python -m patterns check ex05``.
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from patterns.generators import ParseReport

#: Levels from least to most severe.
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

#: Windows are aligned on multiples of their width counted from this instant,
#: so a 60-second window always starts on a whole minute.
EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True)
class Event:
    """One parsed line. ``at`` is naive and in UTC; ``level`` is upper case, one of :data:`LEVELS`."""

    at: datetime
    level: str
    service: str


def parse_events(lines: Iterable[str], report: ParseReport) -> Iterator[Event]:
    """Parse JSON lines lazily into events; count bad lines in ``report`` and skip them.

    A good line is a JSON object with the string keys ``at`` (an ISO 8601
    timestamp), ``level`` (any case, one of LEVELS) and ``service`` (not
    empty); other keys are ignored. ``Event.at`` is naive and in UTC: a
    timestamp with an offset (``Z``, ``+02:00``) is converted to UTC, then its
    offset dropped (``at.astimezone(UTC).replace(tzinfo=None)``); one without
    an offset is taken as UTC already. A timestamp that falls outside the
    years 1 to 9999 once converted is a bad timestamp, like one that does
    not parse. For each good line add 1 to
    ``report.parsed``. For each bad line call
    ``report.count_malformed(line_number, reason, line)`` (line numbers
    start at 1; the reason is a short sentence saying what was wrong) and go
    on with the next line. Lines holding only whitespace are skipped silently
    but still count for the line numbers. Nothing is read before the first
    event is asked for.
    """

    # BEGIN SOLUTION: a generator: for each numbered line, parse it or count it as malformed
    def parse_one(line: str) -> Event:
        """One line to an Event, or ValueError with the reason."""
        try:
            data = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"not JSON ({error.msg})") from None
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        for key in ("at", "level", "service"):
            if not isinstance(data.get(key), str):
                raise ValueError(f"missing or non-string key {key!r}")
        level = data["level"].upper()
        if level not in LEVELS:
            raise ValueError(f"unknown level {data['level']!r}")
        if not data["service"]:
            raise ValueError("empty service")
        try:
            at = datetime.fromisoformat(data["at"])
            if at.tzinfo is not None:
                at = at.astimezone(UTC).replace(tzinfo=None)
        except (ValueError, OverflowError):  # OverflowError: past year 9999 once in UTC
            raise ValueError(f"bad timestamp {data['at'][:40]!r}") from None
        return Event(at, level, data["service"])

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = parse_one(line)
        except ValueError as error:
            report.count_malformed(number, str(error), line)
            continue
        report.parsed += 1
        yield event
    # END SOLUTION


def at_least(events: Iterable[Event], level: str) -> Iterator[Event]:
    """Keep the events at ``level`` or above, lazily (``"warning"`` keeps WARNING, ERROR, CRITICAL).

    ``level`` is case-insensitive. An unknown level raises ``ValueError`` naming
    it, at the call itself, not at the first ``next()``: so this function
    checks first, then returns a generator (a generator expression, or an
    inner generator function).
    """
    # BEGIN SOLUTION: check the level now, then return a lazy filter
    name = level.upper() if isinstance(level, str) else level
    if name not in LEVELS:
        raise ValueError(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")
    threshold = LEVELS.index(name)
    return (event for event in events if LEVELS.index(event.level) >= threshold)
    # END SOLUTION


def counts_per_window(
    events: Iterable[Event], seconds: int
) -> Iterator[tuple[datetime, Counter[str]]]:
    """Per tumbling window of ``seconds``: ``(window_start, Counter of events per service)``.

    Windows start at whole multiples of ``seconds`` counted from EPOCH (so
    ``seconds=60`` gives whole minutes). Events arrive in time order, with
    naive UTC times as :func:`parse_events` makes them. Yield a
    window as soon as an event of a later window arrives (do not wait for the
    end of the input, which may never come), and the last window when the
    input ends. Windows with no events are not yielded.

    ``seconds`` below 1 raises ``ValueError`` at the call. An event older than
    the window being filled raises ``ValueError`` saying which timestamps
    were out of order (sort the input first).
    """
    # BEGIN SOLUTION: check seconds now; then a generator holding only the current window
    if not isinstance(seconds, int) or seconds < 1:
        raise ValueError(f"seconds must be a positive integer, got {seconds!r}")
    width = timedelta(seconds=seconds)

    def windows() -> Iterator[tuple[datetime, Counter[str]]]:
        start: datetime | None = None
        counts: Counter[str] = Counter()
        for event in events:
            event_start = event.at - (event.at - EPOCH) % width
            if start is not None and event_start < start:
                raise ValueError(
                    f"event at {event.at.isoformat()} is older than the window starting "
                    f"{start.isoformat()}; sort the events by time first"
                )
            if start is not None and event_start > start:
                yield start, counts
                counts = Counter()
            start = event_start
            counts[event.service] += 1
        if start is not None:
            yield start, counts

    return windows()
    # END SOLUTION


def top_k(counts: Mapping[str, int], k: int) -> list[tuple[str, int]]:
    """The ``k`` services with the most events, most first; ties in alphabetical order.

    ``top_k({"api": 3, "auth": 5, "billing": 3}, 2) == [("auth", 5), ("api", 3)]``.
    Fewer than ``k`` services: all of them. ``k`` below 1 raises ``ValueError``.
    Keep memory at O(k): ``heapq.nsmallest``/``nlargest`` take a ``key``.
    """
    # BEGIN SOLUTION: check k, then keep the k best with heapq
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return heapq.nsmallest(k, counts.items(), key=lambda pair: (-pair[1], pair[0]))
    # END SOLUTION


def first_errors(lines: Iterable[str], n: int, report: ParseReport) -> list[Event]:
    """The first ``n`` events at ERROR or above, reading no line after the ``n``-th such event.

    Works on an endless input. Fewer than ``n`` in a finite input: all of them.
    Bad lines met on the way are counted in ``report``. ``n`` below 0 raises
    ``ValueError``. Build it from your stages and ``itertools.islice``.
    """
    # BEGIN SOLUTION: chain parse_events, at_least and islice
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    return list(itertools.islice(at_least(parse_events(lines, report), "ERROR"), n))
    # END SOLUTION
