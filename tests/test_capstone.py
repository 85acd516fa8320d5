"""The capstone checkout: a fault-injected run on the real flaky gateway and the real
PostgreSQL, then its promises proven with SQL; and the parts, one behaviour at a time.

No test sleeps for backoff (the pauses are recorded); the gateway's slow answers are
real but short.
"""

from __future__ import annotations

import random
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import psycopg
import pytest
import respx
from psycopg.conninfo import make_conninfo

from patterns.capstone import (
    CHECKOUT_EVENTS,
    Database,
    HttpGateway,
    InMemoryGateway,
    Order,
    OrderConflict,
    OrderPlaced,
    Receipt,
    Settings,
    bootstrap,
    charge_order,
    create_schema,
    idempotency_key_for,
    import_statement,
    is_connection_lost,
    reconcile,
    summarize,
    violations,
    wipe,
)
from patterns.capstone.chaos import (
    Scenario,
    ScenarioResult,
    run_scenario,
    sample_events,
    terminate_backends,
)
from patterns.capstone.gateways import GatewayError
from patterns.capstone.service import CheckoutService
from patterns.context_managers import count_sessions, wait_for_sessions
from patterns.factory import EventError
from patterns.lab import Fault, TemporaryServer
from patterns.money import Money
from patterns.retry import RetryPolicy, retry
from patterns.strategy import UnknownStrategyError

EUR = "EUR"


def no_wait_policy(sleeps: list[float], *, attempts: int = 5, on: Any = None) -> RetryPolicy:
    kwargs: dict[str, Any] = {"retry_on": on} if on is not None else {}
    return retry(max_attempts=attempts, sleep=sleeps.append, rng=random.Random(0), **kwargs)


def placed(order_id: str = "A-1", amount: str = "19.99") -> OrderPlaced:
    return OrderPlaced(order_id, "ada@example.com", Money.parse(amount, EUR))


def event(order_id: str = "A-1", amount: str = "19.99", **extra: Any) -> dict[str, Any]:
    payload = {"order_id": order_id, "customer": "ada@example.com", "amount": amount}
    return {"type": "order_placed", "payload": {**payload, "currency": EUR, **extra}}


@pytest.fixture
def observer(postgres_server: TemporaryServer) -> Iterator[psycopg.Connection[Any]]:
    """Another client: sees committed data only. Starts from empty checkout tables."""
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        create_schema(conn)
        wipe(conn)
        yield conn


@pytest.fixture
def database(postgres_server: TemporaryServer) -> Iterator[Database]:
    db = Database(
        postgres_server.url,
        retry=retry(max_attempts=3, sleep=lambda s: None, retry_on=is_connection_lost),
    )
    yield db
    db.close()


def scalar(conn: psycopg.Connection[Any], query: str, params: Any = None) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


# --- the fault-injected run ------------------------------------------------------


@pytest.fixture(scope="module")
def bad_day(postgres_server: TemporaryServer) -> ScenarioResult:
    """One run of the course's bad day; the tests below check what it left behind."""
    return run_scenario(postgres_server.url)


@pytest.fixture
def after_bad_day(
    bad_day: ScenarioResult, postgres_server: TemporaryServer
) -> Iterator[tuple[ScenarioResult, psycopg.Connection[Any]]]:
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        # Other tests share the server and wipe the tables: run again if they did.
        if scalar(conn, "SELECT count(*) FROM orders") != len(bad_day.sent):
            bad_day = run_scenario(postgres_server.url)
        yield bad_day, conn


def test_the_run_met_every_kind_of_fault(bad_day: ScenarioResult) -> None:
    """The schedule really injected 503s, slow answers, dropped connections and two kills."""
    met = {arrival.fault for arrival in bad_day.timeline}
    assert {Fault.UNAVAILABLE, Fault.SLOW, Fault.DROP} <= met, met
    assert bad_day.killed == [("charged", "A-0004"), ("stored", "A-0011")]
    assert bad_day.reconnects == 2
    assert bad_day.sleeps and all(pause >= 0 for pause in bad_day.sleeps)


def test_an_order_the_gateway_refused_for_too_long_is_settled_later(
    bad_day: ScenarioResult,
) -> None:
    """The run left one order pending; the settling pass paid it with the original charge."""
    assert bad_day.run.outcomes["pending"] == 1
    assert bad_day.settled.outcomes == {"paid": 1}
    replayed = [a for a in bad_day.timeline if a.idempotency_key == "order:A-0006"]
    assert replayed[-1].number == len(bad_day.timeline), "A-0006 was retried last, by settle"


def test_malformed_events_are_rejected_with_the_factorys_message(bad_day: ScenarioResult) -> None:
    """Bad documents are counted and explained, and the run carries on."""
    assert bad_day.run.outcomes["rejected"] == 2
    assert any("more decimal places" in message for message in bad_day.run.rejected)
    assert any("payload.customer: is missing" in message for message in bad_day.run.rejected)


def test_no_order_placed_is_lost_and_every_order_is_paid(
    after_bad_day: tuple[ScenarioResult, psycopg.Connection[Any]],
) -> None:
    """Every order the shop front sent is stored, and paid."""
    result, conn = after_bad_day
    found = violations(conn, result.sent)
    assert found["every order placed was stored"] == []
    assert found["every order is paid"] == []
    stored = [row[0] for row in conn.execute("SELECT id FROM orders ORDER BY id")]
    assert stored == result.sent


