"""ex00 wrong: every leftover cent goes to the first person (shares differ by more than a cent).

grader says: share 0 is 4, expected 3
"""


def split_evenly(total_cents: int, people: int) -> list[int]:
    """Split ``total_cents`` between ``people``; the first shares get the leftover cents.

    Works for any ``int`` total, however large (``2**63 - 1`` cents too). Raises
    ``ValueError`` when ``people`` is below 1 or ``total_cents`` is negative, with a
    message naming the wrong argument and its value
    (``"people must be at least 1, got 0"``).
    """
    # BEGIN SOLUTION: split total_cents between people (see the docstring)
    if people < 1:
        raise ValueError(f"people must be at least 1, got {people}")
    if total_cents < 0:
        raise ValueError(f"total_cents must not be negative, got {total_cents}")
    share, leftover = divmod(total_cents, people)
    return [share + leftover] + [share] * (people - 1)
    # END SOLUTION
