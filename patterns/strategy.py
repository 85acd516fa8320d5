"""Strategy: switchable behaviour behind one small interface.

What this pattern is about: the code that *uses* a behaviour (take a payment,
price a cart) should not know which variant is active. Each variant is a
strategy; the service receives one and calls it. Adding a variant means adding
a strategy, never editing an if/elif chain in the service.

What this module shows:

* ``PaymentGateway``, a ``Protocol`` with two fakes of real providers that
  want different wire formats (``FakeStripe``: integer minor units;
  ``FakePayPal``: an exact decimal string). ``Checkout`` takes any gateway.
* Pricing rules as plain functions: a ``DiscountRule`` or ``ShippingRule`` is
  any callable ``(Cart) -> Money``; closures make configurable ones
  (``percent_off(10)``). A class per rule would be ceremony.
* ``choose(name, options)``: selection from configuration through a registry
  (a plain dict), answering an unknown name with the known ones.

TL;DR: in Python a strategy is usually a function. Reach for a class (and a
Protocol) when the strategy has several methods or holds a connection.

When not to use it: for two variants that will never grow, an ``if`` is
clearer; for behaviour that differs by data only (a rate, a threshold), pass
the data, not a strategy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

from patterns.money import Money, MoneyError

__all__ = [
    "Cart",
    "ChargeResult",
    "Checkout",
    "DiscountRule",
    "FakePayPal",
    "FakeStripe",
    "GatewayError",
    "LineItem",
    "PaymentGateway",
    "Quote",
    "ShippingRule",
    "StrategyError",
    "UnknownStrategyError",
    "choose",
    "flat_shipping",
    "free_shipping_over",
    "no_discount",
    "percent_off",
]

_T = TypeVar("_T")


class StrategyError(ValueError):
    """A strategy returned something the service cannot use (a negative discount...)."""


class UnknownStrategyError(ValueError):
    """A configured strategy name that is not in the registry."""


class GatewayError(RuntimeError):
    """A payment provider refused the request itself (not a declined card)."""


# --- the cart -------------------------------------------------------------------


@dataclass(frozen=True)
class LineItem:
    sku: str
    unit_price: Money
    quantity: int = 1

    def __post_init__(self) -> None:
        if type(self.quantity) is not int or self.quantity < 1:
            raise ValueError(f"quantity of {self.sku!r} must be a whole number >= 1")

    @property
    def total(self) -> Money:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Cart:
    """What the customer buys; every line in the cart's one currency."""

    currency: str
    items: tuple[LineItem, ...] = ()

    def __post_init__(self) -> None:
        for item in self.items:
            if item.unit_price.currency != self.currency:
                raise MoneyError(
                    f"{item.sku!r} is priced in {item.unit_price.currency}, "
                    f"but the cart is in {self.currency}"
                )

    @property
    def subtotal(self) -> Money:
        return sum((item.total for item in self.items), Money.zero(self.currency))

    def quantity_of(self, sku: str) -> int:
        return sum(item.quantity for item in self.items if item.sku == sku)


# --- pricing strategies: plain callables ------------------------------------------

#: How much to take off the subtotal (zero or more, never more than the subtotal).
DiscountRule = Callable[[Cart], Money]
#: What delivery costs for this cart (zero or more).
ShippingRule = Callable[[Cart], Money]


def no_discount(cart: Cart) -> Money:
    """The default discount rule: nothing off."""
    return Money.zero(cart.currency)


