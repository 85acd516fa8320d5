"""The checkout's domain: orders, the event that creates them, and the idempotency key.

Plain values, no I/O. An order arrives as an ``order_placed`` event (JSON from
the shop front), parsed by the lesson-06 factory into an :class:`OrderPlaced`;
the service stores it as an :class:`Order` and charges its total once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from patterns.factory import EVENTS, EventRegistry, Payload
from patterns.money import Money

__all__ = [
    "CHECKOUT_EVENTS",
    "ORDER_ID",
    "Order",
    "OrderPlaced",
    "OrderStatus",
    "idempotency_key_for",
]

#: Order ids the shop front issues: letters, digits and dashes, at most 40 characters.
#: No ':' on purpose, so an idempotency key ``order:<id>`` splits back unambiguously.
ORDER_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,39}")

#: ``pending`` until charged; then ``paid``, or ``declined`` (the provider refused
#: this payment), or ``review`` (a human must look: the outcome is unknown and
#: charging again is not safe). The last three are final for the service.
OrderStatus = Literal["pending", "paid", "declined", "review"]

# The course's registry, extended rather than edited: lesson 06's events stay as
# they were, and the checkout adds the one it consumes.
CHECKOUT_EVENTS: EventRegistry = EVENTS.copy()


@CHECKOUT_EVENTS.register("order_placed")
@dataclass(frozen=True)
class OrderPlaced:
    """A customer placed an order.

    Wire fields: ``order_id``, ``customer``, ``amount``, ``currency``.

    >>> CHECKOUT_EVENTS.parse('{"type": "order_placed", "payload": {"order_id": "A-1",'
    ...     ' "customer": "ada@example.com", "amount": "19.99", "currency": "EUR"}}')
    OrderPlaced(order_id='A-1', customer='ada@example.com', total=Money(minor=1999, currency='EUR'))
    """

    order_id: str
    customer: str
    total: Money

    @classmethod
    def from_payload(cls, payload: Payload) -> OrderPlaced:
        order_id = payload.text("order_id", max_length=40)
        if not ORDER_ID.fullmatch(order_id):
            raise payload.error(
                "order_id", "must be letters, digits and dashes (at most 40), like 'A-0001'"
            )
        customer = payload.text("customer", max_length=320)
        if "@" not in customer.strip("@"):
            raise payload.error("customer", "must be an e-mail address like 'ada@example.com'")
        return cls(order_id, customer, payload.money("amount", "currency"))


@dataclass(frozen=True)
class Order:
    """An order as the service stores it; ``status`` leaves ``pending`` once, for good."""

    id: str
    customer: str
    total: Money
    status: OrderStatus = "pending"


def idempotency_key_for(order: Order) -> str:
    """The key every charge attempt for ``order`` sends, on every retry and every redelivery.

    Derived from the order alone, so it is the same after a timeout, after a
    crash and in another process: the gateway then charges the order once.
    A key drawn at random per attempt protects nothing (exercise ex08).
    """
    return f"order:{order.id}"
