"""ex08 wrong: the key carries the attempt number, so every retry is a new payment.

grader says: was charged more than once
"""

from __future__ import annotations

from patterns.capstone import Order, PaymentGateway, Receipt, idempotency_key_for
from patterns.retry import RetryPolicy



def charge_order(gateway: PaymentGateway, order: Order, policy: RetryPolicy) -> Receipt:
    """Charge ``order`` through ``gateway``, retrying transient failures under ``policy``."""
    # Derived from the order and computed once: every retry, and every later
    # call for this order, sends the same key, so the gateway charges once.
    attempt = 0

    def charge_once() -> Receipt:
        nonlocal attempt
        attempt += 1
        return gateway.charge(order.total, idempotency_key=f"{idempotency_key_for(order)}:{attempt}")

    return policy.call(charge_once)
