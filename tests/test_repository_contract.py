"""One contract suite for every customer repository: in memory, PostgreSQL, and ex01's.

:class:`CustomerRepositoryContract` holds the tests; a subclass supplies a
``subject`` fixture (the repository, plus a way to see what is *stored*, for
PostgreSQL through a second connection). This file runs the contract against
the in-memory and the PostgreSQL implementations; the ex01 grader subclasses
the same class for the learner's implementation. Passing the same suite is
what makes "test with memory, run on PostgreSQL" an honest claim.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from patterns.course.grading import call_repr
from patterns.lab import TemporaryServer
from patterns.repository import (
    AlreadyExists,
    Customer,
    CustomerRepository,
    InMemoryCustomerRepository,
    InvalidCustomer,
    NotFound,
    PostgresCustomerRepository,
    create_schema,
)


@dataclass
class Subject:
    """A repository under test and an independent view of what it has stored."""

    repo: CustomerRepository
    #: Every stored e-mail, in id order, as another client would see it.
    stored_emails: Callable[[], list[str]]


#: Text that has broken real systems; every item must round-trip unchanged.
AWKWARD_TEXT = {
    "single quotes": ("o'brien@example.com", "Miles O'Brien"),
    "sql in the address": ("x'); DROP TABLE customers; --@evil.example", "Robert'); --"),
    "semicolons and percent": ("a;b%s%%@example.com", "100% sure; really"),
    "backslashes": ("back\\slash@example.com", "C:\\Users\\n\\t"),
    "unicode": ("zoë@exämple.ﾃｽﾄ", "Zoë 🧪 Ωμέγα שלום 𝔘𝔫𝔦"),
    "combining marks": ("e\u0301@example.com", "Ame\u0301lie"),
    "10,000-character name": ("long@example.com", "x" * 10_000),
    "newlines and tabs": ("tab\t@example.com", "line one\nline two\r\n"),
}

#: Input no implementation may store; each must raise InvalidCustomer naming the field.
UNSTORABLE = {
    "NUL in email": ("nul\x00@example.com", "Nul", "email"),
    "NUL in name": ("nul@example.com", "Nu\x00l", "name"),
    "10,001-character name": ("long@example.com", "x" * 10_001, "name"),
    "10,000-character email": ("x" * 9_988 + "@example.com", "Long", "email"),
    "empty name": ("empty@example.com", "", "name"),
    "blank name": ("blank@example.com", "   ", "name"),
    "email without @": ("not-an-address", "No At", "email"),
    "email that is None": (None, "None", "email"),
    "name that is a number": ("number@example.com", 42, "name"),
}


def _ids(customers: list[Customer]) -> list[int]:
    return [c.id for c in customers]


class CustomerRepositoryContract:
    """Behaviour every :class:`CustomerRepository` must have. Subclasses provide ``subject``."""

    def test_add_returns_the_customer_with_an_id_and_get_finds_it(self, subject: Subject) -> None:
        """add() returns a Customer carrying the e-mail, the name and a new id that get() finds."""
        added = subject.repo.add("ada@example.com", "Ada Lovelace")
        call = call_repr("add", "ada@example.com", "Ada Lovelace")
        assert isinstance(added, Customer), f"{call} should return a Customer, got {added!r}"
        assert (added.email, added.name) == ("ada@example.com", "Ada Lovelace"), (
            f"{call} returned {added!r}: the e-mail and name must be the ones given"
        )
        assert isinstance(added.id, int), f"{call} returned id {added.id!r}, expected an int"
        fetched = subject.repo.get(added.id)
        assert fetched == added, f"get({added.id}) returned {fetched!r}, expected {added!r}"

    def test_each_customer_gets_a_distinct_increasing_id(self, subject: Subject) -> None:
        """Each add() gives a new id, larger than the previous one (never a reused id)."""
        first = subject.repo.add("first@example.com", "First")
        second = subject.repo.add("second@example.com", "Second")
        assert second.id > first.id, (
            f"two add() calls returned ids {first.id} then {second.id}; ids must increase"
        )

    def test_get_of_an_unknown_id_raises_not_found(self, subject: Subject) -> None:
        """get() of an id that is not stored raises NotFound, naming the id."""
        gone = subject.repo.add("gone@example.com", "Gone")
        subject.repo.remove(gone.id)
        with pytest.raises(NotFound) as caught:
            result = subject.repo.get(gone.id)
            pytest.fail(f"get({gone.id}) of a removed customer returned {result!r}")
        assert str(gone.id) in str(caught.value), (
            f"get({gone.id}) raised NotFound({str(caught.value)!r}); the message should name the id"
        )

    def test_find_by_email_returns_the_customer_or_none(self, subject: Subject) -> None:
        """find_by_email() returns the stored customer, or None for an unknown address."""
        ada = subject.repo.add("ada@example.com", "Ada")
        found = subject.repo.find_by_email("ada@example.com")
        assert found == ada, f"find_by_email('ada@example.com') returned {found!r}, not {ada!r}"
        missing = subject.repo.find_by_email("nobody@example.com")
        assert missing is None, f"find_by_email('nobody@example.com') returned {missing!r}"

    def test_find_by_email_treats_a_crafted_address_as_plain_text(self, subject: Subject) -> None:
        """An address crafted as SQL (' OR '1'='1) matches nobody instead of everybody."""
        subject.repo.add("victim@example.com", "Victim")
        crafted = "nobody@example.com' OR '1'='1"
        found = subject.repo.find_by_email(crafted)
        assert found is None, (
            f"{call_repr('find_by_email', crafted)} returned {found!r}: the address was run as "
            "SQL. Pass values as parameters (%s), never inside the query string."
        )

    def test_a_duplicate_email_raises_already_exists_and_keeps_the_first(
        self, subject: Subject
    ) -> None:
        """Adding an e-mail that is taken raises AlreadyExists and leaves the first customer."""
        first = subject.repo.add("twin@example.com", "First twin")
        with pytest.raises(AlreadyExists):
            result = subject.repo.add("twin@example.com", "Second twin")
            pytest.fail(f"adding 'twin@example.com' twice returned {result!r} the second time")
        assert subject.repo.get(first.id) == first, "the first customer changed after a duplicate"
        stored = subject.stored_emails()
        assert stored == ["twin@example.com"], f"after a refused duplicate, stored: {stored!r}"

    def test_remove_deletes_and_a_second_remove_raises_not_found(self, subject: Subject) -> None:
        """remove() deletes the customer; removing it again raises NotFound."""
        kept = subject.repo.add("kept@example.com", "Kept")
        gone = subject.repo.add("gone@example.com", "Gone")
        subject.repo.remove(gone.id)
        stored = subject.stored_emails()
        assert stored == ["kept@example.com"], f"after remove({gone.id}), stored: {stored!r}"
        assert subject.repo.find_by_email("gone@example.com") is None, (
            "find_by_email('gone@example.com') still finds a removed customer"
        )
        with pytest.raises(NotFound):
            subject.repo.remove(gone.id)
            pytest.fail(f"remove({gone.id}) a second time returned instead of raising NotFound")
        assert subject.repo.get(kept.id) == kept, "removing one customer changed another"

    def test_add_many_stores_all_in_order(self, subject: Subject) -> None:
        """add_many() stores every pair and returns the customers in the order given."""
        pairs = [("a@example.com", "A"), ("b@example.com", "B"), ("c@example.com", "C")]
        added = subject.repo.add_many(pairs)
        got = [(c.email, c.name) for c in added]
        assert got == pairs, f"{call_repr('add_many', pairs)} returned {added!r}"
        assert _ids(added) == sorted(set(_ids(added))), f"ids not distinct, increasing: {added!r}"
        assert subject.stored_emails() == [e for e, _ in pairs], "not every pair was stored"

    @pytest.mark.parametrize("clash", ["inside the batch", "with a stored customer"])
    def test_add_many_is_all_or_nothing_on_a_duplicate(self, subject: Subject, clash: str) -> None:
        """add_many() with a duplicate e-mail raises AlreadyExists and stores none of the batch."""
        subject.repo.add("old@example.com", "Old")
        duplicate = "new1@example.com" if clash == "inside the batch" else "old@example.com"
        batch = [("new1@example.com", "N1"), ("new2@example.com", "N2"), (duplicate, "Dup")]
        with pytest.raises(AlreadyExists):
            result = subject.repo.add_many(batch)
            pytest.fail(f"{call_repr('add_many', batch)} returned {result!r}")
        stored = subject.stored_emails()
        assert stored == ["old@example.com"], (
            f"{call_repr('add_many', batch)} raised, yet another client now sees {stored!r}: "
            "half a batch was written. Put the inserts in one transaction."
        )

    def test_add_many_with_an_invalid_pair_stores_nothing(self, subject: Subject) -> None:
        """add_many() with one unstorable pair raises InvalidCustomer and stores none of them."""
        batch = [("ok@example.com", "Ok"), ("bad@example.com", "Ba\x00d")]
        with pytest.raises(InvalidCustomer):
            result = subject.repo.add_many(batch)
            pytest.fail(f"{call_repr('add_many', batch)} returned {result!r}")
        stored = subject.stored_emails()
        assert stored == [], f"{call_repr('add_many', batch)} raised, yet stored {stored!r}"

    @pytest.mark.parametrize("case", list(AWKWARD_TEXT))
    def test_awkward_text_is_stored_verbatim(self, subject: Subject, case: str) -> None:
        """Quotes, SQL, semicolons, unicode and 10,000-character names come back unchanged."""
        email, name = AWKWARD_TEXT[case]
        added = subject.repo.add(email, name)
        call = call_repr("add", email, name)
        assert (added.email, added.name) == (email, name), f"{call} returned {added!r}"
        fetched = subject.repo.get(added.id)
        assert (fetched.email, fetched.name) == (email, name), (
            f"after {call}, get({added.id}) returned {fetched!r}: the text changed on the way"
        )
        assert subject.repo.find_by_email(email) == added, f"find_by_email after {call} failed"
        assert subject.stored_emails() == [email], f"after {call} another client sees a change"

    @pytest.mark.parametrize("case", list(UNSTORABLE))
    def test_unstorable_input_is_refused_with_invalid_customer(
        self, subject: Subject, case: str
    ) -> None:
        """NUL bytes, oversize or blank text, wrong types: InvalidCustomer, and nothing stored."""
        email: Any
        name: Any
        email, name, field = UNSTORABLE[case]
        call = call_repr("add", email, name)
        try:
            result = subject.repo.add(email, name)
        except InvalidCustomer as error:
            assert field in str(error), f"{call} raised {error!r}; the message should say {field}"
        else:
            pytest.fail(f"{call} should raise InvalidCustomer ({case}), returned {result!r}")
        stored = subject.stored_emails()
        assert stored == [], f"{call} was refused, yet another client sees {stored!r}"

    def test_page_walks_every_customer_once_in_id_order(self, subject: Subject) -> None:
        """page(limit, after=last id seen) visits every customer once, in id order, then []."""
        added = subject.repo.add_many([(f"c{i}@example.com", f"C{i}") for i in range(7)])
        seen: list[Customer] = []
        after: int | None = None
        pages = 0
        while pages < 10:
            batch = subject.repo.page(limit=3, after=after)
            pages += 1
            if not batch:
                break
            assert len(batch) <= 3, f"page(limit=3, after={after}) returned {len(batch)} rows"
            seen.extend(batch)
            after = batch[-1].id
        assert seen == added, f"walking pages of 3 gave {_ids(seen)}, expected {_ids(added)}"
        assert pages == 4, f"7 customers in pages of 3 take 3 pages, then an empty one; got {pages}"

    def test_page_neither_repeats_nor_skips_when_rows_change_meanwhile(
        self, subject: Subject
    ) -> None:
        """Keyset paging: removing a seen row or adding a new one between pages skips nothing."""
        added = subject.repo.add_many([(f"k{i}@example.com", f"K{i}") for i in range(6)])
        first = subject.repo.page(limit=3)
        assert first == added[:3], f"page(limit=3) returned {_ids(first)}, not {_ids(added[:3])}"
        subject.repo.remove(added[0].id)  # OFFSET paging would now skip added[3]
        late = subject.repo.add("late@example.com", "Late")
        rest = subject.repo.page(limit=10, after=first[-1].id)
        expected = [*added[3:], late]
        assert rest == expected, (
            f"page(limit=10, after={first[-1].id}) returned {_ids(rest)} after a removal and an "
            f"insert, expected {_ids(expected)}: page by id (WHERE id > after), not by OFFSET"
        )

    @pytest.mark.parametrize(("limit", "after"), [(0, None), (1001, None), ("10", None), (5, "3")])
    def test_page_refuses_bad_arguments_with_invalid_customer(
        self, subject: Subject, limit: Any, after: Any
    ) -> None:
        """page() with a limit that is not an int from 1 to 1000, or an after that is neither
        None nor an int, raises InvalidCustomer."""
        call = call_repr("page", limit=limit, after=after)
        try:
            result = subject.repo.page(limit=limit, after=after)
        except InvalidCustomer:
            return
        except ValueError as error:  # InvalidCustomer is one too; a plain one is not a domain error
            pytest.fail(
                f"{call} raised a plain ValueError ({error}); raise the domain's InvalidCustomer: "
                "validate_page(limit, after) does",
                pytrace=False,
            )
        pytest.fail(
            f"{call} should raise InvalidCustomer (validate_page does), returned {result!r}",
            pytrace=False,
        )


# --- the two implementations of this package ------------------------------------------


@pytest.fixture(scope="module")
def pg_connections(
    postgres_server: TemporaryServer,
) -> Iterator[tuple[psycopg.Connection[Any], psycopg.Connection[Any]]]:
    """The repository's connection and an independent observer, both autocommit."""
    with (
        psycopg.connect(postgres_server.url, autocommit=True) as conn,
        psycopg.connect(postgres_server.url, autocommit=True) as observer,
    ):
        create_schema(conn)
        yield conn, observer


