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
  :class:`AlreadyExists`, worded as the in-memory one words it), and input
  the driver would choke on (NUL, lone surrogates, ids of the wrong type or
  beyond ``bigint``) is refused by the domain's checks before any SQL runs.

When not to use it: for reporting queries that join five tables and return
aggregates. Those are not "customers"; write them as plain SQL functions that
return rows, next to the repository, not inside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from typing import Any, Final

import psycopg
from psycopg import errors, sql
from psycopg.rows import class_row
from psycopg_pool import ConnectionPool

from patterns.repository.domain import (
    EMAIL_MAX_LENGTH,
    NAME_MAX_LENGTH,
    Customer,
    InvalidCustomer,
    NotFound,
    already_exists,
    searchable_email,
    validate_email,
    validate_id,
    validate_name,
    validate_page,
)

#: What this module creates. The CHECKs are the domain's limits (the two
#: constants are written in here, once), so a client that bypasses the
#: repository cannot store what the domain refuses.
SCHEMA: Final = f"""
CREATE TABLE IF NOT EXISTS customers (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE CHECK (length(email) <= {EMAIL_MAX_LENGTH}),
    name  text NOT NULL CHECK (length(name) BETWEEN 1 AND {NAME_MAX_LENGTH})
)
"""
# The columns every query names, in the order of Customer's fields, for
# class_row(Customer): a new column in the table then changes nothing here.
# Composed with psycopg.sql (which quotes identifiers), not an f-string: a query
# that touches names or values is never built by string formatting.
_COLUMNS = sql.SQL(", ").join(sql.Identifier(field.name) for field in fields(Customer))
_INSERT = sql.SQL("INSERT INTO customers (email, name) VALUES (%s, %s) RETURNING {columns}").format(
    columns=_COLUMNS
)
_BY_ID = sql.SQL("SELECT {columns} FROM customers WHERE id = %s").format(columns=_COLUMNS)
_BY_EMAIL = sql.SQL("SELECT {columns} FROM customers WHERE email = %s").format(columns=_COLUMNS)
_PAGE = sql.SQL("SELECT {columns} FROM customers WHERE id > %s ORDER BY id LIMIT %s").format(
    columns=_COLUMNS
)

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
                        cur.execute(_INSERT, (email, name))
                        row = cur.fetchone()
                        assert row is not None  # RETURNING always gives one row
                        added.append(row)
            except errors.UniqueViolation as error:
                # `email` is the insert that failed. The domain's wording, not the
                # driver's detail, which would leak SQL to the caller.
                raise already_exists(email) from error
            except errors.CheckViolation as error:
                raise InvalidCustomer(
                    f"the database refused the customer: {error.diag.message_primary}"
                ) from error
        return added

    def get(self, customer_id: int) -> Customer:
        # validate_id first: PostgreSQL would find "1" and fail on True.
        wanted = validate_id(customer_id)
        with self._connection() as conn, conn.cursor(row_factory=class_row(Customer)) as cur:
            cur.execute(_BY_ID, (wanted,))
            found = cur.fetchone()
        if found is None:
            raise NotFound(f"no customer with id {customer_id!r}")
        return found

    def find_by_email(self, email: str) -> Customer | None:
        wanted = searchable_email(email)
        if wanted is None:  # e.g. a NUL byte: never stored, and the driver would fail on it
            return None
        with self._connection() as conn, conn.cursor(row_factory=class_row(Customer)) as cur:
            cur.execute(_BY_EMAIL, (wanted,))
            return cur.fetchone()

    def remove(self, customer_id: int) -> None:
        wanted = validate_id(customer_id)
        with self._connection() as conn:
            cur = conn.execute("DELETE FROM customers WHERE id = %s", (wanted,))
            if cur.rowcount == 0:
                raise NotFound(f"no customer with id {customer_id!r}")

    def page(self, limit: int = 50, after: int | None = None) -> list[Customer]:
        limit, after_id = validate_page(limit, after)
        # Keyset pagination: "ids above the last one seen" stays fast on page
        # 10,000 and, unlike OFFSET, never repeats a row or skips one because rows
        # were inserted or deleted earlier in the order. One caveat: ids are taken
        # when a row is inserted, not when it commits, so under concurrent writers
        # a row that commits late with a smaller id than one already read is missed.
        with self._connection() as conn, conn.cursor(row_factory=class_row(Customer)) as cur:
            cur.execute(_PAGE, (after_id, limit))
            return cur.fetchall()
