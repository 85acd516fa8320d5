"""Money's promise, checked against rational arithmetic: exact, or a ``MoneyError``.

Every operation is compared with ``fractions.Fraction`` (exact rationals) and an
independent implementation of the rounding modes; every result stays within
``MAX_MINOR_UNITS``. Budgets: ``tests/property_budget.py``.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable
from decimal import (
    ROUND_05UP,
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
)
from fractions import Fraction

from hypothesis import example, given
from hypothesis import strategies as st

from patterns.money import CURRENCIES, MAX_MINOR_UNITS, Money, MoneyError
from tests.hostile_input import any_text, decimals, long_text
from tests.hostile_input import huge_ints as hostile_huge_ints
from tests.property_budget import budget

ROUNDINGS = [
    ROUND_05UP,
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
]
#: Exponents past this are too far out for the Fraction oracle to expand (10**10**18).
OUT_OF_REACH = 400


def round_exactly(value: Fraction, rounding: str) -> int:
    """The rounding modes of ``decimal``, written again on exact rationals: the oracle."""
    floor = math.floor(value)
    if value == floor:
        return floor
    toward_zero, away = (floor, floor + 1) if value > 0 else (floor + 1, floor)
    distance = abs(value - toward_zero)  # from the truncated value, strictly between 0 and 1
    half = Fraction(1, 2)
    if rounding == ROUND_DOWN:
        return toward_zero
    if rounding == ROUND_UP:
        return away
    if rounding == ROUND_FLOOR:
        return floor
    if rounding == ROUND_CEILING:
        return floor + 1
    if rounding == ROUND_HALF_UP:
        return away if distance >= half else toward_zero
    if rounding == ROUND_HALF_DOWN:
        return away if distance > half else toward_zero
    if rounding == ROUND_HALF_EVEN:
        if distance == half:
            return toward_zero if toward_zero % 2 == 0 else away
        return away if distance > half else toward_zero
    assert rounding == ROUND_05UP
    return away if toward_zero % 10 in (0, 5) else toward_zero


def as_fraction(value: Decimal | int) -> Fraction | None:
    """Exact; None for a value too large to expand (10**10**18); a tiny stand-in of the same
    sign for one too small to expand, which every rounding mode treats alike."""
    if isinstance(value, int):
        return Fraction(value)
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    if abs(exponent) > OUT_OF_REACH and any(digits):
        if exponent > 0:
            return None
        return Fraction(-1 if value < 0 else 1, 10 ** (OUT_OF_REACH // 2))
    return Fraction(value)


currencies = st.sampled_from(sorted(CURRENCIES))
minor_units = st.integers(-MAX_MINOR_UNITS, MAX_MINOR_UNITS) | st.sampled_from(
    [0, 1, -1, 5, MAX_MINOR_UNITS, -MAX_MINOR_UNITS, MAX_MINOR_UNITS - 1]
)
huge_ints = st.integers(10**20, 10**30) | hostile_huge_ints


@budget(ci=400, long=10_000)
@given(
    minor_units,
    currencies,
    decimals | st.integers(-(10**6), 10**6) | huge_ints,
    st.sampled_from(ROUNDINGS),
)
@example(1, "EUR", Decimal("0.99999999999999999999999999999"), ROUND_DOWN)  # issue 14: gave 1
@example(5, "EUR", Decimal("0.5000000000000000000000000001"), ROUND_HALF_EVEN)  # gave 2
@example(1, "EUR", Decimal("1E+999999999999999999"), ROUND_HALF_EVEN)  # decimal.Overflow
@example(-1, "EUR", Decimal("1E-999999999999999999"), ROUND_FLOOR)
def test_multiply_is_the_exact_product_rounded_once(
    minor: int, currency: str, factor: Decimal | int, rounding: str
) -> None:
    factor_exactly = as_fraction(factor)
    # None: the factor alone is past any limit, so only a zero amount can survive it.
    expected = None if factor_exactly is None else round_exactly(minor * factor_exactly, rounding)
    if factor_exactly is None and minor == 0:
        expected = 0
    try:
        got = Money(minor, currency).multiply(factor, rounding)
    except MoneyError:
        assert expected is None or abs(expected) > MAX_MINOR_UNITS, (
            f"{minor} * {factor} ({rounding}) raised although {expected} is within the limit"
        )
        return
    assert expected is not None and got == Money(expected, currency), (
        f"Money({minor}).multiply({factor}, {rounding}) gave {got.minor}, exact is {expected}"
    )


@budget(ci=300, long=7_500)
@given(minor_units, minor_units, currencies, st.integers() | huge_ints)
def test_add_subtract_negate_and_times_int_are_exact_within_the_limit(
    left: int, right: int, currency: str, quantity: int
) -> None:
    a, b = Money(left, currency), Money(right, currency)
    expectations: list[tuple[Callable[[], Money], int]] = [
        (lambda: a + b, left + right),
        (lambda: a - b, left - right),
        (lambda: -a, -left),
        (lambda: a * quantity, left * quantity),
        (lambda: quantity * a, left * quantity),
    ]
    for operation, exact in expectations:
        if abs(exact) > MAX_MINOR_UNITS:
            try:
                result = operation()
            except MoneyError:
                continue
            raise AssertionError(f"{result!r} is past MAX_MINOR_UNITS; expected MoneyError")
        assert operation() == Money(exact, currency)


@budget(ci=200, long=5_000)
@given(st.lists(minor_units, max_size=30), currencies)
def test_a_sum_is_exact_or_refused_never_rounded(minors: list[int], currency: str) -> None:
    running = 0
    total = Money.zero(currency)
    for minor in minors:
        running += minor
        if abs(running) > MAX_MINOR_UNITS:
            try:
                total = total + Money(minor, currency)
            except MoneyError:
                return
            raise AssertionError(f"a running total of {running} minor units was not refused")
        total = total + Money(minor, currency)
    assert total.minor == running


@budget(ci=300, long=7_500)
@given(minor_units, currencies, st.integers(1, 28))
@example(MAX_MINOR_UNITS, "EUR", 3)
def test_amount_and_str_are_exact_whatever_the_decimal_context(
    minor: int, currency: str, precision: int
) -> None:
    money = Money(minor, currency)
    places = CURRENCIES[currency]
    # A notebook may lower the global precision; amount and str() must not care.
    with decimal.localcontext() as context:
        context.prec = precision
        amount, text = money.amount, str(money)
    assert Fraction(amount) == Fraction(minor, 10**places), f"{money!r}.amount is {amount}"
    number, code = text.split(" ")
    assert code == currency
    assert Fraction(Decimal(number)) == Fraction(minor, 10**places), f"str({money!r}) is {text!r}"
    assert len(number.partition(".")[2]) == places, f"str({money!r}) shows {text!r}"


def expected_minor(value: Decimal, currency: str) -> int | None:
    """What parse must give for a finite Decimal: the exact minor units, or None (refused)."""
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    if not any(digits):
        return 0
    if abs(exponent) > OUT_OF_REACH:
        return None  # 10**-huge has too many places, 10**huge is too large
    minor = Fraction(value) * 10 ** CURRENCIES[currency]
    if minor.denominator != 1 or abs(minor) > MAX_MINOR_UNITS:
        return None
    return int(minor)


@budget(ci=400, long=10_000)
@given(decimals, currencies)
@example(Decimal("0.1" + "0" * 5_000 + "1"), "EUR")  # int() of 5,002 digits: bare ValueError
@example(Decimal("1E+999999999999999999"), "EUR")
def test_parse_of_a_decimal_is_exact_or_money_error(value: Decimal, currency: str) -> None:
    expected = expected_minor(value, currency)
    try:
        got = Money.parse(value, currency, allow_zero=True, allow_negative=True)
    except MoneyError:
        assert expected is None, f"parse({value!r}) refused an amount worth {expected} minor units"
        return
    assert got.minor == expected, f"parse({value!r}, {currency!r}) gave {got!r}"


@budget(ci=400, long=10_000)
@given(
    st.one_of(
        any_text,  # all of Unicode, NUL and lone surrogates included
        st.text(alphabet="0123456789.-+e ", max_size=45),
        st.from_regex(r"[+-]?[0-9]{1,20}(\.[0-9]{1,20})?", fullmatch=True),
        long_text,
        st.integers(0, 9).map(lambda digit: str(digit) * 10_000),
        st.integers() | huge_ints,
        st.floats(),
        st.decimals(),
        st.none(),
        st.booleans(),
        st.binary(max_size=20),
    ),
    currencies,
)
@example(10**5000, "EUR")  # the message itself used to raise ValueError
@example("١٢", "EUR")
def test_parse_of_anything_is_exact_or_money_error(value: object, currency: str) -> None:
    try:
        got = Money.parse(value, currency, allow_zero=True, allow_negative=True)  # type: ignore[arg-type]
    except MoneyError as error:
        assert str(error), "a MoneyError must say what was wrong"
        return
    assert abs(got.minor) <= MAX_MINOR_UNITS
    assert not isinstance(value, float | bool | bytes) and value is not None
    exact = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)  # type: ignore[arg-type]
    assert got.minor == expected_minor(exact, currency), f"parse({value!r:.80}) gave {got!r}"
