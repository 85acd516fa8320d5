"""Grader for ex06: a refund event registered in the factory, validated field by field."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from patterns.course.grading import load_graded
from patterns.factory import EVENTS, EventError, OrderEvent, PaymentEvent
from patterns.money import Money


@pytest.fixture(scope="module")
def ex06() -> ModuleType:
    # Module scope: the hypothesis test below must not rebuild it per example.
    return load_graded("ex06")


GOOD = {"refund_id": "rf_1", "txn": "t-9", "amount": "5.00", "currency": "EUR", "reason": "damaged"}
DROP = object()


def refund(**changes: object) -> dict[str, object]:
    payload = {**GOOD, **changes}
    return {"type": "refund", "payload": {k: v for k, v in payload.items() if v is not DROP}}


def short(document: object) -> str:
    text = repr(document)
    return text if len(text) <= 160 else text[:157] + "..."


def parse(ex06: ModuleType, document: object) -> Any:
    """events.parse(document), turning any exception but EventError into a clear failure."""
    try:
        return ex06.events.parse(document)
    except EventError:
        raise
    except Exception as error:
        pytest.fail(
            f"events.parse({short(document)}) raised {type(error).__name__}: {error}; "
            "only EventError may escape (use the Payload getters, or payload.error(...))",
            pytrace=False,
        )


def test_parses_a_refund_from_a_mapping_json_text_and_bytes(ex06: ModuleType) -> None:
    """A valid refund parses into RefundEvent with exact Money, from a dict, JSON text or bytes."""
    expected = ex06.RefundEvent("rf_1", "t-9", Money(500, "EUR"), "damaged", None)
    document = refund()
    for form in (document, json.dumps(document), json.dumps(document).encode()):
        got = parse(ex06, form)
        assert got == expected, (
            f"events.parse({short(form)}) returned {got!r}; expected {expected!r}"
        )


def test_note_is_required_only_when_the_reason_is_other(ex06: ModuleType) -> None:
    """A note is kept when given, None when absent, and required when the reason is 'other'."""
    document = refund(reason="other", note="customer changed their mind")
    got = parse(ex06, document)
    assert getattr(got, "note", None) == "customer changed their mind", (
        f"events.parse({short(document)}) returned {got!r}; the note should be kept"
    )
    document = refund(reason="late", note="two weeks")
    got = parse(ex06, document)
    assert getattr(got, "note", None) == "two weeks", (
        f"events.parse({short(document)}) returned {got!r}; an optional note is kept too"
    )
    document = refund(reason="other")
    try:
        got = parse(ex06, document)
    except EventError as error:
        assert error.field == "payload.note", (
            f"events.parse({short(document)}) raised EventError for {error.field!r}; "
            "expected it to name 'payload.note'"
        )
        return
    pytest.fail(
        f"events.parse({short(document)}) returned {got!r}; a refund for reason 'other' "
        "without a note should raise EventError naming payload.note",
        pytrace=False,
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"refund_id": DROP}, "payload.refund_id"),
        ({"refund_id": 42}, "payload.refund_id"),
        ({"refund_id": ""}, "payload.refund_id"),
        ({"txn": DROP}, "payload.txn"),
        ({"txn": ["t-9"]}, "payload.txn"),
        ({"amount": DROP}, "payload.amount"),
        ({"amount": 5.0}, "payload.amount"),
        ({"amount": "NaN"}, "payload.amount"),
        ({"amount": "-5.00"}, "payload.amount"),
        ({"amount": "0"}, "payload.amount"),
        ({"amount": "5.001"}, "payload.amount"),
        ({"currency": "eur"}, "payload.currency"),
        ({"reason": "broken"}, "payload.reason"),
        ({"reason": None}, "payload.reason"),
        ({"note": 7}, "payload.note"),
        ({"refund": "yes"}, "payload.refund"),
    ],
)
def test_each_bad_field_raises_event_error_naming_it(
    ex06: ModuleType, changes: dict[str, object], field: str
) -> None:
    """Every bad field raises EventError whose field names it; nothing else escapes."""
    document = refund(**changes)
    try:
        got = parse(ex06, document)
    except EventError as error:
        assert error.field == field, (
            f"events.parse({short(document)}) raised EventError({str(error)!r}), which names "
            f"{error.field!r}; expected it to name {field!r}"
        )
        return
    pytest.fail(
        f"events.parse({short(document)}) returned {got!r}; expected EventError naming {field}",
        pytrace=False,
    )


def test_the_extended_registry_still_parses_orders_and_payments(ex06: ModuleType) -> None:
    """events parses refunds and the old types; the course's EVENTS is left untouched."""
    parse(ex06, refund())
    order = parse(ex06, {"type": "order", "payload": {"id": "A-1", "status": "paid"}})
    assert order == OrderEvent("A-1", "paid"), f"parsing an order returned {order!r}"
    payment = {"type": "payment", "payload": {"txn": "t", "amount": "1.00", "currency": "EUR"}}
    assert parse(ex06, payment) == PaymentEvent("t", Money(100, "EUR"))
    assert "refund" not in EVENTS.names(), (
        "patterns.factory.EVENTS now knows 'refund': register on the copy, `events`, instead"
    )


fuzz_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.decimals()
    | st.text(max_size=12)
    | st.sampled_from(["5.00", "EUR", "other", "damaged", "", "-1", "1e3", "\x00"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
fuzz_payloads = st.dictionaries(
    st.sampled_from([*GOOD, "note", "extra"]), fuzz_values | st.just(DROP), max_size=7
).map(lambda changes: {k: v for k, v in {**GOOD, **changes}.items() if v is not DROP})


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(fuzz_payloads)
@example(dict(GOOD))
def test_fuzzed_refunds_only_ever_raise_event_error(
    ex06: ModuleType, payload: dict[str, object]
) -> None:
    """Arbitrary refund payloads either parse into a valid RefundEvent or raise EventError."""
    document = {"type": "refund", "payload": payload}
    try:
        got = parse(ex06, document)
    except EventError:
        return
    assert isinstance(got, ex06.RefundEvent), f"events.parse({short(document)}) returned {got!r}"
    valid = (
        all(isinstance(text, str) and text for text in (got.refund_id, got.transaction_id))
        and isinstance(got.amount, Money)
        and got.amount.minor > 0
        and got.reason in ex06.REFUND_REASONS
        and (got.reason != "other" or got.note)
    )
    assert valid, f"events.parse({short(document)}) accepted an invalid refund: {got!r}"
