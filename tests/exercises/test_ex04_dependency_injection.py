"""Grader for ex04: PasswordResets built with fakes only, no patching.

Every dependency is passed in: a fake repository, a recording mailer, a clock
the test sets, and a token source that returns known tokens. If the service
cannot be built that way, or ignores what it was given, the failure names the
hidden dependency it still reaches for. Generated scenarios (requests, waits,
redemptions) are compared with a model of the spec; ``compose()`` is checked
for what it builds: the real clock, unpredictable tokens, nothing shared.
Only one check patches: to see when compose()'s real clock makes a reset
expire, it swaps the module's InMemoryAccounts for a subclass that records
each saved reset (compose() builds the repository inside, out of reach).
"""

from __future__ import annotations

import inspect
import io
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from patterns.course.grading import grading_settings, load_graded

T0 = datetime(2031, 3, 14, 9, 26, 53, tzinfo=UTC)  # far from the real now, on purpose
VALID = timedelta(minutes=30)
HIDDEN = {
    "accounts": "the module-level REPOSITORY",
    "mailer": "the module-level MAILER",
    "clock": "datetime.now()",
    "new_token": "the random module",
}
PEOPLE = {"ada@example.com": "Ada", "bob@example.com": "Bob"}

# One fixed, fast profile: the same examples on every run, no shrinking (the
# failure message already tells the one token's story), so a check stays short.
GRADING = grading_settings(25, shrink=False)


@pytest.fixture
def ex04() -> ModuleType:
    return load_graded("ex04")


@dataclass
class FakeAccounts:
    accounts: dict[str, Any] = field(default_factory=dict)
    resets: dict[str, Any] = field(default_factory=dict)

    def by_email(self, email: str) -> Any:
        return self.accounts.get(email)

    def save_reset(self, reset: Any) -> None:
        self.resets[reset.token] = reset

    def reset_for(self, token: str) -> Any:
        return self.resets.get(token)


@dataclass
class RecordingMailer:
    sent: list[dict[str, str]] = field(default_factory=list)

    def send(self, *, to: str, subject: str, body: str) -> None:
        self.sent.append({"to": to, "subject": subject, "body": body})


@dataclass
class FakeClock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    """The service under test and every fake it was built with."""

    service: Any
    accounts: FakeAccounts
    mailer: RecordingMailer
    clock: FakeClock


def tokens() -> Iterator[str]:
    number = 0
    while True:
        number += 1
        yield f"tok-{number}"


def build(ex04: ModuleType) -> World:
    cls = ex04.PasswordResets
    parameters = inspect.signature(cls).parameters
    missing = [name for name in HIDDEN if name not in parameters]
    if missing:
        pytest.fail(
            f"PasswordResets(accounts=..., mailer=..., clock=..., new_token=...) cannot be "
            f"built with fakes: its __init__ takes no {', '.join(missing)}. Hidden dependency: "
            f"the service still reaches for {', '.join(HIDDEN[name] for name in missing)}. "
            "Take each one as a keyword argument of __init__ and use only that.",
            pytrace=False,
        )
    accounts = FakeAccounts({email: ex04.Account(email, name) for email, name in PEOPLE.items()})
    mailer, clock = RecordingMailer(), FakeClock()
    issued = tokens()
    service = cls(accounts=accounts, mailer=mailer, clock=clock, new_token=lambda: next(issued))
    return World(service, accounts, mailer, clock)


def requested(world: World) -> None:
    """Ada asks for a reset at T0; the mail must reach the injected mailer."""
    world.clock.now = T0
    world.service.request("ada@example.com")
    assert world.mailer.sent, (
        "request('ada@example.com') sent nothing through the injected mailer. Hidden "
        "dependency: is it still sending through the module-level MAILER?"
    )
    assert "tok-1" in world.accounts.resets, (
        f"after request('ada@example.com') the injected repository holds "
        f"{sorted(world.accounts.resets)}, not the token 'tok-1' that new_token() returned. "
        "Hidden dependency: is it still saving to REPOSITORY, or drawing tokens from random?"
    )


