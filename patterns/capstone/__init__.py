"""The capstone: a small checkout service that uses every pattern of the course.

An ``order_placed`` event (JSON) is parsed by a **factory** into a typed
event; the order is stored through **repositories** on PostgreSQL inside
**transactions** that are context managers; it is charged through a payment
gateway chosen as a **strategy**, with **retries** (capped, jittered
backoff) and an **idempotency key** derived from the order; the payment is
recorded; a **generator** pipeline streams the reconciliation report. One
**composition root** (:func:`bootstrap`) builds the real objects.

The modules, in the order a request meets them:

* ``domain``: :class:`Order`, :class:`OrderPlaced`, :func:`idempotency_key_for`
* ``storage``: the schema, the repositories, :class:`Database` (reconnects)
* ``gateways``: :class:`PaymentGateway`, :class:`HttpGateway`, :class:`InMemoryGateway`
* ``service``: :class:`CheckoutService`, :func:`charge_order`
* ``reconciliation``: :func:`reconcile`, :func:`summarize`, :data:`INVARIANTS`
* ``bootstrap``: :class:`Settings`, :func:`bootstrap`, :class:`App`
* ``chaos``: the fault-injected scenario (:func:`run_scenario`)

When not to build it like this: a script that charges ten orders once needs
none of it. The layers pay off when the service must survive failures and be
tested without the network.
"""

from patterns.capstone.bootstrap import App, ConfigError, Settings, bootstrap
from patterns.capstone.domain import CHECKOUT_EVENTS, Order, OrderPlaced, idempotency_key_for
from patterns.capstone.gateways import GATEWAYS, HttpGateway, InMemoryGateway, PaymentGateway
from patterns.capstone.reconciliation import (
    INVARIANTS,
    ReportLine,
    ReportSummary,
    import_statement,
    reconcile,
    summarize,
    violations,
)
from patterns.capstone.service import CheckoutService, RunSummary, charge_order
from patterns.capstone.storage import (
    Database,
    OrderConflict,
    Receipt,
    UnitOfWork,
    create_schema,
    is_connection_lost,
    wipe,
)

__all__ = [
    "CHECKOUT_EVENTS",
    "GATEWAYS",
    "INVARIANTS",
    "App",
    "CheckoutService",
    "ConfigError",
    "Database",
    "HttpGateway",
    "InMemoryGateway",
    "Order",
    "OrderConflict",
    "OrderPlaced",
    "PaymentGateway",
    "Receipt",
    "ReportLine",
    "ReportSummary",
    "RunSummary",
    "Settings",
    "UnitOfWork",
    "bootstrap",
    "charge_order",
    "create_schema",
    "idempotency_key_for",
    "import_statement",
    "is_connection_lost",
    "reconcile",
    "summarize",
    "violations",
    "wipe",
]
