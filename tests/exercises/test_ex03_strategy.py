"""Grader for ex03: discount rules as strategies that plug into Checkout.

Each rule is compared with the spec written as code (``spec_*`` below, integer
cents only) on carts that Hypothesis generates: several lines of the same sku,
empty carts, other currencies (JPY has no decimals, KWD three), thresholds at
and around the subtotal. The fixed examples are the ones the exercise tells.
``best_of`` is graded with rules the grader writes, so a bug in your other two
rules is never blamed on it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import ModuleType

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from patterns.course.grading import call_repr, grading_settings, load_graded
from patterns.money import CURRENCIES, Money, MoneyError
from patterns.strategy import Cart, Checkout, FakeStripe, LineItem

#: Fast and repeatable: the same examples on every run, a bounded number of them.
GRADING = grading_settings(12)
SKUS = ("tea", "cake", "jam")


@pytest.fixture(scope="module")
def ex03() -> ModuleType:
    return load_graded("ex03")


def eur(text: str) -> Money:
    return Money.parse(text, "EUR", allow_zero=True)


def cart(*lines: tuple[str, str, int]) -> Cart:
    """cart(("tea", "3.20", 2)) is two teas at 3.20 EUR."""
    return Cart("EUR", tuple(LineItem(sku, eur(price), qty) for sku, price, qty in lines))


def describe(c: Cart) -> str:
    """'a cart of 2 x tea at 3.20 EUR, 1 x jam at 0.20 EUR (subtotal 6.60 EUR)', summarised."""
    if not c.items:
        return f"an empty {c.currency} cart"
    shown = [f"{i.quantity} x {i.sku} at {i.unit_price}" for i in c.items[:5]]
    if len(c.items) > 5:
        shown.append(f"{len(c.items) - 5} more lines")
    return f"a cart of {', '.join(shown)} (subtotal {c.subtotal})"


def discount_of(rule: object, c: Cart, made_by: str) -> Money:
    assert callable(rule), (
        f"{made_by} should return a function (cart) -> Money, but returned {rule!r}"
    )
    try:
        result = rule(c)
    except Exception as error:
        pytest.fail(
            f"{made_by}, called on {describe(c)}, raised {type(error).__name__}: {error}",
            pytrace=False,
        )
    assert isinstance(result, Money), (
        f"{made_by}, called on {describe(c)}, returned {result!r}; a discount rule must "
        f"return Money (integer minor units), e.g. Money(150, {c.currency!r})"
    )
    assert result.currency == c.currency, (
        f"{made_by}, called on {describe(c)}, returned {result}: a discount is in the "
        f"cart's currency ({c.currency}), use cart.currency"
    )
    return result


# --- the spec, written as code -----------------------------------------------------------


def spec_percent_off_over(c: Cart, threshold: Money, percent: int) -> Money:
    subtotal = sum(item.unit_price.minor * item.quantity for item in c.items)
    off = subtotal * percent // 100 if subtotal >= threshold.minor else 0
    return Money(off, c.currency)


def spec_buy_n_get_one_free(c: Cart, sku: str, n: int) -> Money:
    units = sum(item.quantity for item in c.items if item.sku == sku)
    prices = [item.unit_price.minor for item in c.items if item.sku == sku]
    return Money(units // (n + 1) * (prices[0] if prices else 0), c.currency)


@st.composite
def carts(draw: st.DrawFn) -> Cart:
    """A cart in one currency; a sku has one price, and may be on several lines."""
    currency = draw(st.sampled_from(sorted(CURRENCIES)))
    price = {sku: draw(st.integers(0, 5_000)) for sku in SKUS}
    lines = draw(st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 12)), max_size=6))
    # "".join makes a new string object: the sku is compared by value (==), not identity (is).
    return Cart(
        currency,
        tuple(LineItem("".join(sku), Money(price[sku], currency), q) for sku, q in lines),
    )


@st.composite
def carts_and_thresholds(draw: st.DrawFn) -> tuple[Cart, Money]:
    """A cart, and a threshold at, just below or just above its subtotal, zero, or anywhere."""
    c = draw(carts())
    subtotal = c.subtotal.minor
    near = [subtotal, subtotal + 1, max(subtotal - 1, 0), 0]
    minor = draw(st.one_of(st.sampled_from(near), st.integers(0, 100_000)))
    return c, Money(minor, c.currency)


# --- percent_off_over ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subtotal", "expected"),
    [("49.99", "0.00"), ("50.00", "7.50"), ("50.99", "7.64"), ("133.33", "19.99")],
)
@pytest.mark.hints(
    "The threshold is included: `if cart.subtotal < threshold: return Money.zero(cart.currency)`.",
    "Round down in integer cents: `cart.subtotal.minor * percent // 100`, never through a float.",
)
def test_percent_off_over_applies_from_the_threshold_rounding_down(
    ex03: ModuleType, subtotal: str, expected: str
) -> None:
    """percent_off_over(50.00 EUR, 15) takes 15 % off from 50.00 EUR up, rounded down."""
    made_by = "percent_off_over(Money(5000, 'EUR'), 15)"
    rule = ex03.percent_off_over(eur("50.00"), 15)
    c = cart(("box", subtotal, 1))
    got = discount_of(rule, c, made_by)
    assert got == eur(expected), (
        f"{made_by}, called on {describe(c)}, returned {got}; expected {expected} EUR "
        "(15 % of the subtotal, rounded down to the cent, and nothing below the threshold)"
    )


@GRADING
@given(
    case=carts_and_thresholds(),
    percent=st.sampled_from([0, 1, 10, 15, 33, 50, 99, 100]) | st.integers(0, 100),
)
@example(case=(cart(("box", "0.58", 1)), eur("0.00")), percent=50)
@example(case=(cart(*[(f"item{i}", "0.10", 1) for i in range(10)]), eur("1.00")), percent=10)
@pytest.mark.hints(
    "Money is integer minor units: `Money(cart.subtotal.minor * percent // 100, cart.currency)` "
    "is exact; going through floats in major units is not: for 50 % of 0.58 EUR, "
    "`int(float(cart.subtotal.amount) * percent / 100 * 100)` gives 28 cents, not 29.",
)
def test_percent_off_over_is_exact_on_any_cart(
    ex03: ModuleType, case: tuple[Cart, Money], percent: int
) -> None:
    """percent_off_over gives exactly percent % of the subtotal, rounded down, on any cart and currency."""
    c, threshold = case
    made_by = f"percent_off_over({threshold}, {percent})"
    got = discount_of(ex03.percent_off_over(threshold, percent), c, made_by)
    expected = spec_percent_off_over(c, threshold, percent)
    why = (
        f"the subtotal reaches the threshold; {percent} % of {c.subtotal.minor} minor units, "
        "rounded down"
        if c.subtotal >= threshold
        else "the subtotal is below the threshold, so nothing off"
    )
    assert got == expected, (
        f"{made_by}, called on {describe(c)}, returned {got}; expected {expected} ({why})"
    )


@pytest.mark.hints(
    "Compare Money with Money: `cart.subtotal < threshold` raises MoneyError by itself when "
    "the currencies differ; comparing `.minor` numbers compares cents of two currencies.",
)
def test_percent_off_over_refuses_a_cart_in_another_currency(ex03: ModuleType) -> None:
    """percent_off_over(50.00 EUR, 10) raises MoneyError on a USD cart: cents of two currencies do not compare."""
    made_by = "percent_off_over(Money(5000, 'EUR'), 10)"
    rule = ex03.percent_off_over(eur("50.00"), 10)
    c = Cart("USD", (LineItem("mug", Money(6000, "USD")),))
    try:
        got = rule(c)
    except MoneyError:
        return
    except Exception as error:
        pytest.fail(
            f"{made_by}, called on {describe(c)}, raised {type(error).__name__}: {error}; "
            "expected MoneyError, which comparing the subtotal with the threshold raises",
            pytrace=False,
        )
    pytest.fail(
        f"{made_by}, called on {describe(c)}, returned {got!r}; a EUR threshold cannot be "
        "compared with a USD subtotal: compare the two Money (cart.subtotal < threshold) and "
        "let its MoneyError through",
        pytrace=False,
    )


# --- buy_n_get_one_free --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("teas", "expected"),
    [(1, "0.00"), (2, "0.00"), (3, "3.20"), (5, "3.20"), (6, "6.40"), (7, "6.40")],
)
def test_buy_two_get_one_free_counts_whole_groups_of_three(
    ex03: ModuleType, teas: int, expected: str
) -> None:
    """buy_n_get_one_free('tea', 2) makes one tea in every three free; other items don't count."""
    made_by = "buy_n_get_one_free('tea', 2)"
    rule = ex03.buy_n_get_one_free("tea", 2)
    c = cart(("tea", "3.20", teas), ("cake", "4.50", 3))
    got = discount_of(rule, c, made_by)
    assert got == eur(expected), (
        f"{made_by}, called on {describe(c)}, returned {got}; expected {expected} EUR "
        "(one 3.20 tea free per full group of three teas; cakes do not count)"
    )


