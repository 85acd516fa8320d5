"""ex08 wrong: a home-made loop retries every exception, a declined card included, and ignores the policy.

grader says: expected the charge after 2 pauses, through policy.call
"""

from __future__ import annotations

from patterns.capstone import Order, PaymentGateway, Receipt, idempotency_key_for
from patterns.retry import RetryPolicy



def charge_order(gateway: PaymentGateway, order: Order, policy: RetryPolicy) -> Receipt:
    """Charge ``order`` through ``gateway``, retrying transient failures under ``policy``."""
    # Derived from the order and computed once: every retry, and every later
    # call for this order, sends the same key, so the gateway charges once.
    key = idempotency_key_for(order)
    for _ in range(4):
        try:
            return gateway.charge(order.total, idempotency_key=key)
        except Exception:
            continue
    return gateway.charge(order.total, idempotency_key=key)
