"""The throwaway server itself: testing.postgresql taught to drop privileges and detach."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from patterns.lab.throwaway_postgres.binaries import Binaries, find_binaries
from patterns.lab.throwaway_postgres.cluster_cache import _cached_cluster, _chown_tree, _initdb
from patterns.lab.throwaway_postgres.leftovers import (
    DIR_PREFIX,
    _process_start_time,
    _temp_roots,
    sweep_leftovers,
)
from patterns.lab.throwaway_postgres.privileges import _child_setup, _run_as, _usable_binaries


def _testing_postgresql_class() -> type:
    """testing.postgresql's server class, taught to drop privileges and detach.

    Built lazily: importing this module must not import testing.postgresql.
    """
    import testing.postgresql

    class CoursePostgresql(testing.postgresql.Postgresql):  # type: ignore[misc]
        child_process: subprocess.Popen[bytes] | None

        def initialize_database(self) -> None:
            data_dir = Path(self.base_dir) / "data"
            run_as = self.settings["run_as"]
            _chown_tree(Path(self.base_dir), run_as)
            if not (data_dir / "PG_VERSION").exists():
                _initdb(self.settings["binaries"], data_dir, run_as)

        def start(self) -> None:
            # testing.common.database.Database.start, but in a new session (the
            # interrupt button must not reach the server), as the unprivileged
            # user, with a parent-death signal.
            if self.child_process:
                return
            self.prestart()
            run_as = self.settings["run_as"]
            log_path = os.path.join(self.base_dir, f"{self.name}.log")
            with open(log_path, "w") as log:
                self.child_process = subprocess.Popen(
                    self.get_server_commandline(),
                    stdout=log,
                    stderr=log,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                    preexec_fn=_child_setup(os.getpid()),
                    **(run_as.popen_kwargs() if run_as else {}),
                )
            try:
                self.wait_booting()
                self.poststart()
            except Exception:
                self.stop()
                raise

        def wait_booting(self) -> None:
            # The library polls every 0.1 s; a 20 ms poll saves a few tenths per start.
            deadline = time.monotonic() + self.settings.get("boot_timeout", 10.0)
            process = self.child_process
            assert process is not None, "wait_booting runs after start()"
            while not self.is_server_available():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("PostgreSQL did not start:\n" + self.read_bootlog())
                time.sleep(0.02)

    return CoursePostgresql


class TemporaryServer:
    """A running throwaway server. Use :func:`temporary_server` to get one."""

    def __init__(self, impl: Any, base_dir: Path, binaries: Binaries) -> None:
        self._impl = impl
        self.base_dir = base_dir
        self.binaries = binaries
        self._lock = threading.Lock()
        self._stopped = False

    @property
    def url(self) -> str:
        """A ``postgresql://`` URL for ``psycopg.connect`` (database ``test``)."""
        url: str = self._impl.url()
        return url

    @property
    def port(self) -> int:
        return int(self._impl.settings["port"])

    @property
    def pid(self) -> int | None:
        """The postmaster's process id, None once stopped."""
        process = self._impl.child_process
        return process.pid if process is not None else None

    def is_running(self) -> bool:
        return bool(self._impl.is_alive())

    def stop(self) -> None:
        """Stop the server and delete its files. Safe to call twice."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        atexit.unregister(self.stop)
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
        return f"<TemporaryServer {state} PostgreSQL {self.binaries.version} port={self.port}>"


def start_server(*, cached: bool = True, binaries: Binaries | None = None) -> TemporaryServer:
    """Start a throwaway server; the caller must ``stop()`` it (atexit does as a last resort).

    ``cached=False`` runs initdb for this server instead of copying the cached cluster.
    Prefer :func:`temporary_server`, which stops it for you.
    """
    binaries = binaries or find_binaries()
    run_as = _run_as()
    binaries = _usable_binaries(binaries, run_as)
    sweep_leftovers()
    base_dir = Path(tempfile.mkdtemp(prefix=DIR_PREFIX, dir=_temp_roots()[0]))
    started = _process_start_time(os.getpid())
    (base_dir / "owner.json").write_text(json.dumps({"pid": os.getpid(), "started": started}))
    try:
        impl = _testing_postgresql_class()(
            base_dir=str(base_dir),
            initdb=str(binaries.initdb),
            postgres=str(binaries.postgres),
            copy_data_from=str(_cached_cluster(binaries, run_as)) if cached else None,
            postgres_args="-h 127.0.0.1 -F -c logging_collector=off -c full_page_writes=off "
            "-c synchronous_commit=off -c max_connections=200",
            binaries=binaries,
            run_as=run_as,
        )
    except BaseException:
        shutil.rmtree(base_dir, ignore_errors=True)
        raise
    server = TemporaryServer(impl, base_dir, binaries)
    atexit.register(server.stop)
    return server


@contextlib.contextmanager
def temporary_server(*, cached: bool = True) -> Iterator[TemporaryServer]:
    """Start a throwaway PostgreSQL for the ``with`` block; stop it and delete its files after."""
    server = start_server(cached=cached)
    try:
        yield server
    finally:
        server.stop()
