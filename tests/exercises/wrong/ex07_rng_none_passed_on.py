"""ex07 wrong: rng is passed on as given, so a call without one (rng=None, the default) crashes at the first pause.

grader says: rng=None means a fresh random.Random()
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import httpx

from patterns.retry import TRANSIENT_STATUSES, retry_after_seconds

T = TypeVar("T")


def gave_up_note(attempts: int, asked: float | None = None) -> str:
    """The note to add to the error you re-raise when you give up. Given, not part of the exercise."""
    note = f"gave up after {attempts} attempt{'s' if attempts != 1 else ''}"
    return note if asked is None else f"{note}: the server asked to wait {asked:g} s"


def is_transient(error: BaseException) -> bool:
    """True for network blips and busy servers (see the module docstring); False otherwise."""
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code in TRANSIENT_STATUSES
    if isinstance(error, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return False
    return isinstance(error, httpx.TransportError | ConnectionError | TimeoutError)


def full_jitter_delay(
    attempt: int, base_delay: float, multiplier: float, max_delay: float, rng: random.Random
) -> float:
    """One draw of ``rng.uniform(0, min(max_delay, base_delay * multiplier ** (attempt - 1)))``."""
    ceiling = min(max_delay, base_delay * multiplier ** (attempt - 1))
    return rng.uniform(0, ceiling)


def call_with_retry(
    func: Callable[[], T],
    *,
    max_attempts: int = 5,
    deadline: float | None = None,
    base_delay: float = 0.1,
    multiplier: float = 2.0,
    max_delay: float = 10.0,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
    rng: random.Random | None = None,
) -> T:
    """Call ``func()``, retrying transient errors with capped full-jitter backoff.

    See the module docstring for the exact rules.
    """
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    if base_delay < 0 or max_delay < 0:
        raise ValueError(
            f"delays must be >= 0 seconds, got base_delay={base_delay}, max_delay={max_delay}"
        )
    started = clock()
    attempt = 0
    while True:
        attempt += 1
        try:
            return func()
        except Exception as error:
            if not is_transient(error):
                raise
            if attempt >= max_attempts:
                error.add_note(gave_up_note(attempt))
                raise
            drawn = full_jitter_delay(attempt, base_delay, multiplier, max_delay, rng)
            asked = retry_after_seconds(error, wall_clock())
            pause = drawn if asked is None else max(drawn, asked)
            server_asks_too_much = asked is not None and asked > max_delay
            if server_asks_too_much or (
                deadline is not None and clock() - started + pause > deadline
            ):
                error.add_note(gave_up_note(attempt, asked))
                raise
        sleep(pause)
