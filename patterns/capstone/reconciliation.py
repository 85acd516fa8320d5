"""Reconciliation: does what the payment provider charged match what we sold?

At the end of a day a shop compares its orders with the provider's statement.
Here the statement is imported into ``gateway_statement`` in batches, then
one SQL query joins it with ``orders`` and ``payments`` and the rows are
*streamed* (lesson 05): :func:`reconcile` is a generator of
:class:`ReportLine`, and :func:`summarize` folds it in one pass, so a
statement of a million charges needs no more memory than one of ten.

A charge is matched to its order through its idempotency key
(``order:<order id>``, see ``idempotency_key_for``), which the course's
gateway lists on its statement; a charge whose key names no order is an
orphan. A real integration also sends the order id with the payment, in the
field the provider keeps for the caller's reference (Stripe's ``metadata``,
https://docs.stripe.com/metadata/use-cases), so that a person can match a
charge to its order in the provider's dashboard too.

:data:`INVARIANTS` are the same promises as SQL queries that return the rows
breaking them (none, when all is well): the tests, the notebook and the ex08
grader check them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import psycopg

from patterns.capstone.storage import Database
from patterns.generators import batched, stream_rows
from patterns.money import Money

__all__ = [
    "INVARIANTS",
    "ReportLine",
    "ReportSummary",
    "StatementLine",
    "Verdict",
    "import_statement",
    "reconcile",
    "summarize",
    "violations",
]

Verdict = Literal["ok", "unpaid", "double charge", "wrong amount", "unrecorded", "orphan charge"]


@dataclass(frozen=True)
class StatementLine:
    """One charge on the provider's statement (``flaky_server``'s ``Charge`` has these fields)."""

    id: str
    amount: int
    currency: str
    idempotency_key: str | None


def import_statement(database: Database, charges: Iterable[Any], *, batch_size: int = 500) -> int:
    """Replace ``gateway_statement`` with ``charges`` (objects with the fields of
    :class:`StatementLine`), ``batch_size`` rows per round trip; return the count.

    One transaction: a reader never sees half a statement.
    """

    def load(conn: psycopg.Connection[Any]) -> int:
        count = 0
        with conn.transaction(), conn.cursor() as cursor:
            cursor.execute("DELETE FROM gateway_statement")
            for batch in batched(charges, batch_size):
                cursor.executemany(
                    "INSERT INTO gateway_statement (charge_id, amount_minor, currency, "
                    "idempotency_key) VALUES (%s, %s, %s, %s)",
                    [(c.id, c.amount, c.currency, c.idempotency_key) for c in batch],
                )
                count += len(batch)
        return count

    return load(database.connection())


# Charges are tied to orders by the key "order:<id>". One row per order (with all
# its charges), then one row per charge that names no known order.
_REPORT = """
WITH charges AS (
    SELECT charge_id, amount_minor, currency,
           CASE WHEN starts_with(idempotency_key, 'order:')
                THEN split_part(idempotency_key, ':', 2) END AS order_id
    FROM gateway_statement
)
SELECT o.id, o.amount_minor, o.currency, o.status, p.charge_id,
       coalesce(array_agg(c.charge_id ORDER BY c.charge_id)
                FILTER (WHERE c.charge_id IS NOT NULL), '{}'),
       coalesce(sum(c.amount_minor), 0)
