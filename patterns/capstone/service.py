"""The checkout service: parse an event, store the order, charge it once, record the payment.

Every collaborator arrives through ``__init__`` (lesson 04); only
``patterns.capstone.bootstrap`` builds the real ones. One event goes through
three steps, each safe to repeat:

1. **store**: parse the JSON with the factory (lesson 06) and store the order
   (``ON CONFLICT DO NOTHING``: a redelivered event finds it there).
2. **charge**: through the gateway strategy (lesson 03), retried with
   backoff (lesson 07), always with the order's own idempotency key, so a
   retry after a timeout or a dropped connection cannot charge twice.
3. **record**: the payment and the ``paid`` status, in one transaction
   (lesson 02), on a connection that is reopened if the database dropped it.

If the gateway stays down past the retry policy, the order stays
``pending`` and :meth:`CheckoutService.settle_pending` tries it again later,
with the same key. A malformed event is rejected with the factory's message
and the run carries on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import httpx

from patterns.capstone.domain import CHECKOUT_EVENTS, Order, OrderPlaced, idempotency_key_for
from patterns.capstone.gateways import GatewayError, PaymentGateway
from patterns.capstone.storage import Database, Receipt, UnitOfWork
from patterns.factory import EventError, EventRegistry
from patterns.retry import RetryPolicy

__all__ = [
    "ChargeStep",
    "CheckoutService",
    "Outcome",
    "RunSummary",
    "Trace",
    "charge_order",
    "ignore_trace",
]

Outcome = Literal["paid", "already paid", "pending", "rejected"]

#: How one order is charged: ``(gateway, order, policy) -> Receipt``. Injected so
#: exercise ex08 can plug its version into the real service.
ChargeStep = Callable[[PaymentGateway, Order, RetryPolicy], Receipt]

#: Called as ``trace(step, order_id)`` after each step ("stored", "charged",
#: "recorded", "gave up"): for logs, metrics, and for the fault-injection harness.
Trace = Callable[[str, str], None]


def charge_order(gateway: PaymentGateway, order: Order, policy: RetryPolicy) -> Receipt:
    """Charge ``order`` through ``gateway``, retrying transient failures under ``policy``.

    The key is computed once, from the order, *outside* the retried call:
    every attempt, and every later redelivery of the same order, sends the
    same key, and the gateway charges at most once.
    """
    key = idempotency_key_for(order)
    return policy.call(gateway.charge, order.total, idempotency_key=key)


def ignore_trace(step: str, order_id: str) -> None:
    """The default ``Trace``: record nothing."""
    return None


@dataclass
class RunSummary:
    """What a run did: outcome counts, and the message of every rejected event."""

    outcomes: Counter[str] = field(default_factory=Counter)
    rejected: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.outcomes[outcome] += 1

    def __str__(self) -> str:
        counts = ", ".join(f"{name}: {self.outcomes[name]}" for name in sorted(self.outcomes))
        return counts or "nothing processed"


#: What a gateway call may end with after its retries, without it being a bug here.
GATEWAY_FAILURES = (httpx.HTTPError, GatewayError)


class CheckoutService:
    """Turns ``order_placed`` events into stored, charged, recorded orders."""

    def __init__(
        self,
        *,
        database: Database,
        gateway: PaymentGateway,
        gateway_retry: RetryPolicy,
        events: EventRegistry = CHECKOUT_EVENTS,
        charge_step: ChargeStep = charge_order,
        trace: Trace = ignore_trace,
    ) -> None:
        self._db = database
        self._gateway = gateway
        self._gateway_retry = gateway_retry
        self._events = events
        self._charge_step = charge_step
        self._trace = trace

    def handle(self, document: str | bytes | Mapping[str, object]) -> Outcome:
        """Process one event document. Raises only if the database stays unreachable."""
        return self._handle(document, RunSummary())

    def run(self, documents: Iterable[str | bytes | Mapping[str, object]]) -> RunSummary:
        """Process every event in order; a bad event is counted and skipped, not fatal."""
        summary = RunSummary()
        for document in documents:
            summary.add(self._handle(document, summary))
        return summary

    def _handle(self, document: str | bytes | Mapping[str, object], summary: RunSummary) -> Outcome:
        try:
            placed = self._events.parse(document)
        except EventError as error:
            summary.rejected.append(str(error))
            return "rejected"
        if not isinstance(placed, OrderPlaced):
            summary.rejected.append(f"type: {type(placed).__name__} is not an order_placed event")
            return "rejected"
        order = self._db.run(lambda uow: uow.orders.add(placed))
        self._trace("stored", order.id)
        return self._pay(order)

    def settle_pending(self) -> RunSummary:
        """Charge again every order still pending (the gateway was down for too long)."""
        summary = RunSummary()
        for order in self._db.run(lambda uow: uow.orders.pending()):
            summary.add(self._pay(order))
        return summary

    def _pay(self, order: Order) -> Outcome:
        if order.status == "paid":
            return "already paid"
        try:
            receipt = self._charge_step(self._gateway, order, self._gateway_retry)
        except GATEWAY_FAILURES:
            self._trace("gave up", order.id)
            return "pending"  # settle_pending() tries again, with the same key
        self._trace("charged", order.id)

        def record(uow: UnitOfWork) -> None:
            uow.payments.record(order, receipt)
            uow.orders.set_status(order.id, "paid")

        self._db.run(record)
        self._trace("recorded", order.id)
        return "paid"
