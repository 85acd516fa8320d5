"""ex08 wrong: the key is right, but the charge is not retried at all.

grader says: expected the receipt, the transient failures retried under the policy
"""

from __future__ import annotations

from patterns.capstone import Order, PaymentGateway, Receipt, idempotency_key_for
from patterns.retry import RetryPolicy



def charge_order(gateway: PaymentGateway, order: Order, policy: RetryPolicy) -> Receipt:
    """Charge ``order`` through ``gateway``, retrying transient failures under ``policy``."""
    # Derived from the order and computed once: every retry, and every later
    # call for this order, sends the same key, so the gateway charges once.
    return gateway.charge(order.total, idempotency_key=idempotency_key_for(order))
