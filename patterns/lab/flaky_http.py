"""A real, deliberately unreliable HTTP server on 127.0.0.1, for fault-injection demos and tests.

What is it for?
    respx proves what a client does with a scripted response; it cannot show
    a real socket being dropped or a real response arriving too late. This
    server does both, on a loopback port, with a failure schedule you choose
    (or draw from a seed), and it records every request it receives. It also
    plays a small payment gateway that honours ``Idempotency-Key``, so the
    lesson can show a double charge and the capstone can use it as its flaky
    payment gateway.

API (everything is in ``__all__``)::

    with flaky_server(faults=["503", "drop", "ok"], slow_seconds=0.1) as server:
        server.url            # "http://127.0.0.1:<ephemeral port>"
        server.port
        server.inject("slow", "503")   # queue more faults for the next requests
        server.timeline       # list[Arrival]: every request, in arrival order
        server.charges        # list[Charge]: every charge actually made
    # here the serving thread has stopped and the port is closed

    seeded_faults(seed=7, count=10, unavailable=0.3, slow=0.1, drop=0.1)
        -> a reproducible list of Fault values for ``faults=``

Faults are consumed one per request, in arrival order, whatever the path;
once the list is used up every request succeeds (``Fault.OK``):

    ``"ok"``    answer normally.
    ``"503"``   answer 503 Service Unavailable (with ``Retry-After`` when the
                server was built with ``retry_after=``); nothing is processed.
    ``"slow"``  process the request, then wait ``slow_seconds`` before
                answering: a client whose read timeout is shorter gives up,
                although the work was done.
    ``"drop"``  process the request, then close the connection without any
                answer: the client sees ``httpx.RemoteProtocolError`` and
                cannot tell whether the work was done.
    ``"trickle"`` answer normally, with the status line and headers at
                once, then the body one byte at a time, spread over
                ``slow_seconds``: every byte comes well within a short read
                timeout, yet the body takes ``slow_seconds`` (an httpx
                timeout bounds each read, not the whole response).
    ``"trickle-headers"`` the other way round: the status line and headers
                one byte at a time over ``slow_seconds``, then the body at
                once. A client that checks its clock only between chunks of
                the body does not get to check it until the headers are in.

Endpoints:

    ``GET /<anything>``  200, ``{"ok": true, "request": <arrival number>}``.
    ``POST /charges``    body ``{"amount": <int, minor units, > 0>, "currency": "EUR"}``;
        201 with ``{"id": "ch_0001", "amount": ..., "currency": ..., "replayed": false}``.
        With an ``Idempotency-Key`` header, a repeated key returns the first
        charge again (``"replayed": true``) and charges nothing; the same key
        with a different body is refused with 422. A malformed body is 400.
    Anything else is 404.

When NOT to use it: for unit tests of a client's retry logic, respx is faster
and exact; use this server where the demonstration needs real sockets
(timeouts, dropped connections, idempotency across real retries).
"""

from __future__ import annotations

import enum
import json
import random
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Arrival", "Charge", "Fault", "FlakyServer", "flaky_server", "seeded_faults"]


class Fault(enum.StrEnum):
    """What the server does to one request."""

    OK = "ok"
    UNAVAILABLE = "503"
    SLOW = "slow"
    DROP = "drop"
    TRICKLE = "trickle"
    TRICKLE_HEADERS = "trickle-headers"


@dataclass(frozen=True)
class Arrival:
    """One request as the server saw it."""

    number: int  # 1 for the first request the server received
    at: float  # seconds since the server started (monotonic)
    method: str
    path: str
    fault: Fault
    status: int | None  # None: the connection was dropped without an answer
    idempotency_key: str | None


@dataclass(frozen=True)
class Charge:
    """A charge the gateway actually made (a replayed idempotent request makes none)."""

    id: str
    amount: int
    currency: str
    idempotency_key: str | None


