"""``python -m patterns doctor``: is this machine ready for the course, and if not, what to do.

Each check prints one line: ``ok`` and what was found, or ``FIX`` and the exact
command or step that fixes it. The exit status is 1 when anything needs fixing.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import socket
import sys
from collections.abc import Callable

Check = Callable[[], tuple[bool, str]]

PACKAGES = {
    "psycopg": "psycopg[binary]",
    "psycopg_pool": "psycopg-pool",
    "testing.postgresql": "testing.postgresql",
    "httpx": "httpx",
    "respx": "respx",
    "tenacity": "tenacity",
    "ipywidgets": "ipywidgets",
    "jupyterlab": "jupyterlab",
    "matplotlib": "matplotlib",
    "hypothesis": "hypothesis",
    "pytest": "pytest",
    "nbval": "nbval",
}


def check_python() -> tuple[bool, str]:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info >= (3, 11):  # noqa: UP036 - doctor must explain an old Python
        return True, f"Python {version} ({sys.executable})"
    return False, f"Python {version} is too old: install Python 3.11+, then `make lab` again"


def check_packages() -> tuple[bool, str]:
    missing = []
    for module, distribution in PACKAGES.items():
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(distribution)
    if missing:
        return False, (
            f"missing packages: {', '.join(missing)}. Run `make lab` (or "
            f"`{sys.executable} -m pip install -e .` in the course folder)"
        )
    return True, f"{len(PACKAGES)} course packages import"


def check_postgres_binaries() -> tuple[bool, str]:
    from patterns.lab import PostgresNotFoundError, find_binaries

    try:
        binaries = find_binaries()
    except PostgresNotFoundError as error:
        return False, str(error)
    found = f"PostgreSQL {binaries.version} server binaries ({binaries.source}: {binaries.bin_dir})"
    if int(binaries.version.split(".")[0]) < 14:
        # The capstone's pg_terminate_backend(pid, timeout) needs 14 or later.
        return False, f"{found} are too old: the course needs PostgreSQL 14 or later"
    return True, found


def check_postgres_start() -> tuple[bool, str]:
    import time

    import psycopg

    from patterns.lab import PostgresNotFoundError, temporary_server

    started = time.monotonic()
    try:
        with temporary_server() as server, psycopg.connect(server.url) as conn:
            conn.execute("SELECT 1")
    except PostgresNotFoundError:
        return False, "no server to start (see the line above)"
    except Exception as error:
        return False, (
            f"a throwaway server did not start: {type(error).__name__}: {str(error)[:300]}. "
            "Check free disk space in /tmp, and that /dev/shm is writable"
        )
    return (
        True,
        f"a throwaway server started, answered and stopped in {time.monotonic() - started:.1f} s",
    )


def check_widgets() -> tuple[bool, str]:
    try:
        widgets = importlib.metadata.version("ipywidgets")
        extension = importlib.metadata.version("jupyterlab_widgets")
    except importlib.metadata.PackageNotFoundError:
        return (
            False,
            "the JupyterLab widget extension is missing: `pip install ipywidgets jupyterlab_widgets`",
        )
    return True, f"ipywidgets {widgets} with the JupyterLab extension {extension}"


def check_port() -> tuple[bool, str]:
    import os

    port = int(os.environ.get("PATTERNS_LAB_PORT", "8888"))
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False, (
                f"port {port} is busy (another JupyterLab?). Stop it, or start with `make lab PORT=8899`"
            )
    return True, f"port {port} is free for JupyterLab"


def check_course() -> tuple[bool, str]:
    from patterns.course import catalog
    from patterns.course.paths import CourseRootNotFoundError, course_root

    try:
        root = course_root()
    except CourseRootNotFoundError as error:
        return False, str(error)
    missing = [
        e for e in catalog.exercises().values() if not (root / "exercises" / e.file_name).exists()
    ]
    if missing:
        files = ", ".join(e.file_name for e in missing)
        commands = "; ".join(f"`python -m patterns reset {e.id}`" for e in missing)
        return False, f"exercise files missing: {files}. Restore with {commands}"
    return True, f"course folder {root} with {len(catalog.exercises())} exercises"


def check_server_leftovers() -> tuple[bool, str]:
    """Folders of throwaway servers whose Python was killed (SIGKILL, out of memory)."""
    from patterns.lab.throwaway_postgres.leftovers import describe, find_leftovers

    leftovers = find_leftovers()
    if not leftovers:
        return True, "no folders left by killed throwaway servers"
    # Not a FIX: nothing is broken, and the next server start removes them anyway.
    return True, (
        f"{describe(leftovers)} left by throwaway servers whose Python process was killed; "
        "the next server start removes them, `python -m patterns doctor --sweep` does it now"
    )


def run_doctor(quick: bool = False) -> int:
    checks: list[tuple[str, Check]] = [
        ("python", check_python),
        ("packages", check_packages),
        ("course", check_course),
        ("leftovers", check_server_leftovers),  # before "server", whose start sweeps them
        ("postgresql", check_postgres_binaries),
        ("widgets", check_widgets),
        ("port", check_port),
    ]
    if not quick:
        checks.insert(4, ("server", check_postgres_start))
    failures = 0
    for name, check in checks:
        ok, message = check()
        failures += not ok
        label = "ok " if ok else "FIX"
        first, *rest = message.splitlines()
        print(f"[{label}] {name:<10} {first}")
        for line in rest:
            print(f"{'':16}{line}")
    print("All set." if not failures else f"{failures} thing(s) to fix, see FIX above.")
    return 1 if failures else 0