def percent_off(percent: int) -> DiscountRule:
    """A rule taking ``percent`` % off the subtotal, rounded down to the minor unit
    (the shop never gives away more than it advertised)."""
    if type(percent) is not int or not 0 <= percent <= 100:
        raise ValueError(f"percent must be a whole number from 0 to 100, got {percent!r}")

    def rule(cart: Cart) -> Money:
        return Money(cart.subtotal.minor * percent // 100, cart.currency)

    rule.__name__ = f"percent_off({percent})"
    return rule


def flat_shipping(fee: Money) -> ShippingRule:
    """A rule charging the same ``fee`` for every cart."""

    def rule(cart: Cart) -> Money:
        return fee

    return rule


def free_shipping_over(threshold: Money, fee: Money) -> ShippingRule:
    """A rule charging ``fee``, or nothing once the subtotal reaches ``threshold``."""

    def rule(cart: Cart) -> Money:
        return Money.zero(cart.currency) if cart.subtotal >= threshold else fee

    return rule


# --- payment strategies: a Protocol, because a gateway is an object with state ------


@dataclass(frozen=True)
class ChargeResult:
    status: Literal["succeeded", "declined"]
    reference: str
    amount: Money


class PaymentGateway(Protocol):
    """What ``Checkout`` needs from a payment provider: one method, exact money."""

    def charge(self, amount: Money) -> ChargeResult: ...


@dataclass
class FakeStripe:
    """A stand-in for a provider whose API takes integer minor units
    (``{"amount": 1999, "currency": "eur"}``). Records every request it received."""

    requests: list[dict[str, object]] = field(default_factory=list)

    def charge(self, amount: Money) -> ChargeResult:
        request: dict[str, object] = {"amount": amount.minor, "currency": amount.currency.lower()}
        self.requests.append(request)
        return ChargeResult("succeeded", f"ch_{len(self.requests):04d}", amount)

    def charge_raw(self, request: Mapping[str, object]) -> ChargeResult:
        """The wire format as the real API checks it: refuses a non-integer amount."""
        raw_amount = request.get("amount")
        if type(raw_amount) is not int or raw_amount < 1:
            raise GatewayError(
                f"amount must be a positive integer in the smallest currency unit, "
                f"got {raw_amount!r}"
            )
        currency = str(request.get("currency", "")).upper()
        return self.charge(Money(raw_amount, currency))


@dataclass
class FakePayPal:
    """A stand-in for a provider whose API takes an exact decimal string
    (``{"value": "19.99", "currency_code": "EUR"}``). Records every request."""

    requests: list[dict[str, object]] = field(default_factory=list)

    def charge(self, amount: Money) -> ChargeResult:
        request: dict[str, object] = {"value": str(amount.amount), "currency_code": amount.currency}
        self.requests.append(request)
        return ChargeResult("succeeded", f"PAY-{len(self.requests):04d}", amount)


# --- the service ----------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    subtotal: Money
    discount: Money
    shipping: Money

    @property
    def total(self) -> Money:
        return self.subtotal - self.discount + self.shipping


class Checkout:
    """Prices a cart and charges it. Knows no provider and no pricing rule:
    those are the strategies it is given."""

    def __init__(
        self,
        gateway: PaymentGateway,
        *,
        discount: DiscountRule = no_discount,
        shipping: ShippingRule | None = None,
    ) -> None:
        self._gateway = gateway
        self._discount = discount
        self._shipping = shipping or (lambda cart: Money.zero(cart.currency))

    def quote(self, cart: Cart) -> Quote:
        """Subtotal, discount, shipping and total; a rule that returns nonsense is refused."""
        subtotal = cart.subtotal
        discount = _checked(self._discount, cart, "discount")
        if discount > subtotal:
            raise StrategyError(
                f"discount rule {_name(self._discount)} took {discount} off a "
                f"subtotal of {subtotal}; a discount cannot exceed the subtotal"
            )
        shipping = _checked(self._shipping, cart, "shipping")
        return Quote(subtotal, discount, shipping)

    def pay(self, cart: Cart) -> ChargeResult:
        """Charge the quoted total through the gateway."""
        total = self.quote(cart).total
        if total.minor <= 0:
            raise StrategyError(f"nothing to charge: the total is {total}")
        return self._gateway.charge(total)


def _name(rule: object) -> str:
    return getattr(rule, "__name__", None) or repr(rule)


def _checked(rule: Callable[[Cart], Money], cart: Cart, what: str) -> Money:
    # Rules are pluggable, so their results are checked here, once, for every rule.
    result = rule(cart)
    if not isinstance(result, Money) or result.currency != cart.currency:
        raise StrategyError(
            f"{what} rule {_name(rule)} returned {result!r}; it must return Money "
            f"in the cart's currency ({cart.currency})"
        )
    if result.minor < 0:
        raise StrategyError(f"{what} rule {_name(rule)} returned a negative amount {result}")
    return result


# --- choosing a strategy from configuration ----------------------------------------


def choose(name: str, options: Mapping[str, _T], *, setting: str = "strategy") -> _T:
    """Pick ``options[name]``; an unknown name raises ``UnknownStrategyError``
    listing the known ones, so a typo in a config file is a one-line fix.

    The registry is a plain dict: ``choose(config["gateway"], {"stripe":
    FakeStripe, "paypal": FakePayPal})()``.
    """
    try:
        return options[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(options)) or "(none registered)"
        raise UnknownStrategyError(f"unknown {setting} {name!r}; choose one of: {known}") from None
