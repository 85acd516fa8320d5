"""ex02 wrong: blocking=False runs pg_try_advisory_lock but never looks at its answer.

grader says: although another session held it
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
    if isinstance(key, bool) or not isinstance(key, int) or not BIGINT_MIN <= key <= BIGINT_MAX:
        raise ValueError(f"key must be an int between {BIGINT_MIN} and {BIGINT_MAX}, got {key!r}")
    if not conn.autocommit:
        raise ValueError(
            "advisory_lock needs an autocommit connection (psycopg.connect(url, "
            "autocommit=True)): in a failed transaction the unlock would fail too."
        )
    if blocking:
        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
    else:
        conn.execute("SELECT pg_try_advisory_lock(%s)", (key,))
    try:
        yield
    finally:
        # finally, not except Exception: Ctrl-C must release the lock too.
        conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
    # END SOLUTION