def _as_fault(value: Fault | str) -> Fault:
    try:
        return Fault(value)
    except ValueError:
        known = ", ".join(repr(f.value) for f in Fault)
        raise ValueError(f"unknown fault {value!r}: use one of {known}") from None


def seeded_faults(
    seed: int, count: int, *, unavailable: float = 0.3, slow: float = 0.1, drop: float = 0.1
) -> list[Fault]:
    """``count`` faults drawn with ``random.Random(seed)``: the same seed, the same schedule.

    The three rates are probabilities per request; what is left over is ``OK``.
    """
    rates = {"unavailable": unavailable, "slow": slow, "drop": drop}
    for name, rate in rates.items():
        if not 0 <= rate <= 1:
            raise ValueError(f"{name} must be a probability between 0 and 1, got {rate!r}")
    if unavailable + slow + drop > 1:
        raise ValueError("unavailable + slow + drop must not exceed 1")
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    rng = random.Random(seed)
    faults = []
    for _ in range(count):
        draw = rng.random()
        if draw < unavailable:
            faults.append(Fault.UNAVAILABLE)
        elif draw < unavailable + slow:
            faults.append(Fault.SLOW)
        elif draw < unavailable + slow + drop:
            faults.append(Fault.DROP)
        else:
            faults.append(Fault.OK)
    return faults


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class FlakyServer:
    """The server's state: its address, fault queue, timeline and charges.

    Built and stopped by ``flaky_server()``; do not start it yourself.
    """

    def __init__(self, faults: Iterable[Fault | str], slow_seconds: float, retry_after: str | None):
        if slow_seconds < 0:
            raise ValueError(f"slow_seconds must be >= 0, got {slow_seconds!r}")
        self._faults = [_as_fault(f) for f in faults]
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._timeline: list[Arrival] = []
        self._arrivals = 0
        self._charges: list[Charge] = []
        self._by_key: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        self._stopping = threading.Event()
        self._started = time.monotonic()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.flaky = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def timeline(self) -> list[Arrival]:
        with self._lock:
            return list(self._timeline)

    @property
    def charges(self) -> list[Charge]:
        with self._lock:
            return list(self._charges)

    def inject(self, *faults: Fault | str) -> None:
        """Queue ``faults`` for the next requests, after any still pending."""
        checked = [_as_fault(f) for f in faults]
        with self._lock:
            self._faults.extend(checked)

    # -- used by the handler -------------------------------------------------

    def _arrive(self) -> tuple[int, Fault]:
        with self._lock:
            self._arrivals += 1
            fault = self._faults.pop(0) if self._faults else Fault.OK
            return self._arrivals, fault

    def _record(self, arrival: Arrival) -> None:
        with self._lock:
            self._timeline.append(arrival)
            self._timeline.sort(key=lambda a: a.number)

    def _charge(self, body: dict[str, Any], key: str | None) -> tuple[int, dict[str, Any]]:
        amount, currency = body.get("amount"), body.get("currency")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise _BadRequest(400, "amount must be a positive integer in minor units (cents)")
        if not isinstance(currency, str) or len(currency) != 3:
            raise _BadRequest(400, "currency must be a three-letter code such as 'EUR'")
        with self._lock:  # one lock: two retries of one key cannot both charge
            if key is not None and key in self._by_key:
                first_body, answer = self._by_key[key]
                if first_body != body:
                    raise _BadRequest(422, "this Idempotency-Key was used with another body")
                return 201, {**answer, "replayed": True}
            charge = Charge(f"ch_{len(self._charges) + 1:04d}", amount, currency, key)
            self._charges.append(charge)
            answer = {"id": charge.id, "amount": amount, "currency": currency, "replayed": False}
            if key is not None:
                self._by_key[key] = (body, answer)
            return 201, answer

    def _start(self) -> None:
        self._started = time.monotonic()
        self._thread.start()

    def _stop(self) -> None:
        self._stopping.set()  # wakes handlers waiting out a slow response
        if self._thread.is_alive():  # shutdown() would wait forever for a loop never started
            self._httpd.shutdown()
        self._httpd.server_close()  # closes the port and joins handler threads
        if self._thread.ident is not None:
            self._thread.join()


