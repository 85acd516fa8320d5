"""ex06 wrong: a note sent as null is refused, as if it were a bad string.

grader says: a null note is an absent note
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
        note = payload.text("note") if "note" in payload._data else None
        if reason == "other" and note is None:
            raise payload.error("note", "is required when reason is 'other'")
        return cls(
            refund_id=payload.text("refund_id"),
            transaction_id=payload.text("txn"),
            amount=payload.money("amount", "currency"),
            reason=reason,
            note=note,
        )
