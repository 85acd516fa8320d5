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

How a charge can end, besides ``paid``:

* a **transient** failure (what the retry policy retries: a 503, a timeout,
  a dropped connection) that outlasted the policy: the order stays
  ``pending`` and :meth:`CheckoutService.settle_pending` tries it again later,
  with the same key;
* a **refusal** (HTTP 402: the provider judged this payment and said no, a
  declined card for one): ``declined``, with the provider's answer as the
  reason. Never charged again: waiting does not change that answer (Stripe
  even replays it to a retry with the same key, once the request ran);
* anything else that will not pass by waiting: ``review``, with the reason. A
  person checks the provider's statement before anything is charged again,
  and the customer is not told their payment was refused. That covers a 400
  (the provider did not accept our *request*: most often a bug of ours, a
  missing or renamed field, which would otherwise decline every order), a
  422 (its meaning depends on the provider; the course's flaky gateway uses
  it for a key reused with another body), a 401 for our own bad
  credentials, a 500, an answer we cannot trust.
  Stripe's status table (https://docs.stripe.com/api/errors) draws that
  line: a 400 means the request itself was unacceptable (often a missing
  parameter), a 402 that the parameters were valid and the payment failed.

A pending order is retried only while the provider still remembers its key.
Stripe keeps keys at least 24 hours
(https://docs.stripe.com/api/idempotent_requests); after that the same key
is a new request, which can charge a second time. So ``settle_within``
(default 23 hours, a margin below Stripe's 24) bounds the retrying: an order
pending for longer goes to ``review`` instead of being charged blindly.

A malformed event is rejected with the factory's message and the run carries on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Final, Literal

import httpx

from patterns.capstone.domain import CHECKOUT_EVENTS, Order, OrderPlaced, idempotency_key_for
from patterns.capstone.gateways import GatewayError, PaymentGateway
from patterns.capstone.storage import Database, Receipt, UnitOfWork
from patterns.factory import EventError, EventRegistry
from patterns.retry import RetryPolicy

__all__ = [
    "DECLINING_STATUSES",
    "SETTLE_WITHIN",
    "ChargeStep",
    "CheckoutService",
    "Outcome",
    "RunSummary",
    "Trace",
    "charge_order",
    "ignore_trace",
    "refusal_reason",
]

Outcome = Literal["paid", "already paid", "pending", "declined", "review", "rejected"]

#: HTTP statuses with which a provider refuses this payment itself: 402, a valid
#: request for a payment that failed (a declined card). Not 400 or 422: those say
#: our request was wrong (a bug of ours would decline every order and tell every
#: customer so), and go to ``review`` with the other 4xx (401, 403, 404...).
DECLINING_STATUSES: Final = frozenset({402})

#: The default of ``settle_within``: below Stripe's 24-hour key retention, with a margin.
SETTLE_WITHIN: Final = timedelta(hours=23)

#: How one order is charged: ``(gateway, order, policy) -> Receipt``. Injected so
#: exercise ex08 can plug its version into the real service.
ChargeStep = Callable[[PaymentGateway, Order, RetryPolicy], Receipt]

#: Called as ``trace(step, order_id)`` after each step ("stored", "charged",
#: "recorded", "gave up", "declined", "review"): for logs, metrics, and for the
#: fault-injection harness.
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
    """What a run did: outcome counts, the message of every rejected event, and why
    each order was declined or sent to review (by order id)."""

    outcomes: Counter[str] = field(default_factory=Counter)
    rejected: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)

    def add(self, outcome: Outcome) -> None:
        self.outcomes[outcome] += 1

    def __str__(self) -> str:
        counts = ", ".join(f"{name}: {self.outcomes[name]}" for name in sorted(self.outcomes))
        return counts or "nothing processed"


#: What a gateway call may end with after its retries, without it being a bug here.
GATEWAY_FAILURES = (httpx.HTTPError, GatewayError)


def _duration(span: timedelta) -> str:
    """``23 hours``, ``90 minutes``: for messages a person reads."""
    minutes = span.total_seconds() / 60
    return f"{minutes / 60:g} hours" if minutes % 60 == 0 else f"{minutes:g} minutes"


def refusal_reason(error: BaseException) -> tuple[Literal["declined", "review"], str]:
    """For a failure that waiting will not cure: ``declined`` or ``review``, and why."""
    if isinstance(error, httpx.HTTPStatusError):
        response = error.response
        answer = f"the gateway answered {response.status_code} {response.reason_phrase}"
        body = response.text.strip()[:120]
        answer = f"{answer}: {body}" if body else answer
        if response.status_code in DECLINING_STATUSES:
            return "declined", answer
        return "review", f"{answer}; not a refusal of this payment: find out why first"
    return "review", f"{error}; check the provider's statement before charging again"


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
        settle_within: timedelta = SETTLE_WITHIN,
    ) -> None:
        self._db = database
        self._gateway = gateway
        self._gateway_retry = gateway_retry
        self._events = events
        self._charge_step = charge_step
        self._trace = trace
        self._settle_within = settle_within
        self._stale_reason = (
            f"still pending after {_duration(settle_within)}, near the end of the provider's "
            "idempotency-key retention: find this order on the provider's statement "
            "before charging it again"
        )

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

        def store(uow: UnitOfWork) -> Order:
            order = uow.orders.add(placed)
            # A redelivered event of an order pending for too long must not charge it.
            stale = uow.orders.review_stale(
                self._settle_within, self._stale_reason, order_id=order.id
            )
            return replace(order, status="review") if stale else order

        order = self._db.run(store)
        self._trace("stored", order.id)
        return self._pay(order, summary)

    def settle_pending(self) -> RunSummary:
        """Charge again every order still pending (the gateway was down for too long).

        Pending orders stored more than ``settle_within`` ago are not charged:
        they go to ``review`` (the provider may have forgotten their key).
        """
        summary = RunSummary()
        stale = self._db.run(
            lambda uow: uow.orders.review_stale(self._settle_within, self._stale_reason)
        )
        for order_id in stale:
            self._trace("review", order_id)
            summary.reasons[order_id] = self._stale_reason
            summary.add("review")
        for order in self._db.run(lambda uow: uow.orders.pending()):
            summary.add(self._pay(order, summary))
        return summary

    def _pay(self, order: Order, summary: RunSummary) -> Outcome:
        if order.status == "paid":
            return "already paid"
        if order.status != "pending":  # declined or review: final, never charged again
            return order.status
        try:
            receipt = self._charge_step(self._gateway, order, self._gateway_retry)
        except GATEWAY_FAILURES as error:
            if self._gateway_retry.retry_on(error):  # transient: the policy ran out
                self._trace("gave up", order.id)
                return "pending"  # settle_pending() tries again, with the same key
            outcome, reason = refusal_reason(error)
            self._db.run(lambda uow: uow.orders.set_status(order.id, outcome, reason))
            self._trace(outcome, order.id)
            summary.reasons[order.id] = reason
            return outcome
        self._trace("charged", order.id)

        def record(uow: UnitOfWork) -> None:
            uow.payments.record(order, receipt)
            uow.orders.set_status(order.id, "paid")

        self._db.run(record)
        self._trace("recorded", order.id)
        return "paid"
