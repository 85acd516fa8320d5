"""The throwaway server itself: testing.postgresql taught to drop privileges, detach,
listen on a private Unix socket only, and start all or nothing."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote

from patterns.lab.throwaway_postgres.binaries import Binaries, find_binaries
from patterns.lab.throwaway_postgres.cluster_cache import (
    _cached_cluster,
    _chown_tree,
    _create_test_database,
    _initdb,
)
from patterns.lab.throwaway_postgres.leftovers import (
    DIR_PREFIX,
    _process_start_time,
    _temp_roots,
    sweep_leftovers,
)
from patterns.lab.throwaway_postgres.privileges import (
    _run_as,
    _RunAs,
    _usable_binaries,
    spawn_detached,
)

#: Every server listens on this port number, but only on its own Unix socket
#: (``<base_dir>/tmp/.s.PGSQL.5432``): no TCP, so no port can clash.
SOCKET_PORT = 5432

#: sun_path holds 108 bytes on Linux, 104 on macOS (the terminating NUL included).
MAX_SOCKET_PATH = 103

SERVER_SETTINGS = (
    "-F",  # no fsync: a throwaway cluster
    *("-c", "logging_collector=off"),
    *("-c", "full_page_writes=off"),
    *("-c", "synchronous_commit=off"),
    *("-c", "max_connections=200"),
)


class _Interrupted:
    """Whether SIGINT arrived while interrupts were deferred."""

    def __init__(self) -> None:
        self.requested = False

    def check(self) -> None:
        """Raise KeyboardInterrupt now, at a point where it can be cleaned up after."""
        if self.requested:
            raise KeyboardInterrupt


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[_Interrupted]:
    """Hold back SIGINT (the interrupt button, Ctrl+C) inside the block.

    A KeyboardInterrupt can land between any two bytecodes: between spawning
    the postmaster and recording it, or between stopping it and deleting its
    folder. Inside the block a SIGINT is only recorded; the code checks for it
    where it can undo what it did, and the interrupt is delivered as usual when
    the block ends. Only the main thread receives signals, so elsewhere this
    does nothing.
    """
    interrupted = _Interrupted()
    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous in (signal.SIG_IGN, None):
        yield interrupted  # interrupts are ignored, or handled outside Python
        return

    def record(signum: int, frame: FrameType | None) -> None:
        interrupted.requested = True

    signal.signal(signal.SIGINT, record)
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)
        if interrupted.requested:
            if callable(previous):
                previous(signal.SIGINT, None)  # usually raises KeyboardInterrupt
            else:
                signal.raise_signal(signal.SIGINT)  # SIG_DFL: what would have happened


def _testing_postgresql_class() -> type:
    """testing.postgresql's server class, taught to drop privileges and detach.

    Built lazily: importing this module must not import testing.postgresql.
    """
    import testing.postgresql

    class CoursePostgresql(testing.postgresql.Postgresql):  # type: ignore[misc]
        child_process: subprocess.Popen[bytes] | None

        def prestart(self) -> None:
            self.settings["port"] = SOCKET_PORT  # no TCP port to find: see SOCKET_PORT

        def setup(self) -> None:
            # testing.common.database.Database.setup, copying file contents only:
            # copying each file's mode and times was a third of the copy's time.
            # The folders keep their modes (copytree copies those), so data/ stays 0700.
            data_dir = Path(self.get_data_directory())
            if self.settings["copy_data_from"]:
                shutil.copytree(
                    self.settings["copy_data_from"], data_dir, copy_function=shutil.copyfile
                )
                os.chmod(data_dir, 0o700)
            for name in self.subdirectories:
                (Path(self.base_dir) / name).mkdir(mode=0o700, exist_ok=True)
            self.initialize_database()

        def initialize_database(self) -> None:
            data_dir = Path(self.base_dir) / "data"
            run_as = self.settings["run_as"]
            _chown_tree(Path(self.base_dir), run_as)
            if not (data_dir / "PG_VERSION").exists():
                _initdb(self.settings["binaries"], data_dir, run_as)
                _create_test_database(self.settings["binaries"], data_dir, run_as)

        def get_server_commandline(self) -> list[str]:
            return [
                self.postgres,
                *("-p", str(self.settings["port"])),
                *("-D", os.path.join(self.base_dir, "data")),
                # The only way in: a socket in base_dir/tmp, a 0700 folder owned by
                # the account running the server. No TCP, which any local account
                # could reach, and trust authentication would let in as superuser.
                *("-k", os.path.join(self.base_dir, "tmp")),
                *("-c", "listen_addresses="),
                *SERVER_SETTINGS,
            ]

        def start(self, interrupted: _Interrupted | None = None) -> None:
            # testing.common.database.Database.start, but detached (see
            # spawn_detached) and cancellable by a deferred interrupt.
            if self.child_process:
                return
            self.prestart()
            socket_path = os.path.join(self.base_dir, "tmp", f".s.PGSQL.{self.settings['port']}")
            if len(socket_path) > MAX_SOCKET_PATH:
                raise RuntimeError(
                    f"The server's folder {self.base_dir} is too deep for a Unix socket "
                    f"({len(socket_path)} characters, at most {MAX_SOCKET_PATH}): set "
                    "PATTERNS_PG_TMPDIR to a shorter folder, such as /tmp."
                )
            log_path = os.path.join(self.base_dir, f"{self.name}.log")
            with open(log_path, "w") as log:
                self.child_process = spawn_detached(
                    self.get_server_commandline(),
                    self.settings["run_as"],
                    stdout=log,
                    stderr=log,
                    stdin=subprocess.DEVNULL,
                )
            self.wait_booting(interrupted or _Interrupted())

        def wait_booting(self, interrupted: _Interrupted) -> None:
            # The library polls with a connection every 0.1 s; reading the status
            # line of postmaster.pid every 20 ms (as pg_ctl does) is faster.
            deadline = time.monotonic() + self.settings.get("boot_timeout", 10.0)
            process = self.child_process
            assert process is not None, "wait_booting runs after start()"
            while not self.is_server_available():
                interrupted.check()
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("PostgreSQL did not start:\n" + self.read_bootlog())
                time.sleep(0.02)

        def is_server_available(self) -> bool:
            # postmaster.pid: line 1 the pid, line 8 "ready" once it accepts connections.
            pid_file = Path(self.base_dir) / "data" / "postmaster.pid"
            try:
                lines = pid_file.read_text().splitlines()
            except OSError:
                return False
            process = self.child_process
            return (
                len(lines) >= 8
                and process is not None
                and lines[0].strip() == str(process.pid)
                and lines[7].strip() == "ready"
            )

        def poststart(self) -> None:
            pass  # database `test` exists already: see _create_test_database

        def terminate(self, *args: object) -> None:
            # SIGINT is PostgreSQL's fast shutdown. Wait for it without the
            # library's 0.1 s polling.
            process = self.child_process
            if process is None or self._owner_pid != os.getpid():
                return
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            self.child_process = None

    return CoursePostgresql


class TemporaryServer:
    """A running throwaway server. Use :func:`temporary_server` to get one."""

    def __init__(self, impl: Any, base_dir: Path, binaries: Binaries) -> None:
        self._impl = impl
        self.base_dir = base_dir
        self.binaries = binaries
        self._lock = threading.Lock()
        self._stopped = False
        self._owner_pid = os.getpid()

    @property
    def socket_dir(self) -> Path:
        """The folder holding the server's Unix socket, reachable by its owner only."""
        return self.base_dir / "tmp"

    @property
    def url(self) -> str:
        """A ``postgresql://`` URL for ``psycopg.connect`` (database ``test``).

        The host is the socket folder, percent-encoded as libpq expects, so the
        database name stays the last part of the URL.
        """
        host = quote(str(self.socket_dir), safe="")
        return f"postgresql://postgres@{host}:{self.port}/test"

    @property
    def port(self) -> int:
        """The number in the socket's name; the server listens on no TCP port."""
        return int(self._impl.settings["port"] or SOCKET_PORT)

    @property
    def pid(self) -> int | None:
        """The postmaster's process id, None once stopped."""
        process = self._impl.child_process
        return process.pid if process is not None else None

    def is_running(self) -> bool:
        return bool(self._impl.is_alive())

    def stop(self) -> None:
        """Stop the server and delete its files. Safe to call twice, and from any thread.

        In a forked child (which inherits the object and its atexit entry) it does
        nothing: the server belongs to the parent.
        """
        if os.getpid() != self._owner_pid:
            return
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        atexit.unregister(self.stop)
        with _interrupts_deferred():  # stopped *and* deleted, or neither
            try:
                self._impl.stop()
            finally:
                shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> TemporaryServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else "stopped"
        # The socket folder, not a port: the server listens on no TCP port at all.
        return (
            f"<TemporaryServer {state} PostgreSQL {self.binaries.version} socket={self.socket_dir}>"
        )


