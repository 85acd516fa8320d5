"""ex01 right, written differently: dict rows mapped by column name, one shared column
list, DELETE ... RETURNING instead of rowcount, a generator of inserts in the transaction,
the checked id rebinding the argument, and its own AlreadyExists wording.

Exercise 01: a second repository, over somebody else's table.

The billing team already keeps customers in PostgreSQL, in a table you do not
own and cannot rename (see :data:`LEGACY_SCHEMA`): different table, different
column names, a different column order, and extra columns. Its owners may
reorder its columns or add new ones at any time (the grader also runs your
repository on such a copy of the table). Write
:class:`LegacyCustomerRepository` so that it passes the very same contract
suite as ``patterns.repository``'s implementations
(``tests/test_repository_contract.py``). Business code will not notice the
swap: that is the point of the pattern.

Rules of the house:

* parameterised SQL only (``%s`` placeholders), never f-strings or ``+``;
* name the columns you select and map them onto :class:`Customer`
  (``SELECT contact_id AS id, ...`` with ``class_row(Customer)``);
* the six operations raise only the domain's errors (``AlreadyExists``,
  ``NotFound``, ``InvalidCustomer``), never psycopg's, whatever the caller
  passes: check every argument with ``patterns.repository``'s validators
  (imported below) before any SQL runs;
* ``add_many`` is all or nothing: one ``with conn.transaction():`` block;
* ``page`` is keyset pagination: ``WHERE contact_id > %s ORDER BY contact_id``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg import errors
from psycopg.rows import dict_row

from patterns.repository import (
    AlreadyExists,
    Customer,
    NotFound,
    searchable_email,
    validate_email,
    validate_id,
    validate_name,
    validate_page,
)

#: The billing team's table. Note the order: the name comes before the e-mail.
LEGACY_SCHEMA = """
CREATE TABLE IF NOT EXISTS crm_contacts (
    contact_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    display_name  text NOT NULL,
    email_address text NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    notes         text
)
"""


def create_legacy_schema(conn: psycopg.Connection[Any]) -> None:
    """Create ``crm_contacts`` if it is missing (the grader calls this for you)."""
    with conn.transaction():
        conn.execute(LEGACY_SCHEMA)


_COLUMNS = "contact_id, email_address, display_name"


def _customer(row: dict[str, Any]) -> Customer:
    return Customer(id=row["contact_id"], email=row["email_address"], name=row["display_name"])


class LegacyCustomerRepository:
    """Customers stored in the billing team's ``crm_contacts`` table."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        if not conn.autocommit:
            raise ValueError("LegacyCustomerRepository needs an autocommit connection")
        self._conn = conn

    def _one(self, sql: str, params: tuple[Any, ...]) -> dict[str, Any] | None:
        with self._conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql, params)
            return cur.fetchone()

    def add(self, email: str, name: str) -> Customer:
        (customer,) = self.add_many(iter([(email, name)]))
        return customer

    def add_many(self, customers: Iterable[tuple[str, str]]) -> list[Customer]:
        checked = []
        for email, name in customers:
            checked.append((validate_email(email), validate_name(name)))
        try:
            with self._conn.transaction():
                return [
                    _customer(
                        row
                    )
                    for row in (
                        self._one(
                            "INSERT INTO crm_contacts (display_name, email_address) VALUES (%s, %s) "
                            f"RETURNING {_COLUMNS}",
                            (name, email),
                        )
                        for email, name in checked
                    )
                    if row is not None
                ]
        except errors.UniqueViolation:
            raise AlreadyExists("that e-mail address is taken") from None

    def get(self, customer_id: int) -> Customer:
        customer_id = validate_id(customer_id)
        row = self._one(f"SELECT {_COLUMNS} FROM crm_contacts WHERE contact_id = %s", (customer_id,))
        if row is None:
            raise NotFound(f"customer {customer_id} does not exist")
        return _customer(row)

    def find_by_email(self, email: str) -> Customer | None:
        if searchable_email(email) is None:
            return None  # no customer can have it, and the driver would fail on it
        row = self._one(f"SELECT {_COLUMNS} FROM crm_contacts WHERE email_address = %s", (email,))
        return None if row is None else _customer(row)

    def remove(self, customer_id: int) -> None:
        customer_id = validate_id(customer_id)
        if self._one("DELETE FROM crm_contacts WHERE contact_id = %s RETURNING 1", (customer_id,)) is None:
            raise NotFound(f"customer {customer_id} does not exist")

    def page(self, limit: int = 50, after: int | None = None) -> list[Customer]:
        limit, after = validate_page(limit, after)
        if after is None:
            sql, params = f"SELECT {_COLUMNS} FROM crm_contacts ORDER BY contact_id LIMIT %s", (limit,)
        else:
            sql = f"SELECT {_COLUMNS} FROM crm_contacts WHERE contact_id > %s ORDER BY contact_id LIMIT %s"
            params = (after, limit)
        with self._conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql, params)
            return [_customer(row) for row in cur.fetchall()]
