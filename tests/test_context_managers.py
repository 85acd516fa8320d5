"""Context managers on a real PostgreSQL: what commits, what rolls back, what leaks.

Every claim about the database is checked from a *second* connection, which
sees only committed data, and every test ends with the session count in
``pg_stat_activity`` back where it started.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import pq
from psycopg_pool import ConnectionPool, PoolTimeout

from patterns.context_managers import (
    SessionLeakError,
    Transaction,
    count_sessions,
    fetch_all,
    leaky_query,
    naive_get_db_connection,
    naive_transaction,
    no_leaked_sessions,
    open_connections,
    transaction,
    wait_for_sessions,
)
from patterns.lab import TemporaryServer


@pytest.fixture(scope="module")
def url(postgres_server: TemporaryServer) -> str:
    return postgres_server.url


@pytest.fixture(scope="module")
def observer(url: str) -> Iterator[psycopg.Connection[Any]]:
    """A second connection: it sees only what was committed."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS ledger (id serial PRIMARY KEY, note text)")
        yield conn


@pytest.fixture(autouse=True)
def sessions_back_to_baseline(observer: psycopg.Connection[Any]) -> Iterator[None]:
    observer.execute("TRUNCATE ledger")
    with no_leaked_sessions(observer):
        yield


def notes(observer: psycopg.Connection[Any]) -> list[str]:
    return [row[0] for row in observer.execute("SELECT note FROM ledger ORDER BY id")]


class RecordingConnection(psycopg.Connection[Any]):
    """A real connection that records commit() and rollback() calls."""

    calls: list[str]

    def commit(self) -> None:
        self.calls.append("commit")
        super().commit()

    def rollback(self) -> None:
        self.calls.append("rollback")
        super().rollback()


def recording_connect(url: str, **kwargs: Any) -> RecordingConnection:
    conn = RecordingConnection.connect(url, **kwargs)
    conn.calls = []
    return conn


# --- the textbook helper -----------------------------------------------------------------


def test_naive_helper_commits_a_normal_block(url: str, observer: psycopg.Connection[Any]) -> None:
    """A block that ends normally is committed, and the connection closed."""
    with naive_get_db_connection(url) as conn:
        conn.execute("INSERT INTO ledger (note) VALUES ('kept')")
    assert notes(observer) == ["kept"]
    assert conn.closed


def test_naive_helper_rolls_back_on_an_exception(
    url: str, observer: psycopg.Connection[Any]
) -> None:
    """An Exception in the block runs the explicit rollback()."""
    with (
        pytest.raises(ValueError),
        naive_get_db_connection(url, connect=recording_connect) as conn,
    ):
        conn.execute("INSERT INTO ledger (note) VALUES ('lost')")
        raise ValueError("boom")
    assert isinstance(conn, RecordingConnection)
    assert conn.calls == ["rollback"]
    assert notes(observer) == []


def test_naive_helper_skips_the_rollback_on_keyboard_interrupt(
    url: str, observer: psycopg.Connection[Any]
) -> None:
    """Ctrl-C is not an Exception: no rollback() runs; only close() saves the day here."""
    with (
        pytest.raises(KeyboardInterrupt),
        naive_get_db_connection(url, connect=recording_connect) as conn,
    ):
        conn.execute("INSERT INTO ledger (note) VALUES ('interrupted')")
        raise KeyboardInterrupt
    assert isinstance(conn, RecordingConnection)
    assert conn.calls == [], "the except Exception branch should not have run"
    assert conn.closed
    assert notes(observer) == []


def test_naive_transaction_lets_the_next_block_commit_interrupted_work(
    url: str, observer: psycopg.Connection[Any]
) -> None:
    """On a connection that outlives the block, Ctrl-C leaves the transaction open ..."""
    with psycopg.connect(url) as conn:
        with pytest.raises(KeyboardInterrupt), naive_transaction(conn):
            conn.execute("INSERT INTO ledger (note) VALUES ('half a transfer')")
            raise KeyboardInterrupt
        assert conn.info.transaction_status == pq.TransactionStatus.INTRANS
        assert notes(observer) == []
        # ... and the next, unrelated unit of work commits it.
        with naive_transaction(conn):
            conn.execute("INSERT INTO ledger (note) VALUES ('next request')")
    assert notes(observer) == ["half a transfer", "next request"]


