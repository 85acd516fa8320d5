"""The port: what business code may ask of a customer store, and nothing more."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from patterns.repository.domain import Customer


class CustomerRepository(Protocol):
    """Domain objects in, domain objects out; every implementation passes one contract suite.

    Errors are the domain's (:class:`~patterns.repository.domain.AlreadyExists`,
    ``NotFound``, ``InvalidCustomer``), never a driver's, so callers do not
    depend on the storage. An argument of the wrong type (an id that is not an
    int, an address that is not a str) is ``InvalidCustomer`` everywhere.
    """

    def add(self, email: str, name: str) -> Customer:
        """Store a new customer, return it with its id; ``AlreadyExists`` if the e-mail is taken."""
        ...

    def add_many(self, customers: Iterable[tuple[str, str]]) -> list[Customer]:
        """Store ``(email, name)`` pairs all or nothing, in order."""
        ...

    def get(self, customer_id: int) -> Customer:
        """The customer with this id; ``NotFound`` if there is none (see ``validate_id``)."""
        ...

    def find_by_email(self, email: str) -> Customer | None:
        """The customer with exactly this e-mail, or None (also for an address no
        customer can have, such as one with a NUL byte: see ``searchable_email``)."""
        ...

    def remove(self, customer_id: int) -> None:
        """Delete the customer; ``NotFound`` if there is none."""
        ...

    def page(self, limit: int = 50, after: int | None = None) -> list[Customer]:
        """Up to ``limit`` customers with ids above ``after``, in id order (keyset pagination)."""
        ...
