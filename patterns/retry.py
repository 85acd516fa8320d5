"""Retry with exponential backoff: for transient failures only, with jitter, a cap and a deadline.

What is this pattern about?
    A call over the network can fail for a moment (a dropped connection, a
    503 while a server restarts, a 429 when you are rate-limited) and succeed
    a second later. Retrying after a pause that grows with each failure gives
    the other side time to recover without hammering it.

What does this module do?
    ``retry(...)`` builds a policy that is both a decorator and a plain call::

        @retry(max_attempts=5, deadline=10.0)
        def fetch(client: httpx.Client) -> dict:
            response = client.get("/orders/42")
            response.raise_for_status()        # turns a 503 into an exception
            return response.json()

        policy = retry(max_attempts=5)
        policy.call(fetch_once, client)        # the same policy, no decorator

    * Only transient errors are retried (``is_transient``): httpx transport
      errors (connect errors, timeouts, protocol errors) and HTTP 429, 502,
      503, 504. A 404, a 400 or a bug in the caller is raised at once.
    * The n-th pause is drawn below ``min(max_delay, base_delay * multiplier**(n-1))``
      ("full jitter" by default), so a hundred clients that failed together
      do not come back together.
    * ``Retry-After`` (seconds or an HTTP date) is a floor for the next pause,
      clamped by ``max_delay``; if honouring it would pass the deadline the
      policy gives up at once.
    * When it gives up, the last real exception is re-raised (not a wrapper),
      with a note saying how many attempts were made.
    * ``sleep``, the monotonic ``clock``, the ``wall_clock`` used for HTTP
      dates and the random source are injected, so tests never sleep.

When NOT to use it:
    * For errors that will not go away by waiting (a 400, a bad password,
      a bug): retrying only delays the failure and multiplies the load.
    * Around a call that is not idempotent (a payment POST) unless the server
      honours an idempotency key: a lost response retried is a second charge.
    * In several layers at once (client, SDK, proxy each retrying 3 times is
      27 attempts). Retry in one place, usually the outermost caller.
    * For async code, use tenacity's ``AsyncRetrying`` (or ``stamina``);
      this module is synchronous on purpose, to keep the lesson small.

TL;DR: retry transient errors only, cap the pause, add jitter, set a deadline,
and make retried writes idempotent.
"""

from __future__ import annotations

import functools
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Literal, ParamSpec, TypeVar

import httpx

__all__ = [
    "JITTER_KINDS",
    "TRANSIENT_STATUSES",
    "JitterKind",
    "RetryPolicy",
    "backoff_ceiling",
    "backoff_delay",
    "is_transient",
    "retry",
    "retry_after_seconds",
]

_P = ParamSpec("_P")
_T = TypeVar("_T")

JitterKind = Literal["none", "full", "equal"]
JITTER_KINDS: tuple[JitterKind, ...] = ("none", "full", "equal")

#: Statuses that usually mean "try again later": rate limited, bad gateway,
#: unavailable, gateway timeout. A 500 is left out: it is as often a bug as a blip.
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})


def is_transient(error: BaseException) -> bool:
    """The default answer to "is this worth another try?".

    Yes for httpx transport errors (connect errors, timeouts, protocol errors),
    the builtin ``ConnectionError`` and ``TimeoutError``, and an
    ``httpx.HTTPStatusError`` whose status is in ``TRANSIENT_STATUSES``.
    No for everything else, including ``httpx.UnsupportedProtocol`` (a wrong
    URL will not fix itself).
    """
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code in TRANSIENT_STATUSES
    if isinstance(error, httpx.UnsupportedProtocol):
        return False
    # httpx.ConnectError is NOT a ConnectionError: httpx's exceptions derive
    # from httpx.TransportError, so both families are listed.
    return isinstance(error, httpx.TransportError | ConnectionError | TimeoutError)


def backoff_ceiling(attempt: int, base_delay: float, multiplier: float, max_delay: float) -> float:
    """The largest pause after failed attempt number ``attempt`` (1-based), before jitter."""
    try:
        return min(max_delay, base_delay * multiplier ** (attempt - 1))
    except OverflowError:  # multiplier ** 2000 does not fit in a float; the cap does
        return max_delay


def backoff_delay(
    attempt: int,
    *,
    base_delay: float,
    multiplier: float,
    max_delay: float,
    jitter: JitterKind,
    rng: random.Random,
) -> float:
    """The pause after failed attempt number ``attempt`` (1-based).

    ``"none"``: exactly the ceiling. Predictable, but clients that failed
    together retry together, in synchronised waves (a retry storm).
    ``"full"``: uniform in ``[0, ceiling]``; spreads clients out the most.
    ``"equal"``: uniform in ``[ceiling/2, ceiling]``; keeps a minimum pause.
    """
    ceiling = backoff_ceiling(attempt, base_delay, multiplier, max_delay)
    if jitter == "none":
        return ceiling
    if jitter == "full":
        return rng.uniform(0, ceiling)
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def retry_after_seconds(error: BaseException, now: float) -> float | None:
    """Seconds the server asked us to wait, from the ``Retry-After`` of an HTTP error.

    ``now`` is the wall-clock time (seconds since the epoch) used to turn an
    HTTP date into a duration. Returns None when there is no usable header
    (absent, unparseable, negative): a broken header must not break the retry.
    """
    if not isinstance(error, httpx.HTTPStatusError):
        return None
    value = error.response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive date is read as UTC
            return None
        return max(0.0, when.timestamp() - now)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def _check_non_negative(name: str, value: float) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number of seconds, got {value!r}")
    if math.isnan(value) or value < 0:
        raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")


