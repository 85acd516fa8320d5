"""Context managers: resource lifetimes that cannot be forgotten.

What is this pattern about? A ``with`` block pairs a set-up with a clean-up
that runs however the block ends: normally, by an exception, or by Ctrl-C.
``with cm as x: body`` expands to roughly::

    x = cm.__enter__()
    try:
        body
    except BaseException as error:          # BaseException: Ctrl-C too
        if not cm.__exit__(type(error), error, error.__traceback__):
            raise                           # a true return value swallows it
    else:
        cm.__exit__(None, None, None)

What does this module hold?

* the textbook transaction helper, reproduced (:func:`naive_get_db_connection`)
  and applied to a borrowed connection (:func:`naive_transaction`), to show
  that catching ``Exception`` misses ``KeyboardInterrupt``;
* the fixed helper in both forms: a class (:class:`Transaction`) and a
  generator with ``@contextmanager`` (:func:`transaction`);
* ``ExitStack`` for a number of connections known only at run time
  (:func:`open_connections`);
* a leak detector that counts sessions in ``pg_stat_activity``
  (:func:`count_sessions`, :func:`no_leaked_sessions`), a leaking helper and
  its fix (:func:`leaky_query`, :func:`fetch_all`).

TL;DR: with psycopg 3, do not write your own transaction helper. Use
``psycopg.connect(url, autocommit=True)`` as a ``with`` block for the
connection's lifetime and ``with conn.transaction():`` for each unit of work;
they already roll back on any exception, nest as savepoints and close.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from types import TracebackType
from typing import Any, Literal

import psycopg

__all__ = [
    "SessionLeakError",
    "Transaction",
    "count_sessions",
    "fetch_all",
    "leaky_query",
    "naive_get_db_connection",
    "naive_transaction",
    "no_leaked_sessions",
    "open_connections",
    "transaction",
    "wait_for_sessions",
]

Connect = Callable[..., psycopg.Connection[Any]]


# --- the textbook helper, reproduced --------------------------------------------------


@contextmanager
def naive_get_db_connection(
    url: str, connect: Connect = psycopg.connect
) -> Iterator[psycopg.Connection[Any]]:
    """The textbook helper, ported from psycopg2 to psycopg 3 and otherwise unchanged.

    Kept to show its flaw: ``except Exception`` does not catch
    ``KeyboardInterrupt``, so Ctrl-C skips the explicit rollback. Here the
    ``close()`` in ``finally`` hides it (closing discards the transaction);
    :func:`naive_transaction` shows where it bites. Do not use it: psycopg 3's
    ``with psycopg.connect(url) as conn:`` does the same, correctly.
    """
    conn = connect(url)
    try:
        yield conn
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    finally:
        conn.close()


@contextmanager
def naive_transaction(conn: psycopg.Connection[Any]) -> Iterator[psycopg.Connection[Any]]:
    """The textbook commit/rollback logic on a connection that outlives the block.

    That is how such helpers are used with a pool or a long-lived connection,
    and where the flaw bites: after Ctrl-C in the block, the transaction stays
    open, and the *next* block's ``commit()`` commits the interrupted half of
    the work too. NEVER DO THIS; use :func:`transaction` or ``conn.transaction()``.
    """
    try:
        yield conn
        conn.commit()
    except Exception:  # the flaw: KeyboardInterrupt and SystemExit slip past
        conn.rollback()
        raise


# --- the fixed helper, in both forms ------------------------------------------------------


class Transaction:
    """Commit on a normal exit, roll back on *any* exception, for a non-autocommit connection.

    The class form of :func:`transaction`, written out to show ``__enter__`` and
    ``__exit__``. When not to use it: with psycopg 3, whose
    ``conn.transaction()`` does this and also nests as savepoints.
    """

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        if conn.autocommit:
            raise ValueError(
                "Transaction needs a connection with autocommit off; on an autocommit "
                "connection use `with conn.transaction():` instead."
            )
        self._conn = conn

    def __enter__(self) -> psycopg.Connection[Any]:
        return self._conn

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> Literal[False]:
        if exc_type is None:
            self._conn.commit()
        else:
            self._conn.rollback()  # for KeyboardInterrupt too: __exit__ sees every exception
        return False  # never swallow the exception


@contextmanager
def transaction(conn: psycopg.Connection[Any]) -> Iterator[psycopg.Connection[Any]]:
    """The ``@contextmanager`` form of :class:`Transaction`: the textbook helper, fixed."""
    if conn.autocommit:
        raise ValueError(
            "transaction() needs a connection with autocommit off; on an autocommit "
            "connection use `with conn.transaction():` instead."
        )
    try:
        yield conn
    except BaseException:  # BaseException, so Ctrl-C rolls back as well
        conn.rollback()
        raise
    else:
        conn.commit()


# --- ExitStack ------------------------------------------------------------------------------


@contextmanager
def open_connections(
    urls: Sequence[str], connect: Connect = psycopg.connect, **kwargs: Any
) -> Iterator[list[psycopg.Connection[Any]]]:
    """Open one connection per URL; close all of them when the block ends.

    If the third connection fails to open, the first two are closed before the
    error propagates: ``ExitStack`` unwinds what it entered so far. When not to
    use it: for a fixed, small number of resources, where one ``with a, b:``
    statement reads better.
    """
    with ExitStack() as stack:
        yield [stack.enter_context(connect(url, **kwargs)) for url in urls]


# --- leaks made visible ------------------------------------------------------------------------


class SessionLeakError(AssertionError):
    """More database sessions are open after a block than before it."""


def count_sessions(conn: psycopg.Connection[Any], application_name: str | None = None) -> int:
    """Client sessions on ``conn``'s database, not counting ``conn`` itself.

    ``application_name`` narrows the count to sessions that set it (e.g.
    ``psycopg.connect(url, application_name="checkout")``), which keeps the
    count honest on a server that others use too.
    """
    # `%s IS NULL OR ...`: one parameterised query whether or not a name is given.
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND backend_type = 'client backend' "
        "AND pid <> pg_backend_pid() "
        "AND (%(name)s::text IS NULL OR application_name = %(name)s::text)",
        {"name": application_name},
    ).fetchone()
    assert row is not None  # count(*) always returns a row
    return int(row[0])


def wait_for_sessions(
    conn: psycopg.Connection[Any],
    expected: int,
    application_name: str | None = None,
    *,
    timeout: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Poll until the session count is at most ``expected`` or ``timeout`` passes; return it.

    Polling because a server process leaves ``pg_stat_activity`` a moment
    *after* its client closed the connection.
    """
    deadline = clock() + timeout
    while True:
        current = count_sessions(conn, application_name)
        if current <= expected or clock() >= deadline:
            return current
        sleep(0.01)


