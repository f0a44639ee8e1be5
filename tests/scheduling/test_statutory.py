"""Statutory holidays (法定节假日): the law's festival days, the calendar's flag, its
seeding, data migration, CSV column and hand edits (issue 15, docs/overtime.md)."""

from __future__ import annotations

from datetime import date
from importlib import import_module

import chinese_calendar
import pytest
from django.apps import apps as django_apps
from django.db import IntegrityError, transaction

from ztk.audit.models import AuditEvent
from ztk.core.errors import DomainError
from ztk.scheduling import services
from ztk.scheduling.calendar_data import package_days, parse_csv
from ztk.scheduling.models import WorkCalendarDay
from ztk.scheduling.plans import build_plans
from ztk.scheduling.statutory import is_statutory, statutory_days

D = date

# Hand-written from 《全国年节及纪念日放假办法》 (as amended 2024, in force 2025) and the
# lunar calendar: 除夕 2026-02-16, 正月初一 2026-02-17, 清明 04-05, 端午 06-19, 中秋 09-25.
LAW_2026 = {
    D(2026, 1, 1),
    D(2026, 2, 16),
    D(2026, 2, 17),
    D(2026, 2, 18),
    D(2026, 2, 19),
    D(2026, 4, 5),
    D(2026, 5, 1),
    D(2026, 5, 2),
    D(2026, 6, 19),
    D(2026, 9, 25),
    D(2026, 10, 1),
    D(2026, 10, 2),
    D(2026, 10, 3),
}


def flags(start: date, end: date) -> dict[date, bool]:
    return dict(
        WorkCalendarDay.objects.filter(date__gte=start, date__lte=end, kind="holiday")
        .order_by("date")
        .values_list("date", "statutory")
    )


# --------------------------------------------------------------------------- the law


def test_2026_has_the_13_days_of_the_law():
    assert set(statutory_days(2026)) == LAW_2026


@pytest.mark.parametrize(
    ("year", "days"),
    [
        # 2014–2024: 11 days, 春节 初一–初三, 劳动节 May 1 only (2024: 初一 = Feb 10)
        (2024, {D(2024, 2, 10), D(2024, 2, 11), D(2024, 2, 12), D(2024, 5, 1), D(2024, 9, 17)}),
        # 2008–2013: 春节 除夕, 初一, 初二 (2013: 除夕 = Feb 9)
        (2013, {D(2013, 2, 9), D(2013, 2, 10), D(2013, 2, 11), D(2013, 4, 4), D(2013, 6, 12)}),
        # before 2008: 劳动节 May 1–3, no 清明/端午/中秋
        (2007, {D(2007, 5, 1), D(2007, 5, 2), D(2007, 5, 3), D(2007, 2, 18)}),
        # 2025: 中秋 on Oct 6, inside the National Day period
        (2025, {D(2025, 1, 28), D(2025, 5, 2), D(2025, 10, 6)}),
    ],
)
def test_the_law_in_force_in_each_year(year, days):
    assert days <= set(statutory_days(year))
    assert len(statutory_days(year)) == {2024: 11, 2013: 11, 2007: 10, 2025: 13}[year]


def test_the_laws_days_agree_with_chinese_calendar():
    """Every festival day is a day off in chinese-calendar, and a day it gives in lieu of a
    worked weekend is not a festival day — with two documented exceptions of its data."""
    missing, in_lieu = [], []
    for year in range(2004, 2027):
        for day in statutory_days(year):
            if day not in chinese_calendar.holidays:
                missing.append(day)
            if day in chinese_calendar.in_lieu_days:
                in_lieu.append(day)
    # 2012-06-23, the 端午节 Saturday, is missing from the package (the seed adds it);
    # 2022-02-03 is 初三, a festival day, that the package labels in lieu (of the two
    # weekdays off beyond the festival, Jan 31 and Feb 3–4, any two could be named).
    assert missing == [D(2012, 6, 23)]
    assert in_lieu == [D(2022, 2, 3)]
    # and "not in lieu" is not enough: the weekend and 补假 days of a period are neither
    assert not chinese_calendar.is_in_lieu(D(2026, 10, 4)) and not is_statutory(D(2026, 10, 4))
    assert not chinese_calendar.is_in_lieu(D(2026, 10, 5)) and not is_statutory(D(2026, 10, 5))


