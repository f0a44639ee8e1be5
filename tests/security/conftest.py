"""Fixtures the adversarial suite borrows: a 09:00–18:00 week at a fixed clock."""

from tests.corrections.conftest import categories, clock, week  # noqa: F401
