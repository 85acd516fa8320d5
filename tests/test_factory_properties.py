"""The factory's promise under hostile input: an event that parses again, or ``EventError``.

For arbitrary JSON text, bytes (invalid UTF-8 included) and mappings,
``EVENTS.parse`` either returns an event that parses again to an equal event,
or raises ``EventError`` naming a field; never anything else, never a float
inside an event, each parse bounded in time. Budgets: ``tests/property_budget.py``.
"""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from patterns.factory import EVENTS, MAX_DOCUMENT_BYTES, EventError, OrderEvent, PaymentEvent
from patterns.money import Money
from tests.hostile_input import any_text, decimals, hostile_text, huge_exponent_numbers, huge_ints
from tests.property_budget import budget

FIELD_NAMES = ["id", "status", "txn", "amount", "currency", "note", "", "type", "payload"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers() | huge_ints,
    st.floats(),
    decimals,
    hostile_text,
    st.sampled_from(["19.99", "0.01", "EUR", "JPY", "paid", "created", "1e3", "-1", " 5 "]),
)
json_like = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | any_text, children, max_size=4)
    ),
    max_leaves=6,
)
payloads = st.dictionaries(st.sampled_from(FIELD_NAMES) | any_text, json_like, max_size=6)
#: Documents that look almost right, so generation reaches deep into the getters.
mappings = st.fixed_dictionaries(
    {"type": st.sampled_from(["order", "payment", "refund"]) | json_like, "payload": payloads},
    optional={"": json_like, "extra": json_like},
)


def to_json(value: object) -> str:
    """JSON text for generated values, Decimals written as the exact number they are
    (``json.dumps`` cannot), so that huge exponents reach the parser."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{to_json(str(k))}: {to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(map(to_json, value)) + "]"
    if isinstance(value, Decimal):
        return str(value)  # NaN and Infinity come out as such: not JSON, refused
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**100:
        return "1" * 200  # past MAX_NUMBER_CHARACTERS without repr()'s 4,300-digit limit
    return json.dumps(value)


def with_number(template: str, number: str) -> str:
    return template.replace("NUMBER", number)


PAYMENT_TEMPLATE = (
    '{"type": "payment", "payload": {"txn": "t", "amount": NUMBER, "currency": "EUR"}}'
)

json_texts = st.one_of(
    mappings.map(to_json),
    json_like.map(to_json),
    # The same key twice, somewhere in the document.
    st.builds(
        lambda key, first, second: (
            f'{{"type": "order", "payload": {{"id": "A", "status": "paid", '
            f"{to_json(key)}: {to_json(first)}, {to_json(key)}: {to_json(second)}}}}}"
        ),
        st.sampled_from(FIELD_NAMES) | any_text,
        json_like,
        json_like,
    ),
    st.builds(with_number, st.just(PAYMENT_TEMPLATE), huge_exponent_numbers),
    st.builds(
        with_number,
        st.just('{"type": "order", "payload": {"id": "A", "status": "paid"}, "x": [NUMBER]}'),
        huge_exponent_numbers,
    ),
    st.integers(1, 200_000).map(lambda depth: "[" * depth),
    st.integers(1, 3_000).map(lambda depth: '{"a": ' * depth + "1" + "}" * depth),
    any_text,
)
raw_bytes = st.one_of(
    st.binary(),
    json_texts.map(lambda text: text.encode("utf-8", "surrogatepass")),  # lone surrogates: invalid
    st.builds(
        lambda text, junk, at: (lambda b: b[:at] + junk + b[at:])(text.encode("utf-8", "replace")),
        json_texts,
        st.sampled_from([b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\x80", b"\xf4\x90\x80\x80"]),
        st.integers(0, 80),
    ),
)


def contains_float(value: object) -> bool:
    if isinstance(value, float):
        return True
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(contains_float(getattr(value, f.name)) for f in dataclasses.fields(value))
    return False


def wire_form(event: object) -> dict[str, object]:
    """The document a sender would write for ``event`` (the inverse of parse)."""
    if isinstance(event, OrderEvent):
        return {"type": "order", "payload": {"id": event.order_id, "status": event.status}}
    assert isinstance(event, PaymentEvent)
    amount = event.amount
    payload = {
        "txn": event.transaction_id,
        "amount": str(amount.amount),
        "currency": amount.currency,
    }
    return {"type": "payment", "payload": payload}


def check_parse(document: object) -> None:
    """The promise, for one document."""
    try:
        event = EVENTS.parse(document)  # type: ignore[arg-type]
    except EventError as error:
        assert error.field, f"EventError {error!r} names no field"
        assert str(error) == f"{error.field}: {error.problem}"
        return
    assert isinstance(event, OrderEvent | PaymentEvent), f"parse returned {event!r}"
    assert not contains_float(event), f"a float inside {event!r}"
    if isinstance(event, PaymentEvent):
        assert isinstance(event.amount, Money) and event.amount.minor > 0
    again = wire_form(event)
    assert EVENTS.parse(again) == event, f"{event!r} does not parse again from {again!r}"
    assert EVENTS.parse(json.dumps(again)) == event


@budget(ci=150, long=5_000, deadline_ms=2_000)  # the slowest to generate: nested mappings
@given(mappings)
@example({"type": "payment", "payload": {"txn": "t", "amount": 10**5000, "currency": "EUR"}})
@example({"type": "order", "payload": {"id": "A", "status": "paid", "": None}})
def test_any_mapping_parses_to_an_event_or_raises_event_error(document: object) -> None:
    check_parse(document)


@budget(ci=200, long=5_000, deadline_ms=2_000)
@given(json_texts)
@example(with_number(PAYMENT_TEMPLATE, "0e99999999999999999999"))
@example('{"type": "order", "payload": {"id": "A", "status": "paid"}, "x": [1e999999999999999999]}')
@example('{"type": "order", "type": "payment", "payload": {}}')
def test_any_json_text_parses_to_an_event_or_raises_event_error(document: str) -> None:
    check_parse(document)


@budget(ci=150, long=4_000, deadline_ms=2_000)
@given(raw_bytes)
@example(b"\xed\xa0\x80")
def test_any_bytes_parse_to_an_event_or_raise_event_error(document: bytes) -> None:
    check_parse(document)


@budget(ci=100, long=2_000, deadline_ms=2_000)
@given(st.sampled_from(["a", "é", "€", "🧪"]), st.integers(-8, 8))
def test_the_size_limit_counts_utf8_bytes(padding: str, around_the_limit: int) -> None:
    envelope = '{"type": "order", "payload": {"id": "A", "status": "paid"}, "note": ""}'
    room = MAX_DOCUMENT_BYTES - len(envelope.encode()) + around_the_limit
    text = envelope.replace('""', '"' + padding * (room // len(padding.encode())) + '"')
    size = len(text.encode())
    for document in (text, text.encode()):
        try:
            EVENTS.parse(document)
        except EventError as error:
            too_large = "larger than" in error.problem
            assert too_large == (size > MAX_DOCUMENT_BYTES), (
                f"a {size}-byte document ({len(text)} characters) gave {error}"
            )
        else:
            raise AssertionError("the note field is not allowed: parse should refuse it")
