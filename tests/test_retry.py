# ruff: noqa: F811  (api, client, fake are pytest fixtures imported from tests.retry_fakes)
"""Unit tests of patterns.retry: respx scripts the failures, a fake clock records every pause.

Nothing here sleeps: ``FakeTime.sleep`` records the pause and moves the fake
clocks forward. Each test leaves the simulated seconds in its report
(``user_properties``) so ``benchmarks/bench_retry.py`` can add them up.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx
import tenacity
from hypothesis import given, settings
from hypothesis import strategies as st

from patterns.retry import (
    TRANSIENT_STATUSES,
    RetryPolicy,
    backoff_ceiling,
    backoff_delay,
    is_transient,
    retry,
    retry_after_seconds,
)
from tests.retry_fakes import (  # noqa: F401
    API,
    EPOCH,
    FakeTime,
    api,
    client,
    fake,
    status_error,
)


def fetch_order(client: httpx.Client) -> Any:
    """The fixed client call: raise_for_status() turns a 503 into an exception."""
    response = client.get("/orders/42")
    response.raise_for_status()
    return response.json()


def policy_for(fake: FakeTime, **overrides: Any) -> RetryPolicy:
    settings: dict[str, Any] = {
        "max_attempts": 5,
        "base_delay": 1.0,
        "multiplier": 2.0,
        "max_delay": 30.0,
        "jitter": "none",
        "sleep": fake.sleep,
        "clock": fake.clock,
        "wall_clock": fake.wall,
        "rng": random.Random(7),
    }
    settings.update(overrides)
    return retry(**settings)


# -- the textbook decorator, copied as published, and why it never retries --


def naive_retry(
    max_attempts: int = 3, base_delay: float = 1.0, backoff: float = 2.0
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            last_exception = None
            for attempt in range(max_attempts):
                try:
                    return func(*args, **kwargs)
                except (ConnectionError, TimeoutError) as e:
                    last_exception = e
                    if attempt < max_attempts - 1:
                        delay = base_delay * (backoff**attempt)
                        time.sleep(delay)
            raise last_exception  # type: ignore[misc]

        return wrapper

    return decorator


@naive_retry(max_attempts=5, base_delay=0.5)
def naive_call_external_api(endpoint: str) -> Any:
    return httpx.get(endpoint, timeout=2.0).json()


@pytest.fixture
def real_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Replaces time.sleep for the textbook decorator, which calls it directly."""
    calls: list[float] = []
    monkeypatch.setattr(time, "sleep", calls.append)
    return calls


def test_httpx_errors_are_not_builtin_connection_errors() -> None:
    assert not issubclass(httpx.ConnectError, ConnectionError)
    assert not issubclass(httpx.ReadTimeout, TimeoutError)
    assert issubclass(httpx.ConnectError, httpx.TransportError)


def test_textbook_decorator_never_retries_an_httpx_connect_error(
    api: respx.MockRouter, real_sleeps: list[float]
) -> None:
    route = api.get("/orders/42").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json={"id": 42})]
    )
    with pytest.raises(httpx.ConnectError):
        naive_call_external_api(f"{API}/orders/42")
    assert route.call_count == 1, "one attempt: the second (successful) one is never made"
    assert real_sleeps == []


def test_textbook_decorator_never_retries_a_503(
    api: respx.MockRouter, real_sleeps: list[float]
) -> None:
    route = api.get("/orders/42").mock(
        side_effect=[
            httpx.Response(503, json={"error": "unavailable"}),
            httpx.Response(200, json={"id": 42}),
        ]
    )
    result = naive_call_external_api(f"{API}/orders/42")
    assert result == {"error": "unavailable"}, "the 503's body comes back as if it were data"
    assert route.call_count == 1
    assert real_sleeps == []


def test_textbook_decorator_with_zero_attempts_raises_none() -> None:
    @naive_retry(max_attempts=0)
    def never_called() -> None:
        raise AssertionError("not reached")

    with pytest.raises(TypeError, match="exceptions must derive from BaseException"):
        never_called()


# -- what is retried ----------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.ConnectTimeout("slow"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.Response(429),
        httpx.Response(502),
        httpx.Response(503),
        httpx.Response(504),
    ],
    ids=["connect", "read-timeout", "connect-timeout", "dropped", "429", "502", "503", "504"],
)
def test_transient_failures_are_retried_until_success(
    client: httpx.Client, api: respx.MockRouter, fake: FakeTime, failure: Exception | httpx.Response
) -> None:
    route = api.get("/orders/42").mock(
        side_effect=[failure, failure, httpx.Response(200, json={"id": 42})]
    )
    assert policy_for(fake).call(fetch_order, client) == {"id": 42}
    assert route.call_count == 3
    assert fake.sleeps == [1.0, 2.0]


