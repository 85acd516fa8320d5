"""Fakes shared by the retry unit tests and the ex07 grader.

``FakeTime.sleep`` records the pause and moves both fake clocks forward, so no
test ever sleeps. Each test module keeps its own small fixtures around it.
"""

from __future__ import annotations

API = "https://api.example.test"
EPOCH = 1_800_000_000.0  # the fake wall clock starts here (2027-01-15)


class FakeTime:
    """A monotonic clock, a wall clock and a sleep that only records and moves time on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return EPOCH + self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
