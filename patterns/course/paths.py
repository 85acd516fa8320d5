"""Where the course lives on disk: exercises, solutions, notebooks, tests, state."""

from __future__ import annotations

import os
import time
from pathlib import Path

#: Set this to point the tooling at another copy of the course (tests do).
ROOT_ENV = "PATTERNS_COURSE_ROOT"
#: The one ignored folder that holds progress, hint state and backups.
STATE_DIR = ".course"


class CourseRootNotFoundError(RuntimeError):
    """The course folder could not be found from here."""


def _is_root(folder: Path) -> bool:
    return (folder / "exercises").is_dir() and (folder / "solutions").is_dir()


def course_root(start: Path | None = None) -> Path:
    """The course folder: ``$PATTERNS_COURSE_ROOT``, else the nearest folder upward
    from ``start`` (the current directory) holding ``exercises/`` and ``solutions/``,
    else the checkout this package was installed from (editable installs)."""
    override = os.environ.get(ROOT_ENV)
    if override:
        root = Path(override).expanduser().resolve()
        if not _is_root(root):
            raise CourseRootNotFoundError(
                f"{ROOT_ENV}={override!r} does not hold exercises/ and solutions/. "
                "Point it at the course folder, or unset it."
            )
        return root
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _is_root(folder):
            return folder
    package_checkout = Path(__file__).resolve().parents[2]
    if _is_root(package_checkout):
        return package_checkout
    raise CourseRootNotFoundError(
        f"No course folder (one with exercises/ and solutions/) above {here}. "
        f"cd into the course, or set {ROOT_ENV}."
    )


def state_dir(root: Path) -> Path:
    """The learner's state folder in ``root``: the one place its name is spelled."""
    return root / STATE_DIR


def stamped_path(folder: Path, stem: str, suffix: str) -> Path:
    """``folder/<stem>.<local time><suffix>``, with a counter if that name is taken:
    where backups and damaged files are kept, so no earlier one is overwritten."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"{stem}.{stamp}{suffix}"
    counter = 1
    while path.exists():
        path = folder / f"{stem}.{stamp}-{counter}{suffix}"
        counter += 1
    return path
