"""ex06 wrong: a refund for reason 'other' is accepted without a note.

grader says: expected EventError naming payload.note
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
        return cls(
            refund_id=payload.text("refund_id"),
            transaction_id=payload.text("txn"),
            amount=payload.money("amount", "currency"),
            reason=reason,
            note=note,
        )
