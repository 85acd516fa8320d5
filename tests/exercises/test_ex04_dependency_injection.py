"""Grader for ex04: the password-reset service built with fakes only, no patching.

Every dependency is passed in: a fake repository, a recording mailer, a clock
the test sets, and a token source that returns known tokens. If the service
cannot be built that way, or ignores what it was given, the failure names the
hidden dependency it still reaches for.
"""

from __future__ import annotations

import inspect
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from patterns.course.grading import load_graded

T0 = datetime(2031, 3, 14, 9, 26, 53, tzinfo=UTC)  # far from the real now, on purpose
HIDDEN = {
    "accounts": "the module-level REPOSITORY",
    "mailer": "the module-level MAILER",
    "clock": "datetime.now()",
    "new_token": "the random module",
}


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
    tokens: list[str]


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
    accounts = FakeAccounts({"ada@example.com": ex04.Account("ada@example.com", "Ada")})
    mailer, clock = RecordingMailer(), FakeClock()
    tokens = ["tok-1", "tok-2", "tok-3"]
    issued = iter(tokens)
    new_token: Callable[[], str] = lambda: next(issued)  # noqa: E731
    service = cls(accounts=accounts, mailer=mailer, clock=clock, new_token=new_token)
    return World(service, accounts, mailer, clock, tokens)


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
    assert expires == T0 + timedelta(minutes=30), (
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
            "still valid then. Hidden dependency: is it still comparing with datetime.now()?",
            pytrace=False,
        )
    assert account.email == "ada@example.com", (
        f"redeem('tok-1') returned {account!r}; expected Ada's account"
    )


@pytest.mark.parametrize("seconds", [30 * 60, 30 * 60 + 1, 86_400])
def test_code_is_refused_from_thirty_minutes_on(ex04: ModuleType, seconds: int) -> None:
    """redeem() raises ResetError from exactly 30 minutes after the request."""
    world = build(ex04)
    requested(world)
    world.clock.now = T0 + timedelta(seconds=seconds)
    with pytest.raises(ex04.ResetError):
        account = world.service.redeem("tok-1")
        pytest.fail(
            f"redeem('tok-1') {seconds} s after the request (injected clock at "
            f"{world.clock.now.isoformat()}) returned {account!r}; it should raise ResetError "
            "(expired). Hidden dependency: is it still comparing with datetime.now()?",
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


def test_compose_builds_the_real_parts_fresh_each_time(ex04: ModuleType) -> None:
    """compose(stream=..., accounts=[...]) builds a working service from real parts, no globals."""
    compose = getattr(ex04, "compose", None)
    if compose is None:
        pytest.fail(
            "there is no compose(*, stream, accounts=()) function. Hidden dependency: the "
            "module-level MAILER and REPOSITORY are built at import time; build the real "
            "parts in compose(), the composition root, instead.",
            pytrace=False,
        )
    out = io.StringIO()
    service = compose(stream=out, accounts=[ex04.Account("ada@example.com", "Ada")])
    service.request("ada@example.com")
    found = re.search(r"code is ([A-Za-z0-9_-]+)", out.getvalue())
    assert found, f"compose(stream=out, ...).request(...) wrote {out.getvalue()!r} to out"
    assert service.redeem(found[1]).name == "Ada", "redeeming the mailed code should return Ada"
    other = io.StringIO()
    compose(stream=other).request("ada@example.com")
    assert other.getvalue() == "", (
        "a second compose(stream=other) with no accounts still knew Ada and wrote "
        f"{other.getvalue()!r}: state is shared through a module-level global"
    )
