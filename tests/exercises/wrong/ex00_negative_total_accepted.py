"""ex00 wrong: forgets to refuse a negative total, so -1 cent is split into shares.

grader says: split_evenly(-1, 3) should raise ValueError
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
    share, leftover = divmod(total_cents, people)
    return [share + 1 if index < leftover else share for index in range(people)]
    # END SOLUTION