def redeems(world: World, token: str, at: datetime) -> bool:
    """Whether redeem(token) at ``at`` returns an account (False: ResetError)."""
    world.clock.now = at
    try:
        world.service.redeem(token)
    except ValueError:
        return False
    return True


def expiry_diagnosis(ex04: ModuleType) -> str:
    """Why redeem() gets the 30-minute limit wrong, found by probing a fresh service.

    A code still accepted a day later means redeem() never asked the injected
    clock; otherwise the comparison at the boundary is off.
    """
    world = build(ex04)
    requested(world)
    if redeems(world, "tok-1", T0 + timedelta(days=1)):
        return (
            "a day later it is still accepted, so redeem() does not compare with the injected "
            "clock. Hidden dependency: is it still calling datetime.now()?"
        )
    world = build(ex04)
    requested(world)
    if redeems(world, "tok-1", T0 + VALID):
        return (
            "it is accepted at exactly 30 minutes: at expires_at the code has expired "
            "(compare now >= expires_at, not >)"
        )
    return "it expires at expires_at exactly: accepted before, refused from then on"


# --- the constructor takes every dependency --------------------------------------------------


@pytest.mark.hints(
    "Every parameter of __init__ is required: `def __init__(self, *, accounts, mailer, clock, "
    "new_token)`, no `= MAILER`, no `= None`.",
)
def test_every_dependency_is_a_required_keyword_argument(ex04: ModuleType) -> None:
    """PasswordResets takes accounts, mailer, clock and new_token as required keywords."""
    build(ex04)  # fails with the missing parameters, if any
    parameters = inspect.signature(ex04.PasswordResets).parameters
    defaults = {
        name: parameters[name].default
        for name in HIDDEN
        if parameters[name].default is not inspect.Parameter.empty
    }
    assert not defaults, (
        "PasswordResets.__init__ gives defaults to "
        + ", ".join(f"{name}={value!r:.60}" for name, value in defaults.items())
        + ". Hidden dependency: a default reaches for a part the caller did not pass; make "
        "every one required and build the real parts in compose()."
    )
    positional = [
        name for name in HIDDEN if parameters[name].kind is not inspect.Parameter.KEYWORD_ONLY
    ]
    assert not positional, (
        f"PasswordResets.__init__ also takes {', '.join(positional)} by position: "
        "PasswordResets(a, b, c, d) would silently accept a clock and a token source swapped. "
        "Make them keyword-only: `def __init__(self, *, accounts, mailer, clock, new_token)`"
    )


@pytest.mark.hints(
    "Delete the MAILER = ... and REPOSITORY = ... lines: compose() builds the real parts.",
)
def test_the_module_holds_no_mailer_or_repository(ex04: ModuleType) -> None:
    """The module builds no mailer or repository at import: no MAILER, no REPOSITORY."""
    parts = (ex04.InMemoryAccounts, ex04.ConsoleMailer)
    built = [name for name, value in vars(ex04).items() if isinstance(value, parts)]
    assert not built, (
        f"the module still holds {', '.join(built)} (built at import and shared by every "
        "service). Hidden dependency: delete it; compose() builds the real parts."
    )


# --- the behaviour, with fakes ---------------------------------------------------------------


def test_request_mails_the_account_holder_the_injected_token_by_name(ex04: ModuleType) -> None:
    """request() mails the account holder, by name, the code new_token() returned."""
    world = build(ex04)
    requested(world)
    mail = world.mailer.sent[-1]
    assert len(world.mailer.sent) == 1 and mail["to"] == "ada@example.com", (
        f"request('ada@example.com') sent {world.mailer.sent}; expected one mail to ada@example.com"
    )
    assert "tok-1" in mail["body"], (
        f"the mail body was {mail['body']!r}; it should contain 'tok-1', the token new_token() "
        "returned. Hidden dependency: is the token still drawn from random?"
    )
    assert "Ada" in mail["body"], f"the mail body was {mail['body']!r}; it should greet Ada by name"


