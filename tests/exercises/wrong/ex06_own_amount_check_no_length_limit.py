"""ex06 wrong: the amount is checked by hand (a regex, then Decimal) instead of payload.money.

The hand-made check knows the format and the decimal places but not the
length limit, so an amount padded with zeros past 40 characters is accepted.

grader says: over the limit of 40
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from patterns.factory import EVENTS, Payload
from patterns.money import CURRENCIES, Money

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
        currency = payload.choice("currency", CURRENCIES)
        text = payload.text("amount").strip()
        if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
            raise payload.error("amount", "must be digits with an optional point, like '19.99'")
        minor = Decimal(text).scaleb(CURRENCIES[currency])
        if minor != minor.to_integral_value():
            raise payload.error("amount", f"has more decimal places than {currency} allows")
        if minor <= 0:
            raise payload.error("amount", "must be more than zero")
        return cls(
            refund_id=payload.text("refund_id"),
            transaction_id=payload.text("txn"),
            amount=Money(int(minor), currency),
            reason=reason,
            note=note,
        )
