"""Grader for ex02: an advisory lock as a context manager, checked from a second connection.

"Held" means a second session sees it granted to the learner's session in
``pg_locks``; "released" means it is gone from there and the second session
can take it itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import psycopg
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from patterns.course.grading import Named, call_repr, grading_settings, load_graded
from patterns.lab import TemporaryServer

KEY = 4242
#: The graded connection, as failure messages name it: advisory_lock(conn, 4242).
CONN = Named("conn")
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
    call = call_repr("advisory_lock", CONN, KEY)
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
    assert_released(observer, KEY, f"after `with {call_repr('advisory_lock', CONN, KEY)}:`")


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


@pytest.mark.hints(
    "Release in a `finally:` block: `except Exception:` does not catch KeyboardInterrupt (Ctrl-C), which is a BaseException."
)
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


@pytest.mark.hints(
    "Release only your own key, once: SELECT pg_advisory_unlock(%s) with the key, never pg_advisory_unlock_all()."
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


@pytest.mark.hints(
    "pg_try_advisory_lock answers at once: `.fetchone()[0]` is False when another session holds the lock; raise LockBusy with the key in the message."
)
def test_non_blocking_raises_lock_busy_when_another_session_holds_it(
    ex02: ModuleType, conn: psycopg.Connection[Any], observer: psycopg.Connection[Any]
) -> None:
    """blocking=False raises LockBusy at once, naming the key, when another session holds it."""
    observer.execute("SELECT pg_advisory_lock(%s)", (KEY,))
    call = call_repr("advisory_lock", CONN, KEY, blocking=False)
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


@pytest.mark.hints(
    "With blocking=True, SELECT pg_advisory_lock(%s): PostgreSQL itself waits until the other session lets go."
)
def test_blocking_waits_until_the_other_session_releases_the_lock(
    ex02: ModuleType, conn: psycopg.Connection[Any], observer: psycopg.Connection[Any]
) -> None:
    """blocking=True (the default) waits while another session holds the lock, then runs the block."""
    observer.execute("SELECT pg_advisory_lock(%s)", (KEY,))
    call = call_repr("advisory_lock", CONN, KEY)
    outcome: list[str] = []

    def worker() -> None:
        try:
            with ex02.advisory_lock(conn, KEY):
                outcome.append("ran")
        except BaseException as error:  # reported below, in the test's own thread
            outcome.append(f"raised {type(error).__name__}: {error}")

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    # Wait (bounded) until PostgreSQL shows your session queued for the lock, or the call ended.
    deadline = time.monotonic() + 5
    waiting = False
    while not waiting and thread.is_alive() and time.monotonic() < deadline:
        waiting = bool(
            observer.execute(
                "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND pid = %s",
                (conn.info.backend_pid,),
            ).fetchone()
        )
        threading.Event().wait(0.005)
    observer.execute("SELECT pg_advisory_unlock(%s)", (KEY,))
    thread.join(timeout=10)
    assert waiting and outcome == ["ran"], (
        f"`with {call}:` while another session held lock {KEY}: "
        + (
            outcome[0].rstrip(".")
            if outcome and outcome[0] != "ran"
            else "it did not wait for the lock"
        )
        + "; with blocking=True it should wait until the lock is free (SELECT pg_advisory_lock(%s)), "
        "then run the block"
    )
    assert_released(observer, KEY, f"after `with {call}:` waited and ran")


@pytest.mark.parametrize("key", ["42", 4.2, True, 2**63, -(2**63) - 1])
def test_refuses_a_key_that_is_not_a_bigint(
    ex02: ModuleType, conn: psycopg.Connection[Any], key: Any
) -> None:
    """A key that is not an int in PostgreSQL's bigint range (or is a bool) raises ValueError before locking."""
    entered = False
    call = call_repr("advisory_lock", CONN, key)
    try:
        with ex02.advisory_lock(conn, key):
            entered = True
    except ValueError:
        return
    except Exception as error:
        pytest.fail(
            f"{call} raised {type(error).__name__}: {str(error).splitlines()[0]}; it should raise "
            "ValueError before asking the database",
            pytrace=False,
        )
    if entered:
        pytest.fail(f"{call} entered the block; it should raise ValueError", pytrace=False)


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


def test_refuses_a_connection_inside_a_transaction_block(
    ex02: ModuleType,
    conn: psycopg.Connection[Any],
    connections: tuple[psycopg.Connection[Any], psycopg.Connection[Any]],
) -> None:
    """Inside `with conn.transaction():` it raises ValueError and takes no lock (a failing statement would block the unlock)."""
    observer = connections[1]
    with conn.transaction():
        try:
            with ex02.advisory_lock(conn, KEY):
                pytest.fail(
                    "advisory_lock(conn, 4242) entered the block inside `with conn.transaction():`; "
                    "a statement failing there aborts the transaction, and the unlock with it: "
                    "it should raise ValueError (check conn.info.transaction_status)",
                    pytrace=False,
                )
        except ValueError:
            pass
    held = keys_held_by(observer, conn.info.backend_pid)
    assert held == set(), (
        f"after advisory_lock(conn, 4242) refused inside a transaction, the session still holds {held}"
    )


# --- the bigint range's two ends, and generated scenarios ------------------------------------


