"""Grader for ex02: an advisory lock as a context manager, checked from a second connection.

"Held" means a second session sees it granted to the learner's session in
``pg_locks``; "released" means it is gone from there and the second session
can take it itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import psycopg
import pytest

from patterns.course.grading import call_repr, load_graded
from patterns.lab import TemporaryServer

KEY = 4242
OTHER_KEY = 4343


class InnerFailure(Exception):
    """Raised inside a block by the grader (not a RuntimeError, which NotImplementedError is)."""


@pytest.fixture(scope="module")
def ex02() -> ModuleType:
    return load_graded("ex02")


@pytest.fixture(scope="module")
def connections(
    postgres_server: TemporaryServer,
) -> Iterator[tuple[psycopg.Connection[Any], psycopg.Connection[Any]]]:
    """The learner's connection and an observer, both autocommit."""
    with (
        psycopg.connect(postgres_server.url, autocommit=True) as conn,
        psycopg.connect(postgres_server.url, autocommit=True) as observer,
    ):
        # A blocking wait where none should happen fails in 5 s instead of
        # hanging until the check's timeout.
        conn.execute("SET lock_timeout = '5s'")
        yield conn, observer


@pytest.fixture
def conn(
    connections: tuple[psycopg.Connection[Any], psycopg.Connection[Any]],
) -> Iterator[psycopg.Connection[Any]]:
    yield connections[0]
    # Leave nothing behind for the next test, whatever the code under test did.
    connections[0].execute("SELECT pg_advisory_unlock_all()")
    connections[1].execute("SELECT pg_advisory_unlock_all()")


@pytest.fixture
def observer(
    connections: tuple[psycopg.Connection[Any], psycopg.Connection[Any]],
) -> psycopg.Connection[Any]:
    return connections[1]


def holders(observer: psycopg.Connection[Any], key: int) -> list[int]:
    """Backend pids holding advisory lock ``key`` (small keys: classid 0, objid key)."""
    rows = observer.execute(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND classid = 0 AND objid = %s AND objsubid = 1",
        (key,),
    ).fetchall()
    return [row[0] for row in rows]


def assert_released(observer: psycopg.Connection[Any], key: int, after: str) -> None:
    held = holders(observer, key)
    assert held == [], f"{after}, a second connection still sees lock {key} held by pid {held}"
    row = observer.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
    assert row is not None and row[0], f"{after}, a second connection cannot take lock {key}"
    observer.execute("SELECT pg_advisory_unlock(%s)", (key,))


def test_the_lock_is_held_inside_the_block(
    ex02: ModuleType, conn: psycopg.Connection[Any], observer: psycopg.Connection[Any]
) -> None:
    """Inside the block, a second connection sees the lock held by your session."""
    call = call_repr("advisory_lock", "conn", KEY)
    with ex02.advisory_lock(conn, KEY):
        held = holders(observer, KEY)
        assert held == [conn.info.backend_pid], (
            f"inside `with {call}:` a second connection sees holders {held}, expected your "
            f"session {conn.info.backend_pid}. Did you run SELECT pg_advisory_lock(%s)?"
        )
        busy = observer.execute("SELECT pg_try_advisory_lock(%s)", (KEY,)).fetchone()
        assert busy is not None and not busy[0], (
            f"inside `with {call}:` another session could take lock {KEY} too"
        )


def test_the_lock_is_released_after_a_normal_exit(
    ex02: ModuleType, conn: psycopg.Connection[Any], observer: psycopg.Connection[Any]
) -> None:
    """After the block ends normally, the lock is free for other sessions."""
    with ex02.advisory_lock(conn, KEY):
        pass
    assert_released(observer, KEY, f"after `with {call_repr('advisory_lock', 'conn', KEY)}:`")


def test_the_lock_is_released_and_the_error_propagates_on_an_exception(
    ex02: ModuleType, conn: psycopg.Connection[Any], observer: psycopg.Connection[Any]
) -> None:
    """When the block raises, the lock is released and the same exception reaches the caller."""
    error = ValueError("payment declined")
    try:
        with ex02.advisory_lock(conn, KEY):
            raise error
    except ValueError as caught:
        assert caught is error, f"the block raised {error!r}, but the caller got {caught!r}"
    else:
        pytest.fail("the block raised ValueError, but the with statement swallowed it")
    assert_released(observer, KEY, "after the block raised ValueError")


