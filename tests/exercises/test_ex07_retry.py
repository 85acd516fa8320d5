"""Grader for ex07: retry with capped full-jitter backoff, Retry-After and a deadline.

Behaviour, not examples: each test compares the learner's functions with the
spec written as code (``spec_*`` below, not the reference solution, so a
mutated solution is never its own judge): on fixed cases chosen for their
boundaries (``base_delay=0``, one attempt, a cap below the base, a deadline of
0 or hit exactly, ``Retry-After`` at and above the cap), one list per
behaviour, and on cases Hypothesis generates. Its profile is fixed
(derandomized, no example database, 25 cases a test) so a check is fast and
repeatable.

The server is a plain function raising what ``raise_for_status()`` raises;
fake time (``patterns.lab.FakeTime``) records every pause, so nothing sleeps.
"""

from __future__ import annotations

import functools
import math
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from types import ModuleType
from typing import Any

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from patterns.course.grading import call_repr, grading_settings, load_graded
from patterns.retry import retry_after_seconds
from tests.retry_fakes import EPOCH, FakeTime, status_error

# A fixed, fast profile: the same examples on every run, nothing stored on disk.
FAST = grading_settings(25)


@pytest.fixture(scope="module")
def ex07() -> ModuleType:
    # Module scope: the Hypothesis tests must not reload the learner's file per example.
    return load_graded("ex07")


SIMULATED: list[float] = []  # seconds of fake sleep in the current test, for bench_retry.py


@pytest.fixture(autouse=True)
def simulated_sleep(request: pytest.FixtureRequest) -> Iterator[None]:
    SIMULATED.clear()
    yield
    request.node.user_properties.append(("simulated_sleep_s", sum(SIMULATED)))


# -- the spec as code --------------------------------------------------------------

SPEC_TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})