def test_reset_expires_thirty_minutes_after_the_injected_now(ex04: ModuleType) -> None:
    """The saved reset expires exactly 30 minutes after the injected clock's time."""
    world = build(ex04)
    requested(world)
    expires = world.accounts.resets["tok-1"].expires_at
    assert expires == T0 + VALID, (
        f"with the injected clock at {T0.isoformat()}, the reset expires at "
        f"{expires.isoformat()}; expected 30 minutes later. Hidden dependency: is it still "
        "calling datetime.now()?"
    )


@pytest.mark.parametrize("seconds", [0, 1, 29 * 60 + 59])
def test_code_works_until_just_before_thirty_minutes(ex04: ModuleType, seconds: int) -> None:
    """redeem() accepts the code at any instant before 30 minutes have passed."""
    world = build(ex04)
    requested(world)
    world.clock.now = T0 + timedelta(seconds=seconds)
    try:
        account = world.service.redeem("tok-1")
    except ValueError as error:
        pytest.fail(
            f"redeem('tok-1') {seconds} s after the request (injected clock at "
            f"{world.clock.now.isoformat()}) raised {type(error).__name__}: {error}; the code is "
            f"still valid then: {expiry_diagnosis(ex04)}",
            pytrace=False,
        )
    assert account.email == "ada@example.com", (
        f"redeem('tok-1') returned {account!r}; expected Ada's account"
    )


@pytest.mark.hints(
    "A code made at T expires at T + 30 minutes, and at that instant it is already expired: "
    "refuse it when now >= expires_at.",
)
@pytest.mark.parametrize("seconds", [30 * 60, 30 * 60 + 1, 86_400])
def test_code_is_refused_from_thirty_minutes_on(ex04: ModuleType, seconds: int) -> None:
    """redeem() raises ResetError from exactly 30 minutes after the request."""
    world = build(ex04)
    requested(world)
    world.clock.now = T0 + timedelta(seconds=seconds)
    try:
        account = world.service.redeem("tok-1")
    except ex04.ResetError:
        return
    pytest.fail(
        f"redeem('tok-1') {seconds} s after the request (injected clock at "
        f"{world.clock.now.isoformat()}) returned {account!r}; it should raise ResetError "
        f"(expired): {expiry_diagnosis(ex04)}",
        pytrace=False,
    )


def test_code_works_only_once(ex04: ModuleType) -> None:
    """A code redeemed once is refused the second time."""
    world = build(ex04)
    requested(world)
    world.service.redeem("tok-1")
    with pytest.raises(ex04.ResetError):
        again = world.service.redeem("tok-1")
        pytest.fail(f"redeem('tok-1') a second time returned {again!r}; expected ResetError")


def test_unknown_address_gets_no_mail_and_no_code(ex04: ModuleType) -> None:
    """request() for an address with no account sends nothing and saves nothing."""
    world = build(ex04)
    world.service.request("mallory@example.com")
    assert not world.mailer.sent and not world.accounts.resets, (
        f"request('mallory@example.com') (no such account) sent {world.mailer.sent} and saved "
        f"{sorted(world.accounts.resets)}; expected nothing"
    )


# --- generated scenarios against a model of the spec ----------------------------------------

EMAILS = [*PEOPLE, "mallory@example.com"]
WAITS = [0, 1, 59, 29 * 60 + 59, 30 * 60, 30 * 60 + 1, 3600]
steps = st.one_of(
    st.tuples(st.just("request"), st.sampled_from(EMAILS)),
    st.tuples(st.just("wait"), st.sampled_from(WAITS)),
    st.tuples(st.just("redeem"), st.integers(min_value=1, max_value=5)),
)


@dataclass
class ModelReset:
    token: str
    email: str
    issued_at: datetime
    used: bool = False
    story: list[str] = field(default_factory=list)


def _outcome(function: Any, *args: Any) -> tuple[str, Any]:
    """("returned", value) or ("raised", the ValueError) for function(*args)."""
    try:
        return "returned", function(*args)
    except ValueError as error:
        return "raised", error