def emails_seen_by(observer: psycopg.Connection[Any], query: str) -> Callable[[], list[str]]:
    def stored() -> list[str]:
        return [row[0] for row in observer.execute(query).fetchall()]

    return stored


@pytest.fixture(params=["in-memory", "postgresql"])
def subject(request: pytest.FixtureRequest) -> Subject:
    """Each of this package's repositories, empty, with a second client's view."""
    if request.param == "in-memory":
        memory = InMemoryCustomerRepository()
        return Subject(memory, lambda: [c.email for c in memory.page(limit=1000)])
    conn, observer = request.getfixturevalue("pg_connections")
    # Isolation by TRUNCATE, not rollback: the observer must see committed
    # data. Identity is not restarted, so no test can lean on literal ids.
    observer.execute("TRUNCATE customers")
    return Subject(
        PostgresCustomerRepository(conn),
        emails_seen_by(observer, "SELECT email FROM customers ORDER BY id"),
    )


class TestCustomerRepositoryContract(CustomerRepositoryContract):
    """The contract, run against the in-memory and the PostgreSQL repositories."""


# --- issue 14: where the two implementations used to disagree ------------------------------
# Each case gave a different answer in memory and on PostgreSQL (or a driver error).
# Beyond the contract that ex01 grades; tests/test_repository_properties.py generalises them.