@GRADING
@given(c=carts(), sku=st.sampled_from([*SKUS, "absent"]), n=st.integers(1, 4))
@example(c=cart(("tea", "3.20", 2), ("cake", "4.50", 1), ("tea", "3.20", 1)), sku="tea", n=2)
@example(c=cart(("tea", "3.20", 1), ("tea", "3.20", 1)), sku="tea", n=1)
@example(c=cart(("cake", "1.00", 1), ("tea", "3.20", 3)), sku="tea", n=2)
@pytest.mark.hints(
    "A sku can be on several lines of the cart: count them all with `cart.quantity_of(sku)`.",
)
def test_buy_n_get_one_free_counts_every_line_of_the_sku(
    ex03: ModuleType, c: Cart, sku: str, n: int
) -> None:
    """buy_n_get_one_free counts the sku's units on every line of the cart, in any currency."""
    made_by = call_repr("buy_n_get_one_free", sku, n)
    got = discount_of(ex03.buy_n_get_one_free(sku, n), c, made_by)
    expected = spec_buy_n_get_one_free(c, sku, n)
    units = c.quantity_of(sku)
    assert got == expected, (
        f"{made_by}, called on {describe(c)}, returned {got}; expected {expected} "
        f"({units} units of {sku!r} over all lines: {units // (n + 1)} free)"
    )


