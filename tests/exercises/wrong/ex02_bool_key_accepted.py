"""ex02 wrong: True is accepted as a key (it is an int in Python), although the spec refuses a bool.

grader says: advisory_lock(conn, True) raised UndefinedFunction: function pg_advisory_lock(boolean) does not exist; it should raise ValueError before asking the database
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
    # BEGIN SOLUTION: check the arguments, take the lock, yield, release it in a finally
    if not isinstance(key, int) or not BIGINT_MIN <= key <= BIGINT_MAX:
        raise ValueError(f"key must be an int between {BIGINT_MIN} and {BIGINT_MAX}, got {key!r}")
    if not conn.autocommit:
        raise ValueError(
            "advisory_lock needs an autocommit connection (psycopg.connect(url, "
            "autocommit=True)): in a failed transaction the unlock would fail too."
        )
    if blocking:
        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
    else:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        if row is None or not row[0]:
            raise LockBusy(
                f"advisory lock {key} is held by another session; retry later "
                "or use blocking=True to wait for it."
            )
    try:
        yield
    finally:
        # finally, not except Exception: Ctrl-C must release the lock too.
        conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
    # END SOLUTION
