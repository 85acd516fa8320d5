"""Grader for ex05: a lazy pipeline for JSON-lines logs.

Checks the answers, that every stage is lazy (it works on an endless input
and pulls no more than it needs), that bad lines are counted rather than
raised, that bad arguments are refused at the call, and that ``top_k`` keeps
only about ``k`` services in memory (counted on a huge lazy mapping whose
names report their own lifetime, no memory measurement). Fixed examples give
the first sentences; generated inputs (given as generators, boundaries
included: ``k=1``, ``n=0``, empty input, blank lines) are compared with the
spec written as code, with a fixed, bounded Hypothesis profile.
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from types import ModuleType
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from patterns.course.grading import call_repr, grading_settings, load_graded
from patterns.generators import ParseReport

START = datetime(2026, 1, 1)
EPOCH = datetime(1970, 1, 1)
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# One fixed, fast profile: the same examples on every run, no shrinking (each
# message below already says what was given and what came back).
GRADING = grading_settings(15, shrink=False)


def summary(items: Iterable[Any], limit: int = 6) -> str:
    """A list for a message: its first few items, then how many more."""
    items = list(items)
    shown = ", ".join(repr(item) for item in items[:limit])
    more = f", ... ({len(items) - limit} more)" if len(items) > limit else ""
    return f"[{shown}{more}]"


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


OFFSET_HINTS = pytest.mark.hints(
    "datetime.fromisoformat reads 'Z' and '+02:00' into an aware datetime; "
    "at.astimezone(UTC).replace(tzinfo=None) is the same instant as a naive UTC time.",
    "Near year 1 or year 9999 an instant can leave the calendar once converted: astimezone "
    "then raises OverflowError, which makes it a bad timestamp too (count it, never raise).",
)


def json_line(stamp: str, level: str = "info", service: str = "api") -> str:
    return json.dumps({"at": stamp, "level": level, "service": service}) + "\n"


@OFFSET_HINTS
@pytest.mark.parametrize(
    ("stamp", "in_utc"),
    [
        ("2026-06-01T12:00:00Z", datetime(2026, 6, 1, 12, 0)),
        ("2026-06-01T12:00:30+02:00", datetime(2026, 6, 1, 10, 0, 30)),
        ("2026-06-01T00:15:00-01:30", datetime(2026, 6, 1, 1, 45)),
        ("2026-06-01T12:00:45", datetime(2026, 6, 1, 12, 0, 45)),
    ],
)
def test_parse_events_converts_a_timestamp_with_an_offset_to_utc(
    ex05: ModuleType, stamp: str, in_utc: datetime
) -> None:
    """A timestamp with an offset (Z, +02:00) becomes the same instant as a naive UTC time."""
    report = ParseReport()
    text = json_line(stamp)
    events = list(ex05.parse_events([text], report))
    call = f"parse_events([{text!r}], report)"
    expected = [ex05.Event(in_utc, "INFO", "api")]
    if not events:
        pytest.fail(
            f"{call} counted the line as malformed ({summary(report.examples)}); "
            f"{stamp!r} is a good timestamp",
            pytrace=False,
        )
    if events[0].at.tzinfo is not None:
        pytest.fail(
            f"{call} gave at={events[0].at!r}: the timestamp kept its offset. Event.at is "
            f"naive and in UTC (expected {in_utc!r}), so that events from every zone can be "
            "compared and windowed together: at.astimezone(UTC).replace(tzinfo=None)",
            pytrace=False,
        )
    assert events == expected, (
        f"{call} gave {events!r}, expected {expected!r}: a timestamp with an offset "
        "is converted to UTC, not just stripped of its offset"
    )


@OFFSET_HINTS
def test_parse_events_counts_a_timestamp_outside_the_calendar_in_utc(ex05: ModuleType) -> None:
    """A timestamp that leaves years 1-9999 once converted to UTC is counted as malformed."""
    lines = [json_line("0001-01-01T00:30:00+01:00"), json_line("9999-12-31T23:30:00-01:00")]
    report = ParseReport()
    call = f"parse_events({lines!r}, report)"
    try:
        events = list(ex05.parse_events(lines, report))
    except (OverflowError, ValueError) as error:
        pytest.fail(
            f"{call} raised {type(error).__name__}: {error}. Converted to UTC these instants "
            "fall before year 1 and after year 9999: count them as bad timestamps with "
            "report.count_malformed(...), never raise",
            pytrace=False,
        )
    assert events == [] and report.malformed == 2, (
        f"{call} gave {events!r} with report.malformed == {report.malformed}; in UTC these "
        "instants fall outside years 1 to 9999: expected no events and 2 malformed lines"
    )


def test_parsed_lines_with_offsets_fall_in_the_windows_of_their_utc_instant(
    ex05: ModuleType,
) -> None:
    """Lines with and without offsets, parsed then windowed: windows of the UTC instants."""
    stamps = [
        "2026-06-01T12:00:10",
        "2026-06-01T14:00:20+02:00",
        "2026-06-01T12:00:50Z",
        "2026-06-01T11:01:05-01:00",
    ]
    services = ["api", "api", "auth", "auth"]
    lines = [json_line(stamp, "error", svc) for stamp, svc in zip(stamps, services, strict=True)]
    call = f"counts_per_window(parse_events(<lines at {stamps}>, report), 60)"
    try:
        got = list(ex05.counts_per_window(ex05.parse_events(lines, ParseReport()), 60))
    except (TypeError, ValueError) as error:
        pytest.fail(
            f"{call} raised {type(error).__name__}: {error}. In UTC these lines are at "
            "12:00:10, 12:00:20, 12:00:50 and 12:01:05, in time order: parse_events must "
            "give naive UTC times (a timestamp with an offset is converted to UTC)",
            pytrace=False,
        )
    expected = [
        (datetime(2026, 6, 1, 12, 0), Counter({"api": 2, "auth": 1})),
        (datetime(2026, 6, 1, 12, 1), Counter({"auth": 1})),
    ]
    assert got == expected, (
        f"{call} gave {got!r}, expected {expected!r}: each line falls in the window of its "
        "UTC instant (a timestamp with an offset is converted to UTC)"
    )


# --- at_least -----------------------------------------------------------------------------------


def test_at_least_keeps_the_level_and_above(ex05: ModuleType) -> None:
    """at_least keeps the given level and every more severe one, whatever the case."""
    events = [ex05.Event(START, level, "api") for level in ex05.LEVELS]
    kept = [event.level for event in ex05.at_least(iter(events), "warning")]
    assert kept == ["WARNING", "ERROR", "CRITICAL"], (
        f"at_least(<one event per level>, 'warning') kept {kept}"
    )


@pytest.mark.hints(
    "A function with a yield in it runs nothing until the first next(). Check the level in "
    "at_least itself, then return a generator expression (or call an inner generator).",
)
def test_at_least_refuses_an_unknown_level_at_the_call(ex05: ModuleType) -> None:
    """An unknown level raises ValueError when at_least is called, before any iteration."""
    call = call_repr("at_least", "<events>", "loud")
    try:
        result = ex05.at_least(iter([]), "loud")
    except ValueError as error:
        assert "loud" in str(error).lower(), (
            f"{call} raised ValueError({str(error)!r}), which does not name the level 'loud'"
        )
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
    ties = " (ties go in alphabetical order)" if sorted(got) == sorted(expected) else ""
    assert got == expected, (
        f"{call_repr('top_k', counts, 3)} returned {got!r}, expected {expected!r}{ties}"
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


# --- top_k keeps memory at O(k) ---------------------------------------------------------------


class HugeCounts(Mapping[str, int]):
    """A mapping of ``size`` services made on the fly, that knows how many names are alive.

    Each name is created when the mapping is iterated and reports its own end
    (CPython frees an object as soon as nothing refers to it), so ``peak`` is
    the most names anyone held at once: about ``k`` for a heap, all of them
    for ``sorted()`` or a copy.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.alive = 0
        self.peak = 0
        owner = self

        class Name(str):
            __slots__ = ()

            def __del__(self) -> None:
                owner.alive -= 1

        self._name_type = Name

    @staticmethod
    def count_of(index: int) -> int:
        return (index * 7919) % 997  # many ties, no order to exploit

    def __getitem__(self, name: str) -> int:
        if not name.startswith("svc-") or not name[4:].isdigit() or int(name[4:]) >= self.size:
            raise KeyError(name)
        return self.count_of(int(name[4:]))

    def __iter__(self) -> Iterator[str]:
        for index in range(self.size):
            name = self._name_type(f"svc-{index:05d}")
            self.alive += 1
            self.peak = max(self.peak, self.alive)
            yield name
            del name

    def __len__(self) -> int:
        return self.size

    def expected_top(self, k: int) -> list[tuple[str, int]]:
        return heapq.nsmallest(
            k,
            ((f"svc-{i:05d}", self.count_of(i)) for i in range(self.size)),
            key=lambda pair: (-pair[1], pair[0]),
        )