def test_no_order_is_charged_twice(
    after_bad_day: tuple[ScenarioResult, psycopg.Connection[Any]],
) -> None:
    """The gateway holds exactly one charge per order, although retries re-sent many."""
    result, conn = after_bad_day
    assert violations(conn, result.sent)["no order was charged twice"] == []
    sent_twice = {a.idempotency_key for a in result.timeline if a.status in (None, 201)}
    assert (
        len(result.statement)
        == len(result.sent)
        < len([a for a in result.timeline if a.status in (None, 201)])
    ), "some charges were re-sent after a drop or a timeout, and replayed"
    assert len(sent_twice) == len(result.sent)
    assert scalar(conn, "SELECT count(*) FROM gateway_statement") == len(result.sent)


def test_every_charge_is_matched_by_an_order_and_every_payment_by_a_charge(
    after_bad_day: tuple[ScenarioResult, psycopg.Connection[Any]],
) -> None:
    """Statement and books agree both ways, amount for amount."""
    result, conn = after_bad_day
    found = violations(conn, result.sent)
    assert found["every charge is matched by an order"] == []
    assert found["every recorded payment is a real charge"] == []
    mismatched = scalar(
        conn,
        "SELECT count(*) FROM payments p JOIN orders o ON o.id = p.order_id "
        "JOIN gateway_statement s ON s.charge_id = p.charge_id "
        "WHERE s.amount_minor <> o.amount_minor OR p.amount_minor <> o.amount_minor",
    )
    assert mismatched == 0


def test_the_report_is_consistent_with_the_tables(
    after_bad_day: tuple[ScenarioResult, psycopg.Connection[Any]],
) -> None:
    """The streamed report's totals are the SQL totals, and every line is ok."""
    result, conn = after_bad_day
    report = result.report
    assert report.lines == len(result.sent)
    assert report.verdicts == {"ok": len(result.sent)}
    assert report.expected == {EUR: scalar(conn, "SELECT sum(amount_minor) FROM orders")}
    assert report.charged == {EUR: scalar(conn, "SELECT sum(amount_minor) FROM gateway_statement")}
    assert report.problems == []


def test_the_run_is_reproducible(bad_day: ScenarioResult, postgres_server: TemporaryServer) -> None:
    """The same seed gives the same requests, faults and charges."""
    again = run_scenario(postgres_server.url)
    shape = [(a.fault, a.status, a.idempotency_key) for a in again.timeline]
    assert shape == [(a.fault, a.status, a.idempotency_key) for a in bad_day.timeline]
    assert again.statement == bad_day.statement
    assert again.sleeps == bad_day.sleeps


def test_nothing_is_left_running_after_a_run(postgres_server: TemporaryServer) -> None:
    """No session of the service or the harness, no gateway thread, no open port."""
    threads_before = threading.active_count()
    result = run_scenario(postgres_server.url, Scenario(orders=3, faults=4))
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        for name in ("checkout", "chaos"):
            assert wait_for_sessions(conn, 0, name) == 0, f"a {name!r} session is still open"
    assert threading.active_count() <= threads_before
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", result.gateway_port)) != 0, (
            "the gateway still listens"
        )


def test_a_key_drawn_per_attempt_is_caught_by_the_invariants(
    postgres_server: TemporaryServer,
) -> None:
    """The SQL invariants can fail: a fresh key per attempt double-charges, and they say so."""

    def flawed(gateway: Any, order: Order, policy: RetryPolicy) -> Receipt:
        def attempt() -> Receipt:
            key = f"order:{order.id}:{uuid.uuid4().hex}"
            result: Receipt = gateway.charge(order.total, idempotency_key=key)
            return result

        return policy.call(attempt)

    result = run_scenario(postgres_server.url, charge_step=flawed)
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        twice = violations(conn, result.sent)["no order was charged twice"]
    assert any(m.startswith("order A-0005 was charged more than once: 4") for m in twice), twice
    assert result.report.verdicts["double charge"] == len(twice)
    assert sum(result.report.charged.values()) > sum(result.report.expected.values())


# --- the event and the domain ---------------------------------------------------------


def test_an_order_placed_event_is_parsed_into_exact_money() -> None:
    """The factory builds OrderPlaced with Money in minor units."""
    assert CHECKOUT_EVENTS.parse(event(amount="19.99")) == placed()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"order_id": "A:1"}, "payload.order_id"),
        ({"customer": "nobody"}, "payload.customer"),
        ({"amount": "-1.00"}, "payload.amount"),
        ({"ammount": "1.00"}, "payload.ammount"),
    ],
)
def test_a_bad_order_event_names_the_field(change: dict[str, str], field: str) -> None:
    """Every refusal is an EventError naming the field to fix."""
    with pytest.raises(EventError) as refused:
        CHECKOUT_EVENTS.parse(_patched(change))
    assert refused.value.field == field


def _patched(change: dict[str, str]) -> dict[str, Any]:
    document = event()  # a valid event, with fields replaced or (a typo) added
    document["payload"].update(change)
    return document


