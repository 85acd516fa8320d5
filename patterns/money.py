"""Money as integer minor units, parsed strictly at the boundary.

What it is for: every lesson that handles an amount (strategy, factory, the
capstone) counts money as an ``int`` number of the currency's minor units
(cents for EUR, yen for JPY, fils for KWD). Floats cannot hold most decimal
amounts exactly: ``0.1 + 0.2 != 0.3`` and ``int(19.99 * 100) == 1998``.
Payment gateways want integer minor units (or exact decimal strings), so the
domain never holds a float.

The API is deliberately small:

* ``Money(minor, currency)``: an exact amount, at most ``MAX_MINOR_UNITS``
  either side of zero. ``+``, ``-``, ``* int``, ``multiply(rate)``,
  comparisons and ``sum(..., Money.zero(currency))`` work within one currency;
  each result is exact (or rounded once, by the rule you name, for
  ``multiply``) and a result past the limit raises ``MoneyError``.
* ``Money.parse(value, currency)``: the boundary. Accepts ``str``,
  ``Decimal`` or ``int`` (whole major units); refuses ``float``, NaN,
  infinities, a non-zero digit past the currency's decimal places (zeros
  there are dropped: ``"5.000"`` is 5.00 EUR), absurdly large amounts,
  strings longer than ``MAX_AMOUNT_CHARACTERS`` and, unless allowed, zero
  and negatives.
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

import decimal
import re
from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, ROUND_HALF_EVEN, Context, Decimal, Inexact
from typing import Final

__all__ = ["CURRENCIES", "MAX_AMOUNT_CHARACTERS", "MAX_MINOR_UNITS", "Money", "MoneyError"]

#: Currencies the course knows, with their number of decimal places (ISO 4217).
CURRENCIES: Final[dict[str, int]] = {"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "JPY": 0, "KWD": 3}

#: Larger amounts are refused at the boundary (a typo or an attack, not a
#: price), and no sum or product may leave the range either.
MAX_MINOR_UNITS: Final = 10**15

# Plain decimal notation only: ASCII digits, an optional sign, and an optional
# point with digits on both sides ("5." and ".5" are refused). No exponents
# ("1e3"), no separators ("1,000", "1_000"), no Unicode digits, all of which
# Decimal() would otherwise accept.
_PLAIN_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")

#: The longest amount string read (whitespace around it, as ``str.strip()``
#: removes it, not counted). The largest
#: amount allowed has 16 digits before the point, so 40 leaves room for a sign
#: and zeros; past it the text is refused before Decimal() works on it.
MAX_AMOUNT_CHARACTERS: Final = 40


class MoneyError(ValueError):
    """An amount or currency that is not valid money; the message says what to send."""


_ROUNDINGS: Final = frozenset(
    getattr(decimal, name) for name in dir(decimal) if name.startswith("ROUND_")
)
_DIGITS_PER_BIT: Final = 0.30103  # log10(2)


def _shown(value: object, width: int = 50) -> str:
    """``repr(value)`` cut to ``width`` characters, safe for any input.

    ``repr`` of an int with more than 4,300 digits raises ``ValueError``
    (CPython's guard against slow conversions), so an error message must not
    call it blindly, or building the message becomes the error.
    """
    if isinstance(value, int) and value.bit_length() > 128:
        return f"an integer of about {int(value.bit_length() * _DIGITS_PER_BIT) + 1} digits"
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _places(currency: object) -> int:
    if not isinstance(currency, str) or currency not in CURRENCIES:
        raise MoneyError(
            f"unknown currency {_shown(currency)}: use one of {', '.join(sorted(CURRENCIES))} "
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
                f"minor must be an int number of minor units, got {_shown(self.minor)}; "
                "use Money.parse() to read a decimal amount"
            )
        if abs(self.minor) > MAX_MINOR_UNITS:
            # Also the guard for results: a sum or product past the limit is refused,
            # never silently rounded.
            raise MoneyError(
                f"{_shown(self.minor)} minor units of {self.currency} is beyond the limit of "
                f"{MAX_MINOR_UNITS:,} either side of zero; an amount that large is a mistake"
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
        or ``allow_negative`` where they mean something. The two are independent:
        ``allow_negative`` alone still refuses zero, so a balance needs both.
        Raises ``MoneyError`` for anything else.
        """
        places = _places(currency)
        amount = _to_decimal(value)
        if not amount.is_finite():
            raise MoneyError(f"amount must be a finite number, got {_shown(value)}")
        minor = _exact_minor_units(amount, places, value, currency)
        if minor == 0 and not allow_zero:
            raise MoneyError(f"amount must be more than zero, got {_shown(value)}")
        if minor < 0 and not allow_negative:
            raise MoneyError(f"amount must not be negative, got {_shown(value)}")
        return cls(minor, currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """No money, in ``currency``: the start value for ``sum()``."""
        return cls(0, currency)

    # --- reading it back ----------------------------------------------------

    @property
    def amount(self) -> Decimal:
        """The exact amount in major units: ``Decimal("19.99")``."""
        # Built from digits, not with scaleb(), which rounds to the current decimal
        # context (28 digits by default, fewer if someone lowered it).
        sign, digits = int(self.minor < 0), tuple(map(int, str(abs(self.minor))))
        return Decimal((sign, digits, -CURRENCIES[self.currency]))

    def __str__(self) -> str:
        places = CURRENCIES[self.currency]
        whole, part = divmod(abs(self.minor), 10**places)
        sign = "-" if self.minor < 0 else ""
        fraction = f".{part:0{places}d}" if places else ""
        return f"{sign}{whole}{fraction} {self.currency}"

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
        """``self * factor`` rounded once, to a whole minor unit, with ``rounding``
        (a ``decimal`` rounding mode; banker's rounding by default). For rates
        and percentages: ``price.multiply(Decimal("0.19"))``.

        The product is computed exactly first, whatever the decimal context
        says (its default 28 digits would round before ``rounding`` is applied,
        so 1 cent times 0.999...9 rounded down would give 1, not 0). A result
        past ``MAX_MINOR_UNITS`` raises ``MoneyError``.
        """
        if isinstance(factor, bool) or not isinstance(factor, int | Decimal):
            raise MoneyError(f"factor must be an int or a Decimal, got {_shown(factor)}")
        if rounding not in _ROUNDINGS:
            raise MoneyError(
                f"rounding must be one of decimal's modes ({', '.join(sorted(_ROUNDINGS))}), "
                f"got {_shown(rounding)}"
            )
        exact_factor = Decimal(factor)
        if not exact_factor.is_finite():
            raise MoneyError(f"factor must be finite, got {_shown(factor)}")
        if not self.minor or not exact_factor:
            return Money(0, self.currency)
        # Each factor is at least 10**adjusted(), so past this the product is too
        # large to hold; checking first also keeps 1E+999999999 from being expanded.
        minor = Decimal(self.minor)
        if minor.adjusted() + exact_factor.adjusted() > len(str(MAX_MINOR_UNITS)):
            raise MoneyError(
                f"{self} multiplied by {_shown(factor)} is beyond the limit of "
                f"{MAX_MINOR_UNITS:,} minor units"
            )
        # Enough digits for an exact product (n digits times m digits has at most
        # n + m), and the widest exponent range; Inexact trapped as a safety net.
        digits = len(minor.as_tuple().digits) + len(exact_factor.as_tuple().digits)
        exact = Context(prec=digits, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[Inexact])
        product = exact.multiply(minor, exact_factor)
        return Money(int(product.to_integral_value(rounding, exact)), self.currency)

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
        return Decimal(value)  # exact, whatever its length (no str() conversion)
    if isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_AMOUNT_CHARACTERS:
            raise MoneyError(
                f"amount {text[:20]!r}... is {len(text)} characters long, over the limit of "
                f"{MAX_AMOUNT_CHARACTERS} characters; send it without padding, like '19.99'"
            )
        if not _PLAIN_DECIMAL.fullmatch(text):
            raise MoneyError(
                f"amount {_shown(value)} is not a plain decimal number; send ASCII digits, "
                "with an optional sign and an optional point that has digits on both sides, "
                "like '19.99' or '20'"
            )
        return Decimal(text)
    raise MoneyError(
        f"amount must be a decimal string like '19.99', got {type(value).__name__} {_shown(value)}"
    )


def _too_large(original: object) -> str:
    return (
        f"amount is too large: {_shown(original)}; the limit is "
        f"{MAX_MINOR_UNITS:,} minor units (a typo or an attack, not a price)"
    )


def _exact_minor_units(amount: Decimal, places: int, original: object, currency: str) -> int:
    """The amount in minor units, computed from its digits, with integers only.

    ``Decimal.scaleb`` would round to the context's 28 digits and could turn
    ``1.000...0001`` into a whole number of cents; integer arithmetic cannot.
    The digits past the minor unit are only looked at, never turned into an
    int: ``int()`` refuses strings of more than 4,300 digits.
    """
    sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # finite, checked by the caller
    if not any(digits):
        return 0
    if amount.adjusted() >= 16:  # more than a quadrillion major units: refuse early
        raise MoneyError(_too_large(original))
    shift = exponent + places  # where the last digit sits, counted in minor units
    if shift < 0:
        kept, past_the_minor_unit = digits[:shift], digits[shift:]
        if any(past_the_minor_unit):
            raise MoneyError(
                # "needs": zeros past the minor unit are dropped, only a digit that
                # is not zero needs the place ("5.000" is 5.00 EUR, "5.001" is this).
                f"amount {_shown(original)} needs more decimal places than {currency} "
                f"has ({places}); round it before sending"
            )
        digits, shift = kept, 0
    # At most 16 + places digits are left (adjusted() < 16): a short conversion.
    minor: int = int("".join(map(str, digits)) or "0") * 10**shift
    if minor > MAX_MINOR_UNITS:
        raise MoneyError(_too_large(original))
    return -minor if sign else minor
