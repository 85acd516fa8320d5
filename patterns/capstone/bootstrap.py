"""The composition root: the one place that builds the checkout's real collaborators.

The service receives them (lesson 04); the connection itself is opened by the
:class:`Database` built here: first while ``bootstrap`` creates the tables, and
again after every drop.
``bootstrap(settings)`` reads nothing global: configuration arrives as
:class:`Settings` (from the environment with :meth:`Settings.from_env`), and
what tests and notebooks replace (``sleep``, the random source, the charge step,
a trace hook) are keyword arguments. It returns an :class:`App`, a context
manager that closes the HTTP client and the database connection, whatever
happens (``ExitStack``, lesson 02).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType

import httpx
import psycopg
import psycopg.conninfo

from patterns.capstone.gateways import GATEWAYS, PaymentGateway
from patterns.capstone.service import (
    SETTLE_WITHIN,
    ChargeStep,
    CheckoutService,
    Trace,
    charge_order,
    ignore_trace,
)
from patterns.capstone.storage import CONNECT_TIMEOUT, Database, is_connection_lost
from patterns.retry import retry
from patterns.strategy import UnknownStrategyError, choose

__all__ = ["App", "ConfigError", "Settings", "bootstrap"]


class ConfigError(ValueError):
    """A missing or malformed setting; the message names the setting.

    The one error :class:`Settings` raises: catch ``ConfigError`` and you have
    them all, an unknown gateway name included. Settings checks the form of
    each value, not whether the URLs lead anywhere: a database that refuses
    the connection stops :func:`bootstrap` with psycopg's ``OperationalError``,
    and a gateway nobody answers at shows only when the first order is
    charged (it stays ``pending``).
    """


class _UnknownGateway(ConfigError, UnknownStrategyError):
    # Also an UnknownStrategyError, so code written against choose()'s own error
    # keeps working.
    pass


@dataclass(frozen=True)
class Settings:
    """How to reach the database and the gateway, and how hard to retry them."""

    database_url: str
    gateway: str = "http"  # a name in GATEWAYS
    gateway_url: str = "http://127.0.0.1:8080"
    gateway_timeout: float = 2.0  # seconds to wait for the gateway's answer
    gateway_attempts: int = 6
    database_attempts: int = 5
    #: Whole seconds one database connection attempt may wait for the server.
    database_connect_timeout: int = CONNECT_TIMEOUT
    #: How long a pending order is retried; keep it below the provider's
    #: idempotency-key retention (see ``patterns.capstone.service``).
    settle_within: timedelta = SETTLE_WITHIN

    def __post_init__(self) -> None:
        for name in ("database_url", "gateway", "gateway_url"):
            if not isinstance(getattr(self, name), str):
                raise ConfigError(f"{name} must be a string, got {getattr(self, name)!r:.60}")
        if not self.database_url.startswith(("postgresql://", "postgres://")):
            raise ConfigError(
                f"CHECKOUT_DATABASE_URL must be a postgresql:// URL, got {self.database_url!r:.60}"
            )
        _check_database_url(self.database_url)
        try:
            choose(self.gateway, GATEWAYS, setting="CHECKOUT_GATEWAY")
        except UnknownStrategyError as error:
            raise _UnknownGateway(str(error)) from None
        if not self.gateway_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"CHECKOUT_GATEWAY_URL must be an http(s):// URL, got {self.gateway_url!r:.60}"
            )
        _check_gateway_url(self.gateway_url)
        timeout_is_a_number = isinstance(self.gateway_timeout, int | float) and not isinstance(
            self.gateway_timeout, bool
        )
        if not timeout_is_a_number or not 0 < self.gateway_timeout < math.inf:
            raise ConfigError(
                f"gateway_timeout must be > 0 s and finite, got {self.gateway_timeout!r}; "
                "give the seconds to wait for the gateway's answer"
            )
        for name in ("gateway_attempts", "database_attempts"):
            attempts = getattr(self, name)
            if type(attempts) is not int or attempts < 1:
                raise ConfigError(
                    f"{name} must be a whole number of at least 1, got {attempts!r}; "
                    "set it to 1 for one try and no retry, or higher to retry"
                )
        timeout = self.database_connect_timeout
        if type(timeout) is not int or timeout < 2:
            raise ConfigError(
                f"database_connect_timeout must be a whole number of seconds, at least 2 "
                f"(psycopg's minimum), got {timeout!r}; it bounds how long each connection "
                "attempt waits for the database server"
            )
        if not isinstance(self.settle_within, timedelta) or self.settle_within <= timedelta(0):
            raise ConfigError(
                f"settle_within must be a positive timedelta, got {self.settle_within!r}; "
                "keep it below the provider's idempotency-key retention (23 hours for 24)"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read ``CHECKOUT_DATABASE_URL`` (required), ``CHECKOUT_GATEWAY``
        (``http`` or ``memory``) and ``CHECKOUT_GATEWAY_URL``."""
        url = environ.get("CHECKOUT_DATABASE_URL", "")
        if not url:
            raise ConfigError(
                "CHECKOUT_DATABASE_URL is not set; set it to the database's URL, "
                "e.g. postgresql://shop@localhost/shop"
            )
        return cls(
            database_url=url,
            gateway=environ.get("CHECKOUT_GATEWAY", "http"),
            gateway_url=environ.get("CHECKOUT_GATEWAY_URL", "http://127.0.0.1:8080"),
        )


