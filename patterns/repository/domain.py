"""The domain: customers of the checkout service, and the errors a repository raises.

Plain frozen dataclasses with no database in sight: the business code and the
tests work with these, and only a repository knows how they are stored.

The checks here are shared by every implementation, so that "swap the
database, same behaviour" holds for hostile input too: text PostgreSQL cannot
hold (NUL, lone surrogates) is refused before any driver sees it, and an id
or address of the wrong type is the same domain error everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "EMAIL_MAX_LENGTH",
    "MAX_ID",
    "NAME_MAX_LENGTH",
    "AlreadyExists",
    "Customer",
    "InvalidCustomer",
    "NotFound",
    "RepositoryError",
    "already_exists",
    "searchable_email",
    "validate_email",
    "validate_id",
    "validate_name",
    "validate_page",
]

#: RFC 5321 caps a path at 256 octets; 320 is the usual generous column limit.
EMAIL_MAX_LENGTH = 320
#: Long enough for any real name, short enough that a runaway payload is refused.
NAME_MAX_LENGTH = 10_000
#: The largest page a caller may ask for in one go.
PAGE_MAX_LIMIT = 1_000
#: Ids are assigned from 1 up to this (PostgreSQL's bigint); no customer has another.
MAX_ID = 2**63 - 1


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
    """The data can never be stored (for example a NUL byte), or an argument is
    unusable (an id that is not an int, a page limit outside 1-1000); the message
    says why."""


def already_exists(email: str) -> AlreadyExists:
    """The one wording of :class:`AlreadyExists`, for every implementation (no driver detail)."""
    return AlreadyExists(f"a customer with email {email!r:.80} already exists")


def _shown(value: object) -> str:
    """``repr(value)`` cut to 60 characters. An int too long to print is described
    instead: ``repr()`` of one over 4,300 digits raises ``ValueError``."""
    if isinstance(value, int) and value.bit_length() > 256:
        return f"an int of {value.bit_length()} bits"
    return repr(value)[:60]


def _wrong_type(field: str, value: object, expected: str) -> InvalidCustomer:
    return InvalidCustomer(
        f"{field} must be {expected}, got {type(value).__name__}: {_shown(value)}"
    )


def _check_text(field: str, value: object, max_length: int) -> str:
    if not isinstance(value, str):
        raise _wrong_type(field, value, "a str")
    if "\x00" in value:
        # PostgreSQL text cannot hold NUL; refusing here gives every
        # implementation the same error instead of a driver DataError.
        raise InvalidCustomer(
            f"{field} contains a NUL byte (\\x00) at position {value.index(chr(0))}; "
            "remove it (NUL is never part of a valid name or address)."
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        # A lone surrogate (json.loads('"\\ud800"') makes one) is not text any
        # encoding can carry: PostgreSQL's driver would fail on it half-way.
        raise InvalidCustomer(
            f"{field} contains a lone surrogate ({value[error.start]!r}) at position "
            f"{error.start}; it is not valid Unicode text: decode the input properly."
        ) from None
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


def validate_id(customer_id: object) -> int:
    """Return ``customer_id`` if some customer could have it.

    Raises :class:`InvalidCustomer` for anything but an int (``"1"``, ``1.0`` and
    ``True`` are bugs in the caller, not ids; a dict would find ``True`` as id 1
    and PostgreSQL would find ``"1"``), and :class:`NotFound` for an int outside
    1 to :data:`MAX_ID`, without asking the database.
    """
    if isinstance(customer_id, bool) or not isinstance(customer_id, int):
        raise _wrong_type("customer_id", customer_id, "an int")
    if not 1 <= customer_id <= MAX_ID:
        raise NotFound(f"no customer with id {_shown(customer_id)} (ids run from 1 to {MAX_ID})")
    return customer_id


def searchable_email(email: object) -> str | None:
    """The address to look for, or ``None`` when no customer can have it.

    An address :func:`validate_email` refuses (a NUL byte, a lone surrogate,
    too long, no ``@``) was never stored, so a lookup finds nobody, on every
    implementation, without the driver seeing it. Anything but a str raises
    :class:`InvalidCustomer`.
    """
    if not isinstance(email, str):
        raise _wrong_type("email", email, "a str")
    try:
        return validate_email(email)
    except InvalidCustomer:
        return None


def validate_page(limit: object, after: object) -> tuple[int, int]:
    """Check the arguments of ``page()`` and return them cleaned: ``(limit, after)``,
    with ``after`` an id from 0 (``None``: from the start) to :data:`MAX_ID`.

    Raises :class:`InvalidCustomer` saying what was wrong: a domain error like every
    other a repository raises, so a caller needs only ``except RepositoryError``.
    It is also a ``ValueError``.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= PAGE_MAX_LIMIT:
        raise InvalidCustomer(
            f"limit must be an int from 1 to {PAGE_MAX_LIMIT}, got {_shown(limit)}"
        )
    if after is None:
        return limit, 0
    if isinstance(after, bool) or not isinstance(after, int):
        raise InvalidCustomer(
            f"after must be None or the id of the last customer seen, got {_shown(after)}"
        )
    # Past either end every implementation gives the same page: all, or nothing.
    return limit, min(max(after, 0), MAX_ID)
