"""Exercise 00, warm-up: split a bill fairly, in whole cents.

Money is counted in integer minor units (cents) in this course: ``0.1 + 0.2``
is not ``0.3`` in floating point, and a bill split with floats loses or invents
cents. ``split_evenly(1000, 3)`` must give ``[334, 333, 333]``: every cent
accounted for, nobody paying more than one cent above anyone else.
"""


def split_evenly(total_cents: int, people: int) -> list[int]:
    """Split ``total_cents`` between ``people``; the first shares get the leftover cents.

    Works for any ``int`` total from 0 up, however large (``2**63 - 1`` cents
    too). Raises ``ValueError`` when ``people`` is below 1 or ``total_cents`` is
    negative, with a message naming the wrong argument and its value
    (``"people must be at least 1, got 0"``).
    """
    # BEGIN SOLUTION: split total_cents between people (see the docstring)
    if people < 1:
        raise ValueError(f"people must be at least 1, got {people}")
    if total_cents < 0:
        raise ValueError(f"total_cents must not be negative, got {total_cents}")
    share, leftover = divmod(total_cents, people)
    return [share + 1 if index < leftover else share for index in range(people)]
    # END SOLUTION
