"""Fault injection for the checkout: a seeded, reproducible bad day.

What it is for: proving the service's promises under failure, in the tests,
in the notebook and in the ex08 grader, all with one scenario:

* :func:`sample_events`: a seeded stream of ``order_placed`` JSON documents,
  with an occasional malformed one;
* :func:`terminate_backends`: what an administrator (or a failover) does to
  the service's session, from a second connection;
* :class:`DatabaseKiller`: a trace hook that terminates the service's
  session right after chosen steps (e.g. after order A-0004 was charged but
  before its payment was recorded: the worst moment);
* :func:`run_scenario`: the flaky gateway (lesson 07's server, a seeded
  schedule of 503s, slow answers and dropped connections), the real
  PostgreSQL, the service built by ``bootstrap``, a run, a settling pass,
  and the provider's statement imported for reconciliation.

Nothing sleeps for backoff: the pauses are recorded, not slept. The slow
answers are real but short (the client gives up after 0.3 s).

When not to use it: against anything shared. It wipes the checkout's tables
and kills sessions by application name.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from patterns.capstone.bootstrap import Settings, bootstrap
from patterns.capstone.reconciliation import ReportSummary, import_statement, reconcile, summarize
from patterns.capstone.service import ChargeStep, RunSummary, charge_order
from patterns.capstone.storage import wipe
from patterns.lab import Arrival, Charge, Fault, flaky_server, seeded_faults

__all__ = [
    "DatabaseKiller",
    "Scenario",
    "ScenarioResult",
    "run_scenario",
    "sample_events",
    "terminate_backends",
]

_CUSTOMERS = ("ada@example.com", "grace@example.com", "alan@example.com", "edsger@example.com")
_MALFORMED = (
    '{"type": "order_placed", "payload": {"order_id": "B-1", "customer": "x@example.com",'
    ' "amount": "19.999", "currency": "EUR"}}',  # a tenth of a cent
    '{"type": "order_placed", "payload": {"order_id": "B-2", "amount": "5.00", "currency": "EUR"}}',
    '{"type": "order_placed", "payload": ',  # truncated JSON
)


def sample_events(seed: int, count: int, *, malformed_every: int = 7) -> Iterator[str]:
    """``count`` order events ``A-0001``... as JSON text, the same for the same seed.

    Every ``malformed_every``-th document (0: none) is one the factory must
    refuse, in addition to the ``count`` valid ones.
    """
    rng = random.Random(seed)
    for number in range(1, count + 1):
        if malformed_every and number % malformed_every == 0:
            yield _MALFORMED[(number // malformed_every - 1) % len(_MALFORMED)]
        payload = {
            "order_id": f"A-{number:04d}",
            "customer": rng.choice(_CUSTOMERS),
            "amount": f"{rng.randrange(100, 20_000) / 100:.2f}",
            "currency": "EUR",
        }
        yield json.dumps({"type": "order_placed", "payload": payload})


def order_ids(count: int) -> list[str]:
    """The ids :func:`sample_events` issues for ``count`` orders."""
    return [f"A-{number:04d}" for number in range(1, count + 1)]


def terminate_backends(admin: psycopg.Connection[Any], application_name: str) -> int:
    """Terminate every session with this ``application_name`` (not ``admin``'s); return how many.

    Waits (up to 5 s) until each session is really gone, so what the service
    meets next does not depend on how fast the server acts on the signal.
    """
    row = admin.execute(
        "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
        "WHERE application_name = %s AND pid <> pg_backend_pid()",
        (application_name,),
    ).fetchone()
    assert row is not None  # count() always returns a row
    return int(row[0])


@dataclass
class DatabaseKiller:
    """A trace hook: after each ``(step, order_id)`` in ``at``, kill the service's session."""

    admin: psycopg.Connection[Any]
    application_name: str
    at: Sequence[tuple[str, str]]
    killed: list[tuple[str, str]] = field(default_factory=list)
    steps: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, step: str, order_id: str) -> None:
        self.steps.append((step, order_id))
        if (step, order_id) in self.at and terminate_backends(self.admin, self.application_name):
            self.killed.append((step, order_id))


@dataclass(frozen=True)
class Scenario:
    """The knobs of one fault-injected run; the defaults are the course's bad day."""

    seed: int = 8
    orders: int = 20
    faults: int = 40  # the gateway's first 40 requests follow the seeded schedule
    unavailable: float = 0.3
    slow: float = 0.1
    drop: float = 0.15
    slow_seconds: float = 1.0  # the slow handler stops waiting when the gateway stops
    gateway_timeout: float = 0.3  # a healthy answer takes about a millisecond: wide margin
    gateway_attempts: int = 5
    kill_at: tuple[tuple[str, str], ...] = (("charged", "A-0004"), ("stored", "A-0011"))


@dataclass
class ScenarioResult:
    """Everything a run produced, for the invariants and the report."""

    sent: list[str]  # the order ids the shop front sent
    run: RunSummary
    settled: RunSummary
    statement: list[Charge]  # what the gateway says it charged
    timeline: list[Arrival]  # every request the gateway received
    killed: list[tuple[str, str]]  # where the database session was terminated
    reconnects: int
    sleeps: list[float]  # backoff pauses asked for (recorded, not slept)
    report: ReportSummary
    faults: list[Fault]
    gateway_port: int  # closed again by the time the result is returned


def run_scenario(
    database_url: str,
    scenario: Scenario = Scenario(),
    *,
    charge_step: ChargeStep = charge_order,
    on_result: Callable[[ScenarioResult], None] | None = None,
) -> ScenarioResult:
    """Run the checkout through ``scenario`` against the real PostgreSQL at ``database_url``.

    Wipes the checkout tables first. Starts and stops its own flaky gateway;
    leaves no session open. ``charge_step`` is injected into the service
    (exercise ex08 passes the learner's).
    """
    sleeps: list[float] = []
    faults = seeded_faults(
        scenario.seed,
        scenario.faults,
        unavailable=scenario.unavailable,
        slow=scenario.slow,
        drop=scenario.drop,
    )
    with (
        flaky_server(faults, slow_seconds=scenario.slow_seconds) as gateway,
        psycopg.connect(database_url, autocommit=True, application_name="chaos") as admin,
    ):
        settings = Settings(
            database_url,
            gateway_url=gateway.url,
            gateway_timeout=scenario.gateway_timeout,
            gateway_attempts=scenario.gateway_attempts,
        )
        killer = DatabaseKiller(admin, "checkout", scenario.kill_at)
        with bootstrap(
            settings,
            sleep=sleeps.append,
            rng=random.Random(scenario.seed),
            charge_step=charge_step,
            trace=killer,
        ) as app:
            wipe(app.database.connection())
            run = app.service.run(sample_events(scenario.seed, scenario.orders))
            settled = app.service.settle_pending()
            import_statement(app.database, gateway.charges)
            report = summarize(reconcile(app.database.connection()))
            reconnects = app.database.reconnects
        result = ScenarioResult(
            sent=order_ids(scenario.orders),
            run=run,
            settled=settled,
            statement=gateway.charges,
            timeline=gateway.timeline,
            killed=killer.killed,
            reconnects=reconnects,
            sleeps=sleeps,
            report=report,
            faults=faults,
            gateway_port=gateway.port,
        )
    if on_result is not None:
        on_result(result)
    return result
