"""ex02 right, written differently: a class with __enter__/__exit__ instead of @contextmanager,
range checked with a type test and two comparisons, LockBusy decided in SQL.
"""

from __future__ import annotations

from typing import Any

import psycopg


class LockBusy(RuntimeError):
    """Another session holds the advisory lock and ``blocking=False`` was asked for."""


class advisory_lock:  # noqa: N801 - used like a function: with advisory_lock(conn, key):
    """Hold the session-level advisory lock ``key`` on ``conn`` for the ``with`` block."""

    def __init__(self, conn: psycopg.Connection[Any], key: int, *, blocking: bool = True) -> None:
        if type(key) is not int:
            raise ValueError(f"advisory lock keys are ints, not {type(key).__name__}: {key!r}")
        if key < -(2**63) or key > 2**63 - 1:
            raise ValueError(f"advisory lock key {key} does not fit PostgreSQL's bigint")
        if conn.autocommit is not True or conn.info.transaction_status.name != "IDLE":
            raise ValueError("advisory_lock wants an idle connection opened with autocommit=True")
        self.conn, self.key, self.blocking = conn, key, blocking

    def __enter__(self) -> None:
        if self.blocking:
            self.conn.execute("SELECT pg_advisory_lock(%s)", (self.key,))
            return
        (got,) = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone() or (False,)
        if got is not True:
            raise LockBusy(f"someone else holds advisory lock {self.key}")

    def __exit__(self, *exc_info: object) -> bool:
        self.conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
        return False
