"""``python -m patterns ...``: the learner's and the instructor's commands."""

from patterns.course.cli import main

raise SystemExit(main())
