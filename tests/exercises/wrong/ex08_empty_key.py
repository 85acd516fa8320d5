"""ex08 wrong: every attempt of every order sends the same empty idempotency key.

The gateways treat "" as a key like any other, shared by every order: a second
order's charge is replayed as the first one's, or refused as reused.

grader says: finds no charge for this order
"""

from __future__ import annotations

from patterns.capstone import Order, PaymentGateway, Receipt
from patterns.retry import RetryPolicy


def charge_order(gateway: PaymentGateway, order: Order, policy: RetryPolicy) -> Receipt:
    """Charge ``order`` through ``gateway``, retrying transient failures under ``policy``."""
    # "Idempotency" handled by the gateway, surely: send something, the same each time.
    return policy.call(gateway.charge, order.total, idempotency_key="")
