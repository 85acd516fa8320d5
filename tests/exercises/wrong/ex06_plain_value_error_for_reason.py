"""ex06 wrong: an unknown reason raises a plain ValueError, not EventError naming the field.

grader says: only EventError may escape
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
        reason = payload.text("reason")
        if reason not in REFUND_REASONS:
            raise ValueError(f"unknown refund reason {reason!r}")
        note = payload.optional_text("note")
        if reason == "other" and note is None:
            raise payload.error("note", "is required when reason is 'other'")
        return cls(
            refund_id=payload.text("refund_id"),
            transaction_id=payload.text("txn"),
            amount=payload.money("amount", "currency"),
            reason=reason,
            note=note,
        )
