"""Factory: build the right event object from an untrusted payload, through a registry.

What this pattern is about: a message arrives as JSON (``{"type": "payment",
"payload": {...}}``) and the program needs a typed object. A factory hides
*which* class gets built and *how*. The textbook factory is an if/elif chain
that grows with every type; here each event class registers itself with a
decorator, and the factory looks the type up in a dict.

What this module shows:

* ``EventRegistry`` with ``@registry.register("name")``, and ``EVENTS``, the
  registry holding the course's two events, ``OrderEvent`` and ``PaymentEvent``
  (frozen, validated dataclasses; money as ``Money``, never a float).
* ``Payload``: a reader of the untrusted fields whose every getter names the
  field when it refuses a value, and which notices fields nobody read.
* ``EventError``: the ONE exception parsing raises, a ``ValueError`` whose
  ``field`` and message say what was wrong. Unknown type, missing or extra
  field, wrong type, bad amount, malformed JSON or bytes: all ``EventError``,
  never a bare ``KeyError``, ``TypeError`` or ``decimal`` error from deep inside.

The rules ``parse`` keeps:

* **Every field present must be read.** A ``from_payload`` reads its fields
  through the getters (``text(name, *, max_length=100)``,
  ``optional_text(name, *, max_length=500)``, ``choice(name, options)``,
  ``money(amount, currency)``); a field that none of them read is refused, so
  a typo such as ``"ammount"`` is an error instead of silently ignored. Read
  optional fields with ``optional_text``: it marks them read even when absent.
* **No floats, ever.** In a mapping a ``float`` amount is refused: by the time
  Python holds ``19.99`` as a float it is already
  19.989999999999998436805981327779591083526611328125 (``Decimal(19.99)``
  shows it), and nobody can tell what the sender meant. In JSON text the
  number is still the digits the sender wrote, so ``parse`` reads it exactly,
  as a ``Decimal`` (``json.loads`` with ``parse_float``): ``19.99`` is 1999 cents.
* **One reading of the text.** A JSON object that repeats a key is refused:
  JSON parsers disagree on which copy counts (Python's keeps the last), so a
  sender and a receiver could act on different amounts. Numbers longer than
  ``MAX_NUMBER_CHARACTERS`` are refused too (no amount is that long, and
  Python's ``int`` refuses to read more than 4,300 digits).
* **The size limit counts bytes.** ``MAX_DOCUMENT_BYTES`` is the size of the
  document in UTF-8, for text and bytes alike (an "é" counts as 2).

>>> EVENTS.parse('{"type": "order", "payload": {"id": "A-1", "status": "paid"}}')
OrderEvent(order_id='A-1', status='paid')

TL;DR: a dict of builders plus a decorator replaces the if/elif chain; parse at
the boundary into typed objects, and fail with one documented error.

When not to use it: with two or three types that never change, a ``match``
statement is simpler; for large schemas with nesting, use a validation
library (pydantic, msgspec) instead of growing ``Payload``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar

from patterns.money import CURRENCIES, Money, MoneyError
from patterns.money import _shown as shown

__all__ = [
    "EVENTS",
    "MAX_DOCUMENT_BYTES",
    "MAX_NUMBER_CHARACTERS",
    "ORDER_STATUSES",
    "EventError",
    "EventRegistry",
    "OrderEvent",
    "Payload",
    "PaymentEvent",
]

#: Documents larger than this many bytes of UTF-8 are refused before parsing
#: (memory, and JSON bombs).
MAX_DOCUMENT_BYTES: Final = 64 * 1024
#: A JSON number written with more characters than this is refused.
MAX_NUMBER_CHARACTERS: Final = 100

_E = TypeVar("_E")


class EventError(ValueError):
    """An event payload that cannot be turned into an event.

    ``field`` is where the problem is (``"payload.amount"``, ``"type"``, or
    ``"document"`` for the text as a whole); ``problem`` says what was wrong.
    This is the only exception ``EventRegistry.parse`` raises.
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def _field_name(key: object, path: str) -> str:
    """``payload.amount`` for a plain key; ``payload['']`` or ``document[7]`` otherwise,
    so an empty, dotted or unprintable key still gives a readable name."""
    if isinstance(key, str) and key and key.isprintable() and not set(key) & set(".[]'\""):
        return f"{path}.{key:.40}" if path else f"{key:.40}"
    return f"{path or 'document'}[{shown(key, 40)}]"