DISAGREEMENTS: dict[str, tuple[Callable[[CustomerRepository, int], object], object]] = {
    # PostgreSQL raised psycopg.DataError, memory returned None.
    "NUL in a looked-up address": (lambda r, _: r.find_by_email("a\x00@example.com"), None),
    # Memory stored lone surrogates; PostgreSQL raised a raw UnicodeEncodeError.
    "lone surrogate in an address": (
        lambda r, _: r.add("\ud800@example.com", "Lone"),
        InvalidCustomer("email contains a lone surrogate ('\\ud800') at position 0"),
    ),
    "lone surrogate in a name": (
        lambda r, _: r.add("lone@example.com", "Lo\udfffne"),
        InvalidCustomer("name contains a lone surrogate ('\\udfff') at position 2"),
    ),
    "lone surrogate in a looked-up address": (
        lambda r, _: r.find_by_email("\ud800@example.com"),
        None,
    ),
    # PostgreSQL found the customer for "1"; memory raised NotFound.
    "an id as a string": (
        lambda r, known: r.get(str(known)),  # type: ignore[arg-type]
        InvalidCustomer("customer_id must be an int, got str"),
    ),
    # Memory acted on id 1 for True; PostgreSQL raised a driver error.
    "True as an id": (lambda r, _: r.get(True), InvalidCustomer("customer_id must be an int")),
    "True as an id to remove": (
        lambda r, _: r.remove(True),
        InvalidCustomer("customer_id must be an int, got bool: True"),
    ),
    # Memory returned None; PostgreSQL raised a driver error.
    "a number as an address": (
        lambda r, _: r.find_by_email(1),  # type: ignore[arg-type]
        InvalidCustomer("email must be a str, got int: 1"),
    ),
    # psycopg cannot send an int of 5,000 digits, nor PostgreSQL compare one past bigint.
    "an id of 5,000 digits": (lambda r, _: r.get(10**5000), NotFound("no customer with id an int")),
    "a page after an id of 5,000 digits": (lambda r, _: r.page(after=10**5000), []),
    "an id past bigint": (lambda r, _: r.remove(2**63), NotFound("ids run from 1 to")),
}


