"""Grader for ex03: discount rules as strategies that plug into Checkout."""

from __future__ import annotations

import functools
from types import ModuleType

import pytest

from patterns.course.grading import load_graded
from patterns.money import Money
from patterns.strategy import Cart, Checkout, FakeStripe, LineItem


@pytest.fixture
def ex03() -> ModuleType:
    return load_graded("ex03")


def eur(text: str) -> Money:
    return Money.parse(text, "EUR", allow_zero=True)


def cart(*lines: tuple[str, str, int]) -> Cart:
    """cart(("tea", "3.20", 2)) is two teas at 3.20 EUR."""
    return Cart("EUR", tuple(LineItem(sku, eur(price), qty) for sku, price, qty in lines))


def describe(c: Cart) -> str:
    return (
        "a cart of " + ", ".join(f"{i.quantity} x {i.sku} at {i.unit_price}" for i in c.items)
        if c.items
        else "an empty cart"
    )


def discount_of(rule: object, c: Cart, made_by: str) -> Money:
    assert callable(rule), (
        f"{made_by} should return a function (cart) -> Money, but returned {rule!r}"
    )
    result = rule(c)
    assert isinstance(result, Money), (
        f"{made_by}, called on {describe(c)}, returned {result!r}; a discount rule must "
        "return Money (integer cents), e.g. Money(150, 'EUR')"
    )
    return result


@pytest.mark.parametrize(
    ("subtotal", "expected"),
    [("49.99", "0.00"), ("50.00", "7.50"), ("50.99", "7.64"), ("133.33", "19.99")],
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


def test_best_of_gives_the_largest_discount(ex03: ModuleType) -> None:
    """best_of(...) gives the largest discount of its rules, and nothing when given none."""
    small = ex03.percent_off_over(eur("0.00"), 5)
    large = ex03.buy_n_get_one_free("tea", 1)
    c = cart(("tea", "3.20", 2))
    made_by = "best_of(percent_off_over(0.00 EUR, 5), buy_n_get_one_free('tea', 1))"
    got = discount_of(ex03.best_of(small, large), c, made_by)
    assert got == eur("3.20"), (
        f"{made_by}, called on {describe(c)}, returned {got}; expected 3.20 EUR"
    )
    got = discount_of(ex03.best_of(), c, "best_of()")
    assert got == eur("0.00"), f"best_of() with no rules returned {got}; expected 0.00 EUR"


class FixedDiscount:
    """A rule written as a class with __call__: a conforming callable too."""

    def __init__(self, cents: int) -> None:
        self.cents = cents

    def __call__(self, cart: Cart) -> Money:
        return Money(self.cents, cart.currency)


def fixed(cents: int, cart: Cart) -> Money:
    return Money(cents, cart.currency)


def test_best_of_accepts_any_conforming_callable(ex03: ModuleType) -> None:
    """best_of works with any callable rule: lambdas, functools.partial, objects with __call__."""
    c = cart(("tea", "3.20", 1))
    rules = [lambda cart: Money(30, cart.currency), functools.partial(fixed, 70), FixedDiscount(50)]
    made_by = "best_of(lambda: 0.30 EUR, partial(fixed, 70 cents), FixedDiscount(50))"
    got = discount_of(ex03.best_of(*rules), c, made_by)
    assert got == eur("0.70"), f"{made_by} returned {got}; expected 0.70 EUR, the largest"


def test_rules_plug_into_checkout_and_the_gateway_gets_exact_cents(ex03: ModuleType) -> None:
    """Your rules plug into the unchanged Checkout; the gateway is charged exact integer cents."""
    gateway = FakeStripe()
    rule = ex03.best_of(ex03.percent_off_over(eur("20.00"), 10), ex03.buy_n_get_one_free("tea", 2))
    c = cart(("tea", "0.10", 3), ("cake", "19.99", 1), ("jam", "0.20", 1))
    Checkout(gateway, discount=rule).pay(c)
    # subtotal 20.49 EUR: 10 % is 2.049 -> 2.04; one free tea is 0.10; best is 2.04.
    assert gateway.requests == [{"amount": 1845, "currency": "eur"}], (
        f"Checkout with best_of(percent_off_over(20.00 EUR, 10), buy_n_get_one_free('tea', 2)) "
        f"on {describe(c)} sent {gateway.requests}; expected one charge of 1845 cents "
        "(20.49 - 2.04)"
    )


def test_amounts_stay_exact_over_many_small_items(ex03: ModuleType) -> None:
    """Discounts stay exact on carts of many small prices, where floats would drift."""
    c = cart(("sticker", "0.10", 30), ("pin", "0.20", 30))  # 9.00 EUR exactly
    made_by = "percent_off_over(9.00 EUR, 33)"
    got = discount_of(ex03.percent_off_over(eur("9.00"), 33), c, made_by)
    assert got == eur("2.97"), (
        f"{made_by}, called on {describe(c)} (subtotal 9.00 EUR), returned {got}; expected 2.97 EUR"
    )
