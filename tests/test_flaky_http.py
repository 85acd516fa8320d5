"""Integration tests: the retrying client against the real flaky server on 127.0.0.1.

Real sockets, real (short) timeouts, real dropped connections; the backoff
pauses are recorded by a fake sleep, never slept.
"""

from __future__ import annotations

import random
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from patterns.lab import Fault, flaky_server, seeded_faults
from patterns.retry import RetryPolicy, retry

# A "slow" answer comes after 0.3 s; the client waits 0.1 s for it. An OK answer
# takes about a millisecond, but a heavily loaded machine can stall one past
# 0.1 s too (measured with two CPU hogs on 2 cores): the client then simply
# retries once more. So tests with slow faults assert on what the server saw
# (every attempt is in its timeline), not on an exact count; tests without
# slow faults use a patient client and assert exact counts.
SLOW_SECONDS = 0.3
TIMEOUT = httpx.Timeout(5.0, read=0.1)
PATIENT = httpx.Timeout(5.0)


class FakeSleep:
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@pytest.fixture
def fake_sleep(request: pytest.FixtureRequest) -> Iterator[FakeSleep]:
    sleep = FakeSleep()
    yield sleep
    request.node.user_properties.append(("simulated_sleep_s", sum(sleep.sleeps)))


def policy(sleep: FakeSleep, max_attempts: int = 10) -> RetryPolicy:
    return retry(
        max_attempts=max_attempts,
        base_delay=0.5,
        max_delay=8.0,
        jitter="full",
        sleep=sleep,
        rng=random.Random(1),
    )


def get_status(client: httpx.Client) -> Any:
    response = client.get("/status")
    response.raise_for_status()
    return response.json()


def charge(client: httpx.Client, amount: int, key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    response = client.post("/charges", json={"amount": amount, "currency": "EUR"}, headers=headers)
    response.raise_for_status()
    return response.json()


def port_is_closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_the_seeded_schedule_is_reproducible_and_mixed() -> None:
    faults = seeded_faults(seed=7, count=8)
    assert faults == seeded_faults(seed=7, count=8)
    assert faults != seeded_faults(seed=8, count=8)
    assert {Fault.UNAVAILABLE, Fault.SLOW, Fault.DROP, Fault.OK} <= set(
        seeded_faults(seed=7, count=40)
    )


def test_the_retrying_client_gets_through_the_flaky_server(fake_sleep: FakeSleep) -> None:
    faults = [Fault.UNAVAILABLE, Fault.DROP, Fault.SLOW, Fault.UNAVAILABLE, Fault.OK]
    with (
        flaky_server(faults, slow_seconds=SLOW_SECONDS) as server,
        httpx.Client(base_url=server.url, timeout=TIMEOUT) as client,
    ):
        result = policy(fake_sleep).call(get_status, client)
    timeline = server.timeline
    assert [a.fault for a in timeline[:5]] == faults
    assert [a.status for a in timeline[:5]] == [503, None, 200, 503, 200]
    assert result == {"ok": True, "request": len(timeline)}
    assert len(fake_sleep.sleeps) == len(timeline) - 1, "one pause after each failed attempt"
    times = [a.at for a in timeline]
    assert times == sorted(times)


def test_a_seeded_schedule_is_survived_end_to_end(fake_sleep: FakeSleep) -> None:
    faults = seeded_faults(seed=2026, count=6, unavailable=0.4, slow=0.2, drop=0.2)
    failures = sum(fault is not Fault.OK for fault in faults)
    with (
        flaky_server(faults, slow_seconds=SLOW_SECONDS) as server,
        httpx.Client(base_url=server.url, timeout=TIMEOUT) as client,
    ):
        outcomes = [policy(fake_sleep).call(get_status, client) for _ in range(3)]
    assert all(outcome["ok"] for outcome in outcomes)
    assert len(server.timeline) >= 3 + failures
    assert len(fake_sleep.sleeps) == len(server.timeline) - 3


def test_the_servers_retry_after_is_honoured(fake_sleep: FakeSleep) -> None:
    with (
        flaky_server(["503", "503"], retry_after="6") as server,
        httpx.Client(base_url=server.url, timeout=PATIENT) as client,
    ):
        policy(fake_sleep).call(get_status, client)
    assert fake_sleep.sleeps == [6.0, 6.0]


def test_giving_up_reraises_the_last_real_error(fake_sleep: FakeSleep) -> None:
    with (
        flaky_server(["503", "503", "drop"]) as server,
        httpx.Client(base_url=server.url, timeout=PATIENT) as client,
        pytest.raises(httpx.RemoteProtocolError) as caught,
    ):
        policy(fake_sleep, max_attempts=3).call(get_status, client)
    assert caught.value.__notes__ == ["retry: gave up after 3 attempts (max_attempts=3 reached)"]


def _server_threads() -> list[threading.Thread]:
    # The serving loop and the per-request handlers, by their targets' names. Other
    # libraries may start threads of their own meanwhile; those are not the server's.
    owned = ("serve_forever", "process_request_thread")
    return [t for t in threading.enumerate() if any(name in t.name for name in owned)]


def test_nothing_is_left_running_after_the_block() -> None:
    before = _server_threads()
    with flaky_server(["slow"], slow_seconds=5.0) as server:
        port = server.port
        assert server.running and not port_is_closed(port)
        with (
            httpx.Client(base_url=server.url, timeout=TIMEOUT) as client,
            pytest.raises(httpx.ReadTimeout),
        ):
            client.get("/status")  # a handler is now waiting out its 5 s
    assert not server.running
    assert port_is_closed(port)
    assert _server_threads() == before, f"server threads still alive: {_server_threads()}"


def test_the_server_stops_even_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError, match="boom"), flaky_server() as server:
        raise RuntimeError("boom")
    assert not server.running
    assert port_is_closed(server.port)


