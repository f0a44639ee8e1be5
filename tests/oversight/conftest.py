"""Oversight test helpers: the seeded reason categories of tests/corrections."""

from tests.corrections.conftest import categories  # noqa: F401
