"""Grader for ex01: the legacy-table repository must pass the shared contract suite.

The tests themselves live in ``tests/test_repository_contract.py``
(:class:`CustomerRepositoryContract`); this file only says how to build the
learner's repository and how a second connection sees what it stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from types import ModuleType
from typing import Any

import psycopg
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from patterns.course.grading import Named, call_repr, grading_settings, load_graded
from patterns.lab import TemporaryServer
from patterns.repository import (
    AlreadyExists,
    Customer,
    InMemoryCustomerRepository,
    InvalidCustomer,
    NotFound,
)
from tests.test_repository_contract import CustomerRepositoryContract, Subject, emails_seen_by


@pytest.fixture(scope="module")
def ex01() -> ModuleType:
    return load_graded("ex01")


@pytest.fixture(scope="module")
def legacy_connections(
    ex01: ModuleType, postgres_server: TemporaryServer
) -> Iterator[tuple[psycopg.Connection[Any], psycopg.Connection[Any]]]:
    with (
        psycopg.connect(postgres_server.url, autocommit=True) as conn,
        psycopg.connect(postgres_server.url, autocommit=True) as observer,
    ):
        ex01.create_legacy_schema(conn)
        yield conn, observer


class TestLegacyCustomerRepository(CustomerRepositoryContract):
    """The contract suite, run against exercises/ex01_repository.py."""

    @pytest.fixture
    def subject(
        self,
        ex01: ModuleType,
        legacy_connections: tuple[psycopg.Connection[Any], psycopg.Connection[Any]],
    ) -> Subject:
        conn, observer = legacy_connections
        # Another client's view, committed data only; identities keep growing.
        observer.execute("TRUNCATE crm_contacts")
        return Subject(
            ex01.LegacyCustomerRepository(conn),
            emails_seen_by(observer, "SELECT email_address FROM crm_contacts ORDER BY contact_id"),
        )


# --- beyond the contract: the billing team's next migration, and generated scenarios ----------

#: The same table after a migration by its owners: columns in another order, one more column.
REORDERED_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS billing_next;
CREATE TABLE IF NOT EXISTS billing_next.crm_contacts (
    notes         text,
    email_address text NOT NULL UNIQUE,
    loyalty_tier  text NOT NULL DEFAULT 'none',
    created_at    timestamptz NOT NULL DEFAULT now(),
    display_name  text NOT NULL,
    contact_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY
)
"""
ON_REORDERED = "on crm_contacts after the billing team reordered its columns and added one"
BY_POSITION = (
    "The columns are in another order now, so code that reads them by position (SELECT *, "
    "row[0], row[1]) breaks; code that names them (SELECT contact_id AS id, ...) does not."
)

#: Grading settings: the same examples on every run, a bounded number of them.
GRADING = grading_settings(15)


@pytest.fixture(scope="module")
def reordered(
    postgres_server: TemporaryServer,
) -> Iterator[tuple[psycopg.Connection[Any], psycopg.Connection[Any]]]:
    """A connection whose crm_contacts is the reordered table, and an observer of that table."""
    with psycopg.connect(postgres_server.url, autocommit=True) as setup:
        setup.execute(REORDERED_SCHEMA)
    with (
        psycopg.connect(
            postgres_server.url, autocommit=True, options="-c search_path=billing_next"
        ) as conn,
        psycopg.connect(postgres_server.url, autocommit=True) as observer,
    ):
        yield conn, observer


def fresh_reordered_repository(
    ex01: ModuleType, reordered: tuple[psycopg.Connection[Any], psycopg.Connection[Any]]
) -> Any:
    conn, observer = reordered
    # RESTART IDENTITY: the first customer gets id 1, a boundary paging must include.
    observer.execute("TRUNCATE billing_next.crm_contacts RESTART IDENTITY")
    return ex01.LegacyCustomerRepository(conn)


def attempt(call: str, action: Callable[[], Any]) -> tuple[str, Any]:
    """("ok", value) or ("raised", the exception's class name), never a bare exception."""
    try:
        return "ok", action()
    except (AlreadyExists, NotFound, InvalidCustomer, ValueError) as error:
        return "raised", type(error).__name__
    except Exception as error:
        # The advice only for the driver's errors: a NameError in the learner's own
        # code, or the stub's NotImplementedError, is not psycopg's.
        from_driver = type(error).__module__.split(".")[0] == "psycopg"
        advice = (
            "; raise the domain's errors (AlreadyExists, NotFound, InvalidCustomer), "
            "never the driver's: check the arguments with patterns.repository's validators "
            "before any SQL runs"
            if from_driver
            else ""
        )
        pytest.fail(f"{call} raised {type(error).__name__}: {error}{advice}", pytrace=False)


