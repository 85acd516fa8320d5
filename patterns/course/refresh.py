"""Re-execute notebooks and save their outputs the way the course's CI expects.

* a fresh kernel per notebook, run from ``notebooks/`` like a learner would;
* against pristine exercise stubs in a temporary copy of the course, so saved
  check cells show the starting state, never a contributor's solved files;
* no timing metadata (``record_timing=False``) and no widget state (about
  50 KB of random ids per notebook otherwise), so diffs show real changes.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from patterns.course.paths import ROOT_ENV
from patterns.course.stubs import pristine_course

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _clean(notebook: Any) -> None:
    """Drop what changes on every run without changing what a reader sees."""
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        merged: list[Any] = []
        for output in cell.outputs:
            # The kernel flushes stdout in arbitrary chunks: store one stream per run of prints.
            previous = merged[-1] if merged else None
            if (
                output.output_type == "stream"
                and previous is not None
                and previous.output_type == "stream"
                and previous.name == output.name
            ):
                previous.text += output.text
                continue
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is not None:
                # Widget state is not saved, so the random model id points nowhere:
                # a stable one keeps diffs to real changes.
                seed = f"{cell.get('id')}/{len(merged)}".encode()
                view["model_id"] = hashlib.sha1(seed, usedforsecurity=False).hexdigest()[:32]
            merged.append(output)
        cell.outputs = merged


def refresh_notebook(path: Path, root: Path, timeout: int = 600) -> float:
    """Execute one notebook in place; return the seconds it took."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    started = time.monotonic()
    with pristine_course(root) as copy:
        previous = os.environ.get(ROOT_ENV)
        os.environ[ROOT_ENV] = str(copy)  # the kernel inherits it
        try:
            client = NotebookClient(
                notebook,
                timeout=timeout,
                kernel_name="python3",
                record_timing=False,
                resources={"metadata": {"path": str(path.parent)}},
            )
            client.execute()
        finally:
            if previous is None:
                os.environ.pop(ROOT_ENV, None)
            else:
                os.environ[ROOT_ENV] = previous
    _clean(notebook)
    nbformat.validate(notebook)
    nbformat.write(notebook, path)  # type: ignore[no-untyped-call]
    return time.monotonic() - started


def refresh_notebooks(root: Path, names: Sequence[str]) -> None:
    paths = [Path(name).resolve() for name in names] or sorted((root / "notebooks").glob("*.ipynb"))
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"No notebook at {path}.")
        print(f"refreshing {path.name} ...", flush=True)
        seconds = refresh_notebook(path, root)
        print(f"  saved {path.name} ({seconds:.1f} s)", flush=True)
