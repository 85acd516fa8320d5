"""ex03 right, written differently: rules as small classes, percentages in Decimal rounded toward floor,
and free units priced line by line.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from patterns.money import Money
from patterns.strategy import Cart, DiscountRule


class _PercentOffOver:
    def __init__(self, threshold: Money, percent: int) -> None:
        self.threshold = threshold
        self.rate = Decimal(percent) / Decimal(100)

    def __call__(self, cart: Cart) -> Money:
        if not cart.subtotal >= self.threshold:
            return Money(0, cart.currency)
        return cart.subtotal.multiply(self.rate, rounding=ROUND_FLOOR)


class _BuyNGetOneFree:
    def __init__(self, sku: str, n: int) -> None:
        self.sku = sku
        self.group = n + 1

    def __call__(self, cart: Cart) -> Money:
        lines = [item for item in cart.items if item.sku == self.sku]
        units = 0
        for item in lines:
            units += item.quantity
        free = Money(0, cart.currency)
        for _ in range(units // self.group):
            free = free + lines[0].unit_price
        return free


def percent_off_over(threshold: Money, percent: int) -> DiscountRule:
    """A rule: ``percent`` % off (rounded down) once the subtotal reaches ``threshold``."""
    return _PercentOffOver(threshold, percent)


def buy_n_get_one_free(sku: str, n: int) -> DiscountRule:
    """A rule: one unit of ``sku`` free for every ``n + 1`` units in the cart."""
    return _BuyNGetOneFree(sku, n)


def best_of(*rules: DiscountRule) -> DiscountRule:
    """A rule: the largest discount any of ``rules`` gives for the cart."""
    kept = list(rules)

    def rule(cart: Cart) -> Money:
        best = Money(0, cart.currency)
        for each in kept:
            amount = each(cart)
            if amount > best:
                best = amount
        return best

    return rule
