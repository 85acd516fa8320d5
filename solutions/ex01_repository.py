"""Exercise 01: a second repository, over somebody else's table.

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
  ``NotFound``, ``InvalidCustomer``), never psycopg's, whatever values the
  caller passes (``add_many`` takes an iterable of ``(email, name)`` pairs;
  another shape is the caller's bug): check every value with
  ``patterns.repository``'s validators (imported below) before any SQL runs;
* ``add_many`` is all or nothing: one ``with conn.transaction():`` block;
* ``page`` is keyset pagination: ``WHERE contact_id > %s ORDER BY contact_id``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg import errors
from psycopg.rows import class_row

from patterns.repository import (
    Customer,
    NotFound,
    already_exists,
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


class LegacyCustomerRepository:
    """Customers stored in the billing team's ``crm_contacts`` table.

    Takes an autocommit connection; it neither opens nor closes it.
    """

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        if not conn.autocommit:
            raise ValueError(
                "LegacyCustomerRepository needs an autocommit connection: "
                "open it with psycopg.connect(url, autocommit=True)."
            )
        self._conn = conn

    def add(self, email: str, name: str) -> Customer:
        """Store one customer; see :meth:`add_many`."""
        # BEGIN SOLUTION: store one customer and return it (add_many can do the work)
        return self.add_many([(email, name)])[0]
        # END SOLUTION

    def add_many(self, customers: Iterable[tuple[str, str]]) -> list[Customer]:
        """Store ``(email, name)`` pairs all or nothing; return them as Customers, in order.

        ``customers`` is any iterable (a list, a generator): read it only once.

        Validate with ``validate_email``/``validate_name`` first (they raise
        ``InvalidCustomer``); turn ``errors.UniqueViolation`` into
        ``already_exists(email)``, the domain's ``AlreadyExists`` worded as every
        repository words it (the driver's detail would leak the table's columns).
        """
        # BEGIN SOLUTION: validate, then insert every pair in one transaction
        pairs = [(validate_email(email), validate_name(name)) for email, name in customers]
        added: list[Customer] = []
        try:
            with (
                self._conn.transaction(),
                self._conn.cursor(row_factory=class_row(Customer)) as cur,
            ):
                for email, name in pairs:
                    cur.execute(
                        "INSERT INTO crm_contacts (email_address, display_name) VALUES (%s, %s) "
                        "RETURNING contact_id AS id, email_address AS email, display_name AS name",
                        (email, name),
                    )
                    row = cur.fetchone()
                    assert row is not None
                    added.append(row)
        except errors.UniqueViolation as error:
            # `email` is the address whose insert failed.
            raise already_exists(email) from error
        return added
        # END SOLUTION

    def get(self, customer_id: int) -> Customer:
        """The customer with this id; ``NotFound`` (naming the id) if there is none.

        ``validate_id(customer_id)`` first: it raises ``InvalidCustomer`` for
        anything but an int (PostgreSQL would find ``"1"`` and fail on ``True``)
        and ``NotFound`` for an id no customer can have; use what it returns.
        """
        # BEGIN SOLUTION: check the id, then select one row by contact_id, map it to Customer
        wanted = validate_id(customer_id)
        with self._conn.cursor(row_factory=class_row(Customer)) as cur:
            cur.execute(
                "SELECT contact_id AS id, email_address AS email, display_name AS name "
                "FROM crm_contacts WHERE contact_id = %s",
                (wanted,),
            )
            found = cur.fetchone()
        if found is None:
            raise NotFound(f"no customer with id {customer_id!r}")
        return found
        # END SOLUTION

    def find_by_email(self, email: str) -> Customer | None:
        """The customer with exactly this e-mail address, or None.

        ``searchable_email(email)`` first: it raises ``InvalidCustomer`` for a
        non-str, and returns None for an address no customer can have (a NUL
        byte, a lone surrogate: the driver would fail on them), which finds nobody.
        """
        # BEGIN SOLUTION: check the address, then select by email_address with a %s parameter
        wanted = searchable_email(email)
        if wanted is None:
            return None
        with self._conn.cursor(row_factory=class_row(Customer)) as cur:
            cur.execute(
                "SELECT contact_id AS id, email_address AS email, display_name AS name "
                "FROM crm_contacts WHERE email_address = %s",
                (wanted,),
            )
            return cur.fetchone()
        # END SOLUTION

    def remove(self, customer_id: int) -> None:
        """Delete the customer; ``NotFound`` if no row was deleted.

        ``validate_id(customer_id)`` first, as in :meth:`get`.
        """
        # BEGIN SOLUTION: check the id, delete by contact_id, check the cursor's rowcount
        wanted = validate_id(customer_id)
        cur = self._conn.execute("DELETE FROM crm_contacts WHERE contact_id = %s", (wanted,))
        if cur.rowcount == 0:
            raise NotFound(f"no customer with id {customer_id!r}")
        # END SOLUTION

    def page(self, limit: int = 50, after: int | None = None) -> list[Customer]:
        """Up to ``limit`` customers with ids above ``after``, in id order.

        ``validate_page(limit, after)`` checks the arguments (``InvalidCustomer``
        if they are bad) and returns them cleaned, ``after=None`` turned into 0:
        use what it returns.
        """
        # BEGIN SOLUTION: keyset pagination on contact_id
        limit, after = validate_page(limit, after)
        with self._conn.cursor(row_factory=class_row(Customer)) as cur:
            cur.execute(
                "SELECT contact_id AS id, email_address AS email, display_name AS name "
                "FROM crm_contacts WHERE contact_id > %s ORDER BY contact_id LIMIT %s",
                (after, limit),
            )
            return cur.fetchall()
        # END SOLUTION
