"""Official holiday arrangements: read from chinese-calendar, parsed from CSV, and stored.

``seed_years`` takes the model classes as arguments so that the data migration can pass
its historical models and the services the real ones — one implementation of the seeding
rules for both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from ztk.core import spreadsheets
from ztk.core.errors import DomainError
from ztk.core.text import problem_message, text_problem

from .statutory import is_statutory, statutory_days

HOLIDAY = "holiday"
WORKDAY = "workday"
KINDS = (HOLIDAY, WORKDAY)
NAME_MAX = 60
CSV_COLUMNS = ("date", "kind", "name")
# The optional fourth column (issue 15). A file without it, or an empty cell, takes the
# law's reading of the date (``statutory.is_statutory``): the same as the seeding, neither
# paying 3× for a moved rest day nor 2× for a festival day.
STATUTORY_COLUMN = "statutory"
YES = frozenset({"yes", "y", "true", "1", "是"})
NO = frozenset({"no", "n", "false", "0", "否"})
MAX_ROWS = 400  # a year has 366 days; a few rows to spare


@dataclass(frozen=True, slots=True)
class OfficialDay:
    day: date
    kind: str  # "holiday" | "workday"
    name: str
    statutory: bool = False  # a festival day of the law (法定节假日); only for a holiday

    def as_audit(self) -> list[Any]:
        """[kind, name, statutory] as the audit records of calendar changes hold it."""
        return [self.kind, self.name, self.statutory]


def statutory_value(raw: str) -> bool | None:
    """A ``statutory`` cell: True / False, None when empty; ValueError when unreadable."""
    value = raw.strip().lower()
    if not value:
        return None
    if value in YES:
        return True
    if value in NO:
        return False
    raise ValueError(raw)


def official_day(day: date, kind: str, name: str, statutory: bool | None = None) -> OfficialDay:
    """A checked day; ``statutory`` None: the law's reading of a holiday's date."""
    if kind != HOLIDAY:
        return OfficialDay(day, kind, name, False)
    return OfficialDay(day, kind, name, is_statutory(day) if statutory is None else statutory)


def chinese_name(value: Any) -> str:
    """The Chinese name of a chinese-calendar holiday value.

    The package's dicts hold the English enum *value* (e.g. "National Day"), not the enum,
    so the Chinese name comes from ``Holiday(value).chinese``.
    """
    from chinese_calendar.constants import Holiday

    if isinstance(value, Holiday):
        return value.chinese
    try:
        return Holiday(value).chinese
    except ValueError:
        return str(value or "")


def package_years() -> tuple[int, int]:
    """First and last year the installed chinese-calendar has data for."""
    import chinese_calendar

    years = {d.year for d in chinese_calendar.holidays} | {
        d.year for d in chinese_calendar.workdays
    }
    return min(years), max(years)


def package_days(years: Iterable[int]) -> dict[int, list[OfficialDay]]:
    """The package's holidays and make-up working days, per requested year (maybe empty).

    Holidays are statutory by the law's dates (``statutory.py``; the package only knows
    which days are in lieu of worked weekends, and never calls those statutory). A year
    with data also gets the law's festival days the package leaves out (2012-06-23, the
    端午节 Saturday, is missing from it): a statutory day is always a holiday.
    """
    import chinese_calendar

    wanted = set(years)
    by_year: dict[int, list[OfficialDay]] = {year: [] for year in wanted}
    for source, kind in (
        (chinese_calendar.holidays, HOLIDAY),
        (chinese_calendar.workdays, WORKDAY),
    ):
        for day, value in source.items():
            if day.year in wanted:
                by_year[day.year].append(official_day(day, kind, chinese_name(value)[:NAME_MAX]))
    for year, days in by_year.items():
        if days:
            listed = {d.day for d in days}
            days += [
                OfficialDay(day, HOLIDAY, name, True)
                for day, name in statutory_days(year).items()
                if day not in listed
            ]
        days.sort(key=lambda d: d.day)
    return by_year


def package_version() -> str:
    try:
        from importlib.metadata import version

        return version("chinesecalendar")
    except Exception:  # noqa: BLE001 - metadata missing in odd installs: not worth failing
        return "?"


@dataclass
class YearSeed:
    year: int
    status: str
    created: int = 0
    updated: int = 0
    deleted: int = 0
    kept_manual: int = 0
    skipped: bool = False
    changes: list[dict[str, Any]] = field(default_factory=list)


def seed_years(day_model, year_model, from_year: int, to_year: int) -> list[YearSeed]:
    """Copy chinese-calendar data into the calendar for [from_year, to_year].

    Per year: a year whose arrangement was imported is left alone (the import is newer
    and deliberate); rows entered by hand are kept; rows seeded earlier are updated or
    deleted to match the package (the statutory flag included). A year without package
    data is marked "fallback" so HR sees a warning. Returns what changed, per year, for the
    audit record. Before the ``statutory`` column exists (migration 0002) it is left out.
    """
    flag = any(f.name == "statutory" for f in day_model._meta.get_fields())

    def state(kind: str, name: str, statutory: bool) -> list[Any]:
        return [kind, name, statutory] if flag else [kind, name]

    years = list(range(from_year, to_year + 1))
    data = package_days(years)
    statuses = dict(year_model.objects.filter(year__in=years).values_list("year", "status"))
    version = package_version()
    report: list[YearSeed] = []
    for year in years:
        if statuses.get(year) == "imported":
            report.append(YearSeed(year, "imported", skipped=True))
            continue
        official = {d.day: d for d in data[year]}
        seed = YearSeed(year, "seeded" if official else "fallback")
        existing = {
            row.date: row
            for row in day_model.objects.filter(
                date__gte=date(year, 1, 1), date__lte=date(year, 12, 31)
            )
        }
        new_rows = []
        fields = ["kind", "name", "source"] + (["statutory"] if flag else [])
        for day, item in official.items():
            row = existing.get(day)
            after = state(item.kind, item.name, item.statutory)
            if row is None:
                new_rows.append(
                    day_model(
                        date=day,
                        source="seed",
                        **dict(zip(["kind", "name", "statutory"], after, strict=False)),
                    )
                )
                seed.changes.append({"date": day, "before": None, "after": after})
            elif row.source == "manual":
                seed.kept_manual += 1
            elif (
                before := state(row.kind, row.name, getattr(row, "statutory", False))
            ) != after or (row.source != "seed"):
                seed.changes.append({"date": day, "before": before, "after": after})
                row.kind, row.name, row.source = item.kind, item.name, "seed"
                if flag:
                    row.statutory = item.statutory
                row.save(update_fields=fields)
                seed.updated += 1
        day_model.objects.bulk_create(new_rows)
        seed.created = len(new_rows)
        stale = [
            row for day, row in existing.items() if day not in official and row.source != "manual"
        ]
        for row in stale:
            before = state(row.kind, row.name, getattr(row, "statutory", False))
            seed.changes.append({"date": row.date, "before": before, "after": None})
        if stale:
            day_model.objects.filter(pk__in=[row.pk for row in stale]).delete()
        seed.deleted = len(stale)
        note = f"chinesecalendar {version}" if official else f"no data in chinesecalendar {version}"
        year_model.objects.update_or_create(
            year=year, defaults={"status": seed.status, "note": note}
        )
        report.append(seed)
    return report


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # 1-based line number in the file, the header being line 1
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


def check_days(
    items: Iterable[tuple[date, str, str] | tuple[date, str, str, bool | None]], *, year: int
) -> tuple[list[OfficialDay], list[RowError]]:
    """Check a list of (date, kind, name[, statutory]) given for one year (the API's PUT);
    every problem is reported, ``row`` being the item's 1-based position in the list.
    ``statutory`` None or left out: the law's reading of a holiday's date."""
    days: list[OfficialDay] = []
    errors: list[RowError] = []
    seen: dict[date, int] = {}
    for row, item in enumerate(items, start=1):
        day, kind, name = item[0], item[1], item[2]
        statutory = item[3] if len(item) > 3 else None
        ok = True
        if day.year != year:
            errors.append(
                RowError(row, "date", _("%(day)s is not in %(year)d.") % {"day": day, "year": year})
            )
            ok = False
        elif day in seen:
            errors.append(
                RowError(
                    row,
                    "date",
                    _("%(day)s is already item %(line)d.") % {"day": day, "line": seen[day]},
                )
            )
            ok = False
        else:
            seen[day] = row
        if kind not in KINDS:
            errors.append(
                RowError(
                    row, "kind", _("Must be holiday or workday, not “%(value)s”.") % {"value": kind}
                )
            )
            ok = False
        name = name.strip()
        if len(name) > NAME_MAX:
            errors.append(
                RowError(row, "name", _("Longer than %(max)d characters.") % {"max": NAME_MAX})
            )
            ok = False
        problem = text_problem(name)
        if problem is not None:
            errors.append(RowError(row, "name", problem_message(None, *problem)))
            ok = False
        if statutory and kind == WORKDAY:
            errors.append(RowError(row, "statutory", _("A make-up workday is never statutory.")))
            ok = False
        if ok:
            days.append(official_day(day, kind, name, statutory))
    return sorted(days, key=lambda d: d.day), errors


def parse_csv(content: str | bytes, *, year: int) -> tuple[list[OfficialDay], list[RowError]]:
    """Parse ``date,kind,name[,statutory]`` rows (UTF-8, BOM allowed) for one year; collect
    every error.

    Every bad row is reported (not just the first) so HR can fix the file in one go.
    ``statutory`` (yes/no, true/false, 1/0, 是/否) is optional: without the column, or with
    an empty cell, a holiday is statutory when the law makes its date a festival day
    (``official_day``), as when seeding.
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    if not data.strip():
        return [], [RowError(1, "", _("The file is empty."))]
    try:
        rows = spreadsheets.read_table(data, max_rows=MAX_ROWS, allow_xlsx=False)
    except DomainError as exc:
        return [], [RowError(0, "", exc.message)]
    errors: list[RowError] = []
    header = [str(cell).strip().lower() for cell in rows[0][1]]
    while header and not header[-1]:
        header.pop()
    if header[:3] != list(CSV_COLUMNS) or header[3:] not in ([], [STATUTORY_COLUMN]):
        return [], [RowError(rows[0][0], "", _("The header must be: date,kind,name[,statutory]"))]
    width = len(header)
    days: list[OfficialDay] = []
    seen: dict[date, int] = {}
    for line, row in rows[1:]:
        cells = [cell.strip() for cell in row] + ["", "", "", ""]
        raw_date, raw_kind, name = cells[0], cells[1].lower(), cells[2]
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            errors.append(
                RowError(
                    line,
                    "",
                    _("Too many columns (expected %(header)s).") % {"header": ",".join(header)},
                )
            )
            continue
        statutory: bool | None = None
        flag_ok = True
        if width > 3:
            try:
                statutory = statutory_value(cells[3])
            except ValueError:
                message = _("Must be yes or no, not “%(value)s”.") % {"value": cells[3]}
                errors.append(RowError(line, STATUTORY_COLUMN, message))
                flag_ok = False
            if statutory and raw_kind == WORKDAY:
                message = _("A make-up workday is never statutory.")
                errors.append(RowError(line, STATUTORY_COLUMN, message))
                flag_ok = False
        try:
            day = date.fromisoformat(raw_date)
        except ValueError:
            errors.append(
                RowError(
                    line, "date", _("Not a date (YYYY-MM-DD): %(value)s") % {"value": raw_date}
                )
            )
            day = None
        if day is not None and day.year != year:
            errors.append(
                RowError(
                    line, "date", _("%(day)s is not in %(year)d.") % {"day": day, "year": year}
                )
            )
            day = None
        if raw_kind not in KINDS:
            errors.append(
                RowError(
                    line,
                    "kind",
                    _("Must be holiday or workday, not “%(value)s”.") % {"value": raw_kind},
                )
            )
        if len(name) > NAME_MAX:
            errors.append(
                RowError(line, "name", _("Longer than %(max)d characters.") % {"max": NAME_MAX})
            )
        problem = text_problem(name)
        if problem is not None:
            errors.append(RowError(line, "name", problem_message(None, *problem)))
            name = ""
        if day is not None and day in seen:
            errors.append(
                RowError(
                    line,
                    "date",
                    _("%(day)s is already on line %(line)d.") % {"day": day, "line": seen[day]},
                )
            )
            continue
        if day is not None:
            seen[day] = line
            if raw_kind in KINDS and len(name) <= NAME_MAX and problem is None and flag_ok:
                days.append(official_day(day, raw_kind, name, statutory))
    if not days and not errors:
        errors.append(RowError(rows[-1][0], "", _("The file has no data rows.")))
    return sorted(days, key=lambda d: d.day), errors