@pytest.mark.parametrize("status", [400, 401, 404, 409, 422, 500])
def test_permanent_http_errors_are_raised_at_once(
    client: httpx.Client, api: respx.MockRouter, fake: FakeTime, status: int
) -> None:
    route = api.get("/orders/42").mock(return_value=httpx.Response(status))
    with pytest.raises(httpx.HTTPStatusError) as caught:
        policy_for(fake).call(fetch_order, client)
    assert caught.value.response.status_code == status
    assert route.call_count == 1
    assert fake.sleeps == []


@pytest.mark.parametrize(
    "failure", [KeyError("amount"), KeyboardInterrupt()], ids=["bug", "ctrl-c"]
)
def test_a_bug_or_an_interrupt_is_raised_at_once(fake: FakeTime, failure: BaseException) -> None:
    calls: list[int] = []

    @policy_for(fake)
    def failing() -> None:
        calls.append(1)
        raise failure

    with pytest.raises(type(failure)):
        failing()
    assert calls == [1]
    assert fake.sleeps == []


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (httpx.ConnectError("refused"), True),
        (httpx.ReadTimeout("slow"), True),
        (httpx.PoolTimeout("pool full"), True),
        (httpx.RemoteProtocolError("Server disconnected"), True),
        (httpx.ReadError("reset"), True),
        (ConnectionResetError(), True),  # the builtins, raised by sockets and other libraries
        (TimeoutError(), True),
        (httpx.UnsupportedProtocol("ftp://"), False),  # a wrong URL will not fix itself
        (httpx.LocalProtocolError("bad header"), False),  # our request broke HTTP: a bug
        (FileNotFoundError("orders.csv"), False),  # an OSError, but not a network blip
        (PermissionError(), False),
        (status_error(429), True),
        (status_error(503), True),
        (status_error(500), False),
        (status_error(404), False),
        (ValueError("bad input"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_is_transient_says_which_failures_waiting_can_fix(
    error: BaseException, transient: bool
) -> None:
    assert is_transient(error) is transient


def test_the_transient_statuses_are_429_502_503_504() -> None:
    assert {429, 502, 503, 504} == TRANSIENT_STATUSES


def test_the_caller_can_widen_what_is_retried(
    client: httpx.Client, api: respx.MockRouter, fake: FakeTime
) -> None:
    route = api.get("/orders/42").mock(
        side_effect=[httpx.Response(500), httpx.Response(200, json={"id": 42})]
    )

    def also_500(error: BaseException) -> bool:
        return is_transient(error) or (
            isinstance(error, httpx.HTTPStatusError) and error.response.status_code == 500
        )

    assert policy_for(fake, retry_on=also_500).call(fetch_order, client) == {"id": 42}
    assert route.call_count == 2


def test_the_caller_can_narrow_what_is_retried(
    client: httpx.Client, api: respx.MockRouter, fake: FakeTime
) -> None:
    route = api.get("/orders/42").mock(return_value=httpx.Response(429))

    def never_429(error: BaseException) -> bool:
        status = getattr(getattr(error, "response", None), "status_code", None)
        return is_transient(error) and status != 429

    with pytest.raises(httpx.HTTPStatusError):
        policy_for(fake, retry_on=never_429).call(fetch_order, client)
    assert route.call_count == 1


# -- the schedule ---------------------------------------------------------------


def test_exponential_schedule_is_capped(
    client: httpx.Client, api: respx.MockRouter, fake: FakeTime
) -> None:
    api.get("/orders/42").mock(side_effect=httpx.ConnectError("refused"))
    policy = policy_for(fake, max_attempts=8, base_delay=1.0, multiplier=2.0, max_delay=10.0)
    with pytest.raises(httpx.ConnectError):
        policy.call(fetch_order, client)
    assert fake.sleeps == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]


def test_full_jitter_draws_below_the_ceiling_from_the_injected_rng(fake: FakeTime) -> None:
    expected_rng = random.Random(3)
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0]
    expected = [expected_rng.uniform(0, c) for c in ceilings]

    @policy_for(fake, max_attempts=6, base_delay=0.5, max_delay=4.0, jitter="full",
                rng=random.Random(3))  # fmt: skip
    def down() -> None:
        raise httpx.ConnectError("refused")

    with pytest.raises(httpx.ConnectError):
        down()
    assert fake.sleeps == expected
    assert all(0 <= s <= c for s, c in zip(fake.sleeps, ceilings, strict=True))


