"""ex06 right, written differently: the reason checked by hand with payload.error, fields read in another order, positional construction.
"""

from __future__ import annotations

from dataclasses import dataclass

from patterns.factory import EVENTS, Payload
from patterns.money import Money

REFUND_REASONS = ("damaged", "duplicate", "late", "other")

events = EVENTS.copy()


@events.register("refund")
@dataclass(frozen=True)
class RefundEvent:
    refund_id: str
    transaction_id: str
    amount: Money
    reason: str
    note: str | None = None

    @classmethod
    def from_payload(cls, payload: Payload) -> RefundEvent:
        """Read and validate a refund's fields (see the module docstring)."""
        note = payload.optional_text("note")
        reason = payload.text("reason")
        if reason not in frozenset(REFUND_REASONS):
            raise payload.error("reason", f"must be one of {sorted(REFUND_REASONS)}")
        if note is None and reason == "other":
            raise payload.error("note", "must explain a refund for reason 'other'")
        amount = payload.money("amount", "currency")
        transaction = payload.text("txn")
        refund = payload.text("refund_id")
        return cls(refund, transaction, amount, reason, note)
