"""Grader for ex08: the checkout's charge step, safe to retry.

Quick checks with a fake gateway that honours keys and, for the requests it
is told to, loses the answer or is unavailable, then generated scenarios
(several orders, each charged once or twice, the gateway answering 503,
losing answers or charging) compared with a model of a correct charge step,
then the course's bad day
(``patterns.capstone.chaos.run_scenario``) on the real flaky gateway and the
real PostgreSQL, with the learner's ``charge_order`` injected into the real
service, and the result checked with SQL. Backoff pauses are recorded, never
slept. The messages name the problem (a new key is a new payment); the hints
give the fix.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import httpx
import psycopg
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from patterns.capstone import InMemoryGateway, Order, Receipt, idempotency_key_for, violations
from patterns.capstone.chaos import Scenario, run_scenario
from patterns.capstone.gateways import GatewayError
from patterns.course.grading import Named, call_repr, grading_settings, load_graded
from patterns.lab import TemporaryServer
from patterns.money import Money
from patterns.retry import RetryPolicy, retry

ORDER = Order("A-1", "ada@example.com", Money(1999, "EUR"))
CALL = call_repr("charge_order", Named("gateway"), ORDER, Named("policy"))
NEW_KEY = "to the gateway a new key is a new payment"

# One fixed, fast profile: the same scenarios on every run, no shrinking (the
# message tells the scenario step by step).
GRADING = grading_settings(20, shrink=False)


@pytest.fixture
def ex08() -> ModuleType:
    return load_graded("ex08")


def policy(sleeps: list[float] | None = None, attempts: int = 5) -> RetryPolicy:
    pauses = sleeps if sleeps is not None else []
    return retry(max_attempts=attempts, sleep=pauses.append, rng=random.Random(0))


class Gateway(InMemoryGateway):
    """Honours keys like a real provider and records every key it was sent.

    ``lose`` lists the requests (1-based) whose answer is lost after charging
    (a dropped connection); ``unavailable`` those failing before charging (a 503).
    """

    def __init__(self, *, lose: tuple[int, ...] = (), unavailable: tuple[int, ...] = ()) -> None:
        super().__init__()
        self.keys: list[str] = []
        self.lose, self.unavailable = lose, unavailable

    def charge(self, amount: Money, *, idempotency_key: str) -> Receipt:
        self.keys.append(idempotency_key)
        if len(self.keys) in self.unavailable:
            request = httpx.Request("POST", "http://gateway.test/charges")
            raise httpx.HTTPStatusError(
                "503", request=request, response=httpx.Response(503, request=request)
            )
        receipt = super().charge(amount, idempotency_key=idempotency_key)
        if len(self.keys) in self.lose:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return receipt


def keys_text(keys: list[str]) -> str:
    """The keys sent, summarised: distinct ones, each with how often it was sent."""
    distinct = list(dict.fromkeys(keys))
    shown = ", ".join(f"{key!r} x{keys.count(key)}" for key in distinct[:4])
    return shown + (f", ... ({len(distinct) - 4} more)" if len(distinct) > 4 else "")


def charged_more_than_once(gateway: Gateway, what: str) -> str:
    return (
        f"order A-1 was charged more than once ({len(gateway.charges)} charges): {CALL}: "
        f"{what} sent another key ({keys_text(gateway.keys)}), and {NEW_KEY}."
    )


def charge(ex08: ModuleType, gateway: Any, order: Order, policy: RetryPolicy, when: str) -> Any:
    """ex08.charge_order(...), turning an unexpected exception into a sentence."""
    try:
        return ex08.charge_order(gateway, order, policy)
    except Exception as error:
        pytest.fail(
            f"{call_repr('charge_order', Named('gateway'), order, Named('policy'))} ({when}) raised "
            f"{type(error).__name__}: {error}; expected the receipt, the transient failures "
            "retried under the policy",
            pytrace=False,
        )


@pytest.mark.hints(
    "Where is the key made? If it is made inside the function the policy calls again, every "
    "retry makes a new one.",
)
def test_a_retry_after_a_lost_answer_sends_the_same_key(ex08: ModuleType) -> None:
    """When the gateway charged but its answer was lost, the retry replays the same charge."""
    gateway = Gateway(lose=(1,))
    receipt = charge(ex08, gateway, ORDER, policy(), "the first answer lost after charging")
    assert len(gateway.charges) == 1, charged_more_than_once(
        gateway, "the gateway charged, the answer was lost, and the retry"
    )
    assert receipt.charge_id == gateway.charges[0].charge_id, (
        f"{CALL} returned {receipt!r}; expected the receipt of the one charge, "
        f"{gateway.charges[0].charge_id}"
    )


@pytest.mark.hints(
    "A key drawn at random once per call still differs on the next call for the same order: "
    "derive it from the order alone.",
)
def test_a_later_call_for_the_same_order_sends_the_same_key(ex08: ModuleType) -> None:
    """Charging the same order again (settle_pending, a redelivery) charges nothing new."""
    gateway = Gateway()
    charge(ex08, gateway, ORDER, policy(), "first call")
    again = charge(ex08, gateway, ORDER, policy(), "second call for the same order")
    assert len(gateway.charges) == 1, charged_more_than_once(
        gateway, "a second call for the same order (settle_pending() makes one)"
    )
    assert again.replayed, f"the second {CALL} returned {again!r}; expected a replayed receipt"


@pytest.mark.hints(
    "patterns.capstone has the function that turns an order into its key: "
    "`from patterns.capstone import idempotency_key_for`.",
)
def test_the_key_is_the_one_reconciliation_matches(ex08: ModuleType) -> None:
    """Every attempt sends idempotency_key_for(order), 'order:A-1'."""
    gateway = Gateway(unavailable=(1, 2))
    charge(ex08, gateway, ORDER, policy(), "the gateway answered 503 twice")
    expected = idempotency_key_for(ORDER)
    if len(set(gateway.keys)) > 1:
        pytest.fail(
            f"{CALL} (the gateway answered 503 twice, before charging) sent "
            f"{len(gateway.keys)} different keys ({keys_text(gateway.keys)}). Had the gateway "
            f"charged before failing, the retry would have charged again: {NEW_KEY}.",
            pytrace=False,
        )
    assert gateway.keys == [expected] * 3, (
        f"{CALL} sent {keys_text(gateway.keys)}: one stable key, so no attempt charges twice, "
        f"but the reconciliation matches charges to orders through idempotency_key_for(order), "
        f"{expected!r}, and finds no charge for this order. Send that key."
    )


@pytest.mark.hints(
    "policy.call(gateway.charge, order.total, idempotency_key=key) retries what the policy "
    "calls transient and raises anything else at once: no loop of your own.",
)
def test_transient_failures_are_retried_and_permanent_ones_are_not(ex08: ModuleType) -> None:
    """Two 503s are retried under the policy; a GatewayError is raised at once."""
    sleeps: list[float] = []
    gateway = Gateway(unavailable=(1, 2))
    receipt = charge(ex08, gateway, ORDER, policy(sleeps), "the gateway answered 503 twice")
    assert receipt.amount == ORDER.total and len(sleeps) == 2, (
        f"{CALL} with two 503s first returned {receipt!r} after {len(sleeps)} pauses; "
        "expected the charge after 2 pauses, through policy.call"
    )

    def decline(amount: Money, key: str) -> None:
        raise GatewayError("card not supported")

    broken = InMemoryGateway(before_charge=decline)
    attempts: list[float] = []
    with pytest.raises(GatewayError):
        ex08.charge_order(broken, ORDER, policy(attempts))
    assert attempts == [], f"{CALL} retried a permanent GatewayError ({len(attempts)} pauses)"


class ScriptedGateway(InMemoryGateway):
    """Answers each request as its script says: 'ok', '503' (before charging) or 'lost'
    (charged, then the connection drops); 'ok' once the script is used up."""

    def __init__(self, script: list[str]) -> None:
        super().__init__()
        self.script = list(script)
        self.requests: list[tuple[str, Money]] = []

    def charge(self, amount: Money, *, idempotency_key: str) -> Receipt:
        self.requests.append((idempotency_key, amount))
        answer = self.script.pop(0) if self.script else "ok"
        if answer == "503":
            request = httpx.Request("POST", "http://gateway.test/charges")
            raise httpx.HTTPStatusError(
                "503", request=request, response=httpx.Response(503, request=request)
            )
        receipt = super().charge(amount, idempotency_key=idempotency_key)
        if answer == "lost":
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return receipt


@dataclass
class Model:
    """What a correct charge step does against ScriptedGateway: the reference, as a model."""

    script: list[str]
    attempts: int
    charged: dict[str, Money] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def charge_order(self, order: Order) -> str:
        """The outcome of one call: 'receipt' or the name of the error that escapes."""
        key = idempotency_key_for(order)
        for attempt in range(1, self.attempts + 1):
            self.requests.append(key)
            answer = self.script.pop(0) if self.script else "ok"
            if answer != "503":
                self.charged.setdefault(key, order.total)
            if answer == "ok":
                return "receipt"
            if attempt == self.attempts:
                return "HTTPStatusError" if answer == "503" else "RemoteProtocolError"
        raise AssertionError("unreachable")


ORDERS = [
    Order("A-1", "ada@example.com", Money(1999, "EUR")),
    Order("B-2", "bob@example.com", Money(500, "JPY")),
    Order("C-3", "cy@example.com", Money(1, "KWD")),
]


@pytest.mark.hints(
    "Follow the order named in the message: which keys did its attempts send, and would the "
    "same key come back on a later call for that order?",
)
@GRADING
@given(
    st.lists(st.sampled_from(range(len(ORDERS))), min_size=1, max_size=4),
    st.lists(st.sampled_from(["ok", "503", "lost"]), max_size=8),
    st.integers(min_value=1, max_value=3),
)
@example([0, 1], ["lost", "ok", "ok"], 3)
@example([0, 0], ["503", "503", "503", "ok"], 3)
def test_generated_scenarios_charge_each_order_once_with_its_key(
    ex08: ModuleType, calls: list[int], script: list[str], attempts: int
) -> None:
    """Any orders, charged once or twice, with 503s and lost answers: each is charged once."""
    gateway, model = ScriptedGateway(script), Model(list(script), attempts)
    story: list[str] = []
    for index in calls:
        order = ORDERS[index]
        modelled = len(model.requests)
        expected = model.charge_order(order)
        sent = len(gateway.requests)
        try:
            receipt = ex08.charge_order(gateway, order, policy(attempts=attempts))
            got = "receipt"
        except Exception as error:
            got = type(error).__name__
            receipt = error
        keys = [key for key, _ in gateway.requests[sent:]]
        story.append(f"charge_order({order.id}) sent {keys_text(keys) or 'nothing'}: {got}")
        told = (
            f"with the gateway scripted {script} and policy max_attempts={attempts}, "
            + "; ".join(story)
        )
        charges = [r for r in gateway.charges if r.amount == order.total]
        if len(charges) > 1:
            sent_for = [key for key, amount in gateway.requests if amount == order.total]
            pytest.fail(
                f"order {order.id} was charged more than once ({len(charges)} charges; {told}): "
                f"its attempts sent {keys_text(sent_for)}, and {NEW_KEY}.",
                pytrace=False,
            )
        wrong_amount = [amount for key, amount in gateway.requests[sent:] if amount != order.total]
        assert not wrong_amount, (
            f"{told}: charge_order({order.id}) asked the gateway for {wrong_amount[0]}, "
            f"the order's total is {order.total}"
        )
        made, allowed = len(gateway.requests) - sent, len(model.requests) - modelled
        assert got == expected, (
            f"{told}: charge_order({order.id}) gave {got} ({receipt!r:.120}); expected "
            + ("the receipt" if expected == "receipt" else f"{expected} after {attempts} attempts")
            + (
                f". It made {made} gateway requests where the policy makes {allowed}: "
                "retry through policy.call"
                if made != allowed
                else ""
            )
        )
        if got == "receipt":
            assert receipt.amount == order.total and receipt.idempotency_key in {
                key for key, _ in gateway.requests[sent:]
            }, (
                f"{told}: charge_order({order.id}) returned {receipt!r}, which is not the "
                "gateway's answer to this order's charge"
            )
    for order in ORDERS:
        sent_for = [key for key, amount in gateway.requests if amount == order.total]
        if len(set(sent_for)) > 1:
            pytest.fail(
                f"{told}: order {order.id}'s attempts sent {len(set(sent_for))} different keys "
                f"({keys_text(sent_for)}). Had the gateway charged before an answer was lost, "
                f"the next attempt would have charged again: {NEW_KEY}.",
                pytrace=False,
            )
    assert len(gateway.requests) == len(model.requests), (
        f"{told}: the gateway got {len(gateway.requests)} requests; expected "
        f"{len(model.requests)}: one gateway.charge per attempt, retried by the policy"
    )
    assert [key for key, _ in gateway.requests] == model.requests, (
        f"{told}: the keys sent were {keys_text([k for k, _ in gateway.requests])}; expected "
        f"idempotency_key_for(order) on every attempt ({keys_text(model.requests)}). The "
        "reconciliation matches charges to orders through that key."
    )


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
        f"{what}: {'; '.join(twice[:3])}"
        + (f" (and {len(twice) - 3} more)" if len(twice) > 3 else "")
        + f". An order was charged more than once: a retry sent a different key, and {NEW_KEY}."
    )
    broken = {name: rows for name, rows in found.items() if rows}
    assert not broken, f"{what} broke: " + "; ".join(
        f"{name}: {', '.join(rows[:3])}" for name, rows in broken.items()
    )
    assert result.report.verdicts == {"ok": len(result.sent)}, (
        f"{what}: the reconciliation report says {result.report}"
    )