# -- idempotency: a lost answer retried is a second charge, unless the key says otherwise --


@pytest.mark.parametrize("fault", ["drop", "slow"])
def test_retrying_a_payment_without_a_key_charges_twice(fake_sleep: FakeSleep, fault: str) -> None:
    with (
        flaky_server([fault], slow_seconds=SLOW_SECONDS) as server,
        httpx.Client(base_url=server.url, timeout=TIMEOUT) as client,
    ):
        receipt = policy(fake_sleep).call(charge, client, 1999)
    charges = server.charges
    assert len(charges) == len(server.timeline) >= 2, "every attempt charged the card again"
    assert {c.amount for c in charges} == {1999}
    assert receipt["id"] == charges[-1].id


@pytest.mark.parametrize("fault", ["drop", "slow"])
def test_retrying_a_payment_with_one_key_charges_once(fake_sleep: FakeSleep, fault: str) -> None:
    key = str(uuid.uuid4())  # made once, before the retries, so every attempt carries it
    with (
        flaky_server([fault], slow_seconds=SLOW_SECONDS) as server,
        httpx.Client(base_url=server.url, timeout=TIMEOUT) as client,
    ):
        receipt = policy(fake_sleep).call(charge, client, 1999, key)
    assert receipt == {"id": "ch_0001", "amount": 1999, "currency": "EUR", "replayed": True}
    assert len(server.charges) == 1
    assert len(server.timeline) >= 2
    assert {a.idempotency_key for a in server.timeline} == {key}


def test_a_key_made_inside_the_retried_call_protects_nothing(fake_sleep: FakeSleep) -> None:
    def charge_with_fresh_key(client: httpx.Client) -> Any:
        return charge(client, 500, key=str(uuid.uuid4()))  # a new key on every attempt

    with (
        flaky_server(["drop"]) as server,
        httpx.Client(base_url=server.url, timeout=PATIENT) as client,
    ):
        policy(fake_sleep).call(charge_with_fresh_key, client)
    assert len(server.charges) == 2


# -- the gateway's own checks -----------------------------------------------------------


def test_the_gateway_refuses_bad_requests_clearly() -> None:
    with flaky_server() as server, httpx.Client(base_url=server.url, timeout=PATIENT) as client:
        bad_amount = client.post("/charges", json={"amount": 19.99, "currency": "EUR"})
        not_json = client.post("/charges", content=b"{amount")
        key = {"Idempotency-Key": "k1"}
        client.post("/charges", json={"amount": 100, "currency": "EUR"}, headers=key)
        reused = client.post("/charges", json={"amount": 200, "currency": "EUR"}, headers=key)
        unknown = client.post("/refunds", json={})
    assert bad_amount.status_code == 400 and "minor units" in bad_amount.json()["error"]
    assert not_json.status_code == 400
    assert reused.status_code == 422 and "another body" in reused.json()["error"]
    assert unknown.status_code == 404
    assert len(server.charges) == 1