_PORT_RULE = "a port is a whole number from 1 to 65535"


def _bad_port(port: str) -> bool:
    return not (port.isdigit() and 1 <= int(port) <= 65535)


def _check_database_url(url: str) -> None:
    """Parse it as psycopg will, so a typo fails at start-up, not after five reconnects."""
    try:
        parts = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as error:
        raise ConfigError(f"CHECKOUT_DATABASE_URL cannot be read: {str(error).strip()}") from None
    # One port per host; an empty one is the default port (libpq's rule).
    for port in str(parts.get("port", "")).split(","):
        if port and _bad_port(port):
            raise ConfigError(f"CHECKOUT_DATABASE_URL has port {port!r}; {_PORT_RULE}")


def _check_gateway_url(url: str) -> None:
    """Parse it as httpx will; httpx itself accepts a port above 65535."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise ConfigError(f"CHECKOUT_GATEWAY_URL cannot be read: {error}") from None
    if not parsed.host:
        raise ConfigError(f"CHECKOUT_GATEWAY_URL names no host, got {url!r:.60}")
    if parsed.port is not None and _bad_port(str(parsed.port)):
        raise ConfigError(f"CHECKOUT_GATEWAY_URL has port {parsed.port}; {_PORT_RULE}")


@dataclass
class App:
    """The assembled service and the resources it holds; close it (or use ``with``)."""

    service: CheckoutService
    database: Database
    gateway: PaymentGateway
    _resources: ExitStack

    def close(self) -> None:
        self._resources.close()

    def __enter__(self) -> App:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def bootstrap(
    settings: Settings,
    *,
    sleep: Callable[[float], object] = time.sleep,
    rng: random.Random | None = None,
    charge_step: ChargeStep = charge_order,
    trace: Trace = ignore_trace,
) -> App:
    """Build the real checkout: database, HTTP client, gateway, retry policies, service.

    Creates the tables if they are missing. ``sleep`` and ``rng`` drive both
    retry policies (pass a recorder and a seeded ``Random`` to run without
    waiting and reproducibly).
    """
    rng = rng if rng is not None else random.Random()
    with ExitStack() as resources:  # if building fails half-way, what was opened is closed
        database = Database(
            settings.database_url,
            # Reconnecting after a killed session is quick: 4 pauses of at most
            # 0.05 + 0.1 + 0.2 + 0.4 s, and each of the 5 attempts waits at most
            # connect_timeout (2 s) for a server that does not answer: with the
            # defaults, 10.75 s in the worst case, plus the time to resolve the
            # host name, which connect_timeout does not bound. A failover or
            # restart usually takes far longer (Amazon RDS documents 60-120 s for
            # a Multi-AZ instance failover): an outage to page someone about, not
            # to retry through here.
            connect_timeout=settings.database_connect_timeout,
            retry=retry(
                max_attempts=settings.database_attempts,
                base_delay=0.05,
                max_delay=1.0,
                retry_on=is_connection_lost,
                sleep=sleep,
                rng=rng,
            ),
        )
        resources.callback(database.close)
        client = resources.enter_context(
            httpx.Client(
                base_url=settings.gateway_url,
                timeout=httpx.Timeout(settings.gateway_timeout, connect=2.0),
            )
        )
        gateway = GATEWAYS[settings.gateway](client)  # the name was checked by Settings
        gateway_retry = retry(
            max_attempts=settings.gateway_attempts,
            base_delay=0.2,
            max_delay=5.0,
            sleep=sleep,
            rng=rng,
        )
        service = CheckoutService(
            database=database,
            gateway=gateway,
            gateway_retry=gateway_retry,
            charge_step=charge_step,
            trace=trace,
            settle_within=settings.settle_within,
        )
        database.create_schema()
        # Built without error: from now on the App, not this block, closes them.
        owned = resources.pop_all()
    return App(service, database, gateway, owned)
