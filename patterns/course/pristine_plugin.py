"""A pytest plugin for notebook runs: point the course tooling at pristine stubs.

Loaded by the test command with ``-p patterns.course.pristine_plugin``. Check
cells inside notebooks then grade the starting stubs in a temporary copy, and
record their progress there, so running the tests never touches a learner's
progress, hint counters or exercise files.
"""

from __future__ import annotations

import contextlib
import os

import pytest

from patterns.course.paths import ROOT_ENV, course_root
from patterns.course.stubs import pristine_course

_stack = contextlib.ExitStack()


def pytest_configure(config: pytest.Config) -> None:
    if ROOT_ENV in os.environ:
        return
    copy = _stack.enter_context(pristine_course(course_root()))
    os.environ[ROOT_ENV] = str(copy)  # kernels started by nbval inherit it


def pytest_unconfigure(config: pytest.Config) -> None:
    _stack.close()
