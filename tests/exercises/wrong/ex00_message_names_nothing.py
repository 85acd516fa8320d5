"""ex00 wrong: refuses bad input with a ValueError whose message does not say which value was wrong.

grader says: the message should name the wrong value, people
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
        raise ValueError("invalid input")
    if total_cents < 0:
        raise ValueError("invalid input")
    share, leftover = divmod(total_cents, people)
    return [share + 1 if index < leftover else share for index in range(people)]
    # END SOLUTION
