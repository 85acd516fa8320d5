"""A real JupyterHub on this machine, for the classroom test and the room benchmark.

The hub runs the project's own recipe (``classroom/jupyterhub_config.py``) plus
what a test needs on top: the dummy authenticator (any user, one password), the
local-process spawner with homes in a temporary folder, loopback ports, and a
token-only service (``test-driver``) that may create users, tokens and servers.
Its configurable-http-proxy comes from the npm registry; JupyterHub and
nbgitpuller from PyPI. :func:`missing_parts` says what is absent, for a skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import httpx

COURSE_ROOT = Path(__file__).resolve().parent.parent
CLASSROOM_CONFIG = COURSE_ROOT / "classroom" / "jupyterhub_config.py"
PASSWORD = "course-room-test"
INSTRUCTOR = "teacher"


def missing_parts() -> list[str]:
    """What a real hub needs that this machine lacks (empty when all is there)."""
    missing = [name for name in ("jupyterhub", "nbgitpuller") if find_spec(name) is None]
    if shutil.which("configurable-http-proxy") is None:
        missing.append("configurable-http-proxy (npm install -g configurable-http-proxy)")
    if shutil.which("git") is None:
        missing.append("git")
    return missing


def git(folder: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(folder), *args],
        capture_output=True,
        text=True,
        check=True,
        env={
            "GIT_AUTHOR_NAME": "course",
            "GIT_AUTHOR_EMAIL": "course@example.invalid",
            "GIT_COMMITTER_NAME": "course",
            "GIT_COMMITTER_EMAIL": "course@example.invalid",
            "HOME": str(folder),
            "PATH": "/usr/bin:/bin",
        },
    )
    return result.stdout


def publish_course(folder: Path) -> Path:
    """A git repository holding this course's files, as the instructor would publish it."""
    repo = folder / "upstream"
    listed = subprocess.run(
        ["git", "-C", str(COURSE_ROOT), "ls-files", "-z"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        source = COURSE_ROOT / name
        if source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the course")
    return repo


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Hub:
    """A running hub: its public URL, the driver's admin token, and helpers."""

    url: str
    admin_token: str
    folder: Path
    process: subprocess.Popen[bytes]
    room_url: str  # where learners' servers send progress (straight to the service)
    tokens: dict[str, str] = field(default_factory=dict)

    def api(self, token: str | None = None, timeout: float = 30) -> httpx.Client:
        headers = {"Authorization": f"token {token or self.admin_token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def add_users(self, names: list[str]) -> None:
        with self.api() as api:
            created = api.post("/hub/api/users", json={"usernames": names})
            assert created.status_code in (201, 409), created.text  # 409: all existed already
            for name in names:
                reply = api.post(f"/hub/api/users/{name}/tokens", json={"note": "test"})
                reply.raise_for_status()
                self.tokens[name] = reply.json()["token"]

    def server_process(self, user: str) -> int:
        """The pid of a user's single-user server (its kernels and databases are below it)."""
        import psutil

        home = str(self.folder / "homes" / user)
        for process in psutil.Process(self.process.pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if "jupyterhub-singleuser" in " ".join(process.cmdline()) and process.cwd() == home:
                    return int(process.pid)
        raise LookupError(f"no single-user server for {user}")

    def start_servers(self, names: list[str], timeout: float = 180) -> None:
        with self.api() as api:
            for name in names:
                reply = api.post(f"/hub/api/users/{name}/server")
                assert reply.status_code in (201, 202), reply.text
            deadline = time.monotonic() + timeout
            waiting = set(names)
            while waiting:
                for name in sorted(waiting):
                    model = api.get(f"/hub/api/users/{name}").json()
                    if model.get("servers", {}).get("", {}).get("ready"):
                        waiting.discard(name)
                assert time.monotonic() < deadline, f"servers not ready: {sorted(waiting)}"
                time.sleep(0.25)

    def git_pull(self, user: str, repo: str, target: str = "course") -> list[dict[str, Any]]:
        """Open the nbgitpuller link's API as the user; the events it streamed."""
        events = []
        params = {"repo": repo, "branch": "main", "targetpath": target}
        with (
            self.api(self.tokens[user], timeout=120) as api,
            api.stream("GET", f"/user/{user}/git-pull/api", params=params) as stream,
        ):
            assert stream.status_code == 200, stream.read()
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
                    if events[-1].get("phase") in ("finished", "error"):
                        break
        return events

    def put_file(self, user: str, path: str, text: str) -> None:
        """Save a file in the user's server, as JupyterLab's editor does."""
        with self.api(self.tokens[user]) as api:
            body = {"type": "file", "format": "text", "content": text}
            api.put(f"/user/{user}/api/contents/{path}", json=body).raise_for_status()

    def run_in_kernel(self, user: str, code: str, timeout: float = 120) -> str:
        """Start a kernel in the user's server, run ``code``, return what it printed."""
        with self.api(self.tokens[user]) as api:
            kernel = api.post(f"/user/{user}/api/kernels", json={"name": "python3"}).json()
        try:
            return asyncio.run(self._execute(user, kernel["id"], code, timeout))
        finally:
            with self.api(self.tokens[user]) as api:
                api.delete(f"/user/{user}/api/kernels/{kernel['id']}")

    async def _execute(self, user: str, kernel_id: str, code: str, timeout: float) -> str:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        ws_url = (
            self.url.replace("http://", "ws://") + f"/user/{user}/api/kernels/{kernel_id}/channels"
        )
        request = HTTPRequest(ws_url, headers={"Authorization": f"token {self.tokens[user]}"})
        connection = await websocket_connect(request)
        msg_id = uuid.uuid4().hex
        connection.write_message(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "msg_type": "execute_request",
                        "session": msg_id,
                        "username": user,
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": False,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                    "channel": "shell",
                    "buffers": [],
                }
            )
        )
        printed: list[str] = []
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                raw = await asyncio.wait_for(connection.read_message(), deadline - time.monotonic())
                assert raw is not None, "the kernel's websocket closed"
                message = json.loads(raw)
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = message["msg_type"], message["content"]
                if kind == "stream":
                    printed.append(content["text"])
                elif kind == "error":
                    raise AssertionError(
                        f"{content['ename']}: {content['evalue']}\n{''.join(printed)}"
                    )
                elif kind == "status" and content["execution_state"] == "idle":
                    return "".join(printed)
            raise AssertionError(f"no answer from the kernel within {timeout} s")
        finally:
            connection.close()

    def stop(self) -> None:
        """Stop the hub, which stops the proxy, the room service and every server."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=60)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # anything that ignored the hub
        self.process.wait()


def _test_config(folder: Path, port: int, driver_token: str) -> str:
    homes = folder / "homes"
    homes.mkdir()
    singleuser = Path(sys.executable).parent / "jupyterhub-singleuser"
    root_flag = ["--allow-root"] if os.geteuid() == 0 else []
    return f"""
c = get_config()
load_subconfig({str(CLASSROOM_CONFIG)!r})
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {free_port()}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
c.JupyterHub.db_url = "sqlite:///{folder / "hub.sqlite"}"
c.JupyterHub.cookie_secret_file = {str(folder / "cookie_secret")!r}
c.JupyterHub.pid_file = {str(folder / "hub.pid")!r}
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {PASSWORD!r}
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {str(homes / "{username}")!r}
c.Spawner.cmd = [{str(singleuser)!r}]
c.Spawner.args = {root_flag!r}
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
c.JupyterHub.services.append({{"name": "test-driver", "api_token": {driver_token!r}}})
c.JupyterHub.load_roles.append({{
    "name": "test-driver",
    "scopes": ["admin:users", "admin:servers", "tokens", "admin:groups", "access:servers"],
    "services": ["test-driver"],
}})
"""


@contextlib.contextmanager
def running_hub(folder: Path, extra_env: dict[str, str] | None = None) -> Iterator[Hub]:
    """Start a hub in ``folder`` for the ``with`` block; stop it, and all it started, after."""
    port = free_port()
    driver_token = secrets.token_hex(16)
    config = folder / "jupyterhub_test_config.py"
    config.write_text(_test_config(folder, port, driver_token))
    room_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PATTERNS_", "JUPYTERHUB_"))}
    env.update(
        {
            "COURSE_ROOM_PORT": str(room_port),
            "COURSE_ROOM_DB": str(folder / "room.sqlite"),
            "COURSE_INSTRUCTORS": INSTRUCTOR,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            **(extra_env or {}),
        }
    )
    log = open(folder / "hub.log", "wb")  # noqa: SIM115 (closed in finally)
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterhub", "-f", str(config)],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    room_url = f"http://127.0.0.1:{room_port}/services/course-room"
    hub = Hub(f"http://127.0.0.1:{port}", driver_token, folder, process, room_url)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, (
                "the hub exited:\n" + (folder / "hub.log").read_text()[-3000:]
            )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{hub.url}/hub/api", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, (
                "the hub did not start:\n" + (folder / "hub.log").read_text()[-3000:]
            )
            time.sleep(0.2)
        yield hub
    finally:
        hub.stop()
        log.close()