# --- best_of, graded with the grader's own rules ---------------------------------------------


class FixedDiscount:
    """A rule written as a class with __call__: a conforming callable too."""

    def __init__(self, cents: int) -> None:
        self.cents = cents

    def __call__(self, cart: Cart) -> Money:
        return Money(self.cents, cart.currency)

    def __repr__(self) -> str:
        return f"FixedDiscount({self.cents})"


def fixed(cents: int, cart: Cart) -> Money:
    return Money(cents, cart.currency)


def percent_rule(percent: int) -> Callable[[Cart], Money]:
    def rule(cart: Cart) -> Money:
        return Money(cart.subtotal.minor * percent // 100, cart.currency)

    rule.__name__ = rule.__qualname__ = f"percent({percent})"
    return rule


def rule_name(rule: Callable[[Cart], Money]) -> str:
    if isinstance(rule, functools.partial):
        return f"partial(fixed, {rule.args[0]})"
    return getattr(rule, "__name__", repr(rule))


def test_best_of_gives_the_largest_discount(ex03: ModuleType) -> None:
    """best_of(...) gives the largest discount of its rules, and nothing when given none."""
    c = cart(("tea", "3.20", 2))
    made_by = "best_of(percent(5), FixedDiscount(320))"
    got = discount_of(ex03.best_of(percent_rule(5), FixedDiscount(320)), c, made_by)
    assert got == eur("3.20"), (
        f"{made_by}, called on {describe(c)}, returned {got}; expected 3.20 EUR"
    )
    got = discount_of(ex03.best_of(), c, "best_of() with no rules")
    assert got == eur("0.00"), f"best_of() with no rules returned {got}; expected 0.00 EUR"


def test_best_of_accepts_any_conforming_callable(ex03: ModuleType) -> None:
    """best_of works with any callable rule: lambdas, functools.partial, objects with __call__."""
    c = cart(("tea", "3.20", 1))
    rules = [lambda cart: Money(30, cart.currency), functools.partial(fixed, 70), FixedDiscount(50)]
    made_by = "best_of(lambda: 0.30 EUR, partial(fixed, 70 cents), FixedDiscount(50))"
    got = discount_of(ex03.best_of(*rules), c, made_by)
    assert got == eur("0.70"), f"{made_by} returned {got}; expected 0.70 EUR, the largest"


@GRADING
@given(
    c=carts(),
    rules=st.lists(
        st.one_of(
            st.integers(0, 3_000).map(FixedDiscount),
            st.integers(0, 3_000).map(lambda cents: functools.partial(fixed, cents)),
            st.integers(0, 100).map(percent_rule),
        ),
        max_size=5,
    ),
)
@example(c=cart(("tea", "3.20", 2)), rules=[FixedDiscount(30), percent_rule(50), FixedDiscount(0)])
@pytest.mark.hints(
    "Call every rule on the cart you are given, each time the combined rule is called, and keep "
    "the largest; with no rules, or when none gives anything, it is Money.zero(cart.currency).",
)
def test_best_of_is_the_largest_of_its_rules_on_every_cart(
    ex03: ModuleType, c: Cart, rules: list[Callable[[Cart], Money]]
) -> None:
    """best_of gives, on every call, the largest discount of its rules for that cart (zero for none)."""
    made_by = f"best_of({', '.join(rule_name(r) for r in rules)})"
    combined = ex03.best_of(*rules)
    expected = max((rule(c) for rule in rules), default=Money.zero(c.currency))
    for attempt in ("first", "second"):
        got = discount_of(combined, c, made_by)
        assert got == expected, (
            f"{made_by}, called a {attempt} time on {describe(c)}, returned {got}; expected "
            f"{expected}, the largest of {[str(rule(c)) for rule in rules]}"
        )


# --- all together -----------------------------------------------------------------------------


def test_rules_plug_into_checkout_and_the_gateway_gets_exact_cents(ex03: ModuleType) -> None:
    """Your rules plug into the unchanged Checkout; the gateway is charged exact integer cents."""
    gateway = FakeStripe()
    percent = ex03.percent_off_over(eur("20.00"), 10)
    free_tea = ex03.buy_n_get_one_free("tea", 2)
    c = cart(("tea", "0.10", 3), ("cake", "19.99", 1), ("jam", "0.20", 1))
    Checkout(gateway, discount=ex03.best_of(percent, free_tea)).pay(c)
    # subtotal 20.49 EUR: 10 % is 2.049 -> 2.04; one free tea is 0.10; best is 2.04.
    parts = f"percent_off_over(20.00 EUR, 10) gives {percent(c)}, buy_n_get_one_free('tea', 2) gives {free_tea(c)}"
    assert gateway.requests == [{"amount": 1845, "currency": "eur"}], (
        f"Checkout with the best of your two rules on {describe(c)} sent {gateway.requests}; "
        f"expected one charge of 1845 cents (20.49 - 2.04). Your rules: {parts} "
        "(expected 2.04 EUR and 0.10 EUR)"
    )


def test_amounts_stay_exact_over_many_small_items(ex03: ModuleType) -> None:
    """Discounts stay exact on a cart of many small prices (9.20 EUR at 50 %), where float code loses a cent."""
    # 9.20 EUR exactly. Half of it is 4.60, but in floats it comes out a hair below
    # (summed unit by unit, line by line, or from float(subtotal) alike), and rounded
    # down that is 4.59: a cent lost. The threshold is well below the subtotal.
    c = cart(("sticker", "0.10", 23), ("pin", "0.30", 23))
    made_by = "percent_off_over(5.00 EUR, 50)"
    got = discount_of(ex03.percent_off_over(eur("5.00"), 50), c, made_by)
    assert got == eur("4.60"), (
        f"{made_by}, called on {describe(c)}, returned {got}; expected 4.60 EUR"
    )
