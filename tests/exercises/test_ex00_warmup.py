"""Grader for ex00: the warm-up split of a bill in whole cents."""

from types import ModuleType

import pytest

from patterns.course.grading import call_repr, load_graded


@pytest.fixture
def ex00() -> ModuleType:
    return load_graded("ex00")


@pytest.mark.parametrize(("total", "people"), [(1000, 3), (100, 1), (7, 4), (0, 5), (999_999, 7)])
def test_shares_add_up_to_the_total(ex00: ModuleType, total: int, people: int) -> None:
    """The shares add up to exactly the total: no cent lost or invented."""
    shares = ex00.split_evenly(total, people)
    call = call_repr("split_evenly", total, people)
    assert isinstance(shares, list) and len(shares) == people, (
        f"{call} should return a list of {people} shares, but returned {shares!r}"
    )
    assert sum(shares) == total, f"{call} returned {shares!r}, which adds up to {sum(shares)}"


@pytest.mark.hints(
    "divmod(total_cents, people) gives the equal share and the leftover cents in one call.",
    "The first `leftover` people get share + 1: [share + 1] * leftover + [share] * (people - leftover).",
)
def test_shares_differ_by_at_most_one_cent_first_ones_larger(ex00: ModuleType) -> None:
    """Shares differ by at most one cent, and the first people get the extra cents."""
    shares = ex00.split_evenly(1000, 3)
    assert shares == [334, 333, 333], (
        f"split_evenly(1000, 3) should return [334, 333, 333], but returned {shares!r}"
    )
    shares = ex00.split_evenly(10, 4)
    assert shares == [3, 3, 2, 2], (
        f"split_evenly(10, 4) should return [3, 3, 2, 2], but returned {shares!r}"
    )


@pytest.mark.hints(
    "Check the arguments first, before dividing: people < 1 or total_cents < 0 cannot be split.",
    "raise ValueError(f'people must be at least 1, got {people}'): the message names the value.",
)
@pytest.mark.parametrize(("total", "people"), [(100, 0), (100, -2), (-5, 2)])
def test_refuses_impossible_splits_with_value_error(
    ex00: ModuleType, total: int, people: int
) -> None:
    """Fewer than one person, or a negative total, is refused with a ValueError."""
    call = call_repr("split_evenly", total, people)
    try:
        result = ex00.split_evenly(total, people)
    except ValueError:
        return
    pytest.fail(f"{call} should raise ValueError, but returned {result!r}", pytrace=False)
