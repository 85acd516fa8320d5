"""ex00 wrong: off by one at the boundary, a bill for one person is refused.

grader says: split_evenly(100, 1) raised ValueError: people must be more than 1, got 1
"""


def split_evenly(total_cents: int, people: int) -> list[int]:
    """Split ``total_cents`` between ``people``; the first shares get the leftover cents.

    Works for any ``int`` total, however large (``2**63 - 1`` cents too). Raises
    ``ValueError`` when ``people`` is below 1 or ``total_cents`` is negative, with a
    message naming the wrong argument and its value
    (``"people must be at least 1, got 0"``).
    """
    # BEGIN SOLUTION: split total_cents between people (see the docstring)
    if people <= 1:
        raise ValueError(f"people must be more than 1, got {people}")
    if total_cents < 0:
        raise ValueError(f"total_cents must not be negative, got {total_cents}")
    share, leftover = divmod(total_cents, people)
    return [share + 1 if index < leftover else share for index in range(people)]
    # END SOLUTION
