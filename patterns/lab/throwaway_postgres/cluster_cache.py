"""One initialised cluster per PostgreSQL version, cached; each server starts from a copy."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from patterns.lab.throwaway_postgres.binaries import Binaries
from patterns.lab.throwaway_postgres.privileges import _cache_root, _ensure_dir, _RunAs

#: Bump when the way the cached cluster is initialised changes.
CACHE_LAYOUT = "v1"


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