def _new_server(binaries: Binaries, run_as: _RunAs | None, cluster: Path | None) -> TemporaryServer:
    """A server object with its folder and owner file, not started yet."""
    base_dir = Path(tempfile.mkdtemp(prefix=DIR_PREFIX, dir=_temp_roots()[0]))
    impl = _testing_postgresql_class()(
        base_dir=str(base_dir),
        initdb=str(binaries.initdb),
        postgres=str(binaries.postgres),
        copy_data_from=str(cluster) if cluster else None,
        auto_start=0,  # started by start_server, which can undo each step
        binaries=binaries,
        run_as=run_as,
    )
    server = TemporaryServer(impl, base_dir, binaries)
    # Registered before anything runs: whatever happens next, exit cleans up.
    atexit.register(server.stop)
    started = _process_start_time(os.getpid())
    (base_dir / "owner.json").write_text(json.dumps({"pid": os.getpid(), "started": started}))
    return server


def start_server(*, cached: bool = True, binaries: Binaries | None = None) -> TemporaryServer:
    """Start a throwaway server; the caller must ``stop()`` it (atexit does as a last resort).

    All or nothing: if the start fails or is interrupted (the interrupt button,
    Ctrl+C), the server is stopped and its folder deleted before the error is
    raised. ``cached=False`` runs initdb for this server instead of copying the
    cached cluster. Prefer :func:`temporary_server`, which stops it for you.
    """
    binaries = binaries or find_binaries()
    run_as = _run_as()
    with _interrupts_deferred() as interrupted:
        binaries = _usable_binaries(binaries, run_as)
        sweep_leftovers()
        cluster = _cached_cluster(binaries, run_as) if cached else None
        interrupted.check()
        server = _new_server(binaries, run_as, cluster)
        try:
            server._impl.setup()  # copy the cluster (or initdb), hand it to run_as
            interrupted.check()
            server._impl.start(interrupted)
            interrupted.check()  # a late interrupt still cancels the whole start
        except BaseException:
            server.stop()
            raise
    return server


@contextlib.contextmanager
def temporary_server(*, cached: bool = True) -> Iterator[TemporaryServer]:
    """Start a throwaway PostgreSQL for the ``with`` block; stop it and delete its files after."""
    server = start_server(cached=cached)
    try:
        yield server
    finally:
        server.stop()
