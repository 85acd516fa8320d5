"""Grader for ex08: the checkout's charge step, safe to retry.

Two quick checks with a fake gateway that loses its first answer, then the
course's bad day (``patterns.capstone.chaos.run_scenario``) on the real flaky
gateway and the real PostgreSQL, with the learner's ``charge_order`` injected
into the real service, and the result checked with SQL. Backoff pauses are
recorded, never slept.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from types import ModuleType
from typing import Any

import httpx
import psycopg
import pytest

from patterns.capstone import InMemoryGateway, Order, Receipt, violations
from patterns.capstone.chaos import Scenario, run_scenario
from patterns.capstone.gateways import GatewayError
from patterns.course.grading import call_repr, load_graded
from patterns.money import Money
from patterns.lab import TemporaryServer
from patterns.retry import RetryPolicy, retry

ORDER = Order("A-1", "ada@example.com", Money(1999, "EUR"))
CALL = call_repr("charge_order", "gateway", ORDER, "policy")


@pytest.fixture
def ex08() -> ModuleType:
    return load_graded("ex08")


def policy(sleeps: list[float] | None = None, attempts: int = 5) -> RetryPolicy:
    pauses = sleeps if sleeps is not None else []
    return retry(max_attempts=attempts, sleep=pauses.append, rng=random.Random(0))


class Gateway(InMemoryGateway):
    """Honours keys like a real provider and records every key it was sent.

    ``lose`` lists the attempts (1-based) whose answer is lost after charging
    (a dropped connection); ``refuse`` those failing before charging (a 503).
    """

    def __init__(self, *, lose: tuple[int, ...] = (), refuse: tuple[int, ...] = ()) -> None:
        super().__init__()
        self.keys: list[str] = []
        self.lose, self.refuse = lose, refuse

    def charge(self, amount: Money, *, idempotency_key: str) -> Receipt:
        self.keys.append(idempotency_key)
        if len(self.keys) in self.refuse:
            request = httpx.Request("POST", "http://gateway.test/charges")
            raise httpx.HTTPStatusError(
                "503", request=request, response=httpx.Response(503, request=request)
            )
        receipt = super().charge(amount, idempotency_key=idempotency_key)
        if len(self.keys) in self.lose:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return receipt


def charged_more_than_once(gateway: Gateway, what: str) -> str:
    return (
        f"order A-1 was charged more than once ({len(gateway.charges)} charges): {CALL}: "
        f"{what} sent another key ({', '.join(gateway.keys)}), and to the gateway a new key "
        "is a new payment. Compute the key once, from the order (idempotency_key_for(order)), "
        "outside the retried call."
    )


def test_a_retry_after_a_lost_answer_sends_the_same_key(ex08: ModuleType) -> None:
    """When the gateway charged but its answer was lost, the retry replays the same charge."""
    gateway = Gateway(lose=(1,))
    receipt = ex08.charge_order(gateway, ORDER, policy())
    assert len(gateway.charges) == 1, charged_more_than_once(
        gateway, "the gateway charged, the answer was lost, and the retry"
    )
    assert receipt.charge_id == gateway.charges[0].charge_id, (
        f"{CALL} returned {receipt!r}; expected the receipt of the one charge, "
        f"{gateway.charges[0].charge_id}"
    )


def test_a_later_call_for_the_same_order_sends_the_same_key(ex08: ModuleType) -> None:
    """Charging the same order again (settle_pending, a redelivery) charges nothing new."""
    gateway = Gateway()
    ex08.charge_order(gateway, ORDER, policy())
    again = ex08.charge_order(gateway, ORDER, policy())
    assert len(gateway.charges) == 1, charged_more_than_once(
        gateway, "a second call for the same order (settle_pending() makes one)"
    )
    assert again.replayed, f"the second {CALL} returned {again!r}; expected a replayed receipt"


def test_the_key_is_the_one_reconciliation_matches(ex08: ModuleType) -> None:
    """Every attempt sends idempotency_key_for(order), 'order:A-1'."""
    gateway = Gateway(refuse=(1, 2))
    ex08.charge_order(gateway, ORDER, policy())
    assert gateway.keys == ["order:A-1"] * 3, (
        f"{CALL} (the gateway answered 503 twice) sent the keys {gateway.keys}; expected "
        "'order:A-1' every time. If the gateway had charged before answering, the order "
        "was charged more than once. Use idempotency_key_for(order)."
    )


def test_transient_failures_are_retried_and_permanent_ones_are_not(ex08: ModuleType) -> None:
    """Two 503s are retried under the policy; a GatewayError is raised at once."""
    sleeps: list[float] = []
    gateway = Gateway(refuse=(1, 2))
    receipt = ex08.charge_order(gateway, ORDER, policy(sleeps))
    assert receipt.amount == ORDER.total and len(sleeps) == 2, (
        f"{CALL} with two 503s first returned {receipt!r} after {len(sleeps)} pauses; "
        "expected the charge after 2 pauses, through policy.call"
    )

    def refuse(amount: Money, key: str) -> None:
        raise GatewayError("card not supported")

    broken = InMemoryGateway(before_charge=refuse)
    attempts: list[float] = []
    with pytest.raises(GatewayError):
        ex08.charge_order(broken, ORDER, policy(attempts))
    assert attempts == [], f"{CALL} retried a permanent GatewayError ({len(attempts)} pauses)"


def test_the_bad_day_charges_every_order_exactly_once(
    ex08: ModuleType, postgres_server: TemporaryServer
) -> None:
    """The fault-injected run with this charge step keeps every invariant, proven with SQL."""
    charge_step: Callable[..., Any] = ex08.charge_order
    scenario = Scenario()
    result = run_scenario(postgres_server.url, scenario, charge_step=charge_step)
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        found = violations(conn, result.sent)
    what = (
        f"The bad day (seed {scenario.seed}: {len(result.timeline)} gateway requests with 503s, "
        f"slow answers and dropped connections; the database session killed "
        f"{len(result.killed)} times) with your charge_order"
    )
    twice = found.pop("no order was charged twice")
    assert not twice, (
        f"{what}: {'; '.join(twice)}. Each retry sent a different key, so the gateway took "
        "the money again. Compute the key once, from the order, outside the retried call."
    )
    broken = {name: rows for name, rows in found.items() if rows}
    assert not broken, f"{what} broke: " + "; ".join(
        f"{name}: {', '.join(rows[:3])}" for name, rows in broken.items()
    )
    assert result.report.verdicts == {"ok": len(result.sent)}, (
        f"{what}: the reconciliation report says {result.report}"
    )
