"""Servers whose owning process died: recognised by their folder prefix, stopped and deleted."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

#: Every server folder starts with this, so leftovers are recognisable.
DIR_PREFIX = "patterns-pg-"


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


def _is_ours(folder: Path) -> bool:
    # On a shared machine /tmp and /dev/shm hold other accounts' servers too:
    # never judge or touch those. Root sees (and may clean) them all.
    if not hasattr(os, "geteuid") or os.geteuid() == 0:
        return True
    try:
        return folder.stat().st_uid == os.geteuid()
    except OSError:
        return False


def find_leftovers() -> list[Path]:
    """Server folders of ours whose owning process is gone (what :func:`sweep_leftovers` removes)."""
    found = []
    folders = [f for root in dict.fromkeys(_temp_roots()) for f in root.glob(f"{DIR_PREFIX}*")]
    for folder in folders:
        if not folder.is_dir() or not _is_ours(folder) or _owner_alive(folder / "owner.json"):
            continue
        # A folder created a moment ago may not have its owner file yet.
        try:
            young = time.time() - folder.stat().st_mtime < 60
        except OSError:
            continue  # removed meanwhile
        if young and not (folder / "owner.json").exists():
            continue
        found.append(folder)
    return found


def sweep_leftovers() -> list[Path]:
    """Stop and delete servers whose owning process is gone; return what was removed."""
    removed = []
    for folder in find_leftovers():
        _kill_postmaster(folder / "data")
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            removed.append(folder)
    return removed


def folder_size(folder: Path) -> int:
    """Bytes used by the files under ``folder`` (0 for what cannot be read)."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def describe(folders: list[Path]) -> str:
    """``2 folders (84 MB): /dev/shm/patterns-pg-a, /tmp/patterns-pg-b``."""
    megabytes = sum(folder_size(f) for f in folders) / 1e6
    shown = ", ".join(str(f) for f in folders[:3])
    more = f" and {len(folders) - 3} more" if len(folders) > 3 else ""
    noun = "folder" if len(folders) == 1 else "folders"
    return f"{len(folders)} {noun} ({megabytes:.0f} MB): {shown}{more}"