def test_faults_can_be_injected_while_running() -> None:
    with flaky_server() as server, httpx.Client(base_url=server.url, timeout=PATIENT) as client:
        assert client.get("/a").status_code == 200
        server.inject("503")
        assert client.get("/b").status_code == 503
        assert client.get("/c").status_code == 200
    assert [a.fault for a in server.timeline] == [Fault.OK, Fault.UNAVAILABLE, Fault.OK]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: flaky_server(["boom"]).__enter__(), "unknown fault 'boom'"),
        (lambda: flaky_server(slow_seconds=-1).__enter__(), "slow_seconds must be >= 0"),
        (lambda: seeded_faults(1, 5, unavailable=1.5), "unavailable must be a probability"),
        (lambda: seeded_faults(1, 5, unavailable=0.6, slow=0.6), "must not exceed 1"),
    ],
)
def test_bad_settings_are_refused(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_a_trickled_answer_outlasts_a_read_timeout_without_tripping_it() -> None:
    """httpx's read timeout bounds each read, not the whole answer: a trickle gets through."""
    with (
        flaky_server(["trickle"], slow_seconds=SLOW_SECONDS) as server,
        httpx.Client(base_url=server.url, timeout=TIMEOUT) as client,
    ):
        began = time.monotonic()
        answer = client.get("/status")
        took = time.monotonic() - began
    assert answer.json() == {"ok": True, "request": 1}
    assert TIMEOUT.read is not None
    assert took >= SLOW_SECONDS > TIMEOUT.read, (took, TIMEOUT.read)  # a lower bound: no flake
    assert [a.fault for a in server.timeline] == [Fault.TRICKLE]


def test_a_trickled_answer_sends_its_headers_at_once() -> None:
    """Only the body trickles: the response's head is in long before its body."""
    with (
        flaky_server(["trickle"], slow_seconds=SLOW_SECONDS) as server,
        httpx.Client(base_url=server.url, timeout=PATIENT) as client,
    ):
        began = time.monotonic()
        with client.stream("GET", "/status") as response:
            head_took = time.monotonic() - began
            body = response.read()
            body_took = time.monotonic() - began - head_took
    assert response.status_code == 200 and body == b'{"ok": true, "request": 1}'
    assert body_took >= SLOW_SECONDS * 0.9, body_took  # every gap comes after the head
    assert head_took < body_took, (head_took, body_took)


def test_trickled_headers_outlast_a_read_timeout_and_the_body_comes_at_once() -> None:
    """The status line and headers come a byte at a time; each read is quick, the head is not."""
    with (
        flaky_server(["trickle-headers"], slow_seconds=SLOW_SECONDS) as server,
        httpx.Client(base_url=server.url, timeout=TIMEOUT) as client,
    ):
        began = time.monotonic()
        with client.stream("GET", "/status") as response:
            head_took = time.monotonic() - began
            body = response.read()
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    assert body == b'{"ok": true, "request": 1}'
    assert TIMEOUT.read is not None
    assert head_took >= SLOW_SECONDS > TIMEOUT.read, (head_took, TIMEOUT.read)
    assert [a.fault for a in server.timeline] == [Fault.TRICKLE_HEADERS]


def test_a_trickle_headers_server_stops_promptly_mid_head() -> None:
    """Leaving the block while the head is still trickling does not wait for the rest of it."""
    slow_seconds = 7.0  # about 0.1 s a byte for a head of about 70 bytes
    began = time.monotonic()
    with (
        flaky_server(["trickle-headers"], slow_seconds=slow_seconds) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=5.0) as raw,
    ):
        raw.sendall(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = raw.recv(1)  # the head has started to trickle
    assert first == b"H"  # "HTTP/1.0 200 OK", one byte at a time
    assert time.monotonic() - began < slow_seconds / 2