FROM orders o
LEFT JOIN payments p ON p.order_id = o.id
LEFT JOIN charges c ON c.order_id = o.id
GROUP BY o.id, p.charge_id
UNION ALL
SELECT NULL, NULL, c.currency, NULL, NULL, ARRAY[c.charge_id], c.amount_minor
FROM charges c
WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = c.order_id)
ORDER BY 1 NULLS LAST, 6
"""


@dataclass(frozen=True)
class ReportLine:
    """One order and the charges the provider made for it, or one orphan charge."""

    order_id: str | None  # None: a charge that names no order
    expected: Money | None  # the order's total
    recorded_charge: str | None  # the charge id our payments table holds
    gateway_charges: tuple[str, ...]
    charged: Money  # what the provider took, summed over gateway_charges

    @property
    def verdict(self) -> Verdict:
        if self.order_id is None or self.expected is None:
            return "orphan charge"
        if not self.gateway_charges:
            return "unpaid"
        if len(self.gateway_charges) > 1:
            return "double charge"
        if self.charged != self.expected:
            return "wrong amount"
        if self.recorded_charge not in self.gateway_charges:
            return "unrecorded"  # charged, but our books do not show it (or show another id)
        return "ok"


def reconcile(conn: psycopg.Connection[Any], *, size: int = 1000) -> Iterator[ReportLine]:
    """Stream the report, one :class:`ReportLine` at a time, ``size`` rows per fetch.

    The connection is busy until the generator is exhausted or closed: do not
    run other queries on it meanwhile (lesson 05).
    """
    # closing(): when this generator is closed early, the cursor's generator is
    # closed at once too, freeing the connection (lesson 05's rule).
    with closing(stream_rows(conn, _REPORT, size=size)) as rows:
        for order_id, amount, currency, _status, recorded, charges, charged in rows:
            yield ReportLine(
                order_id,
                Money(int(amount), currency) if order_id is not None else None,
                recorded,
                tuple(charges),
                Money(int(charged), currency),
            )


@dataclass
class ReportSummary:
    """The report folded into totals, per currency; built by :func:`summarize`."""

    lines: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    expected: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    charged: dict[str, int] = field(default_factory=dict)
    problems: list[ReportLine] = field(default_factory=list)  # every line not "ok"

    def __str__(self) -> str:
        verdicts = ", ".join(f"{v}: {n}" for v, n in sorted(self.verdicts.items()))
        totals = "; ".join(
            f"{currency} expected {Money(self.expected.get(currency, 0), currency).amount}, "
            f"charged {Money(self.charged.get(currency, 0), currency).amount}"
            for currency in sorted(self.expected.keys() | self.charged.keys())
        )
        return f"{self.lines} lines ({verdicts}); {totals}"


def summarize(lines: Iterable[ReportLine]) -> ReportSummary:
    """Fold report lines into a :class:`ReportSummary` in one pass (keeps only the problems)."""
    summary = ReportSummary()
    for line in lines:
        summary.lines += 1
        summary.verdicts[line.verdict] += 1
        currency = line.charged.currency
        if line.expected is not None:
            summary.expected[currency] = summary.expected.get(currency, 0) + line.expected.minor
        summary.charged[currency] = summary.charged.get(currency, 0) + line.charged.minor
        if line.verdict != "ok":
            summary.problems.append(line)
    return summary


#: The run's promises as SQL. Each query returns the rows that break it, with a
#: message for each; an empty result is the proof.
INVARIANTS: Final[dict[str, str]] = {
    "every order placed was stored": """
        SELECT sent.id, 'order ' || sent.id || ' was placed but is not in the orders table'
        FROM unnest(%(sent)s::text[]) AS sent (id)
        WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = sent.id)""",
    "every order is paid": """
        SELECT id, 'order ' || id || ' is ' || status || ', not paid' FROM orders WHERE status <> 'paid'""",
    "no order was charged twice": """
        SELECT order_id, 'order ' || order_id || ' was charged more than once: '
               || count(*) || ' gateway charges (' || string_agg(charge_id, ', ' ORDER BY charge_id)
               || ')'
        FROM (SELECT charge_id, split_part(idempotency_key, ':', 2) AS order_id
              FROM gateway_statement WHERE starts_with(idempotency_key, 'order:')) AS c
        GROUP BY order_id HAVING count(*) > 1""",
    "every charge is matched by an order": """
        SELECT s.charge_id, 'gateway charge ' || s.charge_id || ' (key '
               || coalesce(s.idempotency_key, 'none') || ') matches no order of that amount'
        FROM gateway_statement s
        WHERE NOT EXISTS (
            SELECT 1 FROM orders o
            WHERE starts_with(s.idempotency_key, 'order:')
              AND split_part(s.idempotency_key, ':', 2) = o.id
              AND o.amount_minor = s.amount_minor AND o.currency = s.currency)""",
    "every recorded payment is a real charge": """
        SELECT p.order_id, 'payment of order ' || p.order_id || ' names charge '
               || p.charge_id || ', which is not on the statement'
        FROM payments p
        WHERE NOT EXISTS (SELECT 1 FROM gateway_statement s WHERE s.charge_id = p.charge_id)""",
}


def violations(conn: psycopg.Connection[Any], sent: Iterable[str]) -> dict[str, list[str]]:
    """Run every invariant; for each, the messages of the rows that break it.

    ``sent`` is the ids of the orders the shop front sent (the test's own
    record, independent of what the service stored).
    """
    params = {"sent": list(sent)}
    return {
        name: [str(row[1]) for row in conn.execute(query, params).fetchall()]
        for name, query in INVARIANTS.items()
    }