def test_the_lock_is_released_on_keyboard_interrupt(
    ex02: ModuleType, conn: psycopg.Connection[Any], observer: psycopg.Connection[Any]
) -> None:
    """Ctrl-C (KeyboardInterrupt) in the block still releases the lock and still propagates."""
    try:
        with ex02.advisory_lock(conn, KEY):
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    else:
        pytest.fail("KeyboardInterrupt in the block was swallowed; it must reach the caller")
    assert_released(
        observer, KEY, "after KeyboardInterrupt in the block (except Exception misses it)"
    )


def test_nesting_the_same_key_keeps_it_until_the_outer_block_ends(
    ex02: ModuleType, conn: psycopg.Connection[Any], observer: psycopg.Connection[Any]
) -> None:
    """Nested blocks on the same key: the inner exit keeps the lock, the outer exit frees it."""
    with ex02.advisory_lock(conn, KEY):
        with ex02.advisory_lock(conn, KEY):
            pass
        held = holders(observer, KEY)
        assert held == [conn.info.backend_pid], (
            f"after the inner of two nested blocks on lock {KEY}, a second connection sees "
            f"holders {held}: the outer block must still hold it"
        )
    assert_released(observer, KEY, "after both nested blocks ended")


def test_nesting_two_keys_holds_both_and_releases_both(
    ex02: ModuleType, conn: psycopg.Connection[Any], observer: psycopg.Connection[Any]
) -> None:
    """Two different keys nested: both held inside, both free after, even when the inner raises."""
    with (
        pytest.raises(InnerFailure),
        ex02.advisory_lock(conn, KEY),
        ex02.advisory_lock(conn, OTHER_KEY),
    ):
        both = (holders(observer, KEY), holders(observer, OTHER_KEY))
        assert both == ([conn.info.backend_pid], [conn.info.backend_pid]), (
            f"inside nested blocks on {KEY} and {OTHER_KEY}, holders are {both}"
        )
        raise InnerFailure("inner failure")
    assert_released(observer, KEY, "after nested blocks ended by an exception")
    assert_released(observer, OTHER_KEY, "after nested blocks ended by an exception")


def test_non_blocking_raises_lock_busy_when_another_session_holds_it(
    ex02: ModuleType, conn: psycopg.Connection[Any], observer: psycopg.Connection[Any]
) -> None:
    """blocking=False raises LockBusy at once, naming the key, when another session holds it."""
    observer.execute("SELECT pg_advisory_lock(%s)", (KEY,))
    call = call_repr("advisory_lock", "conn", KEY, blocking=False)
    ran = False
    try:
        with ex02.advisory_lock(conn, KEY, blocking=False):
            ran = True
    except ex02.LockBusy as error:
        assert str(KEY) in str(error), f"{call} raised LockBusy({error}); name the key"
    else:
        pytest.fail(f"{call} entered the block (ran={ran}) although another session held it")
    assert not ran, f"{call} ran the block although another session held the lock"
    observer.execute("SELECT pg_advisory_unlock(%s)", (KEY,))
    with ex02.advisory_lock(conn, KEY, blocking=False):
        held = holders(observer, KEY)
        assert held == [conn.info.backend_pid], (
            f"{call} with the lock free should hold it; a second connection sees {held}"
        )
    assert_released(observer, KEY, f"after `with {call}:`")


@pytest.mark.parametrize("key", ["42", 4.2, True, 2**63, -(2**63) - 1])
def test_refuses_a_key_that_is_not_a_bigint(
    ex02: ModuleType, conn: psycopg.Connection[Any], key: Any
) -> None:
    """A key that is not an int in PostgreSQL's bigint range raises ValueError before locking."""
    call = call_repr("advisory_lock", "conn", key)
    try:
        with ex02.advisory_lock(conn, key):
            pytest.fail(f"{call} entered the block; it should raise ValueError")
    except ValueError:
        return


def test_refuses_a_connection_without_autocommit(
    ex02: ModuleType, postgres_server: TemporaryServer
) -> None:
    """A connection with autocommit off raises ValueError (a failed transaction blocks unlock)."""
    with psycopg.connect(postgres_server.url) as conn:
        try:
            with ex02.advisory_lock(conn, KEY):
                pytest.fail("advisory_lock entered the block on a non-autocommit connection")
        except ValueError:
            return