class _Server(ThreadingHTTPServer):
    flaky: FlakyServer
    daemon_threads = True
    block_on_close = True  # server_close() waits for the handler threads

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out has closed its end; writing to it fails.
        # That is the expected outcome of a slow fault, not a server error.
        return


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return  # the timeline is the log; stderr output would break strict nbval

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        flaky = self.server.flaky
        number, fault = flaky._arrive()
        at = time.monotonic() - flaky._started
        key = self.headers.get("Idempotency-Key")
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status: int | None
        if fault is Fault.UNAVAILABLE:
            status, payload = 503, {"error": "service unavailable, try again later"}
        else:
            status, payload = self._process(method, raw, key, number)
        if fault is Fault.DROP:
            status = None
        flaky._record(Arrival(number, at, method, self.path, fault, status, key))
        if status is None:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)  # no answer at all
            return
        if fault is Fault.SLOW and flaky._stopping.wait(flaky.slow_seconds):
            return  # the server is stopping: do not keep the shutdown waiting
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        if status == 503 and flaky.retry_after is not None:
            headers["Retry-After"] = flaky.retry_after
        if fault is Fault.TRICKLE_HEADERS:
            # Written by hand: send_response() and end_headers() write the head in one piece.
            lines = [f"{self.protocol_version} {status} {HTTPStatus(status).phrase}"]
            lines += [f"{name}: {value}" for name, value in headers.items()]
            head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
            if self._trickle(head, flaky):
                self.wfile.write(body)
            return
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if fault is Fault.TRICKLE:
            self._trickle(body, flaky)
        else:
            self.wfile.write(body)

    def _trickle(self, data: bytes, flaky: FlakyServer) -> bool:
        """Send ``data`` a byte at a time over ``slow_seconds``; False if the server is stopping."""
        gap = flaky.slow_seconds / len(data)
        for index in range(len(data)):
            if flaky._stopping.wait(gap):
                return False  # the server is stopping: do not keep the shutdown waiting
            self.wfile.write(data[index : index + 1])  # unbuffered: one byte, one packet
        return True

    def _process(
        self, method: str, raw: bytes, key: str | None, number: int
    ) -> tuple[int, dict[str, Any]]:
        if method == "GET":
            return 200, {"ok": True, "request": number}
        if self.path != "/charges":
            return 404, {"error": f"no such endpoint: POST {self.path}"}
        try:
            body = json.loads(raw or b"null")
            if not isinstance(body, dict):
                raise _BadRequest(400, "the body must be a JSON object")
            return self.server.flaky._charge(body, key)
        except json.JSONDecodeError:
            return 400, {"error": "the body is not valid JSON"}
        except _BadRequest as error:
            return error.status, {"error": str(error)}


@contextmanager
def flaky_server(
    faults: Iterable[Fault | str] = (),
    *,
    slow_seconds: float = 0.1,
    retry_after: str | None = None,
) -> Iterator[FlakyServer]:
    """Start a flaky server on 127.0.0.1 (ephemeral port) in a thread; stop it on exit.

    ``faults`` is the schedule, one per request (``seeded_faults`` draws one);
    ``slow_seconds`` is how late a ``"slow"`` answer comes (and how long a
    ``"trickle"`` answer's body, or a ``"trickle-headers"`` answer's status
    line and headers, take); ``retry_after``, if given, is sent as
    ``Retry-After`` with every 503. On exit the serving
    thread is joined and the port closed, even if the block raised.
    """
    server = FlakyServer(faults, slow_seconds, retry_after)
    try:
        server._start()
        yield server
    finally:
        server._stop()
