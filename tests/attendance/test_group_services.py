"""A group's settings as one use case: zone or day-boundary changes and membership moves
ask for today's days of the people concerned to be recomputed, after the commit."""

from __future__ import annotations

import pytest
import time_machine

from tests import factories
from ztk.attendance import group_services
from ztk.core.errors import PermissionDeniedError
from ztk.scheduling import hooks

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture
def changes():
    seen: list[hooks.ScheduleChange] = []

    def catch(batch):
        seen.extend(batch)

    hooks.connect(catch)
    yield seen
    hooks.disconnect(catch)


def _save(org, **change):
    values = {
        "code": org.group.code,
        "name": org.group.name,
        "time_zone": "Asia/Shanghai",
        "day_boundary_hour": 0,
        "active": True,
        "web_punch_enabled": True,
        "outside_rule": "field",
    }
    return group_services.group_save(actor=org.hr.user, **(values | change))


@time_machine.travel("2026-12-05 10:00 +0800", tick=False)
def test_a_new_day_boundary_recomputes_the_members_today(
    org, changes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _save(org, day_boundary_hour=4)

    (change,) = changes
    assert change.employee_ids == {
        e.pk
        for e in (
            org.head,
            org.supervisor,
            org.employee,
            org.colleague,
            org.stranger,
            org.hr,
            org.auditor,
        )
    }
    assert str(change.start) == "2026-12-05" and change.end is None


def test_a_new_name_recomputes_nothing(org, changes, on_commit):
    with on_commit(execute=True):
        saved = _save(org, name="新名字")
    assert saved.changed and not changes


def test_a_move_recomputes_the_moved_people_only(org, changes, django_capture_on_commit_callbacks):
    night = factories.AttendanceGroupFactory(code="NIGHT")
    with django_capture_on_commit_callbacks(execute=True):
        result = group_services.group_members_move(
            actor=org.hr.user,
            employee_ids=[org.employee.pk, org.colleague.pk],
            to_group=night,
            via="person",
        )
    assert len(result.moved) == 2
    (change,) = changes
    assert change.employee_ids == {org.employee.pk, org.colleague.pk}


def test_an_employee_may_not_save_a_group(org):
    with pytest.raises(PermissionDeniedError):
        group_services.group_save(
            actor=org.employee.user,
            code="X",
            name="x",
            time_zone="Asia/Shanghai",
            day_boundary_hour=0,
            active=True,
            web_punch_enabled=True,
            outside_rule="field",
        )