def _kind(value: object) -> str:
    """How a value looks in the JSON the sender wrote, for error messages."""
    names = {bool: "a boolean", int: "a number", float: "a number", Decimal: "a number"}
    names |= {str: "a string", list: "a list", dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


class Payload:
    """The untrusted fields of one event, read through getters that validate.

    Every getter raises ``EventError`` naming the field; the registry then
    refuses any field that no getter read (a typo like ``"ammount"`` is an
    error, not silently ignored).
    """

    def __init__(self, data: Mapping[Any, object], path: str = "payload") -> None:
        self._data = data
        self._path = path
        self._read: set[str] = set()

    def error(self, name: str, problem: str) -> EventError:
        """An ``EventError`` for field ``name``, for checks the getters do not cover."""
        return EventError(_field_name(name, self._path), problem)

    def _get(self, name: str) -> object:
        self._read.add(name)
        if name not in self._data:
            raise self.error(name, "is missing")
        return self._data[name]

    def text(self, name: str, *, max_length: int = 100) -> str:
        """A required, non-empty, printable string of at most ``max_length`` characters."""
        value = self._get(name)
        if not isinstance(value, str):
            raise self.error(name, f"must be a string, got {_kind(value)}")
        return self._checked_text(name, value, max_length)

    def optional_text(self, name: str, *, max_length: int = 500) -> str | None:
        """Like ``text``, but an absent field (or ``null``) gives ``None``."""
        self._read.add(name)
        value = self._data.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(name, f"must be a string or absent, got {_kind(value)}")
        return self._checked_text(name, value, max_length)

    def _checked_text(self, name: str, value: str, max_length: int) -> str:
        if not value.strip():
            raise self.error(name, "must not be empty")
        if len(value) > max_length:
            raise self.error(name, f"must be at most {max_length} characters, got {len(value)}")
        if not value.isprintable():
            raise self.error(name, "must not contain control or unprintable characters")
        return value

    def choice(self, name: str, options: Collection[str]) -> str:
        """A string that is one of ``options``."""
        value = self._get(name)
        if not isinstance(value, str) or value not in options:
            shown = repr(value) if isinstance(value, str) else _kind(value)
            raise self.error(name, f"must be one of {', '.join(sorted(options))}; got {shown:.60}")
        return value

    def money(self, amount: str, currency: str) -> Money:
        """A positive amount (a string like ``"19.99"``, or an exact JSON number)
        in the currency named by field ``currency``."""
        code = self.choice(currency, CURRENCIES)
        value = self._get(amount)
        if isinstance(value, float):
            raise self.error(
                amount, "must be a decimal string like '19.99', not a float (floats are inexact)"
            )
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise self.error(amount, f"must be a decimal string like '19.99', got {_kind(value)}")
        try:
            return Money.parse(value, code)
        except MoneyError as error:
            # MoneyError says "amount ...": the field name already says that.
            raise self.error(amount, str(error).removeprefix("amount ")) from None

    def unread(self) -> list[str]:
        """Fields present in the payload that no getter asked for."""
        # A key that is not a str (possible in a mapping) was never read either.
        return [
            _field_name(key, self._path)
            for key in self._data
            if not isinstance(key, str) or key not in self._read
        ]


class EventRegistry:
    """Event types by name; ``parse`` turns a document into the registered class.

    Register a class (it needs a ``from_payload(payload)`` classmethod)::

        @registry.register("refund")
        @dataclass(frozen=True)
        class RefundEvent: ...
    """

    def __init__(self) -> None:
        self._builders: dict[str, Callable[[Payload], object]] = {}

    def register(self, name: str) -> Callable[[type[_E]], type[_E]]:
        """A class decorator adding the class under ``name``. Registering a name
        twice is a programming error (``ValueError`` at import time)."""

        def decorator(cls: type[_E]) -> type[_E]:
            builder = getattr(cls, "from_payload", None)
            if not callable(builder):
                raise TypeError(f"{cls.__name__} needs a from_payload(payload) classmethod")
            if name in self._builders:
                raise ValueError(f"event type {name!r} is already registered")
            self._builders[name] = builder
            return cls

        return decorator

    def names(self) -> list[str]:
        return sorted(self._builders)

    def copy(self) -> EventRegistry:
        """A new registry with the same types, to extend without touching this one."""
        other = EventRegistry()
        other._builders = dict(self._builders)
        return other

    def parse(self, document: Mapping[str, object] | str | bytes | bytearray) -> object:
        """Build the event that ``document`` describes.

        ``document`` is ``{"type": name, "payload": {...}}``, as a mapping, JSON
        text or UTF-8 JSON bytes. Raises ``EventError`` and nothing else.
        """
        envelope = _decode(document)
        if not isinstance(envelope, Mapping):
            raise EventError("document", f"must be a JSON object, got {_kind(envelope)}")
        outer = Payload(envelope, path="")
        name = outer.choice("type", self._builders) if "type" in envelope else None
        if name is None:
            raise EventError("type", f"is missing; known types: {', '.join(self.names())}")
        if "payload" not in envelope:
            raise EventError("payload", "is missing")
        outer._read.add("payload")
        extra = outer.unread()
        if extra:
            raise EventError(extra[0], "is not allowed next to type and payload")
        data = envelope["payload"]
        if not isinstance(data, Mapping):
            raise EventError("payload", f"must be an object, got {_kind(data)}")
        payload = Payload(data)
        event = self._builders[name](payload)
        extra = payload.unread()
        if extra:
            raise EventError(
                extra[0],
                f"was present but never read by the {name!r} event; every field present "
                "must be read (read optional fields with optional_text)",
            )
        return event


def _refuse_constant(name: str) -> object:
    # json.loads accepts NaN and Infinity by default; they are not JSON and not amounts.
    raise EventError("document", f"contains {name}, which is not valid JSON")


def _check_number_length(text: str) -> None:
    if len(text) > MAX_NUMBER_CHARACTERS:
        raise EventError(
            "document",
            f"contains a number {len(text)} characters long ({text[:20]}...); "
            f"numbers are limited to {MAX_NUMBER_CHARACTERS} characters",
        )


def _json_int(text: str) -> int:
    _check_number_length(text)  # int() itself refuses more than 4,300 digits, with a ValueError
    return int(text)


def _json_decimal(text: str) -> Decimal:
    # Decimal, not float: 19.99 in JSON stays exactly 19.99.
    _check_number_length(text)
    try:
        return Decimal(text)
    except InvalidOperation:  # 0e99999999999999999999: an exponent beyond decimal's range
        raise EventError(
            "document", f"contains the number {text}, whose exponent is too large to read"
        ) from None


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    obj: dict[str, object] = {}
    for key, value in pairs:
        if key in obj:
            raise EventError(
                "document",
                f"repeats the key {shown(key, 40)} in one object; send each key once "
                "(JSON readers disagree on which copy counts)",
            )
        obj[key] = value
    return obj


def _utf8_size(text: str) -> int:
    # "surrogatepass": a lone surrogate still has a size; refusing it is the getters' job.
    return len(text.encode("utf-8", "surrogatepass"))


def _decode(document: object) -> object:
    if isinstance(document, bytes | bytearray):
        if len(document) > MAX_DOCUMENT_BYTES:
            raise EventError("document", f"is larger than {MAX_DOCUMENT_BYTES} bytes")
        try:
            document = bytes(document).decode("utf-8")
        except UnicodeDecodeError as error:
            raise EventError("document", f"is not valid UTF-8 (byte {error.start})") from None
    if isinstance(document, str):
        # Every character is at least one byte: a long text is refused before encoding it.
        if len(document) > MAX_DOCUMENT_BYTES or _utf8_size(document) > MAX_DOCUMENT_BYTES:
            raise EventError("document", f"is larger than {MAX_DOCUMENT_BYTES} bytes in UTF-8")
        try:
            return json.loads(
                document,
                parse_float=_json_decimal,
                parse_int=_json_int,
                parse_constant=_refuse_constant,
                object_pairs_hook=_unique_keys,
            )
        except json.JSONDecodeError as error:
            raise EventError(
                "document",
                f"is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})",
            ) from None
        except RecursionError:
            raise EventError("document", "is nested too deeply") from None
    if isinstance(document, Mapping):
        return document
    raise EventError(
        "document", f"must be a mapping, JSON text or bytes, got {type(document).__name__}"
    )


# --- the course's events --------------------------------------------------------

EVENTS = EventRegistry()

ORDER_STATUSES: Final = ("created", "paid", "shipped", "cancelled")


@EVENTS.register("order")
@dataclass(frozen=True)
class OrderEvent:
    """An order changed state. Wire fields: ``id``, ``status``."""

    order_id: str
    status: str

    @classmethod
    def from_payload(cls, payload: Payload) -> OrderEvent:
        return cls(order_id=payload.text("id"), status=payload.choice("status", ORDER_STATUSES))


@EVENTS.register("payment")
@dataclass(frozen=True)
class PaymentEvent:
    """A payment was taken. Wire fields: ``txn``, ``amount``, ``currency``."""

    transaction_id: str
    amount: Money

    @classmethod
    def from_payload(cls, payload: Payload) -> PaymentEvent:
        return cls(transaction_id=payload.text("txn"), amount=payload.money("amount", "currency"))
