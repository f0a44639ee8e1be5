"""The work calendar: chinese-calendar seed, CSV import, and the fallback-year warning."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ztk.audit.models import AuditEvent
from ztk.core.errors import DomainError
from ztk.scheduling import services
from ztk.scheduling.models import CalendarYear, WorkCalendarDay
from ztk.scheduling.plans import build_plans
from ztk.scheduling.selectors import (
    CALENDAR_FALLBACK,
    calendar_warnings,
    current_calendar_warnings,
)

pytestmark = pytest.mark.django_db

GOOD_2027 = """date,kind,name
2027-01-01,holiday,元旦
2027-02-06,holiday,春节
2027-02-07,holiday,春节
2027-02-20,workday,春节
"""


def year_rows(year: int) -> list[tuple]:
    return list(
        WorkCalendarDay.objects.filter(date__year=year)
        .order_by("date")
        .values_list("date", "kind", "name", "source")
    )


# --------------------------------------------------------------------------- seed


def test_migration_seeded_every_year_with_data():
    years = dict(CalendarYear.objects.values_list("year", "status"))
    assert set(years) == set(range(2004, 2027))
    assert set(years.values()) == {"seeded"}
    assert WorkCalendarDay.objects.filter(date__year=2026, kind="workday").count() == 6


def test_seed_command_is_idempotent_and_keeps_hand_entered_days(hr_user):
    # given HR marked the company's anniversary and overrode a seeded day by hand
    services.calendar_day_set(actor=hr_user, day=date(2025, 6, 18), kind="holiday", name="司庆")
    services.calendar_day_set(actor=hr_user, day=date(2025, 10, 8), kind="workday", name="加班")
    # when the seed runs again
    out = StringIO()
    call_command("seed-calendar", "--from-year", "2025", "--to-year", "2025", stdout=out)
    # then nothing is added or removed and the hand-entered days stay
    assert "2025: seeded, 0 added, 0 updated, 0 removed, 1 hand-entered kept" in out.getvalue()
    assert WorkCalendarDay.objects.get(date=date(2025, 6, 18)).source == "manual"
    assert WorkCalendarDay.objects.get(date=date(2025, 10, 8)).kind == "workday"
    event = AuditEvent.objects.filter(action="scheduling.calendar.seed").latest("seq")
    assert event.changes["after"]["years"]["2025"]["kept_manual"] == 1


def test_seed_restores_deleted_seed_rows(hr_user):
    WorkCalendarDay.objects.filter(date=date(2025, 10, 1)).delete()
    report, changes = services.calendar_seed(actor=None, from_year=2025, to_year=2025)
    assert report[0].created == 1
    assert WorkCalendarDay.objects.get(date=date(2025, 10, 1)).name == "国庆节"
    assert changes[0].employee_ids is None and changes[0].dates == {date(2025, 10, 1)}


def test_seeding_a_year_without_data_marks_it_fallback():
    report, _ = services.calendar_seed(actor=None, from_year=2027, to_year=2027)
    assert (report[0].status, report[0].created) == ("fallback", 0)
    assert CalendarYear.objects.get(year=2027).status == "fallback"


def test_seed_leaves_imported_years_alone(hr_user):
    services.calendar_import(actor=hr_user, year=2027, content=GOOD_2027)
    report, _ = services.calendar_seed(actor=None, from_year=2027, to_year=2027)
    assert report[0].skipped
    assert CalendarYear.objects.get(year=2027).status == "imported"


# --------------------------------------------------------------------------- warnings


def test_fallback_year_warning_for_2027():
    warnings = calendar_warnings([2025, 2026, 2027])
    assert [(w.year, w.code) for w in warnings] == [(2027, CALENDAR_FALLBACK)]
    assert "2027" in warnings[0].as_dict()["message"]


def test_current_warnings_look_at_next_year_from_november():
    assert current_calendar_warnings(date(2026, 3, 1)) == []
    assert [w.year for w in current_calendar_warnings(date(2026, 11, 27))] == [2027]
    assert [w.year for w in current_calendar_warnings(date(2027, 2, 1))] == [2027]


def test_import_clears_the_warning(hr_user):
    services.calendar_import(actor=hr_user, year=2027, content=GOOD_2027)
    assert calendar_warnings([2027]) == []


# --------------------------------------------------------------------------- import


def test_import_a_year(org, hr_user, office_week):
    # when
    result, changes = services.calendar_import(
        actor=hr_user, year=2027, content=GOOD_2027.encode("utf-8-sig"), source_name="2027.csv"
    )
    # then
    assert result.rows == 4 and len(result.created) == 4
    assert year_rows(2027)[0] == (date(2027, 1, 1), "holiday", "元旦", "import")
    assert CalendarYear.objects.get(year=2027).status == "imported"
    assert changes[0].dates == {d for d, *_ in year_rows(2027)}
    plans = build_plans([org.employee], date(2027, 1, 1), date(2027, 2, 20))
    assert plans[(org.employee.pk, date(2027, 1, 1))].kind == "holiday"
    assert plans[(org.employee.pk, date(2027, 2, 20))].shift.code == "DAY"  # a Saturday
    event = AuditEvent.objects.get(action="scheduling.calendar.import")
    assert event.changes["after"] == {"status": "imported", "rows": 4, "file": "2027.csv"}


def test_import_with_a_bad_row_imports_nothing(hr_user):
    # given a file whose fourth line has an unknown kind and sixth a date of another year
    bad = GOOD_2027 + "2027-02-08,holliday,春节\n2027-02-09,holiday,春节\n2028-01-01,holiday,元旦\n"
    # when
    with pytest.raises(DomainError) as caught:
        services.calendar_import(actor=hr_user, year=2027, content=bad)
    # then every bad row is reported and nothing was written
    assert caught.value.code == services.CALENDAR_IMPORT_INVALID
    assert [(e["row"], e["column"]) for e in caught.value.details] == [(6, "kind"), (8, "date")]
    assert year_rows(2027) == []
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not AuditEvent.objects.filter(action="scheduling.calendar.import").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("day,type\n2027-01-01,holiday\n", "header"),
        ("date,kind,name\n", "no data rows"),
        ("date,kind,name\n2027-13-01,holiday,x\n", "Not a date"),
        ("date,kind,name\n2027-01-01,holiday,a\n2027-01-01,holiday,b\n", "already on line 2"),
        ("date,kind,name\n2027-01-01,holiday,a,extra\n", "Too many columns"),
    ],
)
def test_import_row_errors(hr_user, content, message):
    with pytest.raises(DomainError) as caught:
        services.calendar_import(actor=hr_user, year=2027, content=content)
    assert message in caught.value.details[0]["message"]


def test_import_reads_gb18030(hr_user):
    result, _ = services.calendar_import(
        actor=hr_user, year=2027, content=GOOD_2027.encode("gb18030")
    )
    assert year_rows(2027)[1][2] == "春节" and result.rows == 4


def test_dry_run_writes_nothing(hr_user):
    result, changes = services.calendar_import(
        actor=hr_user, year=2027, content=GOOD_2027, dry_run=True
    )
    assert len(result.created) == 4 and changes == []
    assert year_rows(2027) == []


def test_import_replaces_a_seeded_year(hr_user):
    # given a hand-entered company day and a hand-entered guess on an official date
    services.calendar_day_set(actor=hr_user, day=date(2025, 6, 18), kind="holiday", name="司庆")
    services.calendar_day_set(actor=hr_user, day=date(2025, 10, 1), kind="workday")
    content = "date,kind,name\n2025-10-01,holiday,国庆节\n2025-10-02,holiday,国庆节\n"
    # when
    result, changes = services.calendar_import(actor=hr_user, year=2025, content=content)
    # then the file's dates win, other seeded dates go, the company day stays
    assert result.replaced_manual == [date(2025, 10, 1)]
    assert result.kept_manual == [date(2025, 6, 18)]
    assert [r[0] for r in year_rows(2025)] == [
        date(2025, 6, 18),
        date(2025, 10, 1),
        date(2025, 10, 2),
    ]
    assert date(2025, 9, 28) in changes[0].dates  # the removed make-up day is recomputed
    assert date(2025, 10, 2) not in changes[0].dates  # same kind: the plan did not change


def test_import_command(tmp_path):
    path = tmp_path / "2027.csv"
    path.write_text(GOOD_2027, encoding="utf-8")
    out = StringIO()
    call_command("import-calendar", str(path), "--year", "2027", "--dry-run", stdout=out)
    assert "would change: 4 added" in out.getvalue() and year_rows(2027) == []
    call_command("import-calendar", str(path), "--year", "2027", stdout=StringIO())
    assert len(year_rows(2027)) == 4


def test_import_command_lists_bad_rows(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("date,kind,name\n2027-01-01,day-off,元旦\n", encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import-calendar", str(path), "--year", "2027", stderr=err)
    assert "line 2 [kind]" in err.getvalue()