def keys_held_by(observer: psycopg.Connection[Any], pid: int) -> set[int]:
    """Every advisory key (any size) that session ``pid`` holds, as another session sees it."""
    rows = observer.execute(
        "SELECT classid::bigint, objid::bigint FROM pg_locks "
        "WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND pid = %s",
        (pid,),
    ).fetchall()
    keys = {(high << 32) | low for high, low in rows}
    return {key - 2**64 if key >= 2**63 else key for key in keys}


@pytest.mark.parametrize("key", [-(2**63), 2**63 - 1, 0])
def test_the_ends_of_the_bigint_range_are_valid_keys(
    ex02: ModuleType, conn: psycopg.Connection[Any], observer: psycopg.Connection[Any], key: int
) -> None:
    """The smallest and largest bigint (and 0) are keys like any other: held inside, free after."""
    call = call_repr("advisory_lock", CONN, key)
    try:
        with ex02.advisory_lock(conn, key):
            held = keys_held_by(observer, conn.info.backend_pid)
            assert held == {key}, f"inside `with {call}:` your session holds keys {held}"
    except ValueError as error:
        pytest.fail(
            f"{call} raised ValueError({error}); {key} is inside bigint's range", pytrace=False
        )
    held = keys_held_by(observer, conn.info.backend_pid)
    assert held == set(), f"after `with {call}:` your session still holds keys {held}"


GRADING = grading_settings(15)
KEYS = [1, 4242, -7, 2**63 - 1, -(2**63)]
#: ("lock", key, blocking), ("end", how the innermost block ends), ("other", key): the
#: second session takes key if it can, or gives it back if it holds it.
steps = st.lists(
    st.one_of(
        st.tuples(st.just("lock"), st.sampled_from(KEYS), st.booleans()),
        st.tuples(st.just("end"), st.sampled_from(["normally", "by ValueError", "by Ctrl-C"])),
        st.tuples(st.just("other"), st.sampled_from(KEYS)),
    ),
    max_size=12,
)


class ScenarioError(Exception):
    """Raised by the grader to end a block by an exception."""


@GRADING
@given(scenario=steps)
@example(
    scenario=[
        ("lock", 1, True),
        ("lock", 1, False),
        ("other", 4242),
        ("lock", 4242, False),
        ("end", "by ValueError"),
        ("lock", 2**63 - 1, True),
        ("end", "by Ctrl-C"),
        ("other", 4242),
        ("lock", 4242, False),
    ]
)
@pytest.mark.hints(
    "PostgreSQL counts: lock twice, unlock twice. Each `with` takes the lock once and releases "
    "it once, in a `finally`, whatever ends the block.",
)
def test_any_nesting_of_locks_holds_exactly_the_keys_of_the_open_blocks(
    ex02: ModuleType,
    connections: tuple[psycopg.Connection[Any], psycopg.Connection[Any]],
    scenario: list[tuple[Any, ...]],
) -> None:
    """Any nesting of blocks, ended in any way, holds exactly the keys of the blocks still open."""
    conn, observer = connections
    conn.execute("SELECT pg_advisory_unlock_all()")
    observer.execute("SELECT pg_advisory_unlock_all()")
    pid = conn.info.backend_pid
    open_blocks: list[tuple[int, Any]] = []  # (key, the context manager), innermost last
    other_holds: set[int] = set()
    done: list[str] = []

    def where() -> str:
        return "after " + "; ".join(done[-8:])

    try:
        for step in scenario:
            if step[0] == "lock":
                _, key, blocking = step
                blocking = blocking and key not in other_holds  # never wait for ever
                call = call_repr("advisory_lock", CONN, key, blocking=blocking)
                done.append(f"enter `with {call}:`")
                manager = ex02.advisory_lock(conn, key, blocking=blocking)
                try:
                    manager.__enter__()
                except ex02.LockBusy:
                    assert key in other_holds, (
                        f"{where()}, LockBusy was raised, but no other session holds {key}"
                    )
                else:
                    assert key not in other_holds, (
                        f"{where()}, the block was entered, but another session holds {key}: "
                        "raise LockBusy naming the key"
                    )
                    open_blocks.append((key, manager))
            elif step[0] == "end" and open_blocks:
                key, manager = open_blocks.pop()
                error: BaseException | None = {
                    "normally": None,
                    "by ValueError": ScenarioError("raised in the block"),
                    "by Ctrl-C": KeyboardInterrupt(),
                }[step[1]]
                done.append(f"the block on {key} ends {step[1]}")
                if error is None:
                    manager.__exit__(None, None, None)
                else:
                    swallowed = manager.__exit__(type(error), error, None)
                    assert not swallowed, (
                        f"{where()}, the exception was swallowed; it must propagate"
                    )
            elif step[0] == "other":
                key = step[1]
                if key in other_holds:
                    observer.execute("SELECT pg_advisory_unlock(%s)", (key,))
                    other_holds.discard(key)
                    done.append(f"another session releases {key}")
                else:
                    row = observer.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
                    if row is not None and row[0]:
                        other_holds.add(key)
                        done.append(f"another session takes {key}")
            if not done:
                continue
            expected = {key for key, _ in open_blocks}
            held = keys_held_by(observer, pid)
            assert held == expected, (
                f"{where()}, your session holds keys {sorted(held)}; expected {sorted(expected)}, "
                "the keys of the blocks still open"
            )
    except KeyboardInterrupt:
        pytest.fail(
            f"{where()}, KeyboardInterrupt came out of a block that did not end by Ctrl-C",
            pytrace=False,
        )
    finally:
        conn.execute("SELECT pg_advisory_unlock_all()")
        observer.execute("SELECT pg_advisory_unlock_all()")
