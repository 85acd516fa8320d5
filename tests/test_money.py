"""Money: exact integer minor units, and a strict boundary."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patterns.money import MAX_MINOR_UNITS, Money, MoneyError


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [
        ("19.99", "EUR", 1999),
        ("0.01", "EUR", 1),
        ("  7.5 ", "USD", 750),
        (Decimal("12.500"), "EUR", 1250),  # trailing zeros are not extra precision
        (12, "EUR", 1200),  # an int is whole major units
        ("1200", "JPY", 1200),
        ("1.234", "KWD", 1234),
        ("0" * 36 + "5.00", "EUR", 500),  # 40 characters, the longest read
    ],
)
def test_parse_reads_major_units_into_exact_minor_units(
    value: str | Decimal | int, currency: str, minor: int
) -> None:
    assert Money.parse(value, currency) == Money(minor, currency)


@pytest.mark.parametrize(
    ("value", "currency", "problem"),
    [
        (0.1, "EUR", "is a float"),
        ("NaN", "EUR", "not a plain decimal"),
        (Decimal("NaN"), "EUR", "finite"),
        (Decimal("sNaN"), "EUR", "finite"),
        (Decimal("-Infinity"), "EUR", "finite"),
        ("1e3", "EUR", "not a plain decimal"),
        ("1,000", "EUR", "not a plain decimal"),
        ("1_000", "EUR", "not a plain decimal"),
        ("١٢", "EUR", "not a plain decimal"),
        ("", "EUR", "not a plain decimal"),
        ("5.", "EUR", "digits on both sides"),
        (".5", "EUR", "digits on both sides"),
        ("0" * 38 + "5.00", "EUR", "42 characters long, over the limit of 40 characters"),
        ("0", "EUR", "more than zero"),
        ("-0.00", "EUR", "more than zero"),
        ("-5", "EUR", "negative"),
        ("1.001", "EUR", "more decimal places than EUR has (2)"),
        ("12.5", "JPY", "more decimal places than JPY has (0)"),
        # 31 significant digits: Decimal.scaleb would round this to a whole cent.
        (Decimal("1.000000000000000000000000000001"), "EUR", "more decimal places"),
        (Decimal("1E-999999999"), "EUR", "more decimal places"),
        (Decimal("1E+999999"), "EUR", "too large"),
        ("99999999999999999", "EUR", "too large"),
        (True, "EUR", "decimal string"),
        (None, "EUR", "decimal string"),
        ("10", "eur", "unknown currency 'eur'"),
        ("10", "XYZ", "unknown currency"),
    ],
)
def test_parse_refuses_bad_amounts_with_a_message_saying_what_is_wrong(
    value: object, currency: str, problem: str
) -> None:
    with pytest.raises(MoneyError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        Money.parse(value, currency)  # type: ignore[arg-type]


def test_money_error_is_a_value_error() -> None:
    assert issubclass(MoneyError, ValueError)


def test_zero_and_negative_are_accepted_only_when_asked_for() -> None:
    assert Money.parse("0", "EUR", allow_zero=True) == Money.zero("EUR")
    assert Money.parse("-2.50", "EUR", allow_negative=True) == Money(-250, "EUR")
    with pytest.raises(MoneyError, match="more than zero"):
        Money.parse("0", "EUR", allow_negative=True)


@pytest.mark.parametrize("minor", [1.5, True, "100", None])
def test_constructor_refuses_anything_but_an_int(minor: object) -> None:
    with pytest.raises(MoneyError, match="int number of minor units"):
        Money(minor, "EUR")  # type: ignore[arg-type]


def test_arithmetic_is_exact_where_floats_drift() -> None:
    assert sum([0.1] * 10) != 1.0  # the float problem this module exists for
    dime = Money.parse("0.10", "EUR")
    assert sum([dime] * 10, Money.zero("EUR")) == Money.parse("1.00", "EUR")
    assert Money(1999, "EUR") * 3 == 3 * Money(1999, "EUR") == Money(5997, "EUR")
    assert Money(500, "EUR") - Money(750, "EUR") == -Money(250, "EUR")


def test_mixing_currencies_is_refused() -> None:
    with pytest.raises(MoneyError, match="cannot add USD and EUR"):
        Money(1, "EUR") + Money(1, "USD")
    with pytest.raises(MoneyError, match="cannot compare"):
        assert Money(1, "EUR") < Money(2, "USD")


def test_multiply_rounds_to_a_whole_minor_unit_with_the_given_rule() -> None:
    price = Money(1999, "EUR")
    assert price.multiply(Decimal("0.1")) == Money(200, "EUR")  # 199.9 cents
    assert Money(25, "EUR").multiply(Decimal("0.1")) == Money(2, "EUR")  # 2.5: half to even
    assert Money(25, "EUR").multiply(Decimal("0.1"), ROUND_HALF_UP) == Money(3, "EUR")
    with pytest.raises(MoneyError, match="int or a Decimal"):
        price.multiply(0.1)  # type: ignore[arg-type]


def test_str_and_amount_show_the_currency_places() -> None:
    assert str(Money(5, "EUR")) == "0.05 EUR"
    assert str(Money(-1234, "KWD")) == "-1.234 KWD"
    assert str(Money(1200, "JPY")) == "1200 JPY"
    assert Money(1999, "EUR").amount == Decimal("19.99")


@settings(max_examples=100, deadline=None, database=None)
@given(
    st.integers(min_value=1, max_value=MAX_MINOR_UNITS),
    st.sampled_from(["EUR", "JPY", "KWD"]),
)
def test_any_valid_amount_round_trips_through_its_text(minor: int, currency: str) -> None:
    money = Money(minor, currency)
    assert Money.parse(str(money.amount), currency) == money
    assert Money.parse(money.amount, currency) == money


@settings(max_examples=150, deadline=None, database=None)
@given(
    st.one_of(
        st.text(max_size=30),
        st.decimals(allow_nan=True, allow_infinity=True),
        st.floats(),
        st.integers(),
        st.none(),
        st.booleans(),
    )
)
def test_parse_raises_only_money_error(value: object) -> None:
    try:
        money = Money.parse(value, "EUR", allow_zero=True, allow_negative=True)  # type: ignore[arg-type]
    except MoneyError:
        return
    assert abs(money.minor) <= MAX_MINOR_UNITS


# --- issue 14: each example found by fuzzing, kept as a regression test ------------------


@pytest.mark.parametrize(
    ("minor", "factor", "rounding", "expected"),
    [
        # The default context rounded the product to 28 digits before rounding down.
        (1, Decimal("0.99999999999999999999999999999"), ROUND_DOWN, 0),
        # ...and turned an exact 2.5000...0005 into a tie, rounded to even.
        (5, Decimal("0.5000000000000000000000000001"), ROUND_HALF_EVEN, 3),
        (-1, Decimal("1E-999999999999999999"), ROUND_FLOOR, -1),
    ],
)
def test_multiply_rounds_the_exact_product_once(
    minor: int, factor: Decimal, rounding: str, expected: int
) -> None:
    assert Money(minor, "EUR").multiply(factor, rounding) == Money(expected, "EUR")


@pytest.mark.parametrize(
    ("action", "problem"),
    [
        (lambda: Money(1, "EUR").multiply(Decimal("1E+999999999999999999")), "beyond the limit"),
        (lambda: Money(1, "EUR").multiply(10**5000), "integer of about 5001 digits"),
        (lambda: Money(MAX_MINOR_UNITS, "EUR") + Money(1, "EUR"), "beyond the limit"),
        (lambda: Money(MAX_MINOR_UNITS, "EUR") * 2, "beyond the limit"),
        (lambda: Money(-MAX_MINOR_UNITS, "EUR") - Money(1, "EUR"), "beyond the limit"),
        (lambda: Money(10**30, "EUR"), "beyond the limit"),
        (lambda: Money(1, "EUR").multiply(Decimal(2), "ROUND_SIDEWAYS"), "rounding must be one of"),
        (lambda: Money.parse(10**5000, "EUR"), "integer of about 5001 digits"),
        (lambda: Money.parse(Decimal("0.1" + "0" * 5_000 + "1"), "EUR"), "more decimal places"),
    ],
)
def test_results_past_the_limit_and_huge_inputs_raise_money_error(
    action: Callable[[], object], problem: str
) -> None:
    with pytest.raises(MoneyError, match=problem):
        action()


def test_amount_and_str_stay_exact_when_the_decimal_context_is_lowered() -> None:
    money = Money(MAX_MINOR_UNITS - 1, "EUR")
    with localcontext() as context:
        context.prec = 3  # scaleb() rounded to this: 1.00E+13
        assert money.amount == Decimal("9999999999999.99")
        assert str(money) == "9999999999999.99 EUR"