@pytest.mark.hints(
    "sorted(), list(), Counter(counts) or dict(counts) copy every service: memory grows with "
    "the input. heapq.nsmallest(k, counts.items(), key=lambda kv: (-kv[1], kv[0])) keeps k.",
)
def test_top_k_holds_about_k_services_in_memory(ex05: ModuleType) -> None:
    """top_k keeps memory at O(k): on a huge mapping it never holds more than about k names."""
    counts = HugeCounts(5_000)
    got = ex05.top_k(counts, 3)
    expected = counts.expected_top(3)
    assert list(map(tuple, got)) == expected, (
        f"top_k(<5,000 services>, 3) returned {got!r}, expected {expected!r}"
    )
    assert counts.peak <= 3 + 10, (
        f"top_k(<5,000 services>, 3) held {counts.peak:,} service names in memory at once; "
        "the spec asks for memory O(k): keep only the k best so far, never sort or copy the "
        "whole mapping"
    )


# --- generated inputs against the spec written as code ------------------------------------------

service_names = st.text("abcdefghijklmnopqrstuvwxyz-_", min_size=1, max_size=5)


def expected_top_k(counts: Mapping[str, int], k: int) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:k]


@GRADING
@given(
    st.dictionaries(service_names, st.integers(0, 4), max_size=10),
    st.integers(min_value=1, max_value=12),
    st.booleans(),
)
@example({"api": 3}, 1, False)
@example({}, 1, False)
def test_top_k_matches_the_spec_on_generated_counts(
    ex05: ModuleType, counts: dict[str, int], k: int, as_counter: bool
) -> None:
    """Any counts and any k from 1: the k largest, most first, ties in alphabetical order."""
    given_counts: Mapping[str, int] = Counter(counts) if as_counter else counts
    got = ex05.top_k(given_counts, k)
    expected = expected_top_k(counts, k)
    ties = (
        " (ties go in alphabetical order)"
        if sorted(got, key=lambda pair: (-pair[1], pair[0])) == expected
        else ""
    )
    assert got == expected, (
        f"{call_repr('top_k', given_counts, k)} returned {got!r}, expected {expected!r}{ties}"
    )