@pytest.mark.hints(
    "Follow one code through the scenario in the message: when was it issued, how long after "
    "was it redeemed, was it redeemed before?",
)
@GRADING
@given(st.lists(steps, max_size=12))
@example([("request", "ada@example.com"), ("wait", 1800), ("redeem", 1)])
@example([("request", "bob@example.com"), ("redeem", 1), ("redeem", 1)])
def test_generated_scenarios_behave_like_the_spec(
    ex04: ModuleType, scenario: list[tuple[str, Any]]
) -> None:
    """Any sequence of requests, waits and redemptions behaves as the spec says."""
    world = build(ex04)
    issued: list[ModelReset] = []
    elapsed = 0
    for action, argument in scenario:
        if action == "wait":
            elapsed += argument
            world.clock.now = T0 + timedelta(seconds=elapsed)
        elif action == "request":
            before = len(world.mailer.sent)
            world.service.request(argument)
            mails = world.mailer.sent[before:]
            if argument not in PEOPLE:
                assert not mails, (
                    f"request({argument!r}) (no such account) at +{elapsed} s sent {mails}; "
                    "expected nothing"
                )
                continue
            token = f"tok-{len(issued) + 1}"
            issued.append(ModelReset(token, argument, world.clock.now))
            issued[-1].story.append(f"request({argument!r}) at +{elapsed} s issued {token!r}")
            assert (
                len(mails) == 1
                and mails[0]["to"] == argument
                and token in mails[0]["body"]
                and PEOPLE[argument] in mails[0]["body"]
            ), (
                f"request({argument!r}) at +{elapsed} s sent {mails}; expected one mail to "
                f"{argument} greeting {PEOPLE[argument]} with the code {token!r}"
            )
        else:
            known = argument <= len(issued)
            token = issued[argument - 1].token if known else f"tok-{argument}-never-issued"
            how, got = _outcome(world.service.redeem, token)
            if not known:
                expected, why = "ResetError", "it was never issued"
            else:
                reset = issued[argument - 1]
                age = world.clock.now - reset.issued_at
                if reset.used:
                    expected, why = "ResetError", "it was already used"
                elif age >= VALID:
                    expected, why = "ResetError", f"it is {age.total_seconds():g} s old (expired)"
                else:
                    expected, why = "the account", f"it is {age.total_seconds():g} s old"
                    reset.used = True
                reset.story.append(f"redeem({token!r}) at +{elapsed} s")
            story = "; ".join(issued[argument - 1].story) if known else f"redeem({token!r})"
            if expected == "ResetError":
                ok = how == "raised" and isinstance(got, ex04.ResetError)
            else:
                ok = how == "returned" and getattr(got, "email", None) == reset.email
            assert ok, f"{story}: {how} {got!r:.120}; expected {expected} because {why}" + (
                f". {expiry_diagnosis(ex04)}" if "old" in why else ""
            )


# --- the composition root ---------------------------------------------------------------------


def composed(ex04: ModuleType) -> Any:
    compose = getattr(ex04, "compose", None)
    if compose is None:
        pytest.fail(
            "there is no compose(*, stream, accounts=()) function. Hidden dependency: the "
            "module-level MAILER and REPOSITORY are built at import time; build the real "
            "parts in compose(), the composition root, instead.",
            pytrace=False,
        )
    return compose


def mailed_code(text: str) -> str:
    found = re.search(r"code is (\S+?)\. It works once", text)
    assert found, f"compose(stream=out, ...).request(...) wrote {text!r:.200} to out; no code in it"
    return found[1]


