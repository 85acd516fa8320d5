"""ex00 wrong: the share is computed with float division, which is exact only below 2**53.

grader says: not 9223372036854775807: cents lost
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
    share = int(total_cents / people)
    leftover = total_cents - share * people
    return [share + 1 if index < leftover else share for index in range(people)]
    # END SOLUTION