@dataclass(frozen=True)
class RetryPolicy:
    """How to retry: limits, backoff shape, what is transient, and the injected clocks.

    Build it with ``retry(...)``, which checks the numbers; use it as a
    decorator (``@policy``) or as a plain call (``policy.call(f, *args)``).
    """

    max_attempts: int | None = 5
    deadline: float | None = None  # seconds from the first attempt; None: no deadline
    base_delay: float = 0.1
    multiplier: float = 2.0
    max_delay: float = 10.0
    jitter: JitterKind = "full"
    retry_on: Callable[[BaseException], bool] = is_transient
    sleep: Callable[[float], object] = time.sleep
    clock: Callable[[], float] = time.monotonic  # for the deadline: never jumps
    wall_clock: Callable[[], float] = time.time  # for Retry-After dates: calendar time
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        if self.max_attempts is not None:
            if not isinstance(self.max_attempts, int) or isinstance(self.max_attempts, bool):
                raise TypeError(f"max_attempts must be an int or None, got {self.max_attempts!r}")
            if self.max_attempts < 1:
                raise ValueError(
                    f"max_attempts must be at least 1 (1 means: call once, never retry), "
                    f"got {self.max_attempts}"
                )
        if self.deadline is not None:
            _check_non_negative("deadline", self.deadline)
        if self.max_attempts is None and self.deadline is None:
            raise ValueError(
                "give max_attempts, deadline or both: a retry with neither never gives up"
            )
        _check_non_negative("base_delay", self.base_delay)
        _check_non_negative("max_delay", self.max_delay)
        _check_non_negative("multiplier", self.multiplier)
        if self.multiplier < 1:
            raise ValueError(
                f"multiplier must be >= 1 (1 keeps the pause constant), got {self.multiplier!r}"
            )
        if self.jitter not in JITTER_KINDS:
            raise ValueError(f"jitter must be one of {JITTER_KINDS}, got {self.jitter!r}")

    def delay(self, attempt: int) -> float:
        """The backoff pause after failed attempt ``attempt``, before ``Retry-After``."""
        return backoff_delay(
            attempt,
            base_delay=self.base_delay,
            multiplier=self.multiplier,
            max_delay=self.max_delay,
            jitter=self.jitter,
            rng=self.rng,
        )

    def call(self, func: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Call ``func(*args, **kwargs)`` under this policy and return its result."""
        started = self.clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                return func(*args, **kwargs)
            except Exception as error:  # not BaseException: Ctrl-C must stop us at once
                if not self.retry_on(error):
                    raise  # permanent: the caller sees the error as it was, at once
                pause, give_up = self._plan(attempt, error, started)
                if give_up:
                    plural = "s" if attempt != 1 else ""
                    error.add_note(f"retry: gave up after {attempt} attempt{plural} ({give_up})")
                    raise  # the last real error, not a wrapper: callers keep their except
            self.sleep(pause)

    def _plan(self, attempt: int, error: Exception, started: float) -> tuple[float, str]:
        """The pause before the next attempt, or a reason to give up (non-empty string)."""
        if self.max_attempts is not None and attempt >= self.max_attempts:
            return 0.0, f"max_attempts={self.max_attempts} reached"
        pause = self.delay(attempt)
        asked = retry_after_seconds(error, self.wall_clock())
        honoured = asked is not None and asked > pause
        if asked is not None:
            pause = min(max(pause, asked), self.max_delay)  # a floor, clamped by the cap
        if self.deadline is not None:
            elapsed = self.clock() - started
            # An attempt that would start after the deadline is useless to the
            # caller, so stop now rather than sleep and then stop.
            if elapsed + pause > self.deadline:
                what = (
                    f"Retry-After asks {asked:g}s" if honoured else f"the next pause is {pause:g}s"
                )
                return 0.0, (f"deadline={self.deadline:g}s: {what} and {elapsed:g}s have passed")
        return pause, ""

    def __call__(self, func: Callable[_P, _T]) -> Callable[_P, _T]:
        """Use the policy as a decorator."""

        @functools.wraps(func)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
            return self.call(func, *args, **kwargs)

        return wrapper


def retry(
    *,
    max_attempts: int | None = 5,
    deadline: float | None = None,
    base_delay: float = 0.1,
    multiplier: float = 2.0,
    max_delay: float = 10.0,
    jitter: JitterKind = "full",
    retry_on: Callable[[BaseException], bool] = is_transient,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
    rng: random.Random | None = None,
) -> RetryPolicy:
    """A retry policy, usable as ``@retry(...)`` or ``retry(...).call(func, *args)``.

    Bad settings (``max_attempts < 1``, negative delays, an unknown jitter)
    raise ``ValueError`` here, when the function is decorated, not on the
    first failure in production.
    """
    return RetryPolicy(
        max_attempts=max_attempts,
        deadline=deadline,
        base_delay=base_delay,
        multiplier=multiplier,
        max_delay=max_delay,
        jitter=jitter,
        retry_on=retry_on,
        sleep=sleep,
        clock=clock,
        wall_clock=wall_clock,
        rng=random.Random() if rng is None else rng,
    )
