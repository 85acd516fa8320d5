"""Dependency injection: the service runs on fakes, the composition root on real parts."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from unittest.mock import MagicMock, create_autospec

import pytest

from patterns.dependency_injection import DEFAULT_TEMPLATES as TEMPLATES
from patterns.dependency_injection import (
    ConfigError,
    ConsoleMailer,
    EmailService,
    FixedClock,
    Mail,
    RecordingMailer,
    Settings,
    TemplateError,
    Templates,
    User,
    build_email_service,
)

ADA = User("ada@example.com", "Ada")


def at(hour: int) -> FixedClock:
    return FixedClock(at=datetime(2030, 1, 1, hour, 30, tzinfo=UTC))


def test_welcome_mail_greets_the_user_by_name() -> None:
    mailer = RecordingMailer()
    EmailService(mailer, TEMPLATES, at(9)).send_welcome(ADA)
    assert mailer.sent == [
        Mail(
            to="ada@example.com",
            subject="Welcome, Ada!",
            body="Good morning Ada,\n\nwelcome aboard! Your account ada@example.com is ready.\n",
        )
    ]


@pytest.mark.parametrize(
    ("hour", "greeting"),
    [(0, "Good morning"), (11, "Good morning"), (12, "Good afternoon"), (18, "Good evening")],
)
def test_greeting_follows_the_injected_clock(hour: int, greeting: str) -> None:
    mailer = RecordingMailer()
    EmailService(mailer, TEMPLATES, at(hour)).send_welcome(ADA)
    assert mailer.sent[0].body.startswith(greeting)


def test_fixed_clock_advances_only_when_told() -> None:
    clock = at(11)
    assert clock() == clock()
    clock.advance(hours=1)
    assert clock().hour == 12
    assert clock.at == clock()


class RenamedMailer:
    """The real mailer after a refactor renamed ``send`` to ``deliver``."""

    def deliver(self, *, to: str, subject: str, body: str) -> None: ...


def test_a_bare_magicmock_passes_even_after_the_method_was_renamed() -> None:
    # This is the trap: the test is green although production would crash.
    mailer = MagicMock()
    EmailService(mailer, TEMPLATES, at(9)).send_welcome(ADA)
    mailer.send.assert_called_once()
    with pytest.raises(AttributeError, match="send"):
        EmailService(RenamedMailer(), TEMPLATES, at(9)).send_welcome(ADA)  # type: ignore[arg-type]


def test_a_typed_fake_still_passes_after_the_real_class_renamed_its_method() -> None:
    # The fake follows the Mailer protocol, not the real class: at run time it cannot
    # know that RenamedMailer no longer has send(). Only mypy or autospec can.
    fake = RecordingMailer()
    EmailService(fake, TEMPLATES, at(9)).send_welcome(ADA)
    assert len(fake.sent) == 1
    assert not hasattr(RenamedMailer, "send")


def test_create_autospec_catches_the_renamed_method() -> None:
    mailer = create_autospec(RenamedMailer, instance=True)
    with pytest.raises(AttributeError, match="send"):
        EmailService(mailer, TEMPLATES, at(9)).send_welcome(ADA)


def test_create_autospec_checks_the_call_signature_too() -> None:
    mailer = create_autospec(ConsoleMailer, instance=True)
    with pytest.raises(TypeError):
        mailer.send("ada@example.com", "hi", "body")  # positional: the real send is keyword-only
    EmailService(mailer, TEMPLATES, at(9)).send_welcome(ADA)
    mailer.send.assert_called_once()


def test_templates_refuse_missing_values_and_unknown_names() -> None:
    templates = Templates({"welcome": "Hello $name"})
    with pytest.raises(TemplateError, match="needs a value for 'name'"):
        templates.render("welcome")
    with pytest.raises(TemplateError, match="no template called 'welcom'; known: welcome"):
        templates.render("welcom", name="Ada")


def test_composition_root_builds_a_console_mailer_from_the_environment() -> None:
    out = io.StringIO()
    service = build_email_service({"MAIL_SENDER": "shop@example.com"}, stream=out, clock=at(20))
    service.send_welcome(ADA)
    assert out.getvalue().startswith("From: shop@example.com\nTo: ada@example.com\n")
    assert "Good evening Ada" in out.getvalue()


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({}, "MAIL_SENDER is not set; set it"),
        ({"MAIL_SENDER": "  "}, "MAIL_SENDER is not set"),
        ({"MAIL_SENDER": "shop"}, "MAIL_SENDER must be an e-mail address"),
        ({"MAIL_SENDER": "a@b.c", "MAILER": "smtp"}, "MAILER must be 'console' or 'memory'"),
    ],
)
def test_bad_configuration_names_the_variable(environ: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        Settings.from_env(environ)
    assert issubclass(ConfigError, ValueError)


RENAMED_PROTOCOL = """
from typing import Protocol


class Mailer(Protocol):
    def deliver(self, *, to: str, subject: str, body: str) -> None: ...


class EmailService:
    def __init__(self, mailer: Mailer) -> None:
        self._mailer = mailer

    def send_welcome(self) -> None:
        self._mailer.send(to="ada@example.com", subject="Welcome", body="...")
"""


def test_mypy_flags_a_call_to_a_renamed_protocol_method(tmp_path: Path) -> None:
    """When the protocol itself renames the method, mypy flags every stale call to it."""
    from mypy import api

    source = tmp_path / "renamed.py"
    source.write_text(RENAMED_PROTOCOL, encoding="utf-8")
    report, _, status = api.run(
        [str(source), "--cache-dir", str(tmp_path / "cache"), "--config-file", ""]
    )
    assert status == 1
    assert '"Mailer" has no attribute "send"' in report


COMPOSITION_ROOT_AFTER_RENAME = """
from patterns.dependency_injection import DEFAULT_TEMPLATES, EmailService, utc_now


class SmtpMailer:
    def deliver(self, *, to: str, subject: str, body: str) -> None: ...


def compose() -> EmailService:
    return EmailService(SmtpMailer(), DEFAULT_TEMPLATES, utc_now)
"""


def test_mypy_flags_the_renamed_real_class_at_the_composition_root() -> None:
    """Backs notebook 04: where the real class is passed as a Mailer, mypy sees the rename."""
    from patterns.lab import mypy_report

    report = mypy_report(COMPOSITION_ROOT_AFTER_RENAME, file_name="composition_root.py")
    assert report.status == 1, report.text
    assert report.errors == [
        'composition_root.py:10: error: Argument 1 to "EmailService" has incompatible type '
        '"SmtpMailer"; expected "Mailer"  [arg-type]'
    ], report.text


def test_mypy_report_is_clean_for_a_correct_composition_root() -> None:
    """The same snippet with send() passes, so the failure above is about the rename."""
    from patterns.lab import mypy_report

    fixed = COMPOSITION_ROOT_AFTER_RENAME.replace("def deliver", "def send")
    report = mypy_report(fixed, file_name="composition_root.py")
    assert (report.status, report.errors) == (0, []), report.text
