"""The throwaway PostgreSQL under faults: interrupted starts, worker threads, killed
owners, and other accounts on a shared machine."""

from __future__ import annotations

import json
import os
import pwd
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from patterns.lab import TemporaryServer, start_server
from patterns.lab.throwaway_postgres.leftovers import DIR_PREFIX
from patterns.lab.throwaway_postgres.privileges import _readable_by_others
from tests.test_throwaway_postgres import Kernel

ROOT = Path(__file__).resolve().parents[1]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def server_root(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private PATTERNS_PG_TMPDIR, so this test sees only its own servers' folders.

    Not pytest's tmp_path: its parents are 0700, and as root the server runs as
    another account that must reach its folder.
    """
    shm = Path("/dev/shm")  # where servers go by default: disks are slower to copy to
    root = Path(
        tempfile.mkdtemp(prefix="pg-test-root-", dir=shm if os.access(shm, os.W_OK) else None)
    )
    os.chmod(root, 0o755)
    monkeypatch.setenv("PATTERNS_PG_TMPDIR", str(root))
    try:
        yield root
    finally:
        for process in _postmasters_under(root):
            process.kill()
        shutil.rmtree(root, ignore_errors=True)


def _postmasters_under(root: Path) -> list[psutil.Process]:
    found = {}
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if any(str(root) in part for part in cmdline):
            found[process.pid] = process
    # A backend shows its postmaster's command line for a moment after fork: skip children.
    return [p for p in found.values() if p.ppid() not in found]


# --- interrupting a start -------------------------------------------------------------

# Runs in its own session, like a Jupyter kernel: SIGINT goes to its whole process
# group, as the interrupt button does. At each moment, a timer interrupts a start
# that many seconds in; the script reports what is left once the interrupt is handled,
# while the interpreter lives on (a kernel does not exit after an interrupt).
INTERRUPTED_STARTS = textwrap.dedent(
    """
    import json, os, signal, sys, threading, time
    from pathlib import Path
    import psutil
    from patterns.lab import start_server

    root = Path(os.environ["PATTERNS_PG_TMPDIR"])

    def postmasters():
        # A backend shows its postmaster's command line for a moment after fork: skip children.
        found = {p.pid: p.ppid() for p in psutil.process_iter(["cmdline"])
                 if any(str(root) in part for part in p.info["cmdline"] or [])}
        return [pid for pid, parent in found.items() if parent not in found]

    start_server().stop()  # imports done, the cached cluster exists from here on
    started = time.perf_counter()
    start_server().stop()
    took = time.perf_counter() - started
    moments = int(sys.argv[1])
    print(json.dumps({"uninterrupted": took}), flush=True)
    # From the first instant to a little after a start would have ended.
    for delay in [1.3 * took * i / (moments - 1) for i in range(moments)]:
        server = None
        timer = threading.Timer(delay, os.killpg, (0, signal.SIGINT))
        try:
            timer.start()
            server = start_server()
            timer.join()  # the interrupt lands here when the start was quicker
        except KeyboardInterrupt:
            # Keep the exception, as IPython and the REPL do (sys.last_traceback):
            # its frames keep whatever the interrupted start had built alive.
            sys.last_type, sys.last_value, sys.last_traceback = sys.exc_info()
        folders = [str(f) for f in root.glob("patterns-pg-*")]
        report = {"delay": delay, "started": server is not None,
                  "postmasters": postmasters(), "folders": folders}
        if server is not None:
            report["own"] = {"pid": server.pid, "dir": str(server.base_dir)}
            server.stop()
        print(json.dumps(report), flush=True)
    """
)


@pytest.mark.slow
def test_an_interrupted_start_leaves_nothing_at_any_moment(server_root: Path) -> None:
    """SIGINT at 20 moments of a start: either a whole server, or no process and no folder."""
    moments = 20
    child = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED_STARTS, str(moments)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "PATTERNS_PG_TMPDIR": str(server_root)},
    )
    try:
        out, err = child.communicate(timeout=180)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    assert child.returncode == 0, f"the script died:\n{err[-3000:]}"
    reports = [json.loads(line) for line in out.splitlines()][1:]
    assert len(reports) == moments
    broken = []
    for report in reports:
        if report["started"]:
            whole = report["postmasters"] == [report["own"]["pid"]] and report["folders"] == [
                report["own"]["dir"]
            ]
        else:
            whole = report["postmasters"] == [] and report["folders"] == []
        if not whole:
            broken.append(report)
    interrupted = sum(not r["started"] for r in reports)
    assert interrupted >= 3, f"only {interrupted} starts were interrupted: the test proves nothing"
    assert not broken, f"{len(broken)} of {len(reports)} moments left a half start: {broken}"


@pytest.fixture
def jupyter_kernel() -> Iterator[Kernel]:
    started = Kernel()
    try:
        yield started
    finally:
        started.shutdown()


@pytest.mark.slow
def test_the_interrupt_button_during_start_leaves_a_whole_server_or_nothing(
    jupyter_kernel: Kernel, server_root: Path
) -> None:
    """In a real ipykernel: the interrupt button at moments of a start, checked after each."""
    kernel = jupyter_kernel
    took = kernel.run(
        f"import os, time; os.environ['PATTERNS_PG_TMPDIR'] = {str(server_root)!r}\n"
        "from patterns.lab import start_server\nstart_server().stop()\n"
        "started = time.perf_counter(); start_server().stop()\n"
        "print(time.perf_counter() - started)"
    )
    interrupted = 0
    for delay in [float(took) * i / 7 for i in range(7)]:  # within a start
        kernel.run("server = None")
        msg_id = kernel.client.execute("server = start_server()")
        time.sleep(delay)  # the moment the learner presses the button
        kernel.manager.interrupt_kernel()
        try:
            while kernel.client.get_shell_msg(timeout=20)["parent_header"]["msg_id"] != msg_id:
                pass  # replies to earlier requests
        except queue.Empty:
            # A press landing in ipykernel's own code after the cell ended is logged
            # ("KeyboardInterrupt caught in kernel") and the reply is never sent.
            pass
        # Retried: ipykernel aborts requests that arrive just after an error, and a
        # late press may interrupt this cell instead.
        for _attempt in range(5):
            state = kernel.run(
                "import json; print(json.dumps(server and [server.pid, str(server.base_dir)]))"
            )
            if state.startswith(("[", "null")):
                break
        own = json.loads(state)
        postmasters = [p.pid for p in _postmasters_under(server_root)]
        folders = [str(f) for f in server_root.glob(f"{DIR_PREFIX}*")]
        if own is None:
            interrupted += 1
            assert (postmasters, folders) == ([], []), f"half a start left at {delay} s"
        else:
            assert (postmasters, folders) == ([own[0]], [own[1]]), f"at {delay} s"
            kernel.run("server.stop()")
    assert interrupted >= 2, f"only {interrupted} starts were interrupted: the test proves little"


def test_an_interrupt_during_start_raises_keyboardinterrupt_after_cleaning_up(
    server_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process: SIGINT while booting gives KeyboardInterrupt, and no server or folder."""
    from patterns.lab.throwaway_postgres import server as server_module

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach only the main thread")
    # Deliver the interrupt at the most dangerous moment: the postmaster is
    # spawned and booting, its folder exists.
    course_class = server_module._testing_postgresql_class()
    spawned: list[int] = []

    class InterruptedWhileBooting(course_class):  # type: ignore[misc, valid-type]
        def is_server_available(self) -> bool:
            spawned.append(self.child_process.pid)
            signal.raise_signal(signal.SIGINT)
            return bool(super().is_server_available())

    monkeypatch.setattr(server_module, "_testing_postgresql_class", lambda: InterruptedWhileBooting)
    with pytest.raises(KeyboardInterrupt) as caught:
        start_server()
    # Checked while the traceback is alive, as in a notebook (IPython keeps it):
    # its frames must not be what keeps the cleanup from happening, or its end what does it.
    assert spawned, "the postmaster was never spawned: the interrupt came too early to prove much"
    assert _wait_gone(spawned[0], 5), "the interrupted start left its postmaster running"
    assert list(server_root.glob(f"{DIR_PREFIX}*")) == [], "the interrupted start left its folder"
    del caught


def test_a_folder_too_deep_for_a_socket_is_refused_in_one_sentence_leaving_nothing(
    server_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PATTERNS_PG_TMPDIR too deep for a socket path: a clear error, no folder left."""
    deep = server_root / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    monkeypatch.setenv("PATTERNS_PG_TMPDIR", str(deep))
    with pytest.raises(RuntimeError, match=r"too deep for a Unix socket .* PATTERNS_PG_TMPDIR"):
        start_server()
    assert list(deep.iterdir()) == [], "the refused start left its folder"


# --- servers whose Python was killed ---------------------------------------------------

OWNER_THEN_WAIT = (
    "import sys; from patterns.lab import start_server; server = start_server(); "
    "print(server.pid, server.base_dir, flush=True); sys.stdin.read()"
)


def _doctor(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "patterns", "doctor", *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result.stdout


def test_doctor_reports_a_killed_servers_folder_and_sweeps_it_on_request(server_root: Path) -> None:
    """SIGKILL leaves a folder; `doctor` names it and the sweep command, `doctor --sweep` removes it."""
    env = {**os.environ, "PATTERNS_PG_TMPDIR": str(server_root)}
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER_THEN_WAIT],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert owner.stdout is not None
    pid, folder = owner.stdout.readline().split()
    owner.kill()
    owner.wait()
    assert _wait_gone(int(pid), 10), "the parent-death signal did not stop the server"
    assert Path(folder).is_dir()

    report = _doctor("--quick", env=env)
    (line,) = [line for line in report.splitlines() if "leftovers" in line]
    assert folder in line and "`python -m patterns doctor --sweep`" in line, report

    assert "Removed 1 folder" in _doctor("--sweep", env=env)
    assert not Path(folder).exists(), "doctor --sweep left the folder"
    assert "no folders left by killed throwaway servers" in _doctor("--quick", env=env)


# A forked child inherits the server object and its atexit entry; its normal exit
# must not stop or delete the parent's server.
FORK_THEN_EXIT = textwrap.dedent(
    """
    import os, sys, warnings
    import psycopg
    from patterns.lab import start_server
    warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads, on 3.12+
    server = start_server()
    child = os.fork()
    if child == 0:
        sys.exit(0)  # runs atexit in the child
    os.waitpid(child, 0)
    with psycopg.connect(server.url) as conn:
        print(conn.execute("SELECT 42").fetchone()[0])
    server.stop()
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_exiting_leaves_the_parents_server_alone(server_root: Path) -> None:
    """The child's atexit does not stop the server the parent started."""
    result = subprocess.run(
        [sys.executable, "-c", FORK_THEN_EXIT],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PATTERNS_PG_TMPDIR": str(server_root)},
    )  # fmt: skip
    assert result.stdout.strip() == "42", result.stderr[-2000:]
    assert list(server_root.glob(f"{DIR_PREFIX}*")) == []


# --- worker threads ---------------------------------------------------------------------


def test_a_server_started_from_a_worker_thread_outlives_the_thread(server_root: Path) -> None:
    """Linux's parent-death signal follows the forking *thread*: the server must not stop with it."""
    started: list[TemporaryServer] = []
    worker = threading.Thread(target=lambda: started.append(start_server()))
    worker.start()
    worker.join()
    (server,) = started
    try:
        assert server.pid is not None
        assert not _wait_gone(server.pid, 1.0), "the server stopped when its thread ended"
        with psycopg.connect(server.url) as conn:
            assert conn.execute("SELECT 40 + 2").fetchone() == (42,)
    finally:
        server.stop()


# --- shared machines: the learner's server is the learner's alone -----------------------


def test_the_server_listens_on_no_tcp_port_only_a_private_socket(
    postgres_server: TemporaryServer,
) -> None:
    """No TCP listener (any local account could reach it); the socket's folder is 0700."""
    assert postgres_server.pid is not None
    postmaster = psutil.Process(postgres_server.pid)
    assert postmaster.net_connections(kind="inet") == [], "the server listens on TCP"
    folder = postgres_server.socket_dir.stat()
    assert folder.st_mode & 0o077 == 0, f"the socket folder is {oct(folder.st_mode)}, not 0700"
    assert folder.st_uid == postmaster.uids().real, "the socket folder is not the server's"
    with psycopg.connect(postgres_server.url) as conn:  # and the owner still gets in
        assert conn.execute("SELECT 1").fetchone() == (1,)


# Runs as another account with the system's Python (the course's .venv may sit in a
# private home): tries each way into the server and prints what happened.
PROBE = textwrap.dedent(
    """
    import json, socket, sys
    outcomes = []
    for kind, address in json.loads(sys.argv[1]):
        sock = socket.socket(socket.AF_UNIX if kind == "unix" else socket.AF_INET)
        sock.settimeout(5)
        try:
            sock.connect(address if kind == "unix" else tuple(address))
            sock.sendall(bytes.fromhex("0000000804d2162f"))  # SSLRequest: a client's hello
            outcomes.append("connected, server says " + sock.recv(1).decode())
        except PermissionError:
            outcomes.append("denied")
        except OSError as error:
            outcomes.append(f"failed: {error}")
        finally:
            sock.close()
    print(json.dumps(outcomes))
    """
)


def _python_for_everyone() -> str | None:
    for candidate in ("/usr/bin/python3", shutil.which("python3")):
        if candidate and os.path.exists(candidate) and _readable_by_others(Path(candidate)):
            return candidate
    return None


def _ways_in(server: TemporaryServer) -> list[tuple[str, object]]:
    """Every address the postmaster accepts connections on, read from the outside."""
    assert server.pid is not None
    # postmaster.pid: line 4 the port, line 5 the socket folder (PostgreSQL's own record).
    lines = (server.base_dir / "data" / "postmaster.pid").read_text().splitlines()
    ways: list[tuple[str, object]] = []
    if lines[4].strip():
        ways.append(("unix", f"{lines[4].strip()}/.s.PGSQL.{lines[3].strip()}"))
    for listening in psutil.Process(server.pid).net_connections(kind="inet"):
        if listening.status == psutil.CONN_LISTEN:
            ways.append(("tcp", [listening.laddr.ip, listening.laddr.port]))
    return ways


def _probe_as(account: pwd.struct_passwd, python: str, ways: list[tuple[str, object]]) -> list[str]:
    result = subprocess.run(
        [python, "-c", PROBE, json.dumps(ways)],
        user=account.pw_uid,
        group=account.pw_gid,
        extra_groups=[],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    outcomes: list[str] = json.loads(result.stdout)
    return outcomes


@pytest.mark.skipif(not IS_ROOT, reason="acting as another local account needs root")
def test_another_local_account_cannot_connect(postgres_server: TemporaryServer) -> None:
    """Every way into the server refuses another account; the server's own account gets in."""
    python = _python_for_everyone()
    if python is None:
        pytest.skip("no Python that other accounts can run (needed to probe as them)")
    assert postgres_server.pid is not None
    server_uid = psutil.Process(postgres_server.pid).uids().real
    others = [
        account
        for account in pwd.getpwall()
        if account.pw_uid not in (0, server_uid) and account.pw_name in ("nobody", "daemon")
    ]
    if not others:
        pytest.skip("no `nobody` or `daemon` account to act as")
    ways = _ways_in(postgres_server)
    # The control: the probe does reach the server when permissions allow.
    own = _probe_as(pwd.getpwuid(server_uid), python, ways[:1])
    assert own == ["connected, server says N"], f"the probe itself is broken: {own}"
    outcomes = dict(
        zip([json.dumps(way) for way in ways], _probe_as(others[0], python, ways), strict=True)
    )
    let_in = {way: outcome for way, outcome in outcomes.items() if outcome.startswith("connected")}
    assert not let_in, f"{others[0].pw_name} reached the server: {let_in}"
