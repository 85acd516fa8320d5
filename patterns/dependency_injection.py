"""Dependency injection: a class says what it needs; one place builds the real things.

What this pattern is about: code that reaches for ``datetime.now()``, a
module-level client or ``os.environ`` has *hidden* dependencies. Its tests
must patch globals, and its behaviour changes with the hour of the day. With
constructor injection the class receives those things as arguments, its
signature is the full list of what it depends on, and a test passes fakes.

What this module shows:

* ``EmailService``, taking a ``Mailer`` (a ``Protocol``), ``Templates`` and a
  ``Clock``. Its welcome mail greets the user by name (the textbook version
  rendered ``name="User"`` for everyone).
* ``RecordingMailer``: a typed fake that records what was sent, so a test can
  assert on the mail itself, not only that ``send`` was called.
* ``FixedClock``: a clock for tests. A clock is anything you *call* to get the
  time (``clock()``); ``FixedClock(at=...)`` returns the instant it was given.
* ``Settings.from_env`` and ``build_email_service``: the composition root, the
  one place that reads the environment and builds real objects.

TL;DR: pass dependencies to ``__init__``; build them in one function at the
edge of the program; in tests prefer a small typed fake that records what
happened to a bare ``MagicMock``, which accepts any method name. A fake does
not notice when the *real* class renames a method (the fake still has the old
one); what notices is mypy checking the composition root, where the real class
is passed as a ``Mailer``, or a ``create_autospec`` of the real class.

When not to use it: pure functions of their arguments need nothing injected;
a DI container framework is rarely worth it in Python, where a function that
builds the objects (the composition root) does the same job in plain sight.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol, TextIO

__all__ = [
    "DEFAULT_TEMPLATES",
    "Clock",
    "ConfigError",
    "ConsoleMailer",
    "EmailService",
    "FixedClock",
    "Mail",
    "Mailer",
    "RecordingMailer",
    "Settings",
    "TemplateError",
    "Templates",
    "User",
    "build_email_service",
    "utc_now",
]

#: Anything that tells the time: ``utc_now`` in production, a ``FixedClock`` in tests.
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock, timezone-aware (naive datetimes compare wrongly across zones)."""
    return datetime.now(UTC)


@dataclass
class FixedClock:
    """A test clock: calling it, ``clock()``, returns ``at``; ``advance`` moves it on.

    Like every ``Clock`` it is a function of no arguments, so a service calls it
    (``self._clock()``) and never knows whether the time is real.
    """

    at: datetime

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        """Move the clock on by ``timedelta(**delta)``, e.g. ``advance(minutes=30)``."""
        self.at += timedelta(**delta)


class ConfigError(ValueError):
    """A missing or invalid environment variable; the message names it."""


class TemplateError(ValueError):
    """An unknown template, or a value the template needs that was not given."""


@dataclass(frozen=True)
class User:
    email: str
    name: str


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


class Mailer(Protocol):
    """What ``EmailService`` needs to send mail: this one method, nothing else."""

    def send(self, *, to: str, subject: str, body: str) -> None: ...


@dataclass
class RecordingMailer:
    """A typed fake ``Mailer``: keeps every mail in ``sent`` for the test to inspect.

    Unlike a bare ``MagicMock`` it has only the ``Mailer`` interface, so a call
    to a method that does not exist fails, and mypy checks it against ``Mailer``.
    It follows the protocol, not the real mailer: if the real class renames
    ``send``, this fake keeps passing; mypy on the composition root catches that.
    """

    sent: list[Mail] = field(default_factory=list)

    def send(self, *, to: str, subject: str, body: str) -> None:
        self.sent.append(Mail(to, subject, body))


@dataclass
class ConsoleMailer:
    """The development ``Mailer``: writes each mail to a text stream instead of SMTP."""

    sender: str
    stream: TextIO

    def send(self, *, to: str, subject: str, body: str) -> None:
        self.stream.write(f"From: {self.sender}\nTo: {to}\nSubject: {subject}\n\n{body}\n")


class Templates:
    """Named ``string.Template`` texts; rendering refuses a missing value
    instead of sending ``Hello $name`` to a customer."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self._texts = {name: string.Template(text) for name, text in texts.items()}

    def render(self, template: str, /, **values: str) -> str:
        if template not in self._texts:
            raise TemplateError(
                f"no template called {template!r}; known: {', '.join(sorted(self._texts))}"
            )
        try:
            return self._texts[template].substitute(values)
        except KeyError as missing:
            raise TemplateError(
                f"template {template!r} needs a value for {missing.args[0]!r}; pass it to render()"
            ) from None


DEFAULT_TEMPLATES = Templates(
    {"welcome": "$greeting $name,\n\nwelcome aboard! Your account $email is ready.\n"}
)


class EmailService:
    """Sends the product's e-mails. Every collaborator arrives through ``__init__``."""

    def __init__(self, mailer: Mailer, templates: Templates, clock: Clock) -> None:
        self._mailer = mailer
        self._templates = templates
        self._clock = clock

    def send_welcome(self, user: User) -> None:
        """Welcome ``user`` by name, with a greeting for the time of day (UTC)."""
        body = self._templates.render(
            "welcome", greeting=_greeting(self._clock()), name=user.name, email=user.email
        )
        self._mailer.send(to=user.email, subject=f"Welcome, {user.name}!", body=body)


def _greeting(now: datetime) -> str:
    if now.hour < 12:
        return "Good morning"
    return "Good afternoon" if now.hour < 18 else "Good evening"


# --- the composition root -------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Configuration, read from the environment once, at start-up."""

    sender: str
    mailer: Literal["console", "memory"] = "console"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read ``MAIL_SENDER`` (required) and ``MAILER`` (``console`` or ``memory``)."""
        sender = environ.get("MAIL_SENDER", "").strip()
        if not sender:
            raise ConfigError(
                "MAIL_SENDER is not set; set it to the shop's sender address, "
                "e.g. MAIL_SENDER=shop@example.com"
            )
        if "@" not in sender:
            raise ConfigError(
                f"MAIL_SENDER must be an e-mail address, got {sender!r}; "
                "set it, e.g. MAIL_SENDER=shop@example.com"
            )
        mailer = environ.get("MAILER", "console")
        if mailer not in ("console", "memory"):
            raise ConfigError(f"MAILER must be 'console' or 'memory', got {mailer!r}")
        return cls(sender, "console" if mailer == "console" else "memory")


def build_email_service(
    environ: Mapping[str, str], *, stream: TextIO, clock: Clock = utc_now
) -> EmailService:
    """The composition root: the one place that reads configuration and builds
    the real objects. Call it from ``main()`` with ``os.environ`` and ``sys.stdout``."""
    settings = Settings.from_env(environ)
    mailer: Mailer = (
        ConsoleMailer(settings.sender, stream)
        if settings.mailer == "console"
        else RecordingMailer()
    )
    return EmailService(mailer, DEFAULT_TEMPLATES, clock)