def test_the_idempotency_key_depends_on_the_order_only() -> None:
    """The same order gives the same key, in any process; another order another key."""
    order = Order("A-7", "ada@example.com", Money(100, EUR))
    assert idempotency_key_for(order) == idempotency_key_for(Order("A-7", "x@y.z", Money(1, EUR)))
    assert idempotency_key_for(order) != idempotency_key_for(Order("A-8", "a@b.c", Money(1, EUR)))


def test_sample_events_are_seeded() -> None:
    """The same seed gives the same documents."""
    assert list(sample_events(3, 10)) == list(sample_events(3, 10))
    assert list(sample_events(3, 10)) != list(sample_events(4, 10))


# --- storage -----------------------------------------------------------------------------


def test_a_redelivered_order_is_stored_once(
    database: Database, observer: psycopg.Connection[Any]
) -> None:
    """Adding the same event twice returns the stored order and adds no row."""
    first = database.run(lambda uow: uow.orders.add(placed()))
    again = database.run(lambda uow: uow.orders.add(placed()))
    assert first == again == Order("A-1", "ada@example.com", Money(1999, EUR), "pending")
    assert scalar(observer, "SELECT count(*) FROM orders") == 1


def test_a_reused_order_id_with_another_amount_is_refused(
    database: Database, observer: psycopg.Connection[Any]
) -> None:
    """OrderConflict says both amounts; it is not retried and nothing changes."""
    database.run(lambda uow: uow.orders.add(placed()))
    with pytest.raises(OrderConflict, match=r"19\.99 EUR.*25\.00 EUR"):
        database.run(lambda uow: uow.orders.add(placed(amount="25.00")))
    assert scalar(observer, "SELECT amount_minor FROM orders") == 1999


def test_the_database_reconnects_and_reruns_the_unit_of_work(
    database: Database, observer: psycopg.Connection[Any]
) -> None:
    """After pg_terminate_backend, run() opens a new connection and the work commits."""
    database.run(lambda uow: uow.orders.add(placed()))
    old_pid = database.connection().info.backend_pid
    assert terminate_backends(observer, database.application_name) == 1
    attempts: list[int] = []

    def work(uow: Any) -> None:
        attempts.append(1)
        uow.orders.set_status("A-1", "paid")

    database.run(work)
    assert database.reconnects == 1
    assert database.connection().info.backend_pid != old_pid
    assert len(attempts) == 1, "the dead connection failed at BEGIN, before the work ran"
    assert scalar(observer, "SELECT status FROM orders") == "paid"


def test_a_unit_of_work_cut_off_half_way_commits_nothing_then_succeeds(
    database: Database, observer: psycopg.Connection[Any]
) -> None:
    """The session dies inside the transaction: the half-done work rolls back, the rerun commits."""
    calls: list[int] = []

    def work(uow: Any) -> None:
        calls.append(1)
        uow.orders.add(placed("A-1"))
        if len(calls) == 1:
            terminate_backends(observer, database.application_name)
        uow.orders.add(placed("A-2"))

    database.run(work)
    assert len(calls) == 2
    assert [r[0] for r in observer.execute("SELECT id FROM orders ORDER BY id")] == ["A-1", "A-2"]


def test_a_terminated_session_counts_as_a_lost_connection(
    postgres_server: TemporaryServer, observer: psycopg.Connection[Any]
) -> None:
    """pg_terminate_backend: the first error is AdminShutdown, the next one has no SQLSTATE."""
    errors: list[psycopg.Error] = []
    with psycopg.connect(
        postgres_server.url, autocommit=True, application_name="lost-connection-test"
    ) as victim:
        assert terminate_backends(observer, "lost-connection-test") == 1
        for _ in range(2):
            with pytest.raises(psycopg.OperationalError) as lost:
                victim.execute("SELECT 1")
            errors.append(lost.value)
    assert isinstance(errors[0], psycopg.errors.AdminShutdown)
    assert errors[1].sqlstate is None  # "the connection is closed", raised by the client
    assert [is_connection_lost(error) for error in errors] == [True, True]


def test_a_statement_timeout_is_not_a_lost_connection(
    database: Database, observer: psycopg.Connection[Any]
) -> None:
    """QueryCanceled is an OperationalError too, but the session is fine: no reconnect, no rerun."""
    calls: list[int] = []

    def slow_work(uow: Any) -> None:
        calls.append(1)
        database.connection().execute("SET LOCAL statement_timeout = '20ms'")
        database.connection().execute("SELECT pg_sleep(5)")

    with pytest.raises(psycopg.errors.QueryCanceled) as cancelled:
        database.run(slow_work)
    assert isinstance(cancelled.value, psycopg.OperationalError)
    assert not is_connection_lost(cancelled.value)
    assert calls == [1], "a timed-out statement is not run again"
    assert database.reconnects == 0
    assert database.connection().execute("SELECT 1").fetchone() == (1,)


def test_only_session_ending_errors_count_as_lost() -> None:
    """Other OperationalErrors (deadlock, lock timeout, disk full...) and non-psycopg errors do not."""
    not_lost = [
        psycopg.errors.DeadlockDetected(),
        psycopg.errors.SerializationFailure(),
        psycopg.errors.LockNotAvailable(),
        psycopg.errors.DiskFull(),
        psycopg.errors.OutOfMemory(),
        psycopg.errors.UniqueViolation(),
        ConnectionError("not psycopg"),
    ]
    lost = [
        psycopg.errors.AdminShutdown(),
        psycopg.errors.CrashShutdown(),
        psycopg.errors.CannotConnectNow(),
        psycopg.errors.ConnectionFailure(),
        psycopg.OperationalError("connection refused"),
    ]
    assert [e for e in not_lost if is_connection_lost(e)] == []
    assert [e for e in lost if not is_connection_lost(e)] == []