def spec_is_transient(error: BaseException) -> bool:
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code in SPEC_TRANSIENT_STATUSES
    if isinstance(error, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return False
    return isinstance(error, httpx.TransportError | ConnectionError | TimeoutError)


def spec_ceiling(attempt: int, base_delay: float, multiplier: float, max_delay: float) -> float:
    return min(max_delay, base_delay * multiplier ** (attempt - 1))


@dataclass(frozen=True)
class Step:
    """What ``func`` does on one call: fail with ``failure`` (or return) after ``takes`` s."""

    failure: str | None  # a FAILURES key; None: return the answer
    retry_after: int | None = None
    takes: float = 0.0

    def describe(self) -> str:
        what = "returns 'ok'" if self.failure is None else self.failure
        if self.retry_after is not None:
            what += f" (Retry-After: {self.retry_after})"
        return what + (f" after {self.takes:g} s" if self.takes else "")


def _status(code: int) -> Callable[[dict[str, str] | None], BaseException]:
    return lambda headers: status_error(code, headers)


def _plain(kind: type[BaseException], text: str) -> Callable[[dict[str, str] | None], Any]:
    return lambda headers: kind(text)


FAILURES: dict[str, Callable[[dict[str, str] | None], BaseException]] = {
    "ConnectError": _plain(httpx.ConnectError, "connection refused"),
    "ReadTimeout": _plain(httpx.ReadTimeout, "read timed out"),
    "RemoteProtocolError": _plain(httpx.RemoteProtocolError, "server disconnected"),
    "ConnectionResetError": _plain(ConnectionResetError, "reset by peer"),
    "TimeoutError": _plain(TimeoutError, "timed out"),
    "429": _status(429),
    "502": _status(502),
    "503": _status(503),
    "504": _status(504),
    "404": _status(404),
    "500": _status(500),
    "400": _status(400),
    "ValueError": _plain(ValueError, "a bug in the caller"),
    "UnsupportedProtocol": _plain(httpx.UnsupportedProtocol, "ftp:// is not supported"),
    "LocalProtocolError": _plain(httpx.LocalProtocolError, "illegal header value"),
    "FileNotFoundError": _plain(FileNotFoundError, "orders.csv"),
}
STATUSES_WITH_RETRY_AFTER = ["429", "503"]


# A monotonic clock does not start at 0 (nor at a round number): count from clock().
CLOCK_START = 7.0


@dataclass(frozen=True)
class Scenario:
    """A scripted ``func`` and the settings ``call_with_retry`` is called with."""

    steps: tuple[Step, ...]
    max_attempts: int = 5
    base_delay: float = 1.0
    multiplier: float = 2.0
    max_delay: float = 30.0
    deadline: float | None = None
    seed: int = 0

    def settings(self) -> dict[str, Any]:
        return {
            "max_attempts": self.max_attempts,
            "base_delay": self.base_delay,
            "multiplier": self.multiplier,
            "max_delay": self.max_delay,
            "deadline": self.deadline,
        }

    def call(self) -> str:
        given = ", ".join(f"{name}={value!r}" for name, value in self.settings().items())
        return f"call_with_retry(func, {given}, rng=Random({self.seed}))"

    def describe(self) -> str:
        steps = [step.describe() for step in self.steps]
        if self.steps and self.steps[-1].failure is not None:
            steps.append("returns 'ok'")
        shown = ", ".join(steps[:8]) + (", ..." if len(steps) > 8 else "")
        clock = (
            f" (clock() reads {CLOCK_START:g} at the start)" if self.deadline is not None else ""
        )
        return f"{self.call()}{clock} with func that, call by call: {shown}"


@dataclass
class Trace:
    """What happened: when func was called, the pauses, and how it ended."""

    calls: list[float] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    returned: object = None
    raised: BaseException | None = None
    errors: list[BaseException] = field(default_factory=list)  # what func raised, in order

    @property
    def notes(self) -> list[str]:
        return list(getattr(self.raised, "__notes__", []))


def play(scenario: Scenario, call_with_retry: Callable[..., Any]) -> Trace:
    """Run ``call_with_retry`` against the scripted func on fake time."""
    fake = FakeTime()
    fake.now = CLOCK_START
    trace = Trace(sleeps=fake.sleeps)

    def func() -> str:
        trace.calls.append(fake.now)
        index = len(trace.calls) - 1
        if index >= len(scenario.steps):
            return "ok"
        step = scenario.steps[index]
        fake.now += step.takes
        if step.failure is None:
            return "ok"
        headers = None if step.retry_after is None else {"Retry-After": str(step.retry_after)}
        error = FAILURES[step.failure](headers)
        trace.errors.append(error)
        raise error

    try:
        trace.returned = call_with_retry(
            func,
            **scenario.settings(),
            sleep=fake.sleep,
            clock=fake.clock,
            wall_clock=fake.wall,
            rng=random.Random(scenario.seed),
        )
    except Exception as error:
        trace.raised = error
    SIMULATED.extend(fake.sleeps)
    return trace


def spec_call_with_retry(
    func: Callable[[], Any],
    *,
    max_attempts: int,
    deadline: float | None,
    base_delay: float,
    multiplier: float,
    max_delay: float,
    sleep: Callable[[float], object],
    clock: Callable[[], float],
    wall_clock: Callable[[], float],
    rng: random.Random,
    explain: list[str] | None = None,
) -> Any:
    """The module docstring's rules, as code; ``explain`` collects one sentence per attempt."""
    said = explain if explain is not None else []
    started = clock()
    attempt = 0
    while True:
        attempt += 1
        try:
            result = func()
            said.append(f"attempt {attempt} returned")
            return result
        except Exception as error:
            if not spec_is_transient(error):
                said.append(f"attempt {attempt} failed with a permanent {type(error).__name__}: "
                            "raise it at once, untouched")  # fmt: skip
                raise
            note = f"gave up after {attempt} attempt"
            if attempt >= max_attempts:
                said.append(f"attempt {attempt} was the last (max_attempts={max_attempts}): "
                            "give up, no pause")  # fmt: skip
                error.add_note(note)
                raise
            ceiling = spec_ceiling(attempt, base_delay, multiplier, max_delay)
            drawn = rng.uniform(0, ceiling)
            asked = retry_after_seconds(error, wall_clock())
            if asked is not None and asked > max_delay:
                said.append(f"after attempt {attempt} the server asked to wait {asked:g} s, more "
                            f"than max_delay={max_delay:g}: give up at once, never cut the "
                            "server's wait short")  # fmt: skip
                error.add_note(f"{note}; asked {asked:g}")
                raise
            pause = drawn if asked is None else max(drawn, asked)
            if asked is not None:
                note = f"{note}; asked {asked:g}"  # the server's wait is named in the note
            why = f"after attempt {attempt} full_jitter_delay drew {drawn:.4g} s (ceiling {ceiling:.4g})"
            if asked is not None:
                why += f", the server asked {asked:g} s: the pause is {pause:.4g} (Retry-After is a floor)"
            elapsed = clock() - started
            if deadline is not None and elapsed + pause > deadline:
                said.append(
                    f"{why}; {elapsed:g} s + {pause:.4g} s would pass deadline={deadline:g}: give up now"
                )
                error.add_note(note)
                raise
            said.append(why)
        sleep(pause)


# -- turning a difference into a sentence ------------------------------------------------


def counted(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"


def seconds(values: list[float]) -> str:
    shown = ", ".join(f"{v:.3g}" for v in values[:6])
    return f"[{shown}{', ...' if len(values) > 6 else ''}] ({counted(len(values), 'pause')})"


def first_difference(got: list[float], want: list[float]) -> int:
    """Index of the first pause that differs (or the shorter length when one is a prefix)."""
    return next(
        (i for i, (g, w) in enumerate(zip(got, want, strict=False)) if not math.isclose(g, w)),
        min(len(got), len(want)),
    )


def pauses_differ(got: list[float], want: list[float], rule: str) -> str:
    """A short account of how two pause lists differ ("" when they agree)."""
    if len(got) == len(want) and all(map(math.isclose, got, want)):
        return ""
    common = first_difference(got, want)
    if common == len(want):
        extra = len(got) - len(want)
        many = "one pause" if extra == 1 else f"{extra} pauses"
        when = ", after the last attempt" if "was the last" in rule else ", where the spec gives up"
        return f"{many} too many{when}"
    if common == len(got):
        missing = len(want) - len(got)
        return (
            f"stopped after {len(got)} pauses, {missing} too few: "
            f"the next pause would have been {want[common]:.3g} s"
        )
    return f"pause {common + 1} was {got[common]:.3g} s, expected {want[common]:.3g} s"


def compare(ex07: ModuleType, scenario: Scenario) -> str:
    """Play ``scenario`` against the learner and the spec; "" when they agree."""
    got = play(scenario, ex07.call_with_retry)
    spec_said: list[str] = []
    want = play(scenario, functools.partial(spec_call_with_retry, explain=spec_said))
    where = scenario.describe()
    if got.raised is not None and got.raised not in got.errors:
        return f"{where} raised {type(got.raised).__name__}: {got.raised}"
    rule = spec_said[min(first_difference(got.sleeps, want.sleeps), len(spec_said) - 1)]
    difference = pauses_differ(got.sleeps, want.sleeps, rule)
    if difference or len(got.calls) != len(want.calls):
        return (
            f"{where}: {difference or 'the pauses agree'}; func was called "
            f"{counted(len(got.calls), 'time')}, expected {len(want.calls)}. Slept "
            f"{seconds(got.sleeps)}, expected {seconds(want.sleeps)}. The spec: {rule}"
        )
    if want.raised is None:
        if got.raised is not None or got.returned != "ok":
            return f"{where}: ended with {got.raised or got.returned!r}, expected to return 'ok'"
        return ""
    if got.raised is None:
        return f"{where} returned {got.returned!r}; expected the last error raised again"
    last = want.errors[-1]
    if got.raised is not got.errors[-1]:
        return (
            f"{where} raised {got.raised!r}, an earlier error; "
            f"expected the last one, {got.errors[-1]!r}, itself"
        )
    return notes_differ(where, got.notes, want.notes, last)


def notes_differ(where: str, got: list[str], want: list[str], error: BaseException) -> str:
    if not want:
        if got:
            return (
                f"{where}: the permanent error {error!r} came back with notes {got}; expected none"
            )
        return ""
    count = re.search(r"gave up after (\d+) attempt", want[0])
    assert count is not None
    expected = f"gave up after {count.group(1)} attempt{'s' if count.group(1) != '1' else ''}"
    giving_up = [note for note in got if re.search(r"gave up after \d+ attempt", note)]
    if not giving_up:
        return f"{where}: the error's notes are {got}; expected one saying '{expected}'"
    if not any(expected.removesuffix("s") in note for note in giving_up):
        return f"{where}: the note says {giving_up[-1]!r}, but expected '{expected}'"
    asked = re.search(r"asked (\S+)", want[0])
    if asked is not None:
        rest = " ".join(note.replace(count.group(0), "") for note in giving_up)
        if not re.search(rf"(?<![\d.]){re.escape(asked.group(1))}(?![\d])", rest):
            return (
                f"{where}: the note {giving_up[-1]!r} does not say what the server asked "
                f"for ({asked.group(1)} s of Retry-After)"
            )
    return ""


# -- strategies: what the server does, and the settings ------------------------------------

# Few draws per case (each draw costs Hypothesis time; a check must stay fast): a
# step is one choice among prepared ones, simplest first so failures shrink to them.
STEP_CHOICES = [
    Step(name, asked, took)
    for took in (0.0, 0.5, 2.0, 5.0)
    for asked in (None, 0, 3, 12, 30, 31, 90)
    for name in FAILURES
    if asked is None or name in STATUSES_WITH_RETRY_AFTER
]
scripts = st.tuples(st.lists(st.sampled_from(STEP_CHOICES), max_size=8), st.booleans()).map(
    lambda drawn: (*drawn[0], Step(None)) if drawn[1] else tuple(drawn[0])
)
schedules = st.builds(
    Scenario,
    scripts,
    max_attempts=st.integers(1, 9),
    base_delay=st.sampled_from([0.0, 0.25, 1.0, 1.5, 3.0, 8.0]),
    multiplier=st.sampled_from([1.0, 2.0, 1.5, 3.0, 4.0]),
    max_delay=st.sampled_from([30.0, 0.0, 0.5, 2.0, 10.0, 31.0, 60.0]),
    deadline=st.sampled_from([None, 0.0, 5.0, 10.0, 30.0, 60.0, 120.0]),
    seed=st.integers(0, 2**16),
)


def fails(*names: str, retry_after: int | None = None, takes: float = 0.0) -> tuple[Step, ...]:
    return tuple(Step(name, retry_after, takes) for name in names)


# -- is_transient ---------------------------------------------------------------------------


def _concrete_transport_errors() -> list[type[httpx.TransportError]]:
    found: list[type[httpx.TransportError]] = []
    todo: list[type[httpx.TransportError]] = [httpx.TransportError]
    while todo:
        kind = todo.pop()
        todo.extend(kind.__subclasses__())
        if not kind.__subclasses__():
            found.append(kind)
    return sorted(found, key=lambda kind: kind.__name__)


ERROR_CASES: list[tuple[BaseException, bool]] = [
    *((kind("boom"), kind not in (httpx.UnsupportedProtocol, httpx.LocalProtocolError))
      for kind in _concrete_transport_errors()),
    (ConnectionError("down"), True),
    (ConnectionRefusedError("refused"), True),
    (ConnectionResetError("reset"), True),
    (BrokenPipeError("pipe"), True),
    (TimeoutError("slow"), True),
    (TimeoutError("slow"), True),
    (OSError("disk full"), False),
    (FileNotFoundError("orders.csv"), False),
    (PermissionError("denied"), False),
    (httpx.TooManyRedirects("loop"), False),
    (httpx.DecodingError("bad gzip"), False),
    (ValueError("bad input"), False),
    (KeyError("amount"), False),
    (RuntimeError("bug"), False),
]  # fmt: skip


@pytest.mark.hints(
    "httpx's errors do not derive from the builtin ones: test isinstance(error, "
    "httpx.TransportError) and, separately, isinstance(error, ConnectionError | TimeoutError).",
    "Two transport errors are bugs, not blips: check httpx.UnsupportedProtocol and "
    "httpx.LocalProtocolError first and answer False. A plain OSError is not a network error.",
)
def test_is_transient_says_yes_to_network_blips_only(ex07: ModuleType) -> None:
    """is_transient says yes to transport errors and the builtin ConnectionError/TimeoutError, no to bad URLs, our own protocol bugs and other errors."""
    wrong = [
        f"is_transient({type(error).__name__}(...)) returned {got}, expected {expected!r}"
        for error, expected in ERROR_CASES
        if (got := ask_is_transient(ex07, error)) != repr(expected)
    ]
    assert not wrong, f"{len(wrong)} of {len(ERROR_CASES)} wrong: " + "; ".join(wrong[:4])


def ask_is_transient(ex07: ModuleType, error: BaseException) -> str:
    """What the learner's is_transient answered, as text (an exception it raised included)."""
    try:
        return repr(ex07.is_transient(error))
    except Exception as raised:
        return f"nothing: it raised {type(raised).__name__}: {raised}"


@pytest.mark.hints(
    "An httpx.HTTPStatusError carries the answer: error.response.status_code. "
    "Compare it with TRANSIENT_STATUSES (429, 502, 503, 504), nothing else.",
)
def test_is_transient_says_yes_to_429_502_503_504_only(ex07: ModuleType) -> None:
    """is_transient says yes to HTTP 429, 502, 503 and 504, and no to every other status."""
    answers = {status: ask_is_transient(ex07, status_error(status)) for status in range(100, 600)}
    wrong = [s for s, got in answers.items() if got != repr(s in SPEC_TRANSIENT_STATUSES)]
    assert not wrong, (
        f"is_transient(<HTTPStatusError {wrong[0]}>) returned {answers[wrong[0]]}, expected "
        f"{wrong[0] in SPEC_TRANSIENT_STATUSES!r} ({len(wrong)} statuses wrong: {wrong[:6]})"
    )


# -- full_jitter_delay ------------------------------------------------------------------------


@pytest.mark.hints(
    "ceiling = min(max_delay, base_delay * multiplier ** (attempt - 1)): attempt 1 waits at "
    "most base_delay, and every argument counts.",
    "Draw exactly once per call, rng.uniform(0, ceiling), from the rng you were given.",
)
@FAST
@given(
    attempt=st.integers(1, 30),
    base_delay=st.integers(0, 800).map(lambda cents: cents / 100),
    multiplier=st.integers(100, 400).map(lambda cents: cents / 100),
    max_delay=st.integers(0, 6000).map(lambda cents: cents / 100),
    seed=st.integers(0, 2**16),
)
@example(attempt=1, base_delay=0.0, multiplier=2.0, max_delay=10.0, seed=0)
@example(attempt=3, base_delay=0.5, multiplier=3.0, max_delay=10.0, seed=1)
@example(attempt=4, base_delay=1.0, multiplier=2.0, max_delay=5.0, seed=2)
def test_full_jitter_delay_draws_once_below_the_capped_ceiling(
    ex07: ModuleType,
    attempt: int,
    base_delay: float,
    multiplier: float,
    max_delay: float,
    seed: int,
) -> None:
    """full_jitter_delay draws one rng.uniform(0, ceiling), the ceiling growing by multiplier, then capped."""
    ceiling = spec_ceiling(attempt, base_delay, multiplier, max_delay)
    expected_rng = random.Random(seed)
    want = expected_rng.uniform(0, ceiling)
    rng = random.Random(seed)
    call = call_repr("full_jitter_delay", attempt, base_delay, multiplier, max_delay,
                     f"Random({seed})")  # fmt: skip
    try:
        got = ex07.full_jitter_delay(attempt, base_delay, multiplier, max_delay, rng)
    except Exception as error:
        raise AssertionError(f"{call} raised {type(error).__name__}: {error}") from None
    assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12), (
        f"{call} returned {got!r}; expected rng.uniform(0, {ceiling:.6g}) = {want!r}, where "
        f"{ceiling:.6g} = min({max_delay}, {base_delay} * {multiplier} ** {attempt - 1})"
        + known_slip(got, seed, attempt, base_delay, multiplier, max_delay)
    )
    assert rng.random() == expected_rng.random(), (
        f"{call} returned the right number but drew from the rng more than once"
    )


def known_slip(
    got: float, seed: int, attempt: int, base_delay: float, multiplier: float, max_delay: float
) -> str:
    """Name the slip when ``got`` is exactly the draw below a classic wrong ceiling."""
    right = spec_ceiling(attempt, base_delay, multiplier, max_delay)
    slips = {
        "the ceiling ignores multiplier (it doubles)": min(
            max_delay, base_delay * 2 ** (attempt - 1)
        ),
        "the ceiling is not capped by max_delay": base_delay * multiplier ** (attempt - 1),
        "the exponent is attempt, not attempt - 1": min(
            max_delay, base_delay * multiplier**attempt
        ),
    }
    for slip, ceiling in slips.items():
        if not math.isclose(ceiling, right) and math.isclose(
            got, random.Random(seed).uniform(0, ceiling)
        ):
            return f": {slip}"
    return ""


# -- call_with_retry --------------------------------------------------------------------------


def assert_as_specified(ex07: ModuleType, cases: list[Scenario]) -> None:
    """Each case against the spec; fails with the first difference, in a sentence."""
    for scenario in cases:
        difference = compare(ex07, scenario)
        assert not difference, difference


def failing(*names: str, then_ok: bool = False, **settings: Any) -> Scenario:
    return Scenario((*fails(*names), *([Step(None)] if then_ok else [])), **settings)


RETRIED_OR_RAISED = [
    failing("ConnectError", "503", "ReadTimeout", then_ok=True),
    failing("ConnectionResetError", "TimeoutError", "RemoteProtocolError", then_ok=True),
    failing("429", "502", "504", then_ok=True, max_attempts=4),
    failing("404", then_ok=True),
    failing("503", "FileNotFoundError", then_ok=True),
    failing("UnsupportedProtocol", then_ok=True),
    failing("LocalProtocolError", then_ok=True),
    failing("ReadTimeout", "500", then_ok=True),
    failing("ConnectError", "ValueError", then_ok=True),
    failing("ReadTimeout", then_ok=True, max_attempts=1),
]

CAPPED_FULL_JITTER = [
    failing(*["ConnectError"] * 8, max_attempts=7, base_delay=0.5, max_delay=5.0, seed=11),
    failing(*["ReadTimeout"] * 6, base_delay=1.0, multiplier=3.0, max_delay=100.0, seed=3),
    failing(*["503"] * 6, max_attempts=6, base_delay=0.25, multiplier=1.5, max_delay=2.0),
    failing(*["504"] * 4, base_delay=2.0, max_delay=0.5, seed=5),  # a cap below the base
    failing(*["429"] * 4, multiplier=1.0, seed=6),  # a constant ceiling
    failing(*["503"] * 4, base_delay=0.0),  # no pause at all
    failing(*["ConnectError"] * 3, then_ok=True, base_delay=1.0, multiplier=2.0, seed=7),
]

GIVING_UP = [
    failing(*["ConnectError"] * 3, max_attempts=3),
    failing("503", max_attempts=1),
    failing("ReadTimeout", "504", "ConnectError", "429", "TimeoutError", max_attempts=5),
    failing(*["RemoteProtocolError"] * 7, max_attempts=7, base_delay=0.0),
    failing(*["ConnectError"] * 300, max_attempts=300, base_delay=0.0),  # past small-int caching
    failing("502", "ConnectionResetError", max_attempts=2),
]

RETRY_AFTER = [
    Scenario((Step("429", 12), Step(None)), base_delay=1.0, seed=1),  # above the backoff
    Scenario((Step("503", 0), Step(None)), base_delay=4.0, multiplier=1.0, seed=2),  # below
    Scenario((Step("503", 30), Step(None)), max_delay=30.0),  # exactly the cap: honoured
    Scenario((Step("503", 3600), Step(None)), max_delay=20.0),  # past the cap: give up
    Scenario((*fails("ConnectError", "503"), Step("503", 31), Step(None)), max_delay=30.0),
    Scenario((Step("429", 2), Step("429", 3), Step("503"), Step(None)), base_delay=2.0, seed=4),
    Scenario((Step("503", 5), Step("503", 60), Step(None)), max_attempts=3, max_delay=45.0),
    Scenario((Step("503", 7), Step("503", 7), Step(None)), base_delay=0.0),
]

DEADLINE = [
    failing(*["ReadTimeout"] * 20, max_attempts=9, deadline=60.0),
    Scenario(fails(*["ReadTimeout"] * 9, takes=4.0), max_attempts=9, deadline=60.0, seed=2),
    Scenario(
        fails(*["ConnectError"] * 9, takes=2.0),
        max_attempts=9,
        base_delay=3.0,
        multiplier=1.0,
        deadline=20.0,
        seed=8,
    ),
    Scenario((Step("503", 20), Step(None)), deadline=10.0),  # Retry-After past the deadline
    Scenario((Step("503", 10), Step(None)), deadline=10.0, base_delay=0.0),  # ends exactly on it
    Scenario((Step("503", 8, 3.0), Step(None)), deadline=10.0, base_delay=0.0),  # 3 + 8 > 10
    failing("ConnectError", "ConnectError", base_delay=0.0, deadline=0.0),
    failing("ConnectError", then_ok=True, base_delay=1.0, deadline=0.0),
]


@pytest.mark.hints(
    "Loop: call func() inside try; return its result; in `except Exception as error:` "
    "a permanent error (not is_transient) is re-raised at once with a bare `raise`.",
    "Count the attempts: after a transient failure, stop when attempt == max_attempts; "
    "otherwise sleep, then go round again.",
)
def test_transient_failures_are_retried_and_permanent_ones_raised_at_once(
    ex07: ModuleType,
) -> None:
    """Transient failures are retried until func returns; a permanent one is raised at once, untouched."""
    assert_as_specified(ex07, RETRIED_OR_RAISED)


@pytest.mark.hints(
    "Attempt n is followed by full_jitter_delay(n, base_delay, multiplier, max_delay, rng), "
    "with the rng you were given (or one made once, before the loop).",
    "No pause after the last attempt: check attempt >= max_attempts before you draw or sleep.",
)
def test_the_pauses_are_capped_full_jitter_from_the_given_rng(ex07: ModuleType) -> None:
    """The pause after failed attempt n is full_jitter_delay(n, ...) drawn from the given rng, and none after the last attempt."""
    assert_as_specified(ex07, CAPPED_FULL_JITTER)


@pytest.mark.hints(
    "Giving up is `error.add_note(gave_up_note(attempt))` with the given gave_up_note (after "
    "the last attempt there is no Retry-After to pass as asked), then a bare `raise`: the "
    "caller gets the last real error, not a new one.",
)
def test_giving_up_raises_the_last_error_with_the_attempt_count(ex07: ModuleType) -> None:
    """After the last attempt the last error itself is raised, with a note saying how many attempts were made."""
    assert_as_specified(ex07, GIVING_UP)


@pytest.mark.hints(
    "asked = retry_after_seconds(error, wall_clock()) is a floor: pause = max(drawn, asked). "
    "Still draw full_jitter_delay first, every time.",
    "Never cut the server's wait short: if asked > max_delay, give up at once (a note with the "
    "seconds asked, then `raise`), instead of clamping it to max_delay.",
)
def test_retry_after_is_a_floor_never_cut_short(ex07: ModuleType) -> None:
    """Retry-After raises the next pause and is never cut short: asked for more than max_delay, give up at once, saying what was asked."""
    assert_as_specified(ex07, RETRY_AFTER)


@pytest.mark.hints(
    "Measure from `started = clock()`, taken once before the first attempt; the time the "
    "attempts themselves take counts too.",
    "Give up when clock() - started + pause > deadline, before sleeping, with "
    "error.add_note(gave_up_note(attempt, asked)): the note names the server's Retry-After.",
)
def test_no_pause_passes_the_deadline(ex07: ModuleType) -> None:
    """No pause is taken that would end after the deadline (attempts' own time counted); the note then names any Retry-After the server sent."""
    assert_as_specified(ex07, DEADLINE)


@pytest.mark.hints(
    "Generated cases mix everything above: read the case in the message, then re-read the "
    "rule it breaks in the module docstring.",
)
@FAST
@given(schedules)
def test_call_with_retry_follows_the_spec_on_generated_schedules(
    ex07: ModuleType, scenario: Scenario
) -> None:
    """On generated schedules and settings (any mix of failures, Retry-After, slow attempts, deadlines) call_with_retry does what the spec says."""
    assert_as_specified(ex07, [scenario])


@pytest.mark.hints(
    "retry_after_seconds(error, now) needs the wall-clock time as `now`: pass wall_clock(), "
    "the injected one, not time.time().",
)
def test_retry_after_as_a_date_is_read_with_the_wall_clock(ex07: ModuleType) -> None:
    """Retry-After as an HTTP date is turned into seconds with the injected wall_clock()."""
    fake = FakeTime()
    in_25_s = format_datetime(datetime.fromtimestamp(EPOCH + 25, UTC), usegmt=True)
    answers = iter([status_error(503, {"Retry-After": in_25_s})])

    def func() -> str:
        error = next(answers, None)
        if error is not None:
            raise error
        return "ok"

    call = call_repr("call_with_retry", "func", base_delay=1.0, max_delay=30.0)
    try:
        result = ex07.call_with_retry(func, base_delay=1.0, max_delay=30.0, sleep=fake.sleep,
                                      clock=fake.clock, wall_clock=fake.wall,
                                      rng=random.Random(0))  # fmt: skip
    except Exception as error:
        raise AssertionError(f"{call} raised {type(error).__name__}: {error}") from None
    assert result == "ok" and fake.sleeps == [25.0], (
        f"{call} against a 503 with Retry-After: {in_25_s}, wall_clock() = {EPOCH:.0f} "
        f"(25 s earlier), returned {result!r} after pauses {fake.sleeps}; expected [25.0]"
    )


@pytest.mark.hints(
    "rng=None is the default: when no rng is given, make one `random.Random()` before the "
    "loop and draw every pause from it.",
)
def test_without_an_rng_the_pauses_come_from_a_fresh_random(ex07: ModuleType) -> None:
    """Called without rng (the default), call_with_retry still retries, each pause drawn below its ceiling."""
    fake = FakeTime()
    failures = iter([httpx.ConnectError("connection refused")] * 3)

    def func() -> str:
        error = next(failures, None)
        if error is not None:
            raise error
        return "ok"

    settings = {"base_delay": 1.0, "multiplier": 2.0, "max_delay": 3.0}
    ceilings = [1.0, 2.0, 3.0]  # min(max_delay, base_delay * multiplier ** (attempt - 1))
    call = call_repr("call_with_retry", "func", **settings)
    try:
        result = ex07.call_with_retry(func, **settings, sleep=fake.sleep, clock=fake.clock,
                                      wall_clock=fake.wall)  # fmt: skip
    except Exception as error:
        used_none = "NoneType" in str(error)  # None.uniform(), or None where a Random goes
        why = "; rng=None means a fresh random.Random(), made once before the first attempt"
        raise AssertionError(
            f"{call}, with no rng, raised {type(error).__name__}: {error}{why if used_none else ''}"
        ) from None
    within = all(0 <= pause <= top for pause, top in zip(fake.sleeps, ceilings, strict=False))
    drawn = len(fake.sleeps) == len(ceilings) and within and any(p > 0 for p in fake.sleeps)
    assert result == "ok" and drawn, (
        f"{call}, with no rng, against 3 ConnectErrors then 'ok', returned {result!r} after "
        f"pauses {fake.sleeps}; expected 'ok' after 3 pauses drawn between 0 and {ceilings}"
    )


@pytest.mark.hints(
    "Check the settings first thing in call_with_retry, before the loop: "
    "`if max_attempts < 1: raise ValueError(...)`, and the same for negative delays.",
)
@pytest.mark.parametrize(
    "bad",
    [{"max_attempts": 0}, {"max_attempts": -1}, {"base_delay": -0.5}, {"max_delay": -0.5}],
    ids=["max_attempts=0", "max_attempts=-1", "base_delay=-0.5", "max_delay=-0.5"],
)
def test_bad_settings_are_refused_before_any_call(ex07: ModuleType, bad: dict[str, Any]) -> None:
    """max_attempts below 1 or a negative delay raises ValueError before func is ever called."""
    calls: list[int] = []

    def func() -> int:
        calls.append(1)
        return 1

    fake = FakeTime()
    call = call_repr("call_with_retry", "func", **bad)
    try:
        result = ex07.call_with_retry(func, sleep=fake.sleep, clock=fake.clock, **bad)
    except ValueError:
        assert calls == [], f"{call} raised ValueError, but only after calling func"
        return
    except Exception as error:
        raise AssertionError(
            f"{call} raised {type(error).__name__}: {error}; expected ValueError"
        ) from None
    raise AssertionError(f"{call} should raise ValueError, but returned {result!r}")
