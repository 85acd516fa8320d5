"""The Repository pattern: domain objects in, domain objects out.

Business code depends on :class:`CustomerRepository` (a ``typing.Protocol``);
two implementations pass the same contract suite
(``tests/test_repository_contract.py``):

* :class:`InMemoryCustomerRepository` for fast tests of business code;
* :class:`PostgresCustomerRepository` for production, on psycopg 3.

TL;DR: keep SQL in one class, return dataclasses, raise domain errors, and
prove the fake and the real thing behave alike by running one suite on both.
"""

from patterns.repository.domain import (
    EMAIL_MAX_LENGTH,
    MAX_ID,
    NAME_MAX_LENGTH,
    AlreadyExists,
    Customer,
    InvalidCustomer,
    NotFound,
    RepositoryError,
    already_exists,
    searchable_email,
    validate_email,
    validate_id,
    validate_name,
    validate_page,
)
from patterns.repository.memory import InMemoryCustomerRepository
from patterns.repository.postgres import SCHEMA, PostgresCustomerRepository, create_schema
from patterns.repository.protocol import CustomerRepository

__all__ = [
    "EMAIL_MAX_LENGTH",
    "MAX_ID",
    "NAME_MAX_LENGTH",
    "SCHEMA",
    "AlreadyExists",
    "Customer",
    "CustomerRepository",
    "InMemoryCustomerRepository",
    "InvalidCustomer",
    "NotFound",
    "PostgresCustomerRepository",
    "RepositoryError",
    "already_exists",
    "create_schema",
    "searchable_email",
    "validate_email",
    "validate_id",
    "validate_name",
    "validate_page",
]