def test_a_failing_unit_of_work_rolls_back_and_is_not_retried(
    database: Database, observer: psycopg.Connection[Any]
) -> None:
    """A bug in the work (not a lost connection) undoes its writes and is raised at once."""
    calls: list[int] = []

    def work(uow: Any) -> None:
        calls.append(1)
        uow.orders.add(placed())
        raise ValueError("a bug in the work")

    with pytest.raises(ValueError, match="a bug in the work"):
        database.run(work)
    assert calls == [1]
    assert scalar(observer, "SELECT count(*) FROM orders") == 0
    assert database.reconnects == 0


def test_the_public_api_is_importable() -> None:
    """Every name in patterns.capstone.__all__ exists."""
    import patterns.capstone as capstone

    missing = [name for name in capstone.__all__ if not hasattr(capstone, name)]
    assert missing == []


def test_an_unreachable_database_raises_the_last_error_after_the_attempts() -> None:
    """With nothing listening, run() gives up with psycopg's OperationalError and a note."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    sleeps: list[float] = []
    db = Database(
        f"postgresql://nobody@127.0.0.1:{port}/test",
        retry=no_wait_policy(sleeps, attempts=3, on=is_connection_lost),
    )
    with pytest.raises(psycopg.OperationalError) as failed:
        db.run(lambda uow: None)
    assert len(sleeps) == 2
    assert "gave up after 3 attempts" in " ".join(failed.value.__notes__)


# --- gateways and the charge step ------------------------------------------------------


@respx.mock(base_url="http://gateway.test")
def test_the_http_gateway_sends_minor_units_and_the_key(respx_mock: respx.MockRouter) -> None:
    """POST /charges with integer cents and the Idempotency-Key header; the answer is checked."""
    route = respx_mock.post("/charges").respond(
        201, json={"id": "ch_1", "amount": 1999, "currency": EUR, "replayed": False}
    )
    with httpx.Client(base_url="http://gateway.test") as client:
        receipt = HttpGateway(client).charge(Money(1999, EUR), idempotency_key="order:A-1")
    assert receipt == Receipt("ch_1", Money(1999, EUR), "order:A-1")
    request = route.calls.last.request
    assert request.headers["Idempotency-Key"] == "order:A-1"
    assert request.content == b'{"amount":1999,"currency":"EUR"}'


@respx.mock(base_url="http://gateway.test")
def test_the_http_gateway_refuses_a_wrong_amount_and_raises_on_503(
    respx_mock: respx.MockRouter,
) -> None:
    """A 503 is an HTTPStatusError (transient); an answer for another amount a GatewayError."""
    respx_mock.post("/charges").mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(201, json={"id": "ch_1", "amount": 1, "currency": EUR}),
        ]
    )
    with httpx.Client(base_url="http://gateway.test") as client:
        gateway = HttpGateway(client)
        with pytest.raises(httpx.HTTPStatusError):
            gateway.charge(Money(1999, EUR), idempotency_key="k")
        with pytest.raises(GatewayError, match=r"19\.99 EUR"):
            gateway.charge(Money(1999, EUR), idempotency_key="k")


class LosesFirstAnswer(InMemoryGateway):
    """Charges, then loses the answer once: what a dropped connection looks like."""

    keys: list[str]

    def charge(self, amount: Money, *, idempotency_key: str) -> Receipt:
        self.keys = [*getattr(self, "keys", []), idempotency_key]
        receipt = super().charge(amount, idempotency_key=idempotency_key)
        if len(self.keys) == 1:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return receipt


def test_charge_order_sends_one_key_on_every_attempt() -> None:
    """The retry after a lost answer replays the first charge instead of making a second."""
    gateway, sleeps = LosesFirstAnswer(), list[float]()
    order = Order("A-1", "ada@example.com", Money(1999, EUR))
    receipt = charge_order(gateway, order, no_wait_policy(sleeps))
    assert gateway.keys == ["order:A-1", "order:A-1"]
    assert len(gateway.charges) == 1 and receipt.replayed
    assert len(sleeps) == 1


def test_a_redelivered_event_is_not_charged_again(
    database: Database, observer: psycopg.Connection[Any]
) -> None:
    """The service answers 'already paid' to a duplicate event and the gateway sees nothing."""
    gateway: InMemoryGateway = InMemoryGateway()
    steps: list[tuple[str, str]] = []
    service = CheckoutService(
        database=database,
        gateway=gateway,
        gateway_retry=no_wait_policy([]),
        trace=lambda step, order_id: steps.append((step, order_id)),
    )
    assert service.handle(event()) == "paid"
    assert service.handle(event()) == "already paid"
    assert len(gateway.charges) == 1
    assert steps == [("stored", "A-1"), ("charged", "A-1"), ("recorded", "A-1"), ("stored", "A-1")]
    assert scalar(observer, "SELECT charge_id FROM payments") == "mem_0001"


def test_an_order_the_gateway_keeps_refusing_stays_pending(
    database: Database, observer: psycopg.Connection[Any]
) -> None:
    """After the retries the order stays pending; settle_pending pays it with the same key."""

    def down(amount: Money, key: str) -> None:
        raise httpx.ConnectError("connection refused")

    gateway = InMemoryGateway(before_charge=down)
    service = CheckoutService(
        database=database, gateway=gateway, gateway_retry=no_wait_policy([], attempts=2)
    )
    assert service.handle(event()) == "pending"
    assert scalar(observer, "SELECT status FROM orders") == "pending"
    gateway.before_charge = None
    assert service.settle_pending().outcomes == {"paid": 1}
    assert [r.idempotency_key for r in gateway.charges] == ["order:A-1"]


# --- reconciliation ---------------------------------------------------------------


def test_the_report_flags_double_charges_orphans_and_wrong_amounts(
    database: Database, observer: psycopg.Connection[Any]
) -> None:
    """Each kind of disagreement gets its own verdict, in order id order, orphans last."""
    database.run(lambda uow: [uow.orders.add(placed(i)) for i in ("A-1", "A-2", "A-3", "A-4")])
    database.run(
        lambda uow: uow.payments.record(
            Order("A-1", "", Money(1999, EUR)), Receipt("ch_1", Money(1999, EUR), "order:A-1")
        )
    )

    class Line:
        def __init__(self, id: str, amount: int, key: str | None) -> None:
            self.id, self.amount, self.currency, self.idempotency_key = id, amount, EUR, key

    statement = [
        Line("ch_1", 1999, "order:A-1"),
        Line("ch_2", 1999, "order:A-2:x"),
        Line("ch_3", 1999, "order:A-2:y"),
        Line("ch_4", 500, "order:A-3"),
        Line("ch_5", 700, None),
    ]
    assert import_statement(database, statement, batch_size=2) == 5
    lines = reconcile(database.connection(), size=2)
    assert not isinstance(lines, list), "the report is streamed, not built as a list"
    verdicts = [(line.order_id, line.verdict) for line in lines]
    assert verdicts == [
        ("A-1", "ok"),
        ("A-2", "double charge"),
        ("A-3", "wrong amount"),
        ("A-4", "unpaid"),
        (None, "orphan charge"),
    ]
    summary = summarize(reconcile(database.connection()))
    assert summary.expected == {EUR: 4 * 1999} and summary.charged == {EUR: 3 * 1999 + 1200}
    assert len(summary.problems) == 4


# --- the composition root --------------------------------------------------------------


DATABASE_URL = {"CHECKOUT_DATABASE_URL": "postgresql://shop@localhost/shop"}


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({}, "CHECKOUT_DATABASE_URL is not set"),
        ({"CHECKOUT_DATABASE_URL": "mysql://shop@db"}, "must be a postgresql:// URL"),
        (
            {**DATABASE_URL, "CHECKOUT_GATEWAY": "stripe"},
            "unknown CHECKOUT_GATEWAY 'stripe'; choose one of: http, memory",
        ),
        ({**DATABASE_URL, "CHECKOUT_GATEWAY_URL": "gateway:8080"}, "CHECKOUT_GATEWAY_URL must be"),
    ],
)
def test_every_bad_setting_raises_config_error_naming_it(
    environ: dict[str, str], problem: str
) -> None:
    """A missing URL, a wrong scheme, an unknown gateway, a bad gateway URL: one ConfigError."""
    from patterns.capstone import ConfigError

    with pytest.raises(ConfigError) as caught:
        Settings.from_env(environ)
    assert problem in str(caught.value)


def test_an_unknown_gateway_is_also_the_strategy_lessons_error() -> None:
    """Code written against choose()'s UnknownStrategyError keeps catching it."""
    with pytest.raises(UnknownStrategyError):
        Settings(DATABASE_URL["CHECKOUT_DATABASE_URL"], gateway="stripe")


