"""Orders and payments in PostgreSQL: repositories, a unit of work, and a connection that heals.

What is here:

* :data:`SCHEMA` and :func:`create_schema`: three tables. ``orders`` and
  ``payments`` are ours; ``gateway_statement`` holds what the payment
  provider says it charged, imported for reconciliation.
* :class:`PostgresOrders` and :class:`PostgresPayments`: the repositories
  (lesson 01). Orders in, orders out; SQL stays inside. Both writes are
  idempotent (``ON CONFLICT``), because after a lost connection the service
  cannot know whether its last transaction committed, so it must be able to
  run it again.
* :class:`UnitOfWork`: both repositories on one connection, inside one
  transaction.
* :class:`Database`: owns the service's connection. ``transaction()`` is a
  context manager (lesson 02) that yields a unit of work; ``run(work)``
  runs a unit of work under a retry policy (lesson 07) that reconnects when
  the server dropped the connection: a killed session (an administrator's
  ``pg_terminate_backend``); a failover or restart outlasts the policy
  ``bootstrap`` gives it (at most 0.75 s of pauses, plus up to
  :data:`CONNECT_TIMEOUT` seconds of waiting for each connection attempt,
  plus the host name lookup, which that timeout does not bound).

When not to use ``Database``: with several threads, use a
``psycopg_pool.ConnectionPool`` with ``check=ConnectionPool.check_connection``,
which replaces dead connections for you. One connection keeps the lesson
small and the reconnect visible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import psycopg

from patterns.capstone.domain import Order, OrderPlaced, OrderStatus
from patterns.money import Money
from patterns.retry import RetryPolicy

__all__ = [
    "CONNECT_TIMEOUT",
    "SCHEMA",
    "Database",
    "OrderConflict",
    "PostgresOrders",
    "PostgresPayments",
    "Receipt",
    "UnitOfWork",
    "create_schema",
    "is_connection_lost",
    "wipe",
]

T = TypeVar("T")

#: What the checkout stores. One payment per order is enforced by the primary key,
#: not by hope; amounts are integer minor units, as everywhere in the course.
SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id           text PRIMARY KEY,
    customer     text NOT NULL,
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    currency     text NOT NULL CHECK (length(currency) = 3),
    status       text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'paid', 'declined', 'review')),
    status_reason text,  -- why it was declined or sent to review, in a sentence
    stored_at    timestamptz NOT NULL DEFAULT now()  -- no charge for it can be older
);
CREATE TABLE IF NOT EXISTS payments (
    order_id        text PRIMARY KEY REFERENCES orders (id),
    charge_id       text NOT NULL UNIQUE,
    idempotency_key text NOT NULL,
    amount_minor    bigint NOT NULL,
    currency        text NOT NULL
);
CREATE TABLE IF NOT EXISTS gateway_statement (
    charge_id       text PRIMARY KEY,
    amount_minor    bigint NOT NULL,
    currency        text NOT NULL,
    idempotency_key text
);
"""

_ORDER_COLUMNS = "id, customer, amount_minor, currency, status"


class OrderConflict(ValueError):
    """An order id arrived again with different contents; the message shows both."""


@dataclass(frozen=True)
class Receipt:
    """What the gateway answered to a charge: its id, the amount, and the key we sent."""

    charge_id: str
    amount: Money
    idempotency_key: str
    replayed: bool = False  # True: the gateway recognised the key and charged nothing new


def create_schema(conn: psycopg.Connection[Any]) -> None:
    """Create the checkout's tables if they are missing (setup code, never at import)."""
    with conn.transaction():
        conn.execute(SCHEMA)


def wipe(conn: psycopg.Connection[Any]) -> None:
    """Empty the checkout's tables: for demos and tests that start from nothing."""
    with conn.transaction():
        conn.execute("TRUNCATE payments, orders, gateway_statement")


def _order(row: tuple[Any, ...]) -> Order:
    order_id, customer, amount_minor, currency, status = row
    return Order(order_id, customer, Money(int(amount_minor), currency), status)