def test_equal_jitter_keeps_at_least_half_the_ceiling() -> None:
    rng = random.Random(1)
    for attempt in range(1, 12):
        ceiling = backoff_ceiling(attempt, 0.2, 2.0, 5.0)
        delay = backoff_delay(
            attempt, base_delay=0.2, multiplier=2.0, max_delay=5.0, jitter="equal", rng=rng
        )
        assert ceiling / 2 <= delay <= ceiling


def test_the_same_seed_gives_the_same_schedule() -> None:
    def schedule(seed: int) -> list[float]:
        fake = FakeTime()

        @policy_for(fake, jitter="full", rng=random.Random(seed))
        def down() -> None:
            raise httpx.ReadTimeout("slow")

        with pytest.raises(httpx.ReadTimeout):
            down()
        return fake.sleeps

    assert schedule(11) == schedule(11)
    assert schedule(11) != schedule(12)


def test_a_huge_attempt_number_does_not_overflow() -> None:
    assert backoff_ceiling(5000, 1.0, 2.0, 60.0) == 60.0


@settings(max_examples=60)
@given(
    attempt=st.integers(1, 200),
    base=st.floats(0, 10),
    multiplier=st.floats(1, 10),
    cap=st.floats(0, 600),
    jitter=st.sampled_from(["none", "full", "equal"]),
    seed=st.integers(0, 2**32),
)
def test_every_pause_is_between_zero_and_the_cap(
    attempt: int, base: float, multiplier: float, cap: float, jitter: Any, seed: int
) -> None:
    delay = backoff_delay(
        attempt,
        base_delay=base,
        multiplier=multiplier,
        max_delay=cap,
        jitter=jitter,
        rng=random.Random(seed),
    )
    assert 0 <= delay <= cap


# -- Retry-After ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "settings", "expected"),
    [
        ([(429, "7"), (503, None)], {}, [7.0, 2.0]),  # 7 s as asked, then the normal backoff
        ([(503, "30")], {"max_delay": 30.0}, [30.0]),  # exactly the cap is still honoured
        ([(503, "0")], {"base_delay": 4.0}, [4.0]),  # below the backoff: the backoff stands
        ([(503, "date+25")], {}, [25.0]),  # an HTTP date, read with the injected wall clock
    ],
    ids=["seconds", "at-the-cap", "below-the-backoff", "http-date"],
)
def test_retry_after_is_a_floor_for_the_next_pause(
    client: httpx.Client,
    api: respx.MockRouter,
    fake: FakeTime,
    answers: list[tuple[int, str | None]],
    settings: dict[str, Any],
    expected: list[float],
) -> None:
    in_25_s = format_datetime(datetime.fromtimestamp(EPOCH + 25, UTC), usegmt=True)
    responses = [
        httpx.Response(status, headers={"Retry-After": value.replace("date+25", in_25_s)})
        if value is not None
        else httpx.Response(status)
        for status, value in answers
    ]
    api.get("/orders/42").mock(side_effect=[*responses, httpx.Response(200, json={"id": 42})])
    assert policy_for(fake, **settings).call(fetch_order, client) == {"id": 42}
    assert fake.sleeps == expected


@pytest.mark.parametrize(
    ("settings", "retry_after", "note"),
    [
        ({"max_delay": 30.0}, "3600", "Retry-After asks 3600s, more than max_delay=30s"),
        ({"deadline": 10.0}, "20", "deadline=10s: Retry-After asks 20s and 0s have passed"),
    ],
    ids=["past-the-cap", "past-the-deadline"],
)
def test_retry_after_longer_than_allowed_gives_up_at_once(
    client: httpx.Client,
    api: respx.MockRouter,
    fake: FakeTime,
    settings: dict[str, Any],
    retry_after: str,
    note: str,
) -> None:
    """Never come back before the server asked; if we cannot wait that long, stop now."""
    route = api.get("/orders/42").mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": retry_after}),
            httpx.Response(200, json={"id": 42}),
        ]
    )
    with pytest.raises(httpx.HTTPStatusError) as caught:
        policy_for(fake, **settings).call(fetch_order, client)
    assert route.call_count == 1
    assert fake.sleeps == [], "no pointless sleep before giving up"
    assert caught.value.response.status_code == 503, "the server's own error, not a wrapper"
    assert caught.value.__notes__ == [f"retry: gave up after 1 attempt ({note})"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        (" 1.5 ", 1.5),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),  # in the past: no extra wait
        ("-5", None),
        ("soon", None),
        ("nan", None),
        ("Fri, 15 Jan 2027 08:00:30 GMT", 30.0),  # EPOCH is 2027-01-15 08:00:00 UTC
        ("Fri Jan 15 08:00:30 2027", 30.0),  # asctime: no zone written, GMT by RFC 9110
        ("Fri, 15 Jan 2027 08:00:30", 30.0),  # no zone: HTTP dates are GMT, read as UTC
        ("Fri, 15 Jan 2027 09:00:30 +0100", 30.0),  # not HTTP's form, but unambiguous
    ],
)
def test_retry_after_values_are_parsed_or_ignored(header: str, expected: float | None) -> None:
    request = httpx.Request("GET", API)
    response = httpx.Response(503, headers={"Retry-After": header}, request=request)
    error = httpx.HTTPStatusError("503", request=request, response=response)
    assert retry_after_seconds(error, now=EPOCH) == expected