@contextmanager
def no_leaked_sessions(
    conn: psycopg.Connection[Any], application_name: str | None = None, *, timeout: float = 2.0
) -> Iterator[int]:
    """Raise :class:`SessionLeakError` if the block leaves more sessions open than it found.

    ``conn`` is the observer's own connection (it is not counted). Yields the
    baseline count. For tests and notebooks; in production watch
    ``pg_stat_activity`` from your monitoring instead.
    """
    baseline = count_sessions(conn, application_name)
    yield baseline
    after = wait_for_sessions(conn, baseline, application_name, timeout=timeout)
    if after > baseline:
        raise SessionLeakError(
            f"{after - baseline} database session(s) leaked: {baseline} open before the "
            f"block, {after} still open {timeout:g} s after it. Open connections in a "
            "`with` block (or borrow them with `with pool.connection()`)."
        )


def leaky_query(url: str, query: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
    """Run a query and return its cursor. NEVER DO THIS: the connection stays open.

    The returned cursor keeps its connection alive for as long as anyone holds
    the cursor; nothing closes it explicitly. Each call leaks a session until the
    last reference goes and garbage collection closes it (with a ResourceWarning),
    which is whenever the program happens to drop it: not a resource policy.
    """
    conn = psycopg.connect(url, autocommit=True)
    return conn.execute(query, params)


def fetch_all(url: str, query: str, params: Sequence[Any] = ()) -> list[Any]:
    """The fix for :func:`leaky_query`: fetch the rows inside a ``with`` block, then close."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()