# --- the fixed helper, both forms ------------------------------------------------------------


@pytest.mark.parametrize("form", [transaction, Transaction], ids=["generator", "class"])
def test_fixed_helper_rolls_back_on_keyboard_interrupt(
    url: str, observer: psycopg.Connection[Any], form: Any
) -> None:
    """Both fixed forms roll back on Ctrl-C, so the next block commits only its own work."""
    with psycopg.connect(url) as conn:
        with pytest.raises(KeyboardInterrupt), form(conn):
            conn.execute("INSERT INTO ledger (note) VALUES ('half a transfer')")
            raise KeyboardInterrupt
        assert conn.info.transaction_status == pq.TransactionStatus.IDLE
        with form(conn):
            conn.execute("INSERT INTO ledger (note) VALUES ('next request')")
    assert notes(observer) == ["next request"]


@pytest.mark.parametrize("form", [transaction, Transaction], ids=["generator", "class"])
def test_fixed_helper_commits_and_does_not_swallow_errors(
    url: str, observer: psycopg.Connection[Any], form: Any
) -> None:
    """Both fixed forms commit a normal block and re-raise what the block raised."""
    with psycopg.connect(url) as conn:
        with form(conn):
            conn.execute("INSERT INTO ledger (note) VALUES ('kept')")
        with pytest.raises(ZeroDivisionError), form(conn):
            conn.execute("INSERT INTO ledger (note) VALUES ('lost')")
            _ = 1 / 0
    assert notes(observer) == ["kept"]


@pytest.mark.parametrize("form", [transaction, Transaction], ids=["generator", "class"])
def test_fixed_helper_refuses_an_autocommit_connection(url: str, form: Any) -> None:
    """On an autocommit connection there is nothing to commit: refused, pointing at the fix."""
    with (
        psycopg.connect(url, autocommit=True) as conn,
        pytest.raises(ValueError, match=r"conn\.transaction\(\)"),
    ):
        form(conn).__enter__()


# --- psycopg 3's own tools ---------------------------------------------------------------------


def test_psycopg_transaction_rolls_back_on_keyboard_interrupt(
    url: str, observer: psycopg.Connection[Any]
) -> None:
    """psycopg's own transaction() block rolls back on Ctrl-C."""
    with psycopg.connect(url, autocommit=True) as conn:
        with pytest.raises(KeyboardInterrupt), conn.transaction():
            conn.execute("INSERT INTO ledger (note) VALUES ('interrupted')")
            raise KeyboardInterrupt
        with conn.transaction():
            conn.execute("INSERT INTO ledger (note) VALUES ('next')")
    assert notes(observer) == ["next"]


def test_nested_transaction_is_a_savepoint_and_rollback_undoes_only_it(
    url: str, observer: psycopg.Connection[Any]
) -> None:
    """A nested transaction() is a savepoint; psycopg.Rollback undoes only that part."""
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute("INSERT INTO ledger (note) VALUES ('order')")
        with conn.transaction() as savepoint:
            conn.execute("INSERT INTO ledger (note) VALUES ('optional gift wrap')")
            raise psycopg.Rollback(savepoint)
        conn.execute("INSERT INTO ledger (note) VALUES ('payment')")
    assert notes(observer) == ["order", "payment"]


def test_without_autocommit_a_later_transaction_block_is_only_a_savepoint(
    url: str, observer: psycopg.Connection[Any]
) -> None:
    """The trap from POSTGRES.md: the insert inside `with conn.transaction()` is lost."""
    conn = psycopg.connect(url)
    try:
        conn.execute("SELECT 1")  # opens the outer, implicit transaction
        with conn.transaction():
            conn.execute("INSERT INTO ledger (note) VALUES ('looks committed')")
        assert notes(observer) == []
    finally:
        conn.close()  # close() without commit() discards it
    assert notes(observer) == []


# --- ExitStack ---------------------------------------------------------------------------------


