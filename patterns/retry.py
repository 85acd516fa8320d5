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
      errors (connect errors, timeouts, a dropped connection), the builtin
      ``ConnectionError`` and ``TimeoutError``, and HTTP 429, 502, 503, 504.
      A 404, a 400, a bad URL or a bug in the caller is raised at once.
    * The n-th pause is drawn below ``min(max_delay, base_delay * multiplier**(n-1))``
      ("full jitter" by default), so a hundred clients that failed together
      do not come back together.
    * ``Retry-After`` (seconds or an HTTP date) is a floor for the next pause,
      never cut short: coming back earlier than the server asked defeats it.
      If the server asks for longer than ``max_delay``, or than the deadline
      leaves, the policy gives up at once, with a note saying what was asked.
    * When it gives up, the last real exception is re-raised (not a wrapper),
      with a note saying how many attempts were made.
    * ``sleep``, the monotonic ``clock``, the ``wall_clock`` used for HTTP
      dates and the random source are injected, so tests never sleep.

When NOT to use it:
    * For errors that will not go away by waiting (a 400, a bad password,
      a bug): retrying only delays the failure and multiplies the load.
    * Around a call that is not idempotent (a payment POST) unless the server
      honours an idempotency key: a lost response retried is a second charge.
      ``is_transient`` cannot see the method and retries a read timeout or a
      502 after which the work may have been done; without a key, pass a
      stricter ``retry_on`` (``httpx.ConnectError | httpx.ConnectTimeout |
      httpx.PoolTimeout``: the request never left).
    * In several layers at once (client, SDK, proxy each making 3 attempts is
      27 requests). Retry in one layer, the one just above the service that
      rejects (Google's SRE book, "Handling Overload").
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
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Literal, ParamSpec, TypeVar

import httpx

__all__ = [
    "JITTER_KINDS",
    "TRANSIENT_STATUSES",
    "GiveUp",
    "JitterKind",
    "Pause",
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
#: A 408 (the server gave up waiting for our request) is left out too: it is
#: rare from a client that sends its whole request at once, a judgment call.
#: Add either with your own ``retry_on`` if your servers mean "later" by it.
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})

#: httpx transport errors that waiting will not fix: a URL whose scheme httpx
#: cannot speak (``ftp://``), and a request our own side built against the
#: protocol (a header with a newline in it). Both are bugs to fix, not blips.
_PERMANENT_TRANSPORT_ERRORS = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)


def is_transient(error: BaseException) -> bool:
    """The default answer to "is this worth another try?".

    Yes for:

    * httpx transport errors (``httpx.TransportError``: connect errors,
      timeouts, a connection the server dropped), except the two below;
    * the builtin ``ConnectionError`` and ``TimeoutError``, which sockets and
      libraries other than httpx raise (httpx's own errors do not derive from
      them, so both families are listed);
    * an ``httpx.HTTPStatusError`` whose status is in ``TRANSIENT_STATUSES``.

    A mistyped host is a ``httpx.ConnectError`` (the DNS lookup fails), so it
    looks like a blip and is retried; so is ``httpx.ProxyError``, although it
    is often a proxy misconfiguration.

    No for everything else, in particular ``httpx.UnsupportedProtocol`` (a URL
    whose scheme httpx cannot speak will not fix itself), ``httpx.LocalProtocolError`` (our request broke
    the protocol: a client-side bug) and any other ``OSError`` (a missing file
    or a refused permission does not come back by waiting).
    """
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code in TRANSIENT_STATUSES
    if isinstance(error, _PERMANENT_TRANSPORT_ERRORS):
        return False
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
    HTTP date into a duration; a date in the past asks for 0 s. Returns None
    when there is no usable header (absent, unparseable, negative): a broken
    header must not break the retry.
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
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            # HTTP dates are always GMT (RFC 9110, 5.6.7), and the asctime form
            # a recipient must accept carries no zone at all: read it as UTC.
            when = when.replace(tzinfo=UTC)
        return max(0.0, when.timestamp() - now)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


@dataclass(frozen=True)
class Pause:
    """The policy's decision after a failure: sleep ``seconds``, then try again."""

    seconds: float


@dataclass(frozen=True)
class GiveUp:
    """The policy's decision after a failure: stop, and say why in the error's note."""

    reason: str


def _check_non_negative(name: str, value: float) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number of seconds, got {value!r}")
    if math.isnan(value) or value < 0:
        raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How to retry: limits, backoff shape, what is transient, and the injected clocks.

    Build it as ``retry(...)`` (the same class under a name that reads well
    above a function); the numbers are checked right then, in
    ``__post_init__``, so a bad setting fails when the function is decorated,
    not on the first failure in production. Use it as a decorator
    (``@policy``) or as a plain call (``policy.call(f, *args)``).
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
        if not isinstance(self.rng, random.Random):
            raise TypeError(
                f"rng must be a random.Random (leave it out for a fresh one), got {self.rng!r}"
            )

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
                decision = self.decide(attempt, error, elapsed=self.clock() - started)
                if isinstance(decision, GiveUp):
                    plural = "s" if attempt != 1 else ""
                    error.add_note(
                        f"retry: gave up after {attempt} attempt{plural} ({decision.reason})"
                    )
                    raise  # the last real error, not a wrapper: callers keep their except
            self.sleep(decision.seconds)

    def decide(self, attempt: int, error: BaseException, *, elapsed: float) -> Pause | GiveUp:
        """What to do after transient failure number ``attempt``, ``elapsed`` s after the start.

        ``Retry-After`` is a floor for the pause and is never cut short: when
        the server asks for more than ``max_delay`` or than the deadline
        leaves, the only answer that both respects it and our limits is to
        stop now.
        """
        if self.max_attempts is not None and attempt >= self.max_attempts:
            return GiveUp(f"max_attempts={self.max_attempts} reached")
        pause = self.delay(attempt)  # drawn even when Retry-After wins: a reproducible rng
        asked = retry_after_seconds(error, self.wall_clock())
        if asked is not None and asked > self.max_delay:
            return GiveUp(f"Retry-After asks {asked:g}s, more than max_delay={self.max_delay:g}s")
        server_decides = asked is not None and asked > pause
        if asked is not None:
            pause = max(pause, asked)
        # An attempt that would start after the deadline is useless to the
        # caller, so stop now rather than sleep and then stop.
        if self.deadline is not None and elapsed + pause > self.deadline:
            what = (
                f"Retry-After asks {asked:g}s"
                if server_decides
                else f"the next pause is {pause:g}s"
            )
            return GiveUp(f"deadline={self.deadline:g}s: {what} and {elapsed:g}s have passed")
        return Pause(pause)

    def __call__(self, func: Callable[_P, _T]) -> Callable[_P, _T]:
        """Use the policy as a decorator."""

        @functools.wraps(func)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
            return self.call(func, *args, **kwargs)

        return wrapper


#: ``@retry(max_attempts=5, deadline=10.0)`` reads as what it does; it is
#: ``RetryPolicy`` itself, so the settings and their defaults live in one place.
retry = RetryPolicy
