"""Binder launch links come from the one repository address in pyproject.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from patterns.course.links import binder_url, render, repository_url

ROOT = Path(__file__).resolve().parents[1]


def test_readme_links_are_current_with_the_repository_address() -> None:
    """Regenerating the README's links changes nothing: they match pyproject's address."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert render(readme, repository_url(ROOT)) == readme, "run `python -m patterns links`"


def test_every_notebook_row_and_the_course_get_a_launch_link() -> None:
    """A changed address rewrites the whole-course link and one link per notebook row."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    moved = render(readme, "https://github.com/someone/fork")
    notebooks = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for name in notebooks:
        assert binder_url("https://github.com/someone/fork", f"notebooks/{name}") in moved
    assert moved.count("mybinder.org/v2/gh/someone/fork/HEAD") == len(notebooks) + 1


def test_a_non_github_address_is_refused_with_the_reason() -> None:
    """Binder needs a GitHub address; anything else is a clear error."""
    with pytest.raises(ValueError, match="not a GitHub address"):
        binder_url("https://example.org/course")


def test_the_nbgitpuller_link_clones_into_course_and_opens_the_first_notebook() -> None:
    """The hub link's query names the repository, branch, target folder and notebook."""
    from urllib.parse import parse_qs, urlsplit

    from patterns.course.links import nbgitpuller_url

    link = nbgitpuller_url("https://hub.example.org/", "https://github.com/o/course", branch="day2")
    parts = urlsplit(link)
    assert parts.path == "/hub/user-redirect/git-pull"
    assert parse_qs(parts.query) == {
        "repo": ["https://github.com/o/course"],
        "branch": ["day2"],
        "targetpath": ["course"],
        "urlpath": ["lab/tree/course/notebooks/00_start_here.ipynb"],
    }
    with pytest.raises(ValueError, match="not a hub address"):
        nbgitpuller_url("hub.example.org", "https://github.com/o/course")