@pytest.mark.hints(
    "compose() passes the real parts in: InMemoryAccounts(accounts), ConsoleMailer(stream), "
    "clock=lambda: datetime.now(UTC) (aware, never a fixed date).",
)
def test_compose_builds_a_working_service_from_real_parts(
    ex04: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """compose(stream=..., accounts=[...]) mails a code that redeems, timed by the real UTC clock."""
    compose = composed(ex04)
    saved: list[Any] = []

    class RecordingAccounts(ex04.InMemoryAccounts):  # type: ignore[name-defined,misc]
        def save_reset(self, reset: Any) -> None:
            saved.append(reset)
            super().save_reset(reset)

    # The one patch in this grader: compose() builds its repository inside, so the only
    # way to read the expires_at it saves is to have it build this recording subclass.
    monkeypatch.setattr(ex04, "InMemoryAccounts", RecordingAccounts)
    out = io.StringIO()
    service = compose(stream=out, accounts=[ex04.Account("ada@example.com", "Ada")])
    before = datetime.now(UTC)
    service.request("ada@example.com")
    after = datetime.now(UTC)
    code = mailed_code(out.getvalue())
    assert saved, (
        "compose(...).request('ada@example.com') mailed a code but saved nothing in an "
        "InMemoryAccounts: compose() should build InMemoryAccounts(accounts)"
    )
    expires = saved[-1].expires_at
    try:
        on_time = before + VALID <= expires <= after + VALID
    except TypeError:
        on_time = False
    assert on_time, (
        f"a reset requested at {before.isoformat(timespec='seconds')} through compose() expires "
        f"at {expires.isoformat(timespec='seconds')}; expected 30 minutes after the real now. "
        "compose()'s clock is not the real UTC clock: use lambda: datetime.now(UTC)"
    )
    assert service.redeem(code).name == "Ada", "redeeming the mailed code should return Ada"


@pytest.mark.hints(
    "Build every part inside compose(), on each call; nothing at module level.",
)
def test_compose_builds_fresh_parts_each_time(ex04: ModuleType) -> None:
    """Two services from compose() share nothing: no accounts, codes or mails leak across."""
    compose = composed(ex04)
    out, other = io.StringIO(), io.StringIO()
    compose(stream=out, accounts=[ex04.Account("ada@example.com", "Ada")]).request(
        "ada@example.com"
    )
    second = compose(stream=other)
    second.request("ada@example.com")
    assert other.getvalue() == "", (
        "a second compose(stream=other) with no accounts still knew Ada and wrote "
        f"{other.getvalue()!r:.120}: state is shared through a module-level global. Hidden "
        "dependency: build the parts inside compose()"
    )
    code = mailed_code(out.getvalue())
    how, got = _outcome(lambda: second.redeem(code))
    assert how == "raised", (
        f"a code issued by one compose() service redeemed on another returned {got!r}: the two "
        "share a repository. Hidden dependency: build InMemoryAccounts(accounts) inside compose()"
    )


@pytest.mark.hints(
    "The real token source is `lambda: secrets.token_urlsafe(16)`, built in compose(); "
    "remove `import random` and `import string`.",
)
def test_compose_draws_unpredictable_codes_from_secrets(ex04: ModuleType) -> None:
    """compose()'s codes hold 16 random bytes, never repeat, and do not follow from random's seed."""
    compose = composed(ex04)
    uses_random = [
        name
        for name, value in vars(ex04).items()
        if value is random
        or isinstance(getattr(value, "__self__", None), random.Random)
        or getattr(value, "__module__", None) == "random"
    ]
    assert not uses_random, (
        f"the module still uses the random module (as {', '.join(uses_random)}), which is predictable "
        "(its next outputs follow from the previous ones). Hidden dependency: draw codes from "
        "secrets in compose()"
    )

    def codes(count: int) -> list[str]:
        out = io.StringIO()
        service = compose(stream=out, accounts=[ex04.Account("ada@example.com", "Ada")])
        for _ in range(count):
            service.request("ada@example.com")
        return re.findall(r"code is (\S+?)\. It works once", out.getvalue())

    state = random.getstate()
    try:
        random.seed(1234)
        first = codes(3)
        random.seed(1234)
        again = codes(3)
    finally:
        random.setstate(state)
    assert len(set(first)) == 3, (
        f"three requests through one compose() service mailed the codes {first}; every "
        "request needs a fresh, unguessable code: new_token=lambda: secrets.token_urlsafe(16)"
    )
    assert all(len(code) >= 22 for code in first), (
        f"compose()'s codes {first} are shorter than the 22 characters of "
        "secrets.token_urlsafe(16) (16 random bytes): fewer random bytes, easier to guess"
    )
    assert first != again, (
        f"after random.seed(1234), two compose() services mailed the same codes {first}: "
        "the codes follow from a seed, so an attacker can predict them. Use "
        "secrets.token_urlsafe(16), not random"
    )
