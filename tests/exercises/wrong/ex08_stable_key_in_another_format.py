"""ex08 wrong: a stable key, 'order-A-1', that never charges twice but that the reconciliation cannot match.

grader says: the reconciliation matches charges to orders through idempotency_key_for(order)
"""

from __future__ import annotations

from patterns.capstone import Order, PaymentGateway, Receipt, idempotency_key_for
from patterns.retry import RetryPolicy



def charge_order(gateway: PaymentGateway, order: Order, policy: RetryPolicy) -> Receipt:
    """Charge ``order`` through ``gateway``, retrying transient failures under ``policy``."""
    # Derived from the order and computed once: every retry, and every later
    # call for this order, sends the same key, so the gateway charges once.
    key = f"order-{order.id}"
    return policy.call(gateway.charge, order.total, idempotency_key=key)
