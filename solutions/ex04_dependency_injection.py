"""Exercise 04, dependency injection: make a password-reset service testable.

``PasswordResets`` below works, but it reaches for four hidden dependencies:
``datetime.now()``, the ``random`` module, the module-level ``MAILER`` and the
module-level ``REPOSITORY``. Its tests can choose the time and the code only
by patching this module's globals (``datetime``, ``random``, and ``MAILER``
and ``REPOSITORY`` to see what was sent and saved), which ties them to how
the module imports each one. Refactor it to constructor injection:

* ``PasswordResets(*, accounts, mailer, clock, new_token)``, all required
  keyword arguments (each is a part, and a default that supplies a part
  would be a hidden dependency again; plain data, like the empty
  ``accounts=()`` of ``compose`` and ``InMemoryAccounts``, may have one): an
  ``Accounts`` repository, a ``Mailer``, a clock (a callable returning an
  aware ``datetime``) and ``new_token`` (a callable returning a fresh token
  string). The methods use only these, never a global.
* ``compose(*, stream, accounts=())``: the composition root, the one place that
  builds the real parts, fresh on every call: an ``InMemoryAccounts`` holding
  ``accounts``, a ``ConsoleMailer`` writing to ``stream``, the real UTC clock,
  and ``secrets.token_urlsafe(16)`` for tokens (``random`` is predictable:
  never use it for secrets, and do not import it here). Delete the
  module-level ``MAILER`` and ``REPOSITORY``: the module holds no parts.

Keep the behaviour exactly as it is:

* ``request(email)``: for a known account, save a ``PasswordReset`` that
  expires 30 minutes after now and mail the holder, by name, the code.
  For an unknown address do nothing (do not reveal who has an account).
* ``redeem(token)``: return the account; raise ``ResetError`` when the token
  is unknown, already used, or expired (at 30 minutes exactly it is expired).
"""

from __future__ import annotations

# BEGIN SOLUTION
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol, TextIO

# STUB
# import random
# import string
# import sys
# from collections.abc import Callable, Iterable
# from dataclasses import dataclass, replace
# from datetime import UTC, datetime, timedelta
# from typing import Protocol, TextIO
# END SOLUTION

RESET_VALID_FOR = timedelta(minutes=30)


class ResetError(ValueError):
    """A reset code that is unknown, already used or expired."""


@dataclass(frozen=True)
class Account:
    email: str
    name: str


@dataclass(frozen=True)
class PasswordReset:
    token: str
    email: str
    expires_at: datetime
    used: bool = False


class Accounts(Protocol):
    """The repository the service needs."""

    def by_email(self, email: str) -> Account | None: ...

    def save_reset(self, reset: PasswordReset) -> None: ...

    def reset_for(self, token: str) -> PasswordReset | None: ...


class Mailer(Protocol):
    def send(self, *, to: str, subject: str, body: str) -> None: ...


class InMemoryAccounts:
    """The real (in-process) repository; lesson 01 has the PostgreSQL one."""

    def __init__(self, accounts: Iterable[Account] = ()) -> None:
        self._accounts = {account.email: account for account in accounts}
        self._resets: dict[str, PasswordReset] = {}

    def by_email(self, email: str) -> Account | None:
        return self._accounts.get(email)

    def save_reset(self, reset: PasswordReset) -> None:
        self._resets[reset.token] = reset

    def reset_for(self, token: str) -> PasswordReset | None:
        return self._resets.get(token)


class ConsoleMailer:
    """The development mailer: prints each mail to the text stream it is given.

    The stream is required: a default of ``sys.stdout`` would be a global the
    caller did not pass. The composition root says where mail goes.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def send(self, *, to: str, subject: str, body: str) -> None:
        self._stream.write(f"To: {to}\nSubject: {subject}\n\n{body}")


def reset_mail(account: Account, token: str) -> str:
    return (
        f"Hello {account.name},\n\nyour password reset code is {token}. "
        "It works once, for 30 minutes.\n"
    )


# BEGIN SOLUTION
class PasswordResets:
    """Password-reset codes: issued by mail, valid once, for 30 minutes."""

    def __init__(
        self,
        *,
        accounts: Accounts,
        mailer: Mailer,
        clock: Callable[[], datetime],
        new_token: Callable[[], str],
    ) -> None:
        self._accounts = accounts
        self._mailer = mailer
        self._clock = clock
        self._new_token = new_token

    def request(self, email: str) -> None:
        account = self._accounts.by_email(email)
        if account is None:
            return  # same outward behaviour for unknown addresses: no account enumeration
        token = self._new_token()
        self._accounts.save_reset(PasswordReset(token, email, self._clock() + RESET_VALID_FOR))
        self._mailer.send(to=email, subject="Reset your password", body=reset_mail(account, token))

    def redeem(self, token: str) -> Account:
        reset = self._accounts.reset_for(token)
        if reset is None or reset.used:
            raise ResetError("this reset code is unknown or already used; request a new one")
        if self._clock() >= reset.expires_at:
            raise ResetError("this reset code has expired; request a new one")
        account = self._accounts.by_email(reset.email)
        if account is None:
            raise ResetError("the account for this code no longer exists")
        self._accounts.save_reset(replace(reset, used=True))
        return account


def compose(*, stream: TextIO, accounts: Iterable[Account] = ()) -> PasswordResets:
    """The composition root: the only place that builds the real parts."""
    return PasswordResets(
        accounts=InMemoryAccounts(accounts),
        mailer=ConsoleMailer(stream),
        clock=lambda: datetime.now(UTC),
        new_token=lambda: secrets.token_urlsafe(16),
    )


# STUB
# MAILER = ConsoleMailer(sys.stdout)
# REPOSITORY = InMemoryAccounts()
#
#
# class PasswordResets:
#     """Password-reset codes: issued by mail, valid once, for 30 minutes."""
#
#     def request(self, email: str) -> None:
#         account = REPOSITORY.by_email(email)
#         if account is None:
#             return  # same outward behaviour for unknown addresses: no account enumeration
#         token = "".join(random.choices(string.ascii_letters + string.digits, k=16))
#         REPOSITORY.save_reset(PasswordReset(token, email, datetime.now(UTC) + RESET_VALID_FOR))
#         MAILER.send(to=email, subject="Reset your password", body=reset_mail(account, token))
#
#     def redeem(self, token: str) -> Account:
#         reset = REPOSITORY.reset_for(token)
#         if reset is None or reset.used:
#             raise ResetError("this reset code is unknown or already used; request a new one")
#         if datetime.now(UTC) >= reset.expires_at:
#             raise ResetError("this reset code has expired; request a new one")
#         account = REPOSITORY.by_email(reset.email)
#         if account is None:
#             raise ResetError("the account for this code no longer exists")
#         REPOSITORY.save_reset(replace(reset, used=True))
#         return account
# END SOLUTION