def test_open_connections_closes_all_of_them_after_the_block(
    url: str, observer: psycopg.Connection[Any]
) -> None:
    """ExitStack closes every connection it opened when the block ends."""
    baseline = count_sessions(observer)
    with open_connections([url, url, url], autocommit=True) as conns:
        assert count_sessions(observer) == baseline + 3
    assert all(conn.closed for conn in conns)
    assert wait_for_sessions(observer, baseline) == baseline


def test_open_connections_closes_the_opened_ones_when_a_later_one_fails(
    url: str, observer: psycopg.Connection[Any]
) -> None:
    """If one connection fails to open, the ones opened before it are closed."""
    opened: list[psycopg.Connection[Any]] = []

    def connect(target: str, **kwargs: Any) -> psycopg.Connection[Any]:
        conn = psycopg.connect(target, **kwargs)
        opened.append(conn)
        return conn

    bad = url.rsplit("/", 1)[0] + "/no_such_database"
    with (
        pytest.raises(psycopg.OperationalError, match="no_such_database"),
        open_connections([url, url, bad], connect=connect),
    ):
        pytest.fail("the block must not run when a connection fails to open")
    assert len(opened) == 2 and all(conn.closed for conn in opened)


# --- leaks ---------------------------------------------------------------------------------------


def test_leaky_query_leaves_a_session_open_and_fetch_all_does_not(
    url: str, observer: psycopg.Connection[Any]
) -> None:
    """pg_stat_activity shows one extra session per leaky call, none for the fixed one."""
    baseline = count_sessions(observer)
    cursors = [leaky_query(url, "SELECT 1") for _ in range(3)]
    assert count_sessions(observer) == baseline + 3
    for cursor in cursors:
        cursor.connection.close()
    assert wait_for_sessions(observer, baseline) == baseline
    assert fetch_all(url, "SELECT %s::int", (7,)) == [(7,)]
    assert wait_for_sessions(observer, baseline) == baseline


def test_no_leaked_sessions_names_the_leak(url: str, observer: psycopg.Connection[Any]) -> None:
    """The leak detector raises SessionLeakError saying how many sessions leaked."""
    leaked: list[psycopg.Connection[Any]] = []
    try:
        with (
            pytest.raises(SessionLeakError, match="1 database session"),
            no_leaked_sessions(observer, timeout=0.2),
        ):
            leaked.append(psycopg.connect(url))
    finally:
        for conn in leaked:
            conn.close()


def test_count_sessions_filters_by_application_name(
    url: str, observer: psycopg.Connection[Any]
) -> None:
    """Sessions can be counted per application_name."""
    with psycopg.connect(url, application_name="checkout-test"):
        assert count_sessions(observer, "checkout-test") == 1
        assert count_sessions(observer, "somebody-else") == 0
    assert wait_for_sessions(observer, 0, "checkout-test") == 0


def test_wait_for_sessions_gives_up_at_the_deadline_on_an_injected_clock(
    url: str, observer: psycopg.Connection[Any]
) -> None:
    """The poll stops at the deadline of the injected clock, without sleeping for real."""
    now = [0.0]
    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        now[0] += seconds

    with psycopg.connect(url):
        still_open = wait_for_sessions(observer, 0, timeout=0.05, clock=lambda: now[0], sleep=sleep)
    assert still_open >= 1
    assert len(naps) == 5


def test_pool_connections_go_back_to_the_pool_and_getconn_without_putconn_runs_dry(
    url: str, observer: psycopg.Connection[Any]
) -> None:
    """pool.connection() reuses sessions; getconn() without putconn() ends in PoolTimeout."""
    with ConnectionPool(
        url, min_size=2, max_size=2, kwargs={"application_name": "pool-test"}, open=True
    ) as pool:
        pool.wait()
        for _ in range(5):
            with pool.connection() as conn:
                conn.execute("SELECT 1")
        assert count_sessions(observer, "pool-test") == 2, "a pool reuses its sessions"
        borrowed = [pool.getconn(), pool.getconn()]  # and never given back
        with pytest.raises(PoolTimeout):
            pool.getconn(timeout=0.1)
        for conn in borrowed:
            pool.putconn(conn)
    assert wait_for_sessions(observer, 0, "pool-test") == 0