class PostgresOrders:
    """Orders in the ``orders`` table, through a connection the unit of work lends it."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def add(self, placed: OrderPlaced) -> Order:
        """Store a placed order, or return the stored one if this event was seen before.

        Redelivered events are normal (at-least-once delivery, our own retries),
        so a duplicate is not an error; the same id with another amount is.
        """
        self._conn.execute(
            "INSERT INTO orders (id, customer, amount_minor, currency) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (id) DO NOTHING",
            (placed.order_id, placed.customer, placed.total.minor, placed.total.currency),
        )
        stored = self.get(placed.order_id)
        assert stored is not None  # inserted now, or already there
        if (stored.customer, stored.total) != (placed.customer, placed.total):
            raise OrderConflict(
                f"order {placed.order_id} was placed before as {stored.total} for "
                f"{stored.customer}, now as {placed.total} for {placed.customer}; "
                "an order id must not be reused"
            )
        return stored

    def get(self, order_id: str) -> Order | None:
        row = self._conn.execute(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE id = %s", (order_id,)
        ).fetchone()
        return _order(row) if row is not None else None

    def pending(self) -> list[Order]:
        """Orders not charged yet, oldest id first (a few; the rest are settled)."""
        rows = self._conn.execute(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE status = 'pending' ORDER BY id"
        ).fetchall()
        return [_order(row) for row in rows]

    def set_status(self, order_id: str, status: OrderStatus, reason: str | None = None) -> None:
        """Move an order to ``status``; ``reason`` says why (for ``declined`` and ``review``)."""
        self._conn.execute(
            "UPDATE orders SET status = %s, status_reason = %s WHERE id = %s",
            (status, reason, order_id),
        )

    def reason(self, order_id: str) -> str | None:
        """Why the order was declined or sent to review (None for the others)."""
        row = self._conn.execute(
            "SELECT status_reason FROM orders WHERE id = %s", (order_id,)
        ).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def review_stale(
        self, older_than: timedelta, reason: str, *, order_id: str | None = None
    ) -> list[str]:
        """Send pending orders stored more than ``older_than`` ago to ``review``; their ids.

        Only ``order_id``'s if given. Age is the database's ``now()`` minus
        ``stored_at``, one clock for both. An order's first charge attempt comes
        after it was stored, so this age is never less than its key's.
        """
        rows = self._conn.execute(
            "UPDATE orders SET status = 'review', status_reason = %(reason)s "
            "WHERE status = 'pending' AND stored_at <= now() - %(age)s "
            "AND (%(id)s::text IS NULL OR id = %(id)s) RETURNING id",
            {"reason": reason, "age": older_than, "id": order_id},
        ).fetchall()
        return sorted(str(row[0]) for row in rows)


class PostgresPayments:
    """Payments we recorded, one per order, in the ``payments`` table."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def record(self, order: Order, receipt: Receipt) -> None:
        """Remember that ``order`` was paid by ``receipt``; recording it twice is harmless."""
        self._conn.execute(
            "INSERT INTO payments (order_id, charge_id, idempotency_key, amount_minor, currency) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (order_id) DO NOTHING",
            (
                order.id,
                receipt.charge_id,
                receipt.idempotency_key,
                receipt.amount.minor,
                receipt.amount.currency,
            ),
        )

    def charge_id_of(self, order_id: str) -> str | None:
        row = self._conn.execute(
            "SELECT charge_id FROM payments WHERE order_id = %s", (order_id,)
        ).fetchone()
        return str(row[0]) if row is not None else None


@dataclass(frozen=True)
class UnitOfWork:
    """The repositories of one transaction: everything in it commits or nothing does."""

    orders: PostgresOrders
    payments: PostgresPayments


#: SQLSTATEs that end or refuse the session itself, outside class 08 (connection
#: exception): admin_shutdown (``pg_terminate_backend``, a fast shutdown),
#: crash_shutdown, cannot_connect_now (the server is still starting up; psycopg
#: raises that one while connecting, without a SQLSTATE, so it is listed for
#: completeness). https://www.postgresql.org/docs/current/errcodes-appendix.html
_SESSION_ENDED = frozenset({"57P01", "57P02", "57P03"})


