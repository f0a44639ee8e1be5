"""The work calendar of one year: statutory holidays (节假日) and make-up workdays (调休).

Same permission as the employee sync (HR or system-admin keys). ``PUT`` replaces the
year's whole list in one step (hand-entered days missing from it go too); any bad item
refuses the whole list with 422 and every problem in ``details``; a repeated identical
PUT changes nothing and writes no audit event. Days whose kind or statutory flag changed
are recomputed (open periods).
"""

from __future__ import annotations

from datetime import date

from ninja import Field, Path, Router, Schema

from ztk.scheduling import selectors, services
from ztk.scheduling.calendar_data import NAME_MAX

from .org import require_sync
from .schemas import Text

router = Router(tags=["settings"])

MAX_DAYS = 366


def Year():  # noqa: N802
    return Path(
        ...,
        ge=services.YEAR_MIN,
        le=services.YEAR_MAX,
        description=f"the calendar year ({services.YEAR_MIN}–{services.YEAR_MAX})",
        example=2026,
    )


class HolidayDay(Schema):
    date: date
    kind: str = Field(
        ...,
        pattern=r"^(holiday|workday)$",
        description="holiday: a day off; workday: a make-up working day (调休)",
    )
    name: str = Text("", max_length=NAME_MAX, description="e.g. 国庆节")
    statutory: bool | None = Field(
        None,
        description="a holiday that is a festival day of the law (法定节假日): overtime on it "
        "pays 3×; other days off of a holiday period (调休, 补假) pay as rest days (2×). "
        "Left out or null: the law's reading of the date (《全国年节及纪念日放假办法》). "
        "Never true for a workday.",
    )


class HolidayDayOut(HolidayDay):
    statutory: bool = Field(  # always answered
        ..., description="a statutory holiday (法定节假日, overtime 3×); false for a workday"
    )
    source: str = Field(..., description="seed (chinese-calendar) | import | manual")


class HolidayYearIn(Schema):
    days: list[HolidayDay] = Field(
        ..., max_length=MAX_DAYS, description=f"the year's whole list (at most {MAX_DAYS})"
    )


class HolidayYearOut(Schema):
    year: int
    status: str = Field(
        ...,
        description="seeded (chinese-calendar) | imported | fallback: no official "
        "arrangement, days follow the weekly pattern",
    )
    package_covers: bool = Field(
        ..., description="whether the installed chinese-calendar has data for this year"
    )
    days: list[HolidayDayOut]


def _year_out(year: int) -> dict:
    view = selectors.holiday_year(year)
    return {
        "year": year,
        "status": view.status,
        "package_covers": view.package_covers,
        "days": [
            {
                "date": d.date,
                "kind": d.kind,
                "name": d.name,
                "statutory": d.statutory,
                "source": d.source,
            }
            for d in view.days
        ],
    }


@router.get("/holidays/{year}", response={200: HolidayYearOut}, summary="One year's calendar")
def holiday_year_get(request, year: int = Year()):
    require_sync(request)
    return _year_out(year)


@router.put(
    "/holidays/{year}",
    response={200: HolidayYearOut},
    summary="Replace one year's holidays and make-up workdays (all or nothing; idempotent)",
)
def holiday_year_put(request, payload: HolidayYearIn, year: int = Year()):
    require_sync(request)
    services.calendar_year_replace(
        actor=request.auth,
        year=year,
        days=[(d.date, d.kind, d.name, d.statutory) for d in payload.days],
    )
    return _year_out(year)
