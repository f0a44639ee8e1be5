"""Oversight test helpers: the seeded reason categories of tests/corrections."""

from tests.corrections.conftest import categories, clock  # noqa: F401