@pytest.mark.parametrize("bad", [0, -1.5, "2", True, None])
def test_settings_default_to_the_http_gateway_and_refuse_a_timeout_not_above_zero(
    bad: object,
) -> None:
    """Zero, negative, a string read from the environment, a bool: a ConfigError naming it."""
    from patterns.capstone import ConfigError

    assert Settings.from_env(DATABASE_URL).gateway == "http"
    with pytest.raises(ConfigError, match="gateway_timeout must be > 0 s"):
        Settings(DATABASE_URL["CHECKOUT_DATABASE_URL"], gateway_timeout=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ({"database_url": "postgresql://shop@127.0.0.1:notaport/shop"}, "port 'notaport'"),
        ({"database_url": "postgresql://shop@h1:5432,h2:0/shop"}, "port '0'"),
        ({"database_url": "postgresql://[bad"}, "CHECKOUT_DATABASE_URL cannot be read"),
        ({"gateway_url": "http://127.0.0.1:8o80"}, "CHECKOUT_GATEWAY_URL cannot be read"),
        ({"gateway_url": "http://127.0.0.1:80800"}, "port 80800; a port is a whole number"),
        ({"gateway_url": "http://"}, "CHECKOUT_GATEWAY_URL names no host"),
        ({"gateway_timeout": float("inf")}, "gateway_timeout must be > 0 s and finite"),
    ],
)
def test_a_url_that_cannot_work_is_refused_at_start_up(
    setting: dict[str, object], problem: str
) -> None:
    """Not httpx.InvalidURL at the first order, nor five reconnects to port 'notaport'."""
    from patterns.capstone import ConfigError

    values: dict[str, object] = {"database_url": DATABASE_URL["CHECKOUT_DATABASE_URL"], **setting}
    with pytest.raises(ConfigError, match=re.escape(problem)):
        Settings(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url", ["postgresql://shop@h1:5432,h2:5433/shop", "postgresql://shop@h1:5432,h2/shop"]
)
def test_a_database_url_with_several_hosts_is_accepted(url: str) -> None:
    """A host without its own port uses the default one, as libpq reads it."""
    assert Settings(url).database_url == url


