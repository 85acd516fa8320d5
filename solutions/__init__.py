"""Reference solutions: the same file and public names as ``exercises/``.

Lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` are what the learner
writes; ``python -m patterns stubs --write`` regenerates ``exercises/`` from them.
"""
