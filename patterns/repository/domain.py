"""The domain: customers of the checkout service, and the errors a repository raises.

Plain frozen dataclasses with no database in sight: the business code and the
tests work with these, and only a repository knows how they are stored. The
capstone's checkout service reuses :class:`Customer` for the people who place
orders.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "EMAIL_MAX_LENGTH",
    "NAME_MAX_LENGTH",
    "AlreadyExists",
    "Customer",
    "InvalidCustomer",
    "NotFound",
    "RepositoryError",
    "validate_email",
    "validate_name",
    "validate_page",
]

#: RFC 5321 caps a path at 256 octets; 320 is the usual generous column limit.
EMAIL_MAX_LENGTH = 320
#: Long enough for any real name, short enough that a runaway payload is refused.
NAME_MAX_LENGTH = 10_000
#: The largest page a caller may ask for in one go.
PAGE_MAX_LIMIT = 1_000


@dataclass(frozen=True)
class Customer:
    """A customer as the business sees it. ``id`` is assigned by the repository."""

    id: int
    email: str
    name: str


class RepositoryError(Exception):
    """Base class of every error a customer repository raises on purpose."""


class AlreadyExists(RepositoryError):
    """A customer with this e-mail address is already stored."""


class NotFound(RepositoryError, LookupError):
    """No customer has the id that was asked for."""


class InvalidCustomer(RepositoryError, ValueError):
    """The data can never be stored (for example a NUL byte); the message says why."""


def _check_text(field: str, value: object, max_length: int) -> str:
    if not isinstance(value, str):
        raise InvalidCustomer(f"{field} must be a str, got {type(value).__name__}: {value!r:.60}")
    if "\x00" in value:
        # PostgreSQL text cannot hold NUL; refusing here gives every
        # implementation the same error instead of a driver DataError.
        raise InvalidCustomer(
            f"{field} contains a NUL byte (\\x00) at position {value.index(chr(0))}; "
            "remove it (NUL is never part of a valid name or address)."
        )
    if len(value) > max_length:
        raise InvalidCustomer(
            f"{field} is {len(value)} characters long; the limit is {max_length}. "
            "Shorten it before storing."
        )
    return value


def validate_email(email: object) -> str:
    """Return ``email`` unchanged if it can be stored, else raise :class:`InvalidCustomer`.

    Deliberately lenient: quotes, semicolons and unicode are legal and stored
    verbatim. Only what can never be an address is refused.
    """
    text = _check_text("email", email, EMAIL_MAX_LENGTH)
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise InvalidCustomer(
            f"email {text!r:.80} has no '@' between a local part and a domain; "
            "expected something like 'ada@example.com'."
        )
    return text


def validate_name(name: object) -> str:
    """Return ``name`` unchanged if it can be stored, else raise :class:`InvalidCustomer`."""
    text = _check_text("name", name, NAME_MAX_LENGTH)
    if not text.strip():
        raise InvalidCustomer("name is empty or only whitespace; give the customer a name.")
    return text


def validate_page(limit: object, after: object) -> tuple[int, int | None]:
    """Check the arguments of ``page()``; raise ``ValueError`` saying what was wrong."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= PAGE_MAX_LIMIT:
        raise ValueError(f"limit must be an int from 1 to {PAGE_MAX_LIMIT}, got {limit!r}")
    if after is not None and (isinstance(after, bool) or not isinstance(after, int)):
        raise ValueError(f"after must be None or the id of the last customer seen, got {after!r}")
    return limit, after
