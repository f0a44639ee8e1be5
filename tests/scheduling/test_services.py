"""Schedule writes: permissions, validation, audit records and the recompute hook."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.scheduling.conftest import seg
from ztk.audit.models import AuditEvent
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.scheduling import hooks, services
from ztk.scheduling.hooks import ScheduleChange
from ztk.scheduling.models import RosterEntry, Shift, WorkCalendarDay
from ztk.scheduling.selectors import affected_pairs

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = date(2025, 9, 22)


@pytest.fixture
def heard():
    """Changes delivered to a registered callback."""
    received: list[tuple[ScheduleChange, ...]] = []
    hooks.connect(received.append)
    yield received
    hooks.disconnect(received.append)


# --------------------------------------------------------------------------- permissions


def test_only_hr_or_sysadmin_may_write(org, shifts):
    for user in (org.employee.user, org.supervisor.user, org.auditor.user):
        with pytest.raises(PermissionDeniedError):
            services.shift_create(actor=user, code="X", name="x", segments=[seg("09:00", "18:00")])
        with pytest.raises(PermissionDeniedError):
            services.roster_set(
                actor=user, employees=[org.employee], start=MONDAY, end=MONDAY, shift=None
            )
    services.calendar_day_set(actor=org.sysadmin, day=date(2027, 1, 1), kind="holiday")


# --------------------------------------------------------------------------- shifts


@pytest.mark.parametrize(
    ("segments", "kind", "message"),
    [
        ([], "fixed", "1 to 3"),
        ([seg("08:00", "09:00")] * 4, "fixed", "1 to 3"),
        ([seg("09:00", "12:00"), seg("11:00", "18:00")], "fixed", "overlap"),
        ([seg("09:00", "18:00"), seg("17:00", "20:00")], "fixed", "overlap"),
        ([seg("09:00", "12:00"), seg("13:00", "18:00")], "flexible", "exactly one segment"),
        ([seg("09:00:30", "18:00")], "fixed", "whole minutes"),
        ([seg("09:00", "18:00", grace_in=30, late_as_missing=10)], "fixed", "grace"),
    ],
)
def test_invalid_shifts_are_refused(hr_user, segments, kind, message):
    extra = {}
    if kind == "flexible":
        extra = {"arrive_from": time(8), "arrive_until": time(10), "required_minutes": 480}
    with pytest.raises(DomainError) as caught:
        services.shift_create(
            actor=hr_user, code="BAD", name="bad", segments=segments, kind=kind, **extra
        )
    assert caught.value.code == services.INVALID_SHIFT
    assert message in str(caught.value.details)
    assert not Shift.objects.filter(code="BAD").exists()


def test_flexible_shift_needs_its_arrival_rules(hr_user):
    with pytest.raises(DomainError) as caught:
        services.shift_create(
            actor=hr_user, code="F", name="f", segments=[seg("07:00", "22:00")], kind="flexible"
        )
    assert set(caught.value.details) == {"arrive_from", "arrive_until", "required_minutes"}


def test_three_segments_and_a_24_hour_duty_are_fine(hr_user):
    three, _ = services.shift_create(
        actor=hr_user,
        code="THREE",
        name="三段",
        segments=[seg("06:00", "10:00"), seg("11:00", "14:00"), seg("17:00", "21:00")],
    )
    assert list(three.segments.values_list("position", flat=True)) == [1, 2, 3]
    services.shift_create(
        actor=hr_user, code="DUTY", name="24小时值班", segments=[seg("08:00", "08:00")]
    )


def test_duplicate_code_is_refused(hr_user, shifts):
    with pytest.raises(DomainError) as caught:
        services.shift_create(actor=hr_user, code="DAY", name="x", segments=[seg("09:00", "18:00")])
    assert "code" in caught.value.details


def test_shift_create_is_audited(hr_user, shifts):
    event = AuditEvent.objects.get(action="scheduling.shift.create", object_id=str(shifts.split.pk))
    assert event.changes["after"]["code"] == "SPLIT"
    assert [s["start"] for s in event.changes["after"]["segments"]] == ["09:00:00", "13:00:00"]


def test_shift_update_announces_every_day_that_uses_it(
    org, hr_user, shifts, office_week, heard, django_capture_on_commit_callbacks
):
    # given the night shift rostered for the employee on Monday
    services.roster_set(
        actor=hr_user, employees=[org.employee], start=MONDAY, end=MONDAY, shift=shifts.night
    )
    # when both shifts change their times
    with django_capture_on_commit_callbacks(execute=True):
        _, night_changes = services.shift_update(
            actor=hr_user, shift=shifts.night, segments=[seg("21:00", "05:00")]
        )
        _, day_changes = services.shift_update(
            actor=hr_user, shift=shifts.day, segments=[seg("08:30", "17:30")]
        )
        _, rename = services.shift_update(actor=hr_user, shift=shifts.day, name="早班")
    # then the roster day and the whole group are announced; a rename changes no plan
    assert night_changes == [
        ScheduleChange(frozenset({org.employee.pk}), MONDAY, MONDAY, reason="scheduling.shift")
    ]
    members = {org.employee.pk, org.colleague.pk, org.hr.pk, org.head.pk}
    assert members <= day_changes[0].employee_ids and day_changes[0].start is None
    assert rename == []
    assert [tuple(batch) for batch in heard] == [tuple(night_changes), tuple(day_changes)]
    event = AuditEvent.objects.filter(action="scheduling.shift.update").order_by("seq")[0]
    assert event.changes["before"]["segments"][0]["start"] == "22:00:00"
    assert event.changes["after"]["segments"][0]["start"] == "21:00:00"


def test_retired_shift_cannot_be_scheduled(org, hr_user, shifts):
    services.shift_update(actor=hr_user, shift=shifts.saturday, active=False)
    shifts.saturday.refresh_from_db()
    with pytest.raises(DomainError) as caught:
        services.roster_set(
            actor=hr_user,
            employees=[org.employee],
            start=MONDAY,
            end=MONDAY,
            shift=shifts.saturday,
        )
    assert caught.value.code == services.SHIFT_INACTIVE


# --------------------------------------------------------------------------- patterns


def test_pattern_versions_announce_their_own_range(org, hr_user, shifts, office_week):
    d = shifts.day
    _, changes = services.pattern_set(
        actor=hr_user,
        group=org.group,
        shifts=[d, d, d, d, d, d, None],
        effective_from=date(2025, 10, 1),
    )
    assert (changes[0].start, changes[0].end) == (date(2025, 10, 1), None)
    # the first version now ends the day before
    assert services.changes_for_pattern(office_week)[0].end == date(2025, 9, 30)
    # an identical call writes nothing
    _, again = services.pattern_set(
        actor=hr_user,
        group=org.group,
        shifts=[d, d, d, d, d, d, None],
        effective_from=date(2025, 10, 1),
    )
    assert again == []
    assert AuditEvent.objects.filter(action__startswith="scheduling.pattern.").count() == 2


def test_pattern_needs_seven_days(org, hr_user, shifts):
    with pytest.raises(DomainError):
        services.pattern_set(actor=hr_user, group=org.group, shifts=[shifts.day] * 5)


# --------------------------------------------------------------------------- rosters


def test_roster_set_in_bulk_for_weekends(org, hr_user, shifts, heard):
    # when two employees get Saturday duty for four weeks
    count, changes = services.roster_set(
        actor=hr_user,
        employees=[org.employee, org.colleague],
        start=date(2025, 9, 1),
        end=date(2025, 9, 28),
        shift=shifts.saturday,
        weekdays={5},
    )
    # then eight entries, all Saturdays, one audit event, one announced change
    assert count == 8
    assert {d.weekday() for d in RosterEntry.objects.values_list("date", flat=True)} == {5}
    assert changes[0].employee_ids == {org.employee.pk, org.colleague.pk}
    assert len(changes[0].dates) == 4
    assert AuditEvent.objects.filter(action="scheduling.roster.set").count() == 1
    # and setting the same again writes nothing
    assert services.roster_set(
        actor=hr_user,
        employees=[org.employee, org.colleague],
        start=date(2025, 9, 1),
        end=date(2025, 9, 28),
        shift=shifts.saturday,
        weekdays={5},
    ) == (0, [])
    # and clearing returns those days to the pattern
    removed, cleared = services.roster_clear(
        actor=hr_user, employees=[org.employee], start=date(2025, 9, 1), end=date(2025, 9, 30)
    )
    assert removed == 4 and cleared[0].employee_ids == {org.employee.pk}
    assert RosterEntry.objects.count() == 4


def test_roster_overwrite_records_what_it_replaced(org, hr_user, shifts):
    services.roster_set(
        actor=hr_user, employees=[org.employee], start=MONDAY, end=MONDAY, shift=shifts.day
    )
    services.roster_set(
        actor=hr_user, employees=[org.employee], start=MONDAY, end=MONDAY, shift=shifts.night
    )
    entry = RosterEntry.objects.get()
    assert entry.shift == shifts.night
    event = AuditEvent.objects.filter(action="scheduling.roster.set").latest("seq")
    assert event.changes["before"] == {
        "replaced": [[org.employee.pk, MONDAY.isoformat(), shifts.day.pk]]
    }


def test_roster_range_is_checked(org, hr_user):
    with pytest.raises(DomainError):
        services.roster_set(
            actor=hr_user,
            employees=[org.employee],
            start=MONDAY,
            end=MONDAY - timedelta(1),
            shift=None,
        )
    with pytest.raises(DomainError):
        services.roster_set(
            actor=hr_user,
            employees=[org.employee],
            start=MONDAY,
            end=MONDAY + timedelta(days=400),
            shift=None,
        )


# --------------------------------------------------------------------------- calendar


def test_calendar_day_set_and_unset(hr_user):
    day = date(2027, 5, 4)
    entry, changes = services.calendar_day_set(
        actor=hr_user, day=day, kind="holiday", name="青年节"
    )
    assert entry.source == "manual" and changes[0].employee_ids is None
    _, renamed = services.calendar_day_set(actor=hr_user, day=day, kind="holiday", name="五四")
    assert renamed == []  # the name is not part of the plan
    _, removed = services.calendar_day_set(actor=hr_user, day=day, kind=None)
    assert removed[0].dates == {day}
    assert not WorkCalendarDay.objects.filter(date=day).exists()
    with pytest.raises(DomainError):
        services.calendar_day_set(actor=hr_user, day=day, kind="weekend")


# --------------------------------------------------------------------------- exemptions


def test_exemption_create_and_void(org, hr_user):
    start = datetime(2025, 9, 23, 9, tzinfo=SHANGHAI)
    exemption, changes = services.exemption_create(
        actor=hr_user,
        employee=org.employee,
        start=start,
        end=start + timedelta(hours=9),
        kind="outing",
        reason="客户拜访",
    )
    assert exemption.created_by == hr_user
    assert changes == [
        ScheduleChange(
            frozenset({org.employee.pk}),
            date(2025, 9, 22),
            date(2025, 9, 23),
            reason="scheduling.exemption",
        )
    ]
    with pytest.raises(DomainError) as caught:
        services.exemption_create(
            actor=hr_user,
            employee=org.employee,
            start=start + timedelta(hours=2),
            end=start + timedelta(hours=3),
            kind="leave",
        )
    assert caught.value.code == services.EXEMPTION_OVERLAP
    voided, _ = services.exemption_void(actor=hr_user, exemption=exemption, reason="取消")
    assert voided.voided and voided.voided_by == hr_user
    with pytest.raises(DomainError) as caught:
        services.exemption_void(actor=hr_user, exemption=exemption, reason="again")
    assert caught.value.code == services.EXEMPTION_VOIDED
    actions = list(
        AuditEvent.objects.filter(object_type="scheduling.exemption", object_id=str(exemption.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["scheduling.exemption.create", "scheduling.exemption.void"]


def test_exemption_needs_aware_ordered_times(org, hr_user):
    with pytest.raises(DomainError) as caught:
        services.exemption_create(
            actor=hr_user,
            employee=org.employee,
            start=datetime(2025, 9, 23, 9),
            end=datetime(2025, 9, 23, 18),
            kind="leave",
        )
    assert caught.value.code == services.NAIVE_DATETIME
    start = datetime(2025, 9, 23, 9, tzinfo=SHANGHAI)
    with pytest.raises(DomainError):
        services.exemption_create(
            actor=hr_user, employee=org.employee, start=start, end=start, kind="leave"
        )
    with pytest.raises(DomainError):
        services.exemption_create(
            actor=hr_user,
            employee=org.employee,
            start=start,
            end=start + timedelta(hours=1),
            kind="holiday",
        )


# --------------------------------------------------------------------------- hooks


def test_callbacks_run_only_after_commit(
    org, hr_user, shifts, heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as pending:
        services.roster_set(
            actor=hr_user, employees=[org.employee], start=MONDAY, end=MONDAY, shift=shifts.day
        )
    # one callback per connected listener (the attendance app listens too)
    assert heard == [] and len(pending) >= 1
    for callback in pending:
        callback()
    assert heard[0][0].covers(org.employee.pk, MONDAY)


def test_failing_write_announces_nothing(org, hr_user, heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DomainError):
        services.calendar_day_set(actor=hr_user, day=MONDAY, kind="nonsense")
    assert heard == []


def test_affected_pairs_resolves_everyone(org):
    changes = [
        ScheduleChange(None, MONDAY, MONDAY, dates=frozenset({MONDAY})),
        ScheduleChange(frozenset({org.employee.pk}), None, None),
    ]
    pairs = affected_pairs(changes, lower=MONDAY, upper=MONDAY + timedelta(days=1))
    assert (org.colleague.pk, MONDAY) in pairs
    assert (org.colleague.pk, MONDAY + timedelta(days=1)) not in pairs
    assert (org.employee.pk, MONDAY + timedelta(days=1)) in pairs