def test_the_package_days_carry_the_flag_and_the_missing_festival_day():
    days = {d.day: d for d in package_days([2012, 2026])[2012]}
    assert days[D(2012, 6, 23)].kind == "holiday" and days[D(2012, 6, 23)].statutory
    assert days[D(2012, 6, 23)].name == "端午节"
    assert not days[D(2012, 6, 22)].statutory  # the Friday off, given for the Saturday


# --------------------------------------------------------------------------- the calendar


@pytest.mark.django_db
def test_the_seeded_2026_national_day(db):
    assert flags(D(2026, 9, 19), D(2026, 10, 11)) == {
        D(2026, 9, 25): True,  # 中秋节
        D(2026, 9, 26): False,
        D(2026, 9, 27): False,
        D(2026, 10, 1): True,
        D(2026, 10, 2): True,
        D(2026, 10, 3): True,
        D(2026, 10, 4): False,
        D(2026, 10, 5): False,
        D(2026, 10, 6): False,
        D(2026, 10, 7): False,
    }
    workdays = WorkCalendarDay.objects.filter(kind="workday", date__year=2026)
    assert not workdays.filter(statutory=True).exists()
    seeded = WorkCalendarDay.objects.filter(statutory=True, date__year=2026)
    assert set(seeded.values_list("date", flat=True)) == LAW_2026


@pytest.mark.django_db
def test_the_data_migration_marks_the_seeded_calendar(db):
    # given the calendar as it was before the flag (every holiday unmarked)
    WorkCalendarDay.objects.update(statutory=False)
    migration = import_module("ztk.scheduling.migrations.0003_calendar_statutory")
    # when the migration's step runs
    migration.mark(django_apps, None)
    # then exactly the law's festival days that are holidays are statutory, every year
    marked = set(WorkCalendarDay.objects.filter(statutory=True).values_list("date", flat=True))
    expected = {
        day
        for year in range(2004, 2027)
        for day in statutory_days(year)
        if WorkCalendarDay.objects.filter(date=day, kind="holiday").exists()
    }
    assert marked == expected
    assert marked >= LAW_2026 and D(2026, 10, 4) not in marked
    assert len(marked) > 230  # 23 years of 10–13 days


@pytest.mark.django_db
def test_seeding_again_repairs_a_flag_changed_in_a_seeded_row(db):
    WorkCalendarDay.objects.filter(date=D(2026, 10, 4)).update(statutory=True)
    WorkCalendarDay.objects.filter(date=D(2026, 10, 1)).update(statutory=False)
    report, changes = services.calendar_seed(actor=None, from_year=2026, to_year=2026)
    assert report[0].updated == 2
    assert {c["date"]: c["after"][2] for c in report[0].changes} == {
        D(2026, 10, 1): True,
        D(2026, 10, 4): False,
    }
    assert {day for change in changes for day in change.dates or ()} == {
        D(2026, 10, 1),
        D(2026, 10, 4),
    }
    assert flags(D(2026, 10, 1), D(2026, 10, 4))[D(2026, 10, 4)] is False


@pytest.mark.django_db
def test_plans_carry_the_flag(org):
    plans = build_plans([org.employee], D(2026, 10, 3), D(2026, 10, 4))
    assert plans[(org.employee.pk, D(2026, 10, 3))].statutory
    assert plans[(org.employee.pk, D(2026, 10, 3))].kind == "holiday"
    assert not plans[(org.employee.pk, D(2026, 10, 4))].statutory
    assert plans[(org.employee.pk, D(2026, 10, 4))].kind == "holiday"


