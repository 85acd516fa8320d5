"""Where the room service keeps progress: SQLite by default, PostgreSQL for large hubs.

One row per learner and exercise. A send carries the learner's whole progress,
and sends can arrive out of order (two checks a moment apart), so a row is only
replaced by one that is at least as recent: more checks, or as many checks and
at least as many hints. Counters only grow, so this keeps the newest state.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import astuple, fields
from typing import Any

from patterns.course.room import LearnerRow

# The table's columns are the row's fields, in order.
_COLUMNS = tuple(f.name for f in fields(LearnerRow))

_SCHEMA = """
CREATE TABLE IF NOT EXISTS room_progress (
    learner      TEXT    NOT NULL,
    exercise     TEXT    NOT NULL,
    passes_now   BOOLEAN NOT NULL,
    ever_passed  BOOLEAN NOT NULL,
    checks       INTEGER NOT NULL,
    hints_shown  INTEGER NOT NULL,
    hints_total  INTEGER NOT NULL,
    last_checked TEXT,
    received_at  TEXT    NOT NULL,
    PRIMARY KEY (learner, exercise)
)
"""

# Row comparison: the stored row is replaced only by one at least as recent.
_UPSERT = f"""
INSERT INTO room_progress ({", ".join(_COLUMNS)}, received_at)
VALUES ({", ".join(["?"] * (len(_COLUMNS) + 1))})
ON CONFLICT (learner, exercise) DO UPDATE SET
    {", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[2:])},
    received_at = excluded.received_at
WHERE (excluded.checks, excluded.hints_shown) >= (room_progress.checks, room_progress.hints_shown)
"""


class ProgressStore:
    """Thread-safe progress storage behind one small API (``save``, ``rows``).

    ``url`` is a SQLite file path (the default; ``:memory:`` for tests) or a
    ``postgresql://`` URL.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._postgres = url.startswith(("postgresql://", "postgres://"))
        if self._postgres:
            import psycopg

            self._conn: Any = psycopg.connect(url, autocommit=True)
        else:
            self._conn = sqlite3.connect(url, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            # WAL with NORMAL sync never corrupts the file; a power cut may drop the
            # last reports, which the learners' next checks send again anyway. FULL
            # would fsync every report: the room's bottleneck at 100 learners.
            self._conn.execute("PRAGMA synchronous=NORMAL")
        with self._transaction() as cursor:
            cursor.execute(_SCHEMA)

    def _sql(self, text: str) -> str:
        return text.replace("?", "%s") if self._postgres else text

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._lock:
            cursor = self._conn.cursor()
            cursor.execute("BEGIN")
            try:
                yield cursor
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")

    def save(self, rows: Iterable[LearnerRow]) -> None:
        """Store one learner's rows in one transaction (all or nothing)."""
        received = time.strftime("%Y-%m-%dT%H:%M:%S")
        values = [(*astuple(r), received) for r in rows]
        with self._transaction() as cursor:
            cursor.executemany(self._sql(_UPSERT), values)

    def rows(self) -> list[LearnerRow]:
        with self._transaction() as cursor:
            cursor.execute(f"SELECT {', '.join(_COLUMNS)} FROM room_progress")
            found = cursor.fetchall()
        # SQLite stores booleans as 0/1: bring them back as bools.
        return [LearnerRow(r[0], r[1], bool(r[2]), bool(r[3]), *r[4:]) for r in found]

    def close(self) -> None:
        self._conn.close()
