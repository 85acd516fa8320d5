"""Fake time for the retry lesson: a sleep that only records, and the clocks it moves.

What is it for?
    A retry policy takes ``sleep``, a monotonic ``clock`` and a ``wall_clock``
    as arguments. Give it these three and a whole minute of backoff runs in
    microseconds, with every pause recorded for an assert.

When NOT to use it: anywhere real time matters (a server's read timeout,
a benchmark). It is a test double, not a scheduler.
"""

from __future__ import annotations

from types import SimpleNamespace

__all__ = ["EPOCH", "FakeTime"]

EPOCH = 1_800_000_000.0  # where the fake wall clock starts: 2027-01-15 08:00:00 UTC


class FakeTime:
    """A monotonic clock, a wall clock and a sleep that only records and moves time on.

    ``sleep(s)`` appends ``s`` to ``sleeps`` and moves ``now`` forward; a test
    can also move ``now`` itself to stand for an attempt that took a while.

    ``start`` is where the monotonic clock begins. The real ``time.monotonic()``
    has no defined starting point (only differences between two readings
    mean anything), so code that works only from 0 is wrong: start elsewhere
    (``FakeTime(start=1000.0)``) to catch it.
    """

    def __init__(self, start: float = 0.0) -> None:
        self.start = start
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        """The fake monotonic clock: ``start`` plus the seconds passed; pass as a policy's ``clock``."""
        return self.now

    def wall(self) -> float:
        """Seconds since the epoch; pass as ``wall_clock`` (for Retry-After dates)."""
        return EPOCH + (self.now - self.start)

    def sleep(self, seconds: float) -> None:
        """Record the pause and let the fake time pass, at once."""
        self.sleeps.append(seconds)
        self.now += seconds

    def as_time_module(self) -> SimpleNamespace:
        """A stand-in for the ``time`` module, for a library that reads the clock itself.

        tenacity calls ``time.monotonic()`` with no way to inject a clock; patch
        its ``time`` with this (``mock.patch.object(tenacity, "time", ...)``).
        """
        return SimpleNamespace(monotonic=self.clock, time=self.wall, sleep=self.sleep)
