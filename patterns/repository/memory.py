"""An in-memory customer repository: for unit tests of business code and for prototypes.

When not to use it: as a cache in front of the real database, or anywhere two
processes must see the same data. It lives and dies with one Python object.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from patterns.repository.domain import (
    Customer,
    NotFound,
    already_exists,
    searchable_email,
    validate_email,
    validate_id,
    validate_name,
    validate_page,
)


class InMemoryCustomerRepository:
    """A dict behind the :class:`CustomerRepository` protocol, with the same errors."""

    def __init__(self) -> None:
        self._by_id: dict[int, Customer] = {}
        self._ids = itertools.count(1)

    def add(self, email: str, name: str) -> Customer:
        return self.add_many([(email, name)])[0]

    def add_many(self, customers: Iterable[tuple[str, str]]) -> list[Customer]:
        # Validate everything before writing anything: all or nothing, like
        # the PostgreSQL version's transaction.
        pairs = [(validate_email(email), validate_name(name)) for email, name in customers]
        taken = {c.email for c in self._by_id.values()}
        for email, _ in pairs:
            if email in taken:
                raise already_exists(email)
            taken.add(email)
        added = [Customer(next(self._ids), email, name) for email, name in pairs]
        self._by_id.update((c.id, c) for c in added)
        return added

    def get(self, customer_id: int) -> Customer:
        # validate_id first: a dict would find True as id 1, and "1" as nobody.
        try:
            return self._by_id[validate_id(customer_id)]
        except KeyError:
            raise NotFound(f"no customer with id {customer_id!r}") from None

    def find_by_email(self, email: str) -> Customer | None:
        wanted = searchable_email(email)
        return next((c for c in self._by_id.values() if c.email == wanted), None)

    def remove(self, customer_id: int) -> None:
        if self._by_id.pop(validate_id(customer_id), None) is None:
            raise NotFound(f"no customer with id {customer_id!r}")

    def page(self, limit: int = 50, after: int | None = None) -> list[Customer]:
        limit, after_id = validate_page(limit, after)
        newer = sorted((c for c in self._by_id.values() if c.id > after_id), key=lambda c: c.id)
        return newer[:limit]
