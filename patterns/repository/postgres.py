"""A PostgreSQL customer repository on psycopg 3.

What it shows:

* the connection (or a ``psycopg_pool.ConnectionPool``) is **injected**; this
  module never connects on its own, and nothing happens at import;
* SQL is **parameterised** (``%s`` placeholders, values sent separately), so
  an e-mail such as ``x'); DROP TABLE customers; --@evil.example`` is stored
  verbatim instead of being run;
* columns are **named** (never ``SELECT *``) and rows become :class:`Customer`
  through ``class_row``, so adding a column to the table breaks nothing;
* the connection is in **autocommit** mode, and the one multi-statement write
  (``add_many``) uses an explicit ``with conn.transaction():`` block;
* driver errors become **domain errors** (``UniqueViolation`` ->
  :class:`AlreadyExists`).

When not to use it: for reporting queries that join five tables and return
aggregates. Those are not "customers"; write them as plain SQL functions that
return rows, next to the repository, not inside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors
from psycopg.rows import class_row
from psycopg_pool import ConnectionPool

from patterns.repository.domain import (
    AlreadyExists,
    Customer,
    InvalidCustomer,
    NotFound,
    validate_email,
    validate_name,
    validate_page,
)

#: What this module creates. The CHECKs repeat the domain's limits, so a
#: client that bypasses the repository cannot store what the domain refuses.
SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE CHECK (length(email) <= 320),
    name  text NOT NULL CHECK (length(name) BETWEEN 1 AND 10000)
)
"""
# The column list is spelled out in every query, in the order of Customer's
# fields: a new column in the table then changes nothing here.

ConnectionSource = psycopg.Connection[Any] | ConnectionPool[Any]


def create_schema(conn: psycopg.Connection[Any]) -> None:
    """Create the ``customers`` table if it is missing. Call it from setup code, not at import."""
    with conn.transaction():
        conn.execute(SCHEMA)


class PostgresCustomerRepository:
    """Customers in a PostgreSQL ``customers`` table (see :data:`SCHEMA`).

    Give it an autocommit connection (``psycopg.connect(url, autocommit=True)``)
    or a pool whose connections are autocommit
    (``ConnectionPool(url, kwargs={"autocommit": True}, open=True)``). It does
    not close what it was given: whoever opened the connection closes it.
    """

    def __init__(self, source: ConnectionSource) -> None:
        if isinstance(source, psycopg.Connection) and not source.autocommit:
            # With autocommit off, every statement opens a transaction that
            # stays open until someone commits; a later `with transaction()`
            # is only a savepoint and its writes vanish on close.
            raise ValueError(
                "PostgresCustomerRepository needs an autocommit connection: "
                "open it with psycopg.connect(url, autocommit=True)."
            )
        self._source = source

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if isinstance(self._source, ConnectionPool):
            with self._source.connection() as conn:
                yield conn
        else:
            yield self._source

    def add(self, email: str, name: str) -> Customer:
        return self.add_many([(email, name)])[0]

    def add_many(self, customers: Iterable[tuple[str, str]]) -> list[Customer]:
        pairs = [(validate_email(email), validate_name(name)) for email, name in customers]
        added: list[Customer] = []
        with self._connection() as conn:
            try:
                # One transaction: if the third insert fails, the first two go too.
                with conn.transaction(), conn.cursor(row_factory=class_row(Customer)) as cur:
                    for email, name in pairs:
                        cur.execute(
                            "INSERT INTO customers (email, name) VALUES (%s, %s) "
                            "RETURNING id, email, name",
                            (email, name),
                        )
                        row = cur.fetchone()
                        assert row is not None  # RETURNING always gives one row
                        added.append(row)
            except errors.UniqueViolation as error:
                # The domain error says which e-mail; the driver's detail
                # would leak SQL to the caller.
                taken = error.diag.message_detail or ""
                raise AlreadyExists(
                    f"a customer with this email already exists ({taken})"
                ) from error
            except errors.CheckViolation as error:
                raise InvalidCustomer(
                    f"the database refused the customer: {error.diag.message_primary}"
                ) from error
        return added

    def get(self, customer_id: int) -> Customer:
        with self._connection() as conn, conn.cursor(row_factory=class_row(Customer)) as cur:
            cur.execute("SELECT id, email, name FROM customers WHERE id = %s", (customer_id,))
            found = cur.fetchone()
        if found is None:
            raise NotFound(f"no customer with id {customer_id!r}")
        return found

    def find_by_email(self, email: str) -> Customer | None:
        with self._connection() as conn, conn.cursor(row_factory=class_row(Customer)) as cur:
            cur.execute("SELECT id, email, name FROM customers WHERE email = %s", (email,))
            return cur.fetchone()

    def remove(self, customer_id: int) -> None:
        with self._connection() as conn:
            cur = conn.execute("DELETE FROM customers WHERE id = %s", (customer_id,))
            if cur.rowcount == 0:
                raise NotFound(f"no customer with id {customer_id!r}")

    def page(self, limit: int = 50, after: int | None = None) -> list[Customer]:
        limit, after = validate_page(limit, after)
        # Keyset pagination: "ids above the last one seen" stays fast on page
        # 10,000 and never skips or repeats a row when others are inserted,
        # unlike OFFSET.
        with self._connection() as conn, conn.cursor(row_factory=class_row(Customer)) as cur:
            cur.execute(
                "SELECT id, email, name FROM customers WHERE id > %s ORDER BY id LIMIT %s",
                (after if after is not None else 0, limit),
            )
            return cur.fetchall()
