"""ex08 wrong: the same key for every order, so the second order is refused as a reused key.

grader says: reused for another amount
"""

from __future__ import annotations

from patterns.capstone import Order, PaymentGateway, Receipt, idempotency_key_for
from patterns.retry import RetryPolicy



def charge_order(gateway: PaymentGateway, order: Order, policy: RetryPolicy) -> Receipt:
    """Charge ``order`` through ``gateway``, retrying transient failures under ``policy``."""
    # Derived from the order and computed once: every retry, and every later
    # call for this order, sends the same key, so the gateway charges once.
    return policy.call(gateway.charge, order.total, idempotency_key="checkout")
