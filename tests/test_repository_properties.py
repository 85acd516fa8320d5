"""Swap the database, same behaviour: the two repositories agree on hostile input.

Hypothesis writes a short script of calls (``add``, ``add_many``, ``get``,
``find_by_email``, ``remove``, ``page``) with hostile arguments (all of Unicode,
NUL, lone surrogates, 10,000-character strings, quotes and SQL, ids of the
wrong type or beyond ``bigint``) and runs it on the in-memory and the
PostgreSQL repositories. Each call must give the same result or the same
domain error on both, and after each call a second connection must see exactly
what the in-memory repository holds: nothing half-written.

Ids are compared by the order customers were added, not by value: a failed
insert consumes a PostgreSQL sequence number (sequences are not transactional),
so the two implementations may number the same customers differently, and the
contract only promises distinct increasing ids.

This runs against the course's two implementations only; ex01's grader runs the
example-based contract (``tests/test_repository_contract.py``).
Budgets: ``tests/property_budget.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from patterns.lab import TemporaryServer
from patterns.repository import (
    MAX_ID,
    Customer,
    CustomerRepository,
    InMemoryCustomerRepository,
    NotFound,
    PostgresCustomerRepository,
    RepositoryError,
    create_schema,
)
from tests.hostile_input import NASTY_FRAGMENTS, hostile_text, huge_ints
from tests.property_budget import budget

pytestmark = pytest.mark.postgres


@dataclass(frozen=True)
class Ref:
    """The id of the ``index``-th customer added so far, as ``shape`` makes it (an int,
    or a wrong type built from it: ``"3"``, ``3.0``, ``Decimal(3)``)."""

    index: int
    shape: str = "int"

    def resolve(self, issued: list[int]) -> object:
        customer_id = issued[self.index % len(issued)] if issued else 1
        shapes: dict[str, Callable[[int], object]] = {
            "int": int,
            "str": str,
            "float": float,
            "decimal": Decimal,
        }
        return shapes[self.shape](customer_id)


# Ids no implementation ever issues, and values that are not ids at all.
foreign_ids = st.one_of(
    st.sampled_from([0, -1, MAX_ID + 1, -(2**63) - 1, 2**64, True, False, None, b"1", "1"]),
    huge_ints,
    st.floats(),
    hostile_text,
)
ids = st.builds(Ref, st.integers(0, 5), st.sampled_from(["int", "int", "str", "float", "decimal"]))
id_arguments = ids | foreign_ids

well_formed_emails = st.builds(
    lambda local, domain: f"{local}@{domain}",
    hostile_text | st.sampled_from(NASTY_FRAGMENTS),
    hostile_text | st.sampled_from(["example.com", "exämple.ﾃｽﾄ"]),
)
# A few fixed addresses, so that duplicates happen often.
familiar_emails = st.sampled_from(
    ["ada@example.com", "o'brien@example.com", "x'); DROP TABLE customers; --@evil.example"]
)
not_text = st.one_of(st.none(), st.integers(), huge_ints, st.binary(max_size=5), st.booleans())
emails = familiar_emails | well_formed_emails | hostile_text | not_text
names = st.sampled_from(["Ada", "", "  "]) | hostile_text | not_text

operations = st.one_of(
    st.tuples(st.just("add"), emails, names),
    st.tuples(st.just("add_many"), st.lists(st.tuples(emails, names), max_size=4)),
    st.tuples(st.just("get"), id_arguments),
    st.tuples(st.just("remove"), id_arguments),
    st.tuples(st.just("find_by_email"), emails),
    st.tuples(
        st.just("page"),
        st.integers(-1, 1_001) | foreign_ids,
        st.none() | id_arguments,
    ),
)


@dataclass
class Run:
    """One implementation running the script, and how it numbered its customers."""

    repo: CustomerRepository
    stored: Callable[[], list[Customer]]
    issued: list[int] = field(default_factory=list)

    def resolve(self, argument: object) -> object:
        return argument.resolve(self.issued) if isinstance(argument, Ref) else argument

    def normal(self, value: object) -> object:
        """``value`` with each customer's id replaced by the order it was added in."""
        if isinstance(value, Customer):
            return (self.issued.index(value.id), value.email, value.name)
        if isinstance(value, list):
            return [self.normal(item) for item in value]
        return value

    def call(self, operation: tuple[Any, ...]) -> tuple[str, object]:
        """What the call gave: ``("returned", value)`` or a domain error's type and message.

        Any other exception (a driver error, UnicodeEncodeError) propagates and fails
        the test: that is what the property is about.
        """
        name, *arguments = operation
        if name == "add_many":
            arguments = [list(arguments[0])]
        resolved = [self.resolve(argument) for argument in arguments]
        try:
            result = getattr(self.repo, name)(*resolved)
        except NotFound:
            return ("NotFound", "")  # its message names an id, which may differ
        except RepositoryError as error:  # page() arguments too: InvalidCustomer
            message = str(error)
            for argument, value in zip(arguments, resolved, strict=True):
                if isinstance(argument, Ref):  # "got float: 2.0" names this run's id
                    message = message.replace(str(value), f"<id #{argument.index}>")
            return (type(error).__name__, message)
        if name in ("add", "add_many"):
            added = result if isinstance(result, list) else [result]
            self.issued.extend(customer.id for customer in added)
        return ("returned", self.normal(result))