@pytest.mark.hints(
    "Name every column you select and alias it: SELECT contact_id AS id, email_address AS email, "
    "display_name AS name. SELECT * and row[0], row[1]... break when the owners reorder columns.",
)
def test_works_when_the_billing_team_reorders_the_columns(
    ex01: ModuleType, reordered: tuple[psycopg.Connection[Any], psycopg.Connection[Any]]
) -> None:
    """Your repository works unchanged after the owners reorder the table's columns and add one."""
    repo = fresh_reordered_repository(ex01, reordered)
    call = call_repr("add", "ada@example.com", "Ada Lovelace")
    _, added = attempt(
        f"{call} {ON_REORDERED}", lambda: repo.add("ada@example.com", "Ada Lovelace")
    )
    assert added == Customer(1, "ada@example.com", "Ada Lovelace"), (
        f"{call} {ON_REORDERED} returned {added!r}; expected Customer(id=1, "
        f"email='ada@example.com', name='Ada Lovelace'). {BY_POSITION}"
    )
    for call, action in [
        ("get(1)", lambda: repo.get(1)),
        ("find_by_email('ada@example.com')", lambda: repo.find_by_email("ada@example.com")),
        ("page(limit=10)", lambda: repo.page(limit=10)),
    ]:
        _, got = attempt(f"{call} {ON_REORDERED}", action)
        expected = [added] if call.startswith("page") else added
        assert got == expected, (
            f"{call} {ON_REORDERED} returned {got!r}; expected {expected!r}. {BY_POSITION}"
        )


def test_add_many_takes_any_iterable_of_pairs(
    ex01: ModuleType, reordered: tuple[psycopg.Connection[Any], psycopg.Connection[Any]]
) -> None:
    """add_many() accepts any iterable of pairs, a generator too, read only once."""
    repo = fresh_reordered_repository(ex01, reordered)
    pairs = [("a@example.com", "A"), ("b@example.com", "B")]
    call = "add_many(a generator of 2 pairs)"
    _, added = attempt(call, lambda: repo.add_many(pair for pair in pairs))
    got = [(c.email, c.name) for c in added] if isinstance(added, list) else added
    assert got == pairs, (
        f"{call} returned {added!r}; expected both customers. A generator can be read only "
        "once: turn it into a list first (validate, then insert from that list)."
    )


@dataclass(frozen=True)
class Odd:
    """An argument that is not an id at all, passed to get, remove or page as it is."""

    value: Any


#: Arguments the driver chokes on or misreads; the validators give the in-memory answer.
ODD_CALLS: dict[str, tuple[str, Any]] = {
    "NUL in a looked-up address": ("find_by_email", "nul\x00@example.com"),
    "lone surrogate in a looked-up address": ("find_by_email", "\ud800@example.com"),
    "a number as an address": ("find_by_email", 1),
    "True as an id": ("get", True),
    "True as an id to remove": ("remove", True),
    "an id as a string": ("get", "1"),
    "an id as a string to remove": ("remove", "1"),
    "an id of 5,000 digits": ("get", 10**5000),
}
ODD_IDS = [Odd(True), Odd("1")]
ODD_EMAILS = ["nul\x00@example.com", "\ud800@example.com"]


def shown(argument: Any) -> Any:
    """The argument as a failure message shows it (repr() refuses an int of 5,000 digits)."""
    if isinstance(argument, int) and argument.bit_length() > 256:
        return Named(f"<an int of {argument.bit_length()} bits>")
    return argument


@pytest.mark.parametrize("case", list(ODD_CALLS))
@pytest.mark.hints(
    "get and remove: start with `wanted = validate_id(customer_id)` and query with `wanted`: "
    "it raises InvalidCustomer for True or '1' (PostgreSQL would fail on True and find '1') "
    "and NotFound for an id no customer can have.",
    "find_by_email: start with `wanted = searchable_email(email)`; it raises InvalidCustomer "
    "for a non-str, and None means no customer can have that address (a NUL byte, a lone "
    "surrogate): return None without asking the database.",
)
def test_odd_arguments_get_the_domain_answer_not_a_driver_error(
    ex01: ModuleType,
    reordered: tuple[psycopg.Connection[Any], psycopg.Connection[Any]],
    case: str,
) -> None:
    """An address with a NUL byte or a lone surrogate, True or '1' as an id: the domain's answer, never a driver error."""
    repo = fresh_reordered_repository(ex01, reordered)
    model = InMemoryCustomerRepository()
    first = call_repr("add", "ada@example.com", "Ada")
    attempt(first, lambda: repo.add("ada@example.com", "Ada"))
    model.add("ada@example.com", "Ada")
    name, argument = ODD_CALLS[case]
    call = call_repr(name, shown(argument))
    expected = attempt(call, lambda: getattr(model, name)(argument))
    got = attempt(call, lambda: getattr(repo, name)(argument))
    assert got == expected, (
        f"after {first} (id 1), {call} {'returned' if got[0] == 'ok' else 'raised'} {got[1]!r}; "
        f"expected it to {'return' if expected[0] == 'ok' else 'raise'} {expected[1]!r} ({case})"
    )
    _, observer = reordered
    stored = [
        row[0] for row in observer.execute("SELECT email_address FROM billing_next.crm_contacts")
    ]
    assert stored == ["ada@example.com"], (
        f"after {first} (id 1) and {call}, another client sees {stored!r}: "
        f"a lookup, or a call the domain refuses, changes nothing ({case})"
    )


