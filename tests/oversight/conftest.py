"""Oversight test helpers: the seeded reason categories of tests/corrections."""

from tests.corrections.conftest import categories, clock  # noqa: F401
from tests.oversight.analytics_data import month  # noqa: F401, E402
from tests.oversight.reminder_data import reminders  # noqa: F401, E402
