"""services.roster_apply and the copy rule: the one bulk write behind the roster grid,
its CSV import and PUT /api/v1/rosters."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from ztk.audit.models import AuditEvent
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.scheduling import hooks
from ztk.scheduling.models import PATTERN, REST, RosterEntry, Shift, ShiftSegment
from ztk.scheduling.services import RosterCell, copy_source_day, roster_apply

pytestmark = pytest.mark.django_db


@pytest.fixture
def night(db):
    shift = Shift.objects.create(code="N8", name="夜班")
    ShiftSegment.objects.create(shift=shift, position=1, start=time(22), end=time(6))
    return shift


def test_copy_source_day_is_the_same_weekday_inside_the_previous_month():
    day = date(2024, 1, 1)
    while day < date(2028, 1, 1):
        source = copy_source_day(day)
        previous_month = (day.replace(day=1) - timedelta(days=1)).replace(day=1)
        assert source.weekday() == day.weekday(), day
        assert source.replace(day=1) == previous_month, day
        day += timedelta(days=1)


def test_apply_writes_audits_and_announces_only_the_changes(org, night):
    RosterEntry.objects.create(employee=org.colleague, date=date(2026, 12, 1), shift=night)
    seen: list = []
    hooks.connect(seen.append)
    try:
        result, changes = roster_apply(
            actor=org.hr.user,
            cells=[
                RosterCell(org.employee.pk, date(2026, 12, 1), shift=night),
                RosterCell(org.employee.pk, date(2026, 12, 2), shift=None),
                RosterCell(org.colleague.pk, date(2026, 12, 1), shift=night),  # already so
                RosterCell(org.colleague.pk, date(2026, 12, 2), clear=True),  # nothing to clear
            ],
        )
    finally:
        hooks.disconnect(seen.append)

    assert [(c.employee_id, c.day, c.before, c.after) for c in result.changed] == [
        (org.employee.pk, date(2026, 12, 1), PATTERN, "N8"),
        (org.employee.pk, date(2026, 12, 2), PATTERN, REST),
    ]
    assert result.unchanged == 2
    (event,) = AuditEvent.objects.filter(action="scheduling.roster.apply")
    assert event.actor_id == org.hr.user.pk
    assert len(changes) == 1 and changes[0].employee_ids == frozenset({org.employee.pk})
    assert changes[0].dates == frozenset({date(2026, 12, 1), date(2026, 12, 2)})


def test_apply_refuses_everything_for_one_bad_cell_and_an_employee_may_not(org, night):
    night_off = Shift.objects.create(code="OLD", name="旧班", active=False)
    cells = [
        RosterCell(org.employee.pk, date(2026, 12, 1), shift=night),
        RosterCell(org.employee.pk, date(2026, 12, 2), shift=night_off),
    ]

    with pytest.raises(DomainError) as refused:
        roster_apply(actor=org.hr.user, cells=cells)
    with pytest.raises(PermissionDeniedError):
        roster_apply(actor=org.employee.user, cells=cells[:1])

    assert refused.value.code == "roster_invalid"
    assert refused.value.details == [
        {"index": 1, "code": "shift_inactive", "message": refused.value.details[0]["message"]}
    ]
    assert not RosterEntry.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="scheduling.roster").exists()


def test_a_dry_run_reports_without_writing(org, night):
    events = AuditEvent.objects.count()

    result, changes = roster_apply(
        actor=org.hr.user,
        cells=[RosterCell(org.employee.pk, date(2026, 12, 1), shift=night)],
        dry_run=True,
    )

    assert len(result.changed) == 1 and changes == []
    assert not RosterEntry.objects.exists()
    assert AuditEvent.objects.count() == events
