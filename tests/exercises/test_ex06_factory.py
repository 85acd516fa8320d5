"""Grader for ex06: a refund event registered in the factory, validated field by field.

Fixed examples give the sentences a learner reads first; generated refunds
(any ids, amounts in every currency, every reason, with or without a note, as
a mapping, JSON text or bytes) are compared with what the spec says they
mean, and generated payloads with exactly one bad field must be refused naming
that field. Hypothesis runs a fixed, bounded set of examples without
shrinking, so a wrong answer is reported in well under a second.
"""

from __future__ import annotations

import json
import string
from dataclasses import fields
from types import ModuleType
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from patterns.course.grading import grading_settings, load_graded
from patterns.factory import EVENTS, EventError, OrderEvent, PaymentEvent
from patterns.money import CURRENCIES, MAX_AMOUNT_CHARACTERS, Money

# One fixed, fast profile: the same examples on every run and no shrinking (a
# shrink of a nested payload took 16-20 s on a wrong answer; the messages below
# already say which field is wrong).
GRADING = grading_settings(30, shrink=False)


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
    """A note is kept when given, None when absent or null, and required when the reason is 'other'."""
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
    document = refund(reason="late", note=None)
    try:
        got = parse(ex06, document)
    except EventError as error:
        pytest.fail(
            f"events.parse({short(document)}) raised EventError({error}); a null note is an "
            "absent note: the refund has note=None (optional_text reads both)",
            pytrace=False,
        )
    assert getattr(got, "note", "missing") is None, (
        f"events.parse({short(document)}) returned {got!r}; a null note gives note=None"
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


@pytest.mark.hints(
    'Read the amount with payload.money("amount", "currency"): it knows the length limit and '
    "says it, as it knows every other rule of an amount.",
)
def test_an_amount_over_the_length_limit_is_refused_saying_the_limit(ex06: ModuleType) -> None:
    """An amount string over 40 characters is refused naming payload.amount and the limit."""
    padded = "0" * (MAX_AMOUNT_CHARACTERS + 1) + "5.00"  # 5.00, padded past the limit
    document = refund(amount=padded)
    try:
        got = parse(ex06, document)
    except EventError as error:
        assert error.field == "payload.amount" and f"{MAX_AMOUNT_CHARACTERS} characters" in str(
            error
        ), (
            f"events.parse({short(document)}) raised EventError({str(error)!r}); expected it to "
            f"name payload.amount and say the limit, {MAX_AMOUNT_CHARACTERS} characters"
        )
        return
    pytest.fail(
        f"events.parse({short(document)}) returned {got!r}; an amount of {len(padded)} "
        f"characters is over the limit of {MAX_AMOUNT_CHARACTERS}: expected EventError naming "
        "payload.amount",
        pytrace=False,
    )


# --- generated refunds, compared with the spec -------------------------------------------------

ids = st.text(string.ascii_letters + string.digits + "-_:./ éü", min_size=1, max_size=40).filter(
    str.strip
)


def amount_text(minor: int, currency: str, whole: bool) -> str:
    """``minor`` units written as the sender would: "19.99", or "19" for a whole amount."""
    places = CURRENCIES[currency]
    if whole or places == 0:
        return str(minor // 10**places if places else minor)
    return f"{minor // 10**places}.{minor % 10**places:0{places}d}"


@st.composite
def valid_refunds(draw: st.DrawFn) -> dict[str, object]:
    currency = draw(st.sampled_from(sorted(CURRENCIES)))
    whole = draw(st.booleans())
    unit = 10 ** CURRENCIES[currency] if whole else 1
    minor = unit * draw(st.integers(min_value=1, max_value=10**9) | st.just(1))
    reason = draw(st.sampled_from(["damaged", "duplicate", "late", "other"]))
    payload: dict[str, object] = {
        "refund_id": draw(ids),
        "txn": draw(ids),
        "amount": amount_text(minor, currency, whole),
        "currency": currency,
        "reason": reason,
    }
    if reason == "other" or draw(st.booleans()):
        payload["note"] = draw(ids)
    return payload


def differences(got: object, expected: object) -> str:
    """The fields where ``got`` and ``expected`` differ, as a learner reads them."""
    if type(got).__name__ != type(expected).__name__:
        return f"a {type(got).__name__} ({got!r:.100}) instead of a RefundEvent"
    parts = []
    for item in fields(expected):  # type: ignore[arg-type]
        mine, theirs = getattr(got, item.name, None), getattr(expected, item.name)
        if mine != theirs:
            parts.append(f"{item.name} is {mine!r:.60}, but the payload says {theirs!r:.60}")
            if item.name == "amount" and getattr(mine, "currency", None) != theirs.currency:
                parts[-1] += f" (the payload's currency is {theirs.currency})"
    return "a RefundEvent whose " + "; whose ".join(parts)


@pytest.mark.hints(
    "Every field of the event comes from the payload: read each one with its getter and pass "
    'what it returns to cls(...), the currency included (payload.money("amount", "currency")).',
)
@settings(GRADING, max_examples=20)
@given(valid_refunds(), st.sampled_from(["mapping", "JSON text", "UTF-8 bytes"]))
@example(
    {"refund_id": "r", "txn": "t", "amount": "500", "currency": "JPY", "reason": "late"}, "mapping"
)
@example(
    {"refund_id": "r", "txn": "t", "amount": "0.001", "currency": "KWD", "reason": "duplicate"},
    "mapping",
)
def test_generated_refunds_parse_into_exactly_what_they_say(
    ex06: ModuleType, payload: dict[str, object], form: str
) -> None:
    """Any valid refund (every currency, reason and note) parses into exactly its own values."""
    document: object = {"type": "refund", "payload": payload}
    if form != "mapping":
        document = json.dumps(document)
        if form == "UTF-8 bytes":
            document = document.encode()
    expected = ex06.RefundEvent(
        refund_id=payload["refund_id"],
        transaction_id=payload["txn"],
        amount=Money.parse(str(payload["amount"]), str(payload["currency"])),
        reason=payload["reason"],
        note=payload.get("note"),
    )
    try:
        got = parse(ex06, document)
    except EventError as error:
        pytest.fail(
            f"events.parse({short(document)}) ({form}) raised EventError({str(error)!r}); "
            f"the refund is valid, expected {expected!r}",
            pytrace=False,
        )
    assert got == expected, (
        f"events.parse({short(document)}) ({form}) returned {differences(got, expected)}"
    )


BAD_VALUES: dict[str, list[object]] = {
    "refund_id": [DROP, "", 42, None, ["rf_1"]],
    "txn": [DROP, "", 9, None, {"id": "t-9"}],
    "amount": [DROP, "", 5.0, "NaN", "-5.00", "0", "0.00", "1e3", True, None, "5,00"],
    "currency": [DROP, "eur", "EURO", "XYZ", 978, None, ""],
    "reason": [DROP, "broken", "Damaged", "", None, 1],
    "note": ["", 7, ["why"]],
}


@st.composite
def one_bad_field(draw: st.DrawFn) -> tuple[dict[str, object], str]:
    """A valid refund with exactly one field made bad, and the field EventError must name."""
    payload = draw(valid_refunds())
    name = draw(st.sampled_from([*BAD_VALUES, "too precise", "other without note", "unknown"]))
    if name == "too precise":
        places = CURRENCIES[str(payload["currency"])]
        payload["amount"] = "1." + "0" * places + "1"
        return payload, "payload.amount"
    if name == "other without note":
        payload["reason"] = "other"
        payload.pop("note", None)
        return payload, "payload.note"
    if name == "unknown":
        extra = draw(st.sampled_from(["refund", "ammount", "notes", "id", "Currency"]))
        payload[extra] = "x"
        return payload, f"payload.{extra}"
    value = draw(st.sampled_from(BAD_VALUES[name]))
    if value is DROP:
        del payload[name]
    else:
        payload[name] = value
    return payload, f"payload.{name}"


@pytest.mark.hints(
    "Use a getter for every field (text, optional_text, choice, money): each one refuses a "
    "bad value with an EventError naming the field. Check the note yourself only for "
    "reason 'other', with payload.error(\"note\", ...).",
)
@GRADING
@given(one_bad_field())
def test_a_refund_with_one_bad_field_is_refused_naming_it(
    ex06: ModuleType, case: tuple[dict[str, object], str]
) -> None:
    """A refund with exactly one bad field (any of them) raises EventError naming that field."""
    payload, field = case
    document = {"type": "refund", "payload": payload}
    try:
        got = parse(ex06, document)
    except EventError as error:
        assert error.field == field, (
            f"events.parse({short(document)}) raised EventError({str(error)!r}), which names "
            f"{error.field!r}; the one bad field is {field!r}"
        )
        return
    pytest.fail(
        f"events.parse({short(document)}) returned {got!r:.120}; {field} is bad, expected "
        f"EventError naming {field}",
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


@settings(GRADING, max_examples=20)
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