def is_connection_lost(error: BaseException) -> bool:
    """Worth reconnecting and running the unit of work again?

    Yes when the session is gone or could not be opened: a psycopg error
    with no SQLSTATE, SQLSTATE class 08 (connection exception), or the server
    ending the session (``AdminShutdown`` after ``pg_terminate_backend``,
    ``CrashShutdown``).

    The blind spot: psycopg raises every error met while *opening* a
    connection without a SQLSTATE, whatever the server said, so all of them
    count as lost and are retried, as often as the policy allows: a server
    out of reach or still starting; too many connections, which clears once
    other sessions end (seldom within the policy's pauses); and also a wrong
    password, an unknown user or a missing database, which no waiting cures.

    No for everything else, including the rest of ``psycopg.OperationalError``,
    which in psycopg 3 also covers ``QueryCanceled`` (a statement timeout),
    ``DeadlockDetected``, ``SerializationFailure``, ``LockNotAvailable``,
    ``DiskFull``: reconnecting does not cure those, and a statement that timed
    out would time out again. (A serialization failure is worth retrying, but
    as a transaction retry, not a reconnect: another policy.)
    """
    if not isinstance(error, psycopg.OperationalError):
        return False
    sqlstate = error.sqlstate
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in _SESSION_ENDED


Connect = Callable[..., psycopg.Connection[Any]]

#: Seconds one connection attempt may wait for the server (libpq's
#: ``connect_timeout``, whole seconds; psycopg raises 1 to 2, the floor libpq had
#: before version 18). Without it psycopg waits up to
#: 130 s for a server that accepts the connection and never answers. It does not
#: cover resolving the host name, which psycopg does first (``socket.getaddrinfo``).
#: https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNECT-CONNECT-TIMEOUT
CONNECT_TIMEOUT = 2


class Database:
    """The service's one connection, reopened when the server drops it.

    ``url`` and ``application_name`` say where to connect and how the
    session shows in ``pg_stat_activity``; ``retry`` is the policy for
    ``run`` (its ``retry_on`` should be :func:`is_connection_lost`);
    ``connect_timeout`` bounds each connection attempt, in whole seconds
    (counted per address the host name resolves to; resolving the name comes
    before, and is not bounded by it).
    """

    def __init__(
        self,
        url: str,
        *,
        retry: RetryPolicy,
        application_name: str = "checkout",
        connect_timeout: int = CONNECT_TIMEOUT,
        connect: Connect = psycopg.connect,
    ) -> None:
        self._url = url
        self._retry = retry
        self._application_name = application_name
        self._connect_timeout = connect_timeout
        self._connect = connect
        self._conn: psycopg.Connection[Any] | None = None
        #: How often a dropped connection was replaced: a number to watch in production.
        self.reconnects = 0

    @property
    def application_name(self) -> str:
        return self._application_name

    @property
    def connect_timeout(self) -> int:
        """Seconds one connection attempt may wait before it fails."""
        return self._connect_timeout

    @property
    def retry_policy(self) -> RetryPolicy:
        """The policy ``run`` retries under: how hard it tries before giving up."""
        return self._retry

    def connection(self) -> psycopg.Connection[Any]:
        """The open connection, reconnecting first if there is none or it broke."""
        if self._conn is not None and (self._conn.closed or self._conn.broken):
            self._conn.close()
            self._conn = None
            self.reconnects += 1
        if self._conn is None:
            # Autocommit plus explicit transaction() blocks (see POSTGRES.md):
            # nothing stays open between units of work.
            self._conn = self._connect(
                self._url,
                autocommit=True,
                application_name=self._application_name,
                connect_timeout=self._connect_timeout,
            )
        return self._conn

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """One transaction: commits when the block ends, rolls back if it raises.

        If the connection died, the error propagates (the block cannot be run
        again from here: a ``with`` body runs once) and the next
        ``transaction()`` reconnects. :meth:`run` does the running again.
        """
        conn = self.connection()
        with conn.transaction():
            yield UnitOfWork(PostgresOrders(conn), PostgresPayments(conn))

    def run(self, work: Callable[[UnitOfWork], T]) -> T:
        """``work(uow)`` in a transaction, retried on a fresh connection if the old one died.

        ``work`` may run more than once, so it must be safe to repeat (the
        repositories' writes are): a commit whose acknowledgement was lost
        looks exactly like a transaction that never happened.
        """

        def once() -> T:
            with self.transaction() as uow:
                return work(uow)

        return self._retry.call(once)

    def create_schema(self) -> None:
        """Create the tables if missing, reconnecting like :meth:`run` does."""
        self._retry.call(lambda: create_schema(self.connection()))

    def close(self) -> None:
        """Close the connection; a later call reconnects. Safe to call twice."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