@pytest.mark.parametrize("name", ["database_url", "gateway", "gateway_url"])
def test_a_setting_that_is_not_a_string_raises_config_error(name: str) -> None:
    """Not an AttributeError from ``None.startswith``: the one except ConfigError catches it."""
    from patterns.capstone import ConfigError

    values: dict[str, object] = {"database_url": DATABASE_URL["CHECKOUT_DATABASE_URL"], name: None}
    with pytest.raises(ConfigError, match=f"{name} must be a string, got None"):
        Settings(**values)  # type: ignore[arg-type]


def test_bootstrap_builds_a_working_service_and_closes_everything(
    postgres_server: TemporaryServer, observer: psycopg.Connection[Any]
) -> None:
    """With the in-memory gateway the assembled app pays an order; on exit its session is gone."""
    settings = Settings(postgres_server.url, gateway="memory")
    with bootstrap(settings, sleep=lambda s: None) as app:
        assert app.service.handle(event()) == "paid"
        assert isinstance(app.gateway, InMemoryGateway) and len(app.gateway.charges) == 1
        assert count_sessions(observer, "checkout") == 1
    # A server process leaves pg_stat_activity a moment after its client closed: poll.
    assert wait_for_sessions(observer, 0, "checkout") == 0, "the service's session is still open"


@pytest.mark.parametrize("name", ["gateway_attempts", "database_attempts"])
@pytest.mark.parametrize("bad", [0, -1, True, 2.0])
def test_attempts_below_one_or_not_whole_raise_config_error_saying_what_to_do(
    name: str, bad: object
) -> None:
    """Not the retry policy's ValueError from deep inside: a ConfigError naming the setting."""
    from patterns.capstone import ConfigError

    with pytest.raises(ConfigError) as caught:
        Settings(DATABASE_URL["CHECKOUT_DATABASE_URL"], **{name: bad})  # type: ignore[arg-type]
    assert str(caught.value).startswith(f"{name} must be a whole number of at least 1, got {bad!r}")
    assert "set it to 1" in str(caught.value)


# --- how a charge can end: pending, declined, review -----------------------------------


def http_service(database: Database, client: httpx.Client, *, attempts: int = 2) -> CheckoutService:
    return CheckoutService(
        database=database,
        gateway=HttpGateway(client),
        gateway_retry=no_wait_policy([], attempts=attempts),
    )


def stored(observer: psycopg.Connection[Any], order_id: str = "A-1") -> tuple[str, str | None]:
    row = observer.execute(
        "SELECT status, status_reason FROM orders WHERE id = %s", (order_id,)
    ).fetchone()
    assert row is not None, f"order {order_id} is not stored"
    return row[0], row[1]


CARD_DECLINED = {"error": {"code": "card_declined", "message": "Your card was declined."}}
CHARGED = {"id": "ch_1", "amount": 1999, "currency": EUR}


@respx.mock(base_url="http://gateway.test")
def test_a_402_declines_the_order_for_good_and_is_never_sent_again(
    respx_mock: respx.MockRouter, database: Database, observer: psycopg.Connection[Any]
) -> None:
    """A refusal is final: declined with the provider's answer, not pending forever."""
    route = respx_mock.post("/charges").respond(402, json=CARD_DECLINED)
    with httpx.Client(base_url="http://gateway.test") as client:
        service = http_service(database, client)
        assert service.handle(event()) == "declined"
        assert route.call_count == 1, "a 402 is not transient: no retry"
        status, reason = stored(observer)
        assert status == "declined"
        assert reason is not None and "402 Payment Required" in reason and "card_declined" in reason
        assert service.settle_pending().outcomes == {}
        assert service.handle(event()) == "declined"  # a redelivery is not charged either
    assert route.call_count == 1, "settle_pending or a redelivery sent the declined order again"


@pytest.mark.parametrize("status", [400, 422])
@respx.mock(base_url="http://gateway.test")
def test_a_400_or_422_sends_every_order_to_review_not_declined(
    respx_mock: respx.MockRouter, database: Database, observer: psycopg.Connection[Any], status: int
) -> None:
    """A rejected *request* is most often our bug: no customer is told their card was refused."""
    route = respx_mock.post("/charges").respond(status, json={"error": "missing parameter: amount"})
    with httpx.Client(base_url="http://gateway.test") as client:
        service = http_service(database, client)
        summary = service.run([event("A-1"), event("A-2")])
        assert service.settle_pending().outcomes == {}
    assert summary.outcomes == {"review": 2}, "a broken request must not decline the orders"
    assert summary.reasons["A-1"].startswith(f"the gateway answered {status}")
    assert "not a refusal of this payment" in summary.reasons["A-1"]
    assert stored(observer, "A-1")[0] == stored(observer, "A-2")[0] == "review"
    assert route.call_count == 2, "an order in review must not be charged again"


