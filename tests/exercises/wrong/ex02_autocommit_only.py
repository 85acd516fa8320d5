"""ex02 wrong: checks autocommit only, so inside `with conn.transaction():` it takes the lock, and a failing statement there leaves it held.

grader says: inside `with conn.transaction():`
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
    if isinstance(key, bool) or not isinstance(key, int) or not BIGINT_MIN <= key <= BIGINT_MAX:
        raise ValueError(f"key must be an int between {BIGINT_MIN} and {BIGINT_MAX}, got {key!r}")
    if not conn.autocommit:
        raise ValueError(
            "advisory_lock needs an idle autocommit connection (psycopg.connect(url, "
            "autocommit=True), outside any conn.transaction() block): in a failed "
            "transaction the unlock would fail too and the lock would stay held."
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
