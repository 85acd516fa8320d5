"""Exercise 07: a retry policy that survives production.

You write three pieces; ``retry_after_seconds`` is given (it is the lesson's
own, from ``patterns.retry``: seconds or an HTTP date, read as UTC).

1. ``is_transient(error)``: is this failure worth another try? Yes for

   * httpx transport errors (``httpx.TransportError``: connect errors,
     timeouts, a dropped connection), except ``httpx.UnsupportedProtocol``
     (a URL like ``ftp://...`` will not fix itself) and
     ``httpx.LocalProtocolError`` (our own request broke the protocol: a bug);
   * the builtin ``ConnectionError`` and ``TimeoutError`` (and their
     subclasses), which sockets and libraries other than httpx raise;
   * ``httpx.HTTPStatusError`` with a status in ``TRANSIENT_STATUSES``
     (429, 502, 503, 504).

   No for anything else, including every other ``OSError`` (a missing file
   does not appear by waiting) and every other status.
2. ``full_jitter_delay(attempt, ...)``: the pause after failed attempt number
   ``attempt`` (1 for the first failure): exactly one draw of
   ``rng.uniform(0, ceiling)`` where
   ``ceiling = min(max_delay, base_delay * multiplier ** (attempt - 1))``.
3. ``call_with_retry(func, ...)``: call ``func()`` until it returns, retrying
   transient errors only:

   * refuse ``max_attempts < 1`` and negative ``base_delay`` / ``max_delay``
     with ``ValueError`` before calling ``func`` at all;
   * a permanent error is raised at once, untouched (no note, no pause);
   * after a transient failure, if that was attempt ``max_attempts``, give up;
   * otherwise draw ``full_jitter_delay(...)`` (always, so the schedule is
     reproducible) and read ``asked = retry_after_seconds(error, wall_clock())``;
   * the draws come from ``rng``; ``rng=None`` (the default) means a fresh
     ``random.Random()``, made once before the first attempt;
   * ``Retry-After`` is a floor, never cut short: coming back before the
     server asked defeats it. The pause is ``max(drawn, asked)``, and if
     ``asked`` is more than ``max_delay``, give up at once;
   * with a ``deadline`` (seconds since the first attempt started, measured
     with ``clock()``): if ``elapsed + pause`` would pass it, give up now;
   * otherwise ``sleep(pause)`` and try again.

   Giving up means re-raising the last real exception (not a new one) after
   ``error.add_note(gave_up_note(attempt, asked))`` (given below): the note
   says how many attempts were made and, when the server sent ``Retry-After``,
   how long it asked to wait (``gave up after 2 attempts: the server asked to
   wait 3600 s``). After the last attempt there is no ``asked`` to report.
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
    # BEGIN SOLUTION: say which failures waiting can fix, as the module docstring lists
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code in TRANSIENT_STATUSES
    if isinstance(error, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return False
    return isinstance(error, httpx.TransportError | ConnectionError | TimeoutError)
    # END SOLUTION


def full_jitter_delay(
    attempt: int, base_delay: float, multiplier: float, max_delay: float, rng: random.Random
) -> float:
    """One draw of ``rng.uniform(0, min(max_delay, base_delay * multiplier ** (attempt - 1)))``."""
    # BEGIN SOLUTION: draw the pause uniformly between 0 and the capped exponential ceiling
    ceiling = min(max_delay, base_delay * multiplier ** (attempt - 1))
    return rng.uniform(0, ceiling)
    # END SOLUTION


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
    # END SOLUTION
