"""Every grader fails on the pristine stub, for the right reason.

The stubs are generated from the solutions in a temporary copy of the course,
so this works from a zip download and ignores whatever the learner has done in
``exercises/``. (That the same graders pass on ``solutions/`` is proven by
collecting them in this test run: ``tests/exercises/``.)
"""

from __future__ import annotations

import pytest

from patterns.course import catalog
from patterns.course.paths import course_root
from patterns.course.runner import run_grader
from patterns.course.stubs import pristine_course


@pytest.mark.parametrize("exercise_id", list(catalog.exercises()))
def test_grader_fails_on_the_pristine_stub_for_the_right_reason(exercise_id: str) -> None:
    """The grader runs, fails, and every failure is the stub's (not an import error or typo)."""
    exercise = catalog.get(exercise_id)
    with pristine_course(course_root()) as copy:
        verdict = run_grader(exercise_id, "exercises", copy)
    assert not verdict.problem, (
        f"{exercise_id}'s grader could not run on the stub: {verdict.problem}"
    )
    assert verdict.outcomes, f"{exercise_id}'s grader collected no tests"
    assert not verdict.passed, f"{exercise_id}'s grader passes on the pristine stub"
    if exercise.kind == "implement":
        wrong = [o for o in verdict.outcomes if o.passed or exercise.stub_failure not in o.reason]
        assert not wrong, (
            f"{exercise_id}: these tests do not fail with the stub's {exercise.stub_failure}: "
            + "; ".join(f"{o.test}: {'passed' if o.passed else o.reason}" for o in wrong)
        )
        assert all(f"{exercise_id}:" in o.reason for o in verdict.outcomes)
    else:
        # A fix-the-flaw exercise starts from working code: some tests pass, and
        # the ones that fail must fail on the flaw the exercise is about.
        failing = verdict.failures
        off_topic = [o for o in failing if exercise.stub_failure not in o.reason]
        assert not off_topic, (
            f"{exercise_id}: these tests fail for another reason than the flaw "
            f"({exercise.stub_failure!r}): " + "; ".join(f"{o.test}: {o.reason}" for o in off_topic)
        )
