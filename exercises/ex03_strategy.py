"""Exercise 03, strategy: new discount rules that plug into Checkout untouched.

A discount rule is any callable ``(Cart) -> Money``: the amount to take off the
subtotal, in the cart's currency, never negative. ``Checkout`` from
``patterns.strategy`` calls whatever rule it is given; you do not edit it.

Write three rule factories (functions that return a rule):

* ``percent_off_over(threshold, percent)``: ``percent`` % (0 to 100) off the
  subtotal, rounded DOWN to the currency's minor unit (the cent for EUR, the
  yen itself for JPY), from the threshold on: when the subtotal
  is at least ``threshold`` (with a threshold of 50.00 EUR, a subtotal of
  exactly 50.00 EUR gets the discount); below it, nothing off. The threshold
  has a currency: on a cart in another currency the rule raises ``MoneyError``
  (comparing two ``Money`` in different currencies does that for you), rather
  than compare cents of two currencies or quietly give nothing off.
* ``buy_n_get_one_free(sku, n)``: for every ``n + 1`` units of ``sku`` in the
  cart, one unit is free (buy 2 get 1 free: 3 units pay 2, 7 units pay 5);
  ``n`` is at least 1. A sku has one price, but the customer may have added it
  on several lines of the cart: every line counts. ``cart.quantity_of(sku)``
  adds them up; ``cart.items`` holds the lines, each a ``LineItem`` with
  ``.sku``, ``.unit_price`` (Money) and ``.quantity``, so the price comes from
  a line with that sku. No such line (or too few units): nothing is free,
  ``Money.zero(cart.currency)``.
* ``best_of(*rules)``: the customer gets the largest discount any of ``rules``
  gives; ``best_of()`` with no rules at all gives nothing off,
  ``Money.zero(cart.currency)``. Any callable rule works: functions,
  lambdas, objects with ``__call__``, and ``functools.partial`` objects. A
  partial is the other common way, besides a closure like yours, to turn a
  rule with parameters into a one-argument strategy:
  ``functools.partial(fixed_off, 150)`` for ``def fixed_off(cents, cart)``.
  A partial has no ``__name__``, so do not rely on one.

Each rule returned can be called any number of times, on any cart, in any
currency (for ``percent_off_over``, in the threshold's currency); a discount is
in the cart's currency. Money is exact: use ``Money``
(integer minor units, cents for EUR) and integer arithmetic, never float.
"""

from __future__ import annotations

from patterns.money import Money
from patterns.strategy import Cart, DiscountRule


def percent_off_over(threshold: Money, percent: int) -> DiscountRule:
    """A rule: ``percent`` % off (rounded down) once the subtotal reaches ``threshold``."""

    raise NotImplementedError('ex03: return a function (cart) -> Money, see the module docstring')


def buy_n_get_one_free(sku: str, n: int) -> DiscountRule:
    """A rule: one unit of ``sku`` free for every ``n + 1`` units in the cart."""

    raise NotImplementedError('ex03: return a function (cart) -> Money, see the module docstring')


def best_of(*rules: DiscountRule) -> DiscountRule:
    """A rule: the largest discount any of ``rules`` gives for the cart."""

    raise NotImplementedError('ex03: return a function (cart) -> Money, see the module docstring')