def window_start(at: datetime, seconds: int) -> datetime:
    return EPOCH + timedelta(seconds=seconds) * ((at - EPOCH) // timedelta(seconds=seconds))


def expected_windows(events: list[Any], seconds: int) -> list[tuple[datetime, Counter[str]]]:
    windows: list[tuple[datetime, Counter[str]]] = []
    for event in events:
        start = window_start(event.at, seconds)
        if not windows or windows[-1][0] != start:
            windows.append((start, Counter()))
        windows[-1][1][event.service] += 1
    return windows


@st.composite
def timed_events(draw: st.DrawFn) -> list[tuple[timedelta, str]]:
    """(offset from a first instant, service) pairs in time order."""
    gaps = draw(st.lists(st.integers(0, 400_000_000), max_size=12))  # microseconds
    offsets = itertools.accumulate(gaps, initial=0)
    services = draw(st.lists(st.sampled_from(["api", "auth", "billing"]), min_size=len(gaps) + 1))
    count = draw(st.integers(0, len(gaps) + 1))
    return [(timedelta(microseconds=o), s) for o, s in zip(offsets, services, strict=False)][:count]


@pytest.mark.hints(
    "A window starts at event.at - (event.at - EPOCH) % timedelta(seconds=seconds); yield the "
    "open window when an event of a later one arrives, and the last one at the end.",
)
@GRADING
@given(
    timed_events(),
    st.sampled_from([1, 7, 60, 300, 3600]),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
)
def test_counts_per_window_matches_the_spec_on_generated_events(
    ex05: ModuleType, timeline: list[tuple[timedelta, str]], seconds: int, first: datetime
) -> None:
    """Any events in time order and any width: the same windows as the spec, from a generator."""
    events = [ex05.Event(first + offset, "ERROR", service) for offset, service in timeline]
    got = list(ex05.counts_per_window(iter(events), seconds))
    expected = expected_windows(events, seconds)
    aligned = (
        ""
        if all(
            start == window_start(start, seconds) for start, _ in got if isinstance(start, datetime)
        )
        else " (a window starts on a whole multiple of its width counted from EPOCH)"
    )
    shown = summary(event.at.isoformat() + " " + event.service for event in events)
    assert got == expected, (
        f"counts_per_window(<events at {shown}>, {seconds}) gave {summary(got, 3)}, "
        f"expected {summary(expected, 3)}{aligned}"
    )


@OFFSET_HINTS
@GRADING
@given(
    timed_events(),
    st.sampled_from([1, 60, 3600]),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.data(),
)
def test_windows_of_generated_lines_in_any_zone_match_the_spec(
    ex05: ModuleType,
    timeline: list[tuple[timedelta, str]],
    seconds: int,
    first: datetime,
    data: st.DataObject,
) -> None:
    """Lines in time order, each written in any zone: parsed then windowed by UTC instant."""
    instants = [(first + offset, service) for offset, service in timeline]
    lines = [json_line(data.draw(written_in_any_zone(at)), "error", s) for at, s in instants]
    expected = expected_windows([ex05.Event(at, "ERROR", s) for at, s in instants], seconds)
    call = (
        f"counts_per_window(parse_events(<lines at {summary(json.loads(x)['at'] for x in lines)}>"
        f", report), {seconds})"
    )
    try:
        got = list(ex05.counts_per_window(ex05.parse_events(iter(lines), ParseReport()), seconds))
    except (TypeError, ValueError) as error:
        pytest.fail(
            f"{call} raised {type(error).__name__}: {error}. The lines are in time order once "
            "converted to UTC: parse_events must give naive UTC times",
            pytrace=False,
        )
    assert got == expected, (
        f"{call} gave {summary(got, 3)}, expected {summary(expected, 3)} (each line falls in "
        "the window of its UTC instant: a timestamp with an offset is converted to UTC)"
    )


LEVEL_CASES = st.sampled_from(LEVELS).flatmap(
    lambda level: st.sampled_from([level, level.lower(), level.capitalize()])
)


@GRADING
@given(st.lists(st.sampled_from(LEVELS), max_size=12), LEVEL_CASES)
def test_at_least_matches_the_spec_on_generated_events(
    ex05: ModuleType, levels: list[str], level: str
) -> None:
    """Any events and any level, in any case: exactly the events at that level or above."""
    events = [ex05.Event(START + timedelta(seconds=i), lvl, "api") for i, lvl in enumerate(levels)]
    got = [event.level for event in ex05.at_least(iter(events), level)]
    threshold = LEVELS.index(level.upper())
    expected = [lvl for lvl in levels if LEVELS.index(lvl) >= threshold]
    assert got == expected, (
        f"at_least(<events at levels {summary(levels)}>, {level!r}) kept {summary(got)}, "
        f"expected {summary(expected)}"
    )


@st.composite
def written_in_any_zone(draw: st.DrawFn, in_utc: datetime) -> str:
    """``in_utc`` (naive, UTC) as ISO 8601 text: as is, with ``Z``, or as local time and offset."""
    minutes = draw(st.none() | st.integers(-(24 * 60 - 1), 24 * 60 - 1))
    if minutes is None:
        return in_utc.isoformat()
    local = in_utc.replace(tzinfo=UTC).astimezone(timezone(timedelta(minutes=minutes)))
    stamp = local.isoformat()
    return stamp.replace("+00:00", "Z") if minutes == 0 and draw(st.booleans()) else stamp


@st.composite
def log_lines(draw: st.DrawFn) -> list[tuple[str, tuple[datetime, str, str] | str | None]]:
    """(line, what it is): (at, LEVEL, service) for a good line, None for blank, 'bad' else."""
    lines: list[tuple[str, tuple[datetime, str, str] | str | None]] = []
    for kind in draw(st.lists(st.sampled_from(["good"] * 4 + ["blank", "bad"]), max_size=14)):
        if kind == "good":
            at = draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
            stamp = draw(written_in_any_zone(at))
            level = draw(LEVEL_CASES)
            service = draw(service_names)
            data: dict[str, object] = {"at": stamp, "level": level, "service": service}
            if draw(st.booleans()):
                data["host"] = "web-1"  # other keys are ignored
            lines.append((json.dumps(data) + "\n", (at, level.upper(), service)))
        elif kind == "blank":
            lines.append((draw(st.sampled_from(["\n", "   \n", "\t\n", ""])), None))
        else:
            good = {"at": START.isoformat(), "level": "error", "service": "api"}
            bad = draw(
                st.sampled_from(
                    [
                        "{not json\n",
                        "[1, 2]\n",
                        "42\n",
                        json.dumps({**good, "level": "loud"}),
                        json.dumps({**good, "level": "warn"}),
                        json.dumps({**good, "service": ""}),
                        json.dumps({**good, "at": "yesterday"}),
                        json.dumps({**good, "at": 5}),
                        json.dumps({**good, "service": None}),
                        json.dumps({"at": START.isoformat(), "level": "error"}),
                        json.dumps({"level": "error", "service": "api"}),
                    ]
                )
            )
            lines.append((bad, "bad"))
    return lines


@pytest.mark.hints(
    "Number the lines with enumerate(lines, start=1) before skipping blank ones, so a blank "
    "line still counts; a bad line goes to report.count_malformed(number, reason, line).",
)
@GRADING
@given(log_lines())
@example(
    [
        ("\n", None),
        ("{not json\n", "bad"),
        (line(1, "Error"), (START + timedelta(seconds=1), "ERROR", "api")),
        (json_line("2026-01-01T02:00:02+02:00"), (START + timedelta(seconds=2), "INFO", "api")),
        (json_line("2026-01-01T00:00:03Z"), (START + timedelta(seconds=3), "INFO", "api")),
    ]
)
def test_parse_events_matches_the_spec_on_generated_lines(
    ex05: ModuleType, lines: list[tuple[str, Any]]
) -> None:
    """Any mix of good, bad and blank lines: the good ones parsed, the bad counted by line number."""
    report = ParseReport(keep=100)
    text = [text for text, _ in lines]
    got = list(ex05.parse_events(iter(text), report))
    expected = [ex05.Event(*what) for _, what in lines if isinstance(what, tuple)]
    bad_numbers = [number for number, (_, what) in enumerate(lines, start=1) if what == "bad"]
    numbers = [example.number for example in report.examples]
    call = f"parse_events(<{len(lines)} lines: {summary(text, 4)}>, report)"
    assert got == expected, f"{call} gave {summary(got, 3)}, expected {summary(expected, 3)}"
    assert (report.parsed, report.malformed) == (len(expected), len(bad_numbers)), (
        f"{call}: report.parsed is {report.parsed} and report.malformed {report.malformed}; "
        f"expected {len(expected)} and {len(bad_numbers)}"
    )
    assert numbers == bad_numbers, (
        f"{call} counted malformed lines at {numbers}, expected {bad_numbers} (line numbers "
        "start at 1; blank lines are skipped but still counted for numbering)"
    )


class Counted:
    """A finite iterator that counts the items pulled from it."""

    def __init__(self, items: list[str]) -> None:
        self._items = iter(items)
        self.pulled = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        item = next(self._items)
        self.pulled += 1
        return item


@pytest.mark.hints(
    "list(islice(at_least(parse_events(lines, report), 'ERROR'), n)) stops right after the "
    "n-th error, and reads nothing at all when n is 0.",
)
@GRADING
@given(log_lines(), st.integers(min_value=0, max_value=5))
@example([(line(1, "error"), (START + timedelta(seconds=1), "ERROR", "api"))], 0)
def test_first_errors_matches_the_spec_on_generated_lines(
    ex05: ModuleType, lines: list[tuple[str, Any]], n: int
) -> None:
    """Any lines and any n from 0: the first n errors, reading no line after the n-th."""
    source = Counted([text for text, _ in lines])
    report = ParseReport(keep=100)
    got = ex05.first_errors(source, n, report)
    errors = [
        (number, what)
        for number, (_, what) in enumerate(lines, start=1)
        if isinstance(what, tuple) and LEVELS.index(what[1]) >= LEVELS.index("ERROR")
    ]
    expected = [ex05.Event(*what) for _, what in errors[:n]]
    needed = 0 if n == 0 else errors[n - 1][0] if len(errors) >= n else len(lines)
    call = (
        f"first_errors(<{len(lines)} lines, errors on lines {[x for x, _ in errors]}>, {n}, report)"
    )
    assert got == expected, f"{call} returned {summary(got, 3)}, expected {summary(expected, 3)}"
    assert source.pulled == needed, (
        f"{call} read {source.pulled} lines; it needs exactly {needed} "
        + ("(n is 0: read nothing)" if n == 0 else "(stop at the n-th error, or at the end)")
    )
