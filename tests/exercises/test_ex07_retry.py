"""Grader for ex07: retry with capped full-jitter backoff, Retry-After and a deadline.

respx plays the server; a fake clock records every pause, so nothing sleeps.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from types import ModuleType
from typing import Any

import httpx
import pytest
import respx

from patterns.course.grading import call_repr, load_graded
from tests.retry_fakes import API, EPOCH, FakeTime


@pytest.fixture
def ex07() -> ModuleType:
    return load_graded("ex07")


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> Iterator[FakeTime]:
    fake_time = FakeTime()
    yield fake_time
    request.node.user_properties.append(("simulated_sleep_s", sum(fake_time.sleeps)))


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=API, assert_all_called=False) as router:
        yield router


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    # Building a client loads the CA bundle (about 30 ms): one per module, not one per test.
    # respx intercepts its requests whichever test's mock is active.
    with httpx.Client(base_url=API) as shared:
        yield shared


def fetcher(client: httpx.Client) -> Callable[[], Any]:
    def fetch() -> Any:
        response = client.get("/orders/42")
        response.raise_for_status()
        return response.json()

    return fetch


def run(ex07: ModuleType, fake: FakeTime, func: Callable[[], Any], **settings: Any) -> Any:
    options: dict[str, Any] = {
        "max_attempts": 5,
        "base_delay": 1.0,
        "multiplier": 2.0,
        "max_delay": 30.0,
        "sleep": fake.sleep,
        "clock": fake.clock,
        "wall_clock": fake.wall,
        "rng": random.Random(7),
    }
    options.update(settings)
    return ex07.call_with_retry(func, **options)


def full_jitter(seed: int, ceilings: list[float]) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(0, ceiling) for ceiling in ceilings]


def status_error(status: int, headers: dict[str, str] | None = None) -> httpx.HTTPStatusError:
    request = httpx.Request("GET", f"{API}/orders/42")
    response = httpx.Response(status, headers=headers, request=request)
    return httpx.HTTPStatusError(f"HTTP {status}", request=request, response=response)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (httpx.ConnectError("refused"), True),
        (httpx.ReadTimeout("slow"), True),
        (httpx.RemoteProtocolError("Server disconnected"), True),
        (status_error(429), True),
        (status_error(503), True),
        (status_error(504), True),
        (status_error(404), False),
        (status_error(400), False),
        (ValueError("bad input"), False),
    ],
    ids=["connect", "read-timeout", "dropped", "429", "503", "504", "404", "400", "ValueError"],
)
def test_is_transient_tells_passing_failures_from_permanent_ones(
    ex07: ModuleType, error: BaseException, expected: bool
) -> None:
    """is_transient says yes to httpx transport errors and 429/502/503/504, no to the rest."""
    got = ex07.is_transient(error)
    described = getattr(getattr(error, "response", None), "status_code", type(error).__name__)
    assert got is expected, f"is_transient(<{described}>) returned {got!r}, expected {expected!r}"


def test_full_jitter_delay_draws_once_below_the_capped_ceiling(ex07: ModuleType) -> None:
    """full_jitter_delay draws one rng.uniform(0, ceiling), the ceiling growing then capped."""
    ceilings = [0.5, 1.0, 2.0, 4.0, 6.0, 6.0]
    expected = full_jitter(3, ceilings)
    rng = random.Random(3)
    for attempt, want in enumerate(expected, start=1):
        call = call_repr("full_jitter_delay", attempt, 0.5, 2.0, 6.0, "Random(3)")
        got = ex07.full_jitter_delay(attempt, 0.5, 2.0, 6.0, rng)
        assert got == pytest.approx(want), (
            f"{call} returned {got!r}; expected rng.uniform(0, {ceilings[attempt - 1]}) "
            f"= {want!r} (same seed, one draw per call)"
        )


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.Response(503)],
    ids=["ConnectError", "ReadTimeout", "503"],
)
def test_transient_failures_are_retried_until_success(
    client: httpx.Client, ex07: ModuleType, api: respx.MockRouter, fake: FakeTime, failure: Any
) -> None:
    """A connect error, a timeout or a 503 is retried, and the eventual answer is returned."""
    route = api.get("/orders/42").mock(
        side_effect=[failure, failure, httpx.Response(200, json={"id": 42})]
    )
    result = run(ex07, fake, fetcher(client))
    what = type(failure).__name__ if isinstance(failure, Exception) else "a 503"
    assert result == {"id": 42}, f"after two failures ({what}) call_with_retry returned {result!r}"
    assert route.call_count == 3, f"the server was called {route.call_count} times, expected 3"


@pytest.mark.parametrize(
    "failure", [httpx.Response(404), ValueError("bug")], ids=["404", "ValueError"]
)
def test_permanent_failures_are_raised_at_once(
    client: httpx.Client, ex07: ModuleType, api: respx.MockRouter, fake: FakeTime, failure: Any
) -> None:
    """A 404 or a bug in the caller is raised on the first attempt, without sleeping."""
    route = api.get("/orders/42").mock(side_effect=[failure, httpx.Response(200, json={})])
    expected = httpx.HTTPStatusError if isinstance(failure, httpx.Response) else ValueError
    with pytest.raises(expected):
        run(ex07, fake, fetcher(client))
    assert route.call_count == 1, f"a permanent failure was tried {route.call_count} times"
    assert fake.sleeps == [], f"call_with_retry slept {fake.sleeps} before a permanent failure"


def test_the_schedule_is_capped_full_jitter(
    client: httpx.Client, ex07: ModuleType, api: respx.MockRouter, fake: FakeTime
) -> None:
    """The pauses are full jitter below 0.5, 1, 2, 4, then the cap 5, drawn from the given rng."""
    api.get("/orders/42").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(httpx.ConnectError):
        run(ex07, fake, fetcher(client), max_attempts=7, base_delay=0.5, max_delay=5.0,
            rng=random.Random(11))  # fmt: skip
    expected = full_jitter(11, [0.5, 1.0, 2.0, 4.0, 5.0, 5.0])
    assert fake.sleeps == pytest.approx(expected), (
        "call_with_retry(max_attempts=7, base_delay=0.5, multiplier=2.0, max_delay=5.0, "
        f"rng=Random(11)) slept {fake.sleeps}, expected {expected}"
    )


def test_the_final_error_is_the_last_real_one_with_the_attempt_count(
    ex07: ModuleType, fake: FakeTime
) -> None:
    """After the last attempt, the last exception itself is raised, noting how many attempts."""
    raised: list[Exception] = []

    def down() -> None:
        raised.append(httpx.ConnectError(f"refused #{len(raised) + 1}"))
        raise raised[-1]

    try:
        run(ex07, fake, down, max_attempts=3)
    except httpx.ConnectError as error:
        caught: BaseException = error
    except Exception as error:
        pytest.fail(
            f"call_with_retry(max_attempts=3) raised {type(error).__name__}: {error}; "
            "expected the last httpx.ConnectError itself",
            pytrace=False,
        )
    else:
        pytest.fail("call_with_retry(max_attempts=3) returned instead of raising", pytrace=False)
    assert len(raised) == 3, f"func was called {len(raised)} times with max_attempts=3"
    assert caught is raised[-1], f"raised {caught!r}, not the last error {raised[-1]!r}"
    notes = getattr(caught, "__notes__", [])
    assert any("3 attempts" in note for note in notes), (
        f"the error's notes are {notes!r}; expected one saying 'gave up after 3 attempts'"
    )


def test_retry_after_is_a_floor_clamped_by_the_cap(
    client: httpx.Client, ex07: ModuleType, api: respx.MockRouter, fake: FakeTime
) -> None:
    """Retry-After in seconds raises the next pause, but never above max_delay."""
    api.get("/orders/42").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "12"}),
            httpx.Response(503, headers={"Retry-After": "3600"}),
            httpx.Response(200, json={"id": 42}),
        ]
    )
    run(ex07, fake, fetcher(client), base_delay=1.0, max_delay=20.0)
    assert fake.sleeps == [12.0, 20.0], (
        f"after Retry-After: 12 then Retry-After: 3600 (max_delay=20) the pauses were "
        f"{fake.sleeps}, expected [12.0, 20.0]"
    )


def test_retry_after_as_a_date_uses_the_wall_clock(
    client: httpx.Client, ex07: ModuleType, api: respx.MockRouter, fake: FakeTime
) -> None:
    """Retry-After as an HTTP date is turned into seconds with the injected wall_clock."""
    in_25_s = format_datetime(datetime.fromtimestamp(EPOCH + 25, UTC), usegmt=True)
    api.get("/orders/42").mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": in_25_s}),
            httpx.Response(200, json={"id": 42}),
        ]
    )
    run(ex07, fake, fetcher(client))
    assert fake.sleeps == [25.0], (
        f"Retry-After: {in_25_s} with wall_clock() = {EPOCH:.0f} gave pauses {fake.sleeps}, "
        "expected [25.0]"
    )


def test_retry_after_past_the_deadline_gives_up_at_once(
    client: httpx.Client, ex07: ModuleType, api: respx.MockRouter, fake: FakeTime
) -> None:
    """When Retry-After would pass the deadline, the 503 is raised at once, without sleeping."""
    route = api.get("/orders/42").mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "20"}),
            httpx.Response(200, json={"id": 42}),
        ]
    )
    with pytest.raises(httpx.HTTPStatusError):
        run(ex07, fake, fetcher(client), deadline=10.0)
    assert route.call_count == 1 and fake.sleeps == [], (
        f"with deadline=10 and Retry-After: 20, call_with_retry called the server "
        f"{route.call_count} times and slept {fake.sleeps}; expected 1 call, no sleep"
    )


def test_the_deadline_stops_the_retries(ex07: ModuleType, fake: FakeTime) -> None:
    """No pause is taken that would end after the deadline; the last error is raised."""
    calls: list[float] = []

    def slow_and_down() -> None:
        calls.append(fake.now)
        fake.now += 4.0  # every attempt takes 4 s, then times out
        raise httpx.ReadTimeout("slow")

    with pytest.raises(httpx.ReadTimeout):
        run(ex07, fake, slow_and_down, max_attempts=50, deadline=60.0, rng=random.Random(2))
    total = fake.now - 4.0 * len(calls)
    assert total == pytest.approx(sum(fake.sleeps))
    assert fake.now <= 60.0 + 4.0, (
        f"with deadline=60 the last attempt started at {calls[-1]:.1f} s; "
        "no attempt should start after the deadline"
    )
    assert 3 <= len(calls) < 50, f"func was called {len(calls)} times before giving up"


@pytest.mark.parametrize(
    "settings",
    [{"max_attempts": 0}, {"max_attempts": -1}, {"base_delay": -1.0}, {"max_delay": -5.0}],
    ids=["max_attempts=0", "max_attempts=-1", "base_delay=-1", "max_delay=-5"],
)
def test_bad_settings_are_refused_before_any_call(
    ex07: ModuleType, fake: FakeTime, settings: dict[str, Any]
) -> None:
    """max_attempts below 1 or a negative delay raises ValueError before func is ever called."""
    calls: list[int] = []

    def func() -> int:
        calls.append(1)
        return 1

    call = call_repr("call_with_retry", "func", **settings)
    try:
        result = run(ex07, fake, func, **settings)
    except ValueError:
        assert calls == [], f"{call} raised ValueError, but only after calling func"
        return
    pytest.fail(f"{call} should raise ValueError, but returned {result!r}", pytrace=False)