# -- deadline and the final error ---------------------------------------------------


def test_deadline_stops_before_a_pause_that_would_pass_it(
    client: httpx.Client, api: respx.MockRouter, fake: FakeTime
) -> None:
    route = api.get("/orders/42").mock(side_effect=httpx.ConnectError("refused"))
    policy = policy_for(fake, max_attempts=None, deadline=60.0, max_delay=100.0)
    with pytest.raises(httpx.ConnectError) as caught:
        policy.call(fetch_order, client)
    assert fake.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0], "31 s slept; 32 more would pass 60 s"
    assert route.call_count == 6
    assert "deadline=60s" in caught.value.__notes__[-1]


def test_slow_attempts_count_against_the_deadline(fake: FakeTime) -> None:
    calls: list[float] = []

    @policy_for(fake, max_attempts=None, deadline=10.0)
    def slow_and_down() -> None:
        calls.append(fake.now)
        fake.now += 4.0  # each attempt itself takes 4 s before timing out
        raise httpx.ReadTimeout("slow")

    with pytest.raises(httpx.ReadTimeout):
        slow_and_down()
    assert calls == [0.0, 5.0], "4 s + 1 s pause, then 9 s + 2 s would pass 10 s"


def test_the_final_error_is_the_last_real_exception_with_the_attempt_count(
    fake: FakeTime,
) -> None:
    raised: list[Exception] = []

    @policy_for(fake, max_attempts=3)
    def down() -> None:
        error = httpx.ConnectError(f"refused #{len(raised) + 1}")
        raised.append(error)
        raise error

    with pytest.raises(httpx.ConnectError) as caught:
        down()
    assert caught.value is raised[-1], "the last error itself, not a wrapper"
    assert str(caught.value) == "refused #3"
    assert caught.value.__notes__ == ["retry: gave up after 3 attempts (max_attempts=3 reached)"]


def test_a_permanent_error_carries_no_retry_note(fake: FakeTime) -> None:
    @policy_for(fake)
    def bad() -> None:
        raise ValueError("bad input")

    with pytest.raises(ValueError) as caught:
        bad()
    assert not hasattr(caught.value, "__notes__")


# -- settings checked when decorating -------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"max_attempts": 0}, "max_attempts must be at least 1"),
        ({"max_attempts": -3}, "max_attempts must be at least 1"),
        ({"base_delay": -1.0}, "base_delay must be a number of seconds >= 0"),
        ({"max_delay": -0.5}, "max_delay must be a number of seconds >= 0"),
        ({"deadline": -1.0}, "deadline must be a number of seconds >= 0"),
        ({"base_delay": float("nan")}, "base_delay must be a number of seconds >= 0"),
        ({"multiplier": 0.5}, "multiplier must be >= 1"),
        ({"jitter": "fuzzy"}, "jitter must be one of"),
        ({"max_attempts": None, "deadline": None}, "never gives up"),
    ],
)
def test_bad_settings_are_refused_when_decorating(settings: dict[str, Any], message: str) -> None:
    calls: list[int] = []
    with pytest.raises(ValueError, match=message):

        @retry(**settings)
        def never_called() -> None:
            calls.append(1)

    assert calls == []


def test_a_non_number_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="max_attempts must be an int"):
        retry(max_attempts="3")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="base_delay must be a number of seconds"):
        retry(base_delay="1s")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="rng must be a random"):
        retry(rng=None)  # type: ignore[arg-type]


