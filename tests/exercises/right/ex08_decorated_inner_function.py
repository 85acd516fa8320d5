"""ex08 right, written differently: the key computed first, the policy used as a decorator on a closure.
"""

from __future__ import annotations

from patterns.capstone import Order, PaymentGateway, Receipt, idempotency_key_for
from patterns.retry import RetryPolicy



def charge_order(gateway: PaymentGateway, order: Order, policy: RetryPolicy) -> Receipt:
    """Charge ``order`` through ``gateway``, retrying transient failures under ``policy``."""
    # Derived from the order and computed once: every retry, and every later
    # call for this order, sends the same key, so the gateway charges once.
    key = idempotency_key_for(order)

    @policy
    def charge_with_the_order_key() -> Receipt:
        return gateway.charge(order.total, idempotency_key=key)

    return charge_with_the_order_key()
