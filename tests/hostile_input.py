"""Generators of hostile input for the property tests, shared by the lesson library's suites.

Text that has broken real systems: every code point (NUL and lone surrogates
included, which ``json.loads('"\\ud800"')`` produces), quotes and SQL,
10,000-character strings (longer than Hypothesis builds in one piece, so they
are repeated from a short seed), and numbers with exponents far past what
``decimal`` can expand.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

__all__ = [
    "any_text",
    "decimals",
    "hostile_text",
    "huge_exponent_numbers",
    "huge_ints",
    "long_text",
]

#: Fragments that break naive SQL, JSON or string handling.
NASTY_FRAGMENTS = [
    "'",
    '"',
    "\\",
    "\x00",
    "\ud800",
    "\udfff",
    "'); DROP TABLE customers; --",
    "' OR '1'='1",
    "%s",
    "%%",
    "\u202e",
    "e\u0301",
    "🧪",
    "\r\n",
    "\t",
    "",
]

#: Any string: every code point can occur (``st.text()`` alone never makes a
#: surrogate, and ``st.characters()`` rarely), NUL and lone surrogates often.
any_text = st.text(st.characters() | st.characters(categories=["Cs", "Cc"]))

#: 10,000 characters (the repository's name limit), built by repeating a short seed.
long_text = st.text(min_size=1, max_size=8).map(lambda seed: (seed * 10_000)[:10_000])

#: Any of the above, or a concatenation of nasty fragments.
hostile_text = st.one_of(
    any_text,
    st.lists(st.sampled_from(NASTY_FRAGMENTS), max_size=6).map("".join),
    long_text,
    long_text.map(lambda text: text + "\x00"),
)

#: Exponents ``decimal`` accepts but nothing can expand (10**10**17 has 10**17 digits).
HUGE_EXPONENTS = [-(10**18) + 1, -(10**17), -999_999_999, 999_999_999, 10**17]

#: Decimals from parts: coefficients of 60 digits and of 5,002 (past ``int()``'s
#: 4,300-digit limit), exponents up to 10**17 (``st.decimals`` keeps to modest ones).
decimals = st.builds(
    lambda sign, digits, exponent: Decimal((sign, digits, exponent)),
    st.integers(0, 1),
    st.lists(st.integers(0, 9), min_size=1, max_size=60).map(tuple)
    | st.just(5_000).map(lambda zeros: (1, *[0] * zeros, 1)),  # short in Hypothesis' reports
    st.integers(-80, 30) | st.sampled_from(HUGE_EXPONENTS),
)

#: JSON number texts that ``Decimal`` cannot read or ``int`` refuses.
huge_exponent_numbers = st.one_of(
    st.sampled_from(
        ["0e99999999999999999999", "1E-99999999999999999999", "-1.5e+9999999999999999999"]
    ),
    st.integers(19, 40).map(lambda digits: "1e" + "9" * digits),
    st.integers(4_301, 6_000).map(lambda digits: "7" * digits),
)

#: Ints past ``int``/``str`` conversion's 4,300-digit limit: ``repr()`` of one raises
#: ``ValueError``. Built by a map, so that Hypothesis never has to print one in a strategy.
huge_ints = st.builds(
    lambda sign, digits: sign * (10**digits + 7),
    st.sampled_from([1, -1]),
    st.integers(4_301, 6_000),
)