# --------------------------------------------------------------------------- CSV


def test_a_file_without_the_column_takes_the_laws_reading():
    days, errors = parse_csv(
        "date,kind,name\n2027-10-01,holiday,国庆节\n2027-10-04,holiday,国庆节\n"
        "2027-09-26,workday,国庆节\n",
        year=2027,
    )
    assert errors == []
    assert [(d.day, d.statutory) for d in days] == [
        (D(2027, 9, 26), False),
        (D(2027, 10, 1), True),
        (D(2027, 10, 4), False),
    ]


def test_the_column_says_it_and_an_empty_cell_is_the_laws_reading():
    days, errors = parse_csv(
        "date,kind,name,statutory\n2027-10-01,holiday,国庆节,否\n2027-10-04,holiday,国庆节,yes\n"
        "2027-10-02,holiday,国庆节,\n2027-09-26,workday,国庆节,no\n",
        year=2027,
    )
    assert errors == []
    assert {d.day: d.statutory for d in days} == {
        D(2027, 10, 1): False,
        D(2027, 10, 4): True,
        D(2027, 10, 2): True,
        D(2027, 9, 26): False,
    }


def test_bad_statutory_cells_are_listed():
    days, errors = parse_csv(
        "date,kind,name,statutory\n2027-10-01,holiday,国庆节,maybe\n2027-09-26,workday,,yes\n",
        year=2027,
    )
    assert days == []
    assert [(e.row, e.column) for e in errors] == [(2, "statutory"), (3, "statutory")]
    _days, errors = parse_csv("date,kind,name,paid\n2027-10-01,holiday,国庆节,3\n", year=2027)
    assert "date,kind,name[,statutory]" in errors[0].message


@pytest.mark.django_db
def test_import_sets_the_flag_and_audits_it(hr_user):
    content = "date,kind,name,statutory\n2027-10-01,holiday,国庆节,yes\n2027-10-04,holiday,,no\n"
    result, changes = services.calendar_import(actor=hr_user, year=2027, content=content)
    assert flags(D(2027, 10, 1), D(2027, 10, 4)) == {D(2027, 10, 1): True, D(2027, 10, 4): False}
    event = AuditEvent.objects.filter(action="scheduling.calendar.import").latest("id")
    assert event.changes["changes"][0]["after"] == ["holiday", "国庆节", True]
    # the same file again with only the flag of Oct 4 changed: one update, one recompute
    result, changes = services.calendar_import(
        actor=hr_user, year=2027, content=content.replace(",,no", ",,yes")
    )
    assert result.updated == [D(2027, 10, 4)]
    assert [day for c in changes for day in c.dates or ()] == [D(2027, 10, 4)]


# --------------------------------------------------------------------------- by hand


@pytest.mark.django_db
def test_hr_changes_the_flag_by_hand(hr_user):
    day = D(2026, 10, 4)
    entry, changes = services.calendar_day_set(
        actor=hr_user, day=day, kind="holiday", name="国庆节", statutory=True
    )
    assert entry.statutory and entry.source == "manual"
    assert changes and changes[0].dates == {day}  # recomputed after commit
    event = AuditEvent.objects.filter(action="scheduling.calendar.set").latest("id")
    assert event.changes["before"]["statutory"] is False
    assert event.changes["after"]["statutory"] is True
    # None: the law's reading of the date
    entry, changes = services.calendar_day_set(
        actor=hr_user, day=day, kind="holiday", name="国庆节"
    )
    assert not entry.statutory and changes
    # a workday is never statutory
    with pytest.raises(DomainError):
        services.calendar_day_set(actor=hr_user, day=day, kind="workday", statutory=True)
    entry, _changes = services.calendar_day_set(actor=hr_user, day=day, kind="workday")
    assert not entry.statutory


@pytest.mark.django_db
def test_the_database_refuses_a_statutory_workday(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkCalendarDay.objects.create(date=D(2031, 1, 4), kind="workday", statutory=True)
