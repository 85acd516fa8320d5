"""Payment gateways as strategies: the service charges through whichever one it was given.

* :class:`PaymentGateway`: the Protocol the service depends on. One method,
  one attempt: ``charge(amount, idempotency_key=...)`` returns a
  :class:`~patterns.capstone.storage.Receipt` or raises. Retrying is the
  caller's job, in one place (lesson 07: retries in several layers multiply).
* :class:`HttpGateway`: the real thing, a JSON API over HTTP (in the course,
  the flaky server of lesson 07). Transport errors and 5xx answers surface as
  httpx exceptions, which ``patterns.retry.is_transient`` classifies.
* :class:`InMemoryGateway`: a fake for fast tests of the service; it honours
  idempotency keys like a real provider.
* :data:`GATEWAYS`: the registry the composition root picks from by name
  (``patterns.strategy.choose``).

When not to use a strategy here: a shop with one provider that will never
change can call that provider's client directly; the Protocol still pays off in
tests, where the fake replaces the network.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from patterns.capstone.storage import Receipt
from patterns.money import Money
from patterns.strategy import GatewayError

__all__ = ["GATEWAYS", "GatewayError", "HttpGateway", "InMemoryGateway", "PaymentGateway"]


class PaymentGateway(Protocol):
    """Charge ``amount`` once; a second call with the same key must not charge again."""

    def charge(self, amount: Money, *, idempotency_key: str) -> Receipt: ...


class HttpGateway:
    """A payment provider's HTTP API: ``POST /charges`` with an ``Idempotency-Key`` header.

    ``client`` is an ``httpx.Client`` whose ``base_url`` and timeouts the
    composition root chose; this class neither builds nor closes it.
    """

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def charge(self, amount: Money, *, idempotency_key: str) -> Receipt:
        response = self._client.post(
            "/charges",
            json={"amount": amount.minor, "currency": amount.currency},
            headers={"Idempotency-Key": idempotency_key},
        )
        response.raise_for_status()  # a 503 becomes an exception the retry policy can see
        return _receipt(response, amount, idempotency_key)


def _receipt(response: httpx.Response, amount: Money, key: str) -> Receipt:
    """Check the provider's answer before trusting it: a wrong amount is not a payment."""
    try:
        body: Any = response.json()
        charge_id, charged = body["id"], Money(body["amount"], body["currency"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise GatewayError(
            f"the gateway answered {response.status_code} with an unreadable body "
            f"({response.text[:80]!r}): {error}"
        ) from None
    if charged != amount or not isinstance(charge_id, str):
        raise GatewayError(f"asked the gateway for {amount}, it reports {charged} ({charge_id!r})")
    return Receipt(charge_id, charged, key, replayed=bool(body.get("replayed", False)))


@dataclass
class InMemoryGateway:
    """A provider in a dict, for tests: every charge kept, keys honoured.

    ``before_charge`` (optional) is called before each attempt: a test can
    raise from it to script a failure.
    """

    charges: list[Receipt] = field(default_factory=list)
    before_charge: Callable[[Money, str], None] | None = None
    _by_key: dict[str, Receipt] = field(default_factory=dict)

    def charge(self, amount: Money, *, idempotency_key: str) -> Receipt:
        if self.before_charge is not None:
            self.before_charge(amount, idempotency_key)
        if idempotency_key in self._by_key:
            first = self._by_key[idempotency_key]
            if first.amount != amount:
                raise GatewayError(f"idempotency key {idempotency_key!r} reused for another amount")
            return Receipt(first.charge_id, first.amount, idempotency_key, replayed=True)
        receipt = Receipt(f"mem_{len(self.charges) + 1:04d}", amount, idempotency_key)
        self.charges.append(receipt)
        self._by_key[idempotency_key] = receipt
        return receipt


#: Gateway builders by configuration name; each takes an ``httpx.Client``
#: (the in-memory one ignores it).
GATEWAYS: dict[str, Callable[[httpx.Client], PaymentGateway]] = {
    "http": HttpGateway,
    "memory": lambda client: InMemoryGateway(),
}