@respx.mock(base_url="http://gateway.test")
def test_a_503_then_a_timeout_stay_pending_and_settle_pending_retries_them(
    respx_mock: respx.MockRouter, database: Database, observer: psycopg.Connection[Any]
) -> None:
    """Transient failures that outlast the policy leave the order pending, to be retried."""
    route = respx_mock.post("/charges").mock(
        side_effect=[
            httpx.Response(503),
            httpx.ReadTimeout("the gateway did not answer in time"),
            httpx.Response(201, json=CHARGED),
        ]
    )
    with httpx.Client(base_url="http://gateway.test") as client:
        service = http_service(database, client, attempts=2)
        assert service.handle(event()) == "pending"
        assert route.call_count == 2
        assert stored(observer) == ("pending", None)
        assert service.settle_pending().outcomes == {"paid": 1}
    assert route.call_count == 3
    assert {call.request.headers["Idempotency-Key"] for call in route.calls} == {"order:A-1"}
    assert stored(observer) == ("paid", None)


@pytest.mark.parametrize(
    ("answer", "because"),
    [
        (httpx.Response(401, json={"error": "invalid api key"}), "401 Unauthorized"),
        (httpx.Response(500), "500 Internal Server Error"),
        (httpx.Response(201, json={**CHARGED, "amount": 1}), "it reports 0.01 EUR"),
    ],
)
@respx.mock(base_url="http://gateway.test")
def test_a_failure_that_is_neither_transient_nor_a_refusal_goes_to_review(
    respx_mock: respx.MockRouter,
    database: Database,
    observer: psycopg.Connection[Any],
    answer: httpx.Response,
    because: str,
) -> None:
    """Our credentials, the provider's 500, an answer for another amount: a person must look."""
    route = respx_mock.post("/charges").mock(return_value=answer)
    with httpx.Client(base_url="http://gateway.test") as client:
        service = http_service(database, client)
        assert service.handle(event()) == "review"
        assert service.settle_pending().outcomes == {}
    assert route.call_count == 1
    status, reason = stored(observer)
    assert status == "review" and reason is not None and because in reason


def test_a_pending_order_older_than_settle_within_goes_to_review_uncharged(
    database: Database, observer: psycopg.Connection[Any]
) -> None:
    """Past the provider's key retention the same key could charge again: flag, do not retry."""

    def down(amount: Money, key: str) -> None:
        raise httpx.ConnectError("connection refused")

    gateway = InMemoryGateway(before_charge=down)
    service = CheckoutService(database=database, gateway=gateway, gateway_retry=no_wait_policy([]))
    assert service.run([event("A-1"), event("A-2")]).outcomes == {"pending": 2}
    # A-1 was stored a day ago (in the database's own clock), A-2 22 hours ago.
    observer.execute("UPDATE orders SET stored_at = now() - interval '24 hours' WHERE id = 'A-1'")
    observer.execute("UPDATE orders SET stored_at = now() - interval '22 hours' WHERE id = 'A-2'")
    gateway.before_charge = None
    settled = service.settle_pending()
    assert settled.outcomes == {"review": 1, "paid": 1}
    assert [receipt.idempotency_key for receipt in gateway.charges] == ["order:A-2"]
    status, reason = stored(observer, "A-1")
    assert status == "review" and reason == settled.reasons["A-1"]
    assert "after 23 hours" in reason and "provider's statement" in reason
    assert service.handle(event("A-1")) == "review", "a redelivery must not charge it either"
    assert len(gateway.charges) == 1


def test_a_redelivered_event_of_a_stale_pending_order_is_not_charged(
    database: Database, observer: psycopg.Connection[Any]
) -> None:
    """The rule holds on the event path too, not only in settle_pending."""
    gateway = InMemoryGateway()
    service = CheckoutService(
        database=database,
        gateway=gateway,
        gateway_retry=no_wait_policy([]),
        settle_within=timedelta(minutes=5),
    )
    database.run(lambda uow: uow.orders.add(placed()))
    observer.execute("UPDATE orders SET stored_at = now() - interval '6 minutes'")
    assert service.handle(event()) == "review"
    assert gateway.charges == []
    assert "after 5 minutes" in (stored(observer)[1] or "")


def test_settle_within_must_be_a_positive_timedelta() -> None:
    from patterns.capstone import ConfigError

    for bad in (timedelta(0), timedelta(hours=-1), 23):
        with pytest.raises(ConfigError, match="settle_within must be a positive timedelta"):
            Settings(DATABASE_URL["CHECKOUT_DATABASE_URL"], settle_within=bad)  # type: ignore[arg-type]


def test_bad_database_credentials_stop_bootstrap_after_bounded_attempts(
    postgres_server: TemporaryServer,
) -> None:
    """No SQLSTATE on a refused login, so it counts as 'lost': retried, but a bounded number
    of times, at start-up, then PostgreSQL's own message reaches the caller."""
    assert "://postgres@" in postgres_server.url
    stranger = postgres_server.url.replace("://postgres@", "://nobody@", 1)
    pauses: list[float] = []
    with pytest.raises(psycopg.OperationalError) as refused:
        bootstrap(Settings(stranger, gateway="memory", database_attempts=3), sleep=pauses.append)
    assert refused.value.sqlstate is None and is_connection_lost(refused.value)
    assert 'role "nobody" does not exist' in str(refused.value)
    assert len(pauses) == 2 and "gave up after 3 attempts" in " ".join(refused.value.__notes__)


