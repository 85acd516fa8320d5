"""Binder launch links in the README, built from the one repository address.

The address lives in ``pyproject.toml`` (``[project.urls] Repository``). Rows of
the README's notebook table (between ``<!-- notebooks:start -->`` and
``<!-- notebooks:end -->``) end in a launch cell that this module rewrites, and
the line between ``<!-- binder:start -->`` and ``<!-- binder:end -->`` gets the
whole-course link. Run ``python -m patterns links`` after the address changes.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

BADGE = "https://mybinder.org/badge_logo.svg"


def repository_url(root: Path) -> str:
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    url: str = data["project"]["urls"]["Repository"]
    return url.rstrip("/")


def binder_url(repository: str, notebook: str = "notebooks/00_start_here.ipynb") -> str:
    match = re.match(r"https://github\.com/([^/]+)/([^/]+?)(?:\.git)?$", repository)
    if not match:
        raise ValueError(
            f"[project.urls] Repository = {repository!r} is not a GitHub address "
            "(https://github.com/owner/name); Binder links need one."
        )
    owner, name = match.groups()
    return f"https://mybinder.org/v2/gh/{owner}/{name}/HEAD?urlpath=lab/tree/{notebook}"


def nbgitpuller_url(
    hub: str,
    repository: str,
    *,
    branch: str = "main",
    folder: str = "course",
    notebook: str = "notebooks/00_start_here.ipynb",
) -> str:
    """The link a room clicks on a JupyterHub: clone (or merge) the course, open a notebook.

    ``/hub/user-redirect/`` sends each learner to their own server (starting it);
    nbgitpuller clones ``repository`` into ``~/<folder>`` the first time and, on
    later clicks, merges upstream changes without overwriting the learner's edits.
    """
    from urllib.parse import urlencode

    if not re.match(r"^https?://[^/\s]+", hub):
        raise ValueError(f"{hub!r} is not a hub address (https://hub.example.org)")
    query = urlencode(
        {
            "repo": repository,
            "branch": branch,
            "targetpath": folder,
            "urlpath": f"lab/tree/{folder}/{notebook}",
        }
    )
    return f"{hub.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def render(readme: str, repository: str) -> str:
    def launch_cell(row: re.Match[str]) -> str:
        notebook = re.search(r"\((notebooks/[^)]+\.ipynb)\)", row[0])
        if not notebook:
            return row[0]
        cells = row[0].rstrip().rstrip("|").split("|")
        cells[-1] = f" [![launch]({BADGE})]({binder_url(repository, notebook[1])}) "
        return "|".join(cells) + "|"

    def table(block: re.Match[str]) -> str:
        body = re.sub(r"^\|.*$", launch_cell, block[2], flags=re.M)
        return block[1] + body + block[3]

    readme = re.sub(
        r"(<!-- notebooks:start -->\n)(.*?)(<!-- notebooks:end -->)", table, readme, flags=re.S
    )
    course_link = f"[![Launch the whole course on Binder]({BADGE})]({binder_url(repository)})"
    return re.sub(
        r"(<!-- binder:start -->).*?(<!-- binder:end -->)",
        lambda m: f"{m[1]}{course_link}{m[2]}",
        readme,
        flags=re.S,
    )


def update_readme(root: Path) -> bool:
    """Rewrite the README's launch links; return whether anything changed."""
    path = root / "README.md"
    before = path.read_text(encoding="utf-8")
    after = render(before, repository_url(root))
    if after != before:
        path.write_text(after, encoding="utf-8")
    return after != before
