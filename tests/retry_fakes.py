"""Fakes and fixtures shared by the retry unit tests and the ex07 grader.

``FakeTime`` (from ``patterns.lab``, which notebook 07 uses too) records every
pause and moves both fake clocks forward, so no test ever sleeps. A test module uses the fixtures by importing them::

    from tests.retry_fakes import api, client, fake  # noqa: F401  (pytest fixtures)

respx and the HTTP client are imported inside their fixtures: the ex07 grader
needs neither, and ``check`` should not pay for their import.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from patterns.lab import EPOCH, FakeTime

if TYPE_CHECKING:
    import respx

__all__ = ["API", "EPOCH", "FakeTime", "api", "client", "fake", "status_error"]

API = "https://api.example.test"


_ORDER_REQUEST = httpx.Request("GET", f"{API}/orders/42")  # one is enough: errors only read it


def status_error(status: int, headers: dict[str, str] | None = None) -> httpx.HTTPStatusError:
    """The exception ``raise_for_status()`` raises for an answer with ``status``."""
    response = httpx.Response(status, headers=headers, request=_ORDER_REQUEST)
    return httpx.HTTPStatusError(f"HTTP {status}", request=_ORDER_REQUEST, response=response)


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> Iterator[FakeTime]:
    """Fake time; the simulated seconds go into the test's report for bench_retry.py."""
    fake_time = FakeTime()
    yield fake_time
    request.node.user_properties.append(("simulated_sleep_s", sum(fake_time.sleeps)))


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    """respx playing the server at ``API``; routes not called are fine."""
    import respx

    with respx.mock(base_url=API, assert_all_called=False) as router:
        yield router


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    """One client per module: building one loads the CA bundle (about 30 ms).

    respx intercepts its requests whichever test's mock is active.
    """
    with httpx.Client(base_url=API) as shared:
        yield shared
