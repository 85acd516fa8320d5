"""Factory: a decorator registry that parses untrusted payloads with one documented error."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from patterns.factory import (
    EVENTS,
    EventError,
    EventRegistry,
    OrderEvent,
    Payload,
    PaymentEvent,
)
from patterns.money import Money

PAYMENT = {"type": "payment", "payload": {"txn": "t-1", "amount": "19.99", "currency": "EUR"}}


def test_parses_a_mapping_json_text_and_bytes_alike() -> None:
    expected = PaymentEvent("t-1", Money(1999, "EUR"))
    assert EVENTS.parse(PAYMENT) == expected
    assert EVENTS.parse(json.dumps(PAYMENT)) == expected
    assert EVENTS.parse(json.dumps(PAYMENT).encode()) == expected
    assert EVENTS.parse({"type": "order", "payload": {"id": "A-1", "status": "paid"}}) == (
        OrderEvent("A-1", "paid")
    )


def test_a_json_number_amount_stays_exact() -> None:
    # parse_float=Decimal: 0.29 never becomes 0.28999999999999998
    text = '{"type": "payment", "payload": {"txn": "t", "amount": 0.29, "currency": "EUR"}}'
    event = EVENTS.parse(text)
    assert isinstance(event, PaymentEvent) and event.amount == Money(29, "EUR")


def with_payload(**changes: object) -> dict[str, object]:
    payload: dict[str, object] = {"txn": "t-1", "amount": "19.99", "currency": "EUR"}
    payload.update(changes)
    return {"type": "payment", "payload": {k: v for k, v in payload.items() if v is not DROP}}


DROP = object()


@pytest.mark.parametrize(
    ("document", "field", "problem"),
    [
        ({"type": "refnd", "payload": {}}, "type", "must be one of order, payment; got 'refnd'"),
        ({"payload": {}}, "type", "is missing; known types: order, payment"),
        ({"type": "order"}, "payload", "is missing"),
        ({"type": "order", "payload": [1]}, "payload", "must be an object, got a list"),
        ({"type": "order", "payload": {}, "debug": 1}, "debug", "is not allowed"),
        (with_payload(txn=DROP), "payload.txn", "is missing"),
        (with_payload(txn=42), "payload.txn", "must be a string, got a number"),
        (with_payload(txn="   "), "payload.txn", "must not be empty"),
        (with_payload(ammount="1"), "payload.ammount", "is not a field of a 'payment' event"),
        (with_payload(amount=19.99), "payload.amount", "not a float"),
        (with_payload(amount="NaN"), "payload.amount", "not a plain decimal number"),
        (with_payload(amount="-5"), "payload.amount", "must not be negative"),
        (with_payload(amount="0"), "payload.amount", "more than zero"),
        (with_payload(amount="1.999"), "payload.amount", "more decimal places than EUR"),
        (with_payload(amount=True), "payload.amount", "got a boolean"),
        (with_payload(currency="eur"), "payload.currency", "must be one of CHF, EUR"),
        ("{not json", "document", "is not valid JSON"),
        ('{"type": "payment", "payload": {"amount": NaN}}', "document", "contains NaN"),
        (b"\xff\xfe", "document", "is not valid UTF-8"),
        ("[]", "document", "must be a JSON object, got a list"),
        ("[" * 50_000, "document", "nested too deeply"),
        ("x" * 70_000, "document", "larger than"),
        ("1" * 5_000, "document", "not acceptable JSON"),
        (42, "document", "must be a mapping, JSON text or bytes"),
    ],
)
def test_every_bad_payload_raises_event_error_naming_the_field(
    document: object, field: str, problem: str
) -> None:
    with pytest.raises(EventError) as caught:
        EVENTS.parse(document)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"{field}: ")


def test_event_error_is_the_documented_value_error() -> None:
    assert issubclass(EventError, ValueError)
    assert not issubclass(EventError, KeyError | TypeError)


def test_a_new_type_registers_with_a_decorator_without_touching_the_factory() -> None:
    registry = EVENTS.copy()

    @registry.register("ping")
    @dataclass(frozen=True)
    class Ping:
        sent_by: str

        @classmethod
        def from_payload(cls, payload: Payload) -> Ping:
            return cls(payload.text("from"))

    assert registry.parse({"type": "ping", "payload": {"from": "ops"}}) == Ping("ops")
    assert registry.names() == ["order", "payment", "ping"]
    assert EVENTS.names() == ["order", "payment"]  # the original is untouched


def test_registering_a_name_twice_or_a_class_without_from_payload_is_refused() -> None:
    registry = EventRegistry()
    registry.register("x")(OrderEvent)
    with pytest.raises(ValueError, match="'x' is already registered"):
        registry.register("x")(PaymentEvent)
    with pytest.raises(TypeError, match="needs a from_payload"):
        registry.register("y")(int)


# Arbitrary JSON-like values, and documents that look almost right, so the fuzz
# reaches deep into the getters, not only the envelope checks.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.decimals()
    | st.text(max_size=20)
    | st.sampled_from(["19.99", "EUR", "paid", "", "-1", "1e3", "NaN"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.integers(), children, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(["id", "status", "txn", "amount", "currency", "extra"])
near_documents = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["order", "payment", "refund"]) | json_values,
        "payload": st.dictionaries(field_names, json_values, max_size=5) | json_values,
    }
)
documents = st.one_of(
    near_documents,
    json_values,
    near_documents.map(lambda d: json.dumps(d, default=str)),
    st.text(max_size=60),
    st.binary(max_size=60),
)


@settings(max_examples=300, deadline=None, database=None)
@given(documents)
@example(PAYMENT)
@example({"type": "order", "payload": {"id": "A", "status": "paid"}})
def test_arbitrary_documents_only_ever_raise_event_error(document: object) -> None:
    try:
        event = EVENTS.parse(document)  # type: ignore[arg-type]
    except EventError:
        return
    assert isinstance(event, OrderEvent | PaymentEvent)
    if isinstance(event, PaymentEvent):
        assert event.amount.minor > 0 and isinstance(event.amount.amount, Decimal)