@pytest.mark.parametrize("case", list(DISAGREEMENTS))
def test_both_implementations_now_agree(subject: Subject, case: str) -> None:
    """Same result or same domain error on both; nothing new stored (seen by another client)."""
    known = subject.repo.add("known@example.com", "Known")
    call, expected = DISAGREEMENTS[case]
    if isinstance(expected, Exception):
        with pytest.raises(type(expected)) as caught:
            call(subject.repo, known.id)
        assert str(expected) in str(caught.value)
    else:
        assert call(subject.repo, known.id) == expected
    assert subject.stored_emails() == ["known@example.com"]
    assert subject.repo.get(known.id) == known


def test_both_implementations_word_already_exists_alike_without_driver_detail(
    subject: Subject,
) -> None:
    subject.repo.add("twin@example.com", "First")
    with pytest.raises(AlreadyExists) as caught:
        subject.repo.add_many([("other@example.com", "Other"), ("twin@example.com", "Second")])
    assert str(caught.value) == "a customer with email 'twin@example.com' already exists"


# --- PostgreSQL specifics, beyond the contract --------------------------------------------


def test_postgres_repository_refuses_a_connection_without_autocommit(
    postgres_server: TemporaryServer,
) -> None:
    """A non-autocommit connection is refused up front, with the fix in the message."""
    with (
        psycopg.connect(postgres_server.url) as conn,
        pytest.raises(ValueError, match="autocommit=True"),
    ):
        PostgresCustomerRepository(conn)


