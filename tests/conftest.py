import os

os.environ.setdefault("ZTK_TESTING", "1")

import pytest  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from hypothesis import HealthCheck  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402

from tests import factories  # noqa: E402

# CI and our machines are shared and noisy: a property test is judged on its examples,
# never on how long one took (speed lives in `make bench`).
hypothesis_settings.register_profile(
    "ztk", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
hypothesis_settings.load_profile("ztk")


@pytest.fixture(autouse=True)
def _terminal_sync(request, settings):
    """Saving an employee or approving a terminal queues USERINFO commands (docs/terminals.md);
    tests that count a terminal's commands would see them, so it is on only where marked."""
    settings.DEVICE_USER_SYNC = request.node.get_closest_marker("terminal_sync") is not None


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language (zh-hans), whatever an earlier one activated."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def org(db):
    """A department with a head, a supervisor with two reports, HR, an auditor, a stranger."""
    return factories.small_org()


@pytest.fixture
def hr_group(db):
    return Group.objects.get_or_create(name="hr")[0]
