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
  never a bare ``KeyError`` or ``TypeError`` from deep inside.

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
from decimal import Decimal
from typing import Any, Final, TypeVar

from patterns.money import CURRENCIES, Money, MoneyError

__all__ = [
    "EVENTS",
    "MAX_DOCUMENT_BYTES",
    "ORDER_STATUSES",
    "EventError",
    "EventRegistry",
    "OrderEvent",
    "Payload",
    "PaymentEvent",
]

#: Documents larger than this are refused before parsing (memory, and JSON bombs).
MAX_DOCUMENT_BYTES: Final = 64 * 1024

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
    if not isinstance(key, str):
        return f"{path}[{key!r:.40}]"
    return f"{path}.{key:.40}" if path else f"{key:.40}"


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
        return [_field_name(key, self._path) for key in self._data if key not in self._read]


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
            raise EventError(extra[0], f"is not a field of a {name!r} event")
        return event


def _refuse_constant(name: str) -> object:
    # json.loads accepts NaN and Infinity by default; they are not JSON and not amounts.
    raise EventError("document", f"contains {name}, which is not valid JSON")


def _decode(document: object) -> object:
    if isinstance(document, bytes | bytearray):
        if len(document) > MAX_DOCUMENT_BYTES:
            raise EventError("document", f"is larger than {MAX_DOCUMENT_BYTES} bytes")
        try:
            document = bytes(document).decode("utf-8")
        except UnicodeDecodeError as error:
            raise EventError("document", f"is not valid UTF-8 (byte {error.start})") from None
    if isinstance(document, str):
        if len(document) > MAX_DOCUMENT_BYTES:
            raise EventError("document", f"is larger than {MAX_DOCUMENT_BYTES} characters")
        try:
            # parse_float=Decimal: 19.99 in JSON stays exactly 19.99, never a float.
            return json.loads(document, parse_float=Decimal, parse_constant=_refuse_constant)
        except EventError:
            raise
        except json.JSONDecodeError as error:
            raise EventError(
                "document",
                f"is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})",
            ) from None
        except RecursionError:
            raise EventError("document", "is nested too deeply") from None
        except ValueError as error:  # e.g. an integer with thousands of digits
            raise EventError("document", f"is not acceptable JSON ({error})") from None
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
