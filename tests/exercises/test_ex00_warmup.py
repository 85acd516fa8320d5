"""Grader for ex00: the warm-up split of a bill in whole cents.

``split_evenly`` is a function of its inputs, so it is compared with the spec
written as code (``spec_split`` below) on inputs Hypothesis generates, the
boundaries included (a total of 0 or 2**63 - 1, one person, fewer cents than
people); the fixed examples are the ones the exercise tells.
"""

from __future__ import annotations

from types import ModuleType

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from patterns.course.grading import call_repr, grading_settings, load_graded

#: Fast and repeatable: the same examples on every run, a bounded number of them.
GRADING = grading_settings(15)


@pytest.fixture(scope="module")
def ex00() -> ModuleType:
    return load_graded("ex00")


def spec_split(total_cents: int, people: int) -> list[int]:
    share, leftover = total_cents // people, total_cents % people
    return [share + 1 if index < leftover else share for index in range(people)]


def shown(shares: object) -> str:
    """A result as the learner reads it: whole when short, summarised when long."""
    if isinstance(shares, list) and len(shares) > 8:
        return f"[{', '.join(map(repr, shares[:4]))}, ... {len(shares) - 4} more]"
    return repr(shares)


def split(ex00: ModuleType, total: int, people: int) -> object:
    call = call_repr("split_evenly", total, people)
    try:
        return ex00.split_evenly(total, people)
    except Exception as error:
        pytest.fail(f"{call} raised {type(error).__name__}: {error}", pytrace=False)


def assert_split(ex00: ModuleType, total: int, people: int) -> None:
    """split_evenly(total, people) returns exactly the spec's shares, with a sentence saying how not."""
    call = call_repr("split_evenly", total, people)
    shares = split(ex00, total, people)
    expected = spec_split(total, people)
    assert isinstance(shares, list) and len(shares) == people, (
        f"{call} should return a list of {people} shares, but returned {shown(shares)}"
    )
    assert all(type(s) is int for s in shares), (
        f"{call} returned {shown(shares)}: every share must be an int number of cents"
    )
    assert sum(shares) == total, (
        f"{call} returned {shown(shares)}, which adds up to {sum(shares)}, not {total}: "
        f"{'cents lost' if sum(shares) < total else 'cents invented'}"
    )
    differ = [i for i, (got, want) in enumerate(zip(shares, expected, strict=True)) if got != want]
    first = differ[0] if differ else -1
    assert not differ, (
        f"{call} returned {shown(shares)}; expected {shown(expected)}: share {first} is "
        f"{shares[first]}, expected {expected[first]} (the {total % people} leftover cents go "
        "one each to the first people)"
    )


@pytest.mark.parametrize(("total", "people"), [(1000, 3), (100, 1), (7, 4), (0, 5), (999_999, 7)])
@pytest.mark.hints(
    "divmod(1000, 3) is (333, 1): shares of 333 cents, and 1 cent left over that someone must get."
)
def test_shares_add_up_to_the_total(ex00: ModuleType, total: int, people: int) -> None:
    """The shares add up to exactly the total: no cent lost or invented."""
    assert_split(ex00, total, people)


@pytest.mark.hints(
    "The first `leftover` people get share + 1: [share + 1] * leftover + [share] * (people - leftover).",
)
def test_shares_differ_by_at_most_one_cent_first_ones_larger(ex00: ModuleType) -> None:
    """Shares differ by at most one cent, and the first people get the extra cents."""
    assert_split(ex00, 1000, 3)
    assert_split(ex00, 10, 4)


@GRADING
@given(
    total=st.sampled_from([0, 1, 2**53 + 1, 2**63 - 1]) | st.integers(0, 2**63 - 1),
    people=st.sampled_from([1, 2, 3]) | st.integers(1, 40),
)
@example(total=2**63 - 1, people=7)
@example(total=2, people=5)
@pytest.mark.hints(
    "Stay in integers: divmod(total_cents, people) is exact for any size; total_cents / people "
    "is a float and loses cents above 2**53.",
)
def test_any_total_splits_exactly(ex00: ModuleType, total: int, people: int) -> None:
    """Any total from 0 to 2**63 - 1 cents between any number of people splits exactly and fairly."""
    assert_split(ex00, total, people)


@GRADING
@given(
    total=st.integers(0, 2**63 - 1),  # a valid total: only people is wrong
    people=st.integers(-5, 0),
)
@example(total=100, people=0)
@example(total=100, people=-2)
@pytest.mark.hints(
    "divmod(100, 0) raises ZeroDivisionError: check people < 1 before dividing, and raise "
    "ValueError naming people and its value."
)
def test_refuses_fewer_than_one_person_naming_the_value(
    ex00: ModuleType, total: int, people: int
) -> None:
    """Fewer than one person is refused with a ValueError whose message names people and its value."""
    assert_refused(ex00, total, people, "people", people)


@GRADING
@given(total=st.integers(-(2**63), -1), people=st.integers(1, 40))
@example(total=-1, people=3)
@example(total=-5, people=2)
@pytest.mark.hints(
    "divmod(-1, 3) is (-1, 2), so a negative total splits into shares like [0, 0, -1]: check "
    "total_cents < 0 before dividing, and raise ValueError naming the argument and its value."
)
def test_refuses_a_negative_total_naming_the_value(
    ex00: ModuleType, total: int, people: int
) -> None:
    """A negative total is refused with a ValueError whose message names total_cents and its value."""
    assert_refused(ex00, total, people, "total_cents", total)


def assert_refused(ex00: ModuleType, total: int, people: int, name: str, value: int) -> None:
    call = call_repr("split_evenly", total, people)
    try:
        result = ex00.split_evenly(total, people)
    except ValueError as error:
        message = str(error)
        assert name in message and str(value) in message, (
            f"{call} raised ValueError({message!r}); the message should name the wrong value, "
            f"{name}, and say what it was ({value})"
        )
    except Exception as error:
        pytest.fail(
            f"{call} raised {type(error).__name__}: {error}; it should raise ValueError naming {name}",
            pytrace=False,
        )
    else:
        pytest.fail(f"{call} should raise ValueError, but returned {shown(result)}", pytrace=False)