def test_postgres_repository_works_through_a_pool(
    postgres_server: TemporaryServer,
    pg_connections: tuple[psycopg.Connection[Any], psycopg.Connection[Any]],
) -> None:
    """With a pool injected, each call borrows a connection and gives it back."""
    _, observer = pg_connections
    observer.execute("TRUNCATE customers")
    with ConnectionPool(
        postgres_server.url, min_size=1, max_size=2, kwargs={"autocommit": True}, open=True
    ) as pool:
        repo = PostgresCustomerRepository(pool)
        added = repo.add("pooled@example.com", "Pooled")
        assert repo.get(added.id) == added
        with pytest.raises(AlreadyExists):
            repo.add_many([("p2@example.com", "P2"), ("pooled@example.com", "Again")])
        assert pool.get_stats()["pool_available"] >= 1
    assert emails_seen_by(observer, "SELECT email FROM customers ORDER BY id")() == [
        "pooled@example.com"
    ]


def test_the_table_checks_mirror_the_domain_limits(
    pg_connections: tuple[psycopg.Connection[Any], psycopg.Connection[Any]],
) -> None:
    """The table's CHECKs mirror the domain limits, so the database agrees with the domain."""
    _, observer = pg_connections
    observer.execute("TRUNCATE customers")
    with pytest.raises(psycopg.errors.CheckViolation):
        observer.execute(
            "INSERT INTO customers (email, name) VALUES (%s, %s)", ("a@b", "x" * 10_001)
        )
    observer.execute("INSERT INTO customers (email, name) VALUES (%s, %s)", ("a@b", "x" * 10_000))