def short(value: object) -> str:
    try:
        return repr(value)[:300]
    except ValueError:  # an int past 4,300 digits somewhere inside
        return f"<{type(value).__name__} holding an int too long to print>"


@pytest.fixture(scope="module")
def connections(
    postgres_server: TemporaryServer,
) -> Iterator[tuple[psycopg.Connection[Any], psycopg.Connection[Any]]]:
    """The repository's connection and a second one that observes what was committed."""
    with (
        psycopg.connect(postgres_server.url, autocommit=True) as conn,
        psycopg.connect(postgres_server.url, autocommit=True) as observer,
    ):
        create_schema(conn)
        yield conn, observer


def fresh_runs(
    connections: tuple[psycopg.Connection[Any], psycopg.Connection[Any]],
) -> tuple[Run, Run]:
    conn, observer = connections
    observer.execute("TRUNCATE customers")
    memory = InMemoryCustomerRepository()

    def seen_by_observer() -> list[Customer]:
        rows = observer.execute("SELECT id, email, name FROM customers ORDER BY id").fetchall()
        return [Customer(*row) for row in rows]

    return (
        Run(memory, lambda: memory.page(limit=1_000)),
        Run(PostgresCustomerRepository(conn), seen_by_observer),
    )


@budget(ci=60, long=1_500)
@given(st.lists(operations, min_size=1, max_size=8))
@example([("add", "nul@example.com", "Nu\x00l"), ("find_by_email", "nul\x00@example.com")])
@example([("add", "\ud800@example.com", "Lone"), ("add", "ok@example.com", "\udfff")])
@example([("add", "a@example.com", "A"), ("get", Ref(0, "str")), ("get", True)])
@example([("add", "a@example.com", "A"), ("find_by_email", 1), ("remove", Ref(0, "float"))])
@example([("get", 10**5000), ("page", 10, 10**5000), ("remove", -(2**63) - 1)])
@example([("add_many", [("a@example.com", "A"), ("b@example.com", "\ud800")])])
@example([("add_many", [("a@example.com", "A"), ("a@example.com", "Again")])])
def test_both_repositories_agree_call_by_call(
    connections: tuple[psycopg.Connection[Any], psycopg.Connection[Any]],
    script: list[tuple[Any, ...]],
) -> None:
    memory, postgres = fresh_runs(connections)
    for step, operation in enumerate(script):
        expected, got = memory.call(operation), postgres.call(operation)
        where = f"step {step} of {short(script)}"
        assert got == expected, f"{where}: in memory {short(expected)}, PostgreSQL {short(got)}"
        in_memory = memory.normal(memory.stored())
        committed = postgres.normal(postgres.stored())
        assert committed == in_memory, (
            f"{where}: a second connection sees {short(committed)}, "
            f"the in-memory repository holds {short(in_memory)}"
        )