def test_decorator_and_plain_call_follow_the_same_policy(
    client: httpx.Client, api: respx.MockRouter, fake: FakeTime
) -> None:
    route = api.get("/orders/42").mock(side_effect=httpx.ReadTimeout("slow"))
    policy = policy_for(fake, max_attempts=4, jitter="full", rng=random.Random(5))
    decorated = policy(fetch_order)
    with pytest.raises(httpx.ReadTimeout):
        decorated(client)
    first = list(fake.sleeps)
    policy.rng.seed(5)
    with pytest.raises(httpx.ReadTimeout):
        policy.call(fetch_order, client)
    assert fake.sleeps[len(first) :] == first
    assert route.call_count == 8
    assert decorated.__name__ == "fetch_order" and "raise_for_status" in (decorated.__doc__ or "")


# -- tenacity, the library you would use in production -----------------------------------


@pytest.mark.parametrize(
    ("tenacity_wait", "ours", "seed"),
    [
        (tenacity.wait_random_exponential(multiplier=0.5, max=20.0, exp_base=2),
         {"base_delay": 0.5, "multiplier": 2.0, "max_delay": 20.0, "jitter": "full"}, seed)
        for seed in (0, 7, 2026)
    ] + [
        (tenacity.wait_exponential(multiplier=1.5, max=30.0, exp_base=3),
         {"base_delay": 1.5, "multiplier": 3.0, "max_delay": 30.0, "jitter": "none"}, 0),
    ],
    ids=["full-jitter-seed-0", "full-jitter-seed-7", "full-jitter-seed-2026", "no-jitter"],
)  # fmt: skip
def test_tenacity_gives_the_same_schedule_as_ours(
    client: httpx.Client,
    api: respx.MockRouter,
    fake: FakeTime,
    tenacity_wait: Any,
    ours: dict[str, Any],
    seed: int,
) -> None:
    api.get("/orders/42").mock(side_effect=httpx.ConnectError("refused"))
    tenacity_sleeps: list[float] = []
    tenacity_policy = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(8),
        wait=tenacity_wait,
        retry=tenacity.retry_if_exception(is_transient),
        sleep=tenacity_sleeps.append,
        reraise=True,
    )
    random.seed(seed)  # tenacity's jitter draws from the global random
    with pytest.raises(httpx.ConnectError):
        tenacity_policy(fetch_order, client)
    with pytest.raises(httpx.ConnectError):
        policy_for(fake, max_attempts=8, rng=random.Random(seed), **ours).call(fetch_order, client)
    assert fake.sleeps == tenacity_sleeps
    assert len(fake.sleeps) == 7


def tenacity_run(stop: Any, monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """Run tenacity against a server that always times out, on fake time."""
    fake_time = FakeTime()
    # tenacity reads time.monotonic() itself (it has no clock to inject): give it ours.
    monkeypatch.setattr(tenacity, "time", fake_time.as_time_module())
    policy = tenacity.Retrying(
        stop=stop,
        wait=tenacity.wait_exponential(multiplier=1.0, max=30.0),
        retry=tenacity.retry_if_exception(is_transient),
        sleep=fake_time.sleep,
        reraise=True,
    )

    def timing_out() -> None:
        raise httpx.ReadTimeout("slow")

    with pytest.raises(httpx.ReadTimeout):
        policy(timing_out)
    return fake_time


def test_our_deadline_is_tenacity_stop_before_delay_not_stop_after_delay(
    fake: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    @policy_for(fake, max_attempts=None, deadline=10.0)
    def timing_out() -> None:
        raise httpx.ReadTimeout("slow")

    with pytest.raises(httpx.ReadTimeout):
        timing_out()
    before = tenacity_run(tenacity.stop_before_delay(10), monkeypatch)
    after = tenacity_run(tenacity.stop_after_delay(10), monkeypatch)
    assert fake.sleeps == before.sleeps == [1.0, 2.0, 4.0], "stops before passing 10 s"
    assert after.sleeps == [1.0, 2.0, 4.0, 8.0] and after.now == 15.0, "sleeps past 10 s"


def test_tenacity_retries_every_exception_unless_told_otherwise() -> None:
    calls: list[int] = []

    def buggy() -> None:
        calls.append(1)
        raise KeyError("amount")  # a bug: no amount of waiting fixes it

    slept: list[float] = []
    policy = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(4), sleep=slept.append, reraise=True
    )
    with pytest.raises(KeyError):
        policy(buggy)
    assert len(calls) == 4 and len(slept) == 3
