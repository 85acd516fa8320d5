"""Strategy: gateways and pricing rules plug into Checkout without editing it."""

from __future__ import annotations

import functools

import pytest

from patterns.money import Money
from patterns.strategy import (
    Cart,
    Checkout,
    FakePayPal,
    FakeStripe,
    GatewayError,
    LineItem,
    PaymentGateway,
    StrategyError,
    UnknownStrategyError,
    choose,
    flat_shipping,
    free_shipping_over,
    percent_off,
)


def eur(text: str) -> Money:
    return Money.parse(text, "EUR", allow_zero=True)


def cart(*prices: str) -> Cart:
    return Cart("EUR", tuple(LineItem(f"sku-{i}", eur(p)) for i, p in enumerate(prices)))


def test_each_gateway_receives_its_own_exact_wire_format() -> None:
    stripe, paypal = FakeStripe(), FakePayPal()
    for gateway in (stripe, paypal):
        Checkout(gateway).pay(cart("19.99"))
    assert stripe.requests == [{"amount": 1999, "currency": "eur"}]
    assert paypal.requests == [{"value": "19.99", "currency_code": "EUR"}]


def test_stripe_style_api_refuses_a_float_amount() -> None:
    # What the article's float-based gateway would have to send.
    with pytest.raises(GatewayError, match="positive integer"):
        FakeStripe().charge_raw({"amount": 19.99 * 100, "currency": "eur"})
    assert int(19.99 * 100) == 1998  # and truncating it loses a cent


def test_any_object_with_a_charge_method_is_a_gateway() -> None:
    charged: list[Money] = []

    class Recording:
        def charge(self, amount: Money) -> object:
            charged.append(amount)
            return "ok"

    gateway: PaymentGateway = Recording()  # type: ignore[assignment]
    Checkout(gateway).pay(cart("1.00", "2.50"))
    assert charged == [eur("3.50")]


def test_quote_applies_discount_then_shipping_exactly() -> None:
    checkout = Checkout(FakeStripe(), discount=percent_off(10), shipping=flat_shipping(eur("4.95")))
    quote = checkout.quote(cart("19.99", "0.10", "0.20"))
    assert quote.subtotal == eur("20.29")
    assert quote.discount == eur("2.02")  # 202.9 cents, rounded down
    assert quote.total == eur("23.22")


def test_percent_off_rounds_down_to_the_cent() -> None:
    assert percent_off(15)(cart("0.99")) == eur("0.14")  # 14.85 cents
    with pytest.raises(ValueError, match="0 to 100"):
        percent_off(150)


def test_free_shipping_starts_exactly_at_the_threshold() -> None:
    rule = free_shipping_over(eur("50.00"), eur("4.95"))
    assert rule(cart("49.99")) == eur("4.95")
    assert rule(cart("50.00")) == eur("0.00")


@pytest.mark.parametrize(
    "rule",
    [
        lambda c: Money(100, c.currency),
        functools.partial(lambda amount, c: amount, Money(100, "EUR")),
        type("Rule", (), {"__call__": lambda self, c: Money(100, c.currency)})(),
    ],
    ids=["lambda", "partial", "callable-object"],
)
def test_any_callable_returning_money_is_a_discount_rule(rule: object) -> None:
    checkout = Checkout(FakeStripe(), discount=rule)  # type: ignore[arg-type]
    assert checkout.quote(cart("5.00")).total == eur("4.00")


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (lambda c: 1.0, "must return Money"),
        (lambda c: Money(1, "USD"), "must return Money in the cart's currency"),
        (lambda c: Money(-1, "EUR"), "negative"),
        (lambda c: Money(10_000, "EUR"), "cannot exceed the subtotal"),
    ],
)
def test_a_misbehaving_rule_is_refused_with_a_clear_error(rule: object, problem: str) -> None:
    with pytest.raises(StrategyError, match=problem):
        Checkout(FakeStripe(), discount=rule).quote(cart("5.00"))  # type: ignore[arg-type]


def test_nothing_is_charged_when_the_total_is_zero() -> None:
    gateway = FakeStripe()
    with pytest.raises(StrategyError, match="nothing to charge"):
        Checkout(gateway, discount=percent_off(100)).pay(cart("5.00"))
    assert gateway.requests == []


def test_choose_picks_from_the_registry_and_names_the_known_ones_on_a_typo() -> None:
    gateways = {"stripe": FakeStripe, "paypal": FakePayPal}
    assert isinstance(choose("paypal", gateways)(), FakePayPal)
    with pytest.raises(UnknownStrategyError, match="'strpie'; choose one of: paypal, stripe"):
        choose("strpie", gateways)
    assert issubclass(UnknownStrategyError, ValueError)


def test_a_cart_refuses_lines_in_another_currency() -> None:
    with pytest.raises(ValueError, match="priced in USD"):
        Cart("EUR", (LineItem("a", Money(1, "USD")),))


@pytest.mark.parametrize("quantity", [0, -1, 1.5, True])
def test_a_line_needs_a_whole_positive_quantity(quantity: object) -> None:
    with pytest.raises(ValueError, match="whole number"):
        LineItem("a", eur("1.00"), quantity)  # type: ignore[arg-type]
