"""ex05 wrong: top_k with nlargest on (count, name): ties come out in reverse alphabetical order.

grader says: (ties go in alphabetical order)
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
    """One parsed line. ``level`` is upper case, one of :data:`LEVELS`."""

    at: datetime
    level: str
    service: str


def parse_events(lines: Iterable[str], report: ParseReport) -> Iterator[Event]:
    """Parse JSON lines lazily into events; count bad lines in ``report`` and skip them.

    A good line is a JSON object with the string keys ``at`` (an ISO 8601
    timestamp), ``level`` (any case, one of LEVELS) and ``service`` (not
    empty); other keys are ignored. For each good line add 1 to
    ``report.parsed``. For each bad line call
    ``report.count_malformed(line_number, reason, line)`` (line numbers
    start at 1; the reason is a short sentence saying what was wrong) and go
    on with the next line. Lines holding only whitespace are skipped silently
    but still count for the line numbers. Nothing is read before the first
    event is asked for.
    """

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


def at_least(events: Iterable[Event], level: str) -> Iterator[Event]:
    """Keep the events at ``level`` or above, lazily (``"warning"`` keeps WARNING, ERROR, CRITICAL).

    ``level`` is case-insensitive. An unknown level raises ``ValueError`` naming
    it, at the call itself, not at the first ``next()``: so this function
    checks first, then returns a generator (a generator expression, or an
    inner generator function).
    """
    name = level.upper() if isinstance(level, str) else level
    if name not in LEVELS:
        raise ValueError(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")
    threshold = LEVELS.index(name)
    return (event for event in events if LEVELS.index(event.level) >= threshold)


def counts_per_window(
    events: Iterable[Event], seconds: int
) -> Iterator[tuple[datetime, Counter[str]]]:
    """Per tumbling window of ``seconds``: ``(window_start, Counter of events per service)``.

    Windows start at whole multiples of ``seconds`` counted from EPOCH (so
    ``seconds=60`` gives whole minutes). Events arrive in time order. Yield a
    window as soon as an event of a later window arrives (do not wait for the
    end of the input, which may never come), and the last window when the
    input ends. Windows with no events are not yielded.

    ``seconds`` below 1 raises ``ValueError`` at the call. An event older than
    the window being filled raises ``ValueError`` saying which timestamps
    were out of order (sort the input first).
    """
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


def top_k(counts: Mapping[str, int], k: int) -> list[tuple[str, int]]:
    """The ``k`` services with the most events, most first; ties in alphabetical order.

    ``top_k({"api": 3, "auth": 5, "billing": 3}, 2) == [("auth", 5), ("api", 3)]``.
    Fewer than ``k`` services: all of them. ``k`` below 1 raises ``ValueError``.
    Keep memory at O(k): ``heapq.nsmallest``/``nlargest`` take a ``key``.
    """
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return heapq.nlargest(k, counts.items(), key=lambda pair: (pair[1], pair[0]))


def first_errors(lines: Iterable[str], n: int, report: ParseReport) -> list[Event]:
    """The first ``n`` events at ERROR or above, reading no line after the ``n``-th such event.

    Works on an endless input. Fewer than ``n`` in a finite input: all of them.
    Bad lines met on the way are counted in ``report``. ``n`` below 0 raises
    ``ValueError``. Build it from your stages and ``itertools.islice``.
    """
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    return list(itertools.islice(at_least(parse_events(lines, report), "ERROR"), n))
