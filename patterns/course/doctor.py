"""``python -m patterns doctor``: is this machine ready for the course, and if not, what to do.

Each check prints one line: ``ok`` and what was found, or ``FIX`` and the exact
command or step that fixes it. The exit status is 1 when anything needs fixing.
"""

from __future__ import annotations

import importlib.metadata
import re
import socket
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

Check = Callable[[], tuple[bool, str]]

#: The course's own distribution: its metadata holds the one package list.
DISTRIBUTION = "patterns-course"
_CHECKOUT = Path(__file__).resolve().parents[2]


def required_distributions() -> list[str]:
    """The course's runtime requirements (``psycopg[binary]==3.3.9``, ...), for this platform.

    From the installed distribution's metadata, so ``pyproject.toml`` is the only
    list; when the course is not installed in this Python (run from the checkout
    with another interpreter), read straight from that ``pyproject.toml``.
    """
    try:
        declared = importlib.metadata.requires(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        project = tomllib.loads((_CHECKOUT / "pyproject.toml").read_text(encoding="utf-8"))
        declared = project["project"]["dependencies"]
    return [requirement for requirement in declared if _applies(requirement)]


def _applies(requirement: str) -> bool:
    """Not an extra (dev tools), and meant for this platform."""
    try:
        from packaging.requirements import Requirement
    except ImportError:  # outside the course's environment: be conservative
        return "extra ==" not in requirement.replace("'", '"')
    marker = Requirement(requirement).marker
    return marker is None or marker.evaluate({"extra": ""})


def _name_and_specifier(requirement: str) -> tuple[str, str]:
    match = re.match(r"\s*([A-Za-z0-9._-]+)\s*(?:\[[^\]]*\])?\s*([^;]*)", requirement)
    assert match is not None, requirement
    return match[1], match[2].strip()


def _satisfied(specifier: str, version: str) -> bool:
    try:
        from packaging.specifiers import SpecifierSet
    except ImportError:
        return True
    return SpecifierSet(specifier).contains(version, prereleases=True)


def activate_advice(root: Path | None = None) -> str:
    """How to run the course's own Python, for a message about missing packages."""
    venv = (root or _CHECKOUT) / ".venv"
    if not (venv / "bin" / "python").exists():
        return "Run `make setup` in the course folder (it builds .venv and checks it)"
    if Path(sys.prefix).resolve() == venv.resolve():
        return "Run `make setup` to reinstall them into .venv"
    return (
        f"This is {sys.executable}, not the course's .venv: activate it first "
        "(`source .venv/bin/activate`), or run `.venv/bin/python -m patterns ...`"
    )


def check_python() -> tuple[bool, str]:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info >= (3, 11):  # noqa: UP036 - doctor must explain an old Python
        return True, f"Python {version} ({sys.executable})"
    return False, f"Python {version} is too old: install Python 3.11+, then `make setup` again"


def check_packages() -> tuple[bool, str]:
    """Every runtime requirement is installed, at a version the course allows."""
    requirements = required_distributions()
    missing, wrong = [], []
    for requirement in requirements:
        name, specifier = _name_and_specifier(requirement)
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
            continue
        if not _satisfied(specifier, version):
            wrong.append(f"{name} {version} (the course needs {specifier})")
    problems = []
    if missing:
        problems.append(
            f"{len(missing)} of {len(requirements)} packages missing: {', '.join(missing)}"
        )
    if wrong:
        problems.append(f"other versions installed: {', '.join(wrong)}")
    if problems:
        return False, f"{'; '.join(problems)}. {activate_advice()}"
    return True, f"{len(requirements)} course packages installed at the versions the course needs"


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
    except importlib.metadata.PackageNotFoundError:
        raise ModuleNotFoundError(name="ipywidgets") from None  # said by the packages line
    try:
        extension = importlib.metadata.version("jupyterlab_widgets")
    except importlib.metadata.PackageNotFoundError:
        return (
            False,
            f"the JupyterLab widget extension (jupyterlab_widgets) is missing. {activate_advice()}",
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
        try:
            ok, message = check()
        except ImportError as error:
            # A package is missing: the packages line above already says what to do.
            print(f"[---] {name:<10} not checked: needs {error.name or 'a missing package'}")
            continue
        failures += not ok
        label = "ok " if ok else "FIX"
        first, *rest = message.splitlines()
        print(f"[{label}] {name:<10} {first}")
        for line in rest:
            print(f"{'':16}{line}")
    print("All set." if not failures else f"{failures} thing(s) to fix, see FIX above.")
    return 1 if failures else 0
