"""ex00 right, written differently: share i is (total + people - 1 - i) // people, a ceiling that
shrinks by one cent once the leftover runs out; checks written as a table of (bad?, message).
"""


def split_evenly(total_cents: int, people: int) -> list[int]:
    """Split ``total_cents`` between ``people``; the first shares get the leftover cents."""
    problems = [
        (people < 1, f"split_evenly needs at least one person, but people={people}"),
        (total_cents < 0, f"cannot split a negative bill: total_cents={total_cents}"),
    ]
    for bad, message in problems:
        if bad:
            raise ValueError(message)
    shares = []
    for i in range(people):
        shares.append((total_cents + people - 1 - i) // people)
    return shares
