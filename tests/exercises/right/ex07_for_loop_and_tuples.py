"""ex07 right, written differently: a for loop over the attempts, class tuples,
a ceiling grown by multiplication, the deadline as "time left", and other note wording."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import httpx

from patterns.retry import TRANSIENT_STATUSES, retry_after_seconds

T = TypeVar("T")

NEVER_RETRIED = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)
NETWORK_BLIPS = (httpx.TransportError, ConnectionError, TimeoutError)


def is_transient(error: BaseException) -> bool:
    response = getattr(error, "response", None)
    if isinstance(error, httpx.HTTPStatusError) and response is not None:
        return response.status_code in TRANSIENT_STATUSES
    return isinstance(error, NETWORK_BLIPS) and not isinstance(error, NEVER_RETRIED)


def full_jitter_delay(
    attempt: int, base_delay: float, multiplier: float, max_delay: float, rng: random.Random
) -> float:
    ceiling = base_delay
    for _ in range(attempt - 1):
        ceiling *= multiplier
    return rng.uniform(0, min(ceiling, max_delay))


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
    for name, value in (("base_delay", base_delay), ("max_delay", max_delay)):
        if value < 0:
            raise ValueError(f"{name} cannot be negative: {value}")
    if max_attempts < 1:
        raise ValueError("at least one attempt is needed")
    draw = rng or random.Random()
    start = clock()
    for attempt in range(1, max_attempts + 1):
        try:
            return func()
        except Exception as failure:
            if not is_transient(failure):
                raise
            counted = f"retry gave up after {attempt} attempt" + ("s" if attempt > 1 else "")
            if attempt == max_attempts:
                failure.add_note(counted)
                raise
            jittered = full_jitter_delay(attempt, base_delay, multiplier, max_delay, draw)
            server = retry_after_seconds(failure, wall_clock())
            if server is not None and server > max_delay:
                failure.add_note(f"{counted} (Retry-After {server:.0f}s exceeds the cap)")
                raise
            wait = max(jittered, server) if server is not None else jittered
            if deadline is not None:
                left = deadline - (clock() - start)
                if wait > left:
                    why = "" if server is None else f" (Retry-After {server:.0f}s)"
                    failure.add_note(counted + why)
                    raise
            sleep(wait)
    raise AssertionError("unreachable: the last attempt returns or raises")
