"""Hypothesis profiles: ``ci`` (quick, deterministic) and ``thorough`` (for local runs).

Select with ``HYPOTHESIS_PROFILE=ci`` or ``HYPOTHESIS_PROFILE=thorough``; the default is ``dev``.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

import autograd_lite as al

settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)  # fmt: skip
settings.register_profile("dev", max_examples=40, deadline=None)
settings.register_profile(
    "thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _grad_mode_is_restored():
    """Fail any test that leaves gradient recording switched off."""
    assert al.is_grad_enabled()
    yield
    assert al.is_grad_enabled(), "a test left gradient recording switched off"