# One scenario is a list of calls, run on your repository and on the in-memory one.
EMAILS = [
    "ada@example.com",
    "bob@example.com",
    "o'brien@example.com",
    "zoë@exämple.ﾃｽﾄ",
    "no-at-sign",
]
NAMES = ["Ada", "Bob", "Miles O'Brien", "Zoë 🧪", "   "]
pairs = st.tuples(st.sampled_from(EMAILS), st.sampled_from(NAMES))
#: An index into the customers added so far (removed ones included), None: an id never
#: given, or an Odd argument that is no id at all.
refs = st.none() | st.integers(0, 6) | st.sampled_from(ODD_IDS)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), pairs),
        st.tuples(st.just("add_many"), st.lists(pairs, max_size=3)),
        st.tuples(st.just("get"), refs),
        st.tuples(st.just("find_by_email"), st.sampled_from(EMAILS + ODD_EMAILS)),
        st.tuples(st.just("remove"), refs),
        st.tuples(st.just("page"), st.tuples(st.integers(1, 4), refs)),
    ),
    min_size=1,
    max_size=12,
)
NEVER_GIVEN = [0, -1, 2**63 - 1]


@GRADING
@given(scenario=operations)
@example(
    scenario=[
        ("add_many", [("ada@example.com", "Ada"), ("bob@example.com", "Bob")]),
        ("remove", 0),
        ("page", (1, None)),
        ("add", ("ada@example.com", "Ada again")),
        ("page", (2, 1)),
        ("get", None),
    ]
)
@pytest.mark.hints(
    "Each step of the scenario is checked against the in-memory repository: read the calls "
    "listed in the failure from the top, and run them yourself in the notebook.",
)
def test_any_sequence_of_calls_behaves_like_the_in_memory_repository(
    ex01: ModuleType,
    reordered: tuple[psycopg.Connection[Any], psycopg.Connection[Any]],
    scenario: list[tuple[str, Any]],
) -> None:
    """Any sequence of add, add_many, get, find_by_email, remove and page gives the in-memory repository's answers."""
    repo = fresh_reordered_repository(ex01, reordered)
    model = InMemoryCustomerRepository()
    real_ids: list[Any] = []  # the id your repository gave each customer added, in order
    model_ids: list[int] = []  # the in-memory repository's id for the same customer
    done: list[str] = []

    def as_real(value: Any) -> Any:
        """The model's answer, with each id replaced by the id your repository gave."""
        if isinstance(value, Customer):
            return Customer(real_ids[model_ids.index(value.id)], value.email, value.name)
        if isinstance(value, list):
            return [as_real(v) for v in value]
        return value

    for step, (name, argument) in enumerate(scenario):
        never_given = NEVER_GIVEN[step % len(NEVER_GIVEN)]
        real_call = describe_step(name, argument, real_ids, never_given)
        expected = attempt(
            real_call, partial(perform, model, name, argument, model_ids, never_given)
        )
        got = attempt(real_call, partial(perform, repo, name, argument, real_ids, never_given))
        if name in ("add", "add_many") and expected[0] == got[0] == "ok":
            model_ids.extend(c.id for c in as_list(expected[1]))
            real_ids.extend(getattr(c, "id", None) for c in as_list(got[1]))
        wanted = (expected[0], as_real(expected[1]))
        done.append(real_call)
        assert got == wanted, (
            f"after {'; '.join(done[:-1][-6:]) or 'nothing else'} {ON_REORDERED}, {real_call} "
            f"{'returned' if got[0] == 'ok' else 'raised'} {got[1]!r}; expected it to "
            f"{'return' if wanted[0] == 'ok' else 'raise'} {wanted[1]!r}"
        )


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def customer_id(ref: int | Odd | None, ids: list[Any], never_given: int) -> Any:
    """The id of the customer added ``ref``-th (cycling), an id never given, or the Odd value."""
    if isinstance(ref, Odd):
        return ref.value
    return ids[ref % len(ids)] if ref is not None and ids else never_given


def perform(repo: Any, name: str, argument: Any, ids: list[Any], never_given: int) -> Any:
    """One step of a scenario on ``repo``, whose ids of the customers added so far are ``ids``."""
    if name == "add":
        return repo.add(*argument)
    if name == "add_many":
        return repo.add_many(argument)
    if name == "find_by_email":
        return repo.find_by_email(argument)
    if name in ("get", "remove"):
        return getattr(repo, name)(customer_id(argument, ids, never_given))
    limit, ref = argument
    return repo.page(limit=limit, after=None if ref is None else customer_id(ref, ids, never_given))


def describe_step(name: str, argument: Any, ids: list[Any], never_given: int) -> str:
    if name == "add":
        return call_repr(name, *argument)
    if name in ("add_many", "find_by_email"):
        return call_repr(name, argument)
    if name in ("get", "remove"):
        return call_repr(name, customer_id(argument, ids, never_given))
    limit, ref = argument
    after = None if ref is None else customer_id(ref, ids, never_given)
    return call_repr("page", limit=limit, after=after)
