"""Grader for ex01: the legacy-table repository must pass the shared contract suite.

The tests themselves live in ``tests/test_repository_contract.py``
(:class:`CustomerRepositoryContract`); this file only says how to build the
learner's repository and how a second connection sees what it stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import psycopg
import pytest

from patterns.course.grading import load_graded
from patterns.lab import TemporaryServer
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
