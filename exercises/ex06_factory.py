"""Exercise 06, factory: add a refund event to the registry, validated field by field.

The course's registry ``EVENTS`` (``patterns.factory``) knows ``order`` and
``payment``. This file extends a copy of it, ``events``, with a ``refund``
type, without touching the factory itself. A refund arrives as::

    {"type": "refund",
     "payload": {"refund_id": "rf_1", "txn": "t-9", "amount": "5.00",
                 "currency": "EUR", "reason": "damaged"}}

Write ``RefundEvent.from_payload`` so that ``events.parse(document)`` returns a
``RefundEvent`` with:

* ``refund_id``: field ``refund_id``, a non-empty string;
* ``transaction_id``: field ``txn``, a non-empty string;
* ``amount``: fields ``amount`` and ``currency``, exact positive ``Money``.
  The amount is a string of ASCII digits, with an optional leading ``+`` and
  at most one point that has digits on both sides (``"5.00"`` and ``"5"`` are
  read, ``"5."``, ``".5"`` and ``"1e3"`` are not), at most
  ``patterns.money.MAX_AMOUNT_CHARACTERS`` (40) characters once the whitespace
  around it is stripped (what ``str.strip()`` removes: spaces, tabs, newlines), with no non-zero digit past the currency's decimal places
  (``"5.000"`` is 5.00 EUR, ``"5.001"`` is refused); or a number that is not
  a float (a JSON number is read exactly). Either way, at most
  ``patterns.money.MAX_MINOR_UNITS`` (10**15) minor units.
  ``payload.money`` checks all of this, with a message for each rule;
* ``reason``: field ``reason``, one of ``REFUND_REASONS``;
* ``note``: field ``note``, optional, but REQUIRED when the reason is
  ``"other"`` (someone has to explain it); ``None`` when absent or ``null``.

Every bad payload must raise ``EventError`` naming the field (the ``Payload``
getters do that for you; ``payload.error(name, problem)`` makes one for your
own checks). Nothing else may escape: no ``KeyError``, no ``TypeError``.
The registry refuses a payload holding a field that no getter read, so read
every field, ``note`` included, through a getter: ``text(name)``,
``optional_text(name)``, ``choice(name, options)``, ``money(amount, currency)``.
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
        raise NotImplementedError('ex06: read refund_id, txn, amount, currency, reason and note')