def test_too_many_connections_is_raised_while_connecting_so_it_is_retried(
    postgres_server: TemporaryServer,
) -> None:
    """53300 comes while opening a connection, where psycopg gives no SQLSTATE: counted as lost."""
    with psycopg.connect(postgres_server.url, autocommit=True) as admin:
        admin.execute("CREATE ROLE crowded LOGIN CONNECTION LIMIT 0")
        try:
            pauses: list[float] = []
            crowded = Database(
                make_conninfo(postgres_server.url, user="crowded"),
                retry=no_wait_policy(pauses, attempts=3, on=is_connection_lost),
            )
            with pytest.raises(psycopg.OperationalError) as refused:
                crowded.run(lambda uow: None)
        finally:
            admin.execute("DROP ROLE crowded")
    assert 'too many connections for role "crowded"' in str(refused.value)
    assert refused.value.sqlstate is None and is_connection_lost(refused.value)
    assert len(pauses) == 2, "retried like any error met while opening a connection"


@pytest.mark.parametrize("bad", [0, 1, -2, 2.5, True, "2"])
def test_a_connect_timeout_below_two_or_not_whole_raises_config_error(bad: object) -> None:
    """psycopg honours whole seconds, at least 2; anything else is refused, naming the setting."""
    from patterns.capstone import ConfigError

    with pytest.raises(ConfigError) as caught:
        Settings(DATABASE_URL["CHECKOUT_DATABASE_URL"], database_connect_timeout=bad)  # type: ignore[arg-type]
    assert str(caught.value).startswith(
        f"database_connect_timeout must be a whole number of seconds, at least 2 (psycopg's "
        f"minimum), got {bad!r}"
    )


def test_bootstrap_connects_with_the_settings_connect_timeout(
    postgres_server: TemporaryServer,
) -> None:
    """The service's connection carries connect_timeout, not psycopg's 130 s default."""
    assert Settings(postgres_server.url).database_connect_timeout == 2
    settings = Settings(postgres_server.url, gateway="memory", database_connect_timeout=3)
    with bootstrap(settings, sleep=lambda s: None) as app:
        assert app.database.connect_timeout == 3
        parameters = app.database.connection().info.get_parameters()
        assert parameters["connect_timeout"] == "3"


def test_a_server_that_never_answers_costs_one_connect_timeout_per_attempt() -> None:
    """A socket that accepts and never answers: the attempt fails after connect_timeout
    (2 s, psycopg's minimum), as a lost connection, instead of psycopg's 130 s default.
    Loopback only, one attempt, so the test waits about 2 s."""
    # Listening: the kernel completes the handshake; nobody reads or answers.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"postgresql://shop@127.0.0.1:{silent.getsockname()[1]}/shop"
        db = Database(url, retry=no_wait_policy([], attempts=1, on=is_connection_lost))
        started = time.monotonic()
        with pytest.raises(psycopg.errors.ConnectionTimeout) as timed_out:
            db.run(lambda uow: None)
        waited = time.monotonic() - started
    assert db.connect_timeout == 2 and is_connection_lost(timed_out.value)
    assert 1.9 <= waited < 10, f"the attempt took {waited:.1f} s; expected about 2 s"


def test_connect_timeout_starts_only_after_the_host_name_is_resolved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """psycopg looks the host name up itself, before the wait that connect_timeout bounds:
    a slow resolver adds its time to every attempt (the notebook's "at worst" says so)."""
    events: list[str] = []
    real_lookup, real_wait = socket.getaddrinfo, psycopg.waiting.wait_conn

    def lookup(host: str, *args: Any, **kwargs: Any) -> Any:
        events.append(f"look up {host}")
        return real_lookup("127.0.0.1", *args, **kwargs)

    def timed_wait(gen: Any, interval: float = 0.0, timeout: float | None = None) -> Any:
        events.append(f"wait at most {timeout} s")
        return real_wait(gen, interval=interval, timeout=timeout)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    monkeypatch.setattr(psycopg.waiting, "wait_conn", timed_wait)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    db = Database(
        f"postgresql://shop@db.test:{port}/shop",
        retry=no_wait_policy([], attempts=1, on=is_connection_lost),
    )
    with pytest.raises(psycopg.OperationalError):
        db.run(lambda uow: None)
    assert events == ["look up db.test", "wait at most 2 s"], "the lookup is outside the timed wait"


def test_an_unreachable_gateway_passes_bootstrap_and_leaves_the_first_order_pending(
    postgres_server: TemporaryServer, observer: psycopg.Connection[Any]
) -> None:
    """Settings checks the gateway URL's form, not that anything answers there: the refused
    connections are transient failures, retried, and the order waits for settle_pending."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{probe.getsockname()[1]}"  # nothing listens once closed
    pauses: list[float] = []
    settings = Settings(postgres_server.url, gateway_url=nowhere, gateway_attempts=3)
    with bootstrap(settings, sleep=pauses.append, rng=random.Random(0)) as app:
        assert app.service.handle(event()) == "pending"
    assert len(pauses) == 2 and stored(observer) == ("pending", None)
