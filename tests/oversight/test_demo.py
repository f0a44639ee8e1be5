"""The demo shows a frequent corrector, a rubber-stamp approver and a buddy-punch pair."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from ztk.attendance.demo import load_attendance_demo
from ztk.org.demo import load_demo
from ztk.oversight.demo import load_oversight_demo
from ztk.oversight.models import EarlyWarning, Finding
from ztk.oversight.warning_services import warnings_run

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
    # the phone that wanders: 2005, all three suspicious-punch rules
    for rule in ("outside_fence", "implausible_jump", "new_device"):
        assert {f.employee.employee_no for (r, _m), f in found.items() if r == rule} == {"2005"}
    # nothing else: the queue at the door brings no false pair, nobody else stands out
    assert {rule for rule, _month in found} == {
        "frequent_corrector",
        "rubber_stamp",
        "buddy_punch",
        "outside_fence",
        "implausible_jump",
        "new_device",
    }
    # the early warnings: one of each (the terminal: it is Saturday, not working hours)
    warnings = {
        (w.kind, w.employee.employee_no if w.employee else None): w
        for w in EarlyWarning.objects.select_related("employee", "department", "user")
    }
    assert set(warnings) == {
        ("close_to_limit", "3001"),
        ("department_jump", None),
        ("overdue_pileup", None),
    }
    assert warnings[("department_jump", None)].department.code == "OPS"
    overdue = warnings[("overdue_pileup", None)]
    assert overdue.user.username == "e3000" and overdue.params["overdue"] == 3
    assert done["warnings"] == 3
    # running it again adds nothing
    assert load_oversight_demo(today=TODAY) == {}


def test_the_silent_terminal_is_warned_about_in_working_hours(time_machine):
    time_machine.move_to(datetime(2026, 12, 5, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
    load_demo()
    load_attendance_demo(today=TODAY)
    load_oversight_demo(today=TODAY)
    # Monday 10:00
    time_machine.move_to(datetime(2026, 12, 7, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)

    warnings_run(actor=None)

    (silent,) = EarlyWarning.objects.filter(kind="silent_terminal")
    assert silent.device.serial == "DEMO-ZK-02"
