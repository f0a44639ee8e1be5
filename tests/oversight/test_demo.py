"""The demo shows a frequent corrector, a rubber-stamp approver and a buddy-punch pair."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from ztk.attendance.demo import load_attendance_demo
from ztk.org.demo import load_demo
from ztk.oversight.demo import load_oversight_demo
from ztk.oversight.models import Finding

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 5)


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def test_each_pattern_of_the_demo_is_found(time_machine):
    time_machine.move_to(datetime(2026, 12, 5, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
    load_demo()
    load_attendance_demo(today=TODAY)

    done = load_oversight_demo(today=TODAY)

    found = {
        (f.rule, f.period_start.month): f
        for f in Finding.objects.select_related("employee", "other_employee", "user")
    }
    assert done["approved"] == done["corrections"] >= 10
    corrector = found[("frequent_corrector", 11)]
    assert corrector.employee.employee_no == "1003"
    approver = found[("rubber_stamp", 12)]
    assert approver.user.username == "manager"
    assert set(approver.params["triggers"]) == {"fast", "bulk"}
    pair = found[("buddy_punch", 11)]
    assert {pair.employee.employee_no, pair.other_employee.employee_no} == {"2003", "2004"}
    # nothing else: the queue at the door brings no false pair, nobody else stands out
    assert {rule for rule, _month in found} == {"frequent_corrector", "rubber_stamp", "buddy_punch"}
    # running it again adds nothing
    assert load_oversight_demo(today=TODAY) == {}
