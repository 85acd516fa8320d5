"""Grader for ex05: a lazy pipeline for JSON-lines logs.

Checks the answers, that every stage is lazy (it works on an endless input
and pulls no more than it needs), that bad lines are counted rather than
raised, and that bad arguments are refused at the call.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from patterns.course.grading import call_repr, load_graded
from patterns.generators import ParseReport

START = datetime(2026, 1, 1)


@pytest.fixture
def ex05() -> ModuleType:
    return load_graded("ex05")


class ReadTooMuchError(RuntimeError):
    """Raised by an endless input when a stage pulls far more than it needs."""


class Endless:
    """An endless iterator that counts how many items were pulled from it."""

    def __init__(self, items: Iterable[Any], limit: int = 10_000) -> None:
        self._items = iter(items)
        self._limit = limit
        self.pulled = 0

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        if self.pulled >= self._limit:
            raise ReadTooMuchError(
                f"read {self._limit} items from an endless input without stopping: "
                "some stage reads everything (a list(), a sorted(), a for loop that "
                "collects) instead of handing items on one at a time"
            )
        self.pulled += 1
        return next(self._items)


def line(second: int, level: str, service: str = "api") -> str:
    at = (START + timedelta(seconds=second)).isoformat()
    return json.dumps({"at": at, "level": level, "service": service}) + "\n"


def endless_lines() -> Iterator[str]:
    """Line k (from 1): an ERROR on every 5th line, a malformed line on every 7th."""
    for k in itertools.count(1):
        if k % 7 == 0:
            yield "{not json\n"
        elif k % 5 == 0:
            yield line(k, "error", "billing")
        else:
            yield line(k, "info")


# --- parse_events -------------------------------------------------------------------------


def test_parse_events_turns_json_lines_into_events(ex05: ModuleType) -> None:
    """Good JSON lines become Event objects with an upper-case level and a datetime."""
    lines = [line(0, "info"), line(5, "Error", "billing"), line(9, "CRITICAL", "auth")]
    report = ParseReport()
    events = list(ex05.parse_events(lines, report))
    expected = [
        ex05.Event(START, "INFO", "api"),
        ex05.Event(START + timedelta(seconds=5), "ERROR", "billing"),
        ex05.Event(START + timedelta(seconds=9), "CRITICAL", "auth"),
    ]
    assert events == expected, f"parse_events({lines!r}) gave {events!r}, expected {expected!r}"
    assert report.parsed == 3, f"after 3 good lines report.parsed is {report.parsed}, expected 3"


def test_parse_events_counts_malformed_lines_and_keeps_going(ex05: ModuleType) -> None:
    """Bad lines are counted in the report with their line number and skipped, never raised."""
    lines = [
        line(0, "info"),  # 1
        "not json at all\n",  # 2
        "[1, 2, 3]\n",  # 3: JSON, but not an object
        json.dumps({"at": START.isoformat(), "level": "error"}) + "\n",  # 4: no service
        line(1, "loud"),  # 5: unknown level
        json.dumps({"at": "yesterday", "level": "info", "service": "api"}) + "\n",  # 6
        line(2, "info", ""),  # 7: empty service
        json.dumps({"at": 5, "level": "info", "service": "api"}) + "\n",  # 8: at not a string
        "   \n",  # 9: blank, skipped silently
        line(3, "warning"),  # 10
    ]
    report = ParseReport(keep=20)
    try:
        events = list(ex05.parse_events(lines, report))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        pytest.fail(
            f"parse_events raised {type(error).__name__}: {error}. A bad line must be "
            "counted with report.count_malformed(...) and skipped, not raised.",
            pytrace=False,
        )
    levels = [event.level for event in events]
    assert levels == ["INFO", "WARNING"], f"expected the 2 good lines only, got {events!r}"
    numbers = [example.number for example in report.examples]
    assert report.malformed == 7 and numbers == [2, 3, 4, 5, 6, 7, 8], (
        f"lines 2 to 8 are malformed: expected report.malformed == 7 and line numbers "
        f"[2, 3, 4, 5, 6, 7, 8], got {report.malformed} and {numbers} "
        "(blank lines are skipped but still counted for numbering)"
    )
    assert all(example.reason.strip() for example in report.examples), (
        f"every malformed line needs a reason saying what was wrong, got {report.examples!r}"
    )
    assert report.parsed == 2, f"report.parsed is {report.parsed}, expected 2"


def test_parse_events_reads_lazily_from_an_endless_input(ex05: ModuleType) -> None:
    """parse_events reads nothing until asked, then one line per event."""
    source = Endless(line(k, "info") for k in itertools.count())
    events = ex05.parse_events(source, ParseReport())
    assert source.pulled == 0, (
        f"calling parse_events(...) read {source.pulled} lines before any event was asked for"
    )
    first_three = list(itertools.islice(events, 3))
    assert len(first_three) == 3 and source.pulled == 3, (
        f"taking 3 events should read 3 lines; got {len(first_three)} events "
        f"after reading {source.pulled} lines"
    )


# --- at_least -----------------------------------------------------------------------------------


def test_at_least_keeps_the_level_and_above(ex05: ModuleType) -> None:
    """at_least keeps the given level and every more severe one, whatever the case."""
    events = [ex05.Event(START, level, "api") for level in ex05.LEVELS]
    kept = [event.level for event in ex05.at_least(iter(events), "warning")]
    assert kept == ["WARNING", "ERROR", "CRITICAL"], (
        f"at_least(<one event per level>, 'warning') kept {kept}"
    )


def test_at_least_refuses_an_unknown_level_at_the_call(ex05: ModuleType) -> None:
    """An unknown level raises ValueError when at_least is called, before any iteration."""
    call = call_repr("at_least", "<events>", "loud")
    try:
        result = ex05.at_least(iter([]), "loud")
    except ValueError as error:
        assert "loud" in str(error), f"{call} raised ValueError({str(error)!r}): name the level"
        return
    pytest.fail(
        f"{call} returned {type(result).__name__} without raising ValueError. A generator "
        "function runs nothing until the first next(): check the level first, then return "
        "a generator expression.",
        pytrace=False,
    )


def test_at_least_is_lazy(ex05: ModuleType) -> None:
    """at_least pulls events only until it has the ones asked for, on an endless input."""
    levels = itertools.cycle(["INFO", "DEBUG", "ERROR"])
    source = Endless(ex05.Event(START, level, "api") for level in levels)
    errors = list(itertools.islice(ex05.at_least(source, "ERROR"), 4))
    assert len(errors) == 4 and source.pulled == 12, (
        f"the 4th ERROR is the 12th event: expected 4 events after 12 pulls, got "
        f"{len(errors)} after {source.pulled}"
    )


# --- counts_per_window ---------------------------------------------------------------------------


def events_at(ex05: ModuleType, seconds_and_services: list[tuple[int, str]]) -> list[Any]:
    return [
        ex05.Event(START + timedelta(seconds=second), "ERROR", service)
        for second, service in seconds_and_services
    ]


def test_counts_per_window_counts_each_service_per_window(ex05: ModuleType) -> None:
    """Each window yields its start and a Counter per service; empty windows are skipped."""
    events = events_at(
        ex05,
        [(0, "api"), (30, "api"), (59, "auth"), (60, "api"), (185, "auth"), (190, "auth")],
    )
    got = list(ex05.counts_per_window(iter(events), 60))
    minute = timedelta(minutes=1)
    expected = [
        (START, Counter({"api": 2, "auth": 1})),
        (START + minute, Counter({"api": 1})),
        (START + 3 * minute, Counter({"auth": 2})),
    ]
    assert got == expected, (
        f"counts_per_window(<events at 0, 30, 59, 60, 185, 190 s>, 60) gave {got!r}"
    )


def test_counts_per_window_aligns_windows_on_whole_multiples(ex05: ModuleType) -> None:
    """A window starts on a whole multiple of its width (a 60 s window on the minute)."""
    events = events_at(ex05, [(75, "api"), (100, "api")])
    got = [start for start, _ in ex05.counts_per_window(iter(events), 60)]
    assert got == [START + timedelta(minutes=1)], (
        f"events at 00:01:15 and 00:01:40 with 60 s windows: expected one window starting "
        f"00:01:00, got starts {got!r}"
    )


def test_counts_per_window_yields_each_window_as_soon_as_it_is_complete(ex05: ModuleType) -> None:
    """On an endless input, a window comes out when the first event of a later window arrives."""
    source = Endless(
        ex05.Event(START + timedelta(seconds=10 * k), "ERROR", "api") for k in itertools.count()
    )
    windows = list(itertools.islice(ex05.counts_per_window(source, 60), 2))
    assert [counts["api"] for _, counts in windows] == [6, 6], (
        f"one event every 10 s: each 60 s window holds 6, got {windows!r}"
    )
    assert source.pulled == 13, (
        f"the first two windows are complete when the 13th event (second 120) arrives; "
        f"counts_per_window pulled {source.pulled} events"
    )


@pytest.mark.parametrize("seconds", [0, -60])
def test_counts_per_window_refuses_a_width_below_one_second(ex05: ModuleType, seconds: int) -> None:
    """A width below 1 second raises ValueError at the call."""
    call = call_repr("counts_per_window", "<events>", seconds)
    try:
        result = ex05.counts_per_window(iter([]), seconds)
    except ValueError:
        return
    pytest.fail(
        f"{call} returned {type(result).__name__} without raising ValueError: "
        "check the argument before returning the generator",
        pytrace=False,
    )


def test_counts_per_window_refuses_events_out_of_time_order(ex05: ModuleType) -> None:
    """An event older than the window being filled raises ValueError naming the timestamps."""
    events = events_at(ex05, [(0, "api"), (70, "api"), (10, "api")])
    try:
        got = list(ex05.counts_per_window(iter(events), 60))
    except ValueError as error:
        assert "00:00:10" in str(error), (
            f"the ValueError should name the late event's time (00:00:10), said {str(error)!r}"
        )
        return
    pytest.fail(
        f"events at 0, 70 then 10 s gave {got!r}; the one at 10 s is older than the open "
        "window and should raise ValueError",
        pytrace=False,
    )


# --- top_k ------------------------------------------------------------------------------------


def test_top_k_takes_the_largest_counts_ties_alphabetical(ex05: ModuleType) -> None:
    """top_k returns the k largest counts, most first, ties in alphabetical order."""
    counts = {"search": 3, "auth": 5, "api": 3, "billing": 1}
    got = ex05.top_k(counts, 3)
    expected = [("auth", 5), ("api", 3), ("search", 3)]
    assert got == expected, (
        f"{call_repr('top_k', counts, 3)} returned {got!r}, expected {expected!r}"
    )
    got = ex05.top_k(Counter({"api": 2}), 5)
    assert got == [("api", 2)], f"top_k(Counter({{'api': 2}}), 5) returned {got!r}"


def test_top_k_refuses_k_below_one(ex05: ModuleType) -> None:
    """k below 1 raises ValueError."""
    try:
        result = ex05.top_k({"api": 1}, 0)
    except ValueError:
        return
    pytest.fail(
        f"top_k({{'api': 1}}, 0) returned {result!r} instead of raising ValueError", pytrace=False
    )


# --- first_errors --------------------------------------------------------------------------------


def test_first_errors_stops_reading_at_the_nth_error(ex05: ModuleType) -> None:
    """The first 10 errors of an endless input, reading no line after the 10th error."""
    source = Endless(endless_lines())
    report = ParseReport()
    errors = ex05.first_errors(source, 10, report)
    # Errors sit on lines divisible by 5 but not by 7: 5, 10, 15, 20, 25, 30, 40, 45, 50, 55.
    seconds = [int((event.at - START).total_seconds()) for event in errors]
    assert seconds == [5, 10, 15, 20, 25, 30, 40, 45, 50, 55], (
        f"first_errors(<endless lines>, 10, report) returned events at lines {seconds}"
    )
    assert source.pulled == 55, (
        f"the 10th error is on line 55, but first_errors read {source.pulled} lines"
    )
    assert report.malformed == 7, (
        f"lines 7, 14, ..., 49 (7 of them) are malformed; report.malformed is {report.malformed}"
    )


def test_first_errors_returns_all_when_there_are_fewer(ex05: ModuleType) -> None:
    """A finite input with fewer than n errors gives all of them; n below 0 is refused."""
    lines = [line(1, "error"), line(2, "info"), line(3, "critical")]
    got = [event.level for event in ex05.first_errors(lines, 10, ParseReport())]
    assert got == ["ERROR", "CRITICAL"], f"first_errors(<3 lines, 2 errors>, 10) gave {got}"
    try:
        result = ex05.first_errors(lines, -1, ParseReport())
    except ValueError:
        return
    pytest.fail(
        f"first_errors(<lines>, -1, report) returned {result!r} instead of raising ValueError",
        pytrace=False,
    )
