"""Exercise 07: a retry policy that survives production.

You write three pieces; ``retry_after_seconds`` is given.

1. ``is_transient(error)``: is this failure worth another try?
   Yes for httpx transport errors (``httpx.TransportError``: connect errors,
   timeouts, dropped connections) and for ``httpx.HTTPStatusError`` with a
   status in ``TRANSIENT_STATUSES`` (429, 502, 503, 504). No for anything else.
2. ``full_jitter_delay(attempt, ...)``: the pause after failed attempt number
   ``attempt`` (1 for the first failure): one draw of
   ``rng.uniform(0, ceiling)`` where
   ``ceiling = min(max_delay, base_delay * multiplier ** (attempt - 1))``.
3. ``call_with_retry(func, ...)``: call ``func()`` until it returns, retrying
   transient errors only:

   * refuse ``max_attempts < 1`` and negative ``base_delay`` / ``max_delay``
     with ``ValueError`` before calling ``func`` at all;
   * after a transient failure, if that was attempt ``max_attempts``, give up;
   * otherwise the pause is ``full_jitter_delay(...)`` (always draw it, so the
     schedule is reproducible), raised to ``retry_after_seconds(error,
     wall_clock())`` when the server sent one, then clamped to ``max_delay``;
   * with a ``deadline`` (seconds since the first attempt, measured with
     ``clock()``): if ``elapsed + pause`` would pass it, give up now;
   * otherwise ``sleep(pause)`` and try again.

   Giving up means re-raising the last real exception (not a new one) after
   ``error.add_note(f"gave up after {attempt} attempts")``.
   A permanent error is raised at once, untouched.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx

T = TypeVar("T")

TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})


def is_transient(error: BaseException) -> bool:
    """True for httpx transport errors and HTTP 429/502/503/504; False for anything else."""
    # BEGIN SOLUTION: return True for httpx transport errors and for HTTP 429, 502, 503, 504
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code in TRANSIENT_STATUSES
    return isinstance(error, httpx.TransportError)
    # END SOLUTION


def full_jitter_delay(
    attempt: int, base_delay: float, multiplier: float, max_delay: float, rng: random.Random
) -> float:
    """One draw of ``rng.uniform(0, min(max_delay, base_delay * multiplier ** (attempt - 1)))``."""
    # BEGIN SOLUTION: draw the pause uniformly between 0 and the capped exponential ceiling
    ceiling = min(max_delay, base_delay * multiplier ** (attempt - 1))
    return rng.uniform(0, ceiling)
    # END SOLUTION


def retry_after_seconds(error: BaseException, now: float) -> float | None:
    """Seconds asked for by an HTTP error's ``Retry-After`` (seconds or HTTP date), else None.

    Given, not part of the exercise. ``now`` is the wall-clock time (seconds
    since the epoch), used to turn a date into a number of seconds.
    """
    if not isinstance(error, httpx.HTTPStatusError):
        return None
    value = error.response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


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
    # BEGIN SOLUTION: validate the settings, then call, classify, pause and retry
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    if base_delay < 0 or max_delay < 0:
        raise ValueError(
            f"delays must be >= 0 seconds, got base_delay={base_delay}, max_delay={max_delay}"
        )
    rng = random.Random() if rng is None else rng
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
                error.add_note(f"gave up after {attempt} attempts")
                raise
            pause = full_jitter_delay(attempt, base_delay, multiplier, max_delay, rng)
            asked = retry_after_seconds(error, wall_clock())
            if asked is not None:
                pause = min(max(pause, asked), max_delay)
            if deadline is not None and clock() - started + pause > deadline:
                error.add_note(f"gave up after {attempt} attempts")
                raise
        sleep(pause)
    # END SOLUTION
