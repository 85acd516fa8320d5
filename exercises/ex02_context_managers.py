"""Exercise 02: a context manager around a real PostgreSQL resource, an advisory lock.

An advisory lock is a mutex keyed by a number, kept by the PostgreSQL server for
one database: two workers connected to the same database that both run
``with advisory_lock(conn, 42):`` never run their blocks at the same time, even
on different machines (a session of another database on the same server gets its
own lock 42). The checkout service uses one so that a nightly job and a manual
rerun cannot settle the same payments twice.

A session-level lock (``pg_advisory_lock``) is held until it is explicitly
released (``pg_advisory_unlock``) or the session ends, so the release must run
however the block ends: normally, by an exception, or by Ctrl-C. PostgreSQL
counts re-acquisitions by the same session: lock twice, unlock twice.

Write :func:`advisory_lock`:

* refuse a ``key`` that is not an ``int`` in PostgreSQL's ``bigint`` range
  (``-2**63`` to ``2**63 - 1``, both ends usable), and a connection that is not
  idle in autocommit mode (autocommit off, or inside a ``with conn.transaction():``
  block: ``conn.info.transaction_status`` is not ``IDLE``), with ``ValueError``:
  a statement failing inside a transaction aborts it, and the unlock with it, so
  the lock would stay held. A ``bool`` is refused too: Python counts ``True`` as
  the int 1, but a key of ``True`` is a bug, not lock number 1;
* ``blocking=True``: wait for the lock (``SELECT pg_advisory_lock(%s)``);
  ``blocking=False``: try once (``SELECT pg_try_advisory_lock(%s)`` returns a
  bool) and raise :class:`LockBusy` naming the key if another session holds it;
* release it (``SELECT pg_advisory_unlock(%s)``) when the block ends, whatever
  the reason, and never swallow the exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

BIGINT_MIN = -(2**63)
BIGINT_MAX = 2**63 - 1


class LockBusy(RuntimeError):
    """Another session holds the advisory lock and ``blocking=False`` was asked for."""


@contextmanager
def advisory_lock(
    conn: psycopg.Connection[Any], key: int, *, blocking: bool = True
) -> Iterator[None]:
    """Hold the session-level advisory lock ``key`` on ``conn`` for the ``with`` block."""
    raise NotImplementedError('ex02: check the arguments, take the lock, yield, release it in a finally')
