"""Shared fixtures. Kept light: graders for pure-Python exercises import this
file too, and ``check`` should take well under a second."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from patterns.lab import TemporaryServer


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[TemporaryServer]:
    """One throwaway PostgreSQL for the whole test run (started on first use)."""
    from patterns.lab import temporary_server

    with temporary_server() as server:
        yield server
