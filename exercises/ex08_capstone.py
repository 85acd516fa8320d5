"""Exercise 08, capstone: make the checkout's charge step safe to retry.

The checkout service (``patterns.capstone``) charges each order through a
*charge step* it receives by injection: ``charge_order(gateway, order,
policy)``. The version below works on a good day, and it even sends an
``Idempotency-Key``. On a bad day it charges customers twice:

* the gateway takes the money, then the connection drops (or the answer
  comes after the client's timeout). The client cannot tell; the retry
  policy tries again, with a *new* key, and the gateway, seeing a new key,
  charges again;
* an order the gateway could not be reached for (503s, timeouts) until the
  policy gave up stays ``pending``, and is tried again later by
  ``settle_pending()``; that call, too, draws a new key.

Fix ``charge_order`` so that every attempt for one order, now or later, in
this process or another, sends the same key: ``idempotency_key_for(order)``
(``"order:<id>"``; the reconciliation matches charges to orders through
it), computed once, *outside* the function the policy retries. It lives in
the capstone package: ``from patterns.capstone import idempotency_key_for``.
Keep the rest: one ``gateway.charge`` per attempt, transient failures retried
by ``policy``, permanent ones (``GatewayError``) raised at once, the receipt
returned.

The grader runs the course's bad day (``patterns.capstone.chaos``: the flaky
gateway's 503s, slow answers and dropped connections, and the database
session killed twice) with your charge step, then checks with SQL that no
order was charged more than once.
"""

from __future__ import annotations

import uuid

from patterns.capstone import Order, PaymentGateway, Receipt
from patterns.retry import RetryPolicy


def charge_order(gateway: PaymentGateway, order: Order, policy: RetryPolicy) -> Receipt:
    """Charge ``order`` through ``gateway``, retrying transient failures under ``policy``."""
    def attempt() -> Receipt:
        # A fresh key for every request, so the gateway never mixes two up.
        key = f"order:{order.id}:{uuid.uuid4().hex}"
        return gateway.charge(order.total, idempotency_key=key)

    return policy.call(attempt)
