"""ex03 wrong: the threshold is compared in bare cents, so a EUR threshold applies to a USD cart.

grader says: a EUR threshold cannot be compared with a USD subtotal
"""

from __future__ import annotations

from patterns.money import Money
from patterns.strategy import Cart, DiscountRule


def percent_off_over(threshold: Money, percent: int) -> DiscountRule:
    """A rule: ``percent`` % off (rounded down) once the subtotal reaches ``threshold``."""

    # BEGIN SOLUTION: return a function (cart) -> Money, see the module docstring
    def rule(cart: Cart) -> Money:
        subtotal = cart.subtotal
        if subtotal.minor < threshold.minor:  # cents of whichever currencies
            return Money.zero(cart.currency)
        # Integer floor division: exact, and never more than advertised.
        return Money(subtotal.minor * percent // 100, cart.currency)

    return rule
    # END SOLUTION


def buy_n_get_one_free(sku: str, n: int) -> DiscountRule:
    """A rule: one unit of ``sku`` free for every ``n + 1`` units in the cart."""

    # BEGIN SOLUTION: return a function (cart) -> Money, see the module docstring
    def rule(cart: Cart) -> Money:
        free_units = cart.quantity_of(sku) // (n + 1)
        if free_units == 0:
            return Money.zero(cart.currency)
        # The cheapest unit of that sku is the free one, should prices differ.
        unit = min(item.unit_price for item in cart.items if item.sku == sku)
        return unit * free_units

    return rule
    # END SOLUTION


def best_of(*rules: DiscountRule) -> DiscountRule:
    """A rule: the largest discount any of ``rules`` gives for the cart."""

    # BEGIN SOLUTION: return a function (cart) -> Money, see the module docstring
    def rule(cart: Cart) -> Money:
        return max((each(cart) for each in rules), default=Money.zero(cart.currency))

    return rule
    # END SOLUTION
