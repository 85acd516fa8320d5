"""A warm grading process, for callers that check again and again: the notebook and ``watch``.

A cold check spends about 0.3 s importing pytest and Hypothesis before its first
test runs. The warm grader pays that once: a process of its own imports them, then
forks one fresh child per check. The child runs pytest as the cold command would
(same arguments, environment and folder, its own process group), and the learner's
code is only ever imported in that child, so each check starts from the same clean
state as a cold one. The runner stops and cleans up a warm child exactly as it does
a cold grader.

Lifetime: the worker reads its requests on stdin. When the process that started it
ends (a kernel restart or shutdown, ``watch`` stopped, a crash), that pipe closes
and the worker exits. Not used where there is no ``fork`` (Windows), nor by a
one-shot ``python -m patterns check``, which gains nothing from it.

Protocol, one JSON line each way: the request ``{"args", "env", "cwd", "log"}``;
the answers ``{"pid": n}`` once the child runs, then ``{"returncode": n}``.
A worker that does not answer as expected is killed, and the check runs cold.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import NoReturn

from patterns.course.runner import GRACE_SECONDS, GraderRun, kill_group, kill_strays

#: What graders import (about 0.1 s each): the cost a warm check no longer pays.
#: Third-party only: a course module loaded here would go stale when edited.
PRELOADED = (
    "pytest", "_pytest.assertion.rewrite", "hypothesis", "hypothesis.strategies",
    "psycopg", "testing.postgresql", "httpx", "respx",
)  # fmt: skip
#: How long a worker may take to import them before we give up and check cold.
START_SECONDS = 30.0
#: How long a running worker may take to fork the child and say so.
ANSWER_SECONDS = 5.0


class WorkerError(RuntimeError):
    """The worker did not answer as the protocol says (the caller falls back to cold)."""


class WarmGrader:
    """One warm worker, started on first use; :meth:`run` grades like ``runner.run``.

    Thread-safe (one check at a time). Not for a one-shot process: starting the
    worker costs what a cold check does.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self._ready = False

    def start(self) -> None:
        """Start the worker if none runs; it gets ready in the background."""
        with self._lock:
            self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            self._buffer = b""
            self._process = subprocess.Popen(
                [sys.executable, "-m", "patterns.course.warm_grader"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                # Its own session: Ctrl+C in a terminal or the kernel's interrupt
                # reaches the check through the runner, never the worker itself.
                start_new_session=True,
            )  # fmt: skip
            self._ready = False
        return self._process

    def stop(self) -> None:
        """Stop the worker (a check in progress is killed with it)."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            assert process.stdin is not None
            process.stdin.close()  # the worker exits on end of input
        try:
            process.wait(1.0)
        except subprocess.TimeoutExpired:
            kill_group(process.pid)
            process.wait()
        assert process.stdout is not None
        process.stdout.close()

    def run(
        self, args: list[str], env: dict[str, str], cwd: Path, timeout: float, log: Path
    ) -> GraderRun | None:
        """Run ``pytest args`` in a fresh child; ``None`` when the worker failed before
        the child started (then nothing ran: check cold). Interrupts stop the child,
        then go through, as in ``runner.run``."""
        with self._lock:
            started = time.monotonic()
            try:
                pid = self._begin(args, env, cwd, log)
            except (OSError, WorkerError, ValueError):
                self._close()
                self._start()  # this check runs cold; the next one finds a new worker
                return None
            except BaseException:  # interrupted while the child may be starting
                with contextlib.suppress(BaseException):  # bounded: ANSWER_SECONDS at most
                    kill_group(self._expect("pid", ANSWER_SECONDS))
                self._close()
                raise
            timed_out = False
            try:
                returncode = self._answer("returncode", timeout)
                if returncode is None:
                    timed_out = True
                    returncode = self._stop_child(pid)
            except BaseException:  # Ctrl+C, the interrupt button, SIGTERM: stop, let it through
                self._stop_child(pid)
                raise
            finally:
                kill_group(pid)  # whatever the learner's code started in the group
                kill_strays(env)
            text = log.read_text(encoding="utf-8", errors="replace")
            return GraderRun(returncode, text, time.monotonic() - started, timed_out)

    def _begin(self, args: list[str], env: dict[str, str], cwd: Path, log: Path) -> int:
        """Send one request; the pid of the child that runs it."""
        process = self._start()
        if not self._ready:
            self._expect("ready", START_SECONDS)
            self._ready = True
        request = {"args": args, "env": env, "cwd": str(cwd), "log": str(log)}
        assert process.stdin is not None
        process.stdin.write(json.dumps(request).encode() + b"\n")
        process.stdin.flush()
        return self._expect("pid", ANSWER_SECONDS)

    def _stop_child(self, pid: int) -> int:
        """SIGINT (pytest tears its fixtures down), a grace period, then SIGKILL."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGINT)
        try:
            returncode = self._answer("returncode", GRACE_SECONDS)
            if returncode is not None:
                return returncode
            kill_group(pid)
            returncode = self._answer("returncode", ANSWER_SECONDS)
        except (KeyboardInterrupt, OSError, WorkerError, ValueError):
            returncode = None  # a second press, or a worker gone wrong: no more waiting
        if returncode is None:
            kill_group(pid)
            self._close()  # out of step with the protocol: a new worker next time
            return -signal.SIGKILL
        return returncode

    def _expect(self, key: str, seconds: float) -> int:
        value = self._answer(key, seconds)
        if value is None:
            raise WorkerError(f"the grading worker did not say {key!r} within {seconds} s")
        return value

    def _answer(self, key: str, seconds: float) -> int | None:
        """The worker's next answer, which must carry ``key``; ``None`` on time out."""
        line = self._read_line(time.monotonic() + seconds)
        if line is None:
            return None
        message = json.loads(line)
        if not isinstance(message, dict) or not isinstance(message.get(key), int):
            raise WorkerError(f"the grading worker said {line!r}, expected {key!r}")
        return int(message[key])

    def _read_line(self, deadline: float) -> bytes | None:
        process = self._process
        if process is None or process.stdout is None:
            raise WorkerError("the grading worker is not running")
        fd = process.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            readable, _, _ = select.select([fd], [], [], min(left, 0.5))
            if readable:
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise WorkerError("the grading worker exited")
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line


def available() -> bool:
    """Whether this platform can run a warm worker (it needs ``fork`` and ``select`` on pipes)."""
    return hasattr(os, "fork") and sys.platform != "win32"


# --- the worker process ---------------------------------------------------------------


def _say(message: dict[str, int]) -> None:
    os.write(1, json.dumps(message).encode() + b"\n")


def _child(request: dict[str, object]) -> NoReturn:
    """Become the grader: what ``python -m pytest ARGS`` would be, in ``cwd``, with ``env``."""
    code = 70  # EX_SOFTWARE, if setting up the child itself fails
    try:
        os.setsid()
        output = os.open(str(request["log"]), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        nothing = os.open(os.devnull, os.O_RDONLY)
        os.dup2(nothing, 0)  # the request pipe is the worker's, not the learner's
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(nothing)
        os.close(output)
        cwd = str(request["cwd"])
        os.chdir(cwd)
        env = request["env"]
        assert isinstance(env, dict)
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in env.items()})
        sys.path[0] = cwd  # what `python -m pytest` started in cwd would have
        args = request["args"]
        assert isinstance(args, list)
        sys.argv = ["pytest", *(str(a) for a in args)]
        import pytest

        code = int(pytest.main(sys.argv[1:]))
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:  # the child must never return into the worker's loop
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    """The worker's loop: import once, then fork a child per request, until end of input."""
    import gc
    import importlib

    # The recipe of the gc module's documentation for fork without exec: no collection
    # in the worker, its objects frozen before the first fork, collection on in each
    # child. A child's collections then skip everything imported here, which halves
    # the CPU time of a check.
    gc.disable()
    for name in PRELOADED:
        with contextlib.suppress(ImportError):  # a grader that needs it says so itself
            importlib.import_module(name)
    from _pytest.config import default_plugins  # what pytest imports while it configures

    for name in default_plugins:
        with contextlib.suppress(ImportError):
            importlib.import_module(f"_pytest.{name}")
    _warm_hypothesis_constants()
    gc.freeze()
    _say({"ready": 1})
    for line in sys.stdin.buffer:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            gc.enable()
            _child(request)
        _say({"pid": pid})
        _, status = os.waitpid(pid, 0)
        _say({"returncode": os.waitstatus_to_exitcode(status)})


def _warm_hypothesis_constants() -> None:
    """Let Hypothesis scan the modules loaded so far for constants to try as inputs;
    each child then scans only the modules it adds (0.05 s less per check).
    A private function: when a Hypothesis release moves it, checks are just slower."""
    with contextlib.suppress(Exception):
        from hypothesis.internal.conjecture import providers

        providers._get_local_constants()


if __name__ == "__main__":
    serve()
