"""Factory: a decorator registry that parses untrusted payloads with one documented error."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

import pytest

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
        (with_payload(ammount="1"), "payload.ammount", "was present but never read"),
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
        ("1" * 5_000, "document", "numbers are limited to 100 characters"),
        (42, "document", "must be a mapping, JSON text or bytes"),
        # Issue 14, each found by fuzzing: a huge exponent anywhere was decimal.InvalidOperation,
        (json.dumps(PAYMENT).replace('"19.99"', "0e99999999999999999999"), "document", "exponent"),
        ('{"type": "order", "payload": [0e99999999999999999999]}', "document", "exponent"),
        # more than 4,300 digits was int()'s bare ValueError, in JSON text or in a mapping,
        (json.dumps(PAYMENT).replace('"19.99"', "9" * 5_000), "document", "limited to 100"),
        (json.dumps(PAYMENT).replace('"19.99"', "0." + "1" * 5_000), "document", "limited"),
        (with_payload(amount=10**5000), "payload.amount", "too large: an integer of about 5001"),
        (with_payload(amount=Decimal("1E+999999999999999999")), "payload.amount", "too large"),
        (with_payload(amount=Decimal("1." + "0" * 5_000 + "1")), "payload.amount", "places"),
        # the last of two equal keys silently won,
        ('{"type": "order", "type": "payment", "payload": {}}', "document", "repeats the key"),
        (json.dumps(PAYMENT).replace('"txn"', '"amount": "1.00", "txn"'), "document", "'amount'"),
        # an empty key gave a message starting with ": ",
        (
            {"type": "order", "payload": {"id": "A", "status": "paid", "": 1}},
            "payload['']",
            "never",
        ),
        ({"type": "order", "payload": {}, "": 1}, "document['']", "is not allowed"),
        (
            {"type": "order", "payload": {"id": "A", "status": "paid", 10**5000: 1}},
            "payload[an ",
            "",
        ),
        # and the size limit counted characters: 40,000 e-acute are 80,000 bytes.
        ('{"type": "order", "note": "' + "é" * 40_000 + '"}', "document", "65536 bytes in UTF-8"),
        (("é" * 40_000).encode(), "document", "larger than 65536 bytes"),
    ],
)
def test_every_bad_payload_raises_event_error_naming_the_field(
    document: object, field: str, problem: str
) -> None:
    with pytest.raises(EventError) as caught:
        EVENTS.parse(document)  # type: ignore[arg-type]
    assert caught.value.field.startswith(field)
    assert problem in caught.value.problem
    assert str(caught.value) == f"{caught.value.field}: {caught.value.problem}"


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


# Arbitrary documents: tests/test_factory_properties.py.
