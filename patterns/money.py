"""Money as integer minor units, parsed strictly at the boundary.

What it is for: every lesson that handles an amount (strategy, factory, the
capstone) counts money as an ``int`` number of the currency's minor units
(cents for EUR, yen for JPY, fils for KWD). Floats cannot hold most decimal
amounts exactly: ``0.1 + 0.2 != 0.3`` and ``int(19.99 * 100) == 1998``.
Payment gateways want integer minor units (or exact decimal strings), so the
domain never holds a float.

The API is deliberately small:

* ``Money(minor, currency)``: an exact amount. ``+``, ``-``, ``* int``,
  comparisons and ``sum(..., Money.zero(currency))`` work within one currency.
* ``Money.parse(value, currency)``: the boundary. Accepts ``str``,
  ``Decimal`` or ``int`` (whole major units); refuses ``float``, NaN,
  infinities, more decimal places than the currency has, absurdly large
  amounts and, unless allowed, zero and negatives.
* ``MoneyError``: the one exception bad amounts raise (a ``ValueError``), with
  a message saying what was wrong and what to send instead.

>>> Money.parse("19.99", "EUR")
Money(minor=1999, currency='EUR')
>>> str(Money(1999, "EUR") * 3)
'59.97 EUR'

When not to use it: for exchange rates, tax rates and other quantities that are
not amounts of money; for multi-currency accounting with conversions, reach for
a dedicated library (``py-moneyed``) rather than growing this one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

__all__ = ["CURRENCIES", "MAX_MINOR_UNITS", "Money", "MoneyError"]

#: Currencies the course knows, with their number of decimal places (ISO 4217).
CURRENCIES: Final[dict[str, int]] = {"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "JPY": 0, "KWD": 3}

#: Larger amounts are refused at the boundary: a typo or an attack, not a price.
MAX_MINOR_UNITS: Final = 10**15

# Plain decimal notation only: no exponents ("1e3"), no separators ("1,000",
# "1_000"), no Unicode digits, which Decimal() would otherwise accept.
_PLAIN_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


class MoneyError(ValueError):
    """An amount or currency that is not valid money; the message says what to send."""


def _places(currency: object) -> int:
    if not isinstance(currency, str) or currency not in CURRENCIES:
        raise MoneyError(
            f"unknown currency {currency!r}: use one of {', '.join(sorted(CURRENCIES))} "
            "(upper-case ISO 4217 code)"
        )
    return CURRENCIES[currency]


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount: ``minor`` units of ``currency`` (1999 EUR cents is 19.99 EUR)."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        _places(self.currency)
        # bool is an int subclass; Money(True, "EUR") is a bug, not one cent.
        if type(self.minor) is not int:
            raise MoneyError(
                f"minor must be an int number of minor units, got {self.minor!r}; "
                "use Money.parse() to read a decimal amount"
            )

    # --- the boundary -------------------------------------------------------

    @classmethod
    def parse(
        cls,
        value: str | Decimal | int,
        currency: str,
        *,
        allow_zero: bool = False,
        allow_negative: bool = False,
    ) -> Money:
        """Read an untrusted amount in major units (``"19.99"``) into exact ``Money``.

        By default the amount must be positive: a charge of zero or of a negative
        amount is meaningless. Pass ``allow_zero`` (a free item, a zero discount)
        or ``allow_negative`` (a balance) where they mean something.
        Raises ``MoneyError`` for anything else.
        """
        places = _places(currency)
        amount = _to_decimal(value)
        if not amount.is_finite():
            raise MoneyError(f"amount must be a finite number, got {value!r}")
        minor = _exact_minor_units(amount, places, value, currency)
        if minor == 0 and not allow_zero:
            raise MoneyError(f"amount must be more than zero, got {value!r}")
        if minor < 0 and not allow_negative:
            raise MoneyError(f"amount must not be negative, got {value!r}")
        return cls(minor, currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """No money, in ``currency``: the start value for ``sum()``."""
        return cls(0, currency)

    # --- reading it back ----------------------------------------------------

    @property
    def amount(self) -> Decimal:
        """The exact amount in major units: ``Decimal("19.99")``."""
        return Decimal(self.minor).scaleb(-CURRENCIES[self.currency])

    def __str__(self) -> str:
        return f"{self.amount:.{CURRENCIES[self.currency]}f} {self.currency}"

    # --- arithmetic within one currency ---------------------------------------

    def _same_currency(self, other: Money, operation: str) -> None:
        if other.currency != self.currency:
            raise MoneyError(
                f"cannot {operation} {other.currency} and {self.currency}: convert explicitly first"
            )

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "add")
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "subtract")
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __mul__(self, quantity: object) -> Money:
        # Only whole quantities: a fraction of a cent needs a rounding rule, see multiply().
        if type(quantity) is not int:
            return NotImplemented
        return Money(self.minor * quantity, self.currency)

    __rmul__ = __mul__

    def multiply(self, factor: Decimal | int, rounding: str = ROUND_HALF_EVEN) -> Money:
        """``self * factor`` rounded to a whole minor unit with ``rounding``
        (a ``decimal`` rounding mode; banker's rounding by default). For rates
        and percentages: ``price.multiply(Decimal("0.19"))``."""
        if isinstance(factor, bool) or not isinstance(factor, int | Decimal):
            raise MoneyError(f"factor must be an int or a Decimal, got {factor!r}")
        if not Decimal(factor).is_finite():
            raise MoneyError(f"factor must be finite, got {factor!r}")
        exact = Decimal(self.minor) * Decimal(factor)
        return Money(int(exact.to_integral_value(rounding=rounding)), self.currency)

    def _minor_of(self, other: Money) -> int:
        self._same_currency(other, "compare")
        return other.minor

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.minor < self._minor_of(other)

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.minor <= self._minor_of(other)

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.minor > self._minor_of(other)

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.minor >= self._minor_of(other)


def _to_decimal(value: object) -> Decimal:
    # bool first: isinstance(True, int) holds, and True is not an amount.
    if isinstance(value, bool):
        raise MoneyError(f"amount must be a decimal string like '19.99', got {value!r}")
    if isinstance(value, float):
        raise MoneyError(
            f"amount {value!r} is a float, which cannot hold most decimal amounts exactly; "
            "send a string like '19.99' or a Decimal"
        )
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 40 or not _PLAIN_DECIMAL.fullmatch(text):
            raise MoneyError(
                f"amount {value[:50]!r} is not a plain decimal number; "
                "send digits with an optional point, like '19.99'"
            )
        return Decimal(text)
    raise MoneyError(
        f"amount must be a decimal string like '19.99', got {type(value).__name__} {value!r:.50}"
    )


def _exact_minor_units(amount: Decimal, places: int, original: object, currency: str) -> int:
    """The amount in minor units, computed with integers only.

    ``Decimal.scaleb`` would round to the context's 28 digits and could turn
    ``1.000...0001`` into a whole number of cents; integer arithmetic cannot.
    """
    sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # finite, checked by the caller
    if not any(digits):
        return 0
    if amount.adjusted() >= 16:  # more than a quadrillion major units: refuse early
        raise MoneyError(f"amount {original!r:.50} is too large")
    coefficient = int("".join(map(str, digits)))
    shift = exponent + places
    if shift >= 0:
        multiplier: int = 10**shift
        minor = coefficient * multiplier
    else:
        # More places than digits means a non-zero digit sits past the minor unit.
        divisor: int = 10 ** min(-shift, len(digits) + 1)
        remainder = 1 if -shift > len(digits) else coefficient % divisor
        if remainder:
            raise MoneyError(
                f"amount {original!r:.50} has more decimal places than {currency} "
                f"allows ({places}); round it before sending"
            )
        minor = coefficient // divisor
    if minor > MAX_MINOR_UNITS:
        raise MoneyError(f"amount {original!r:.50} is too large")
    return -minor if sign else minor
