"""ex06 wrong: the amount is always read as euros; 500 JPY becomes 5.00 EUR.

grader says: (the payload's currency is JPY)
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
        reason = payload.choice("reason", REFUND_REASONS)
        note = payload.optional_text("note")
        if reason == "other" and note is None:
            raise payload.error("note", "is required when reason is 'other'")
        return cls(
            refund_id=payload.text("refund_id"),
            transaction_id=payload.text("txn"),
            amount=Money.parse(payload.text("amount"), "EUR") if payload.choice("currency", ["EUR", "USD", "GBP", "CHF", "JPY", "KWD"]) else None,
            reason=reason,
            note=note,
        )
